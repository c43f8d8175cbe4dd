/*
 * cmd_sft.c: `grpo sft CONFIG.json [--set key.path=value ...]`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "trainer/dist.h"
#include "trainer/jobconfig.h"
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
    const int dry_run = cli_take_dry_run(&argc, argv);
    const char *config;
    const char **sets;
    size_t n_sets;
    int rc = cli_job_args("sft", argc, argv, &config, &sets, &n_sets);
    if (rc != EXIT_OK) {
        free(sets);
        return rc;
    }
    Dist d;
    dist_init(&d, &argc, &argv);
    if (d.rank != 0) log_set_level(LOG_QUIET);
    JobConfig job;
    if (jobconfig_load(&job, JOB_SFT, config, sets, n_sets)) {
        if (d.rank == 0) fprintf(stderr, "grpo sft: %s\n", err_msg());
        jobconfig_free(&job);
        free(sets);
        dist_finalize(&d);
        return EXIT_FAIL;
    }
    if (dry_run) {
        rc = cli_dry_run("sft", &job, &d);
        jobconfig_free(&job);
        free(sets);
        dist_finalize(&d);
        return rc;
    }
    rc = sft_run(&job, &d) == 0 ? EXIT_OK : EXIT_FAIL;
    if (rc != EXIT_OK && d.rank == 0) fprintf(stderr, "grpo sft: %s\n", err_msg());
    jobconfig_free(&job);
    free(sets);
    dist_finalize(&d);
    return rc;
}
