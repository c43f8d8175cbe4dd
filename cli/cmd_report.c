/*
 * cmd_report.c: `grpo report`: writes the HTML report of a run or pipeline
 * directory (trainer/report.h) and, on request, its metrics as CSV.
 * Not for: what the report shows (trainer/report.c).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common/common.h"
#include "trainer/report.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: grpo report RUN_DIR [--out FILE] [--csv FILE]\n"
            "\n"
            "Writes one self-contained HTML file (inline SVG plots and CSS, no scripts, nothing\n"
            "fetched) from RUN_DIR's config.json, metrics.jsonl and completions.jsonl: a summary,\n"
            "plots of every logged metric (reward per function, accuracy and pass@1, completion\n"
            "length, think rate, KL, entropy, clip fractions, grad norm, learning rate, time per\n"
            "step, ...), sampled completions at the first, middle and last logged steps, and the\n"
            "config. For a pipeline directory (one with pipeline.json): every stage and the\n"
            "before/after evaluation table from the eval stages' eval.json.\n"
            "\n"
            "options:\n"
            "  --out FILE   where to write the HTML (default RUN_DIR/report.html)\n"
            "  --csv FILE   also write metrics.jsonl as CSV: one column per key, one row per line\n");
}

int cmd_report(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *dir = NULL, *out = NULL, *csv = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "--out") || !strcmp(a, "--csv")) && i + 1 >= argc)
            return cli_usage_error("report", "%s needs a file name", a);
        if (!strcmp(a, "--out")) out = argv[++i];
        else if (!strcmp(a, "--csv")) csv = argv[++i];
        else if (a[0] == '-') return cli_usage_error("report", "unknown option '%s'", a);
        else if (dir) return cli_usage_error("report", "more than one directory ('%s' and '%s')", dir, a);
        else dir = a;
    }
    if (!dir) return cli_usage_error("report", "missing RUN_DIR");
    double t0 = now_seconds();
    if (report_write(dir, out)) return cli_fail("report");
    char def[4096];
    if (!out) {
        snprintf(def, sizeof def, "%s/report.html", dir);
        out = def;
    }
    struct stat st;
    long kib = stat(out, &st) == 0 ? (long)(st.st_size + 1023) / 1024 : 0;
    fprintf(stderr, "grpo report: wrote %s (%ld KiB) in %.3f s\n", out, kib, now_seconds() - t0);
    if (csv) {
        if (report_write_csv(dir, csv)) return cli_fail("report");
        fprintf(stderr, "grpo report: wrote %s\n", csv);
    }
    return EXIT_OK;
}
