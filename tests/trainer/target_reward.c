/*
 * target_reward.c: a reward plugin for the trainer's learning tests: the
 * share of the characters of a target text ("target" parameter) that the
 * completion has at the same position. Dense from chance (every position
 * scores on its own), so a randomly initialised model gets a signal at its
 * first step, and 1.0 only for the target itself.
 * Not for: real training (a real reward judges content).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reward/reward_plugin.h"

static int create(const char *params_json, void **state, char *err, size_t err_cap) {
    cJSON *p = cJSON_Parse(params_json);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "target");
    if (!cJSON_IsString(t) || !t->valuestring[0]) {
        snprintf(err, err_cap, "target: expected a non-empty string");
        cJSON_Delete(p);
        return 1;
    }
    *state = strdup(t->valuestring);
    cJSON_Delete(p);
    return 0;
}

static int score(void *state, const GrpoRewardInput *in, size_t n, GrpoRewardOutput *out, char *err,
                 size_t err_cap) {
    const char *target = state;
    const size_t len = strlen(target);
    for (size_t i = 0; i < n; i++) {
        const char *c = in[i].completion;
        size_t hits = 0;
        for (size_t k = 0; k < len && c[k]; k++) hits += c[k] == target[k];
        out[i].score = (double)hits / (double)len;
        out[i].has_score = 1;
    }
    (void)err, (void)err_cap;
    return 0;
}

GRPO_REWARD_EXPORT const GrpoRewardPlugin grpo_reward_plugin = {
    .abi_version = GRPO_REWARD_ABI_VERSION,
    .struct_size = sizeof(GrpoRewardPlugin),
    .name = "target",
    .thread_safe = 1,
    .create = create,
    .score = score,
    .destroy = free,
};
