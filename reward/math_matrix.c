/*
 * math_matrix.c: matrices in answers (see math_rules.h): pmatrix, bmatrix,
 * Bmatrix, matrix, smallmatrix and array environments, and expressions of
 * them with +, -, scalar and matrix products ("\frac{1}{2} \begin{pmatrix}
 * 2 \\ 4 \end{pmatrix}", "A + B", "AB"), reduced to one matrix of entry
 * texts and compared entry by entry with the full rule set.
 * Not for: determinants (vmatrix) or matrix algebra on symbols.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "math_rules.h"
#include "reward_text.h"

#define MAX_DIM 10
#define MAX_TOKENS 24

static const char *const envs[] = {"pmatrix", "bmatrix", "Bmatrix", "matrix", "smallmatrix", "array"};

/* A matrix (rows x cols entry texts) or, with rows == 0, a scalar text. */
typedef struct {
    int rows, cols;
    char *e[MAX_DIM][MAX_DIM];
    char *scalar;
} Value;

static void value_free(Value *v) {
    for (int i = 0; i < v->rows; i++)
        for (int j = 0; j < v->cols; j++) free(v->e[i][j]);
    free(v->scalar);
    memset(v, 0, sizeof(*v));
}

/* If s starts "\begin{NAME}" with a matrix NAME, sets the name's span and
 * returns the position after it. */
static const char *begin_at(const char *s, const char **name, size_t *n) {
    if (!rtext_starts(s, "\\begin{")) return NULL;
    const char *b = s + 7, *e = strchr(b, '}');
    if (!e || !RTEXT_IN_LIST(b, (size_t)(e - b), envs)) return NULL;
    *name = b;
    *n = (size_t)(e - b);
    return e + 1;
}

int matrix_in(const char *s) {
    for (const char *p = strstr(s, "\\begin{"); p; p = strstr(p + 1, "\\begin{")) {
        const char *name;
        size_t n;
        if (begin_at(p, &name, &n)) return 1;
    }
    return 0;
}

/* The end of the environment opened at s (after "\end{NAME}"), or NULL. */
static const char *env_end(const char *s, const char *name, size_t n, const char **body, const char **body_end) {
    const char *p = begin_at(s, &name, &n);
    if (rtext_starts(name, "array") && *p == '{') { /* column spec */
        p = rtext_brace_end(p);
        if (!p) return NULL;
    }
    *body = p;
    int depth = 1;
    while (*p) {
        const char *nm;
        size_t k;
        if (begin_at(p, &nm, &k) && k == n && !strncmp(nm, name, n)) depth++;
        if (rtext_starts(p, "\\end{") && !strncmp(p + 5, name, n) && p[5 + n] == '}') {
            if (--depth == 0) {
                *body_end = p;
                return p + 6 + n;
            }
        }
        p++;
    }
    return NULL;
}

/* Parses the rows ("\\") and cells ("&") of a body into v. */
static int literal_read(const char *b, const char *e, Value *v) {
    memset(v, 0, sizeof(*v));
    const char *row = b;
    int depth = 0;
    for (const char *p = b;; p++) {
        int end = p >= e;
        if (!end && *p == '{') depth++;
        if (!end && *p == '}') depth--;
        if (!end && !(depth == 0 && p[0] == '\\' && p[1] == '\\')) continue;
        const char *rb = row, *re = p;
        rtext_trim(&rb, &re);
        if (rtext_starts(rb, "\\hline")) rb += 6;
        rtext_trim(&rb, &re);
        if (rb < re) {
            if (v->rows == MAX_DIM) return -1;
            int col = 0;
            const char *cell = rb;
            for (const char *q = rb;; q++) {
                if (q < re && *q != '&') continue;
                const char *cb = cell, *ce = q;
                rtext_trim(&cb, &ce);
                if (cb == ce || col == MAX_DIM) return -1;
                v->e[v->rows][col++] = rtext_ndup(cb, (size_t)(ce - cb));
                if (q >= re) break;
                cell = q + 1;
            }
            if (v->rows && col != v->cols) {
                for (int j = 0; j < col; j++) free(v->e[v->rows][j]);
                return -1;
            }
            v->cols = col;
            v->rows++;
        }
        if (end) break;
        p++;
        row = p + 1;
    }
    return v->rows ? 0 : -1;
}

/* ---- tokens of a matrix expression ---- */

