/*
 * test_context.c: what a reward sees and returns beyond the text: the
 * group, index, step and (opted in) token ids reach plugins and external
 * processes; their diagnostics and per-item errors come back; a failing
 * function under --on-error null; a dying process restarted once; external
 * rewards overlapping in time; statistics (std, min, max, all-equal
 * groups); checking a config without starting anything; relative paths.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "reward_test_util.h"
#include "test.h"

#define CONTAINS(hay, needle) (strstr((hay), (needle)) != NULL)

static char tmp[256];

/* Writes text to tmp/name; returns the path (static buffer). */
static const char *write_file(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
    return path;
}

/* Two groups of three: group 7 (ids {1,2,3} each) and group 9. */
enum { N = 6 };
static const int ids[3] = {1, 2, 3};
static void make_inputs(RewardInput *in, const char **texts) {
    for (int i = 0; i < N; i++)
        in[i] = (RewardInput){.prompt = "p", .completion = texts[i], .example = NULL, .n_tokens = 3,
                              .finish = FINISH_EOS, .has_group = 1, .group = i < 3 ? 7 : 9, .index = i % 3,
                              .step = 4, .token_ids = ids, .n_token_ids = 3};
}

static void test_plugin_items(void) {
    const char *texts[N] = {"a", "b", "c", "d", "e", "f"};
    RewardInput in[N];
    make_inputs(in, texts);
    char cfg[1024];
    snprintf(cfg, sizeof(cfg),
             "[{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"group_plugin\",\"token_ids\":true},"
             "{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"group_plugin\",\"label\":\"no_ids\"}]",
             GRPO_TEST_PLUGIN, GRPO_TEST_PLUGIN);
    RewardSet *s = set_from(cfg);
    TEST_CHECK(s != NULL, "group plugin: %s", err_msg());
    if (!s) return;
    TEST_CHECK(!strcmp(reward_set_label(s, 0), "grouper"), "a plugin without a label is shown by its name: %s",
               reward_set_label(s, 0));
    RewardBatch b;
    TEST_CHECK(reward_set_score(s, in, N, &b) == 0, "score: %s", err_msg());
    for (int i = 0; i < N && b.per; i++) {
        TEST_CLOSE(b.per[i].score, (i < 3 ? 700 : 900) + i % 3, 0, "group and index of item %d", i);
        char *d = b.per[i].diag ? cJSON_PrintUnformatted(b.per[i].diag) : NULL;
        TEST_CHECK(d && CONTAINS(d, "\"step\":4") && CONTAINS(d, "\"ids_sum\":6") && CONTAINS(d, "\"n\":6"),
                   "diagnostics of item %d (the whole batch in one call): %s", i, d ? d : "none");
        free(d);
        d = b.per[N + i].diag ? cJSON_PrintUnformatted(b.per[N + i].diag) : NULL;
        TEST_CHECK(d && CONTAINS(d, "\"n_ids\":-1"), "token ids only when asked for: %s", d ? d : "none");
        free(d);
    }
    reward_batch_free(&b);
    reward_set_free(s);

    /* diagnostics that are not JSON: an error naming the input */
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"bad_diag_plugin\"}]",
             GRPO_TEST_PLUGIN);
    s = set_from(cfg);
    TEST_CHECK(s && reward_set_score(s, in, N, &b) != 0 && CONTAINS(err_msg(), "not JSON") &&
                   CONTAINS(err_msg(), "group 7 sample 0"),
               "bad diagnostics: %s", err_msg());
    reward_batch_free(&b);
    reward_set_free(s);
    snprintf(cfg, sizeof(cfg), "[{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"no_item_size_plugin\"}]",
             GRPO_TEST_PLUGIN);
    const char *e = set_error(cfg);
    TEST_CHECK(CONTAINS(e, "item_size") && CONTAINS(e, "GRPO_REWARD_PLUGIN_SIZES"), "item_size unset: %s", e);
}

