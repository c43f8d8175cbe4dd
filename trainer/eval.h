/*
 * eval.h: evaluation by sampling: k completions of every eval prompt,
 * graded with the job's reward functions and summarised as pass@1,
 * pass@k, maj@k, format rate, mean length and think rate (eval_stats.h).
 * Used by `grpo eval` and by `grpo train` every train.eval_steps.
 * Not for: the statistics' formulas (eval_stats.c), SFT's eval loss
 * (sft.c).
 *
 * Grading. A completion is correct when the first accuracy reward of the
 * set (math_accuracy, countdown or code) gives it a score >= 1; formatted
 * when a `format` reward gives it a score > 0 (every completion counts as
 * formatted when the set has none); its answer for maj@k is what the
 * accuracy reward extracted (its "extracted" diagnostic), else the text of
 * its last <answer> ... </answer>. Prompts are split across ranks; sample
 * j of eval prompt i draws from the stream (seed, RNG_STEP_EVAL, i, j), so
 * every evaluation of a run sees the same random numbers and differs only
 * by the model.
 *
 *     Evaluator ev;
 *     if (eval_open(&ev, job)) return -1;
 *     EvalSummary sum;
 *     if (eval_run(&ev, &model, tok, rewards, dist, &sum)) return -1;
 *     eval_close(&ev);
 */
#ifndef GRPO_EVAL_H
#define GRPO_EVAL_H

#include "model/model.h"
#include "model/tokenizer/tokenizer.h"
#include "reward/reward.h"
#include "rollout/rollout.h"
#include "trainer/dist.h"
#include "trainer/eval_stats.h"
#include "trainer/jobconfig.h"
#include "trainer/prompts.h"

typedef struct {
    const JobConfig *job;
    PromptSource src;
    RolloutConfig rc;
    const char **stop;
    int k;              /* samples per prompt */
    float temperature;  /* 0: greedy (k is then 1) */
} Evaluator;

/* The eval prompts (data.eval_file or the generator's held-out split) and
 * sampling settings (rollout.*, eval.temperature, eval.num_samples) of job.
 * Fails naming the key to set when there are no eval prompts. */
int eval_open(Evaluator *ev, const JobConfig *job);
void eval_close(Evaluator *ev);

/* Samples and grades every eval prompt with model m (every rank its share)
 * and fills *out (the same on every rank). rewards must hold an accuracy
 * reward. */
int eval_run(Evaluator *ev, const Model *m, const Tokenizer *tok, RewardSet *rewards, const Dist *d,
             EvalSummary *out);

#endif