typedef enum { TK_VALUE, TK_PLUS, TK_MINUS, TK_TIMES } TokKind;

typedef struct {
    TokKind kind;
    Value v;
} Tok;

static int expr_read(const char *s, Value *out, int depth);

static void push_scalar(Tok *t, int *n, const char *b, const char *e) {
    rtext_trim(&b, &e);
    if (b == e || *n == MAX_TOKENS) return;
    t[*n].kind = TK_VALUE;
    memset(&t[*n].v, 0, sizeof(Value));
    t[*n].v.scalar = rtext_ndup(b, (size_t)(e - b));
    (*n)++;
}

/* Splits s into values and operators at the top level. */
static int tokenize(const char *s, Tok *t, int *n, int depth) {
    *n = 0;
    const char *chunk = s;
    int level = 0;
    for (const char *p = s;;) {
        const char *name;
        size_t nl;
        if (!*p) {
            push_scalar(t, n, chunk, p);
            return 0;
        }
        if (level == 0 && begin_at(p, &name, &nl)) {
            const char *body, *body_end;
            const char *e = env_end(p, name, nl, &body, &body_end);
            if (!e || *n + 2 > MAX_TOKENS) return -1;
            push_scalar(t, n, chunk, p);
            t[*n].kind = TK_VALUE;
            if (literal_read(body, body_end, &t[*n].v)) {
                value_free(&t[*n].v);
                return -1;
            }
            (*n)++;
            p = chunk = e;
            continue;
        }
        if (*p == '(' || *p == '[' || *p == '{') {
            /* a bracket around a matrix expression: read it as one value */
            const char *q = p + 1;
            int d = 1;
            for (; *q && d; q++) d += (*q == '(' || *q == '[' || *q == '{') - (*q == ')' || *q == ']' || *q == '}');
            if (level == 0 && !d && *p != '{') {
                char *inner = rtext_ndup(p + 1, (size_t)(q - p - 2));
                if (matrix_in(inner) && *n + 2 <= MAX_TOKENS) {
                    push_scalar(t, n, chunk, p);
                    int rc = expr_read(inner, &t[*n].v, depth + 1);
                    free(inner);
                    if (rc) return -1;
                    t[*n].kind = TK_VALUE;
                    (*n)++;
                    p = chunk = q;
                    continue;
                }
                free(inner);
            }
            level++;
            p++;
            continue;
        }
        if (*p == ')' || *p == ']' || *p == '}') level--;
        TokKind op = TK_VALUE;
        size_t len = 1;
        if (level == 0 && (*p == '+' || *p == '-')) op = *p == '+' ? TK_PLUS : TK_MINUS;
        else if (level == 0 && *p == '*') op = TK_TIMES;
        else if (level == 0 && (rtext_starts(p, "\\cdot") || rtext_starts(p, "\\times"))) {
            op = TK_TIMES;
            len = p[1] == 'c' ? 5 : 6;
        }
        if (op != TK_VALUE) {
            push_scalar(t, n, chunk, p);
            if (*n == MAX_TOKENS) return -1;
            t[*n].kind = op;
            memset(&t[*n].v, 0, sizeof(Value));
            (*n)++;
            p += len;
            chunk = p;
            continue;
        }
        p++;
    }
}

static char *join3(const char *a, const char *op, const char *b) {
    return rtext_cat("(", a, ")", op, "(", b, ")", NULL);
}

/* a * b into out (scalars and matrices). */
static int product(const Value *a, const Value *b, Value *out) {
    memset(out, 0, sizeof(*out));
    if (!a->rows && !b->rows) {
        out->scalar = join3(a->scalar, "*", b->scalar);
        return 0;
    }
    if (!a->rows || !b->rows) {
        const Value *s = a->rows ? b : a, *m = a->rows ? a : b;
        out->rows = m->rows;
        out->cols = m->cols;
        for (int i = 0; i < m->rows; i++)
            for (int j = 0; j < m->cols; j++) out->e[i][j] = join3(s->scalar, "*", m->e[i][j]);
        return 0;
    }
    if (a->cols != b->rows) return -1;
    out->rows = a->rows;
    out->cols = b->cols;
    for (int i = 0; i < a->rows; i++) {
        for (int j = 0; j < b->cols; j++) {
            StrBuf s = {0};
            for (int k = 0; k < a->cols; k++) {
                char *t = join3(a->e[i][k], "*", b->e[k][j]);
                if (k) strbuf_cat(&s, "+");
                strbuf_cat(&s, t);
                free(t);
            }
            out->e[i][j] = s.p;
        }
    }
    return 0;
}

