/*
 * math_extract.c: final-answer extraction (see math_extract.h). Math-Verify
 * finds answers with regular expressions ranked by priority; this file finds
 * the same matches by scanning: LaTeX environments and boxes, anchors
 * ("final answer", "answer"), plain numbers and expressions, each a
 * candidate with the span the regex would have matched, tried in tier order
 * and rightmost end first. Forward searches are memoised so that a text is
 * scanned a bounded number of times whatever its content.
 * Not for: normalising or comparing answers (math_norm.c, math_grade.c).
 */
#define _GNU_SOURCE /* memmem */
#include "math_extract.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "math_grade.h"
#include "reward_text.h"

#define MAX_TEXT ((size_t)4 << 20) /* longer texts are cut to their last 4 MB */
#define MAX_GROUP 6                /* environments joined by ",", "and", "or" (Math-Verify: 1 + 5) */
#define ANSWER_WINDOW 50           /* "answer" ... X */
#define FINAL_WINDOW 100           /* "final answer" ... "is" X, "answer" ... "=" X */
#define MAX_MEMBERS 32             /* boxes or environments making one answer */

/* ---- names ---- */

static const char *const mode_names[MATH_MODE_COUNT] = {"latex_expr", "latex", "expr", "boxed", "sources"};
static const char *const source_names[MATH_SRC_COUNT] = {"boxed", "answer_tag", "answer_is", "gsm8k", "last_number"};

const char *math_mode_name(MathMode m) { return (unsigned)m < MATH_MODE_COUNT ? mode_names[m] : "?"; }

int math_mode_from_name(const char *name) {
    for (int i = 0; i < MATH_MODE_SOURCES; i++)
        if (!strcmp(name, mode_names[i])) return i;
    return -1;
}

const char *math_source_name(MathSource s) { return (unsigned)s < MATH_SRC_COUNT ? source_names[s] : "?"; }

int math_source_from_name(const char *name) {
    for (int i = 0; i < MATH_SRC_COUNT; i++)
        if (!strcmp(name, source_names[i])) return i;
    return -1;
}

void math_extract_config_default(MathExtractConfig *c) {
    memset(c, 0, sizeof(*c));
    c->mode = MATH_MODE_LATEX_EXPR;
    c->without_anchor = 1;
}

void math_extracted_free(MathExtracted *e) {
    free(e->text);
    free(e->norm);
    memset(e, 0, sizeof(*e));
}

/* ---- the text and its memoised forward searches ---- */

enum { SK_DOLLAR2, SK_DOLLAR, SK_NEWLINE, SK_CLOSE_BRACKET, SK_CLOSE_PAREN, SK_BRACKET_STOP, SK_COUNT };

/* The first hit at or after `from` is `at` (n if none), for from in
 * [from, at]. Queries mostly move forward; one that moves back rescans only
 * the gap. */
typedef struct {
    size_t from, at;
    int valid;
} Seek;

/* A run of expression characters (digits, spaces, operators) and what the
 * expression pattern can match in it. */
typedef struct {
    size_t start, end;        /* the run: text[start..end) */
    size_t best, best_suffix; /* the last end followed by a suffix (0: none), the suffix length */
    size_t op_from, op_at;    /* the first operator at or after op_from is op_at */
    int valid;
} ExprRun;

typedef struct {
    const char *t;
    size_t n;
    Seek seek[SK_COUNT];
    ExprRun run;
} Text;

/* Does search `kind` hit at i? "$$"; an unescaped "$"; a newline; "\]"; "\)";
 * one of "\n[]". */
static int hit(const Text *x, int kind, size_t i) {
    const char *t = x->t;
    switch (kind) {
    case SK_DOLLAR2: return t[i] == '$' && t[i + 1] == '$';
    case SK_DOLLAR: return t[i] == '$' && (i == 0 || t[i - 1] != '\\');
    case SK_NEWLINE: return t[i] == '\n';
    case SK_CLOSE_BRACKET: return t[i] == '\\' && t[i + 1] == ']';
    case SK_CLOSE_PAREN: return t[i] == '\\' && t[i + 1] == ')';
    default: return t[i] == '\n' || t[i] == '[' || t[i] == ']';
    }
}

static size_t scan(const Text *x, int kind, size_t from, size_t to) {
    static const char first[SK_COUNT] = {'$', '$', '\n', '\\', '\\', 0};
    size_t i = from;
    while (i < to) {
        if (first[kind]) {
            const char *p = memchr(x->t + i, first[kind], to - i);
            if (!p) return to;
            i = (size_t)(p - x->t);
        }
        if (hit(x, kind, i)) return i;
        i++;
    }
    return to;
}

/* The first position >= from where search `kind` hits, or n. */
static size_t next_hit(Text *x, int kind, size_t from) {
    Seek *s = &x->seek[kind];
    if (from >= x->n) return x->n;
    if (s->valid && from <= s->at) {
        if (from >= s->from) return s->at;
        size_t i = scan(x, kind, from, s->from);
        if (i < s->from) s->at = i;
        s->from = from;
        return s->at;
    }
    s->at = scan(x, kind, from, x->n);
    s->from = from;
    s->valid = 1;
    return s->at;
}

/* Character classes of the scans: whitespace, an anchor before a number
 * (whitespace or '='), a possible start of an environment, of a number. */
enum { CL_SPACE = 1, CL_ANCHOR = 2, CL_ENV = 4, CL_NUM = 8 };
static const unsigned char cls[256] = {
    [' '] = CL_SPACE | CL_ANCHOR, ['\t'] = CL_SPACE | CL_ANCHOR, ['\n'] = CL_SPACE | CL_ANCHOR,
    ['\r'] = CL_SPACE | CL_ANCHOR, ['\v'] = CL_SPACE | CL_ANCHOR, ['\f'] = CL_SPACE | CL_ANCHOR,
    ['='] = CL_ANCHOR, ['$'] = CL_ENV | CL_NUM, ['\\'] = CL_ENV, ['-'] = CL_ENV | CL_NUM,
    ['('] = CL_NUM, ['.'] = CL_NUM, ['*'] = CL_NUM, ['0'] = CL_NUM, ['1'] = CL_NUM, ['2'] = CL_NUM,
    ['3'] = CL_NUM, ['4'] = CL_NUM, ['5'] = CL_NUM, ['6'] = CL_NUM, ['7'] = CL_NUM, ['8'] = CL_NUM, ['9'] = CL_NUM,
    [0xc2] = CL_NUM, [0xe0] = CL_NUM, [0xe2] = CL_NUM, /* UTF-8 currency and minus signs */
};

static int cl(char ch, int c) { return cls[(unsigned char)ch] & c; }

