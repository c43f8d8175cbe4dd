/*
 * reward.h: the reward interface, the registry of reward kinds and the
 * RewardSet that scores a batch with every configured function.
 * Not for: tensors or tokens (a reward knows text only), the sandbox
 * (sandbox.h), the plugin ABI third parties compile against (reward_plugin.h).
 *
 * The job config's "rewards" array configures a set:
 *
 *     "rewards": [
 *       {"name": "math_accuracy", "weight": 1.0},
 *       {"name": "format", "weight": 0.2, "mode": "strict"}
 *     ]
 *
 * Every object names a registered kind; "weight" (default 1.0) and "label"
 * (default: the name; needed when one kind appears twice) are read by the
 * set, every other key is the kind's own parameter and unknown ones are
 * errors. The total reward of one completion is
 *
 *     total = sum over functions f that produced a score of weight_f * score_f
 *
 * A function may answer "no score" for a completion (e.g. math_accuracy when
 * the example has no "answer"): that term is left out of the sum (it adds 0,
 * like TRL's nansum over None), it is counted per function and shown as null
 * in logs, never as a silent 0. If no function scored a completion the total
 * itself is "no score" (has_total = 0, total = 0).
 *
 *     RewardSet *set = reward_set_new(cJSON_GetObjectItem(cfg, "rewards"), "rewards");
 *     if (!set) die(err_msg());
 *     RewardBatch b;
 *     if (reward_set_score(set, inputs, n, &b)) die(err_msg());
 *     ... b.total[i], b.per[f * n + i].score ...
 *     reward_batch_free(&b);
 *     reward_set_free(set);
 */
#ifndef GRPO_REWARD_H
#define GRPO_REWARD_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/finish.h"

/* One completion to score. All pointers are borrowed for the call. The
 * fields after `finish` are optional: zero means "unknown", so a caller
 * that only knows the text fills the first five. */
typedef struct {
    const char *prompt;     /* the prompt text as shown to the model ("" if unknown) */
    const char *completion; /* the sampled completion text */
    const cJSON *example;   /* the dataset line: "answer", "tests", anything else; may be NULL */
    int n_tokens;           /* completion length in tokens (-1 if unknown) */
    FinishReason finish;    /* why sampling ended */
    /* where it came from */
    int has_group;          /* 1: group and index are set */
    long group;             /* group id: the inputs of one call with the same id are the samples of one prompt */
    int index;              /* index within the group, from 0 */
    long step;              /* training step, from 1 (0: not training) */
    const int *token_ids;   /* the completion's token ids, or NULL (given to functions that ask for them) */
    int n_token_ids;
    /* for messages: an error names "source:line" (grpo reward's input file) */
    const char *source;
    long line;              /* 0: none */
} RewardInput;

/* One function's verdict on one completion. */
typedef struct {
    double score;  /* valid when has_score */
    int has_score; /* 0 = "no score": logged and counted, never silently 0 */
    cJSON *diag;   /* optional named diagnostics (owned by the result), or NULL */
    char *error;   /* the function failed on this completion (owned), or NULL; has_score is then 0 */
} RewardResult;

/* A kind of reward function, registered by name.
 * create: parses params (the config object minus "name", "weight", "label";
 *   unknown keys are errors naming path.key, via json_check_keys). path is the
 *   config location, e.g. "rewards[2]", for messages. Sets *state (may be NULL
 *   for stateless kinds). Returns 0 or -1 with ERR.
 * score: scores n inputs into out[0..n) (zero-initialised by the caller).
 *   Returns -1 with ERR only for failures of the function itself (a dead
 *   external process), never for a bad completion: that is a low score or
 *   "no score". A failure on single inputs may instead be reported in
 *   out[i].error (xmalloc'd) with 0 returned. If pure, score() is a
 *   thread-safe function of (state, input) and the set may call it
 *   concurrently with n = 1 from several threads; otherwise the set calls it
 *   with the whole batch, from one thread at a time (not always the same).
 * destroy: frees state (called also when state is NULL); plain `free` when
 *   the state is one malloc'd block.
 * check (optional): validates params like create but starts nothing (no
 *   process, no probe), for `grpo config`; NULL: create, then destroy.
 * label (optional): the function's name in logs when the config gives no
 *   "label" (a plugin's declared name); NULL or "": the kind's name. */
typedef struct {
    const char *name;
    int pure;
    int (*create)(const cJSON *params, const char *path, void **state);
    int (*score)(void *state, const RewardInput *in, size_t n, RewardResult *out);
    void (*destroy)(void *state);
    int (*check)(const cJSON *params, const char *path);
    const char *(*label)(const void *state);
} RewardKind;

/* The built-in kinds (one file each under reward/). */
extern const RewardKind reward_kind_math_accuracy;
extern const RewardKind reward_kind_countdown;
extern const RewardKind reward_kind_format;
extern const RewardKind reward_kind_length;
extern const RewardKind reward_kind_language_consistency;
extern const RewardKind reward_kind_repetition;
extern const RewardKind reward_kind_plugin;   /* {"name":"plugin","library":...} */
extern const RewardKind reward_kind_external; /* {"name":"external","command":[...]} */
extern const RewardKind reward_kind_code;     /* reward/code.c (sandboxed tests) */

/* The registered kind called name, or NULL. */
const RewardKind *reward_kind_find(const char *name);

