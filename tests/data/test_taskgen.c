/*
 * test_taskgen.c: the task generators (data/taskgen.h): determinism, the
 * held-out rule (train and eval never share a problem, whatever the seeds
 * and counts), arithmetic answers checked by an independent evaluator of
 * the question, worked steps and result bounds, Countdown instances all
 * solved by their stored answer under the countdown reward, the corpus mix
 * and its slips, and parameter errors.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/taskgen.h"
#include "reward/reward.h"
#include "test.h"

/* ---- a set of strings (the canonical problems seen) ---- */

typedef struct {
    char **s;
    size_t n, cap;
} Set;

static int set_has(const Set *set, const char *s) {
    for (size_t i = 0; i < set->n; i++)
        if (!strcmp(set->s[i], s)) return 1;
    return 0;
}

static void set_add(Set *set, const char *s) {
    if (set_has(set, s)) return;
    if (set->n == set->cap) {
        set->cap = set->cap ? 2 * set->cap : 64;
        set->s = xrealloc(set->s, set->cap * sizeof(char *));
    }
    set->s[set->n++] = xstrdup(s);
}

static void set_free(Set *set) {
    for (size_t i = 0; i < set->n; i++) free(set->s[i]);
    free(set->s);
    memset(set, 0, sizeof(*set));
}

static TaskGen make(const char *kind, const char *params_json) {
    TaskGen g;
    cJSON *p = params_json ? cJSON_Parse(params_json) : NULL;
    if (params_json && !p) FATAL("bad test params %s", params_json);
    if (taskgen_init(&g, kind, p, "params")) FATAL("taskgen_init(%s, %s): %s", kind, params_json, err_msg());
    cJSON_Delete(p);
    return g;
}

static const char *str(const cJSON *ex, const char *key) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(ex, key);
    return cJSON_IsString(it) ? it->valuestring : "";
}

/* Collects the canonical problems of examples [0, n) of a split into set;
 * counts examples whose canonical text maps to the other split. */
static size_t collect(const TaskGen *g, TaskSplit split, size_t n, Set *set) {
    size_t wrong_side = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *ex;
        char key[256];
        if (taskgen_example(g, split, i, &ex) || taskgen_canonical(g, ex, key, sizeof key))
            FATAL("example %zu: %s", i, err_msg());
        wrong_side += taskgen_split_of(g, key) != split;
        set_add(set, key);
        cJSON_Delete(ex);
    }
    return wrong_side;
}

static size_t overlap(const Set *a, const Set *b) {
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++) n += set_has(b, a->s[i]);
    return n;
}

/* A small problem space (2 terms, 1..9, + and -: 162 problems): drawn
 * without the rule, 2000 train and 500 eval examples would share nearly
 * every problem. With it, none, across different seeds too. */
static void test_held_out_small_space(void) {
    const char *kinds[] = {"arith", "corpus"};
    for (int k = 0; k < 2; k++) {
        TaskGen a = make(kinds[k], "{\"seed\": 1, \"min_terms\": 2, \"max_terms\": 2, \"ops\": \"+-\", "
                                   "\"eval_fraction\": 0.2}");
        TaskGen b = make(kinds[k], "{\"seed\": 2, \"min_terms\": 2, \"max_terms\": 2, \"ops\": \"+-\", "
                                   "\"eval_fraction\": 0.2}");
        Set train = {0}, eval = {0};
        TEST_CHECK(collect(&a, TASK_TRAIN, 2000, &train) == 0, "%s: train example on the eval side", kinds[k]);
        TEST_CHECK(collect(&b, TASK_EVAL, 500, &eval) == 0, "%s: eval example on the train side", kinds[k]);
        TEST_CHECK(collect(&a, TASK_EVAL, 300, &eval) == 0, "%s: eval example on the train side", kinds[k]);
        TEST_CHECK(overlap(&train, &eval) == 0, "%s: %zu problems in both splits", kinds[k], overlap(&train, &eval));
        /* both splits cover their side of the space, so the test has teeth */
        TEST_CHECK(train.n + eval.n > 150 && eval.n > 10, "%s: %zu train + %zu eval distinct problems of 162",
                   kinds[k], train.n, eval.n);
        set_free(&train);
        set_free(&eval);
    }
}

