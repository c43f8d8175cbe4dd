/*
 * math_grade.c: the equivalence rules of the math grader (see math_grade.h)
 * and the order in which they apply: multiple choice, relations (handed to
 * math_relation.c), matrices (math_matrix.c), lists, tuples, intervals and
 * sets, words, numbers and expressions; the explanation of the verdict.
 * Not for: the normal form (math_norm.c) or finding answers (math_extract.c).
 */
#include "math_grade.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "math_expr.h"
#include "math_rules.h"
#include "reward_text.h"

#define MAX_DEPTH 12
#define BUDGET 4000 /* rule applications per comparison */

void mctx_why(MathCtx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
}

/* ---- lists ---- */

void parts_free(Parts *p) {
    for (int i = 0; i < p->n; i++) free(p->part[i]);
    p->n = 0;
}

int math_is_open(const char *p) { return *p == '(' || *p == '[' || *p == '{' || rtext_starts(p, "\\{"); }
int math_is_close(const char *p) { return *p == ')' || *p == ']' || *p == '}' || rtext_starts(p, "\\}"); }

size_t math_bracket(const char *p, int *depth) {
    if (math_is_open(p)) (*depth)++;
    else if (math_is_close(p)) (*depth)--;
    return p[0] == '\\' && (p[1] == '{' || p[1] == '}') ? 2 : 1;
}

/* Length of a word separator at p: " or ", " and ", and after a comma the
 * Oxford ", and " / ", or " (the comma included); 0 if none. */
static size_t word_separator(const char *p) {
    const char *q = p;
    if (*q == ',') {
        q++;
        while (*q == ' ') q++;
        if ((rtext_starts(q, "and") && !isalpha((unsigned char)q[3])) ||
            (rtext_starts(q, "or") && !isalpha((unsigned char)q[2])))
            return (size_t)(q - p) + (q[0] == 'a' ? 3 : 2);
        return 1;
    }
    if (rtext_starts(p, " or ")) return 4;
    if (rtext_starts(p, " and ")) return 5;
    return 0;
}

/* One "\pm" (or "\mp") in a part becomes two parts. */
static void expand_pm(Parts *p) {
    Parts out = {0};
    for (int i = 0; i < p->n; i++) {
        char *s = p->part[i];
        const char *pm = strstr(s, "\\pm");
        if (!pm) pm = strstr(s, "\\mp");
        if (!pm || strstr(pm + 3, "\\pm") || strstr(pm + 3, "\\mp") || out.n + 2 > MATH_MAX_PARTS) {
            if (out.n < MATH_MAX_PARTS) out.part[out.n++] = s;
            else free(s);
            continue;
        }
        for (int sign = 0; sign < 2; sign++) {
            StrBuf b = {0};
            strbuf_add(&b, s, (size_t)(pm - s));
            strbuf_cat(&b, sign ? "-" : "+");
            strbuf_cat(&b, pm + 3);
            out.part[out.n++] = b.p;
        }
        free(s);
    }
    *p = out;
}

int split_top(const char *s, Parts *out) {
    out->n = 0;
    int depth = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        size_t skip = 0;
        if (*p) {
            size_t b = math_bracket(p, &depth);
            if (b == 2 || depth != 0) {
                p += b - 1;
                continue;
            }
            if (*p == ';') skip = 1;
            else if (*p == ',' || *p == ' ') skip = word_separator(p);
            else if (rtext_starts(p, "\\cup") && !isalpha((unsigned char)p[4])) skip = 4;
            if (!skip) continue;
        }
        const char *b = start, *e = p;
        rtext_trim(&b, &e);
        if (b == e || out->n == MATH_MAX_PARTS) {
            parts_free(out);
            return 0;
        }
        out->part[out->n++] = rtext_ndup(b, (size_t)(e - b));
        if (!*p) break;
        start = p + skip;
        p += skip - 1;
    }
    expand_pm(out);
    return out->n;
}

/* ---- brackets: tuples, intervals, sets ---- */

