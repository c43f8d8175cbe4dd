/*
 * task_arith.c: the multi-step arithmetic generator and the pretraining
 * corpus built on it (taskgen.h). A problem is a chain of operands and
 * operators; its worked solution is the list of steps "a op b = c" in the
 * order they are done (left to right, or * first with "order":
 * "precedence").
 * Not for: the split rule and parameters (taskgen.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "taskgen_impl.h"

enum { MAX_STEPS = TASKGEN_MAX_TERMS - 1, EXPR_CAP = 256 };

/* One step: lhs op rhs. An operand ref >= 0 is an earlier step's result,
 * ref < 0 is the literal term[-ref - 1]. */
typedef struct {
    int lhs, rhs;
    char op;
} Step;

typedef struct {
    int n_terms, n_steps;
    long term[TASKGEN_MAX_TERMS];
    char op[MAX_STEPS];       /* op[j] joins term[j] and term[j + 1] */
    Step step[MAX_STEPS];     /* in the order they are done */
    long value[MAX_STEPS];    /* result of each step */
    char expr[EXPR_CAP];      /* the expression as the question shows it */
} Problem;

static long ref_value(const Problem *p, int ref) { return ref >= 0 ? p->value[ref] : p->term[-ref - 1]; }

static long apply(long a, char op, long b) { return op == '+' ? a + b : op == '-' ? a - b : a * b; }

/* Steps [from, n_steps) recomputed from their operands. */
static void evaluate(Problem *p, int from) {
    for (int s = from; s < p->n_steps; s++)
        p->value[s] = apply(ref_value(p, p->step[s].lhs), p->step[s].op, ref_value(p, p->step[s].rhs));
}

static int add_step(Problem *p, int lhs, char op, int rhs) {
    p->step[p->n_steps] = (Step){lhs, rhs, op};
    return p->n_steps++;
}

/* Left to right: each step combines the result so far with the next term. */
static void plan_left(Problem *p) {
    int acc = -1;
    for (int j = 0; j < p->n_terms - 1; j++) acc = add_step(p, acc, p->op[j], -(j + 2));
}

/* Precedence: each run of * is multiplied out first (left to right), then
 * the products and lone terms are added and subtracted left to right. */
static void plan_precedence(Problem *p) {
    int item[TASKGEN_MAX_TERMS], n_items = 0;
    char item_op[TASKGEN_MAX_TERMS];
    int cur = -1;
    for (int j = 0; j < p->n_terms - 1; j++) {
        if (p->op[j] == '*') {
            cur = add_step(p, cur, '*', -(j + 2));
        } else {
            item[n_items++] = cur;
            item_op[n_items] = p->op[j];
            cur = -(j + 2);
        }
    }
    item[n_items++] = cur;
    int acc = item[0];
    for (int i = 1; i < n_items; i++) acc = add_step(p, acc, item_op[i], item[i]);
}

/* The question's expression. Left to right, the part done so far is put in
 * parentheses before a * whenever it ends in + or - at its top level, which
 * is exactly where ordinary precedence would read it differently. */
static void render_expr(Problem *p, int precedence) {
    /* at most 12 terms of 7 characters, 11 " op " and 11 pairs of parentheses: < EXPR_CAP */
    size_t n = (size_t)snprintf(p->expr, EXPR_CAP, "%ld", p->term[0]);
    int additive = 0;
    for (int j = 0; j < p->n_terms - 1; j++) {
        if (!precedence && p->op[j] == '*' && additive) {
            memmove(p->expr + 1, p->expr, n);
            p->expr[0] = '(';
            p->expr[n + 1] = ')';
            n += 2;
            additive = 0;
        }
        n += (size_t)snprintf(p->expr + n, EXPR_CAP - n, " %c %ld", p->op[j], p->term[j + 1]);
        if (p->op[j] != '*') additive = 1;
    }
}

/* Draws one problem; 0 if every result is within the bounds, else 1. */
static int draw_problem(const ArithParams *a, Rng *r, Problem *p) {
    memset(p, 0, sizeof(*p));
    p->n_terms = (int)task_draw_range(r, a->min_terms, a->max_terms);
    uint32_t n_ops = (uint32_t)strlen(a->ops);
    for (int j = 0; j < p->n_terms; j++) p->term[j] = task_draw_range(r, a->min_operand, a->max_operand);
    for (int j = 0; j < p->n_terms - 1; j++) p->op[j] = a->ops[rng_below(r, n_ops)];
    if (a->precedence) plan_precedence(p);
    else plan_left(p);
    evaluate(p, 0);
    for (int s = 0; s < p->n_steps; s++)
        if (p->value[s] < a->min_result || p->value[s] > a->max_result) return 1;
    return 0;
}