/* The corpus (built from train) never holds an arithmetic eval problem. */
static void test_corpus_vs_arith_eval(void) {
    TaskGen corpus = make("corpus", "{\"seed\": 5, \"max_terms\": 3}");
    TaskGen arith = make("arith", "{\"seed\": 9, \"max_terms\": 3}");
    Set c = {0}, e = {0};
    collect(&corpus, TASK_TRAIN, 3000, &c);
    collect(&arith, TASK_EVAL, 1000, &e);
    TEST_CHECK(overlap(&c, &e) == 0, "corpus train shares %zu problems with arith eval", overlap(&c, &e));
    set_free(&c);
    set_free(&e);
}

static void test_countdown_held_out(void) {
    TaskGen a = make("countdown", "{\"seed\": 3, \"min_nums\": 3, \"max_nums\": 3, \"max_number\": 9, "
                                  "\"max_target\": 30, \"eval_fraction\": 0.3}");
    TaskGen b = make("countdown", "{\"seed\": 4, \"min_nums\": 3, \"max_nums\": 3, \"max_number\": 9, "
                                  "\"max_target\": 30, \"eval_fraction\": 0.3}");
    Set train = {0}, eval = {0};
    TEST_CHECK(collect(&a, TASK_TRAIN, 1500, &train) == 0, "countdown train on the eval side");
    TEST_CHECK(collect(&b, TASK_EVAL, 800, &eval) == 0, "countdown eval on the train side");
    TEST_CHECK(overlap(&train, &eval) == 0, "countdown: %zu problems in both splits", overlap(&train, &eval));
    TEST_CHECK(eval.n > 100 && train.n > 300, "countdown: %zu train, %zu eval distinct", train.n, eval.n);
    set_free(&train);
    set_free(&eval);
}

static void test_determinism(void) {
    const char *kinds[] = {"arith", "countdown", "corpus"};
    for (int k = 0; k < 3; k++) {
        TaskGen g = make(kinds[k], "{\"seed\": 11}");
        TaskGen h = make(kinds[k], "{\"seed\": 12}");
        int same_other_seed = 0;
        for (int i = 40; i >= 0; i--) { /* backwards: order must not matter */
            cJSON *x, *y, *z;
            TEST_CHECK(!taskgen_example(&g, TASK_TRAIN, (uint64_t)i, &x), "%s", err_msg());
            TEST_CHECK(!taskgen_example(&g, TASK_TRAIN, (uint64_t)i, &y), "%s", err_msg());
            TEST_CHECK(!taskgen_example(&h, TASK_TRAIN, (uint64_t)i, &z), "%s", err_msg());
            TEST_CHECK(cJSON_Compare(x, y, 1), "%s example %d differs between calls", kinds[k], i);
            same_other_seed += cJSON_Compare(x, z, 1);
            cJSON_Delete(x);
            cJSON_Delete(y);
            cJSON_Delete(z);
        }
        TEST_CHECK(same_other_seed < 10, "%s: %d of 41 examples equal under another seed", kinds[k], same_other_seed);
    }
}

/* ---- an independent evaluator: + - * with precedence and parentheses ---- */

typedef struct {
    const char *s;
    int bad;
} Parser;

static long parse_sum(Parser *p);

static void skip_spaces(Parser *p) {
    while (*p->s == ' ') p->s++;
}

