/*
 * countdown.c: the `countdown` reward (TinyZero's rule for the Countdown
 * game): the last <answer>...</answer> must hold an arithmetic expression
 * over the example's numbers, each used exactly once, with only integers,
 * + - * / and parentheses; it scores correct_score if it evaluates to the
 * target within 1e-5, format_score for any other extracted expression
 * (wrong value, wrong numbers, bad characters, division by zero), and
 * no_answer_score when there is no <answer> tag. The expression is read by
 * the small parser below, never by an eval.
 * Not for: the prompt format or the task generator (data/).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "reward.h"
#include "reward_text.h"

#define MAX_NUMS 32

typedef struct {
    char target_key[64], numbers_key[64];
    double correct_score, format_score, no_answer_score;
} Countdown;

/* ---- a safe parser for + - * / ( ) over integers ---- */

typedef struct {
    const char *s;
    size_t pos;
    int depth;
    long used[MAX_NUMS]; /* the integer literals in the order read */
    int n_used;
    int bad;
} Calc;

static void calc_skip(Calc *c) {
    while (isspace((unsigned char)c->s[c->pos])) c->pos++;
}

static double calc_sum(Calc *c);

static double calc_atom(Calc *c) {
    calc_skip(c);
    char ch = c->s[c->pos];
    if (ch == '(') {
        c->pos++;
        double v = calc_sum(c);
        calc_skip(c);
        if (c->s[c->pos] != ')') {
            c->bad = 1;
            return NAN;
        }
        c->pos++;
        return v;
    }
    if (ch == '-' || ch == '+') {
        c->pos++;
        if (++c->depth > 64) {
            c->bad = 1;
            return NAN;
        }
        double v = calc_atom(c);
        c->depth--;
        return ch == '-' ? -v : v;
    }
    if (isdigit((unsigned char)ch)) {
        long v = 0;
        while (isdigit((unsigned char)c->s[c->pos])) {
            if (v > 100000000L) {
                c->bad = 1;
                return NAN;
            }
            v = v * 10 + (c->s[c->pos++] - '0');
        }
        if (c->n_used == MAX_NUMS) {
            c->bad = 1;
            return NAN;
        }
        c->used[c->n_used++] = v;
        return (double)v;
    }
    c->bad = 1;
    return NAN;
}

static double calc_product(Calc *c) {
    double v = calc_atom(c);
    for (;;) {
        calc_skip(c);
        char op = c->s[c->pos];
        if (c->bad || (op != '*' && op != '/')) return v;
        c->pos++;
        double w = calc_atom(c);
        if (op == '*') {
            v *= w;
        } else {
            if (w == 0) c->bad = 1;
            v /= w;
        }
    }
}

static double calc_sum(Calc *c) {
    if (++c->depth > 64) {
        c->bad = 1;
        return NAN;
    }
    double v = calc_product(c);
    for (;;) {
        calc_skip(c);
        char op = c->s[c->pos];
        if (c->bad || (op != '+' && op != '-')) break;
        c->pos++;
        double w = calc_product(c);
        v = op == '+' ? v + w : v - w;
    }
    c->depth--;
    return v;
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* ---- the reward ---- */

static int copy_key(const cJSON *params, const char *path, const char *key, char *dst, size_t cap) {
    const char *v = NULL;
    if (json_get_string(params, path, key, &v)) return -1;
    if (!v) return 0;
    if (!v[0] || strlen(v) >= cap) return ERR("%s.%s: must be a non-empty field name shorter than %zu bytes", path, key, cap);
    snprintf(dst, cap, "%s", v);
    return 0;
}

static int countdown_create(const cJSON *params, const char *path, void **state) {
    static const char *const keys[] = {"target_key", "numbers_key", "correct_score", "format_score",
                                       "no_answer_score"};
    if (json_check_keys(params, path, keys, sizeof(keys) / sizeof(keys[0]))) return -1;
    Countdown *c = xcalloc(1, sizeof(*c));
    snprintf(c->target_key, sizeof(c->target_key), "target");
    snprintf(c->numbers_key, sizeof(c->numbers_key), "nums");
    c->correct_score = 1.0;
    c->format_score = 0.1;
    c->no_answer_score = 0.0;
    if (copy_key(params, path, "target_key", c->target_key, sizeof(c->target_key)) ||
        copy_key(params, path, "numbers_key", c->numbers_key, sizeof(c->numbers_key)) ||
        json_get_double(params, path, "correct_score", -1e6, 1e6, &c->correct_score) ||
        json_get_double(params, path, "format_score", -1e6, 1e6, &c->format_score) ||
        json_get_double(params, path, "no_answer_score", -1e6, 1e6, &c->no_answer_score)) {
        free(c);
        return -1;
    }
    *state = c;
    return 0;
}

/* Reads target and numbers from the example; 0 if they are not usable. */
static int read_example(const Countdown *c, const cJSON *ex, double *target, long *nums, int *n) {
    if (!ex) return 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(ex, c->target_key);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(ex, c->numbers_key);
    if (!cJSON_IsNumber(t) || !cJSON_IsArray(a)) return 0;
    *target = t->valuedouble;
    *n = 0;
    for (const cJSON *it = a->child; it; it = it->next) {
        if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || *n == MAX_NUMS) return 0;
        nums[(*n)++] = (long)it->valuedouble;
    }
    return *n > 0;
}

static int countdown_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    const Countdown *c = state;
    for (size_t i = 0; i < n; i++) {
        double target;
        long nums[MAX_NUMS];
        int n_nums;
        if (!read_example(c, in[i].example, &target, nums, &n_nums)) continue; /* no score */
        out[i].has_score = 1;
        char *eq = rtext_last_tag(in[i].completion, "answer");
        if (!eq) {
            out[i].score = c->no_answer_score;
            continue;
        }
        Calc k = {.s = eq};
        double v = calc_sum(&k);
        calc_skip(&k);
        const char *verdict = "correct";
        if (k.bad || k.s[k.pos] != '\0') {
            verdict = "invalid expression";
        } else if (k.n_used != n_nums) {
            verdict = "wrong numbers";
        } else {
            qsort(k.used, (size_t)k.n_used, sizeof(long), cmp_long);
            qsort(nums, (size_t)n_nums, sizeof(long), cmp_long);
            if (memcmp(k.used, nums, (size_t)n_nums * sizeof(long))) verdict = "wrong numbers";
            else if (!(fabs(v - target) < 1e-5)) verdict = "wrong value";
        }
        out[i].score = strcmp(verdict, "correct") ? c->format_score : c->correct_score;
        out[i].diag = cJSON_CreateObject();
        cJSON_AddStringToObject(out[i].diag, "verdict", verdict);
        free(eq);
    }
    return 0;
}

const RewardKind reward_kind_countdown = {
    .name = "countdown",
    .pure = 1,
    .create = countdown_create,
    .score = countdown_score,
    .destroy = free,
};