typedef enum { BK_NONE, BK_GROUP, BK_TUPLE, BK_OPEN_INTERVAL, BK_INTERVAL, BK_SET } BracketKind;

typedef struct {
    BracketKind kind;
    char open, close; /* '(' '[' '{' and ')' ']' '}' */
    Parts items;
} Bracket;

/* If s is one bracketed group "(...)", "[...)", "\{...\}", "{...}", returns
 * 1 with the bracket kinds and the inner text (xmalloc'd). */
static int bracketed(const char *s, char *open, char *close, char **inner) {
    size_t n = strlen(s);
    if (n < 2 || !math_is_open(s)) return 0;
    size_t ol = rtext_starts(s, "\\{") ? 2 : 1;
    size_t cl = (n >= 2 && rtext_starts(s + n - 2, "\\}")) ? 2 : 1;
    if (!math_is_close(s + n - cl) || n < ol + cl) return 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (rtext_starts(s + i, "\\{") || rtext_starts(s + i, "\\}")) {
            depth += s[i + 1] == '{' ? 1 : -1;
            i++;
        } else if (math_is_open(s + i)) {
            depth++;
        } else if (math_is_close(s + i)) {
            depth--;
        }
        if (depth == 0 && i + 1 < n) return 0; /* closes before the end */
    }
    if (depth != 0) return 0;
    *open = ol == 2 ? '{' : s[0];
    *close = cl == 2 ? '}' : s[n - 1];
    *inner = rtext_ndup(s + ol, n - ol - cl);
    return 1;
}

/* The constant value of s, or NAN when it has variables or does not parse. */
static double constant_of(const char *s) {
    MathExpr e = {0};
    double v = NAN;
    if (math_expr_parse(&e, s) == 0 && e.n_vars == 0) v = math_expr_eval(&e, NULL);
    math_expr_free(&e);
    return v;
}

/* Reads s as a bracket and decides, as Math-Verify does, what it is: "(a, b)"
 * is an open interval when a < b (or either is not a constant) and a tuple
 * otherwise; "[a, b]" likewise a closed interval or a tuple; "[a, b)" is an
 * interval; three or more items make a tuple; braces make a set; one item in
 * parentheses is just a group. */
static void bracket_read(const char *s, Bracket *b) {
    memset(b, 0, sizeof(*b));
    char *inner = NULL;
    if (!bracketed(s, &b->open, &b->close, &inner)) return;
    int n = split_top(inner, &b->items);
    free(inner);
    if (n == 0) return;
    if (b->open == '{') {
        b->kind = BK_SET;
    } else if (n == 1) {
        b->kind = BK_GROUP;
    } else if (n == 2 && b->open != b->close - 1 && b->open != b->close - 2) {
        b->kind = BK_INTERVAL; /* "[a, b)" or "(a, b]": '(' + 1 == ')', '[' + 2 == ']' */
    } else if (n == 2) {
        double lo = constant_of(b->items.part[0]), hi = constant_of(b->items.part[1]);
        int open = b->open == '(';
        int ordered = isnan(lo) || isnan(hi) || (open ? lo < hi : lo <= hi);
        b->kind = ordered ? (open ? BK_OPEN_INTERVAL : BK_INTERVAL) : BK_TUPLE;
    } else {
        b->kind = BK_TUPLE;
    }
}

static void bracket_free(Bracket *b) { parts_free(&b->items); }

/* ---- values ---- */

static void no_spaces(char *s) {
    char *w = s;
    for (char *r = s; *r; r++)
        if (*r != ' ') *w++ = *r;
    *w = '\0';
}

static int same_text(const char *a, const char *b) {
    char *x = xstrdup(a), *y = xstrdup(b);
    no_spaces(x);
    no_spaces(y);
    int eq = !strcmp(x, y);
    free(x);
    free(y);
    return eq;
}

/* Words that are mathematics (never a word answer). */
static const char *const math_words[] = {
    "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "exp", "ln", "log", "sqrt", "pi", "abs", "or", "and", "infty", "i", "e",
};

/* A word answer ("Monday", "no solution"): letters and spaces only, and at
 * least one word of three letters that is not mathematics ("ab" is a
 * product of symbols). */
