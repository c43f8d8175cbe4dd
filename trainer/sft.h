/*
 * sft.h: `grpo sft`: supervised next-token training (see sft.c).
 */
#ifndef GRPO_SFT_H
#define GRPO_SFT_H

#include <stddef.h>

#include "trainer/dist.h"
#include "trainer/jobconfig.h"
#include "trainer/pack.h"

/* Runs the job on every rank; returns 0 or -1 with err_msg() set (the same
 * outcome on every rank). */
int sft_run(const JobConfig *job, const Dist *d);

/* What a config can get wrong for grpo sft that the schema's types and
 * ranges cannot see (data.train_file missing, a micro-batch larger than
 * the batch); sft_run and `grpo config` call it. */
int sft_check(const JobConfig *job);

/* The longest sequence (in tokens, at most data.max_length) the job's
 * training and eval data make with the job's tokenizer, as sft_run builds
 * them: what sft_run sizes its workspace for. Loads the tokenizer and the
 * data, not the weights (for `grpo sft --dry-run`). eos is the model's
 * first eos id, or -1. */
int sft_longest_sequence(const JobConfig *job, int eos, long *longest);

/* The plan of optimizer step `step` (0-based) with global batch B: which[j]
 * (B entries) are the sequences of the step, items step*B .. step*B+B-1 of
 * the epoch order; returns the weight of every target token, -1 / (the
 * step's target count), so the weighted sum of log-probs is minus the mean
 * token cross-entropy of the step however the sequences are split across
 * ranks and micro-batches. *n_tokens (nullable) gets the step's tokens. */
double sft_step_plan(const SeqSet *s, EpochOrder *o, long step, long B, size_t *which, size_t *n_tokens);

#endif
