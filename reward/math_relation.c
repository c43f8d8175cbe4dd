/*
 * math_relation.c: relations in answers (see math_rules.h): reading chains
 * of = < > \le \ge \ne != \in \approx, assignments ("x = 5", "(p, q) = (3, 2)",
 * "|AB| = 5"), equations up to a non-zero factor, inequalities up to moving
 * terms and flipping, and a gold inequality in one variable as a set.
 * Not for: deciding when a relation is compared with what (math_grade.c).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "math_expr.h"
#include "math_rules.h"
#include "reward_text.h"

/* The relation operator at p (top level) and its length, or 0. */
static RelOp op_at(const char *p, size_t *len) {
    *len = 1;
    if (p[0] == '!' && p[1] == '=') {
        *len = 2;
        return REL_NE;
    }
    if (p[0] == '<' || p[0] == '>') {
        int eq = p[1] == '=';
        *len = eq ? 2 : 1;
        return p[0] == '<' ? (eq ? REL_LE : REL_LT) : (eq ? REL_GE : REL_GT);
    }
    if (p[0] == '=') {
        if (p[1] == '=') *len = 2;
        return REL_EQ;
    }
    if (p[0] != '\\') return 0;
    static const struct {
        const char *name;
        RelOp op;
    } cmds[] = {{"le", REL_LE}, {"ge", REL_GE}, {"lt", REL_LT}, {"gt", REL_GT},
                {"ne", REL_NE}, {"in", REL_IN}, {"approx", REL_APPROX}};
    const char *q = p + 1;
    while (isalpha((unsigned char)*q)) q++;
    size_t n = (size_t)(q - p - 1);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strlen(cmds[i].name) == n && !strncmp(p + 1, cmds[i].name, n)) {
            *len = n + 1;
            return cmds[i].op;
        }
    }
    return 0;
}

void rel_free(Rel *r) {
    for (int i = 0; i < r->n; i++) free(r->side[i]);
    memset(r, 0, sizeof(*r));
}

int rel_read(const char *s, Rel *r) {
    memset(r, 0, sizeof(*r));
    if (strstr(s, "\\notin")) return -1;
    const char *sides[REL_MAX_SIDES + 1], *ends[REL_MAX_SIDES + 1];
    RelOp ops[REL_MAX_SIDES];
    int n = 0, depth = 0;
    sides[0] = s;
    for (const char *p = s; *p; p++) {
        size_t b = math_bracket(p, &depth);
        if (b == 2 || depth != 0) {
            p += b - 1;
            continue;
        }
        size_t len;
        RelOp op = op_at(p, &len);
        if (!op) {
            if (*p == '\\') p += len - 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
            continue;
        }
        if (n == REL_MAX_SIDES - 1) return -1;
        ends[n] = p;
        ops[n++] = op;
        sides[n] = p + len;
        p += len - 1;
    }
    if (n == 0) return 0;
    ends[n] = s + strlen(s);
    char *text[REL_MAX_SIDES];
    for (int i = 0; i <= n; i++) {
        const char *b = sides[i], *e = ends[i];
        rtext_trim(&b, &e);
        if (b == e) {
            for (int k = 0; k < i; k++) free(text[k]);
            return -1;
        }
        text[i] = rtext_ndup(b, (size_t)(e - b));
    }
    /* "\approx": "x \approx 3" is 3; "1/3 \approx 0.33" keeps 1/3 */
    r->side[0] = text[0];
    r->n = 1;
    for (int i = 0; i < n; i++) {
        if (ops[i] == REL_APPROX) {
            if (r->n == 1 && rel_symbolic(r->side[0])) {
                free(r->side[0]);
                r->side[0] = text[i + 1];
            } else {
                free(text[i + 1]);
            }
            continue;
        }
        r->op[r->n - 1] = ops[i];
        r->side[r->n++] = text[i + 1];
    }
    if (r->n < 2) return r->n;
    r->is_equation = 1;
    for (int i = 0; i < r->n - 1; i++)
        r->is_equation &= r->op[i] == REL_EQ || (r->op[i] == REL_IN && r->n == 2);
    r->is_assignment = r->is_equation && rel_symbolic(r->side[0]);
    return r->n;
}

static const char *const greek[] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
    "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega", "pi",
};

/* Commands allowed around symbols on a left side. */
static const char *const symbol_cmds[] = {"frac", "cdot", "overline", "vec", "hat", "bar", "widehat", "angle",
                                          "triangle", "mathbf"};

/* After a subscript "_1", "_n", "_{12}" that starts at p ('_'), or NULL. */
static const char *after_subscript(const char *p) {
    p++;
    if (*p == '{') return rtext_brace_end(p);
    return isalnum((unsigned char)*p) ? p + 1 : NULL;
}