static int is_word_answer(const char *s) {
    int long_word = 0;
    for (const char *p = s; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        if (!isalpha((unsigned char)*p)) return 0;
        const char *q = p;
        while (isalpha((unsigned char)*q)) q++;
        if (q - p >= 3 && !RTEXT_IN_LIST(p, (size_t)(q - p), math_words)) long_word = 1;
        p = q;
    }
    return long_word;
}

/* A double rounded to 6 decimals, as Math-Verify rounds a Float
 * (float_rounding = 6); beyond 1e9 the rounding is below double precision. */
static int same_rounded(double a, double b) {
    if (fabs(a) >= 1e9 || fabs(b) >= 1e9) return math_close(a, b, 1e-12);
    return round(a * 1e6) == round(b * 1e6);
}

/* Answer p against gold g as numbers or expressions; -1 when either does
 * not parse. Constants: when either side is one decimal number ("0.333",
 * "16386.20") both are rounded to 6 decimals (Math-Verify's Float rule);
 * otherwise they must agree to 1e-12 relative (exact up to double rounding;
 * integers below 2^53 exactly). tol > 0 (the config's tolerance) also
 * accepts values within tol relative, but never an integer gold missed by
 * 1/2 or more. Expressions with variables agree at random points to
 * max(tol, 1e-9). */
static int expr_equal_text(const char *g, const char *p, double tol) {
    MathExpr eg = {0}, ep = {0};
    int ok = -1;
    if (math_expr_parse(&eg, g) == 0 && math_expr_parse(&ep, p) == 0) {
        if (eg.n_vars == 0 && ep.n_vars == 0) {
            double vg = math_expr_eval(&eg, NULL), vp = math_expr_eval(&ep, NULL);
            int integers = vg == round(vg) && vp == round(vp) && fabs(vg) < 9e15 && fabs(vp) < 9e15;
            if (!isfinite(vg) || !isfinite(vp)) ok = !isnan(vg) && vg == vp;
            else if (math_expr_decimal(&eg) || math_expr_decimal(&ep)) ok = same_rounded(vg, vp);
            else ok = integers ? vg == vp : math_close(vg, vp, 1e-12);
            if (!ok && tol > 0 && isfinite(vg) && !(vg == round(vg) && fabs(vp - vg) >= 0.5))
                ok = math_close(vg, vp, tol);
        } else {
            ok = math_expr_equal(&eg, &ep, tol > 1e-9 ? tol : 1e-9);
        }
    }
    math_expr_free(&eg);
    math_expr_free(&ep);
    return ok;
}

/* s without '%' signs (and a "\" left before one), xmalloc'd. */
static char *without_percent(const char *s) {
    char *x = xstrdup(s), *w = x;
    for (char *r = x; *r; r++)
        if (*r != '%') *w++ = *r;
    *w = '\0';
    size_t n = strlen(x);
    if (n && x[n - 1] == '\\') x[n - 1] = '\0';
    return x;
}

int mg_expr_reads(const char *s) {
    char *x = without_percent(s);
    MathExpr e = {0};
    int ok = math_expr_parse(&e, x) == 0;
    math_expr_free(&e);
    free(x);
    return ok;
}

int mg_value(const char *g, const char *p, MathCtx *c) {
    int r = expr_equal_text(g, p, c->tol);
    if (r == 1) {
        mctx_why(c, "values equal");
        return 1;
    }
    if (strchr(g, '%') || strchr(p, '%')) {
        /* "50%" equals 50 and 0.5 */
        char *x = without_percent(g), *y = without_percent(p);
        int q = expr_equal_text(x, y, c->tol);
        free(x);
        free(y);
        if (q == 1) {
            mctx_why(c, "values equal (percent)");
            return 1;
        }
        if (q == 0) r = 0;
    }
    mctx_why(c, r < 0 ? "not readable as numbers or expressions" : "values differ");
    return 0;
}

/* ---- comparing lists ---- */

