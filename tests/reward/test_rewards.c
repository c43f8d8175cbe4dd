/*
 * test_rewards.c: the built-in rewards other than math_accuracy's table:
 * countdown, format, length (dapo, cosine, truncation), language
 * consistency, repetition, and math_accuracy's scores and no-score cases.
 * Expected values are worked out by hand from each rule's formula.
 */
#include "reward_test_util.h"
#include "test.h"

#define SCORE(set, prompt, completion, example, ntok, fin, want)                                        \
    do {                                                                                                \
        One o_ = score_one(set, prompt, completion, example, ntok, fin);                                \
        TEST_CHECK(o_.rc == 0 && o_.has_score, "%s on \"%s\": rc %d has_score %d (%s)", set, completion, \
                   o_.rc, o_.has_score, err_msg());                                                     \
        TEST_CLOSE(o_.score, want, 1e-9, "%s on \"%s\"", set, completion);                             \
    } while (0)

#define NO_SCORE(set, prompt, completion, example, ntok, fin)                                           \
    do {                                                                                                \
        One o_ = score_one(set, prompt, completion, example, ntok, fin);                                \
        TEST_CHECK(o_.rc == 0 && !o_.has_score, "%s on \"%s\": expected no score, got rc %d score %g",   \
                   set, completion, o_.rc, o_.score);                                                   \
    } while (0)

static void test_math_accuracy(void) {
    const char *m = "[{\"name\":\"math_accuracy\"}]";
    SCORE(m, "", "so \\boxed{4}", "{\"answer\":\"4\"}", 5, FINISH_EOS, 1.0);
    SCORE(m, "", "so \\boxed{5}", "{\"answer\":\"4\"}", 5, FINISH_EOS, 0.0);
    SCORE(m, "", "no answer here", "{\"answer\":\"4\"}", 5, FINISH_EOS, 0.0);
    SCORE(m, "", "so \\boxed{4}", "{\"answer\":4}", 5, FINISH_EOS, 1.0);           /* numeric truth */
    SCORE(m, "", "so \\boxed{0.5}", "{\"answer\":0.5}", 5, FINISH_EOS, 1.0);
    SCORE(m, "", "so \\boxed{-2}", "{\"answer\":[\"2\",\"-2\"]}", 5, FINISH_EOS, 1.0); /* any of */
    NO_SCORE(m, "", "so \\boxed{4}", "{\"question\":\"2+2\"}", 5, FINISH_EOS);
    NO_SCORE(m, "", "so \\boxed{4}", NULL, 5, FINISH_EOS);
    NO_SCORE(m, "", "so \\boxed{4}", "{\"answer\":null}", 5, FINISH_EOS);
    NO_SCORE(m, "", "so \\boxed{4}", "{\"answer\":\"\"}", 5, FINISH_EOS);
    const char *custom = "[{\"name\":\"math_accuracy\",\"answer_key\":\"solution\",\"extract\":[\"gsm8k\"],"
                         "\"correct_score\":2,\"wrong_score\":-1,\"no_answer_score\":-2}]";
    SCORE(custom, "", "#### 7", "{\"solution\":\"7\"}", 5, FINISH_EOS, 2.0);
    SCORE(custom, "", "#### 8", "{\"solution\":\"7\"}", 5, FINISH_EOS, -1.0);
    SCORE(custom, "", "\\boxed{7}", "{\"solution\":\"7\"}", 5, FINISH_EOS, -2.0); /* boxed not in order */
    const char *loose = "[{\"name\":\"math_accuracy\",\"tolerance\":0.01}]";
    SCORE(loose, "", "\\boxed{3.14}", "{\"answer\":\"\\\\pi\"}", 5, FINISH_EOS, 1.0);
}

