/*
 * pipeline.h: `grpo pipeline`: DeepSeek-R1's stages as one config. A
 * pipeline lists named stages (sft, train, eval, distill, report), each
 * stage's output model feeding the next; every stage writes its usual run
 * directory under the pipeline's; a finished stage is not run again when
 * the pipeline is started again, and an interrupted one resumes (its own
 * checkpoints). docs/pipeline.md has the format.
 * Not for: what a stage does (sft.c, grpo.c, eval.c, distill.c, report.c).
 *
 *     {"pipeline": {"name": "r1zero-tiny", "output_dir": "runs/r1zero-tiny"},
 *      "defaults": {job config keys every stage starts from},
 *      "stages": [
 *        {"name": "base", "kind": "sft", "config": {...}},
 *        {"name": "before", "kind": "eval", "model": "base", "config": {...}},
 *        {"name": "rl", "kind": "train", "model": "base", "config": {...}},
 *        {"name": "after", "kind": "eval", "model": "rl"},
 *        {"name": "report", "kind": "report"}]}
 *
 * The directory holds pipeline.json (each stage's status and output
 * model), one folder per stage, and report.html.
 */
#ifndef GRPO_PIPELINE_H
#define GRPO_PIPELINE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "trainer/dist.h"

/* Applies "a.b.c=value" overrides to a pipeline config (value parsed as
 * JSON when it parses, else a string; sections are created), e.g.
 * pipeline.output_dir=runs/x or defaults.train.seed=7;
 * stages.NAME.rest addresses the stage called NAME
 * (stages.rl.config.train.steps=10). */
int pipeline_apply_sets(cJSON *root, const char *const *sets, size_t n_sets);

/* Runs the pipeline `root` (origin names it in messages) on every rank:
 * checks the whole config first (every stage's job config is loaded as its
 * command reads it), then runs the stages in order, skipping those
 * pipeline.json marks done. Prints the before/after evaluation table at
 * the end. Returns 0 or -1 with err_msg() set (the same on every rank). */
int pipeline_run(const cJSON *root, const char *origin, const Dist *d);

#endif