static size_t skip_space(const Text *x, size_t i) {
    while (i < x->n && cl(x->t[i], CL_SPACE)) i++;
    return i;
}

static int at_nocase(const Text *x, size_t i, const char *word) {
    size_t k = strlen(word);
    return i + k <= x->n && !strncasecmp(x->t + i, word, k);
}

/* ---- LaTeX environments ---- */

typedef struct {
    size_t b, e;   /* the environment with its delimiters (" [" starts at the space) */
    size_t cb, ce; /* its content */
    size_t end;    /* after an optional percent sign or word */
    int pct;
} Env;

/* "%", "\%", "percent", "percentage", "pct" after spaces at i: its end, or 0. */
static size_t percent_at(const Text *x, size_t i) {
    size_t j = skip_space(x, i);
    const char *t = x->t;
    if (t[j] == '%') return j + 1;
    if (t[j] == '\\' && t[j + 1] == '%') return j + 2;
    if (j < x->n && (t[j] == 'p' || t[j] == 'P')) {
        if (!strncmp(t + j + 1, "ercent", 6)) return j + 7;
        if (!strncmp(t + j + 1, "ct", 2)) return j + 3;
    }
    return 0;
}

/* "-?\frac{n}{n}" with simple numbers at i: its end, or 0. */
static size_t frac_at(const Text *x, size_t i) {
    const char *t = x->t;
    size_t j = i + (t[i] == '-');
    if (strncmp(t + j, "\\frac{", 6)) return 0;
    j += 6;
    for (int arg = 0; arg < 2; arg++) {
        if (arg) {
            if (t[j] != '{') return 0;
            j++;
        }
        if (t[j] == '-') j++;
        if (!isdigit((unsigned char)t[j])) return 0;
        while (isdigit((unsigned char)t[j])) j++;
        if ((t[j] == '.' || t[j] == ',') && isdigit((unsigned char)t[j + 1])) {
            j++;
            while (isdigit((unsigned char)t[j])) j++;
        }
        if (t[j] != '}') return 0;
        j++;
    }
    return j;
}

/* The environment starting at i, tried in Math-Verify's order: $$...$$,
 * \[...\], $...$ (one line, not after a digit), \(...\) (one line),
 * " [...] " (one line), a bare \frac{1}{2}. */
static int env_at(Text *x, size_t i, Env *v) {
    const char *t = x->t;
    size_t n = x->n, j;
    char ch = t[i];
    if (ch != '$' && ch != '\\' && ch != '-' && !(t[i + 1] == '[' && isspace((unsigned char)ch))) return 0;
    int escaped = i > 0 && t[i - 1] == '\\';
    v->b = i;
    if (t[i] == '$' && !escaped) {
        if (t[i + 1] == '$') {
            j = next_hit(x, SK_DOLLAR2, i + 2);
            if (j > i + 2 && j < n && t[j - 1] != '\\') {
                v->cb = i + 2, v->ce = j, v->e = j + 2;
                goto found;
            }
        }
        if (!(i > 0 && isdigit((unsigned char)t[i - 1])) && t[i + 1] && t[i + 1] != '$' && t[i + 1] != '\n') {
            j = next_hit(x, SK_DOLLAR, i + 2);
            if (j < n && next_hit(x, SK_NEWLINE, i + 1) > j) {
                v->cb = i + 1, v->ce = j, v->e = j + 1;
                goto found;
            }
        }
        return 0;
    }
    if (t[i] == '\\' && !escaped && (t[i + 1] == '[' || t[i + 1] == '(')) {
        int display = t[i + 1] == '[';
        j = next_hit(x, display ? SK_CLOSE_BRACKET : SK_CLOSE_PAREN, i + 2);
        if (j > i + 2 && j < n && t[j - 1] != '\\' && (display || next_hit(x, SK_NEWLINE, i + 2) > j)) {
            v->cb = i + 2, v->ce = j, v->e = j + 2;
            goto found;
        }
        return 0;
    }
    if (isspace((unsigned char)t[i]) && t[i + 1] == '[') {
        j = next_hit(x, SK_BRACKET_STOP, i + 2);
        if (j > i + 2 && j < n && t[j] == ']' && isspace((unsigned char)t[j + 1])) {
            v->cb = i + 2, v->ce = j, v->e = j + 2;
            goto found;
        }
        return 0;
    }
    if (t[i] == '-' || t[i] == '\\') {
        j = frac_at(x, i);
        if (j) {
            v->cb = i, v->ce = j, v->e = j;
            goto found;
        }
    }
    return 0;
found:
    j = percent_at(x, v->e);
    v->pct = j != 0;
    v->end = j ? j : v->e;
    return 1;
}

/* The first position >= i where an environment may start ('$', '\\', '-'
 * or a space before '['), or n. */
static size_t env_next(const Text *x, size_t i) {
    const char *t = x->t;
    while (i < x->n) {
        const char *p = strpbrk(t + i, "$\\-[");
        if (!p) return x->n;
        size_t j = (size_t)(p - t);
        if (*p != '[') return j;
        if (j > i && cl(t[j - 1], CL_SPACE)) return j - 1;
        i = j + 1;
    }
    return x->n;
}

/* The first position >= i where an anchored number or expression may
 * start: a digit, '-', '(', '.', '*', '$' or a UTF-8 currency or minus sign
 * after the start, a whitespace or '='. n if none. */
static size_t num_next(const Text *x, size_t i) {
    const unsigned char *t = (const unsigned char *)x->t;
    if (i == 0 && x->n && (cls[t[0]] & CL_NUM)) return 0;
    for (i = i ? i : 1; i < x->n; i++)
        if ((cls[t[i]] & CL_NUM) && (cls[t[i - 1]] & CL_ANCHOR)) return i;
    return x->n;
}

/* Where an environment joining the one ending at `end` may start:
 * `\s*(,?and|,?or|,)\s*`, and (ours) the Oxford ", and" with a space.
 * Returns 0 when there is no separator. */
static int join_window(const Text *x, size_t end, size_t *lo, size_t *hi) {
    size_t j = skip_space(x, end);
    const char *t = x->t;
    size_t k = j + (t[j] == ',');
    if (k > j && (!strncmp(t + skip_space(x, k), "and", 3) || !strncmp(t + skip_space(x, k), "or", 2)))
        k = skip_space(x, k);
    if (!strncmp(t + k, "and", 3)) k += 3;
    else if (!strncmp(t + k, "or", 2)) k += 2;
    else if (k == j) return 0;
    *lo = k;
    *hi = skip_space(x, k);
    return 1;
}

/* A group: the environment at env[0] and up to five joined after it. */
typedef struct {
    Env env[MAX_GROUP];
    int n;
} Group;