/* Every item of b equals an item of a and every item of a one of b. */
static int set_equal(const Parts *a, const Parts *b, MathCtx *c, int depth) {
    if (a->n == 0 || b->n == 0) return 0;
    if (a->n == b->n) {
        int all = 1;
        for (int i = 0; i < a->n && all; i++) all = mg_equal(a->part[i], b->part[i], c, depth + 1);
        if (all) return 1;
    }
    unsigned char hit[MATH_MAX_PARTS][MATH_MAX_PARTS];
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++) hit[i][j] = (unsigned char)mg_equal(a->part[i], b->part[j], c, depth + 1);
    for (int i = 0; i < a->n; i++) {
        int any = 0;
        for (int j = 0; j < b->n; j++) any |= hit[i][j];
        if (!any) return 0;
    }
    for (int j = 0; j < b->n; j++) {
        int any = 0;
        for (int i = 0; i < a->n; i++) any |= hit[i][j];
        if (!any) return 0;
    }
    return 1;
}

/* Items of a set counted once (by the rules, not by text). */
static int distinct(const Parts *a, MathCtx *c, int depth) {
    int n = 0;
    for (int i = 0; i < a->n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = mg_equal(a->part[j], a->part[i], c, depth + 1);
        n += !seen;
    }
    return n;
}

static int ordered_equal(const Parts *a, const Parts *b, MathCtx *c, int depth, const char *what) {
    if (a->n != b->n) {
        mctx_why(c, "%s: %d items against %d", what, b->n, a->n);
        return 0;
    }
    for (int i = 0; i < a->n; i++) {
        if (!mg_equal(a->part[i], b->part[i], c, depth + 1)) {
            char inner[sizeof(c->why)];
            snprintf(inner, sizeof(inner), "%s", c->why);
            mctx_why(c, "%s: item %d differs (%s)", what, i + 1, inner);
            return 0;
        }
    }
    mctx_why(c, "%s: items equal in order", what);
    return 1;
}

static int unordered_equal(const Parts *a, const Parts *b, MathCtx *c, int depth, const char *what) {
    int r = set_equal(a, b, c, depth);
    mctx_why(c, r ? "%s: same items" : "%s: items differ", what);
    return r;
}

static const char *kind_name(BracketKind k) {
    switch (k) {
    case BK_TUPLE: return "tuple";
    case BK_OPEN_INTERVAL: return "open interval";
    case BK_INTERVAL: return "interval";
    case BK_SET: return "set";
    default: return "group";
    }
}

/* Two bracketed answers, as Math-Verify compares tuples, intervals and sets:
 * a gold set takes a tuple or open interval in any order; a gold tuple or
 * open interval takes a set in its written order; intervals need the same
 * brackets. */
static int bracket_equal(const Bracket *g, const Bracket *p, MathCtx *c, int depth) {
    BracketKind kg = g->kind, kp = p->kind;
    if (kg == BK_SET) {
        if (kp == BK_SET) return unordered_equal(&g->items, &p->items, c, depth, "set");
        if (kp == BK_TUPLE || kp == BK_OPEN_INTERVAL) {
            if (distinct(&g->items, c, depth) != p->items.n) {
                mctx_why(c, "set against %s: %d items against %d", kind_name(kp), p->items.n, g->items.n);
                return 0;
            }
            return unordered_equal(&g->items, &p->items, c, depth, "set against tuple");
        }
        mctx_why(c, "set against %s", kind_name(kp));
        return 0;
    }
    if (kg == BK_INTERVAL || kp == BK_INTERVAL) {
        if (kg != kp || g->open != p->open || g->close != p->close) {
            mctx_why(c, "%s %c%c against %s %c%c", kind_name(kg), g->open, g->close, kind_name(kp), p->open, p->close);
            return 0;
        }
        return ordered_equal(&g->items, &p->items, c, depth, "interval");
    }
    if (kg == BK_TUPLE && kp == BK_TUPLE && (g->open != p->open || g->close != p->close)) {
        mctx_why(c, "tuple %c%c against %c%c", g->open, g->close, p->open, p->close);
        return 0;
    }
    /* tuple or open interval against tuple, open interval or set: in order */
    return ordered_equal(&g->items, &p->items, c, depth, kind_name(kg));
}

