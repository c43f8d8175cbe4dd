/*
 * test_eval_stats.c: the evaluation statistics (trainer/eval_stats.h)
 * against hand-computed values: pass@k from binomials worked out by hand
 * (and two from exact rational arithmetic), maj@k and its tie rule on
 * crafted answer lists, a two-prompt summary computed on paper, the think
 * rule, and the JSON keys the report reads.
 */
#include <string.h>

#include "common/common.h"
#include "test.h"
#include "trainer/eval_stats.h"

static double pass(size_t n, size_t c, size_t k) {
    double v = -1;
    if (eval_pass_at_k(n, c, k, &v)) FATAL("pass@k(%zu, %zu, %zu): %s", n, c, k, err_msg());
    return v;
}

static void test_pass_at_k(void) {
    /* n = 5, c = 2: 1 - C(3,k)/C(5,k) */
    TEST_CLOSE(pass(5, 2, 1), 1.0 - 3.0 / 5.0, 1e-15, "n5 c2 k1");
    TEST_CLOSE(pass(5, 2, 2), 1.0 - 3.0 / 10.0, 1e-15, "n5 c2 k2");
    TEST_CLOSE(pass(5, 2, 3), 1.0 - 1.0 / 10.0, 1e-15, "n5 c2 k3");
    TEST_CLOSE(pass(5, 2, 4), 1.0, 0, "n - c < k is exactly 1");
    TEST_CLOSE(pass(10, 0, 5), 0.0, 0, "no correct sample");
    TEST_CLOSE(pass(10, 10, 1), 1.0, 0, "all correct");
    TEST_CLOSE(pass(1000, 1, 1), 0.001, 1e-15, "n1000 c1 k1");
    /* exact rationals (Python's fractions with math.comb): the product
     * form keeps ~1e-15 relative accuracy where the binomials overflow */
    TEST_CLOSE(pass(200, 13, 100), 0.9999194971988055, 1e-13, "n200 c13 k100");
    TEST_CLOSE(pass(1000, 10, 50), 0.40268870709334553, 1e-13, "n1000 c10 k50");
    for (size_t c = 0; c <= 16; c++) TEST_CLOSE(pass(16, c, 1), (double)c / 16.0, 1e-15, "pass@1 = c/n, c = %zu", c);
    double v;
    TEST_CHECK(eval_pass_at_k(4, 1, 0, &v) == -1 && strstr(err_msg(), "k = 0"), "k = 0: %s", err_msg());
    TEST_CHECK(eval_pass_at_k(4, 1, 5, &v) == -1, "k > n accepted");
    TEST_CHECK(eval_pass_at_k(4, 5, 1, &v) == -1 && strstr(err_msg(), "c = 5"), "c > n: %s", err_msg());
}

static EvalSample ans(const char *a, int correct) { return (EvalSample){.answer = a, .correct = correct}; }

static void test_majority(void) {
    EvalSample tie[] = {ans("3", 1), ans("4", 0), ans("4", 0), ans("3", 1), ans(NULL, 0)};
    TEST_CHECK(eval_majority(tie, 5) == 0, "2-2 tie goes to the answer seen first, got %ld", eval_majority(tie, 5));
    EvalSample tie2[] = {ans("4", 0), ans("3", 1), ans("3", 1), ans("4", 0)};
    TEST_CHECK(eval_majority(tie2, 4) == 0, "tie, other order: got %ld", eval_majority(tie2, 4));
    EvalSample win[] = {ans("5", 0), ans(NULL, 0), ans("7", 1), ans("7", 1)};
    TEST_CHECK(eval_majority(win, 4) == 2, "majority '7' at 2, got %ld", eval_majority(win, 4));
    TEST_CHECK(eval_majority(win, 3) == 0, "first 3: 5 and 7 once each, got %ld", eval_majority(win, 3));
    EvalSample none[] = {ans(NULL, 0), ans(NULL, 0)};
    TEST_CHECK(eval_majority(none, 2) == -1, "no answers: got %ld", eval_majority(none, 2));
    /* NULL answers are not a vote, even when they are the most common */
    EvalSample nulls[] = {ans(NULL, 0), ans(NULL, 0), ans(NULL, 0), ans("9", 1)};
    TEST_CHECK(eval_majority(nulls, 4) == 3, "NULLs must not win, got %ld", eval_majority(nulls, 4));
    EvalSample three[] = {ans("1", 0), ans("2", 1), ans("2", 1), ans("1", 0), ans("1", 0)};
    TEST_CHECK(eval_majority(three, 5) == 0, "3 of '1' beat 2 of '2', got %ld", eval_majority(three, 5));
    TEST_CHECK(eval_majority(three, 3) == 1, "first 3: '2' twice, got %ld", eval_majority(three, 3));
}

