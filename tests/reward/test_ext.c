/*
 * test_ext.c: users' own rewards: the C plugin (the example in
 * examples/reward_plugin/ and misbehaving test plugins) and the external
 * process (the example in examples/external_reward/ and programs that die,
 * hang, or answer garbage).
 */
#include <unistd.h>

#include "reward_test_util.h"
#include "test.h"

#define CONTAINS(hay, needle) (strstr((hay), (needle)) != NULL)

static void test_example_plugin(void) {
    char cfg[1024];
    snprintf(cfg, sizeof(cfg),
             "[{\"name\":\"plugin\",\"library\":\"%s\",\"keywords\":[\"therefore\",\"Answer\"],\"weight\":2}]",
             GRPO_EXAMPLE_PLUGIN);
    RewardSet *s = set_from(cfg);
    TEST_CHECK(s != NULL, "example plugin: %s", err_msg());
    if (!s) return;
    cJSON *ex = cJSON_Parse("{\"keywords\":[\"cat\"]}");
    RewardInput in[4] = {
        {.prompt = "", .completion = "Therefore the ANSWER is cat", .example = ex, .n_tokens = 5, .finish = FINISH_EOS},   /* 3 of 3 */
        {.prompt = "", .completion = "therefore nothing", .example = ex, .n_tokens = 5, .finish = FINISH_EOS},             /* 1 of 3 */
        {.prompt = "", .completion = "therefore answer", .example = NULL, .n_tokens = 5, .finish = FINISH_EOS},            /* 2 of 2 (no example keywords) */
        {.prompt = "", .completion = "nothing", .example = NULL, .n_tokens = 5, .finish = FINISH_EOS},                     /* 0 of 2 */
    };
    RewardBatch b;
    TEST_CHECK(reward_set_score(s, in, 4, &b) == 0, "score: %s", err_msg());
    TEST_CLOSE(b.per[0].score, 1.0, 1e-12, "all keywords");
    TEST_CLOSE(b.per[1].score, 1.0 / 3.0, 1e-12, "one of three");
    TEST_CLOSE(b.per[2].score, 1.0, 1e-12, "config keywords only");
    TEST_CLOSE(b.per[3].score, 0.0, 1e-12, "none");
    TEST_CLOSE(b.total[1], 2.0 / 3.0, 1e-12, "weighted");
    reward_batch_free(&b);
    reward_set_free(s);
    cJSON_Delete(ex);

    /* no keywords anywhere: no score */
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\"}]", GRPO_EXAMPLE_PLUGIN);
    One o = score_one(cfg, "", "text", NULL, 1, FINISH_EOS);
    TEST_CHECK(o.rc == 0 && !o.has_score, "no keywords: no score");
    /* the plugin's own parameter check reaches the user */
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\",\"keyword\":[\"x\"]}]", GRPO_EXAMPLE_PLUGIN);
    const char *e = set_error(cfg);
    TEST_CHECK(CONTAINS(e, "rewards[0]") && CONTAINS(e, "keyword: unknown parameter"), "plugin param error: %s", e);
}