static void test_countdown(void) {
    const char *c = "[{\"name\":\"countdown\"}]";
    const char *ex = "{\"target\":24,\"nums\":[2,3,4]}";
    SCORE(c, "", "<think>..</think><answer>2*3*4</answer>", ex, 9, FINISH_EOS, 1.0);
    SCORE(c, "", "<answer>(4 * 3) * 2</answer>", ex, 9, FINISH_EOS, 1.0);
    SCORE(c, "", "<answer>2*3+4</answer>", ex, 9, FINISH_EOS, 0.1);         /* wrong value */
    SCORE(c, "", "<answer>(2+4)*4</answer>", ex, 9, FINISH_EOS, 0.1);       /* 4 twice, 3 unused */
    SCORE(c, "", "<answer>2*3*4*1</answer>", ex, 9, FINISH_EOS, 0.1);       /* extra number */
    SCORE(c, "", "<answer>2*12</answer>", ex, 9, FINISH_EOS, 0.1);
    SCORE(c, "", "<answer>__import__('os')</answer>", ex, 9, FINISH_EOS, 0.1);
    SCORE(c, "", "<answer>2*3*4 = 24</answer>", ex, 9, FINISH_EOS, 0.1);    /* '=' is not allowed */
    SCORE(c, "", "<answer>2.0*3*4</answer>", ex, 9, FINISH_EOS, 0.1);       /* integers only */
    SCORE(c, "", "<answer>4/(3-3)*2</answer>", ex, 9, FINISH_EOS, 0.1);     /* division by zero */
    SCORE(c, "", "<answer>(2*3*4</answer>", ex, 9, FINISH_EOS, 0.1);
    SCORE(c, "", "2*3*4", ex, 9, FINISH_EOS, 0.0);                          /* no answer tag */
    SCORE(c, "", "<answer>1</answer> <answer>2*3*4</answer>", ex, 9, FINISH_EOS, 1.0); /* last tag */
    /* fractions on the way: 6 / (1 - 3/4) = 24 */
    SCORE(c, "", "<answer>6/(1-3/4)</answer>", "{\"target\":24,\"nums\":[1,3,4,6]}", 9, FINISH_EOS, 1.0);
    SCORE(c, "", "<answer>-2+3*4+2*7</answer>", "{\"target\":24,\"nums\":[2,3,4,2,7]}", 9, FINISH_EOS, 1.0);
    NO_SCORE(c, "", "<answer>2*3*4</answer>", "{\"answer\":\"24\"}", 9, FINISH_EOS);
    NO_SCORE(c, "", "<answer>2*3*4</answer>", "{\"target\":24,\"nums\":[2.5]}", 9, FINISH_EOS);
    const char *keys = "[{\"name\":\"countdown\",\"target_key\":\"goal\",\"numbers_key\":\"numbers\","
                       "\"format_score\":0,\"correct_score\":1}]";
    SCORE(keys, "", "<answer>10-3</answer>", "{\"goal\":7,\"numbers\":[3,10]}", 9, FINISH_EOS, 1.0);
    SCORE(keys, "", "<answer>10+3</answer>", "{\"goal\":7,\"numbers\":[3,10]}", 9, FINISH_EOS, 0.0);
    /* hostile input: deep nesting is bounded, not a stack overflow */
    char deep[4096] = "<answer>";
    for (int i = 0; i < 2000; i++) strcat(deep, "(");
    strcat(deep, "2</answer>");
    SCORE(c, "", deep, ex, 9, FINISH_EOS, 0.1);
}

static void test_format(void) {
    const char *strict = "[{\"name\":\"format\"}]";
    const char *lenient = "[{\"name\":\"format\",\"mode\":\"lenient\"}]";
    const char *tags = "[{\"name\":\"format\",\"mode\":\"tag_count\"}]";
    const char *good = "<think>\nsteps\n</think>\n<answer>\n42\n</answer>";
    SCORE(strict, "", good, NULL, 5, FINISH_EOS, 1.0);
    SCORE(strict, "", "<think>\nsteps\n</think>\n<answer>\n42\n</answer>\n", NULL, 5, FINISH_EOS, 1.0);
    SCORE(strict, "", "<think>steps</think><answer>42</answer>", NULL, 5, FINISH_EOS, 0.0);
    SCORE(strict, "", "<think>\nsteps\n</think>\n<answer>\n42\n</answer> more", NULL, 5, FINISH_EOS, 0.0);
    SCORE(strict, "", "hi <think>\nsteps\n</think>\n<answer>\n42\n</answer>", NULL, 5, FINISH_EOS, 0.0);
    SCORE(strict, "", "<think>\n\n</think>\n<answer>\n42\n</answer>", NULL, 5, FINISH_EOS, 0.0); /* empty think */
    SCORE(strict, "", "<think>\na <think> b\n</think>\n<answer>\n42\n</answer>", NULL, 5, FINISH_EOS, 0.0);
    SCORE(lenient, "", "<think>steps</think> <answer>42</answer>", NULL, 5, FINISH_EOS, 1.0);
    SCORE(lenient, "", "  <think>steps</think>\n\n<answer> 42 </answer>\n", NULL, 5, FINISH_EOS, 1.0);
    SCORE(lenient, "", "<think>steps</think> so <answer>42</answer>", NULL, 5, FINISH_EOS, 0.0);
    SCORE(lenient, "", "<think>steps</think> <answer> </answer>", NULL, 5, FINISH_EOS, 0.0);
    SCORE(lenient, "", "<answer>42</answer><think>steps</think>", NULL, 5, FINISH_EOS, 0.0);
    SCORE(lenient, "", "<think>steps</think> <answer>42", NULL, 5, FINISH_EOS, 0.0);
    SCORE(tags, "", good, NULL, 5, FINISH_EOS, 1.0);
    SCORE(tags, "", "<think>steps</think> 42", NULL, 5, FINISH_EOS, 0.5);
    SCORE(tags, "", "<think>steps</think> <answer>42", NULL, 5, FINISH_EOS, 0.75);
    SCORE(tags, "", "<think><think>steps</think> <answer>42", NULL, 5, FINISH_EOS, 0.5);
    SCORE(tags, "", "nothing", NULL, 5, FINISH_EOS, 0.0);
    /* the R1-Zero template opens <think> in the prompt */
    const char *prompt = "User: 2+2?\nAssistant: <think>";
    SCORE(lenient, prompt, "steps</think> <answer>4</answer>", NULL, 5, FINISH_EOS, 1.0);
    SCORE(strict, prompt, "\nsteps\n</think>\n<answer>\n4\n</answer>", NULL, 5, FINISH_EOS, 1.0);
    SCORE("[{\"name\":\"format\",\"mode\":\"lenient\",\"think_opened_by_prompt\":false}]", prompt,
          "steps</think> <answer>4</answer>", NULL, 5, FINISH_EOS, 0.0);
    SCORE("[{\"name\":\"format\",\"mode\":\"lenient\",\"think_tag\":\"reasoning\",\"answer_tag\":\"final\","
          "\"score\":0.5}]",
          "", "<reasoning>r</reasoning><final>f</final>", NULL, 5, FINISH_EOS, 0.5);
}

