/*
 * bench_math.c: how fast math_accuracy grades completions end to end (the
 * completion's and the gold's extraction, normalisation, the rules and the
 * diagnostics object, as the reward runs them). Prints a table of lines per
 * second on one core and on all cores (OpenMP) for three kinds of generated
 * R1-style completions of about 1,500 characters: the answer in \boxed{},
 * in a LaTeX environment without a box, and in plain text (GSM8K style).
 * One core is reported per CPU second of the grading thread and per second
 * of wall clock. Not part of the test suite.
 *
 *   bench_math [--lines N] [--repeat R]
 */
#define _GNU_SOURCE /* getloadavg */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "common/rng.h"
#include "common/strbuf.h"
#include "reward/math_accuracy.h"

enum { KIND_BOXED, KIND_LATEX, KIND_PLAIN, N_KINDS };
static const char *const kind_names[N_KINDS] = {"boxed", "LaTeX environment", "plain text"};

static const char *const latex_answers[] = {
    "\\frac{1}{2}", "0.5", "x^2+1", "(1, 2)", "1,000", "2\\sqrt{3}", "7", "[0, 1)", "\\{1, 2\\}", "x = 3",
    "\\frac{\\pi}{4}", "-\\frac{3}{5}", "12\\%", "3 \\le x < 5",
};
static const char *const words[] = {"so", "then", "we", "get", "x", "2", "+", "=", "the", "value", "is",
                                    "$x$", "$2x + 1$", "3", "times", "Wait,", "check:", "12", "result", "total"};

/* One completion of kind k whose answer is ans (about 1,500 characters). */
static char *completion(Rng *r, int k, const char *ans) {
    StrBuf b = {0};
    strbuf_cat(&b, "<think>\n");
    for (int i = 0; i < 320; i++) {
        strbuf_cat(&b, words[rng_below(r, sizeof(words) / sizeof(words[0]))]);
        strbuf_cat(&b, i % 17 == 16 ? ".\n" : " ");
    }
    strbuf_cat(&b, "\n</think>\n");
    if (k == KIND_BOXED) {
        strbuf_cat(&b, "<answer>\nThe answer is $\\boxed{");
        strbuf_cat(&b, ans);
        strbuf_cat(&b, "}$.\n</answer>");
    } else if (k == KIND_LATEX) {
        strbuf_cat(&b, "Putting it together, the result is\n\\[\n");
        strbuf_cat(&b, ans);
        strbuf_cat(&b, "\n\\]\nwhich checks out.");
    } else {
        strbuf_cat(&b, "So she has ");
        strbuf_cat(&b, ans);
        strbuf_cat(&b, " apples in the end.\n#### ");
        strbuf_cat(&b, ans);
    }
    return b.p;
}

typedef struct {
    char **text;
    cJSON **example;
    RewardInput *in;
    int n;
    double chars;
} Lines;

static void lines_make(Lines *l, int k, int n) {
    l->n = n;
    l->text = xcalloc((size_t)n, sizeof(char *));
    l->example = xcalloc((size_t)n, sizeof(cJSON *));
    l->in = xcalloc((size_t)n, sizeof(RewardInput));
    l->chars = 0;
    for (int i = 0; i < n; i++) {
        Rng r;
        rng_init(&r, 42, (uint32_t)k, (uint32_t)i, 0);
        char num[32];
        snprintf(num, sizeof(num), "%u", 10 + rng_below(&r, 5000));
        const uint32_t n_answers = sizeof(latex_answers) / sizeof(latex_answers[0]);
        const char *ans = k == KIND_PLAIN ? num : latex_answers[rng_below(&r, n_answers)];
        const char *gold = rng_below(&r, 5) ? ans : latex_answers[rng_below(&r, n_answers)]; /* 4 in 5 right */
        l->text[i] = completion(&r, k, ans);
        l->chars += (double)strlen(l->text[i]);
        l->example[i] = cJSON_CreateObject();
        cJSON_AddStringToObject(l->example[i], "answer", gold);
        l->in[i] = (RewardInput){.prompt = "", .completion = l->text[i], .example = l->example[i], .n_tokens = -1};
    }
}

static void lines_free(Lines *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->text[i]);
        cJSON_Delete(l->example[i]);
    }
    free(l->text);
    free(l->example);
    free(l->in);
}

/* CPU seconds used by the calling thread. */
static double thread_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Grades every line `repeat` times on `threads` threads; returns lines per
 * wall-clock second, and with one thread also lines per CPU second of that
 * thread in *per_cpu (on a shared machine the wall clock also counts the
 * time other jobs held the core), and the fraction graded correct. */
static double run(const MathGradeConfig *c, const Lines *l, int threads, int repeat, double *per_cpu, double *correct) {
    long right = 0;
    double t0 = now_seconds(), c0 = thread_cpu_seconds();
    for (int rep = 0; rep < repeat; rep++) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64) reduction(+ : right)
        for (int i = 0; i < l->n; i++) {
            cJSON *diag = NULL;
            right += math_grade_input(c, &l->in[i], &diag) == 1;
            cJSON_Delete(diag);
        }
    }
    double dt = now_seconds() - t0;
    if (per_cpu) *per_cpu = (double)l->n * repeat / (thread_cpu_seconds() - c0);
    *correct = (double)right / ((double)l->n * repeat);
    return (double)l->n * repeat / dt;
}

int main(int argc, char **argv) {
    int n = 20000, repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--lines") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_math [--lines N] [--repeat R]\n");
            return 2;
        }
    }
    if (n < 1 || repeat < 1) {
        fprintf(stderr, "bench_math: --lines and --repeat must be positive\n");
        return 2;
    }
    MathGradeConfig c;
    cJSON *params = cJSON_CreateObject();
    if (math_grade_config_parse(params, "bench", &c)) {
        fprintf(stderr, "bench_math: %s\n", err_msg());
        return 1;
    }
    cJSON_Delete(params);
    int cores = omp_get_num_procs();
    double load[1] = {0};
    getloadavg(load, 1);
    printf("math_accuracy end to end (default extraction), %d lines x %d, %d cores, load average %.1f\n", n, repeat,
           cores, load[0]);
    printf("%-20s %6s %8s %16s %16s %16s\n", "completions", "chars", "correct", "1 core (cpu)/s", "1 core (wall)/s",
           "all cores/s");
    for (int k = 0; k < N_KINDS; k++) {
        Lines l;
        lines_make(&l, k, n);
        double ok1, okn, cpu;
        double one = run(&c, &l, 1, repeat, &cpu, &ok1);
        double all = run(&c, &l, cores, repeat, NULL, &okn);
        printf("%-20s %6.0f %7.1f%% %16.0f %16.0f %16.0f\n", kind_names[k], l.chars / n, 100.0 * ok1, cpu, one, all);
        if (ok1 != okn) printf("  (threads changed the verdicts: %.4f vs %.4f)\n", ok1, okn);
        lines_free(&l);
    }
    return 0;
}
