/*
 * cli_util.c: small helpers shared by the subcommands (see cli.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "trainer/dist.h"
#include "trainer/memory.h"
#include "trainer/sft.h"

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "grpo %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'grpo %s --help' for usage.\n", cmd);
    return EXIT_USAGE;
}

int cli_fail(const char *cmd) {
    fprintf(stderr, "grpo %s: %s\n", cmd, err_msg());
    return EXIT_FAIL;
}

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

/* Takes --dry-run out of argv; returns 1 if it was there. */
static int take_dry_run(int *argc, char **argv) {
    int found = 0, k = 0;
    for (int i = 0; i < *argc; i++) {
        if (i > 0 && !strcmp(argv[i], "--dry-run")) found = 1;
        else argv[k++] = argv[i];
    }
    *argc = k;
    return found;
}

/* --dry-run (cli_run_job): prints the estimate on rank 0; 0 if the job fits,
 * else -1 with the reason in err_msg. */
static int dry_run(const char *cmd, const JobConfig *job, const Dist *d) {
    ModelConfig cfg;
    MemEstimate e;
    long longest = 0;
    int rc = memory_model_config(job, &cfg);
    if (rc == 0 && job->kind == JOB_SFT) rc = sft_longest_sequence(job, cfg.n_eos ? cfg.eos_token_ids[0] : -1, &longest);
    if (rc == 0) rc = memory_estimate(job, &cfg, d->world, dist_local_size(d), longest, &e);
    if (rc == 0 && d->rank == 0) {
        size_t n = 0;
        model_param_count_checked(&cfg, "model", &n);
        printf("grpo %s --dry-run: %s, %zu parameters; %d rank%s (%d on this node)\n", cmd, cfg.architecture, n,
               d->world, d->world > 1 ? "s" : "", e.ranks_per_node);
        memory_print(&e, stdout);
        fflush(stdout);
    }
    return rc == 0 ? memory_fits(&e) : rc;
}

int cli_parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cli_parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || s[0] == ' ') return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_float(const char *s, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return -1;
    *out = (float)v;
    return 0;
}

int cli_run_job(const char *cmd, JobKind kind, int (*run)(const JobConfig *, const Dist *), int argc, char **argv) {
    const int dry = take_dry_run(&argc, argv);
    const char *config;
    const char **sets;
    size_t n_sets;
    int rc = cli_job_args(cmd, argc, argv, &config, &sets, &n_sets);
    if (rc != EXIT_OK) {
        free(sets);
        return rc;
    }
    Dist d;
    dist_init(&d, &argc, &argv);
    if (d.rank != 0) log_set_level(LOG_QUIET);
    JobConfig job;
    if (jobconfig_load(&job, kind, config, sets, n_sets)) rc = EXIT_FAIL;
    else rc = (dry ? dry_run(cmd, &job, &d) : run(&job, &d)) == 0 ? EXIT_OK : EXIT_FAIL;
    if (rc != EXIT_OK && d.rank == 0) fprintf(stderr, "grpo %s: %s\n", cmd, err_msg());
    jobconfig_free(&job);
    free(sets);
    dist_finalize(&d);
    return rc;
}
