/*
 * eval_stats.h: the statistics of an evaluation: pass@1, pass@k (the
 * unbiased estimator of Chen et al. 2021), maj@k (R1's cons@k), format
 * rate, mean completion length and think rate. Pure functions of graded
 * samples; `grpo eval` and the trainer's periodic evaluation call them.
 * Not for: sampling, answer extraction or grading (the caller does those
 * with the rollout engine and the reward functions).
 *
 *     EvalSample s[P * N];   // N samples of each of P prompts, prompt-major
 *     ... s[p * N + j] = (EvalSample){answer, correct, formatted, thinks, length};
 *     EvalSummary sum;
 *     if (eval_summarize(s, P, N, k, &sum)) return -1;
 */
#ifndef GRPO_EVAL_STATS_H
#define GRPO_EVAL_STATS_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* One sampled completion, as the caller graded it. */
typedef struct {
    const char *answer; /* the normalised extracted answer, NULL when none was found */
    int correct;        /* 1 when the answer is right */
    int formatted;      /* 1 when the completion kept the required format */
    int thinks;         /* 1 when it thinks before answering (eval_thinks) */
    double length;      /* completion length in tokens */
} EvalSample;

typedef struct {
    size_t n_prompts;
    size_t samples_per_prompt; /* n */
    size_t k;
    double pass_at_1;   /* mean over prompts of c / n */
    double pass_at_k;   /* mean over prompts of the unbiased pass@k */
    double maj_at_k;    /* share of prompts whose majority answer (first k samples) is right */
    double format_rate; /* share of all samples with formatted = 1 */
    double mean_length; /* mean of length over all samples */
    double think_rate;  /* share of all samples with thinks = 1 */
} EvalSummary;

/* The unbiased pass@k estimate for one prompt with n samples of which c are
 * correct (Chen et al. 2021, "Evaluating Large Language Models Trained on
 * Code", eq. 1): 1 - C(n-c, k) / C(n, k), computed as
 * 1 - prod_{i=n-c+1}^{n} (1 - k/i) so that no binomial overflows; exactly 1
 * when n - c < k. Fails (-1 with ERR) unless 1 <= k <= n and c <= n. */
int eval_pass_at_k(size_t n, size_t c, size_t k, double *out);

/* The majority answer among k samples: the index of the first sample that
 * holds the most frequent non-NULL answer (answers compared as exact
 * strings; the caller normalises them). A tie goes to the answer that
 * appears first among the samples. -1 when no sample has an answer. */
long eval_majority(const EvalSample *s, size_t k);

/* Summarises n_prompts x n samples (prompt-major: sample j of prompt p at
 * s[p * n + j]). maj@k uses the first k samples of each prompt, pass@k all
 * n; a prompt whose samples have no answer counts as wrong for maj@k.
 * Fails (-1 with ERR) unless n_prompts >= 1 and 1 <= k <= n. */
int eval_summarize(const EvalSample *s, size_t n_prompts, size_t n, size_t k, EvalSummary *out);

/* 1 when the completion has a non-empty <think> ... </think> (something
 * other than whitespace inside) followed by an <answer> tag; else 0. With
 * think_opened_by_prompt (the prompt ends in "<think>"), a completion
 * without its own "<think>" counts from its start. */
int eval_thinks(const char *completion, int think_opened_by_prompt);

/* The summary as eval.json's statistics: {"n_prompts", "samples_per_prompt",
 * "pass@1", "pass@k", "k", "maj@k", "format_rate", "mean_length",
 * "think_rate"} added to obj (the caller adds "model", "temperature"). */
void eval_summary_to_json(const EvalSummary *s, cJSON *obj);

/* The summary as a metrics.jsonl eval line's keys: "eval/pass@1",
 * "eval/pass@k", "eval/k", "eval/maj@k", "eval/format_rate",
 * "eval/mean_length", "eval/think_rate", added to line. */
void eval_summary_to_metrics(const EvalSummary *s, cJSON *line);

#endif