static void test_bad_plugins(void) {
    char cfg[1024];
    const char *e;
    e = set_error("[{\"name\":\"plugin\",\"library\":\"/nonexistent/libnope.so\"}]");
    TEST_CHECK(CONTAINS(e, "rewards[0].library") && CONTAINS(e, "cannot load"), "missing library: %s", e);
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\"}]", GRPO_TEST_PLUGIN);
    e = set_error(cfg);
    TEST_CHECK(CONTAINS(e, "ABI version 999") && CONTAINS(e, "rebuild"), "ABI mismatch: %s", e);
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"no_such\"}]", GRPO_TEST_PLUGIN);
    e = set_error(cfg);
    TEST_CHECK(CONTAINS(e, "rewards[0].symbol") && CONTAINS(e, "no_such"), "missing symbol: %s", e);
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"length_plugin\",\"x\":1}]",
             GRPO_TEST_PLUGIN);
    e = set_error(cfg);
    TEST_CHECK(CONTAINS(e, "takes no parameters"), "params without create: %s", e);
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"picky_plugin\",\"x\":1}]",
             GRPO_TEST_PLUGIN);
    e = set_error(cfg);
    TEST_CHECK(CONTAINS(e, "rejected its parameters") && CONTAINS(e, "no parameters please"), "create error: %s", e);

    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"length_plugin\"}]",
             GRPO_TEST_PLUGIN);
    One o = score_one(cfg, "", "12345", NULL, 3, FINISH_EOS);
    TEST_CHECK(o.rc == 0 && o.has_score && o.score == 5.0, "length plugin: rc %d score %g", o.rc, o.score);
    o = score_one(cfg, "", "12345", NULL, 7, FINISH_EOS);
    TEST_CHECK(o.rc == 0 && !o.has_score, "plugin no score");
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"failing_plugin\"}]",
             GRPO_TEST_PLUGIN);
    o = score_one(cfg, "", "x", NULL, 3, FINISH_EOS);
    TEST_CHECK(o.rc != 0 && CONTAINS(err_msg(), "unreachable") && CONTAINS(err_msg(), "rewards[0] (failing)"),
               "failing plugin: %s", err_msg());
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"nan_plugin\"}]",
             GRPO_TEST_PLUGIN);
    o = score_one(cfg, "", "x", NULL, 3, FINISH_EOS);
    TEST_CHECK(o.rc != 0 && CONTAINS(err_msg(), "non-finite"), "NaN plugin: %s", err_msg());
}

static void test_example_external(void) {
    char cfg[1024];
    snprintf(cfg, sizeof(cfg),
             "[{\"name\":\"external\",\"command\":[\"python3\",\"%s/examples/external_reward/exact_match.py\"],"
             "\"timeout_seconds\":30}]",
             GRPO_SOURCE_DIR);
    RewardSet *s = set_from(cfg);
    TEST_CHECK(s != NULL, "example external: %s", err_msg());
    if (!s) return;
    cJSON *ex = cJSON_Parse("{\"answer\":\"Paris\"}");
    RewardInput in[4] = {
        {.prompt = "Capital?", .completion = "<think>hmm</think><answer> paris </answer>", .example = ex, .n_tokens = 5, .finish = FINISH_EOS},
        {.prompt = "Capital?", .completion = "<answer>Rome</answer>", .example = ex, .n_tokens = 5, .finish = FINISH_LENGTH},
        {.prompt = "Capital?", .completion = "no tag", .example = ex, .n_tokens = -1, .finish = FINISH_STOP},
        {.prompt = "Capital?", .completion = "<answer>Paris</answer> \xff\xfe broken UTF-8", .example = NULL, .n_tokens = 5, .finish = FINISH_EOS},
    };
    RewardBatch b;
    for (int round = 0; round < 3; round++) { /* one process serves many batches */
        TEST_CHECK(reward_set_score(s, in, 4, &b) == 0, "round %d: %s", round, err_msg());
        TEST_CHECK(b.per[0].has_score && b.per[0].score == 1.0, "match, case-insensitive");
        TEST_CHECK(b.per[1].has_score && b.per[1].score == 0.0, "wrong");
        TEST_CHECK(b.per[2].has_score && b.per[2].score == 0.0, "no tag");
        TEST_CHECK(!b.per[3].has_score, "no answer in the example: null");
        reward_batch_free(&b);
    }
    reward_set_free(s);
    cJSON_Delete(ex);
    /* params reach the script, which rejects unknown ones through {"error": ...} */
    snprintf(cfg, sizeof(cfg),
             "[{\"name\":\"external\",\"command\":[\"python3\",\"%s/examples/external_reward/exact_match.py\"],"
             "\"case_sensitiv\":true}]",
             GRPO_SOURCE_DIR);
    One o = score_one(cfg, "", "<answer>x</answer>", "{\"answer\":\"x\"}", 1, FINISH_EOS);
    TEST_CHECK(o.rc != 0 && CONTAINS(err_msg(), "reported an error") && CONTAINS(err_msg(), "case_sensitiv"),
               "script error: %s", err_msg());
    snprintf(cfg, sizeof(cfg),
             "[{\"name\":\"external\",\"command\":[\"python3\",\"%s/examples/external_reward/exact_match.py\"],"
             "\"case_sensitive\":true}]",
             GRPO_SOURCE_DIR);
    o = score_one(cfg, "", "<answer>paris</answer>", "{\"answer\":\"Paris\"}", 1, FINISH_EOS);
    TEST_CHECK(o.rc == 0 && o.has_score && o.score == 0.0, "case-sensitive param honoured");
}

