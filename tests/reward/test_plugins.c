/*
 * test_plugins.c: a plugin module for the tests, exporting several
 * GrpoRewardPlugin objects that misbehave on purpose (wrong ABI version,
 * failing score, NaN score, rejected parameters, bad diagnostics, a wrong
 * item_size) plus well-behaved ones. Most are built as plugins of the
 * first ABI were (PluginV1: no score_items, a smaller struct_size), which
 * grpo must keep loading; group_plugin uses score_items.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "reward/reward_plugin.h"

static int len_score(void *st, const GrpoRewardInput *in, size_t n, GrpoRewardOutput *out, char *err, size_t cap) {
    (void)st;
    (void)err;
    (void)cap;
    for (size_t i = 0; i < n; i++) {
        out[i].score = (double)strlen(in[i].completion);
        out[i].has_score = in[i].n_tokens != 7; /* n_tokens 7 means "no score" */
    }
    return 0;
}

static int fail_score(void *st, const GrpoRewardInput *in, size_t n, GrpoRewardOutput *out, char *err, size_t cap) {
    (void)st;
    (void)in;
    (void)n;
    (void)out;
    snprintf(err, cap, "the grader database is unreachable");
    return 1;
}

static int nan_score(void *st, const GrpoRewardInput *in, size_t n, GrpoRewardOutput *out, char *err, size_t cap) {
    (void)st;
    (void)in;
    (void)err;
    (void)cap;
    for (size_t i = 0; i < n; i++) {
        out[i].score = NAN;
        out[i].has_score = 1;
    }
    return 0;
}

static int picky_create(const char *params, void **state, char *err, size_t cap) {
    *state = NULL;
    if (strcmp(params, "{}")) {
        snprintf(err, cap, "no parameters please, got %s", params);
        return 1;
    }
    return 0;
}

/* GrpoRewardPlugin as the first ABI declared it (before score_items). */
typedef struct {
    uint32_t abi_version, struct_size;
    const char *name;
    int thread_safe;
    int (*create)(const char *params_json, void **state, char *err, size_t err_cap);
    int (*score)(void *state, const GrpoRewardInput *in, size_t n, GrpoRewardOutput *out, char *err, size_t cap);
    void (*destroy)(void *state);
} PluginV1;

#define V1(name, create, score) {GRPO_REWARD_ABI_VERSION, sizeof(PluginV1), name, 0, create, score, NULL}

GRPO_REWARD_EXPORT const PluginV1 grpo_reward_plugin = {999, sizeof(PluginV1), "future", 1, NULL, len_score, NULL};
GRPO_REWARD_EXPORT const PluginV1 length_plugin = V1("length", NULL, len_score);
GRPO_REWARD_EXPORT const PluginV1 failing_plugin = V1("failing", NULL, fail_score);
GRPO_REWARD_EXPORT const PluginV1 nan_plugin = V1("nan", NULL, nan_score);
GRPO_REWARD_EXPORT const PluginV1 picky_plugin = V1("picky", picky_create, len_score);

/* score = 100 * group + index; diagnostics: the step and the token ids' sum */
static int group_score(void *st, GrpoRewardItem *it, size_t n, GrpoRewardOutput *out, char *err, size_t cap) {
    (void)st;
    (void)err;
    (void)cap;
    for (size_t i = 0; i < n; i++) {
        long sum = 0;
        for (int32_t k = 0; k < it[i].n_token_ids; k++) sum += it[i].token_ids[k];
        out[i].score = it[i].group < 0 ? -1.0 : (double)(100 * it[i].group + it[i].index);
        out[i].has_score = 1;
        snprintf(it[i].diagnostics, it[i].diagnostics_cap, "{\"step\": %lld, \"n_ids\": %d, \"ids_sum\": %ld, \"n\": %zu}",
                 (long long)it[i].step, (int)it[i].n_token_ids, sum, n);
    }
    return 0;
}

static int bad_diag_score(void *st, GrpoRewardItem *it, size_t n, GrpoRewardOutput *out, char *err, size_t cap) {
    (void)st;
    (void)err;
    (void)cap;
    for (size_t i = 0; i < n; i++) {
        out[i].score = 1;
        out[i].has_score = 1;
        snprintf(it[i].diagnostics, it[i].diagnostics_cap, "verdict: fine");
    }
    return 0;
}

GRPO_REWARD_EXPORT const GrpoRewardPlugin group_plugin = {GRPO_REWARD_PLUGIN_SIZES, .name = "grouper",
                                                          .score_items = group_score};
GRPO_REWARD_EXPORT const GrpoRewardPlugin bad_diag_plugin = {GRPO_REWARD_PLUGIN_SIZES, .name = "bad_diag",
                                                             .thread_safe = 1, .score_items = bad_diag_score};
GRPO_REWARD_EXPORT const GrpoRewardPlugin no_item_size_plugin = {.abi_version = GRPO_REWARD_ABI_VERSION,
                                                                 .struct_size = sizeof(GrpoRewardPlugin),
                                                                 .name = "sizeless", .score_items = group_score};

/* Scores the completion's length, and crashes (SIGSEGV) on "boom" while
 * GRPO_TEST_CRASH is set: a plugin crash for grpo reward's tests. */
static int crash_score(void *st, GrpoRewardItem *it, size_t n, GrpoRewardOutput *out, char *err, size_t cap) {
    (void)st;
    (void)err;
    (void)cap;
    for (size_t i = 0; i < n; i++) {
        if (getenv("GRPO_TEST_CRASH") && !strcmp(it[i].input.completion, "boom")) raise(SIGSEGV);
        out[i].score = (double)strlen(it[i].input.completion);
        out[i].has_score = 1;
    }
    return 0;
}

GRPO_REWARD_EXPORT const GrpoRewardPlugin crash_plugin = {GRPO_REWARD_PLUGIN_SIZES, .name = "crasher",
                                                          .score_items = crash_score};
