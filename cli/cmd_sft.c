/*
 * cmd_sft.c: `grpo sft CONFIG.json [--dry-run] [--set key.path=value ...]`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "trainer/sft.h"

static void help(void) {
    printf("usage: grpo sft CONFIG.json [--dry-run] [--set key.path=value ...]\n"
           "\n"
           "Supervised next-token training: base pretraining on text, R1's cold start on\n"
           "prompt/completion pairs, or distillation from a teacher's completions.\n"
           "Run it directly, or under mpirun/srun for data-parallel training.\n"
           "\n"
           "  CONFIG.json       the job config (docs/config.md lists every key)\n"
           "  --dry-run         print the memory a rank would need (estimate) and whether\n"
           "                    it fits, then stop (nothing is loaded or written)\n"
           "  --set k.p=value   override one key (value parsed as JSON, else a string);\n"
           "                    repeatable, e.g. --set optim.learning_rate=1e-4\n"
           "\n"
           "Writes train.output_dir/{config.json,metrics.jsonl,checkpoints/step-N.h5}.\n"
           "With train.resume=\"auto\" (the default) a rerun continues from the newest\n"
           "valid checkpoint.\n");
}

int cmd_sft(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        help();
        return EXIT_OK;
    }
    return cli_run_job("sft", JOB_SFT, sft_run, argc, argv);
}