/* One gold item against one predicted item, neither a relation nor a list. */
static int item_equal(const char *g, const char *p, MathCtx *c, int depth) {
    if (matrix_in(g) || matrix_in(p)) return matrix_equal(g, p, c);
    Bracket bg, bp;
    bracket_read(g, &bg);
    bracket_read(p, &bp);
    int r = -1;
    if (bg.kind == BK_GROUP || bp.kind == BK_GROUP || (bg.kind == BK_SET && bg.items.n == 1 && !bp.kind) ||
        (bp.kind == BK_SET && bp.items.n == 1 && !bg.kind)) {
        /* "(5)" and "\{5\}" are 5 */
        const char *x = bg.kind == BK_GROUP || (bg.kind == BK_SET && !bp.kind) ? bg.items.part[0] : g;
        const char *y = bp.kind == BK_GROUP || (bp.kind == BK_SET && !bg.kind) ? bp.items.part[0] : p;
        r = mg_equal(x, y, c, depth + 1);
    } else if (bg.kind && bp.kind) {
        r = bracket_equal(&bg, &bp, c, depth);
    } else if (bg.kind || bp.kind) {
        mctx_why(c, "%s against a single value", kind_name(bg.kind ? bg.kind : bp.kind));
        r = 0;
    }
    bracket_free(&bg);
    bracket_free(&bp);
    if (r >= 0) return r;
    if (is_word_answer(g) || is_word_answer(p)) {
        r = !strcasecmp(g, p);
        mctx_why(c, r ? "same words" : "different words");
        return r;
    }
    return mg_value(g, p, c);
}

/* A gold list against a predicted one, or a list against one bracket
 * (gold first). A bare list is a set (Math-Verify's FiniteSet): any order
 * against a set or a predicted tuple, written order against a gold tuple. */
static int list_equal(const char *g, const Parts *pg, const char *p, const Parts *pp, MathCtx *c, int depth) {
    if (pg->n > 1 && pp->n > 1) return unordered_equal(pg, pp, c, depth, "list");
    const char *one = pg->n == 1 ? g : p;
    const Parts *many = pg->n == 1 ? pp : pg;
    Bracket b;
    bracket_read(one, &b);
    int r;
    if (b.kind == BK_INTERVAL) {
        mctx_why(c, "interval against a list");
        r = 0;
    } else if (pg->n == 1 && (b.kind == BK_TUPLE || b.kind == BK_OPEN_INTERVAL)) {
        r = ordered_equal(&b.items, many, c, depth, kind_name(b.kind));
    } else if (b.kind && b.kind != BK_GROUP) {
        r = pg->n == 1 ? unordered_equal(&b.items, many, c, depth, "set")
                       : unordered_equal(many, &b.items, c, depth, "list against set or tuple");
    } else {
        Parts single = {.n = 1};
        single.part[0] = (char *)one;
        r = pg->n == 1 ? unordered_equal(&single, many, c, depth, "list")
                       : unordered_equal(many, &single, c, depth, "list");
    }
    bracket_free(&b);
    return r;
}

/* ---- the order of the rules ---- */

/* s is a set to compare a gold inequality with: an interval, a set, a
 * union, a bare list, the empty set or the reals. */
static int set_like(const char *s, const Parts *ps) {
    if (ps->n > 1) return 1;
    if (strstr(s, "\\emptyset") || strstr(s, "\\mathbb{R}") || strstr(s, "\\mathbb R")) return 1;
    Bracket b;
    bracket_read(s, &b);
    int r = b.kind == BK_SET || b.kind == BK_OPEN_INTERVAL || b.kind == BK_INTERVAL;
    bracket_free(&b);
    return r;
}

/* A list whose first item is a relation and whose other items are not:
 * "x = 1, 2, 3" and "x \in (0, 1) \cup (2, 3)" are one relation. */
