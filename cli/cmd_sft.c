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
    printf("usage: grpo sft CONFIG.json [--set key.path=value ...]\n"
           "\n"
           "Supervised next-token training: base pretraining on text, R1's cold start on\n"
           "prompt/completion pairs, or distillation from a teacher's completions.\n"
           "Run it directly, or under mpirun/srun for data-parallel training.\n"
           "\n"
           "  CONFIG.json       the job config (docs/config.md lists every key)\n"
           "  --set k.p=value   override one key (value parsed as JSON, else a string);\n"
           "                    repeatable, e.g. --set optim.learning_rate=1e-4\n"
           "\n"
           "Writes train.output_dir/{config.json,metrics.jsonl,checkpoints/step-N.h5}.\n"
           "With train.resume=\"auto\" (the default) a rerun continues from the newest\n"
           "valid checkpoint.\n");
}

/* Collects CONFIG and --set arguments; returns EXIT_OK or a usage error. */
int cli_job_args(const char *cmd, int argc, char **argv, const char **config, const char ***sets, size_t *n_sets);

int cli_job_args(const char *cmd, int argc, char **argv, const char **config, const char ***sets, size_t *n_sets) {
    *config = NULL;
    *sets = calloc((size_t)argc, sizeof(char *));
    *n_sets = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--set")) {
            if (i + 1 >= argc) return cli_usage_error(cmd, "--set needs key.path=value");
            (*sets)[(*n_sets)++] = argv[++i];
        } else if (!strncmp(argv[i], "--set=", 6)) {
            (*sets)[(*n_sets)++] = argv[i] + 6;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (!*config) {
            *config = argv[i];
        } else {
            return cli_usage_error(cmd, "more than one config file ('%s' and '%s')", *config, argv[i]);
        }
    }
    if (!*config) return cli_usage_error(cmd, "missing CONFIG.json");
    return EXIT_OK;
}

int cmd_sft(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        help();
        return EXIT_OK;
    }
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
    if (jobconfig_load(&job, config, sets, n_sets)) {
        if (d.rank == 0) fprintf(stderr, "grpo sft: %s\n", err_msg());
        jobconfig_free(&job);
        free(sets);
        dist_finalize(&d);
        return EXIT_FAIL;
    }
    rc = sft_run(&job, &d) == 0 ? EXIT_OK : EXIT_FAIL;
    if (rc != EXIT_OK && d.rank == 0) fprintf(stderr, "grpo sft: %s\n", err_msg());
    jobconfig_free(&job);
    free(sets);
    dist_finalize(&d);
    return rc;
}