static void test_length(void) {
    const char *dapo = "[{\"name\":\"length\",\"mode\":\"dapo\",\"max_length\":100,\"cache_length\":20}]";
    SCORE(dapo, "", "x", NULL, 50, FINISH_EOS, 0.0);
    SCORE(dapo, "", "x", NULL, 80, FINISH_EOS, 0.0);   /* L_max - L_cache */
    SCORE(dapo, "", "x", NULL, 90, FINISH_EOS, -0.5);  /* (80 - 90) / 20 */
    SCORE(dapo, "", "x", NULL, 95, FINISH_EOS, -0.75);
    SCORE(dapo, "", "x", NULL, 100, FINISH_EOS, -1.0);
    SCORE(dapo, "", "x", NULL, 130, FINISH_LENGTH, -1.0);
    NO_SCORE(dapo, "", "x", NULL, -1, FINISH_EOS);      /* token count unknown */
    SCORE("[{\"name\":\"length\",\"mode\":\"dapo\",\"max_length\":100,\"cache_length\":20,\"penalty_factor\":0.5}]",
          "", "x", NULL, 90, FINISH_EOS, -0.25);
    /* chars: "h\xc3\xa9llo" is 5 code points */
    SCORE("[{\"name\":\"length\",\"mode\":\"dapo\",\"max_length\":6,\"cache_length\":2,\"unit\":\"chars\"}]", "",
          "h\xc3\xa9llo", NULL, -1, FINISH_EOS, -0.5);

    const char *cs = "[{\"name\":\"length\",\"mode\":\"cosine\",\"max_length\":100}]";
    const char *ex = "{\"answer\":\"4\"}";
    SCORE(cs, "", "\\boxed{4}", ex, 0, FINISH_EOS, 1.0);     /* correct, short: max_value_correct */
    SCORE(cs, "", "\\boxed{4}", ex, 50, FINISH_EOS, 0.75);   /* halfway: mean of 1.0 and 0.5 */
    SCORE(cs, "", "\\boxed{4}", ex, 100, FINISH_EOS, 0.5);   /* min_value_correct */
    SCORE(cs, "", "\\boxed{4}", ex, 400, FINISH_EOS, 0.5);   /* clipped at max_length */
    SCORE(cs, "", "\\boxed{5}", ex, 0, FINISH_EOS, -1.0);    /* wrong, short: min_value_wrong */
    SCORE(cs, "", "\\boxed{5}", ex, 100, FINISH_EOS, -0.5);  /* wrong, long: max_value_wrong */
    SCORE(cs, "", "\\boxed{5}", ex, 25, FINISH_EOS, -0.5 + 0.5 * (-0.5) * (1 + cos(M_PI * 0.25)));
    SCORE(cs, "", "no answer", ex, 0, FINISH_EOS, -1.0);
    NO_SCORE(cs, "", "\\boxed{4}", "{}", 10, FINISH_EOS);
    SCORE("[{\"name\":\"length\",\"mode\":\"cosine\",\"max_length\":10,\"min_value_correct\":0,"
          "\"max_value_correct\":2}]",
          "", "\\boxed{4}", ex, 5, FINISH_EOS, 1.0);

    const char *tr = "[{\"name\":\"length\",\"mode\":\"truncation\"}]";
    SCORE(tr, "", "x", NULL, 10, FINISH_LENGTH, -1.0);
    SCORE(tr, "", "x", NULL, 10, FINISH_EOS, 0.0);
    SCORE(tr, "", "x", NULL, 10, FINISH_STOP, 0.0);
    SCORE("[{\"name\":\"length\",\"mode\":\"truncation\",\"truncated_score\":0,\"complete_score\":1}]", "", "x",
          NULL, -1, FINISH_EOS, 1.0);
}

