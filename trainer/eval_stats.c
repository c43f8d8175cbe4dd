/*
 * eval_stats.c: evaluation statistics (see eval_stats.h).
 * Not for: anything that samples or grades.
 */
#include "eval_stats.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "common/common.h"

int eval_pass_at_k(size_t n, size_t c, size_t k, double *out) {
    if (k < 1 || k > n) return ERR("pass@k: k = %zu must be in [1, n = %zu]", k, n);
    if (c > n) return ERR("pass@k: c = %zu correct samples out of n = %zu", c, n);
    if (n - c < k) {
        *out = 1.0;
        return 0;
    }
    /* C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (i - k) / i */
    double fail = 1.0;
    for (size_t i = n - c + 1; i <= n; i++) fail *= 1.0 - (double)k / (double)i;
    *out = 1.0 - fail;
    return 0;
}

long eval_majority(const EvalSample *s, size_t k) {
    long best = -1;
    size_t best_count = 0;
    for (size_t i = 0; i < k; i++) {
        if (!s[i].answer) continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = s[j].answer && !strcmp(s[j].answer, s[i].answer);
        if (seen) continue; /* counted at its first occurrence */
        size_t count = 1;
        for (size_t j = i + 1; j < k; j++) count += s[j].answer && !strcmp(s[j].answer, s[i].answer);
        if (count > best_count) { /* strictly more: ties keep the earlier answer */
            best_count = count;
            best = (long)i;
        }
    }
    return best;
}

int eval_summarize(const EvalSample *s, size_t n_prompts, size_t n, size_t k, EvalSummary *out) {
    if (n_prompts < 1) return ERR("eval: no prompts to summarise");
    if (k < 1 || k > n) return ERR("eval: k = %zu must be in [1, samples per prompt = %zu]", k, n);
    memset(out, 0, sizeof(*out));
    out->n_prompts = n_prompts;
    out->samples_per_prompt = n;
    out->k = k;
    double pass1 = 0, passk = 0, maj = 0, fmt = 0, len = 0, think = 0;
    for (size_t p = 0; p < n_prompts; p++) {
        const EvalSample *g = s + p * n;
        size_t c = 0;
        for (size_t j = 0; j < n; j++) {
            c += g[j].correct != 0;
            fmt += g[j].formatted != 0;
            think += g[j].thinks != 0;
            len += g[j].length;
        }
        double pk;
        if (eval_pass_at_k(n, c, k, &pk)) return -1;
        pass1 += (double)c / (double)n;
        passk += pk;
        long w = eval_majority(g, k);
        maj += w >= 0 && g[w].correct;
    }
    double np = (double)n_prompts, ns = np * (double)n;
    out->pass_at_1 = pass1 / np;
    out->pass_at_k = passk / np;
    out->maj_at_k = maj / np;
    out->format_rate = fmt / ns;
    out->mean_length = len / ns;
    out->think_rate = think / ns;
    return 0;
}

int eval_thinks(const char *completion, int think_opened_by_prompt) {
    const char *open = strstr(completion, "<think>");
    const char *close = strstr(completion, "</think>");
    if (!close) return 0;
    const char *body;
    if (open && open < close) body = open + strlen("<think>");
    else if (think_opened_by_prompt && !open) body = completion;
    else return 0;
    int nonblank = 0;
    for (const char *p = body; p < close && !nonblank; p++) nonblank = !isspace((unsigned char)*p);
    return nonblank && strstr(close, "<answer>") != NULL;
}

/* The statistics under their eval.json and metrics.jsonl names. */
static const struct {
    const char *json, *metric;
    size_t off;
} stat_keys[] = {
    {"pass@1", "eval/pass@1", offsetof(EvalSummary, pass_at_1)},
    {"pass@k", "eval/pass@k", offsetof(EvalSummary, pass_at_k)},
    {"maj@k", "eval/maj@k", offsetof(EvalSummary, maj_at_k)},
    {"format_rate", "eval/format_rate", offsetof(EvalSummary, format_rate)},
    {"mean_length", "eval/mean_length", offsetof(EvalSummary, mean_length)},
    {"think_rate", "eval/think_rate", offsetof(EvalSummary, think_rate)},
};

static void add_stats(const EvalSummary *s, cJSON *obj, int metric) {
    for (size_t i = 0; i < sizeof stat_keys / sizeof stat_keys[0]; i++) {
        double v = *(const double *)((const char *)s + stat_keys[i].off);
        cJSON_AddNumberToObject(obj, metric ? stat_keys[i].metric : stat_keys[i].json, v);
    }
    cJSON_AddNumberToObject(obj, metric ? "eval/k" : "k", (double)s->k);
}

void eval_summary_to_json(const EvalSummary *s, cJSON *obj) {
    cJSON_AddNumberToObject(obj, "n_prompts", (double)s->n_prompts);
    cJSON_AddNumberToObject(obj, "samples_per_prompt", (double)s->samples_per_prompt);
    add_stats(s, obj, 0);
}

void eval_summary_to_metrics(const EvalSummary *s, cJSON *line) { add_stats(s, line, 1); }
