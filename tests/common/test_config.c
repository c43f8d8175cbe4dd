/*
 * test_config.c: the config binder (common/config.h) on a small schema of
 * its own: defaults, --set, users, and every error the binder promises,
 * each checked for the key path and the hint it must name.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/config.h"
#include "test.h"

typedef struct {
    long steps;
    double lr, clip_high;
    int flag;
    char *name, *opt_name, *sched;
    cJSON *extra;
} Job;

enum { A = 1, B = 2 };

static const CfgField fields[] = {
    {"train.steps", CF_INT, CFG_OFFSET(Job, steps, long), "10", NULL, 0, 0, 1, 1000, NULL, "steps"},
    {"optim.lr", CF_DOUBLE, CFG_OFFSET(Job, lr, double), "0.5", "0.25", B, 0, 0, 0.999999999, NULL, "lr"},
    {"optim.clip_high", CF_DOUBLE, CFG_OFFSET(Job, clip_high, double), "null", NULL, 0, A, 0, 10, NULL, "clip"},
    {"train.flag", CF_BOOL, CFG_OFFSET(Job, flag, int), "false", NULL, 0, B, 0, 0, NULL, "flag"},
    {"data.name", CF_STRING, CFG_OFFSET(Job, name, char *), "\"x\"", NULL, 0, 0, 0, 0, NULL, "name"},
    {"data.opt_name", CF_STRING, CFG_OFFSET(Job, opt_name, char *), "null", NULL, 0, 0, 0, 0, NULL, "optional"},
    {"optim.sched", CF_ENUM, CFG_OFFSET(Job, sched, char *), "\"cosine\"", NULL, 0, 0, 0, 0, "constant|linear|cosine",
     "schedule"},
    {"extra", CF_JSON, CFG_OFFSET(Job, extra, cJSON *), "[]", NULL, 0, B, 0, 0, NULL, "extra"},
};
static const char *const users[] = {"tool a", "tool b"};
static const CfgSchema schema = {fields, sizeof(fields) / sizeof(fields[0]), users, 2, NULL};

/* Loads text for user with sets; returns the status and leaves the message. */
static int load(Job *j, unsigned user, const char *text, const char *set) {
    memset(j, 0, sizeof(*j));
    const char *sets[1] = {set};
    int rc = config_load(j, &schema, user, NULL, text, set ? sets : NULL, set ? 1 : 0);
    config_free(j, &schema);
    return rc;
}

static void expect_error(unsigned user, const char *text, const char *set, const char *want1, const char *want2) {
    Job j;
    int rc = load(&j, user, text, set);
    TEST_CHECK(rc == -1 && strstr(err_msg(), want1) && (!want2 || strstr(err_msg(), want2)),
               "%s / %s: want '%s' and '%s', got '%s'", text, set ? set : "-", want1, want2 ? want2 : "", err_msg());
}