int rel_symbolic(const char *s) {
    int letters = 0;
    for (const char *p = s; *p;) {
        unsigned char ch = (unsigned char)*p;
        if (isalpha(ch)) {
            letters++;
            p++;
        } else if (ch == '_') {
            p = after_subscript(p);
            if (!p) return 0;
        } else if (ch == '\\') {
            const char *q = p + 1;
            while (isalpha((unsigned char)*q)) q++;
            size_t n = (size_t)(q - p - 1);
            if (RTEXT_IN_LIST(p + 1, n, greek)) letters++;
            else if (!RTEXT_IN_LIST(p + 1, n, symbol_cmds)) return 0;
            p = q;
        } else if (strchr("(),|:+*/{} '", ch)) {
            p++;
        } else {
            return 0;
        }
    }
    return letters > 0;
}

/* ---- comparing ---- */

/* "(a)-(b)" parsed into e; 0 or -1. */
static int parse_difference(MathExpr *e, const char *a, const char *b) {
    char *d = rtext_cat("(", a, ")-(", b, ")", NULL);
    int rc = math_expr_parse(e, d);
    free(d);
    return rc;
}

static RelOp mirror(RelOp op) {
    switch (op) {
    case REL_LT: return REL_GT;
    case REL_GT: return REL_LT;
    case REL_LE: return REL_GE;
    case REL_GE: return REL_LE;
    default: return op;
    }
}

static const char *op_name(RelOp op) {
    switch (op) {
    case REL_EQ: return "=";
    case REL_LT: return "<";
    case REL_LE: return "\\le";
    case REL_GT: return ">";
    case REL_GE: return "\\ge";
    case REL_NE: return "\\ne";
    case REL_IN: return "\\in";
    default: return "\\approx";
    }
}

/* If e is a*x + b in its one variable (checked at five points), sets a, b. */
static int affine(const MathExpr *e, double *a, double *b) {
    if (e->n_vars != 1) return 0;
    double x0 = 0, x1 = 1;
    *b = math_expr_eval(e, &x0);
    *a = math_expr_eval(e, &x1) - *b;
    if (!isfinite(*a) || !isfinite(*b) || fabs(*a) < 1e-12) return 0;
    static const double xs[] = {2.5, -1.75, 7.0};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
        if (!math_close(math_expr_eval(e, &xs[i]), *a * xs[i] + *b, 1e-9)) return 0;
    return 1;
}

/* Two inequalities linear in the same one variable, solved: "2x < 4" is
 * "x < 2", "-x > -1" is "x < 1". */
static int same_solution(const MathExpr *dg, RelOp og, const MathExpr *dp, RelOp op, double tol) {
    double ag, bg, ap, bp;
    if (!affine(dg, &ag, &bg) || !affine(dp, &ap, &bp) || strcmp(dg->vars[0], dp->vars[0])) return 0;
    if (ag < 0) og = mirror(og);
    if (ap < 0) op = mirror(op);
    return og == op && math_close(-bg / ag, -bp / ap, tol);
}

/* One gold relation "lg og rg" against one predicted "lp op rp". */
static int pair_equal(const char *lg, RelOp og, const char *rg, const char *lp, RelOp op, const char *rp, MathCtx *c,
                      int depth) {
    if (og == REL_IN || op == REL_IN) {
        if (og != op) {
            mctx_why(c, "relations %s and %s differ", op_name(og), op_name(op));
            return 0;
        }
        return mg_equal(lg, lp, c, depth + 1) && mg_equal(rg, rp, c, depth + 1);
    }
    if ((og == REL_EQ) != (op == REL_EQ)) {
        mctx_why(c, "an equation against an inequality");
        return 0;
    }
    MathExpr dg = {0}, dp = {0}, flip = {0};
    double tol = c->tol > 1e-9 ? c->tol : 1e-9;
    int result = -1;
    if (parse_difference(&dg, lg, rg) == 0 && parse_difference(&dp, lp, rp) == 0) {
        if (og == REL_EQ) {
            result = math_expr_proportional(&dg, &dp, tol);
            mctx_why(c, result ? "equations equal up to a factor" : "equations differ");
        } else if (og == op && math_expr_equal(&dg, &dp, tol)) {
            result = 1;
            mctx_why(c, "inequalities equal after moving terms");
        } else if (og == mirror(op) && og != op && parse_difference(&flip, rp, lp) == 0 &&
                   math_expr_equal(&dg, &flip, tol)) {
            result = 1;
            mctx_why(c, "inequalities equal after flipping");
        } else if (og != REL_NE && op != REL_NE && same_solution(&dg, og, &dp, op, tol)) {
            result = 1;
            mctx_why(c, "inequalities with the same solution");
        } else {
            result = 0;
            mctx_why(c, "inequalities differ (%s against %s)", op_name(og), op_name(op));
        }
    }
    math_expr_free(&dg);
    math_expr_free(&dp);
    math_expr_free(&flip);
    if (result >= 0) return result;
    /* sides the expression parser cannot read (tuples, sets): side by side, or mirrored */
    if (og == op && mg_equal(lg, lp, c, depth + 1) && mg_equal(rg, rp, c, depth + 1)) return 1;
    if (og == mirror(op) && mg_equal(lg, rp, c, depth + 1) && mg_equal(rg, lp, c, depth + 1)) return 1;
    mctx_why(c, "relations differ");
    return 0;
}