/* An external reward that answers with the items' context. */
static const char *echo_py =
    "import json, sys\n"
    "for line in sys.stdin:\n"
    "    items = json.loads(line)['items']\n"
    "    scores, diags, errors = [], [], []\n"
    "    for it in items:\n"
    "        bad = it['completion'] == 'bad'\n"
    "        scores.append(None if bad else 100 * it['group'] + it['index'])\n"
    "        diags.append({'step': it['step'], 'ids': it.get('token_ids', 'absent'), 'n': len(items),\n"
    "                      'keys': sorted(it)})\n"
    "        errors.append('cannot judge ' + it['completion'] if bad else None)\n"
    "    print(json.dumps({'scores': scores, 'diagnostics': diags, 'errors': errors}), flush=True)\n";

static void test_external_items(void) {
    const char *texts[N] = {"a", "b", "c", "d", "bad", "f"};
    RewardInput in[N];
    make_inputs(in, texts);
    const char *script = write_file("echo.py", echo_py);
    char cfg[2048];
    snprintf(cfg, sizeof(cfg),
             "[{\"name\":\"external\",\"command\":[\"python3\",\"%s\"],\"token_ids\":true},"
             "{\"name\":\"external\",\"command\":[\"python3\",\"%s\"],\"label\":\"plain\"}]",
             script, script);
    RewardSet *s = set_from(cfg);
    TEST_CHECK(s != NULL, "echo set: %s", err_msg());
    if (!s) return;
    RewardBatch b;
    /* by default an item error fails the batch, naming the input */
    TEST_CHECK(reward_set_score(s, in, N, &b) != 0 && CONTAINS(err_msg(), "group 9 sample 1: cannot judge bad"),
               "item error: %s", err_msg());
    reward_batch_free(&b);
    reward_set_on_error(s, REWARD_ON_ERROR_NULL);
    TEST_CHECK(reward_set_score(s, in, N, &b) == 0, "null mode: %s", err_msg());
    for (int i = 0; i < N && b.per; i++) {
        if (i == 4) {
            TEST_CHECK(!b.per[i].has_score && b.per[i].error && CONTAINS(b.per[i].error, "cannot judge"),
                       "the failed item has no score and its reason");
            continue;
        }
        TEST_CLOSE(b.per[i].score, (i < 3 ? 700 : 900) + i % 3, 0, "external: group and index of item %d", i);
        char *d = b.per[i].diag ? cJSON_PrintUnformatted(b.per[i].diag) : NULL;
        TEST_CHECK(d && CONTAINS(d, "\"step\":4") && CONTAINS(d, "\"ids\":[1,2,3]") && CONTAINS(d, "\"n\":6"),
                   "external diagnostics %d: %s", i, d ? d : "none");
        free(d);
        d = b.per[N + i].diag ? cJSON_PrintUnformatted(b.per[N + i].diag) : NULL;
        TEST_CHECK(d && CONTAINS(d, "\"ids\":\"absent\"") &&
                       CONTAINS(d, "[\"completion\",\"example\",\"finish_reason\",\"group\",\"index\",\"n_tokens\","
                                   "\"prompt\",\"step\"]"),
                   "token ids only when asked for; the item's keys: %s", d ? d : "none");
        free(d);
    }
    const RewardStats *st = reward_set_stats(s, 0);
    TEST_CHECK(st->n_failed == 1 && st->n_scored == 5, "failures counted: %zu failed %zu scored", st->n_failed,
               st->n_scored);
    reward_batch_free(&b);
    reward_set_free(s);
}