int main(void) {
    Job j;
    /* defaults, per-user defaults, nullable double */
    memset(&j, 0, sizeof(j));
    TEST_CHECK(config_load(&j, &schema, A, NULL, "{}", NULL, 0) == 0, "defaults: %s", err_msg());
    TEST_CHECK(j.steps == 10 && j.lr == 0.5 && isnan(j.clip_high) && !strcmp(j.name, "x") && !j.opt_name &&
                   !strcmp(j.sched, "cosine"),
               "default values");
    config_free(&j, &schema);
    memset(&j, 0, sizeof(j));
    TEST_CHECK(config_load(&j, &schema, B, NULL, "{\"train\": {\"flag\": true}}", NULL, 0) == 0, "b: %s", err_msg());
    TEST_CHECK(j.lr == 0.25 && j.flag == 1 && cJSON_IsArray(j.extra), "user b's default lr and its keys");
    cJSON *eff = config_to_json(&j, &schema, B);
    TEST_CHECK(cJSON_GetObjectItem(eff, "extra") && !cJSON_GetObjectItem(cJSON_GetObjectItem(eff, "optim"), "clip_high"),
               "the effective config holds the user's keys only");
    cJSON_Delete(eff);
    config_free(&j, &schema);

    /* --set: JSON values, strings, the last one wins, long values whole */
    char longname[2000];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    char *set = malloc(sizeof(longname) + 32);
    snprintf(set, sizeof(longname) + 32, "data.name=%s", longname);
    const char *sets[3] = {"train.steps=7", set, "optim.clip_high=2.5"};
    memset(&j, 0, sizeof(j));
    TEST_CHECK(config_load(&j, &schema, A, NULL, "{\"train\": {\"steps\": 3}}", sets, 3) == 0, "sets: %s", err_msg());
    TEST_CHECK(j.steps == 7 && j.clip_high == 2.5 && j.name && strlen(j.name) == strlen(longname),
               "--set values (name kept whole: %zu bytes)", j.name ? strlen(j.name) : 0);
    config_free(&j, &schema);
    free(set);

    /* every promised error names the key and what to do */
    expect_error(A, "{\"train\": {\"stpes\": 3}}", NULL, "train.stpes: unknown key", "did you mean 'steps'");
    expect_error(A, "{\"trian\": {}}", NULL, "trian: unknown key", "did you mean 'train'");
    expect_error(A, "{\"train.steps\": 0}", NULL, "\"train.steps\": a key with a dot", NULL);
    expect_error(A, "{\"train\": {\"steps\": 3, \"steps\": 4}}", NULL, "train.steps: the key is given twice", NULL);
    expect_error(A, "{\"train\": {\"flag\": true}}", NULL, "tool a does not use this key", "read by tool b");
    expect_error(A, "{\"extra\": []}", NULL, "extra: tool a does not use", NULL);
    expect_error(B, "{\"optim\": {\"clip_high\": 1}}", NULL, "optim.clip_high: tool b does not use", "tool a");
    expect_error(A, "{}", "train.flag=true", "--set train.flag: tool a does not use this key", NULL);
    expect_error(A, "{}", "train.stesp=1", "--set train.stesp: unknown key", "did you mean 'train.steps'");
    expect_error(A, "{\"train\": {\"steps\": 0}}", NULL, "0 is out of range [1, 1000]", NULL);
    expect_error(A, "{\"train\": {\"steps\": 2.5}}", NULL, "train.steps: expected an integer", NULL);
    expect_error(A, "{}", "optim.lr=1", "1 is out of range [0, 0.999999999]", NULL);
    expect_error(A, "{}", "data.name=null", "data.name: expected a string", NULL);
    expect_error(B, "{}", "extra=null", "extra: null is not accepted", NULL);
    expect_error(A, "{\"optim\": {\"sched\": \"cosin\"}}", NULL, "'cosin' is not valid", "did you mean 'cosine'");
    expect_error(A, "{\"train\": 3}", NULL, "train: expected an object", NULL);
    expect_error(A, "[1]", NULL, "must be a JSON object", NULL);
    expect_error(A, "{} x", NULL, "unexpected text after the JSON value", NULL);
    /* --set reaches inside a JSON-valued key; its owner validates what is there */
    {
        const char *in[2] = {"extra.k=3", "extra.sub.s=text"};
        memset(&j, 0, sizeof(j));
        int rc = config_load(&j, &schema, B, NULL, "{\"extra\": {\"a\": 1}}", in, 2);
        cJSON *k = rc == 0 ? cJSON_GetObjectItem(j.extra, "k") : NULL;
        cJSON *sub = rc == 0 ? cJSON_GetObjectItem(j.extra, "sub") : NULL;
        TEST_CHECK(rc == 0 && cJSON_GetObjectItem(j.extra, "a") && k && k->valuedouble == 3 &&
                       cJSON_IsString(cJSON_GetObjectItem(sub, "s")),
                   "--set inside a JSON value: %s", rc ? err_msg() : "wrong value");
        config_free(&j, &schema);
    }
    expect_error(A, "{}", "extra.k=3", "--set extra.k: tool a does not use this key", NULL);
    expect_error(B, "{}", "extras.k=3", "--set extras.k: unknown key", NULL);

    /* an error names the --set it came from */
    expect_error(A, "{}", "train.steps=0", "--set train.steps=0: train.steps", NULL);

    /* a user that accepts another's keys reads them without binding them */
    static const unsigned also[] = {0, A};
    const CfgSchema lenient = {fields, sizeof(fields) / sizeof(fields[0]), users, 2, also};
    memset(&j, 0, sizeof(j));
    TEST_CHECK(config_load(&j, &lenient, B, NULL, "{\"optim\": {\"clip_high\": 3}}", NULL, 0) == 0 &&
                   isnan(j.clip_high) == 0 && j.clip_high == 0,
               "tool b accepts tool a's key without binding it: %s", err_msg());
    config_free(&j, &lenient);
    memset(&j, 0, sizeof(j));
    TEST_CHECK(config_load(&j, &lenient, B, NULL, "{\"optim\": {\"clip_hi\": 3}}", NULL, 0) == -1 &&
                   strstr(err_msg(), "did you mean 'clip_high'"),
               "typos are still caught: %s", err_msg());
    config_free(&j, &lenient);

    /* null accepted where the default is null */
    memset(&j, 0, sizeof(j));
    TEST_CHECK(config_load(&j, &schema, A, NULL, "{\"data\": {\"opt_name\": null}, \"optim\": {\"clip_high\": null}}",
                           NULL, 0) == 0 && !j.opt_name && isnan(j.clip_high),
               "nullable keys take null: %s", err_msg());
    config_free(&j, &schema);

    TEST_CHECK(!strcmp(config_format_number(0.999999999).s, "0.999999999") &&
                   !strcmp(config_format_number(1e15).s, "1000000000000000") &&
                   !strcmp(config_format_number(0.2).s, "0.2"),
               "numbers print as they are");
    return test_summary();
}