/* Two prompts, n = 4, k = 2, worked by hand:
 *   prompt 0: c = 3 -> pass@1 3/4, pass@2 = 1 (n - c = 1 < 2), maj@2 on
 *             {"7", "7"} -> right; formatted 3, thinks 3, lengths 100
 *   prompt 1: c = 2 -> pass@1 1/2, pass@2 = 1 - C(2,2)/C(4,2) = 5/6,
 *             maj@2 on {NULL, "2"} -> "2", wrong; formatted 3, thinks 1, lengths 20
 *   pass@1 = 0.625, pass@2 = 11/12, maj@2 = 0.5, format 6/8, length 120/8, think 4/8 */
static void test_summarize(void) {
    EvalSample s[8] = {
        {"7", 1, 1, 1, 10}, {"7", 1, 1, 0, 20}, {"8", 0, 1, 1, 30}, {"7", 1, 0, 1, 40},
        {NULL, 0, 0, 0, 5}, {"2", 0, 1, 0, 5},  {"3", 1, 1, 0, 5},  {"3", 1, 1, 1, 5},
    };
    EvalSummary sum;
    TEST_CHECK(eval_summarize(s, 2, 4, 2, &sum) == 0, "%s", err_msg());
    TEST_CLOSE(sum.pass_at_1, 0.625, 1e-15, "pass@1");
    TEST_CLOSE(sum.pass_at_k, 11.0 / 12.0, 1e-15, "pass@2");
    TEST_CLOSE(sum.maj_at_k, 0.5, 0, "maj@2");
    TEST_CLOSE(sum.format_rate, 0.75, 0, "format rate");
    TEST_CLOSE(sum.mean_length, 15.0, 1e-12, "mean length");
    TEST_CLOSE(sum.think_rate, 0.5, 0, "think rate");
    TEST_CHECK(sum.n_prompts == 2 && sum.samples_per_prompt == 4 && sum.k == 2, "counts");
    /* with k = 4 prompt 1's majority is the 2-vote "3": right */
    TEST_CHECK(eval_summarize(s, 2, 4, 4, &sum) == 0, "%s", err_msg());
    TEST_CLOSE(sum.maj_at_k, 1.0, 0, "maj@4");
    TEST_CLOSE(sum.pass_at_k, 1.0, 0, "pass@4");
    TEST_CHECK(eval_summarize(s, 2, 4, 5, &sum) == -1, "k > n accepted");
    TEST_CHECK(eval_summarize(s, 0, 4, 1, &sum) == -1, "no prompts accepted");

    cJSON *j = cJSON_CreateObject(), *m = cJSON_CreateObject();
    TEST_CHECK(eval_summarize(s, 2, 4, 2, &sum) == 0, "%s", err_msg());
    eval_summary_to_json(&sum, j);
    eval_summary_to_metrics(&sum, m);
    const char *jk[] = {"n_prompts", "samples_per_prompt", "pass@1", "pass@k", "k", "maj@k", "format_rate",
                        "mean_length", "think_rate"};
    for (size_t i = 0; i < sizeof jk / sizeof jk[0]; i++)
        TEST_CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, jk[i])), "eval.json lacks %s", jk[i]);
    TEST_CLOSE(cJSON_GetObjectItemCaseSensitive(j, "pass@k")->valuedouble, 11.0 / 12.0, 1e-15, "eval.json pass@k");
    TEST_CLOSE(cJSON_GetObjectItemCaseSensitive(m, "eval/pass@1")->valuedouble, 0.625, 1e-15, "metrics eval/pass@1");
    TEST_CLOSE(cJSON_GetObjectItemCaseSensitive(m, "eval/k")->valuedouble, 2, 0, "metrics eval/k");
    TEST_CHECK(cJSON_GetArraySize(m) == 7, "metrics keys: %d", cJSON_GetArraySize(m));
    cJSON_Delete(j);
    cJSON_Delete(m);
}

static void test_thinks(void) {
    TEST_CHECK(eval_thinks(" <think> 3 + 4 = 7 </think> <answer> 7 </answer>", 0) == 1, "worked answer");
    TEST_CHECK(eval_thinks(" <think> \n </think> <answer> 7 </answer>", 0) == 0, "blank think counts");
    TEST_CHECK(eval_thinks(" <answer> 7 </answer>", 0) == 0, "direct answer counts");
    TEST_CHECK(eval_thinks(" <think> x </think>", 0) == 0, "thinking without an answer counts");
    TEST_CHECK(eval_thinks(" <answer> 7 </answer> <think> x </think>", 0) == 0, "thinking after the answer counts");
    TEST_CHECK(eval_thinks("x </think> <answer> 1 </answer>", 1) == 1, "opened by the prompt");
    TEST_CHECK(eval_thinks("x </think> <answer> 1 </answer>", 0) == 0, "no <think> and not opened by the prompt");
    TEST_CHECK(eval_thinks("", 1) == 0, "empty completion");
}

int main(void) {
    test_pass_at_k();
    test_majority();
    test_summarize();
    test_thinks();
    return test_summary();
}