/* a + b (or a - b) into out: both matrices of one shape, or both scalars. */
static int sum(const Value *a, const Value *b, int minus, Value *out) {
    memset(out, 0, sizeof(*out));
    if (!a->rows != !b->rows || a->rows != b->rows || a->cols != b->cols) return -1;
    if (!a->rows) {
        out->scalar = join3(a->scalar, minus ? "-" : "+", b->scalar);
        return 0;
    }
    out->rows = a->rows;
    out->cols = a->cols;
    for (int i = 0; i < a->rows; i++)
        for (int j = 0; j < a->cols; j++) out->e[i][j] = join3(a->e[i][j], minus ? "-" : "+", b->e[i][j]);
    return 0;
}

static void value_move(Value *dst, Value *src) {
    value_free(dst);
    *dst = *src;
    memset(src, 0, sizeof(*src));
}

/* Evaluates tokens: sum of terms, each a product of adjacent values. */
static int expr_read(const char *s, Value *out, int depth) {
    memset(out, 0, sizeof(*out));
    if (depth > 4) return -1;
    Tok t[MAX_TOKENS];
    int n = 0, rc = tokenize(s, t, &n, depth);
    Value total = {0}, term = {0};
    int have_total = 0, have_term = 0, minus = 0, sign = 0;
    for (int i = 0; i <= n && rc == 0; i++) {
        int end_term = i == n || t[i].kind == TK_PLUS || t[i].kind == TK_MINUS;
        if (end_term) {
            if (!have_term) {
                if (i < n && i == 0 && t[i].kind == TK_MINUS) {
                    sign = 1;
                    continue;
                }
                rc = -1;
                break;
            }
            if (sign) {
                Value neg = {.scalar = xstrdup("-1")}, r;
                rc = product(&neg, &term, &r);
                value_free(&neg);
                if (rc == 0) value_move(&term, &r);
                sign = 0;
            }
            if (rc == 0 && have_total) {
                Value r;
                rc = sum(&total, &term, minus, &r);
                if (rc == 0) value_move(&total, &r);
                value_free(&term);
            } else if (rc == 0) {
                value_move(&total, &term);
                have_total = 1;
            }
            have_term = 0;
            if (i < n) minus = t[i].kind == TK_MINUS;
            continue;
        }
        if (t[i].kind == TK_TIMES) continue;
        if (!have_term) {
            value_move(&term, &t[i].v);
            have_term = 1;
        } else {
            Value r;
            rc = product(&term, &t[i].v, &r);
            if (rc == 0) value_move(&term, &r);
        }
    }
    for (int i = 0; i < n; i++) value_free(&t[i].v);
    value_free(&term);
    if (rc || !total.rows) {
        value_free(&total);
        return -1;
    }
    *out = total;
    return 0;
}

int matrix_equal(const char *g, const char *p, MathCtx *c) {
    Value a, b;
    int ra = expr_read(g, &a, 0), rb = expr_read(p, &b, 0);
    int result = 0;
    if (ra || rb) {
        mctx_why(c, ra && rb ? "unreadable matrices" : ra ? "gold is not a matrix" : "prediction is not a matrix");
    } else if (a.rows != b.rows || a.cols != b.cols) {
        mctx_why(c, "matrix %dx%d against %dx%d", b.rows, b.cols, a.rows, a.cols);
    } else {
        result = 1;
        for (int i = 0; i < a.rows && result; i++) {
            for (int j = 0; j < a.cols && result; j++) {
                if (!mg_equal(a.e[i][j], b.e[i][j], c, 1)) {
                    mctx_why(c, "matrix entry (%d, %d) differs", i + 1, j + 1);
                    result = 0;
                }
            }
        }
        if (result) mctx_why(c, "matrices equal entry by entry");
    }
    value_free(&a);
    value_free(&b);
    return result;
}

int matrix_reads(const char *s) {
    Value v;
    int ok = expr_read(s, &v, 0) == 0;
    for (int i = 0; i < v.rows && ok; i++)
        for (int j = 0; j < v.cols && ok; j++) ok = mg_expr_reads(v.e[i][j]) || strlen(v.e[i][j]) > 0;
    value_free(&v);
    return ok;
}
