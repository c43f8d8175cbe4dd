/*
 * task_countdown.c: the Countdown generator (taskgen.h): a few numbers and
 * a target that some expression over + - * / and parentheses reaches using
 * every number exactly once, every intermediate result an integer (a
 * division only when it is exact). Instances are solvable by construction:
 * the target is drawn from the values an exhaustive search reaches, and
 * the stored answer is an expression the search found.
 * Not for: scoring (reward/countdown.c), the split rule (taskgen.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "taskgen_impl.h"

enum { EXPR_CAP = 128 };

/* A sub-expression of the search: its value, and (when text is wanted) its
 * text and the precedence of its top operator (3 for a number, 2 for * /,
 * 1 for + -) to decide where parentheses go. */
typedef struct {
    long v;
    int prec;
    char op;
    char text[EXPR_CAP];
} Item;

typedef struct {
    const CountdownParams *c;
    unsigned char *reach; /* [max_target - min_target + 1]: reached? (search for all values) */
    long want;            /* the value to find an expression for (search for one) */
    Item found;           /* the expression for `want` */
    int done;
} Search;

static int prec_of(char op) { return op == '+' || op == '-' ? 1 : 2; }

/* a op b as text, with the parentheses ordinary precedence needs: the left
 * side when it binds looser, the right side also when it binds equally
 * (a - (b + c), a / (b * c)) unless it is the same associative operator. */
static void join_text(Item *out, const Item *a, char op, const Item *b) {
    int p = prec_of(op);
    int pa = a->prec < p;
    int pb = b->prec < p || (b->prec == p && (op == '-' || op == '/' || b->op != op));
    snprintf(out->text, EXPR_CAP, "%s%s%s %c %s%s%s", pa ? "(" : "", a->text, pa ? ")" : "", op, pb ? "(" : "",
             b->text, pb ? ")" : "");
    out->prec = p;
    out->op = op;
}

/* Every way to combine items[0..n): pick an ordered pair, replace it by one
 * result, recurse. With n == 1 the item is a finished expression. `text`
 * selects whether expressions are built (the second, targeted pass). */
static void search(Search *s, Item *items, int n, int text) {
    if (s->done) return;
    if (n == 1) {
        long v = items[0].v;
        if (text) {
            if (v == s->want) {
                s->found = items[0];
                s->done = 1;
            }
        } else if (v >= s->c->min_target && v <= s->c->max_target) {
            s->reach[v - s->c->min_target] = 1;
        }
        return;
    }
    Item rest[TASKGEN_MAX_NUMS];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            if (i == j) continue;
            int k = 0;
            for (int m = 0; m < n; m++)
                if (m != i && m != j) rest[k++] = items[m];
            const Item *a = &items[i], *b = &items[j];
            static const char ops[] = "+-*/";
            for (int o = 0; o < 4; o++) {
                char op = ops[o];
                /* + and * are symmetric: only i < j */
                if ((op == '+' || op == '*') && i > j) continue;
                if (op == '/' && (b->v == 0 || a->v % b->v != 0)) continue;
                Item *r = &rest[k];
                r->v = op == '+' ? a->v + b->v : op == '-' ? a->v - b->v : op == '*' ? a->v * b->v : a->v / b->v;
                if (text) join_text(r, a, op, b);
                search(s, rest, k + 1, text);
                if (s->done) return;
            }
        }
    }
}

static void leaf(Item *it, long v) {
    it->v = v;
    it->prec = 3;
    it->op = 0;
    snprintf(it->text, EXPR_CAP, "%ld", v);
}

int task_countdown_key(const long *nums, int n, long target, char *buf, size_t cap) {
    long v[TASKGEN_MAX_NUMS];
    if (n > TASKGEN_MAX_NUMS) return ERR("a Countdown problem has at most %d numbers, got %d", TASKGEN_MAX_NUMS, n);
    memcpy(v, nums, (size_t)n * sizeof(long));
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            long t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    size_t off = (size_t)snprintf(buf, cap, "countdown:");
    for (int i = 0; i < n && off < cap; i++) off += (size_t)snprintf(buf + off, cap - off, "%s%ld", i ? "," : "", v[i]);
    if (off < cap) off += (size_t)snprintf(buf + off, cap - off, "=%ld", target);
    return off < cap ? 0 : ERR("canonical text longer than %zu bytes", cap);
}

static cJSON *example_json(const long *nums, int n, long target, const char *expr) {
    char prompt[256], list[96];
    size_t off = 0;
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%ld", i == 0 ? "" : i == n - 1 ? " and " : ", ",
                                nums[i]);
    snprintf(prompt, sizeof prompt,
             "Using each of the numbers %s exactly once, with + - * / and parentheses, write an expression "
             "equal to %ld.",
             list, target);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "prompt", prompt);
    cJSON *a = cJSON_AddArrayToObject(o, "nums");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)nums[i]));
    cJSON_AddNumberToObject(o, "target", (double)target);
    cJSON_AddStringToObject(o, "answer", expr);
    return o;
}

int task_countdown_example(const TaskGen *g, TaskSplit split, Rng *r, cJSON **out) {
    const CountdownParams *c = &g->countdown;
    size_t width = (size_t)(c->max_target - c->min_target + 1);
    Search s = {.c = c, .reach = xmalloc(width)};
    long *cand = xmalloc(width * sizeof(long));
    long nums[TASKGEN_MAX_NUMS];
    Item items[TASKGEN_MAX_NUMS];
    char key[160];
    int rc = -1;
    for (int d = 0; d < TASKGEN_MAX_DRAWS && rc; d++) {
        int n = (int)task_draw_range(r, c->min_nums, c->max_nums);
        for (int i = 0; i < n; i++) {
            nums[i] = task_draw_range(r, c->min_number, c->max_number);
            items[i] = (Item){.v = nums[i], .prec = 3};
        }
        memset(s.reach, 0, width);
        s.done = 0;
        search(&s, items, n, 0);
        size_t n_cand = 0;
        for (size_t t = 0; t < width; t++) {
            if (!s.reach[t]) continue;
            task_countdown_key(nums, n, c->min_target + (long)t, key, sizeof key);
            if (taskgen_split_of(g, key) == split) cand[n_cand++] = c->min_target + (long)t;
        }
        if (n_cand == 0) continue;
        s.want = cand[rng_below(r, (uint32_t)n_cand)];
        for (int i = 0; i < n; i++) leaf(&items[i], nums[i]);
        search(&s, items, n, 1);
        if (!s.done) FATAL("countdown: the targeted search missed %ld, which the first search reached", s.want);
        *out = example_json(nums, n, s.want, s.found.text);
        rc = 0;
    }
    free(s.reach);
    free(cand);
    return rc ? task_too_few(g, split, "widen min/max_number or min/max_target") : 0;
}