/* A process that dies on its first batch is started again once. */
static void test_restart(void) {
    char script[1024];
    snprintf(script, sizeof(script),
             "if [ -e %s/started ]; then while read l; do echo '{\"scores\": [2]}'; done; "
             "else touch %s/started; exit 7; fi",
             tmp, tmp);
    cJSON *a = cJSON_CreateArray(), *o = cJSON_CreateObject(), *cmd = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "name", "external");
    cJSON_AddItemToArray(cmd, cJSON_CreateString("sh"));
    cJSON_AddItemToArray(cmd, cJSON_CreateString("-c"));
    cJSON_AddItemToArray(cmd, cJSON_CreateString(script));
    cJSON_AddItemToObject(o, "command", cmd);
    cJSON_AddItemToArray(a, o);
    RewardSet *s = reward_set_new(a, "rewards");
    cJSON_Delete(a);
    TEST_CHECK(s != NULL, "restart set: %s", err_msg());
    if (!s) return;
    RewardInput in = {.prompt = "", .completion = "x", .example = NULL, .n_tokens = 1, .finish = FINISH_EOS};
    RewardBatch b;
    int rc = reward_set_score(s, &in, 1, &b);
    TEST_CHECK(rc == 0 && b.per[0].score == 2.0, "restarted once and answered: %s", rc ? err_msg() : "");
    reward_batch_free(&b);
    reward_set_free(s);

    /* dying every time, under --on-error null: every item gets the reason,
     * the other functions still score, the next batch tries again */
    RewardSet *t = set_from("[{\"name\":\"external\",\"command\":[\"sh\",\"-c\",\"exit 5\"]},"
                            "{\"name\":\"format\",\"mode\":\"tag_count\"}]");
    TEST_CHECK(t != NULL, "dying set: %s", err_msg());
    if (!t) return;
    reward_set_on_error(t, REWARD_ON_ERROR_NULL);
    RewardInput two[2] = {
        {.prompt = "", .completion = "<think>", .n_tokens = 1, .source = "in.jsonl", .line = 3},
        {.prompt = "", .completion = "x", .n_tokens = 1, .source = "in.jsonl", .line = 5},
    };
    for (int round = 0; round < 2; round++) {
        TEST_CHECK(reward_set_score(t, two, 2, &b) == 0, "null mode goes on: %s", err_msg());
        TEST_CHECK(b.per && b.per[0].error && CONTAINS(b.per[0].error, "exited with status 5") &&
                       CONTAINS(b.per[0].error, "also after a restart") && b.per[1].error && !b.per[0].has_score,
                   "round %d: reasons kept", round);
        TEST_CHECK(b.per && b.per[2].has_score && b.per[2].score == 0.25 && b.has_total[0] && b.total[0] == 0.25,
                   "round %d: the other function scores", round);
        reward_batch_free(&b);
    }
    TEST_CHECK(reward_set_stats(t, 0)->n_failed == 4, "failures counted");
    /* fail mode names the lines of the batch */
    reward_set_on_error(t, REWARD_ON_ERROR_FAIL);
    TEST_CHECK(reward_set_score(t, two, 2, &b) != 0 && CONTAINS(err_msg(), "rewards[0] (external): in.jsonl lines 3-5:"),
               "batch error names the lines: %s", err_msg());
    reward_batch_free(&b);
    reward_set_free(t);
}

/* Two external rewards of 0.3 s each and a built-in overlap: about 0.3 s. */
static void test_concurrency(void) {
    const char *slow = "while read l; do sleep 0.3; echo '{\"scores\": [1]}'; done";
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; k < 2; k++) {
        cJSON *o = cJSON_CreateObject(), *cmd = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "name", "external");
        cJSON_AddStringToObject(o, "label", k ? "slow_b" : "slow_a");
        cJSON_AddItemToArray(cmd, cJSON_CreateString("sh"));
        cJSON_AddItemToArray(cmd, cJSON_CreateString("-c"));
        cJSON_AddItemToArray(cmd, cJSON_CreateString(slow));
        cJSON_AddItemToObject(o, "command", cmd);
        cJSON_AddItemToArray(a, o);
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", "format");
    cJSON_AddItemToArray(a, m);
    RewardSet *s = reward_set_new(a, "rewards");
    cJSON_Delete(a);
    TEST_CHECK(s != NULL, "slow set: %s", err_msg());
    if (!s) return;
    RewardInput in = {.prompt = "", .completion = "x", .example = NULL, .n_tokens = 1, .finish = FINISH_EOS};
    RewardBatch b;
    double best = 1e9;
    for (int round = 0; round < 3; round++) {
        double t0 = now_seconds();
        int rc = reward_set_score(s, &in, 1, &b);
        double dt = now_seconds() - t0;
        TEST_CHECK(rc == 0 && b.total[0] == 2.0, "slow pair: %s", rc ? err_msg() : "");
        reward_batch_free(&b);
        if (dt < best) best = dt;
    }
    printf("two 0.3 s external rewards and a built-in: %.3f s per batch (best of 3)\n", best);
    TEST_CHECK(best >= 0.29 && best < 0.5, "they overlap: %.3f s, want about 0.3 s", best);
    TEST_CHECK(reward_set_stats(s, 0)->seconds >= 0.87 && reward_set_stats(s, 1)->seconds >= 0.87,
               "each function's own time is kept");
    reward_set_free(s);
}

