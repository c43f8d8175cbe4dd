/*
 * cmd_data.c: `grpo data`: writes examples of a built-in task generator
 * (data/taskgen.h) as JSONL, so a user can look at what a job trains and
 * evaluates on, or keep it as a dataset file.
 * Not for: generating problems (data/); this file parses options and
 * prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "common/json.h"
#include "data/taskgen.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: grpo data arith|countdown|corpus [--split train|eval] [--n N] [--start I]\n"
            "                 [--seed S] [--params JSON] [--NAME VALUE ...] [--out FILE]\n"
            "\n"
            "Writes examples of a built-in generator as JSONL (stdout unless --out).\n"
            "  arith      multi-step integer arithmetic: prompt, answer, solution (worked steps)\n"
            "  countdown  TinyZero's Countdown, solvable instances only: prompt, nums, target,\n"
            "             answer (an expression reaching the target)\n"
            "  corpus     pretraining lines for the tiny R1-Zero recipe: prompt, completion\n"
            "             (worked <think> solutions, some with slips, or direct <answer>s),\n"
            "             answer (the correct one), style (think, slip or direct)\n"
            "\n"
            "options:\n"
            "  --split S       train (default) or eval: the held-out split, which never shares a\n"
            "                  problem with train whatever the seeds and counts\n"
            "  --n N           number of examples (default 10)\n"
            "  --start I       index of the first example (default 0); example i of a split\n"
            "                  depends only on the seed, the parameters, the split and i\n"
            "  --seed S        the generator's seed (default 1)\n"
            "  --params JSON   generator parameters as a JSON object, e.g. '{\"max_terms\": 5}'\n"
            "  --NAME VALUE    one parameter, e.g. --max-terms 5 --ops +- (dashes or underscores)\n"
            "  --out FILE      write to FILE instead of stdout\n"
            "\n"
            "parameters (docs/data.md has the details):\n"
            "  all        seed (1), eval_fraction (0.1): share of problems held out for eval\n"
            "  arith      min_terms (2), max_terms (5), min_operand (1), max_operand (9),\n"
            "             min_result (-99), max_result (99): bounds on every intermediate result,\n"
            "             ops (\"+-*\"), order (left: left to right | precedence: * first)\n"
            "  countdown  min_nums (3), max_nums (4), min_number (1), max_number (99),\n"
            "             min_target (1), max_target (100)\n"
            "  corpus     the arith parameters, think_fraction (0.5), slip_rate (0.25)\n"
            "\n"
            "A summary (examples written, time) goes to stderr.\n");
}

/* "--min-terms" -> "min_terms" (into buf). */
static void option_key(const char *opt, char *buf, size_t cap) {
    snprintf(buf, cap, "%s", opt + 2);
    for (char *s = buf; *s; s++)
        if (*s == '-') *s = '_';
}

/* A command-line value as JSON: a number when the whole text is one, true
 * or false, else a string. */
static cJSON *option_value(const char *v) {
    if (!strcmp(v, "true") || !strcmp(v, "false")) return cJSON_CreateBool(v[0] == 't');
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (*v && !*end && errno == 0) return cJSON_CreateNumber(d);
    return cJSON_CreateString(v);
}

static int parse_count(const char *opt, const char *v, long max, long *out) {
    if (cli_parse_long(v, 0, max, out))
        return cli_usage_error("data", "%s: expected an integer in [0, %ld], got '%s'", opt, max, v);
    return EXIT_OK;
}

static int write_examples(const TaskGen *g, TaskSplit split, long start, long n, FILE *f) {
    for (long i = 0; i < n; i++) {
        cJSON *ex;
        if (taskgen_example(g, split, (uint64_t)(start + i), &ex)) return -1;
        char *s = cJSON_PrintUnformatted(ex);
        fputs(s, f);
        fputc('\n', f);
        free(s);
        cJSON_Delete(ex);
    }
    return 0;
}

int cmd_data(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    if (argc < 2 || argv[1][0] == '-') return cli_usage_error("data", "missing the generator: arith, countdown or corpus");
    const char *kind = argv[1], *split_name = "train", *out = NULL;
    long n = 10, start = 0;
    cJSON *params = cJSON_CreateObject();
    int rc = EXIT_OK;
    for (int i = 2; i < argc && rc == EXIT_OK; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) || !a[2]) {
            rc = cli_usage_error("data", "unexpected argument '%s'", a);
        } else if (i + 1 >= argc) {
            rc = cli_usage_error("data", "%s needs a value", a);
        } else if (!strcmp(a, "--split")) {
            split_name = argv[++i];
        } else if (!strcmp(a, "--n")) {
            rc = parse_count(a, argv[++i], 100000000L, &n);
        } else if (!strcmp(a, "--start")) {
            rc = parse_count(a, argv[++i], (long)UINT32_MAX, &start);
        } else if (!strcmp(a, "--out")) {
            out = argv[++i];
        } else if (!strcmp(a, "--params")) {
            cJSON *p = json_parse_named(argv[i + 1], strlen(argv[i + 1]), "--params");
            i++;
            if (!cJSON_IsObject(p)) {
                if (p) ERR("--params: expected a JSON object");
                rc = cli_usage_error("data", "%s", err_msg());
            } else {
                for (cJSON *it = p->child; it; it = it->next)
                    cJSON_AddItemToObject(params, it->string, cJSON_Duplicate(it, 1));
            }
            cJSON_Delete(p);
        } else {
            char key[64];
            option_key(a, key, sizeof key);
            cJSON_DeleteItemFromObjectCaseSensitive(params, key);
            cJSON_AddItemToObject(params, key, option_value(argv[++i]));
        }
    }
    if (rc == EXIT_OK && strcmp(split_name, "train") && strcmp(split_name, "eval"))
        rc = cli_usage_error("data", "--split: expected 'train' or 'eval', got '%s'", split_name);
    if (rc == EXIT_OK && start + n > (long)UINT32_MAX + 1)
        rc = cli_usage_error("data", "--start + --n goes beyond example 2^32 - 1");
    TaskGen g;
    if (rc == EXIT_OK && taskgen_init(&g, kind, params, "parameters"))
        rc = cli_usage_error("data", "%s", err_msg());
    cJSON_Delete(params);
    if (rc != EXIT_OK) return rc;

    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        ERR("cannot create %s: %s", out, strerror(errno));
        return cli_fail("data");
    }
    double t0 = now_seconds();
    TaskSplit split = strcmp(split_name, "eval") ? TASK_TRAIN : TASK_EVAL;
    int bad = write_examples(&g, split, start, n, f);
    if (!bad && (fflush(f) || ferror(f))) bad = ERR("writing %s: %s", out ? out : "stdout", strerror(errno));
    if (out && fclose(f) && !bad) bad = ERR("closing %s: %s", out, strerror(errno));
    if (bad) return cli_fail("data");
    double dt = now_seconds() - t0;
    fprintf(stderr, "grpo data: %ld %s example%s of %s (seed %llu) in %.3f s (%.0f examples/s)\n", n, split_name,
            n == 1 ? "" : "s", kind, (unsigned long long)g.seed, dt, dt > 0 ? (double)n / dt : 0.0);
    return EXIT_OK;
}