/* Number of registered kinds and the i-th one (for listings and help). */
size_t reward_kind_count(void);
const RewardKind *reward_kind_at(size_t i);

/* Frees the diagnostics and errors of n results and clears them. */
void reward_results_clear(RewardResult *r, size_t n);

/* ---- a configured set of reward functions ---- */

typedef struct RewardSet RewardSet;

/* The scores of one batch of n completions under a set of F functions. */
typedef struct {
    size_t n, n_funcs;
    double *total;      /* [n] weighted sum over the functions that scored */
    int *has_total;     /* [n] 0 when no function scored the completion */
    RewardResult *per;  /* [n_funcs * n]: per[f * n + i] is function f on input i */
    double *seconds;    /* [n_funcs] time spent in each function's calls on this batch,
                           summed over threads (= wall time for non-pure functions) */
} RewardBatch;

/* Statistics of one function (or of the weighted total) over the batches
 * scored since the set was made. A group is the inputs of one call with
 * the same group id; it is "all equal" when every input has the same score
 * (or every one "no score"; for the total, "no score" counts as 0, as in
 * the trainer's advantages). */
typedef struct {
    size_t n_scored;       /* completions that got a score */
    size_t n_no_score;     /* completions that got "no score" */
    size_t n_failed;       /* completions the function failed on (REWARD_ON_ERROR_NULL) */
    double sum, sumsq;     /* of the scores (unweighted; the total: weighted) */
    double min, max;       /* valid when n_scored > 0 */
    size_t n_groups;       /* groups seen (inputs with a group id) */
    size_t n_groups_equal; /* of them, groups whose scores are all equal */
    double seconds;        /* total wall time spent in score() (0 for the total) */
} RewardStats;

/* What a failing function does to a batch. */
typedef enum {
    REWARD_ON_ERROR_FAIL = 0, /* the batch fails with the function's message (the default) */
    REWARD_ON_ERROR_NULL = 1, /* its inputs get "no score" with the message in RewardResult.error */
} RewardOnError;

/* Builds a set from the config's "rewards" array (path names it in errors,
 * e.g. "rewards"). Errors name "path[i].key", list the valid choices and
 * suggest the nearest one for a typo. An empty array is an error. Returns
 * NULL with ERR on failure. Free with reward_set_free. */
RewardSet *reward_set_new(const cJSON *rewards, const char *path);

/* Checks a "rewards" array as reward_set_new does, but starts no process
 * and runs no probe (external and code rewards are only parsed); plugins
 * are loaded, to ask their create() and name. The set can report its
 * labels and configuration but not score. */
RewardSet *reward_set_check(const cJSON *rewards, const char *path);

/* Frees the set and every function's state (NULL is fine). */
void reward_set_free(RewardSet *s);

/* Number of functions, and the label, kind name and weight of function f. */
size_t reward_set_size(const RewardSet *s);
const char *reward_set_label(const RewardSet *s, size_t f);
const char *reward_set_kind(const RewardSet *s, size_t f);
double reward_set_weight(const RewardSet *s, size_t f);
const RewardStats *reward_set_stats(const RewardSet *s, size_t f);
/* Statistics of the weighted total. */
const RewardStats *reward_set_total_stats(const RewardSet *s);

/* The effective "rewards" array: every object with its name, weight,
 * label and every parameter the function read, defaults filled in (a new
 * array; cJSON_Delete it). */
cJSON *reward_set_config(const RewardSet *s);

/* Sets what a failing function does (default REWARD_ON_ERROR_FAIL). */
void reward_set_on_error(RewardSet *s, RewardOnError mode);

/* Scores n inputs with every function: the pure functions together in one
 * OpenMP parallel loop over (function, input) pairs, each of the others
 * with the whole batch on a thread of its own, all at the same time (an
 * external process's wait overlaps with the rest). Fills *out (release
 * with reward_batch_free, also after a failure). The result does not
 * depend on the number of threads. A function that fails, or returns a
 * non-finite score, fails the batch: -1 with ERR ("rewards[f] (label):
 * FILE:LINE: ...", the lowest failing f), out's totals and the statistics
 * untouched; under REWARD_ON_ERROR_NULL its inputs get "no score" and the
 * message in .error instead, and the batch goes on. */
int reward_set_score(RewardSet *s, const RewardInput *in, size_t n, RewardBatch *out);

/* Adds a batch scored earlier (e.g. read back from the output of an
 * interrupted run) to the statistics: b's per, total and has_total (and
 * the inputs' group ids) are read, b->seconds is not. */
void reward_set_add_stats(RewardSet *s, const RewardInput *in, size_t n, const RewardBatch *b);

/* Frees the arrays and diagnostics of a batch (a zeroed batch is fine). */
void reward_batch_free(RewardBatch *b);

/* Makes the relative paths of a "rewards" array absolute, in place, against
 * the folder of config_path (the config file they were read from; made
 * absolute with the current directory): a plugin's "library" when it holds
 * a '/', an external reward's "command"[0] when it holds a '/' and its
 * "working_dir", which defaults to that folder. Absolute paths and bare
 * names (searched on PATH or by the loader) are left alone. config_path
 * NULL leaves the array as it is. */
void reward_config_resolve_paths(cJSON *rewards, const char *config_path);

#endif