static void test_statistics(void) {
    RewardSet *s = set_from("[{\"name\":\"format\",\"mode\":\"tag_count\",\"weight\":2},"
                            "{\"name\":\"length\",\"mode\":\"truncation\"}]");
    TEST_CHECK(s != NULL, "stats set: %s", err_msg());
    if (!s) return;
    /* group 1: tag counts 0.25, 0.25, 0.25 (all equal); group 2: 0, 0.5, 1 */
    const char *texts[N] = {"<think>", "<think>", "<think>", "x", "<think></think>", "<think></think><answer></answer>"};
    RewardInput in[N];
    make_inputs(in, texts);
    for (int i = 0; i < N; i++) in[i].group = i < 3 ? 1 : 2;
    RewardBatch b;
    TEST_CHECK(reward_set_score(s, in, N, &b) == 0, "score: %s", err_msg());
    reward_batch_free(&b);
    const RewardStats *st = reward_set_stats(s, 0);
    TEST_CHECK(st->n_scored == 6 && st->n_groups == 2 && st->n_groups_equal == 1, "groups %zu equal %zu",
               st->n_groups, st->n_groups_equal);
    TEST_CLOSE(st->min, 0, 0, "min");
    TEST_CLOSE(st->max, 1, 0, "max");
    TEST_CLOSE(st->sum, 2.25, 1e-12, "sum");
    TEST_CLOSE(st->sumsq, 3 * 0.0625 + 0.25 + 1, 1e-12, "sum of squares");
    const RewardStats *len = reward_set_stats(s, 1);
    TEST_CHECK(len->n_groups_equal == 2, "length's groups are flat");
    const RewardStats *tot = reward_set_total_stats(s);
    TEST_CHECK(tot->n_scored == 6 && tot->n_groups == 2 && tot->n_groups_equal == 1, "total's groups");
    TEST_CLOSE(tot->max, 2, 1e-12, "total max (weighted)");
    reward_set_free(s);
}

static void test_check_only(void) {
    char cfg[2048];
    snprintf(cfg, sizeof(cfg),
             "[{\"name\":\"external\",\"command\":[\"sh\",\"-c\",\"touch %s/spawned\"]},"
             "{\"name\":\"format\"},{\"name\":\"plugin\",\"library\":\"%s\",\"symbol\":\"length_plugin\"},"
             "{\"name\":\"code\",\"language\":\"python\"}]",
             tmp, GRPO_TEST_PLUGIN);
    cJSON *a = cJSON_Parse(cfg);
    RewardSet *s = reward_set_check(a, "rewards");
    TEST_CHECK(s != NULL, "check: %s", err_msg());
    usleep(100000);
    char spawned[300];
    snprintf(spawned, sizeof(spawned), "%s/spawned", tmp);
    TEST_CHECK(access(spawned, F_OK) != 0, "checking a config starts no process");
    if (s) {
        TEST_CHECK(!strcmp(reward_set_label(s, 2), "length"), "plugin label from its name: %s",
                   reward_set_label(s, 2));
        cJSON *eff = reward_set_config(s);
        char *t = cJSON_PrintUnformatted(eff);
        TEST_CHECK(CONTAINS(t, "\"timeout_seconds\":30") && CONTAINS(t, "\"token_ids\":false") &&
                       CONTAINS(t, "\"mode\":\"strict\"") && CONTAINS(t, "\"think_tag\":\"think\"") &&
                       CONTAINS(t, "\"weight\":1") && CONTAINS(t, "\"label\":\"format\"") &&
                       CONTAINS(t, "\"symbol\":\"length_plugin\"") && CONTAINS(t, "\"workers\":"),
                   "effective config: %s", t);
        free(t);
        cJSON_Delete(eff);
        reward_set_free(s);
    }
    cJSON_Delete(a);
    a = cJSON_Parse("[{\"name\":\"external\",\"command\":[\"no-such-program-xyz\"]}]");
    s = reward_set_check(a, "rewards");
    TEST_CHECK(!s && CONTAINS(err_msg(), "not found on PATH"), "check finds a missing program: %s", err_msg());
    cJSON_Delete(a);
    a = cJSON_Parse("[{\"name\":\"math_acuracy\"}]");
    s = reward_set_check(a, "rewards");
    TEST_CHECK(!s && CONTAINS(err_msg(), "did you mean 'math_accuracy'"), "misspelled name: %s", err_msg());
    cJSON_Delete(a);
}

