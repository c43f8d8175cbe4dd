/*
 * cmd_train.c: `grpo train CONFIG.json [--set key.path=value ...]`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "common/common.h"
#include "trainer/dist.h"
#include "trainer/grpo.h"
#include "trainer/jobconfig.h"
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

int cmd_train(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        help();
        return EXIT_OK;
    }
    const int dry_run = cli_take_dry_run(&argc, argv);
    const char *config;
    const char **sets;
    size_t n_sets;
    int rc = cli_job_args("train", argc, argv, &config, &sets, &n_sets);
    if (rc != EXIT_OK) {
        free(sets);
        return rc;
    }
    Dist d;
    dist_init(&d, &argc, &argv);
    if (d.rank != 0) log_set_level(LOG_QUIET);
    JobConfig job;
    if (jobconfig_load(&job, JOB_TRAIN, config, sets, n_sets)) {
        if (d.rank == 0) fprintf(stderr, "grpo train: %s\n", err_msg());
        jobconfig_free(&job);
        free(sets);
        dist_finalize(&d);
        return EXIT_FAIL;
    }
    if (dry_run) {
        rc = cli_dry_run("train", &job, &d);
        jobconfig_free(&job);
        free(sets);
        dist_finalize(&d);
        return rc;
    }
    /* the job's memory, estimated before anything is allocated */
    rc = memory_check_job(&job, &d) == 0 && grpo_run(&job, &d) == 0 ? EXIT_OK : EXIT_FAIL;
    if (rc != EXIT_OK && d.rank == 0) fprintf(stderr, "grpo train: %s\n", err_msg());
    jobconfig_free(&job);
    free(sets);
    dist_finalize(&d);
    return rc;
}