static long parse_atom(Parser *p) {
    skip_spaces(p);
    if (*p->s == '(') {
        p->s++;
        long v = parse_sum(p);
        skip_spaces(p);
        if (*p->s++ != ')') p->bad = 1;
        return v;
    }
    if (!isdigit((unsigned char)*p->s)) {
        p->bad = 1;
        return 0;
    }
    return strtol(p->s, (char **)&p->s, 10);
}

static long parse_product(Parser *p) {
    long v = parse_atom(p);
    for (skip_spaces(p); *p->s == '*'; skip_spaces(p)) {
        p->s++;
        v *= parse_atom(p);
    }
    return v;
}

static long parse_sum(Parser *p) {
    long v = parse_product(p);
    for (skip_spaces(p); *p->s == '+' || *p->s == '-'; skip_spaces(p)) {
        char op = *p->s++;
        long w = parse_product(p);
        v = op == '+' ? v + w : v - w;
    }
    return v;
}

/* Checks "a op b = c, ..." step by step; returns the last c, or sets *bad. */
static long check_steps(const char *sol, long lo, long hi, int *bad, int *out_of_range) {
    long last = 0;
    const char *p = sol;
    while (*p) {
        long a, b, c;
        char op;
        int used = 0;
        if (sscanf(p, "%ld %c %ld = %ld%n", &a, &op, &b, &c, &used) != 4) {
            *bad = 1;
            return 0;
        }
        long want = op == '+' ? a + b : op == '-' ? a - b : a * b;
        if (want != c || !strchr("+-*", op)) *bad = 1;
        if (c < lo || c > hi) *out_of_range = 1;
        last = c;
        p += used;
        if (!strncmp(p, ", ", 2)) p += 2;
        else if (*p) *bad = 1, p += strlen(p);
    }
    return last;
}

static void test_arith_answers(const char *params, int precedence) {
    TaskGen g = make("arith", params);
    int wrong = 0, bad_steps = 0, out_of_range = 0, parens = 0, terms_ok = 1;
    for (int i = 0; i < 2000; i++) {
        cJSON *ex;
        if (taskgen_example(&g, (TaskSplit)(i % 2), (uint64_t)i, &ex)) FATAL("%s", err_msg());
        const char *prompt = str(ex, "prompt");
        char expr[256];
        if (taskgen_canonical(&g, ex, expr, sizeof expr)) FATAL("%s", err_msg());
        Parser p = {expr, 0};
        long v = parse_sum(&p);
        skip_spaces(&p);
        long answer = strtol(str(ex, "answer"), NULL, 10);
        int bad = p.bad || *p.s;
        long last = check_steps(str(ex, "solution"), g.arith.min_result, g.arith.max_result, &bad, &out_of_range);
        if (bad) bad_steps++;
        if (v != answer || last != answer) {
            if (wrong++ < 3) fprintf(stderr, "  %s -> %ld, answer %ld, last step %ld\n", prompt, v, answer, last);
        }
        parens += strchr(prompt, '(') != NULL;
        int n_terms = 1;
        for (const char *s = expr; *s; s++) n_terms += *s == '+' || *s == '-' || *s == '*';
        terms_ok &= n_terms >= g.arith.min_terms && n_terms <= g.arith.max_terms;
        cJSON_Delete(ex);
    }
    TEST_CHECK(wrong == 0, "%s: %d answers differ from the question read with ordinary precedence", params, wrong);
    TEST_CHECK(bad_steps == 0, "%s: %d malformed or wrong worked steps", params, bad_steps);
    TEST_CHECK(out_of_range == 0, "%s: %d intermediate results out of bounds", params, out_of_range);
    TEST_CHECK(terms_ok, "%s: a problem with a number of terms out of range", params);
    if (precedence) TEST_CHECK(parens == 0, "precedence order needs no parentheses, got %d", parens);
    else TEST_CHECK(parens > 100, "left to right with * should parenthesise often, got %d of 2000", parens);
}

/* Every Countdown instance is solved by its stored answer: the countdown
 * reward scores it 1.0 (so every instance is solvable). */