int rel_equal(const Rel *g, const Rel *p, MathCtx *c, int depth) {
    if (g->is_assignment && p->is_assignment) {
        const char *lg = g->side[0], *lp = p->side[0];
        if (c->strict && !mg_equal(lg, lp, c, depth + 1)) {
            mctx_why(c, "assignments to different left sides (%s, %s)", lg, lp);
            return 0;
        }
        int r = mg_equal(g->side[g->n - 1], p->side[p->n - 1], c, depth + 1);
        char inner[sizeof(c->why)];
        snprintf(inner, sizeof(inner), "%s", c->why);
        mctx_why(c, "assignment to %s: %s", lg, inner);
        return r;
    }
    /* an assignment chain "x = 5 + 5 + 1 = 11" is "x = 11" */
    int ng = g->is_assignment ? 1 : g->n - 1, np = p->is_assignment ? 1 : p->n - 1;
    if (ng != np) {
        mctx_why(c, "%d relations against %d", np, ng);
        return 0;
    }
    for (int i = 0; i < ng; i++) {
        const char *rg = g->is_assignment ? g->side[g->n - 1] : g->side[i + 1];
        const char *rp = p->is_assignment ? p->side[p->n - 1] : p->side[i + 1];
        if (!pair_equal(g->side[i], g->op[i], rg, p->side[i], p->op[i], rp, c, depth)) return 0;
    }
    return 1;
}

/* A lone variable: "x", "y_1", "a_{12}", "\theta". */
static int is_variable(const char *s) {
    const char *p = s;
    if (*p == '\\') {
        p++;
        while (isalpha((unsigned char)*p)) p++;
        if (!RTEXT_IN_LIST(s + 1, (size_t)(p - s - 1), greek)) return 0;
    } else if (isalpha((unsigned char)*p)) {
        p++;
    } else {
        return 0;
    }
    if (*p == '_') p = after_subscript(p);
    return p && *p == '\0';
}

static void add_bound(StrBuf *b, RelOp op, int left, const char *value) {
    int strict = op == REL_LT || op == REL_GT;
    if (left) {
        strbuf_cat(b, strict ? "(" : "[");
        strbuf_cat(b, value);
        strbuf_cat(b, ", ");
    } else {
        strbuf_cat(b, value);
        strbuf_cat(b, strict ? ")" : "]");
    }
}

char *rel_as_set(const Rel *g) {
    const char *lo = NULL, *hi = NULL;
    RelOp lo_op = REL_LT, hi_op = REL_LT;
    if (g->n == 2) {
        int var_left = is_variable(g->side[0]), var_right = is_variable(g->side[1]);
        if (var_left == var_right) return NULL;
        RelOp op = var_left ? g->op[0] : mirror(g->op[0]); /* as "x op a" */
        const char *a = var_left ? g->side[1] : g->side[0];
        if (op == REL_NE) return rtext_cat("(-\\infty, ", a, ") \\cup (", a, ", \\infty)", NULL);
        if (op == REL_LT || op == REL_LE) {
            hi = a;
            hi_op = op;
        } else if (op == REL_GT || op == REL_GE) {
            lo = a;
            lo_op = mirror(op);
        } else {
            return NULL;
        }
    } else if (g->n == 3 && is_variable(g->side[1]) && !is_variable(g->side[0]) && !is_variable(g->side[2])) {
        RelOp a = g->op[0], b = g->op[1];
        int up = (a == REL_LT || a == REL_LE) && (b == REL_LT || b == REL_LE);
        int down = (a == REL_GT || a == REL_GE) && (b == REL_GT || b == REL_GE);
        if (!up && !down) return NULL;
        lo = up ? g->side[0] : g->side[2];
        hi = up ? g->side[2] : g->side[0];
        lo_op = up ? a : mirror(b);
        hi_op = up ? b : mirror(a);
    } else {
        return NULL;
    }
    StrBuf b = {0};
    add_bound(&b, lo_op, 1, lo ? lo : "-\\infty");
    add_bound(&b, hi ? hi_op : REL_LT, 0, hi ? hi : "\\infty");
    if (!lo) b.p[0] = '(';
    return b.p;
}