static void group_from(Text *x, const Env *first, Group *g) {
    g->env[0] = *first;
    g->n = 1;
    size_t lo, hi;
    while (g->n < MAX_GROUP && join_window(x, g->env[g->n - 1].end, &lo, &hi)) {
        int found = 0;
        for (size_t i = lo; i <= hi && !found && i < x->n; i++) found = env_at(x, i, &g->env[g->n]);
        if (!found) break;
        g->n++;
    }
}

/* The group whose first environment starts in [lo, hi], or 0. */
static int group_in(Text *x, size_t lo, size_t hi, Group *g) {
    Env v;
    for (size_t i = lo; i <= hi && i < x->n; i++) {
        if (env_at(x, i, &v)) {
            group_from(x, &v, g);
            return 1;
        }
    }
    return 0;
}

/* ---- boxes ---- */

typedef struct {
    size_t b, e; /* a member of an answer: text[b..e) */
} Span;

/* Positions of "\boxed" and "\fbox" in [from, to), left to right. */
typedef struct {
    size_t *at;
    size_t n, cap;
} Boxes;

static void boxes_find(const Text *x, Boxes *bx) {
    for (const char *p = x->t; (p = memchr(p, '\\', (size_t)(x->t + x->n - p))) != NULL; p++) {
        if (strncmp(p + 1, "boxed", 5) && strncmp(p + 1, "fbox", 4)) continue;
        if (bx->n == bx->cap) {
            bx->cap = bx->cap ? 2 * bx->cap : 8;
            bx->at = xrealloc(bx->at, bx->cap * sizeof(size_t));
        }
        bx->at[bx->n++] = (size_t)(p - x->t);
    }
}

/* Contents of the boxes in [from, to), right to left as Math-Verify's
 * extract_boxed_content reads them. last: only the last box and the boxes
 * close before it (fewer than 10 characters between, or fewer than 70 with
 * ",", ";", "and" or "or" between and a different content); otherwise all.
 * Consecutive equal contents count once. Members are returned left to
 * right; -1 when the last box is not closed (not an answer). */
static int box_contents(const Text *x, const Boxes *bx, size_t from, size_t to, int last, Span *out) {
    const char *t = x->t;
    Span rev[MAX_MEMBERS];
    int n = 0;
    size_t max_pos = to, later_start = 0;
    for (size_t k = bx->n; k-- > 0;) {
        size_t s = bx->at[k];
        if (s < from || s >= max_pos) continue;
        size_t q = s + (t[s + 1] == 'b' ? 6 : 5);
        while (q < max_pos && isspace((unsigned char)t[q])) q++;
        if (q >= max_pos) break;
        if (t[q] != '{') {
            if (n == 0) return -1;
            break;
        }
        size_t c = q + 1;
        int depth = 1;
        for (; c < max_pos && depth; c++) depth += (t[c] == '{') - (t[c] == '}');
        if (depth) {
            if (n == 0) return -1;
            break;
        }
        const char *cb = t + q + 1, *ce = t + c - 1;
        rtext_trim(&cb, &ce);
        Span m = {(size_t)(cb - t), (size_t)(ce - t)};
        if (n && last) {
            size_t gap = later_start - c; /* text between this box and the later one */
            int near = gap < 10;
            if (!near && gap < 70) {
                int differs = m.e - m.b != rev[n - 1].e - rev[n - 1].b ||
                              strncmp(t + m.b, t + rev[n - 1].b, m.e - m.b);
                int sep = 0;
                for (size_t i = c; i < later_start && !sep; i++) {
                    if (t[i] == ',' || t[i] == ';') sep = 1;
                    int word_start = i == 0 || !isalnum((unsigned char)t[i - 1]);
                    if (word_start && ((!strncmp(t + i, "and", 3) && !isalnum((unsigned char)t[i + 3])) ||
                                       (!strncmp(t + i, "or", 2) && !isalnum((unsigned char)t[i + 2]))))
                        sep = 1;
                }
                near = differs && sep;
            }
            if (!near) break;
        }
        int dup = n && m.e - m.b == rev[n - 1].e - rev[n - 1].b && !strncmp(t + m.b, t + rev[n - 1].b, m.e - m.b);
        if (!dup) {
            if (n == MAX_MEMBERS) break;
            rev[n++] = m;
        }
        later_start = s;
        max_pos = s;
    }
    for (int i = 0; i < n; i++) out[i] = rev[n - 1 - i];
    return n;
}

/* ---- plain numbers and expressions ---- */

/* A number or expression match: its value is text[vb..ve), or the
 * normalised number in num; the regex match ends at end. */
typedef struct {
    size_t q;          /* where the match was tried (before a currency sign) */
    size_t vb, ve, end;
    int is_expr;
    char num[96];
} Num;

static const char *const currencies[] = {
    "$", "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5", "\xe2\x82\xb9", "\xe2\x82\xbd", "\xe2\x82\xaa", "\xe2\x82\xa9",
    "\xe2\x82\xab", "\xe0\xb8\xbf", "\xe2\x82\xb1", "\xe2\x82\xba", "\xe2\x82\xbf", "\xe2\x82\xb4", "\xe2\x82\xa6",
};

/* Length of an expression character at i (digits . whitespace + - * / ^ ( )
 * and the UTF-8 signs × ÷), 0 if none; *op set when it is an operator. */
static size_t expr_char(const char *t, size_t i, int *op) {
    unsigned char ch = (unsigned char)t[i];
    *op = 0;
    if (isdigit(ch) || ch == '.' || isspace(ch)) return ch ? 1 : 0;
    if (ch == '+' || ch == '-' || ch == '*' || ch == '/' || ch == '^' || ch == '(' || ch == ')') {
        *op = 1;
        return 1;
    }
    if (ch == 0xc3 && ((unsigned char)t[i + 1] == 0x97 || (unsigned char)t[i + 1] == 0xb7)) {
        *op = 1;
        return 2;
    }
    return 0;
}

/* The expression suffix at i: (\*\*)?(\.|,|:|\s|\)|\$|$). Its length + 1,
 * or 0 if none (so that a suffix at the end of the text is 1). */
static size_t expr_suffix(const Text *x, size_t i) {
    size_t k = i;
    if (x->t[k] == '*' && x->t[k + 1] == '*') k += 2;
    if (k >= x->n) return k - i + 1;
    char ch = x->t[k];
    if (ch == '.' || ch == ',' || ch == ':' || ch == ')' || ch == '$' || isspace((unsigned char)ch)) return k - i + 2;
    return 0;
}

/* The run of expression characters starting at or holding k, memoised
 * (the anchors inside one run share it, so a text is scanned once). */