static int one_relation(const Parts *ps) {
    if (ps->n <= 1) return 1;
    Rel r;
    if (rel_read(ps->part[0], &r) <= 1) {
        rel_free(&r);
        return 0;
    }
    rel_free(&r);
    for (int i = 1; i < ps->n; i++) {
        int k = rel_read(ps->part[i], &r);
        rel_free(&r);
        if (k != 0) return 0;
    }
    return 1;
}

/* Prefixes the deciding rule with the step that led to it. Returns r. */
static int step(MathCtx *c, const char *what, int r) {
    char inner[sizeof(c->why)];
    snprintf(inner, sizeof(inner), "%s", c->why);
    mctx_why(c, "%s: %s", what, inner);
    return r;
}

/* g and p once split into lists: relations first (Math-Verify's order of
 * unwrapping), then matrices, single items and lists. */
static int split_equal(const char *g, const Parts *pg, const char *p, const Parts *pp, MathCtx *c, int depth) {
    Rel rg = {0}, rp = {0};
    int ng = one_relation(pg) ? rel_read(g, &rg) : 0, np = one_relation(pp) ? rel_read(p, &rp) : 0;
    int g_rel = ng > 1, p_rel = np > 1;
    int result;
    if (ng < 0 || np < 0) {
        mctx_why(c, "unreadable relation");
        result = 0;
    } else if (ng == 1 || np == 1) {
        /* "x \approx 3" is 3 */
        const char *x = ng == 1 ? rg.side[0] : g, *y = np == 1 ? rp.side[0] : p;
        result = step(c, "\\approx resolved", mg_equal(x, y, c, depth + 1));
    } else if (p_rel && rp.is_equation && !(g_rel && rg.is_equation)) {
        /* the gold is not an equation: compare with the prediction's last side */
        result = step(c, "prediction's right side", mg_equal(g, rp.side[rp.n - 1], c, depth + 1));
    } else if (g_rel && rg.is_assignment && !(p_rel && rp.is_equation)) {
        /* "x = 5" as gold: its right side */
        result = step(c, "gold's right side", mg_equal(rg.side[rg.n - 1], p, c, depth + 1));
    } else if (g_rel && !rg.is_equation && !p_rel && set_like(p, pp)) {
        char *set = rel_as_set(&rg);
        if (set) {
            char what[96];
            snprintf(what, sizeof(what), "gold relation as the set %.60s", set);
            result = step(c, what, mg_equal(set, p, c, depth + 1));
            free(set);
        } else {
            mctx_why(c, "gold relation is not an interval in one variable");
            result = 0;
        }
    } else if (g_rel && p_rel) {
        result = rel_equal(&rg, &rp, c, depth);
    } else if (g_rel || p_rel) {
        mctx_why(c, g_rel ? "gold is a relation, prediction is not" : "prediction is a relation, gold is not");
        result = 0;
    } else if (matrix_in(g) || matrix_in(p)) {
        result = matrix_equal(g, p, c);
    } else if (pg->n == 1 && pp->n == 1) {
        result = item_equal(pg->part[0], pp->part[0], c, depth);
    } else {
        result = list_equal(g, pg, p, pp, c, depth);
    }
    rel_free(&rg);
    rel_free(&rp);
    return result;
}

int mg_equal(const char *g, const char *p, MathCtx *c, int depth) {
    if (depth > MAX_DEPTH || --c->budget < 0) {
        mctx_why(c, "too deeply nested");
        return 0;
    }
    if (same_text(g, p)) {
        mctx_why(c, "same text");
        return 1;
    }
    Parts pg = {0}, pp = {0};
    int result;
    if (split_top(g, &pg) == 0 || split_top(p, &pp) == 0) {
        mctx_why(c, "unreadable list");
        result = 0;
    } else {
        result = split_equal(g, &pg, p, &pp, c, depth);
    }
    parts_free(&pg);
    parts_free(&pp);
    return result;
}

/* ---- multiple choice ---- */

/* A multiple-choice letter: "C", "(C)", "C)", "C.", "(c) 42", "option C".
 * strict: only "C" and "(C)" (how a gold answer names an option). */
