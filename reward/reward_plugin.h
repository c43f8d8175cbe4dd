/*
 * reward_plugin.h: the ABI of reward plugins, shared libraries that add a
 * reward function to grpo without rebuilding it. Self-contained on purpose
 * (plain C, no grpo or cJSON types), so a plugin compiles against this one
 * installed header: <grpo/reward/reward_plugin.h>.
 * Not for: built-in rewards (reward.h).
 *
 * A plugin exports one object of type GrpoRewardPlugin under the symbol
 * named in the config ("symbol", default "grpo_reward_plugin"):
 *
 *     #include <grpo/reward/reward_plugin.h>
 *     static int score(void *st, const GrpoRewardInput *in, size_t n,
 *                      GrpoRewardOutput *out, char *err, size_t err_cap) {
 *         for (size_t i = 0; i < n; i++) {
 *             out[i].score = strlen(in[i].completion) < 100;
 *             out[i].has_score = 1;
 *         }
 *         return 0;
 *     }
 *     GRPO_REWARD_EXPORT const GrpoRewardPlugin grpo_reward_plugin = {
 *         GRPO_REWARD_ABI_VERSION, sizeof(GrpoRewardPlugin), "short", 1,
 *         NULL, score, NULL};
 *
 * and the job config names it:
 *
 *     {"name": "plugin", "library": "./libshort.so", "weight": 0.5, ...params}
 *
 * Contract (ABI version 1):
 * - create(params_json, &state, err, err_cap): params_json is the config
 *   object without "name", "weight", "label", "library" and "symbol", as
 *   compact JSON text. Return 0 and set *state (may stay NULL), or non-zero
 *   after writing a message (NUL-terminated, at most err_cap bytes) to err.
 *   May be NULL (no parameters accepted, state NULL).
 * - score(state, in, n, out, err, err_cap): fill out[0..n) (zeroed by the
 *   caller). has_score = 0 means "no score" for that completion. Return
 *   non-zero with a message in err only if the function itself failed;
 *   that stops the batch. If thread_safe is 1, grpo may call score from
 *   several threads at once (with n = 1 each) on the same state.
 * - destroy(state): may be NULL.
 * - All strings passed in are UTF-8, NUL-terminated and valid only during
 *   the call. example_json is the dataset line as compact JSON ("null" if
 *   there is none). finish_reason is GRPO_FINISH_EOS/STOP/LENGTH.
 * A change that breaks any of this raises GRPO_REWARD_ABI_VERSION; grpo
 * refuses a plugin built for another version and says so.
 */
#ifndef GRPO_REWARD_PLUGIN_H
#define GRPO_REWARD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRPO_REWARD_ABI_VERSION 1
#define GRPO_REWARD_PLUGIN_SYMBOL "grpo_reward_plugin"

#if defined(__GNUC__)
#define GRPO_REWARD_EXPORT __attribute__((visibility("default")))
#else
#define GRPO_REWARD_EXPORT
#endif

enum { GRPO_FINISH_EOS = 0, GRPO_FINISH_STOP = 1, GRPO_FINISH_LENGTH = 2 };

typedef struct {
    const char *prompt;       /* the prompt as shown to the model ("" if unknown) */
    const char *completion;   /* the sampled completion */
    const char *example_json; /* the dataset line, compact JSON, or "null" */
    int n_tokens;             /* completion length in tokens, -1 if unknown */
    int finish_reason;        /* GRPO_FINISH_* */
} GrpoRewardInput;

typedef struct {
    double score;  /* valid when has_score; must be finite */
    int has_score; /* 0: "no score" */
} GrpoRewardOutput;

typedef struct {
    uint32_t abi_version; /* GRPO_REWARD_ABI_VERSION the plugin was built with */
    uint32_t struct_size; /* sizeof(GrpoRewardPlugin) */
    const char *name;     /* shown in logs, e.g. "short" */
    int thread_safe;      /* 1: score() may run concurrently (n = 1 per call) */
    int (*create)(const char *params_json, void **state, char *err, size_t err_cap);
    int (*score)(void *state, const GrpoRewardInput *in, size_t n, GrpoRewardOutput *out, char *err,
                 size_t err_cap);
    void (*destroy)(void *state);
} GrpoRewardPlugin;

#ifdef __cplusplus
}
#endif

#endif