static const ExprRun *expr_run(Text *x, size_t k) {
    ExprRun *r = &x->run;
    if (r->valid && k >= r->start && k < r->end) return r;
    const char *t = x->t;
    int op;
    size_t i = k, len;
    while (i < x->n && (len = expr_char(t, i, &op)) != 0) i += len;
    r->start = k;
    r->end = i;
    r->best = 0;
    r->op_from = r->op_at = 0;
    r->valid = 1;
    /* the last position with a suffix after it, walking back over whole characters */
    for (size_t e = i; e > k + 1; e--) {
        if (((unsigned char)t[e] & 0xC0) == 0x80) continue;
        size_t sl = expr_suffix(x, e);
        if (sl) {
            r->best = e;
            r->best_suffix = sl - 1;
            break;
        }
    }
    return r;
}

/* The first operator at or after `from` in run r, or r->end. */
static size_t expr_op(Text *x, ExprRun *r, size_t from) {
    if (r->op_at > 0 && from >= r->op_from && from <= r->op_at) return r->op_at;
    int op = 0;
    size_t i = from;
    while (i < r->end) {
        size_t len = expr_char(x->t, i, &op);
        if (op) break;
        i += len;
    }
    r->op_from = from;
    r->op_at = i;
    return i;
}

/* Math-Verify's expression at q: -?\(?-?\d, expression characters with at
 * least one operator and one character after it, an optional ')', a suffix;
 * the longest such match. */
static int expr_match(Text *x, size_t q, Num *m) {
    const char *t = x->t;
    size_t k = q;
    if (t[k] == '-') k++;
    if (t[k] == '(') k++;
    if (t[k] == '-') k++;
    if (!isdigit((unsigned char)t[k])) return 0;
    ExprRun *r = (ExprRun *)expr_run(x, k);
    size_t op = expr_op(x, r, k + 1);
    if (op >= r->end || r->best < op + 2) return 0;
    m->q = q;
    m->vb = q;
    m->ve = r->best;
    m->end = r->best + r->best_suffix;
    m->is_expr = 1;
    return 1;
}

/* Math-Verify's number at q: an optional currency sign, then
 * -?[1-9]\d{0,2}([ ,]\d{3})+(\.\d+)? | -?\d+[.,]\d+ | \.\d+ | -?\d+, then an
 * optional percent. The value is normalised: separators dropped, a decimal
 * comma made a point, leading zeros dropped, "%" kept. */
static int number_match(const Text *x, size_t q, Num *m) {
    const char *t = x->t;
    m->q = q;
    if (t[q] == '$') {
        q++;
    } else if ((unsigned char)t[q] >= 0xc2) {
        for (size_t i = 1; i < sizeof(currencies) / sizeof(currencies[0]); i++) {
            size_t k = strlen(currencies[i]);
            if (!strncmp(t + q, currencies[i], k)) {
                q += k;
                break;
            }
        }
    }
    if (q > 0 && isdigit((unsigned char)t[q - 1])) return 0;
    int minus = t[q] == '-';
    size_t s = q + (size_t)minus, e = 0, int_end = 0, dec = 0;
    if (!strncmp(t + q, "\xe2\x88\x92", 3)) { /* ours: U+2212 minus sign */
        minus = 1;
        s = q + 3;
    }
    int has_dec = 0;
    size_t run = 0;
    while (isdigit((unsigned char)t[s + run])) run++;
    if (run >= 1 && run <= 3 && t[s] != '0') {
        size_t k = s + run;
        int groups = 0;
        while ((t[k] == ' ' || t[k] == ',') && isdigit((unsigned char)t[k + 1]) && isdigit((unsigned char)t[k + 2]) &&
               isdigit((unsigned char)t[k + 3])) {
            k += 4;
            groups++;
        }
        if (groups) {
            int_end = k;
            if (t[k] == '.' && isdigit((unsigned char)t[k + 1])) {
                dec = k;
                has_dec = 1;
                k++;
                while (isdigit((unsigned char)t[k])) k++;
            }
            e = k;
        }
    }
    if (!e && run && (t[s + run] == '.' || t[s + run] == ',') && isdigit((unsigned char)t[s + run + 1])) {
        int_end = dec = s + run;
        has_dec = 1;
        e = dec + 1;
        while (isdigit((unsigned char)t[e])) e++;
    }
    if (!e && t[q] == '.' && isdigit((unsigned char)t[q + 1])) {
        s = int_end = dec = q;
        has_dec = 1;
        e = q + 1;
        while (isdigit((unsigned char)t[e])) e++;
    }
    if (!e && run) e = int_end = s + run;
    if (!e || e - q > 64) return 0;
    size_t w = 0;
    if (minus && s > q) m->num[w++] = '-';
    size_t lead = w;
    for (size_t i = s; i < int_end; i++)
        if (isdigit((unsigned char)t[i]) && !(w == lead && t[i] == '0')) m->num[w++] = t[i];
    if (w == lead) m->num[w++] = '0';
    if (has_dec) {
        m->num[w++] = '.';
        for (size_t i = dec + 1; i < e; i++) m->num[w++] = t[i];
    }
    size_t pe = percent_at(x, e);
    if (pe) {
        m->num[w++] = '%';
        e = pe;
    }
    m->num[w] = '\0';
    m->vb = q;
    m->ve = e;
    m->end = e;
    m->is_expr = 0;
    return 1;
}

/* The expression or number at q, just after an anchor (start, whitespace, '='). */
static int num_at(Text *x, size_t q, int expr_first, Num *m) {
    if (x->t[q] == '*' && x->t[q + 1] == '*') q += 2;
    if (expr_first && expr_match(x, q, m)) return 1;
    return number_match(x, q, m);
}

static int anchor_char(char ch) { return isspace((unsigned char)ch) || ch == '='; }

/* (?!\s*=) after i. */
static int no_equals_after(const Text *x, size_t i) { return x->t[skip_space(x, i)] != '='; }

/* ---- candidates ---- */

typedef enum { C_GROUP, C_BOXES, C_NUM, C_TAG, C_GSM8K, C_SENTENCE } CandKind;

/* Where a candidate was found (MathExtracted.source). */
enum { SRC_BOXED, SRC_FINAL, SRC_ANSWER_COLON, SRC_ANSWER, SRC_SENTENCE, SRC_TAG, SRC_GSM8K, SRC_LATEX, SRC_NUMBER,
       SRC_EXPRESSION };
static const char *const cand_sources[] = {"boxed", "final answer", "answer:", "answer", "answer sentence",
                                           "answer tag", "gsm8k", "latex", "number", "expression"};