static int choice_letter(const char *s, int strict) {
    const char *p = s;
    static const char *const prefixes[] = {"option ", "choice ", "Option ", "Choice ", "answer ", "Answer "};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (rtext_starts(p, prefixes[i])) p += strlen(prefixes[i]);
    int paren = *p == '(';
    if (paren) p++;
    char ch = *p;
    if (!isalpha((unsigned char)ch)) return 0;
    char up = (char)toupper((unsigned char)ch);
    if (up < 'A' || up > 'J') return 0;
    if (strict && ch != up) return 0;
    p++;
    if (paren) {
        if (*p != ')') return 0;
        p++;
        if (strict) return *p ? 0 : up;
        return (!*p || *p == ' ' || *p == ':' || *p == '.') ? up : 0;
    }
    if (!*p) return up;
    if (strict) return 0;
    if (*p == ')' || *p == '.' || *p == ':') return up;
    if (*p == ' ' && isupper((unsigned char)ch)) return up; /* "B 42" */
    return 0;
}

/* ---- public ---- */

int math_verify(const char *gold, const char *pred, const MathRules *r, char *why, size_t why_cap) {
    MathCtx c = {.tol = r->tol, .strict = r->strict, .budget = BUDGET};
    int result;
    int letter = choice_letter(gold, 1);
    if (!gold[0] || !pred[0]) {
        mctx_why(&c, "empty answer");
        result = 0;
    } else if (strlen(gold) > MATH_MAX_ANSWER || strlen(pred) > MATH_MAX_ANSWER) {
        mctx_why(&c, "answer longer than %d bytes", MATH_MAX_ANSWER);
        result = 0;
    } else if (letter) {
        /* hedging over several options ("A or B", "A, C") is wrong */
        Parts pp = {0};
        result = split_top(pred, &pp) >= 1;
        for (int i = 0; i < pp.n; i++) result = result && choice_letter(pp.part[i], 0) == letter;
        mctx_why(&c, result ? "multiple choice: option %c" : "multiple choice: not option %c", letter);
        parts_free(&pp);
    } else {
        result = mg_equal(gold, pred, &c, 0);
    }
    if (why && why_cap) snprintf(why, why_cap, "%s", c.why);
    return result;
}

int math_equal(const char *answer, const char *truth, double tol) {
    if (strlen(answer) > MATH_MAX_ANSWER || strlen(truth) > MATH_MAX_ANSWER) return 0;
    char *a = math_normalize(answer), *t = math_normalize(truth);
    MathRules r = {.tol = tol, .strict = 1};
    int result = math_verify(t, a, &r, NULL, 0);
    free(a);
    free(t);
    return result;
}

int math_readable(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > MATH_MAX_ANSWER) return 0;
    if (!rtext_braces_balanced(s)) return 0;
    if (strchr("+-*/^=_\\<>", s[n - 1])) return 0;
    if (strstr(s, "\\begin{align") || (strchr(s, '&') && !matrix_in(s))) return 0;
    return 1;
}

static int parses(const char *s, int depth) {
    if (depth > 6) return 0;
    if (matrix_in(s)) return matrix_reads(s);
    if (choice_letter(s, 0) || is_word_answer(s)) return 1;
    Parts ps = {0};
    int ok = split_top(s, &ps) > 0;
    for (int i = 0; i < ps.n && ok; i++) {
        const char *x = ps.part[i];
        Rel r = {0};
        int k = rel_read(x, &r);
        if (k > 1) {
            for (int j = 0; j < r.n && ok; j++) ok = parses(r.side[j], depth + 1);
        } else if (k < 0) {
            ok = 0;
        } else {
            char o, cl, *inner = NULL;
            if (bracketed(x, &o, &cl, &inner)) {
                ok = parses(inner, depth + 1);
                free(inner);
            } else {
                ok = is_word_answer(x) || mg_expr_reads(x);
            }
        }
        rel_free(&r);
    }
    parts_free(&ps);
    return ok;
}

int math_parses(const char *s) { return s[0] && strlen(s) <= MATH_MAX_ANSWER && parses(s, 0); }
