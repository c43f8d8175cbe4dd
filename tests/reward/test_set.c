/*
 * test_set.c: the RewardSet: weights and the weighted total, the no-score
 * policy, per-function statistics, parallel scoring equal to serial, and
 * config errors that name the key and suggest the right one.
 */
#include <omp.h>

#include "reward_test_util.h"
#include "test.h"

static void test_weights_and_no_score(void) {
    RewardSet *s = set_from("[{\"name\":\"math_accuracy\",\"weight\":2.0},"
                            "{\"name\":\"format\",\"mode\":\"tag_count\",\"weight\":0.5},"
                            "{\"name\":\"format\",\"label\":\"strict_format\",\"weight\":-1}]");
    TEST_CHECK(s != NULL, "set: %s", err_msg());
    if (!s) return;
    TEST_CHECK(reward_set_size(s) == 3, "size %zu", reward_set_size(s));
    TEST_CHECK(!strcmp(reward_set_label(s, 0), "math_accuracy"), "label 0");
    TEST_CHECK(!strcmp(reward_set_label(s, 2), "strict_format"), "label 2");
    TEST_CHECK(!strcmp(reward_set_kind(s, 2), "format"), "kind 2");
    TEST_CLOSE(reward_set_weight(s, 1), 0.5, 0, "weight 1");
    cJSON *with = cJSON_Parse("{\"answer\":\"4\"}"), *without = cJSON_Parse("{\"q\":\"?\"}");
    RewardInput in[3] = {
        {.prompt = "", .completion = "<think>\nx\n</think>\n<answer>\n\\boxed{4}\n</answer>", .example = with, .n_tokens = 10, .finish = FINISH_EOS},
        {.prompt = "", .completion = "<think>x</think> \\boxed{5}", .example = with, .n_tokens = 10, .finish = FINISH_EOS},
        {.prompt = "", .completion = "<think>x</think> \\boxed{4}", .example = without, .n_tokens = 10, .finish = FINISH_EOS},
    };
    RewardBatch b;
    TEST_CHECK(reward_set_score(s, in, 3, &b) == 0, "score: %s", err_msg());
    TEST_CHECK(b.n == 3 && b.n_funcs == 3, "shape");
    /* 0: math 1 * 2 + tags 1.0 * 0.5 + strict 1 * -1 = 1.5 */
    TEST_CLOSE(b.total[0], 1.5, 1e-12, "total 0");
    /* 1: math 0 + tags 0.5 * 0.5 + strict 0 = 0.25 */
    TEST_CLOSE(b.total[1], 0.25, 1e-12, "total 1");
    /* 2: math has no score (no answer): left out; tags 0.5 * 0.5 = 0.25 */
    TEST_CHECK(!b.per[0 * 3 + 2].has_score, "math no score on input 2");
    TEST_CHECK(b.has_total[2], "input 2 still has a total");
    TEST_CLOSE(b.total[2], 0.25, 1e-12, "total 2");
    TEST_CLOSE(b.per[1 * 3 + 0].score, 1.0, 0, "per-function score kept");
    for (int f = 0; f < 3; f++) TEST_CHECK(b.seconds[f] >= 0, "time %d", f);
    const RewardStats *st = reward_set_stats(s, 0);
    TEST_CHECK(st->n_scored == 2 && st->n_no_score == 1, "math stats %zu %zu", st->n_scored, st->n_no_score);
    TEST_CLOSE(st->sum, 1.0, 0, "math sum");
    reward_batch_free(&b);
    TEST_CHECK(b.per == NULL && b.total == NULL, "batch freed and zeroed");
    reward_batch_free(&b); /* twice is fine */
    reward_set_free(s);

    /* every function without a score: the total itself is "no score" */
    s = set_from("[{\"name\":\"math_accuracy\"},{\"name\":\"length\",\"mode\":\"dapo\",\"max_length\":10,"
                 "\"cache_length\":2}]");
    RewardInput lone = {.prompt = "", .completion = "\\boxed{1}", .example = without, .n_tokens = -1, .finish = FINISH_EOS};
    TEST_CHECK(reward_set_score(s, &lone, 1, &b) == 0, "score");
    TEST_CHECK(!b.has_total[0] && b.total[0] == 0, "no total: has %d total %g", b.has_total[0], b.total[0]);
    reward_batch_free(&b);
    /* an empty batch */
    TEST_CHECK(reward_set_score(s, NULL, 0, &b) == 0 && b.n == 0, "empty batch");
    reward_batch_free(&b);
    reward_set_free(s);
    cJSON_Delete(with);
    cJSON_Delete(without);
}

