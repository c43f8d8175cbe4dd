/*
 * taskgen_impl.h: what the generator files share inside data/ (taskgen.c,
 * task_arith.c, task_countdown.c). Not part of the public API.
 */
#ifndef GRPO_TASKGEN_IMPL_H
#define GRPO_TASKGEN_IMPL_H

#include "common/rng.h"
#include "taskgen.h"

/* Each draws problems from r until one of `split` is found (at most
 * TASKGEN_MAX_DRAWS) and builds its example into *out. */
int task_arith_example(const TaskGen *g, TaskSplit split, Rng *r, cJSON **out);
int task_corpus_example(const TaskGen *g, TaskSplit split, Rng *r, cJSON **out);
int task_countdown_example(const TaskGen *g, TaskSplit split, Rng *r, cJSON **out);

/* The failure message for a split that was not found in the allowed draws. */
int task_too_few(const TaskGen *g, TaskSplit split, const char *widen);

/* The canonical text of a Countdown problem, "countdown:<sorted nums>=<target>",
 * into buf (cap bytes); -1 with ERR if it does not fit. */
int task_countdown_key(const long *nums, int n, long target, char *buf, size_t cap);

/* An integer in [lo, hi] (hi - lo < 2^32). */
long task_draw_range(Rng *r, long lo, long hi);

#endif
