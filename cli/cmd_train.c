/*
 * cmd_train.c: `grpo train CONFIG.json [--dry-run] [--set key.path=value ...]`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "common/common.h"
#include "trainer/grpo.h"
#include "trainer/memory.h"

static void help(void) {
    printf("usage: grpo train CONFIG.json [--dry-run] [--set key.path=value ...]\n"
           "\n"
           "GRPO reinforcement learning: sample groups of completions per prompt, score\n"
           "them with the config's reward functions, and push the policy toward the\n"
           "better completions of each group. Run it directly, or under mpirun/srun for\n"
           "data-parallel training (each rank samples and trains on its share of every\n"
           "step's prompts).\n"
           "\n"
           "  CONFIG.json       the job config (docs/config.md lists every key,\n"
           "                    docs/training.md explains the trainer's)\n"
           "  --dry-run         print the memory a rank would need (estimate) and whether\n"
           "                    it fits, then stop (nothing is loaded or written)\n"
           "  --set k.p=value   override one key (value parsed as JSON, else a string);\n"
           "                    repeatable, e.g. --set algorithm.beta=0.001\n"
           "\n"
           "Writes train.output_dir/{config.json,metrics.jsonl,completions.jsonl,\n"
           "checkpoints/step-N.h5,report.html}. With train.resume=\"auto\" (the default) a\n"
           "rerun continues from the newest valid checkpoint, exactly.\n");
}

/* grpo_run after the job's memory estimate: refused before anything is
 * allocated when it does not fit (docs/training.md, Memory). */
static int train_checked(const JobConfig *job, const Dist *d) {
    return memory_check_job(job, d) == 0 ? grpo_run(job, d) : -1;
}

int cmd_train(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        help();
        return EXIT_OK;
    }
    return cli_run_job("train", JOB_TRAIN, train_checked, argc, argv);
}
