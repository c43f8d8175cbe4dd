/*
 * session.h: what every training job shares (grpo sft, grpo train): the
 * threads per rank, the model and its tokenizer, resume from a checkpoint,
 * the optimizer and learning-rate schedule, the run directory, metrics
 * lines, checkpoint save and rotation, the step timer and the progress
 * line. A trainer opens a session, runs its steps on s.model with
 * s.opt, and closes it; every function here is called by all ranks
 * together and returns the same status on all of them.
 * Not for: what a step computes (sft.c, grpo.c), the file formats
 * (model/io/), MPI itself (dist.h).
 *
 *     Session s;
 *     if (session_open(&s, job, dist, NULL, 0)) { session_close(&s); return -1; }
 *     for (long step = s.start_step; step < job->steps; step++) {
 *         model_zero_grads(&s.model); ... backward ...
 *         session_optimizer_step(&s, step, &gnorm, &lr);
 *         session_log(&s, line);
 *         if (session_should_save(&s, step + 1)) session_save(&s, step + 1, &state, NULL, 0);
 *     }
 *     session_close(&s);
 */
#ifndef GRPO_SESSION_H
#define GRPO_SESSION_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "model/io/checkpoint.h"
#include "model/model.h"
#include "model/optim.h"
#include "model/tokenizer/tokenizer.h"
#include "trainer/dist.h"
#include "trainer/jobconfig.h"
#include "trainer/rundir.h"

/* A parameter-shaped block a trainer keeps besides the policy and the
 * AdamW moments (GRPO's reference policy), saved in checkpoints under
 * /<name>/ and restored on resume. */
typedef struct {
    const char *name; /* e.g. "reference" */
    float *data;      /* n_params floats, model layout; session_open allocates it (the trainer frees it) */
    int present;      /* 1: stored in checkpoints (e.g. the reference once it differs from the initial model) */
} SessionBlock;

typedef struct {
    const JobConfig *job;
    const Dist *dist;
    Model model;          /* the policy, with gradients allocated */
    ModelFiles files;     /* side files carried into every checkpoint */
    Tokenizer *tok;
    AdamW opt;
    LRSchedule sched;
    RunDir run;
    cJSON *effective;     /* the effective config, as written to config.json */
    long start_step;      /* steps already done (from the resumed checkpoint) */
    uint64_t data_cursor; /* the resumed checkpoint's data cursor (0 on a fresh run) */
    char *resume_path;    /* the checkpoint resumed from, or NULL */
    cJSON *trainer_state; /* the resumed checkpoint's trainer_state (NULL on a fresh run) */
    double t_open;        /* when the session opened (seconds, monotonic) */
    int progress_bar;     /* 1: draw a progress bar on stderr (a terminal, rank 0) */
    int opened;           /* 1 once the optimizer and run directory exist */
} Session;

/* Opens a session for job: sets the OpenMP threads of this rank
 * (train.threads, else OMP_NUM_THREADS when set, else the node's cores
 * divided by the ranks on it), loads model.path or builds model.init with
 * the tokenizer (model.tokenizer replacing the model's own), resumes from
 * the checkpoint train.resume names (the policy, the AdamW moments, the
 * step, the trainer state and each of the n_blocks extra blocks the
 * checkpoint holds: a block starts as a copy of the job's initial model and
 * is replaced by the checkpoint's when it has one, which marks it present;
 * a checkpoint written with another effective config is
 * refused, naming the keys that differ, unless train.resume_allow_changes
 * lists them), opens the run directory (writing config.json, trimming
 * metrics.jsonl to the resumed step, removing this run's stale temporary
 * files) and allocates gradients and the optimizer. On failure the message
 * names the file or key at fault; call session_close either way. */
int session_open(Session *s, const JobConfig *job, const Dist *d, SessionBlock *blocks, int n_blocks);
void session_close(Session *s);

/* Clips the gradients (optim.max_grad_norm) and applies AdamW at the
 * scheduled learning rate of 0-based `step`. Writes the norm before
 * clipping and the rate used. If the norm is not finite nothing is
 * applied and -1 is returned with a message (the same on every rank,
 * whose gradients are equal after the all-reduce). */
int session_optimizer_step(Session *s, long step, double *grad_norm, double *lr);

/* Appends line to metrics.jsonl (rank 0) and agrees on the outcome. */
int session_log(Session *s, const cJSON *line);

/* True when `done_steps` completed steps call for a checkpoint
 * (train.save_steps, and always the last step). */
int session_should_save(const Session *s, long done_steps);

/* Writes checkpoints/step-N.h5 (rank 0; atomic) with the policy, the
 * moments, st (step, cursors, RNG, trainer_state; its job_config is set
 * here) and the present blocks, points `latest` at it and removes the
 * oldest beyond train.save_total_limit. Every rank returns the outcome. */
int session_save(Session *s, long done_steps, CheckpointState *st, const SessionBlock *blocks, int n_blocks);

/* The progress line of a finished step: a bar with the step, the given
 * fields and the time left on a terminal, else a plain log line every
 * log.logging_steps steps (rank 0 only). */
void session_progress(Session *s, long done_steps, const char *fields);

/* ---- the time split of a step ---- */

enum { PHASE_ROLLOUT, PHASE_REWARD, PHASE_REFERENCE, PHASE_TRAIN, PHASE_COMM, PHASE_CHECKPOINT, PHASE_OTHER, N_PHASES };

typedef struct {
    double t_last;
    double seconds[N_PHASES];
} StepTimer;

/* Starts a step: clears the phases and the clock. */
void timer_begin(StepTimer *t);
/* Charges the time since the last mark to `phase`. */
void timer_mark(StepTimer *t, int phase);
/* The phase's metric name ("time/rollout", ...). */
const char *timer_phase_name(int phase);
/* Total seconds of the step so far. */
double timer_total(const StepTimer *t);

#endif