/* A candidate is small (texts may hold a million numbers; offsets fit 32
 * bits as texts are cut to 4 MB): its group or number is found again from
 * pos when it is read. */
typedef struct {
    uint32_t start, end; /* the regex match: rightmost end first, then leftmost start */
    uint32_t pos;        /* C_GROUP: its first environment; C_NUM: where the number was matched;
                            C_TAG, C_GSM8K, C_SENTENCE: where the text starts */
    uint32_t pos_end;    /* C_BOXES: the boxes end before it; C_TAG, C_GSM8K, C_SENTENCE: the text's end */
    uint8_t kind, is_expr, source;
} Cand;

typedef struct {
    Cand *v;
    size_t n, cap;
} Cands;

typedef struct {
    Text x;
    const MathExtractConfig *cfg;
    int latex, expr, boxes_only;
    int depth;          /* answer tags inside answer tags */
    Boxes bx;
    size_t *answers;    /* positions of "answer" (any case) */
    size_t n_answers;
    Span failed[64];    /* environments that did not read: no number is taken from inside them */
    int n_failed;
    Cands c;
} Ex;

static Cand *cand_new(Ex *s, CandKind kind, size_t start, size_t end, int source) {
    Cands *c = &s->c;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->v = xrealloc(c->v, c->cap * sizeof(Cand));
    }
    Cand *k = &c->v[c->n++];
    *k = (Cand){.start = (uint32_t)start, .end = (uint32_t)end, .kind = (uint8_t)kind, .source = (uint8_t)source};
    return k;
}

static void cand_group(Ex *s, const Group *g, size_t start, size_t end, int source) {
    Cand *k = cand_new(s, C_GROUP, start, end, source);
    k->pos = (uint32_t)g->env[0].b;
}

static void cand_num(Ex *s, const Num *m, size_t start, int source) {
    Cand *k = cand_new(s, C_NUM, start, m->end, source);
    k->pos = (uint32_t)m->q;
    k->is_expr = (uint8_t)m->is_expr;
}

/* A candidate made of the text [b, e). */
static void cand_text(Ex *s, CandKind kind, size_t start, size_t end, size_t b, size_t e, int source) {
    Cand *k = cand_new(s, kind, start, end, source);
    k->pos = (uint32_t)b;
    k->pos_end = (uint32_t)e;
}

/* "answer" in any case at p ('|' 0x20 lowers exactly the ASCII capitals). */
static int answer_at(const char *p) {
    static const char w[] = "answer";
    for (int k = 0; k < 6; k++)
        if ((p[k] | 0x20) != w[k]) return 0;
    return 1;
}