/* Draws problems until one of the split comes up. */
static int draw_in_split(const TaskGen *g, TaskSplit split, Rng *r, Problem *p) {
    for (int d = 0; d < TASKGEN_MAX_DRAWS; d++) {
        if (draw_problem(&g->arith, r, p)) continue;
        render_expr(p, g->arith.precedence);
        if (taskgen_split_of(g, p->expr) == split) return 0;
    }
    return task_too_few(g, split, "widen min/max_terms, min/max_operand or min/max_result");
}

/* "a op b = c, c op d = e, ..." from the current step values ("a op b=c,..."
 * without spaces when compact). With pad_steps, every step result (and its
 * reuse as an operand) is zero-padded to the width of the widest result
 * allowed, sign included ("9+8=17,17-8=09,09-7=02"; -99..99 gives "-05",
 * "015"): each step has the same length, so where the next operand sits no
 * longer depends on the earlier results. */
static void solution_text(const Problem *p, const ArithParams *a, StrBuf *b) {
    char line[128];
    const int wl = snprintf(NULL, 0, "%ld", a->min_result), wh = snprintf(NULL, 0, "%ld", a->max_result);
    const int w = a->pad_steps ? (wl > wh ? wl : wh) : 0;
    for (int s = 0; s < p->n_steps; s++) {
        const Step *st = &p->step[s];
        snprintf(line, sizeof line, a->compact ? "%s%0*ld%c%0*ld=%0*ld" : "%s%0*ld %c %0*ld = %0*ld",
                 s ? (a->compact ? "," : ", ") : "", st->lhs >= 0 ? w : 0, ref_value(p, st->lhs), st->op,
                 st->rhs >= 0 ? w : 0, ref_value(p, st->rhs), w, p->value[s]);
        strbuf_cat(b, line);
    }
}

/* A new object {"prompt": "What is <expr>?"}; the expression without its
 * spaces when compact (the held-out rule still reads the spaced one). */
static cJSON *question(const Problem *p, int compact) {
    char text[EXPR_CAP + 16];
    size_t n = (size_t)snprintf(text, sizeof text, "What is %s?", p->expr);
    if (compact) {
        size_t k = 8;
        for (size_t i = 8; i < n; i++)
            if (text[i] != ' ') text[k++] = text[i];
        text[k] = '\0';
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "prompt", text);
    return o;
}

static void add_answer(cJSON *o, long answer) {
    char ans[32];
    snprintf(ans, sizeof ans, "%ld", answer);
    cJSON_AddStringToObject(o, "answer", ans);
}

int task_arith_example(const TaskGen *g, TaskSplit split, Rng *r, cJSON **out) {
    Problem p;
    if (draw_in_split(g, split, r, &p)) return -1;
    cJSON *o = question(&p, g->arith.compact);
    add_answer(o, p.value[p.n_steps - 1]);
    StrBuf sol = {0};
    solution_text(&p, &g->arith, &sol);
    cJSON_AddStringToObject(o, "solution", sol.p);
    free(sol.p);
    *out = o;
    return 0;
}

/* Puts a slip into one step (an off-by-one or -two result) and carries it
 * through the later steps. Returns 1 if the final answer became wrong; a
 * slip that a later "* 0" hides is retried a few times, else 0 with the
 * correct values restored. */
static int add_slip(Problem *p, Rng *r) {
    static const long deltas[] = {-2, -1, 1, 2};
    long good[MAX_STEPS];
    memcpy(good, p->value, sizeof good);
    long answer = p->value[p->n_steps - 1];
    for (int t = 0; t < 8; t++) {
        int s = (int)rng_below(r, (uint32_t)p->n_steps);
        p->value[s] += deltas[rng_below(r, 4)];
        evaluate(p, s + 1);
        if (p->value[p->n_steps - 1] != answer) return 1;
        memcpy(p->value, good, sizeof good);
    }
    return 0;
}

int task_corpus_example(const TaskGen *g, TaskSplit split, Rng *r, cJSON **out) {
    Problem p;
    if (draw_in_split(g, split, r, &p)) return -1;
    long answer = p.value[p.n_steps - 1];
    const char *style = "direct";
    StrBuf c = {0};
    const int compact = g->arith.compact;
    if (rng_uniform_double(r) < g->corpus.think_fraction) {
        style = "think";
        if (rng_uniform_double(r) < g->corpus.slip_rate && add_slip(&p, r)) style = "slip";
        strbuf_cat(&c, compact ? "<think>" : " <think> ");
        solution_text(&p, &g->arith, &c);
        strbuf_cat(&c, compact ? "</think>" : " </think>");
    }
    char tail[48];
    snprintf(tail, sizeof tail, compact ? "<answer>%ld</answer>" : " <answer> %ld </answer>", p.value[p.n_steps - 1]);
    strbuf_cat(&c, tail);
    cJSON *o = question(&p, compact);
    cJSON_AddStringToObject(o, "completion", c.p);
    add_answer(o, answer);
    cJSON_AddStringToObject(o, "style", style);
    free(c.p);
    *out = o;
    return 0;
}