static void test_parallel_equals_serial(void) {
    RewardSet *s = set_from("[{\"name\":\"math_accuracy\"},{\"name\":\"format\",\"mode\":\"lenient\"},"
                            "{\"name\":\"repetition\"},{\"name\":\"language_consistency\"},"
                            "{\"name\":\"length\",\"mode\":\"cosine\",\"max_length\":64}]");
    TEST_CHECK(s != NULL, "set: %s", err_msg());
    if (!s) return;
    enum { N = 300 };
    static char text[N][160];
    cJSON *ex[N];
    RewardInput in[N];
    const char *answers[] = {"\\frac{1}{2}", "0.5", "x^2+1", "(1,2)", "C", "12", "\\sqrt{2}", "7"};
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof(text[i]), "<think>step %d step %d %s</think> <answer>\\boxed{%s}</answer>", i % 7,
                 i % 5, i % 3 ? "again again again" : "done", answers[(i * 7) % 8]);
        char e[64];
        snprintf(e, sizeof(e), "{\"answer\":\"%s\"}", i % 11 == 0 ? "" : (i % 2 ? "0.5" : "x^2+1"));
        ex[i] = cJSON_Parse(e);
        in[i] = (RewardInput){.prompt = "", .completion = text[i], .example = ex[i], .n_tokens = i % 80, .finish = FINISH_EOS};
    }
    RewardBatch serial, parallel;
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    TEST_CHECK(reward_set_score(s, in, N, &serial) == 0, "serial");
    omp_set_num_threads(4);
    TEST_CHECK(reward_set_score(s, in, N, &parallel) == 0, "parallel");
    omp_set_num_threads(saved);
    int same = 1;
    for (int i = 0; i < N; i++) {
        same &= serial.total[i] == parallel.total[i] && serial.has_total[i] == parallel.has_total[i];
        for (size_t f = 0; f < serial.n_funcs; f++) {
            const RewardResult *a = &serial.per[f * N + i], *b = &parallel.per[f * N + i];
            same &= a->has_score == b->has_score && (!a->has_score || a->score == b->score);
        }
    }
    TEST_CHECK(same, "4 threads give bit-identical scores to 1 thread");
    int some_correct = 0;
    for (int i = 0; i < N; i++) some_correct += serial.per[i].has_score && serial.per[i].score == 1.0;
    TEST_CHECK(some_correct > 10 && some_correct < N, "a mix of correct and wrong answers (%d correct)", some_correct);
    reward_batch_free(&serial);
    reward_batch_free(&parallel);
    reward_set_free(s);
    for (int i = 0; i < N; i++) cJSON_Delete(ex[i]);
}

#define EXPECT_ERR(json, ...)                                                                 \
    do {                                                                                      \
        const char *e_ = set_error(json);                                                     \
        const char *want_[] = {__VA_ARGS__};                                                  \
        TEST_CHECK(e_[0] != '\0', "%s should fail", json);                                   \
        for (size_t k_ = 0; k_ < sizeof(want_) / sizeof(want_[0]); k_++)                    \
            TEST_CHECK(strstr(e_, want_[k_]) != NULL, "error for %s lacks \"%s\": %s", json, \
                       want_[k_], e_);                                                        \
    } while (0)

