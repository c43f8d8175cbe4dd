/*
 * reward_test_util.h: helpers for the reward tests: build a RewardSet from
 * JSON text, make inputs, score one completion.
 */
#ifndef GRPO_REWARD_TEST_UTIL_H
#define GRPO_REWARD_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "reward/reward.h"

/* A set from the JSON text of a "rewards" array; NULL (with err_msg()) on error. */
static inline RewardSet *set_from(const char *json) {
    cJSON *a = cJSON_Parse(json);
    if (!a) {
        fprintf(stderr, "bad test JSON: %s\n", json);
        exit(2);
    }
    RewardSet *s = reward_set_new(a, "rewards");
    cJSON_Delete(a);
    return s;
}

/* The error text of building a set from json ("" if it built). */
static inline const char *set_error(const char *json) {
    RewardSet *s = set_from(json);
    if (s) {
        reward_set_free(s);
        return "";
    }
    return err_msg();
}

typedef struct {
    double score;
    int has_score;
    int rc;
} One;

/* Scores one completion with a one-function set given as JSON. The example
 * is JSON text or NULL. */
static inline One score_one(const char *set_json, const char *prompt, const char *completion,
                            const char *example_json, int n_tokens, FinishReason finish) {
    One r = {0, 0, -1};
    RewardSet *s = set_from(set_json);
    if (!s) {
        fprintf(stderr, "set %s failed: %s\n", set_json, err_msg());
        return r;
    }
    cJSON *ex = example_json ? cJSON_Parse(example_json) : NULL;
    RewardInput in = {.prompt = prompt, .completion = completion, .example = ex, .n_tokens = n_tokens, .finish = finish};
    RewardBatch b;
    r.rc = reward_set_score(s, &in, 1, &b);
    if (r.rc == 0) {
        r.score = b.per[0].score;
        r.has_score = b.per[0].has_score;
    }
    reward_batch_free(&b);
    cJSON_Delete(ex);
    reward_set_free(s);
    return r;
}

#endif