static void test_relative_paths(void) {
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/cfgdir", tmp);
    mkdir(sub, 0755);
    char script[400];
    snprintf(script, sizeof(script), "%s/my_reward.py", sub);
    FILE *f = fopen(script, "w");
    fputs("import json, sys\nfor l in sys.stdin:\n    n = len(json.loads(l)['items'])\n"
          "    print(json.dumps({'scores': [len(open('data.txt').read())] * n}), flush=True)\n",
          f);
    fclose(f);
    snprintf(script, sizeof(script), "%s/data.txt", sub);
    f = fopen(script, "w");
    fputs("12345", f);
    fclose(f);
    cJSON *a = cJSON_Parse("[{\"name\":\"external\",\"command\":[\"python3\",\"my_reward.py\"]},"
                           "{\"name\":\"external\",\"command\":[\"./run.sh\"],\"label\":\"b\",\"working_dir\":\"w\"},"
                           "{\"name\":\"plugin\",\"library\":\"./libx.so\"},{\"name\":\"plugin\",\"library\":\"libm.so.6\","
                           "\"label\":\"c\"},{\"name\":\"plugin\",\"library\":\"/abs/liby.so\",\"label\":\"d\"}]");
    char cfgfile[400];
    snprintf(cfgfile, sizeof(cfgfile), "%s/config.json", sub);
    reward_config_resolve_paths(a, cfgfile);
    char *t = cJSON_PrintUnformatted(a);
    char want[1200];
    snprintf(want, sizeof(want), "\"working_dir\":\"%s\"", sub);
    TEST_CHECK(CONTAINS(t, want), "working_dir defaults to the config's folder: %s", t);
    snprintf(want, sizeof(want), "\"command\":[\"%s/./run.sh\"]", sub);
    TEST_CHECK(CONTAINS(t, want), "a relative program: %s", t);
    snprintf(want, sizeof(want), "\"working_dir\":\"%s/w\"", sub);
    TEST_CHECK(CONTAINS(t, want), "a relative working_dir: %s", t);
    snprintf(want, sizeof(want), "\"library\":\"%s/./libx.so\"", sub);
    TEST_CHECK(CONTAINS(t, want) && CONTAINS(t, "\"library\":\"libm.so.6\"") &&
                   CONTAINS(t, "\"library\":\"/abs/liby.so\""),
               "plugin libraries: %s", t);
    TEST_CHECK(CONTAINS(t, "[\"python3\",\"my_reward.py\"]"), "arguments are left alone: %s", t);
    free(t);
    /* the program runs in its working_dir: the script and its data are found there */
    cJSON *one = cJSON_CreateArray();
    cJSON_AddItemToArray(one, cJSON_DetachItemFromArray(a, 0));
    cJSON_Delete(a);
    RewardSet *s = reward_set_new(one, "rewards");
    cJSON_Delete(one);
    TEST_CHECK(s != NULL, "relative script: %s", err_msg());
    if (s) {
        RewardInput in = {.prompt = "", .completion = "x", .n_tokens = 1};
        RewardBatch b;
        TEST_CHECK(reward_set_score(s, &in, 1, &b) == 0 && b.per[0].score == 5.0, "ran in the config's folder: %s",
                   err_msg());
        reward_batch_free(&b);
        reward_set_free(s);
    }
}

int main(void) {
    snprintf(tmp, sizeof(tmp), "/tmp/grpo_test_context_XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    test_plugin_items();
    test_external_items();
    test_restart();
    test_concurrency();
    test_statistics();
    test_check_only();
    test_relative_paths();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return test_summary();
}