/* A set of one external reward running argv (built with cJSON, so scripts
 * need no JSON escaping). */
static RewardSet *external_set(const char *a0, const char *a1, const char *a2, double timeout) {
    cJSON *arr = cJSON_CreateArray(), *o = cJSON_CreateObject(), *cmd = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "name", "external");
    cJSON_AddItemToArray(cmd, cJSON_CreateString(a0));
    if (a1) cJSON_AddItemToArray(cmd, cJSON_CreateString(a1));
    if (a2) cJSON_AddItemToArray(cmd, cJSON_CreateString(a2));
    cJSON_AddItemToObject(o, "command", cmd);
    cJSON_AddNumberToObject(o, "timeout_seconds", timeout);
    cJSON_AddItemToArray(arr, o);
    RewardSet *s = reward_set_new(arr, "rewards");
    cJSON_Delete(arr);
    return s;
}

/* One external reward running `sh -c script`; returns the error text of the
 * first batch ("" if it succeeded). */
static const char *run_sh(const char *script, double timeout, double *seconds) {
    static char msg[2048];
    RewardSet *s = external_set("sh", "-c", script, timeout);
    if (!s) {
        snprintf(msg, sizeof(msg), "%s", err_msg());
        return msg;
    }
    RewardInput in = {.prompt = "", .completion = "x", .example = NULL, .n_tokens = 1, .finish = FINISH_EOS};
    RewardBatch b;
    double t0 = now_seconds();
    int rc = reward_set_score(s, &in, 1, &b);
    if (seconds) *seconds = now_seconds() - t0;
    snprintf(msg, sizeof(msg), "%s", rc ? err_msg() : "");
    reward_batch_free(&b);
    reward_set_free(s);
    return msg;
}

