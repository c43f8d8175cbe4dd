/*
 * distill.h: R1's rejection sampling, the first half of distillation: a
 * teacher model samples groups of completions for a set of prompts, the
 * reward functions grade them, and the correct, well-formatted ones (at
 * most K per prompt) become an SFT dataset (JSONL prompt/completion lines)
 * for `grpo sft` to train a student on. The pipeline's `distill` stage
 * runs both halves (pipeline.h).
 * Not for: the SFT itself (sft.c).
 *
 * A completion is kept when every accuracy reward of the set (math_accuracy,
 * countdown, code) gives it a score >= 1 and every `format` reward a score
 * > 0; of a prompt's kept completions the first K in sample order stay.
 */
#ifndef GRPO_DISTILL_H
#define GRPO_DISTILL_H

#include <stddef.h>

#include "trainer/dist.h"
#include "trainer/jobconfig.h"

typedef struct {
    size_t prompts, samples, kept, prompts_kept; /* over all ranks */
} DistillStats;

/* Samples rollout.num_generations completions from the teacher model at
 * job->model_path for the first n_prompts training prompts of job (its
 * data section and template), grades them with job->rewards, and writes
 * the kept ones to out_jsonl ({"prompt", "completion", "answer",
 * "reward"} per line; the prompt is the raw question, the template is the
 * student's SFT config's). Every rank samples its share; rank 0 writes the
 * file, atomically. */
int distill_generate(const JobConfig *job, long n_prompts, int keep_per_prompt, const char *out_jsonl,
                     const Dist *d, DistillStats *st);

#endif
