/*
 * rundir.h: the run directory (docs/architecture.md, Files): config.json (the
 * effective config), metrics.jsonl (one line per logged step),
 * completions.jsonl (GRPO's sampled completions),
 * checkpoints/step-N.h5 with a `latest` pointer, and finding where to
 * resume. Only rank 0 writes.
 * Not for: what goes inside a checkpoint (model/io/checkpoint.h).
 */
#ifndef GRPO_RUNDIR_H
#define GRPO_RUNDIR_H

#include <cjson/cJSON.h>
#include <stdio.h>

typedef struct {
    char *dir;      /* train.output_dir */
    char *ckpt_dir; /* dir/checkpoints */
    FILE *metrics;  /* dir/metrics.jsonl, opened for append (rank 0) */
    FILE *completions; /* dir/completions.jsonl (rank 0) */
    int writer;     /* 1 on rank 0 */
} RunDir;

/* Creates the directories, removes temporary files that interrupted writes
 * left in them ("*.tmp.<pid>") and writes config.json (writer only). When
 * resume_step >= 0, metrics.jsonl and completions.jsonl keep only lines
 * with step <= resume_step (the rest will be logged again, identically);
 * otherwise existing ones are replaced. */
int rundir_open(RunDir *r, const char *dir, const cJSON *config, int writer, long resume_step);
void rundir_close(RunDir *r);

/* Appends one JSON line to metrics.jsonl and flushes (writer only). */
int rundir_log(RunDir *r, const cJSON *line);
/* The same for completions.jsonl. */
int rundir_log_completion(RunDir *r, const cJSON *line);

/* dir/checkpoints/step-N.h5 (caller frees). */
char *rundir_checkpoint_path(const RunDir *r, long step);

/* Points checkpoints/latest at step-N.h5 (atomic) and, if keep > 0,
 * deletes the oldest step checkpoints beyond `keep`. */
int rundir_mark_latest(RunDir *r, long step, long keep);

/* The newest checkpoint under dir/checkpoints that passes
 * checkpoint_verify: the one `latest` names, else the highest step-N.h5
 * that verifies (a damaged newest file is reported on stderr and skipped).
 * *path is NULL when there is none (not an error). */
int rundir_find_resume(const char *dir, char **path);

#endif