static void test_language(void) {
    const char *en = "[{\"name\":\"language_consistency\",\"language\":\"en\"}]";
    const char *zh = "[{\"name\":\"language_consistency\",\"language\":\"zh\"}]";
    SCORE(en, "", "<think>Let me think about this</think><answer>4</answer>", NULL, 5, FINISH_EOS, 1.0);
    /* Let, me (Latin) and three Han characters */
    const char *mixed = "<think>Let me \xe6\x83\xb3\xe4\xb8\x80\xe6\x83\xb3</think><answer>ok</answer>";
    SCORE(en, "", mixed, NULL, 5, FINISH_EOS, 0.4);
    SCORE(zh, "", mixed, NULL, 5, FINISH_EOS, 0.6);
    /* $...$, \frac and single letters are not words: so, is (Latin), two Han */
    const char *math = "<think>so $x^2 + y$ is \\frac{a}{b} \xe4\xbd\xa0\xe5\xa5\xbd</think>";
    SCORE(en, "", math, NULL, 5, FINISH_EOS, 0.5);
    SCORE("[{\"name\":\"language_consistency\",\"language\":\"en\",\"ignore_math\":false}]", "",
          "<think>so x is \xe4\xbd\xa0</think>", NULL, 5, FINISH_EOS, 0.75);
    /* only the think part counts, by default */
    SCORE(en, "", "<think>english words</think><answer>\xe4\xbd\xa0\xe5\xa5\xbd</answer>", NULL, 5, FINISH_EOS, 1.0);
    SCORE("[{\"name\":\"language_consistency\",\"scope\":\"completion\"}]", "",
          "<think>english words</think><answer>\xe4\xbd\xa0\xe5\xa5\xbd</answer>", NULL, 5, FINISH_EOS, 0.5);
    /* template-opened think: text up to </think> */
    SCORE(en, "", "english here</think> \xe4\xbd\xa0", NULL, 5, FINISH_EOS, 1.0);
    /* Cyrillic */
    SCORE("[{\"name\":\"language_consistency\",\"language\":\"ru\"}]", "",
          "<think>\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 hello</think>", NULL, 5, FINISH_EOS, 0.5);
    NO_SCORE(en, "", "<think>1 + 2 = 3</think>", NULL, 5, FINISH_EOS);
    NO_SCORE(en, "", "", NULL, 0, FINISH_EOS);
}

static void test_repetition(void) {
    const char *r3 = "[{\"name\":\"repetition\"}]";
    SCORE(r3, "", "the cat sat on the mat", NULL, 6, FINISH_EOS, 0.0);
    /* 9 words, 7 trigrams, 3 distinct: -(1 - 3/7) */
    SCORE(r3, "", "a b c a b c a b c", NULL, 9, FINISH_EOS, -(1.0 - 3.0 / 7.0));
    /* lower-cased: 6 words, 4 trigrams, 3 distinct */
    SCORE(r3, "", "A b C a B c", NULL, 6, FINISH_EOS, -0.25);
    SCORE(r3, "", "too short", NULL, 2, FINISH_EOS, 0.0);
    SCORE(r3, "", "", NULL, 0, FINISH_EOS, 0.0);
    /* bigrams, max_penalty -0.5: "x x x x x" has 4 bigrams, 1 distinct */
    SCORE("[{\"name\":\"repetition\",\"ngram_size\":2,\"max_penalty\":-0.5}]", "", "x x x x x", NULL, 5,
          FINISH_EOS, -0.5 * 0.75);
    /* whitespace of any kind separates words */
    SCORE(r3, "", "a b c\na\tb  c", NULL, 6, FINISH_EOS, -0.25);
}

int main(void) {
    test_math_accuracy();
    test_countdown();
    test_format();
    test_length();
    test_language();
    test_repetition();
    return test_summary();
}
