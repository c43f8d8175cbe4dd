/*
 * sandbox_test.h: helpers the sandbox tests share: making a `code` reward
 * from a JSON string and scoring completions with it through the public
 * reward interface (reward.h), exactly as the trainer does.
 * Not for: anything outside tests/sandbox/.
 */
#ifndef GRPO_SANDBOX_TEST_H
#define GRPO_SANDBOX_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "reward/reward.h"

/* Exit code ctest reads as "skipped" (SKIP_RETURN_CODE in tests/sandbox.cmake). */
#define TEST_SKIP 77

typedef struct {
    const RewardKind *kind;
    void *state;
} CodeRw;

/* Makes a `code` reward from its JSON params; exits the test on failure. */
static inline CodeRw code_rw_new(const char *params_json) {
    CodeRw r = {reward_kind_find("code"), NULL};
    if (!r.kind) {
        fprintf(stderr, "FAIL: the `code` reward is not registered\n");
        exit(1);
    }
    cJSON *p = cJSON_Parse(params_json);
    if (!p) {
        fprintf(stderr, "FAIL: bad test params JSON: %s\n", params_json);
        exit(1);
    }
    if (r.kind->create(p, "rewards[0]", &r.state)) {
        fprintf(stderr, "FAIL: creating the code reward: %s\n", err_msg());
        cJSON_Delete(p);
        exit(1);
    }
    cJSON_Delete(p);
    return r;
}

static inline void code_rw_free(CodeRw *r) {
    r->kind->destroy(r->state);
    r->state = NULL;
}

/* A completion holding one fenced block. Caller frees. */
static inline char *fenced(const char *lang, const char *code) {
    size_t n = strlen(code) + strlen(lang) + 64;
    char *s = xmalloc(n);
    snprintf(s, n, "Here is my solution.\n```%s\n%s\n```\n", lang, code);
    return s;
}

/* {"tests": [{"input": in[i], "output": out[i]}...]} */
static inline cJSON *example_cases(const char *const *in, const char *const *out, size_t n) {
    cJSON *ex = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(ex, "tests");
    for (size_t i = 0; i < n; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "input", in[i]);
        cJSON_AddStringToObject(c, "output", out[i]);
        cJSON_AddItemToArray(arr, c);
    }
    return ex;
}

/* {"tests": "<assert code>"} */
static inline cJSON *example_asserts(const char *code) {
    cJSON *ex = cJSON_CreateObject();
    cJSON_AddStringToObject(ex, "tests", code);
    return ex;
}

/* The verdict string of a result's diagnostics ("" if none). */
static inline const char *verdict_of(const RewardResult *r) {
    const cJSON *v = r->diag ? cJSON_GetObjectItemCaseSensitive(r->diag, "verdict") : NULL;
    return cJSON_IsString(v) ? v->valuestring : "";
}

static inline const char *detail_of(const RewardResult *r) {
    const cJSON *v = r->diag ? cJSON_GetObjectItemCaseSensitive(r->diag, "detail") : NULL;
    if (!v && r->diag) v = cJSON_GetObjectItemCaseSensitive(r->diag, "error");
    return cJSON_IsString(v) ? v->valuestring : "";
}

#endif