static int by_position(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Every "answer" in any case, in text order (memchr finds the 'a's and 'A's). */
static void find_answers(Ex *s) {
    size_t cap = 0;
    const Text *x = &s->x;
    for (int up = 0; up < 2; up++) {
        for (const char *p = x->t; (p = memchr(p, up ? 'A' : 'a', (size_t)(x->t + x->n - p))) != NULL; p++) {
            if ((size_t)(p - x->t) + 6 > x->n || !answer_at(p)) continue;
            if (s->n_answers == cap) {
                cap = cap ? 2 * cap : 8;
                s->answers = xrealloc(s->answers, cap * sizeof(size_t));
            }
            s->answers[s->n_answers++] = (size_t)(p - x->t);
        }
    }
    if (s->n_answers > 1) qsort(s->answers, s->n_answers, sizeof(size_t), by_position);
}

/* Tier 0: the last run of boxes, environments holding boxes, and
 * "final answer is X. I hope". */
static void collect_boxes(Ex *s) {
    Text *x = &s->x;
    if (s->bx.n) {
        /* \boxed{.+} with DOTALL: from the first box to the last '}' of the text */
        const char *close = NULL;
        for (const char *p = x->t + x->n; p > x->t;)
            if (*--p == '}') {
                close = p;
                break;
            }
        if (close && (size_t)(close - x->t) > s->bx.at[0]) {
            Cand *k = cand_new(s, C_BOXES, s->bx.at[0], (size_t)(close - x->t) + 1, SRC_BOXED);
            k->pos_end = (uint32_t)(close - x->t) + 1;
        }
        /* environments around boxes: $\boxed{1}$, \[\boxed{2}\] */
        Env v;
        for (size_t i = env_next(x, 0); i < x->n; i = env_next(x, i)) {
            if (!env_at(x, i, &v)) {
                i++;
                continue;
            }
            Group g;
            group_from(x, &v, &g);
            int boxed = 1;
            for (int j = 0; j < g.n && boxed; j++) {
                const char *b = x->t + g.env[j].cb;
                size_t len = g.env[j].ce - g.env[j].cb;
                boxed = (memmem(b, len, "\\boxed{", 7) || memmem(b, len, "\\fbox{", 6)) != 0;
            }
            if (boxed) cand_group(s, &g, g.env[0].b, g.env[g.n - 1].end, SRC_BOXED);
            i = g.env[g.n - 1].end;
        }
    }
}

static int hope_after(const Text *x, size_t i) {
    if (x->t[i] == '.') i++;
    if (isspace((unsigned char)x->t[i])) i++;
    return !strncmp(x->t + i, "I hope", 6) ? (int)(i + 6 <= x->n) : 0;
}

/* "final answer is:? X. I hope" (tier 0) and "final answer ... is:? X" (tier 50). */
static void collect_final(Ex *s, int tier) {
    Text *x = &s->x;
    for (size_t k = 0; k < s->n_answers; k++) {
        size_t a = s->answers[k];
        if (a < 6 || strncasecmp(x->t + a - 6, "final ", 6)) continue;
        size_t start = a - 6, after = a + 6;
        if (tier == 0) {
            if (!at_nocase(x, after, " is")) continue;
            size_t c = after + 3 + (x->t[after + 3] == ':');
            size_t ws = skip_space(x, c);
            Group g;
            if (s->latex && group_in(x, c, ws, &g)) {
                size_t e = g.env[g.n - 1].end;
                if (hope_after(x, e)) cand_group(s, &g, start, e, SRC_FINAL);
            }
            Num m;
            if (s->expr && ws > c && num_at(x, ws, 1, &m) && hope_after(x, m.end))
                cand_num(s, &m, start, SRC_FINAL);
            continue;
        }
        int got_latex = !s->latex, got_expr = !s->expr;
        int newline = 0; /* one before i: "." does not cross lines in the expression pattern */
        for (size_t i = after; i <= after + FINAL_WINDOW && i < x->n && !(got_latex && got_expr); i++) {
            if (i > after && x->t[i - 1] == '\n') newline = 1;
            if (!isspace((unsigned char)x->t[i])) continue;
            size_t w = skip_space(x, i);
            if (strncmp(x->t + w, "is", 2)) continue;
            size_t c = w + 2 + (x->t[w + 2] == ':');
            Group g;
            if (!got_latex && group_in(x, c, skip_space(x, c), &g)) {
                cand_group(s, &g, start, g.env[g.n - 1].end, SRC_FINAL);
                got_latex = 1;
            }
            Num m;
            if (!got_expr && !newline && anchor_char(x->t[c]) && num_at(x, c + 1, 1, &m)) {
                cand_num(s, &m, start, SRC_FINAL);
                got_expr = 1;
            }
        }
    }
}

/* Words of two letters or more outside LaTeX commands, other than "or"
 * and "and": prose, not an answer. */
static int has_words(const char *t, size_t b, size_t e) {
    for (size_t i = b; i < e;) {
        if (t[i] == '\\') {
            i++;
            while (i < e && isalpha((unsigned char)t[i])) i++;
            continue;
        }
        size_t j = i;
        while (j < e && isalpha((unsigned char)t[j])) j++;
        if (j - i >= 2 && !(j - i == 2 && !strncmp(t + i, "or", 2)) && !(j - i == 3 && !strncmp(t + i, "and", 3)))
            return 1;
        i = j > i ? j : i + 1;
    }
    return 0;
}

/* Ours: the rest of the sentence after "answer is" / "answer:" when it is a
 * whole answer without prose ("The answer is (-\infty, 3]."); it ends at a
 * newline or a '.' before whitespace, outside $...$. */
static void cand_sentence(Ex *s, size_t anchor, size_t a, int source) {
    const Text *x = &s->x;
    const char *t = x->t;
    while (a < x->n && (t[a] == ' ' || t[a] == ':' || t[a] == '\t')) a++;
    size_t e = a;
    int in_math = 0;
    for (; e < x->n && t[e] != '\n' && e < a + 200; e++) {
        if (t[e] == '$') in_math = !in_math;
        if (t[e] == '.' && !in_math && (e + 1 == x->n || isspace((unsigned char)t[e + 1]))) break;
    }
    if (e == a || e == a + 200 || has_words(t, a, e)) return;
    cand_text(s, C_SENTENCE, anchor, e, a, e, source);
}

static void answer_number(Ex *s, size_t k, size_t a, int source);

/* "answer:" (tier 100) or "answer" (tier 200) followed within 50
 * characters by X; a number may also follow the last "=" within 100. */
static void collect_answer(Ex *s, int colon) {
    Text *x = &s->x;
    int source = colon ? SRC_ANSWER_COLON : SRC_ANSWER;
    for (size_t k = 0; k < s->n_answers; k++) {
        size_t a = s->answers[k] + 6;
        if (colon && x->t[a] != ':') continue;
        a += colon;
        Group g;
        if (s->latex && group_in(x, a, a + ANSWER_WINDOW, &g))
            cand_group(s, &g, s->answers[k], g.env[g.n - 1].end, source);
        if (s->expr) answer_number(s, k, a, source);
        /* last, so that it is tried before a number ending where it ends; plain text, so not in LaTeX mode */
        if (s->expr && colon) cand_sentence(s, s->answers[k], a, SRC_SENTENCE);
        else if (s->expr && at_nocase(x, a, " is")) cand_sentence(s, s->answers[k], a + 3, SRC_SENTENCE);
    }
}

/* The number or expression after an "answer" anchor: after the last "="
 * within 100 characters on the line, else the first within 50. */
static void answer_number(Ex *s, size_t k, size_t a, int source) {
    Text *x = &s->x;
    size_t eol = a;
    while (eol < x->n && x->t[eol] != '\n' && eol < a + FINAL_WINDOW + 1) eol++;
    Num m;
    int found = 0;
    /* .{0,100}=\s* then X: the last '=' that works */
    for (size_t i = eol; i-- > a && !found;) {
        if (x->t[i] != '=') continue;
        size_t w = skip_space(x, i + 1);
        found = w > i + 1 && num_at(x, w, 1, &m) && no_equals_after(x, m.end);
    }
    /* .{0,50}? then X */
    for (size_t i = a; i <= a + ANSWER_WINDOW && i < x->n && !found; i++) {
        if (anchor_char(x->t[i])) found = num_at(x, i + 1, 1, &m) && no_equals_after(x, m.end);
        if (x->t[i] == '\n') break;
    }
    if (found) cand_num(s, &m, s->answers[k], source);
}

/* Tier 300: every environment group and every anchored number or
 * expression. */
static void collect_any(Ex *s) {
    Text *x = &s->x;
    size_t env_pos = s->latex ? env_next(x, 0) : x->n, num_pos = s->expr ? num_next(x, 0) : x->n;
    size_t expr_end = 0, num_end = 0;
    /* one pass left to right, so that candidates come almost in order */
    while (env_pos < x->n || num_pos < x->n) {
        if (env_pos <= num_pos) {
            Env v;
            if (env_at(x, env_pos, &v)) {
                Group g;
                group_from(x, &v, &g);
                cand_group(s, &g, g.env[0].b, g.env[g.n - 1].end, SRC_LATEX);
                env_pos = env_next(x, g.env[g.n - 1].end);
            } else {
                env_pos = env_next(x, env_pos + 1);
            }
            continue;
        }
        size_t i = num_pos, prefix = i ? i - 1 : 0;
        num_pos = num_next(x, i + 1);
        Num m;
        if (prefix >= expr_end && expr_match(x, i + (x->t[i] == '*' && x->t[i + 1] == '*') * 2, &m)) {
            cand_num(s, &m, prefix, SRC_EXPRESSION);
            expr_end = m.end;
        }
        if (prefix >= num_end && num_at(x, i, 0, &m)) {
            cand_num(s, &m, prefix, SRC_NUMBER);
            num_end = m.end;
        }
    }
}

/* Tier 50 (ours): the last <answer>...</answer> and the text after the last "####". */
static void collect_tags(Ex *s) {
    Text *x = &s->x;
    const char *t = x->t;
    const char *close = rtext_rfind(t, "</answer>");
    if (close) {
        const char *open = rtext_rfind_in(t, (size_t)(close - t), "<answer>");
        if (open) {
            size_t b = (size_t)(open - t), e = (size_t)(close - t);
            cand_text(s, C_TAG, b, e + 9, b + 8, e, SRC_TAG);
        }
    }
    const char *hash = rtext_rfind(t, "####");
    if (hash) {
        const char *e = hash + 4;
        while (*e && *e != '\n') e++;
        size_t b = (size_t)(hash - t);
        cand_text(s, C_GSM8K, b, (size_t)(e - t), b + 4, (size_t)(e - t), SRC_GSM8K);
    }
}

/* Orders candidates as Math-Verify tries its matches: rightmost end first,
 * then leftmost start. Candidates come almost in order (left to right), so
 * an insertion sort into ascending order, read backwards, is linear in
 * practice. */
static int cand_before(const Cand *a, const Cand *b) {
    return a->end < b->end || (a->end == b->end && a->start > b->start);
}

static void cand_sort(Cands *c) {
    for (size_t i = 1; i < c->n; i++) {
        Cand k = c->v[i];
        size_t j = i;
        while (j > 0 && cand_before(&k, &c->v[j - 1])) {
            c->v[j] = c->v[j - 1];
            j--;
        }
        c->v[j] = k;
    }
}

/* ---- reading a candidate ---- */

/* Members (raw spans) joined with ", " into text, their normal forms (each
 * readable, or 0) joined into norm. pct[i]: add "%". */
static int members_read(const Text *x, const Span *m, const int *pct, int n, StrBuf *text, StrBuf *norm) {
    for (int i = 0; i < n; i++) {
        char *raw = rtext_ndup(x->t + m[i].b, m[i].e - m[i].b);
        if (pct && pct[i]) {
            char *withp = rtext_cat(raw, "\\%", NULL);
            free(raw);
            raw = withp;
        }
        char *nm = math_normalize(raw);
        int ok = math_readable(nm);
        if (ok) {
            if (i) {
                strbuf_cat(text, ", ");
                strbuf_cat(norm, ", ");
            }
            strbuf_cat(text, raw);
            strbuf_cat(norm, nm);
        }
        free(raw);
        free(nm);
        if (!ok) return 0;
    }
    return n > 0;
}

static int extract_in(const char *text, size_t n, const MathExtractConfig *cfg, int depth, MathExtracted *out);

/* Tries candidate k: 1 with out filled when it reads as an answer. */
static int cand_read(Ex *s, const Cand *k, MathExtracted *out) {
    Text *x = &s->x;
    StrBuf text = {0}, norm = {0};
    int ok = 0;
    Span m[MAX_MEMBERS], failed = {0, 0};
    int pct[MAX_MEMBERS] = {0};
    int n = 0;
    switch (k->kind) {
    case C_BOXES:
        n = box_contents(x, &s->bx, 0, k->pos_end, 1, m);
        ok = n > 0 && members_read(x, m, NULL, n, &text, &norm);
        break;
    case C_GROUP: {
        Env first;
        Group g;
        if (!env_at(x, k->pos, &first)) break;
        group_from(x, &first, &g);
        failed = (Span){first.cb, first.ce};
        for (int i = 0; i < g.n && n >= 0; i++) {
            const Env *v = &g.env[i];
            Span in[MAX_MEMBERS];
            size_t len = v->ce - v->cb;
            int has_box = memmem(x->t + v->cb, len, "\\boxed", 6) || memmem(x->t + v->cb, len, "\\fbox", 5);
            int nb = has_box ? box_contents(x, &s->bx, v->cb, v->ce, 0, in) : 0;
            if (nb < 0) {
                n = -1;
            } else if (nb == 0) {
                if (n == MAX_MEMBERS) break;
                pct[n] = v->pct;
                m[n++] = (Span){v->cb, v->ce};
            } else {
                for (int j = 0; j < nb && n < MAX_MEMBERS; j++) {
                    pct[n] = v->pct;
                    m[n++] = in[j];
                }
            }
        }
        ok = n > 0 && members_read(x, m, pct, n, &text, &norm);
        break;
    }
    case C_NUM: {
        Num num;
        if (!(k->is_expr ? expr_match(x, k->pos, &num) : number_match(x, k->pos, &num))) break;
        char *raw = k->is_expr ? rtext_ndup(x->t + num.vb, num.ve - num.vb) : xstrdup(num.num);
        char *nm = math_normalize(raw);
        ok = k->is_expr ? math_parses(nm) : math_readable(nm);
        strbuf_cat(&text, raw);
        strbuf_cat(&norm, nm);
        free(raw);
        free(nm);
        break;
    }
    case C_TAG: {
        MathExtracted in = {0};
        if (s->depth == 0 && extract_in(x->t + k->pos, k->pos_end - k->pos, s->cfg, 1, &in)) {
            *out = in;
            out->source = cand_sources[SRC_TAG];
            return 1;
        }
        /* else fall through: the whole content */
    }
    /* fall through */
    case C_GSM8K:
    case C_SENTENCE: {
        const char *b = x->t + k->pos, *e = x->t + k->pos_end;
        rtext_trim(&b, &e);
        char *raw = rtext_ndup(b, (size_t)(e - b));
        char *nm = math_normalize(raw);
        ok = math_parses(nm);
        strbuf_cat(&text, raw);
        strbuf_cat(&norm, nm);
        free(raw);
        free(nm);
        break;
    }
    }
    if (!ok) {
        if (failed.e > failed.b && s->n_failed < (int)(sizeof(s->failed) / sizeof(s->failed[0])))
            s->failed[s->n_failed++] = failed;
        free(text.p);
        free(norm.p);
        return 0;
    }
    out->text = text.p;
    out->norm = norm.p;
    out->source = cand_sources[k->source];
    return 1;
}

/* A number inside an environment that did not read is not an answer. */
static int inside_failed(const Ex *s, const Cand *k) {
    if (k->kind != C_NUM) return 0;
    for (int i = 0; i < s->n_failed; i++)
        if (k->pos < s->failed[i].e && k->end > s->failed[i].b) return 1;
    return 0;
}

static int run_tier(Ex *s, int tier, MathExtracted *out) {
    s->c.n = 0;
    switch (tier) {
    case 0:
        collect_boxes(s);
        if (!s->boxes_only) collect_final(s, 0);
        break;
    case 50:
        collect_final(s, 50);
        collect_tags(s);
        break;
    case 100: collect_answer(s, 1); break;
    case 200: collect_answer(s, 0); break;
    default: collect_any(s); break;
    }
    cand_sort(&s->c);
    for (size_t i = s->c.n; i-- > 0;)
        if (!inside_failed(s, &s->c.v[i]) && cand_read(s, &s->c.v[i], out)) return 1;
    return 0;
}

/* ---- the older ordered sources ---- */

/* Text from p to the end of its sentence: a newline, or a '.' followed by
 * whitespace or the end, outside $...$. */
static char *sentence(const char *p) {
    while (*p == ' ' || *p == ':' || *p == '\t') p++;
    const char *e = p;
    int in_math = 0;
    for (; *e && *e != '\n'; e++) {
        if (*e == '$') in_math = !in_math;
        if (*e == '.' && !in_math && (e[1] == '\0' || isspace((unsigned char)e[1]))) break;
    }
    return rtext_ndup(p, (size_t)(e - p));
}

/* The last run of boxes in s joined with ", ", or NULL. */
static char *last_boxes(const char *s) {
    Text x = {.t = s, .n = strlen(s)};
    Boxes bx = {0};
    boxes_find(&x, &bx);
    Span m[MAX_MEMBERS];
    int n = box_contents(&x, &bx, 0, x.n, 1, m);
    free(bx.at);
    if (n <= 0) return NULL;
    StrBuf b = {0};
    for (int i = 0; i < n; i++) {
        if (i) strbuf_cat(&b, ", ");
        strbuf_add(&b, s + m[i].b, m[i].e - m[i].b);
    }
    return b.p;
}

static char *source_text(const char *t, MathSource src) {
    switch (src) {
    case MATH_SRC_BOXED: return last_boxes(t);
    case MATH_SRC_ANSWER_TAG: {
        char *in = rtext_last_tag(t, "answer");
        char *box = in ? last_boxes(in) : NULL;
        if (box) {
            free(in);
            return box;
        }
        return in;
    }
    case MATH_SRC_ANSWER_IS: {
        const char *a = rtext_rfind_nocase(t, "answer is"), *b = rtext_rfind_nocase(t, "answer:");
        const char *at = !a ? b : !b ? a : a > b ? a : b;
        if (!at) return NULL;
        char *sen = sentence(at + (at == a ? 9 : 7));
        char *box = last_boxes(sen);
        if (box) {
            free(sen);
            return box;
        }
        return sen;
    }
    case MATH_SRC_GSM8K: {
        const char *at = rtext_rfind(t, "####");
        if (!at) return NULL;
        const char *e = at + 4;
        while (*e && *e != '\n') e++;
        return rtext_ndup(at + 4, (size_t)(e - at - 4));
    }
    default: {
        const char *best = NULL, *best_end = NULL;
        for (const char *p = t; *p; p++) {
            if (!isdigit((unsigned char)*p) || (p > t && (isdigit((unsigned char)p[-1]) || p[-1] == '.'))) continue;
            const char *b = p, *e = p;
            if (b > t && b[-1] == '-') b--;
            while (isdigit((unsigned char)*e) || (*e == ',' && isdigit((unsigned char)e[1])) ||
                   (*e == '.' && isdigit((unsigned char)e[1])))
                e++;
            best = b;
            best_end = e;
            p = e - 1;
        }
        return best ? rtext_ndup(best, (size_t)(best_end - best)) : NULL;
    }
    }
}

static int extract_sources(const char *t, const MathExtractConfig *c, MathExtracted *out) {
    for (int i = 0; i < c->n_order; i++) {
        char *s = source_text(t, c->order[i]);
        if (!s) continue;
        char *trimmed = rtext_trim_dup(s);
        free(s);
        char *nm = math_normalize(trimmed);
        if (trimmed[0] && nm[0]) {
            out->text = trimmed;
            out->norm = nm;
            out->source = math_source_name(c->order[i]);
            return 1;
        }
        free(trimmed);
        free(nm);
    }
    return 0;
}

/* ---- entry points ---- */

static int extract_in(const char *text, size_t n, const MathExtractConfig *cfg, int depth, MathExtracted *out) {
    memset(out, 0, sizeof(*out));
    if (n > MAX_TEXT) {
        text += n - MAX_TEXT;
        n = MAX_TEXT;
    }
    char *copy = NULL;
    if (text[n] != '\0') { /* an answer tag's content: make it a string */
        copy = rtext_ndup(text, n);
        text = copy;
    }
    if (cfg->mode == MATH_MODE_SOURCES) {
        int r = extract_sources(text, cfg, out);
        free(copy);
        return r;
    }
    Ex s = {.x = {.t = text, .n = n}, .cfg = cfg, .depth = depth};
    s.latex = cfg->mode == MATH_MODE_LATEX || cfg->mode == MATH_MODE_LATEX_EXPR;
    s.expr = cfg->mode == MATH_MODE_EXPR || cfg->mode == MATH_MODE_LATEX_EXPR;
    s.boxes_only = cfg->mode == MATH_MODE_BOXED;
    if (cfg->mode != MATH_MODE_EXPR) boxes_find(&s.x, &s.bx);
    if (!s.boxes_only) find_answers(&s);
    static const int tiers[] = {0, 50, 100, 200, 300};
    int found = 0;
    for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]) && !found; i++) {
        if (s.boxes_only && tiers[i] > 0) break;
        if (tiers[i] == 300 && !cfg->without_anchor) break;
        found = run_tier(&s, tiers[i], out);
    }
    free(s.bx.at);
    free(s.answers);
    free(s.c.v);
    free(copy);
    return found;
}