static void test_countdown_solvable(const char *params) {
    TaskGen g = make("countdown", params);
    cJSON *cfg = cJSON_Parse("[{\"name\": \"countdown\"}]");
    RewardSet *set = reward_set_new(cfg, "rewards");
    if (!set) FATAL("%s", err_msg());
    enum { N = 600 };
    cJSON *ex[N];
    RewardInput in[N];
    char *completions[N];
    int shape_ok = 1;
    for (int i = 0; i < N; i++) {
        if (taskgen_example(&g, (TaskSplit)(i % 2), (uint64_t)i, &ex[i])) FATAL("%s", err_msg());
        const char *ans = str(ex[i], "answer");
        completions[i] = xmalloc(strlen(ans) + 64);
        sprintf(completions[i], "<think> ok </think> <answer> %s </answer>", ans);
        in[i] = (RewardInput){.prompt = str(ex[i], "prompt"), .completion = completions[i], .example = ex[i],
                              .n_tokens = -1};
        const cJSON *nums = cJSON_GetObjectItemCaseSensitive(ex[i], "nums");
        double target = cJSON_GetObjectItemCaseSensitive(ex[i], "target")->valuedouble;
        int n = cJSON_GetArraySize(nums);
        shape_ok &= n >= g.countdown.min_nums && n <= g.countdown.max_nums && target >= (double)g.countdown.min_target &&
                    target <= (double)g.countdown.max_target;
        for (const cJSON *it = nums->child; it; it = it->next)
            shape_ok &= it->valuedouble >= (double)g.countdown.min_number && it->valuedouble <= (double)g.countdown.max_number;
    }
    RewardBatch b;
    TEST_CHECK(reward_set_score(set, in, N, &b) == 0, "%s", err_msg());
    int unsolved = 0;
    for (int i = 0; i < N; i++) {
        if (b.has_total[i] && b.total[i] == 1.0) continue;
        if (unsolved++ < 3) {
            char *text = cJSON_PrintUnformatted(ex[i]);
            fprintf(stderr, "  not solved: %s\n", text);
            free(text);
        }
    }
    TEST_CHECK(unsolved == 0, "%s: %d of %d stored answers do not score 1.0", params, unsolved, N);
    TEST_CHECK(shape_ok, "%s: numbers, count or target out of their ranges", params);
    /* the reward really checks: a wrong target scores below 1 */
    cJSON_ReplaceItemInObject(ex[0], "target", cJSON_CreateNumber(100000));
    RewardBatch b2;
    TEST_CHECK(reward_set_score(set, in, 1, &b2) == 0 && b2.total[0] < 1.0, "wrong target still scores 1");
    reward_batch_free(&b2);
    reward_batch_free(&b);
    for (int i = 0; i < N; i++) {
        cJSON_Delete(ex[i]);
        free(completions[i]);
    }
    reward_set_free(set);
    cJSON_Delete(cfg);
}

static void test_corpus_mix(void) {
    TaskGen g = make("corpus", "{\"seed\": 7, \"think_fraction\": 0.6, \"slip_rate\": 0.3}");
    int n = 4000, think = 0, slip = 0, direct = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        cJSON *ex;
        if (taskgen_example(&g, TASK_TRAIN, (uint64_t)i, &ex)) FATAL("%s", err_msg());
        const char *c = str(ex, "completion"), *style = str(ex, "style"), *gold = str(ex, "answer");
        char said[32] = "";
        const char *a = strstr(c, "<answer> ");
        if (a) sscanf(a + 9, "%31s", said);
        int has_think = !strncmp(c, " <think> ", 9) && strstr(c, " </think> <answer> ");
        int right = !strcmp(said, gold);
        if (!strcmp(style, "think")) think++, bad += !has_think || !right;
        else if (!strcmp(style, "slip")) slip++, bad += !has_think || right;
        else if (!strcmp(style, "direct")) direct++, bad += strstr(c, "<think>") != NULL || !right || strncmp(c, " <answer> ", 10);
        else bad++;
        if (!strcmp(style, "slip") && has_think) { /* some step is wrong in a slip's chain */
            int steps_bad = 0, oor = 0;
            char body[512];
            const char *e = strstr(c, " </think>");
            snprintf(body, sizeof body, "%.*s", (int)(e - c - 9), c + 9);
            check_steps(body, -1000000, 1000000, &steps_bad, &oor);
            bad += !steps_bad;
        }
        cJSON_Delete(ex);
    }
    TEST_CHECK(bad == 0, "%d corpus lines do not match their style", bad);
    TEST_CLOSE((double)(think + slip) / n, 0.6, 0.03, "share of worked solutions");
    TEST_CLOSE((double)slip / (think + slip), 0.3, 0.04, "share of slips among worked solutions");
    TEST_CHECK(think + slip + direct == n, "styles add up");
}

