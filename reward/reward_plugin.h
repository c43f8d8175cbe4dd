/*
 * reward_plugin.h: the ABI of reward plugins, shared libraries that add a
 * reward function to grpo without rebuilding it. Self-contained on purpose
 * (plain C, no grpo or cJSON types), so a plugin compiles against this one
 * header: installed as <prefix>/include/grpo/reward/reward_plugin.h, in the
 * source tree include/grpo/reward/reward_plugin.h forwards here; either way
 *
 *     cc -shared -fPIC -I<prefix>/include (or -I<source>/include) my_reward.c -o libmy_reward.so
 *
 * Not for: built-in rewards (reward.h).
 *
 * A plugin exports one object of type GrpoRewardPlugin under the symbol
 * named in the config ("symbol", default "grpo_reward_plugin"):
 *
 *     #include <grpo/reward/reward_plugin.h>
 *     static int score(void *st, GrpoRewardItem *it, size_t n, GrpoRewardOutput *out,
 *                      char *err, size_t err_cap) {
 *         for (size_t i = 0; i < n; i++) {
 *             out[i].score = strlen(it[i].input.completion) < 100;
 *             out[i].has_score = 1;
 *         }
 *         return 0;
 *     }
 *     GRPO_REWARD_EXPORT const GrpoRewardPlugin grpo_reward_plugin = {
 *         GRPO_REWARD_PLUGIN_SIZES, .name = "short", .thread_safe = 1, .score_items = score};
 *
 * and the job config names it:
 *
 *     {"name": "plugin", "library": "./libshort.so", "weight": 0.5, ...params}
 *
 * Contract (ABI version 1):
 * - create(params_json, &state, err, err_cap): params_json is the config
 *   object without "name", "weight", "label", "library", "symbol" and
 *   "token_ids", as compact JSON text. Return 0 and set *state (may stay
 *   NULL), or non-zero after writing a message (NUL-terminated, at most
 *   err_cap bytes) to err. May be NULL (no parameters accepted, state NULL).
 * - score_items(state, items, n, out, err, err_cap): fill out[0..n)
 *   (zeroed by the caller). has_score = 0 means "no score" for that
 *   completion. Return non-zero with a message in err only if the function
 *   itself failed; that stops the batch. items[i].diagnostics is a buffer
 *   of diagnostics_cap bytes holding "": write JSON text (an object, say)
 *   into it to keep diagnostics with the completion's scores.
 *   If thread_safe is 1, grpo may call it from several threads at once
 *   (with n = 1 each) on the same state; otherwise it gets the whole batch
 *   (a group-relative reward needs thread_safe = 0: it then sees every
 *   completion of a group in one call).
 * - score(state, in, n, out, err, err_cap): the same with only the first
 *   fields of each item; plugins built before score_items existed set it,
 *   and grpo still calls them so. Set exactly one of score and score_items.
 * - destroy(state): may be NULL.
 * - All strings passed in are UTF-8, NUL-terminated and valid only during
 *   the call. example_json is the dataset line as compact JSON ("null" if
 *   there is none). finish_reason is GRPO_FINISH_EOS/STOP/LENGTH.
 * Compatibility: fields are only ever added at the ends of the structs;
 * struct_size and item_size tell grpo which ones a plugin was built with.
 * A change that breaks this raises GRPO_REWARD_ABI_VERSION; grpo refuses a
 * plugin built for another version, or for a newer grpo, and says so.
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

/* One completion as score_items sees it: the input and where it came from. */
typedef struct {
    GrpoRewardInput input;
    int64_t group;            /* group id, -1 if unknown; the items of one call with the same id are the
                                 samples of one prompt */
    int64_t step;             /* training step, from 1; 0 outside training (grpo reward) */
    int32_t index;            /* index within the group, -1 if unknown */
    int32_t n_token_ids;      /* -1 unless the config entry sets "token_ids": true and the ids are known */
    const int32_t *token_ids; /* the completion's token ids, or NULL */
    char *diagnostics;        /* a buffer holding "": write JSON text here to keep diagnostics */
    size_t diagnostics_cap;   /* its size in bytes (the text and its NUL) */
} GrpoRewardItem;

typedef struct {
    uint32_t abi_version; /* GRPO_REWARD_ABI_VERSION the plugin was built with */
    uint32_t struct_size; /* sizeof(GrpoRewardPlugin) */
    const char *name;     /* shown in logs (the function's label when the config gives none), e.g. "short" */
    int thread_safe;      /* 1: scoring may run concurrently (n = 1 per call) */
    int (*create)(const char *params_json, void **state, char *err, size_t err_cap);
    int (*score)(void *state, const GrpoRewardInput *in, size_t n, GrpoRewardOutput *out, char *err,
                 size_t err_cap);
    void (*destroy)(void *state);
    /* added later: a plugin has these when its struct_size covers them */
    int (*score_items)(void *state, GrpoRewardItem *items, size_t n, GrpoRewardOutput *out, char *err,
                       size_t err_cap);
    uint32_t item_size; /* sizeof(GrpoRewardItem) */
} GrpoRewardPlugin;

/* The first fields of every plugin object, in a designated initializer:
 * {GRPO_REWARD_PLUGIN_SIZES, .name = "x", .score_items = f, ...}. */
#define GRPO_REWARD_PLUGIN_SIZES                                                                          \
    .abi_version = GRPO_REWARD_ABI_VERSION, .struct_size = sizeof(GrpoRewardPlugin),                     \
    .item_size = sizeof(GrpoRewardItem)

#ifdef __cplusplus
}
#endif

#endif