int math_extract(const char *text, const MathExtractConfig *c, MathExtracted *out) {
    return extract_in(text ? text : "", text ? strlen(text) : 0, c, 0, out);
}

/* Does the gold look like prose ("She sold 72 clips") rather than an answer?
 * Two words of two letters or more in a row, outside LaTeX commands. */
static int prose(const char *s) {
    int words = 0;
    for (const char *p = s; *p;) {
        if (*p == '\\') {
            p++;
            while (isalpha((unsigned char)*p)) p++;
            words = 0;
            continue;
        }
        if (isalpha((unsigned char)*p)) {
            const char *q = p;
            while (isalpha((unsigned char)*q)) q++;
            words = q - p >= 2 ? words + 1 : 0;
            if (words >= 2) return 1;
            p = q;
            continue;
        }
        if (*p != ' ') words = 0;
        p++;
    }
    return 0;
}

int math_extract_gold(const char *gold, MathExtracted *out) {
    memset(out, 0, sizeof(*out));
    if (!gold) return 0;
    int markers = strstr(gold, "\\boxed") || strstr(gold, "\\fbox") || strchr(gold, '$') || strstr(gold, "\\(") ||
                  strstr(gold, "\\[") || strstr(gold, "####") || rtext_rfind_nocase(gold, "answer");
    char *whole = math_normalize(gold);
    if (!markers && !prose(gold) && (math_parses(whole) || math_readable(whole))) {
        out->text = rtext_trim_dup(gold);
        out->norm = whole;
        out->source = "whole";
        return 1;
    }
    MathExtractConfig c;
    math_extract_config_default(&c);
    if (math_extract(gold, &c, out)) {
        free(whole);
        return 1;
    }
    if (math_readable(whole)) {
        out->text = rtext_trim_dup(gold);
        out->norm = whole;
        out->source = "whole";
        return 1;
    }
    free(whole);
    return 0;
}