/* s without the zeros that pad a number ("09+8=17" -> "9+8=17"; "00" -> "0"). */
static void strip_pad(char *out, const char *s) {
    for (; *s; s++) {
        int pad = s[0] == '0' && s[1] >= '0' && s[1] <= '9';
        *out = *s;
        out += !pad;
    }
    *out = '\0';
}

/* pad_steps: every step of a worked solution has the same length, and
 * without its padding each line is the unpadded generator's line. */
static void test_pad_steps(void) {
    const char *base = "\"seed\": 9, \"min_terms\": 5, \"max_terms\": 5, \"min_result\": 0, \"max_result\": 20, "
                       "\"ops\": \"+-\", \"compact\": true, \"think_fraction\": 0.8, \"slip_rate\": 0.3";
    char with[512], without[512];
    snprintf(with, sizeof with, "{%s, \"pad_steps\": true}", base);
    snprintf(without, sizeof without, "{%s}", base);
    TaskGen gp = make("corpus", with), gu = make("corpus", without);
    int differ = 0, uneven = 0, worked = 0;
    for (int i = 0; i < 1000; i++) {
        cJSON *a, *b;
        if (taskgen_example(&gp, TASK_TRAIN, (uint64_t)i, &a) || taskgen_example(&gu, TASK_TRAIN, (uint64_t)i, &b))
            FATAL("%s", err_msg());
        const char *c = str(a, "completion");
        char plain[512];
        strip_pad(plain, c);
        differ += strcmp(plain, str(b, "completion")) || strcmp(str(a, "answer"), str(b, "answer"));
        const char *t = strstr(c, "<think>"), *e = strstr(c, "</think>");
        if (t && e) { /* steps after the first: "dd+d=dd" (a slip below 0: "-1+d=dd") */
            worked++;
            for (const char *q = strchr(t, ','); q && q < e; q = strchr(q + 1, ',')) {
                const char *next = strchr(q + 1, ',');
                long len = (next && next < e ? next : e) - (q + 1);
                uneven += len != 7;
            }
        }
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    TEST_CHECK(differ == 0, "%d padded lines differ from the unpadded ones beyond their zeros", differ);
    TEST_CHECK(uneven == 0 && worked > 700, "%d steps of uneven length in %d worked solutions", uneven, worked);
    /* arith, results -99..99: every step result three wide ("-05", "015", "-15") */
    TaskGen ga = make("arith", "{\"seed\": 1, \"min_result\": -99, \"max_result\": 99, \"pad_steps\": true}");
    int short_results = 0, steps = 0;
    for (int i = 0; i < 200; i++) {
        cJSON *ex;
        if (taskgen_example(&ga, TASK_TRAIN, (uint64_t)i, &ex)) FATAL("%s", err_msg());
        for (const char *q = strstr(str(ex, "solution"), "= "); q; q = strstr(q + 2, "= ")) {
            size_t w = strcspn(q + 2, ",");
            steps++;
            short_results += w != 3;
        }
        cJSON_Delete(ex);
    }
    TEST_CHECK(short_results == 0 && steps > 200, "arith with pad_steps: %d of %d step results not three wide",
               short_results, steps);
}

static void expect_init_error(const char *kind, const char *params, const char *needle) {
    TaskGen g;
    cJSON *p = params ? cJSON_Parse(params) : NULL;
    int rc = taskgen_init(&g, kind, p, "gen");
    TEST_CHECK(rc == -1 && strstr(err_msg(), needle), "%s %s: want an error with '%s', got rc %d '%s'", kind,
               params ? params : "", needle, rc, err_msg());
    cJSON_Delete(p);
}

static void test_errors(void) {
    expect_init_error("countdwn", NULL, "did you mean 'countdown'");
    expect_init_error("arith", "{\"max_term\": 3}", "gen.max_term: unknown key; did you mean 'max_terms'");
    expect_init_error("arith", "{\"min_terms\": 6, \"max_terms\": 5}", "min_terms must be <= max_terms");
    expect_init_error("arith", "{\"ops\": \"+/\"}", "gen.ops");
    expect_init_error("arith", "{\"order\": \"right\"}", "gen.order");
    expect_init_error("countdown", "{\"max_terms\": 3}", "unknown key");
    expect_init_error("countdown", "{\"min_nums\": 6}", "out of range");
    expect_init_error("arith", "{\"eval_fraction\": 1.5}", "eval_fraction");
    expect_init_error("arith", "{\"seed\": -1}", "gen.seed");
    /* parameters that admit no problem: a clear error, not a hang */
    TaskGen g = make("arith", "{\"min_result\": 100000, \"max_result\": 100001}");
    cJSON *ex = NULL;
    TEST_CHECK(taskgen_example(&g, TASK_TRAIN, 0, &ex) == -1 && ex == NULL && strstr(err_msg(), "too few problems"),
               "impossible bounds: '%s'", err_msg());
    TaskGen d = make("countdown", "{\"min_target\": 999000, \"max_target\": 999999, \"max_number\": 2}");
    TEST_CHECK(taskgen_example(&d, TASK_EVAL, 0, &ex) == -1 && strstr(err_msg(), "min/max_target"),
               "unreachable targets: '%s'", err_msg());
    /* effective parameters round-trip */
    TaskGen c = make("corpus", "{\"seed\": 4, \"ops\": \"+-\", \"order\": \"precedence\", \"slip_rate\": 0.5}");
    cJSON *j = taskgen_params_json(&c);
    TaskGen c2;
    TEST_CHECK(taskgen_init(&c2, "corpus", j, "p") == 0, "params round trip: %s", err_msg());
    cJSON *j2 = taskgen_params_json(&c2);
    TEST_CHECK(cJSON_Compare(j, j2, 1) && c2.seed == 4 && c2.arith.precedence == 1 && !strcmp(c2.arith.ops, "+-"),
               "params round trip differs");
    cJSON_Delete(j);
    cJSON_Delete(j2);
}

int main(void) {
    test_held_out_small_space();
    test_corpus_vs_arith_eval();
    test_countdown_held_out();
    test_determinism();
    test_arith_answers("{\"seed\": 2}", 0);
    test_arith_answers("{\"seed\": 3, \"order\": \"precedence\", \"max_terms\": 6}", 1);
    test_arith_answers("{\"seed\": 4, \"min_terms\": 5, \"max_terms\": 5, \"min_operand\": 0, \"max_operand\": 30, "
                       "\"min_result\": -500, \"max_result\": 500}",
                       0);
    test_countdown_solvable("{\"seed\": 1}");
    test_countdown_solvable("{\"seed\": 2, \"min_nums\": 4, \"max_nums\": 4, \"max_target\": 1000}");
    test_corpus_mix();
    test_pad_steps();
    test_errors();
    return test_summary();
}