static void test_bad_external(void) {
    const char *e;
    double secs = 0;
    e = run_sh("read line; echo '{\"scores\": [0.25]}'", 10, NULL);
    TEST_CHECK(e[0] == '\0', "a shell one-liner works: %s", e);
    e = run_sh("exit 3", 10, NULL);
    TEST_CHECK(CONTAINS(e, "exited with status 3") && CONTAINS(e, "sh -c") && CONTAINS(e, "also after a restart"),
               "dying process: %s", e);
    e = run_sh("read line; kill -9 $$", 10, NULL);
    TEST_CHECK(CONTAINS(e, "killed by signal 9") && CONTAINS(e, "also after a restart"), "killed process: %s", e);
    /* a stray print before the answer */
    e = run_sh("read line; echo hello; echo '{\"scores\": [1]}'", 10, NULL);
    TEST_CHECK(CONTAINS(e, "reward processes must write only their answers to stdout; send logs to stderr") &&
                   CONTAINS(e, "\"hello\""),
               "stray print: %s", e);
    e = run_sh("read line; echo '{\"scores\": [1'", 10, NULL);
    TEST_CHECK(CONTAINS(e, "invalid JSON") && CONTAINS(e, "[1"), "malformed output: %s", e);
    /* Python's json.dumps(float('nan')) */
    e = run_sh("read line; echo '{\"scores\": [NaN]}'", 10, NULL);
    TEST_CHECK(CONTAINS(e, "NaN and Infinity are not JSON: return null for no score"), "NaN: %s", e);
    e = run_sh("read line; echo '{\"scores\": [-Infinity]}'", 10, NULL);
    TEST_CHECK(CONTAINS(e, "NaN and Infinity are not JSON: return null for no score"), "Infinity: %s", e);
    e = run_sh("read line; echo '{\"scores\": [1], \"note\": \"NaN\"'", 10, NULL);
    TEST_CHECK(!CONTAINS(e, "NaN and Infinity") && CONTAINS(e, "invalid JSON"), "NaN in a string: %s", e);
    e = run_sh("read line; echo '{\"scores\": [1, 2]}'", 10, NULL);
    TEST_CHECK(CONTAINS(e, "1 entries"), "wrong count: %s", e);
    e = run_sh("read line; echo '{\"scores\": [\"high\"]}'", 10, NULL);
    TEST_CHECK(CONTAINS(e, "scores[0]"), "non-number score: %s", e);
    e = run_sh("read line; echo '[]'", 10, NULL);
    TEST_CHECK(CONTAINS(e, "no \"scores\" array"), "no scores: %s", e);
    e = run_sh("read line; sleep 30", 0.3, &secs);
    TEST_CHECK(CONTAINS(e, "did not answer") && CONTAINS(e, "timeout_seconds=0.3") && CONTAINS(e, "wrote nothing") &&
                   CONTAINS(e, "flush stdout"),
               "timeout: %s", e);
    TEST_CHECK(secs < 5, "the timeout is honoured (%.2f s)", secs);
    e = run_sh("sleep 30", 0.3, &secs); /* never reads stdin either */
    TEST_CHECK(CONTAINS(e, "did not answer"), "timeout without reading: %s", e);
    e = run_sh("read line; printf '{\"scores\": [1]}'; sleep 30", 0.3, &secs); /* no newline */
    TEST_CHECK(CONTAINS(e, "without ending the line") && CONTAINS(e, "newline"), "unterminated answer: %s", e);
    e = set_error("[{\"name\":\"external\",\"command\":[\"/nonexistent/prog\"]}]");
    TEST_CHECK(CONTAINS(e, "rewards[0].command") && CONTAINS(e, "cannot run") && CONTAINS(e, "No such file"),
               "missing program: %s", e);
    e = set_error("[{\"name\":\"external\",\"command\":[\"no-such-program-xyz\"]}]");
    TEST_CHECK(CONTAINS(e, "not found on PATH"), "not on PATH: %s", e);

    /* a stray line printed after the answer is caught at the next batch */
    RewardSet *s = external_set("sh", "-c", "while read l; do echo '{\"scores\": [1]}'; echo debug; done", 10);
    TEST_CHECK(s != NULL, "stray set: %s", err_msg());
    if (s) {
        RewardInput in = {.prompt = "", .completion = "x", .example = NULL, .n_tokens = 1, .finish = FINISH_EOS};
        RewardBatch b;
        int rc = reward_set_score(s, &in, 1, &b);
        reward_batch_free(&b);
        usleep(200000);
        int rc2 = reward_set_score(s, &in, 1, &b);
        reward_batch_free(&b);
        TEST_CHECK(rc == 0 && rc2 != 0 && CONTAINS(err_msg(), "send logs to stderr") && CONTAINS(err_msg(), "debug"),
                   "stray output: rc %d rc2 %d %s", rc, rc2, err_msg());
        reward_set_free(s);
    }
    /* a big batch goes through the socket without deadlock */
    s = external_set("python3", "-c",
                     "import sys, json\n"
                     "for l in sys.stdin:\n"
                     "    r = json.loads(l)\n"
                     "    print(json.dumps({'scores': [len(i['completion']) for i in r['items']]}), flush=True)\n",
                     30);
    TEST_CHECK(s != NULL, "big set: %s", err_msg());
    if (s) {
        enum { N = 64 };
        static char big[N][20000];
        RewardInput in[N];
        for (int i = 0; i < N; i++) {
            memset(big[i], 'a' + i % 26, sizeof(big[i]) - 1 - i);
            big[i][sizeof(big[i]) - 1 - i] = '\0';
            in[i] = (RewardInput){.prompt = "", .completion = big[i], .example = NULL, .n_tokens = 1, .finish = FINISH_EOS};
        }
        RewardBatch b;
        TEST_CHECK(reward_set_score(s, in, N, &b) == 0, "1.3 MB batch: %s", err_msg());
        int ok = 1;
        for (int i = 0; i < N && b.per; i++) ok &= b.per[i].has_score && b.per[i].score == (double)strlen(big[i]);
        TEST_CHECK(ok, "scores of the big batch");
        reward_batch_free(&b);
        reward_set_free(s);
    }
}

int main(void) {
    test_example_plugin();
    test_bad_plugins();
    test_example_external();
    test_bad_external();
    return test_summary();
}
