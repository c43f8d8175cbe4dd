/*
 * prompts.h: where grpo train and grpo eval get their prompts: a JSONL
 * file (data.train_file / data.eval_file, any field layout through
 * data.prompt_field and data.answer_field; GSM8K's and MATH's as they are)
 * or a built-in task generator (data.generator), each example a JSON object
 * whose fields go to the reward functions.
 * Not for: the order prompts are visited in (the trainer's EpochOrder),
 * templates or tokens (the trainer renders and tokenizes).
 *
 *     PromptSource src;
 *     if (prompts_open(&src, job, 0)) return -1;   // the training prompts
 *     cJSON *ex; prompts_get(&src, i, &ex);         // ex["prompt"] is the question
 *     ...
 *     cJSON_Delete(ex); prompts_close(&src);
 */
#ifndef GRPO_PROMPTS_H
#define GRPO_PROMPTS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "data/taskgen.h"
#include "trainer/jobconfig.h"

typedef struct {
    Dataset file;
    int have_file;
    TaskGen gen;
    int have_gen;
    TaskSplit split;
    size_t n; /* prompts available: the file's lines, data.eval_size, or 0 (a generator's endless train split) */
} PromptSource;

/* Opens the training prompts (eval = 0: data.train_file, else
 * data.generator's train split) or the evaluation prompts (eval = 1:
 * data.eval_file, cut to data.eval_size when that is set, else
 * data.generator's held-out split, data.eval_size of them). Fails naming
 * the key to set when there is no source. */
int prompts_open(PromptSource *p, const JobConfig *job, int eval);
void prompts_close(PromptSource *p);

/* Example i (i < p->n unless the source is endless) as a new JSON object
 * (cJSON_Delete it) that has the prompt as a string under "prompt" and the
 * gold answer (if any) under "answer". */
int prompts_get(const PromptSource *p, uint64_t i, cJSON **example);

/* A name for messages: the file, or "data.generator (kind)". */
const char *prompts_name(const PromptSource *p);

#endif
