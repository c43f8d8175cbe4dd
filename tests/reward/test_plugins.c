/*
 * test_plugins.c: a plugin module for the tests, exporting several
 * GrpoRewardPlugin objects that misbehave on purpose (wrong ABI version,
 * failing score, NaN score, rejected parameters) plus a thread-unsafe one
 * that counts its calls.
 */
#include <math.h>
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

GRPO_REWARD_EXPORT const GrpoRewardPlugin grpo_reward_plugin = {999, sizeof(GrpoRewardPlugin), "future", 1,
                                                                 NULL, len_score, NULL};
GRPO_REWARD_EXPORT const GrpoRewardPlugin length_plugin = {GRPO_REWARD_ABI_VERSION, sizeof(GrpoRewardPlugin),
                                                            "length", 0, NULL, len_score, NULL};
GRPO_REWARD_EXPORT const GrpoRewardPlugin failing_plugin = {GRPO_REWARD_ABI_VERSION, sizeof(GrpoRewardPlugin),
                                                             "failing", 0, NULL, fail_score, NULL};
GRPO_REWARD_EXPORT const GrpoRewardPlugin nan_plugin = {GRPO_REWARD_ABI_VERSION, sizeof(GrpoRewardPlugin), "nan",
                                                         0, NULL, nan_score, NULL};
GRPO_REWARD_EXPORT const GrpoRewardPlugin picky_plugin = {GRPO_REWARD_ABI_VERSION, sizeof(GrpoRewardPlugin),
                                                           "picky", 0, picky_create, len_score, NULL};