static void test_config_errors(void) {
    EXPECT_ERR("[]", "rewards: empty");
    EXPECT_ERR("{}", "expected an array");
    EXPECT_ERR("[3]", "rewards[0]: expected an object");
    EXPECT_ERR("[{\"weight\":1}]", "rewards[0].name: missing", "math_accuracy");
    EXPECT_ERR("[{\"name\":\"math_acuracy\"}]", "rewards[0].name", "did you mean 'math_accuracy'", "countdown");
    EXPECT_ERR("[{\"name\":\"foo\"}]", "unknown reward 'foo'", "valid names:");
    EXPECT_ERR("[{\"name\":\"format\"},{\"name\":\"format\",\"label\":\"f2\",\"mod\":\"lenient\"}]",
               "rewards[1].mod", "did you mean 'mode'", "valid keys: mode, score");
    EXPECT_ERR("[{\"name\":\"format\",\"wieght\":2}]", "rewards[0].wieght", "did you mean 'weight'");
    EXPECT_ERR("[{\"name\":\"format\",\"weight\":\"high\"}]", "rewards[0].weight", "number");
    EXPECT_ERR("[{\"name\":\"format\",\"mode\":\"lenent\"}]", "rewards[0].mode", "did you mean 'lenient'");
    EXPECT_ERR("[{\"name\":\"format\"},{\"name\":\"format\"}]", "rewards[1]", "label");
    EXPECT_ERR("[{\"name\":\"format\",\"label\":\"\"}]", "rewards[0].label");
    EXPECT_ERR("[{\"name\":\"math_accuracy\",\"extract\":[\"boxd\"]}]", "rewards[0].extract[0]",
               "did you mean 'boxed'");
    EXPECT_ERR("[{\"name\":\"math_accuracy\",\"extract\":[]}]", "rewards[0].extract");
    EXPECT_ERR("[{\"name\":\"math_accuracy\",\"tolerance\":2}]", "rewards[0].tolerance", "out of range");
    EXPECT_ERR("[{\"name\":\"math_accuracy\",\"answer_keys\":\"a\"}]", "did you mean 'answer_key'");
    EXPECT_ERR("[{\"name\":\"length\"}]", "rewards[0].mode: required");
    EXPECT_ERR("[{\"name\":\"length\",\"mode\":\"dapo\",\"max_length\":10}]", "rewards[0].cache_length: required");
    EXPECT_ERR("[{\"name\":\"length\",\"mode\":\"dapo\",\"max_length\":10,\"cache_length\":20}]",
               "rewards[0].cache_length", "larger than max_length");
    EXPECT_ERR("[{\"name\":\"length\",\"mode\":\"truncation\",\"max_length\":10}]", "rewards[0].max_length",
               "unknown key");
    EXPECT_ERR("[{\"name\":\"length\",\"mode\":\"cosine\",\"max_length\":10,\"unit\":\"words\"}]",
               "rewards[0].unit");
    EXPECT_ERR("[{\"name\":\"repetition\",\"max_penalty\":1}]", "rewards[0].max_penalty", "out of range");
    EXPECT_ERR("[{\"name\":\"repetition\",\"ngram_size\":2.5}]", "rewards[0].ngram_size", "integer");
    EXPECT_ERR("[{\"name\":\"language_consistency\",\"language\":\"eng\"}]", "rewards[0].language",
               "did you mean 'en'");
    EXPECT_ERR("[{\"name\":\"countdown\",\"targetkey\":\"x\"}]", "rewards[0].targetkey",
               "did you mean 'target_key'");
    EXPECT_ERR("[{\"name\":\"plugin\"}]", "rewards[0].library: required");
    EXPECT_ERR("[{\"name\":\"external\"}]", "rewards[0].command: required");
    EXPECT_ERR("[{\"name\":\"external\",\"command\":\"python3 x.py\"}]", "rewards[0].command", "array");
    /* a good config still builds after errors */
    TEST_CHECK(set_error("[{\"name\":\"format\"}]")[0] == '\0', "good config");
}

static void test_registry(void) {
    TEST_CHECK(reward_kind_count() >= 8, "kinds %zu", reward_kind_count());
    for (size_t i = 0; i < reward_kind_count(); i++) {
        const RewardKind *k = reward_kind_at(i);
        TEST_CHECK(k && k->name && k->create && k->score && k->destroy, "kind %zu complete", i);
        TEST_CHECK(reward_kind_find(k->name) == k, "find %s", k->name);
    }
    TEST_CHECK(reward_kind_find("nope") == NULL, "unknown kind");
    TEST_CHECK(reward_kind_at(reward_kind_count()) == NULL, "past the end");
}

int main(void) {
    test_registry();
    test_weights_and_no_score();
    test_parallel_equals_serial();
    test_config_errors();
    return test_summary();
}
