/*
 * math_expr.c: recursive-descent parser and evaluator for answer expressions
 * (see math_expr.h for the grammar and the equality test).
 * Not for: normalising LaTeX or splitting lists and equations (math_grade.c).
 */
#include "math_expr.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"

enum {
    N_NUM, N_VAR, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV, N_POW, N_FUNC, N_FACT, N_LOGB, N_ROOT, N_BINOM, N_PCT,
};

enum {
    F_SIN, F_COS, F_TAN, F_SEC, F_CSC, F_COT, F_ASIN, F_ACOS, F_ATAN, F_SINH, F_COSH, F_TANH,
    F_EXP, F_LN, F_LOG10, F_SQRT, F_ABS,
};

enum {
    T_END, T_NUM, T_VAR, T_FUNC, T_PI, T_E, T_INF, T_PLUS, T_MINUS, T_MUL, T_DIV, T_POW, T_LP, T_RP, T_LB,
    T_RB, T_LS, T_RS, T_BAR, T_BANG, T_PCT, T_FRAC, T_SQRT, T_BINOM, T_UNDER, T_BAD,
};

typedef struct {
    int kind;
    double num;  /* T_NUM value, T_FUNC id */
    int is_int;  /* T_NUM written as plain digits */
    char name[32];
    size_t end;  /* position after the token */
} Tok;

typedef struct {
    const char *s;
    size_t pos;
    MathExpr *e;
    int depth;
    int abs_depth;
} Parser;

#define MAX_DEPTH 64
#define MAX_LEN 1000

/* ---- lexer ---- */

static const struct {
    const char *name;
    int kind, fn;
} words[] = {
    /* longest first where one is a prefix of another */
    {"arcsin", T_FUNC, F_ASIN}, {"arccos", T_FUNC, F_ACOS}, {"arctan", T_FUNC, F_ATAN},
    {"sinh", T_FUNC, F_SINH},   {"cosh", T_FUNC, F_COSH},   {"tanh", T_FUNC, F_TANH},
    {"sqrt", T_SQRT, 0},        {"sin", T_FUNC, F_SIN},     {"cos", T_FUNC, F_COS},
    {"tan", T_FUNC, F_TAN},     {"sec", T_FUNC, F_SEC},     {"csc", T_FUNC, F_CSC},
    {"cot", T_FUNC, F_COT},     {"exp", T_FUNC, F_EXP},     {"abs", T_FUNC, F_ABS},
    {"log", T_FUNC, F_LOG10},   {"ln", T_FUNC, F_LN},       {"pi", T_PI, 0},
};

static const char *const greek[] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
    "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
};

static size_t skip_space(const char *s, size_t i) {
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') i++;
    return i;
}

/* Reads the subscript that follows '_' at s[i] ("1", "12", "n", "{12}") and
 * appends "_<subscript>" to name, so x_1 and x_{1} name one variable.
 * Returns the position after it, or i - 1 (the '_' itself) if there is none. */
static size_t read_subscript(const char *s, size_t i, char *name, size_t cap) {
    size_t b = i, e;
    if (s[i] == '{') {
        b = i + 1;
        e = b;
        while (isalnum((unsigned char)s[e])) e++;
        if (e == b || s[e] != '}') return i - 1;
    } else if (isdigit((unsigned char)s[i])) {
        e = i;
        while (isdigit((unsigned char)s[e])) e++;
    } else if (isalpha((unsigned char)s[i])) {
        e = i + 1;
    } else {
        return i - 1;
    }
    size_t len = strlen(name);
    if (len + 1 + (e - b) + 1 > cap) return i - 1;
    name[len] = '_';
    memcpy(name + len + 1, s + b, e - b);
    name[len + 1 + (e - b)] = '\0';
    return s[i] == '{' ? e + 1 : e;
}

static Tok lex(const Parser *p) {
    Tok t = {0};
    const char *s = p->s;
    size_t i = skip_space(s, p->pos);
    char c = s[i];
    t.end = i + 1;
    if (!c) {
        t.kind = T_END;
        t.end = i;
        return t;
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
        size_t j = i;
        int is_int = 1;
        while (isdigit((unsigned char)s[j])) j++;
        if (s[j] == '.' && isdigit((unsigned char)s[j + 1])) {
            is_int = 0;
            j++;
            while (isdigit((unsigned char)s[j])) j++;
        } else if (s[j] == '.' && j > i && !isalpha((unsigned char)s[j + 1])) {
            j++; /* "5." */
        }
        if ((s[j] == 'e' || s[j] == 'E') &&
            (isdigit((unsigned char)s[j + 1]) ||
             ((s[j + 1] == '-' || s[j + 1] == '+') && isdigit((unsigned char)s[j + 2])))) {
            is_int = 0;
            j += 2;
            while (isdigit((unsigned char)s[j])) j++;
        }
        char buf[64];
        size_t n = j - i < sizeof(buf) - 1 ? j - i : sizeof(buf) - 1;
        memcpy(buf, s + i, n);
        buf[n] = '\0';
        t.kind = T_NUM;
        t.num = strtod(buf, NULL);
        t.is_int = is_int;
        t.end = j;
        return t;
    }
    if (isalpha((unsigned char)c)) {
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
            size_t n = strlen(words[w].name);
            if (!strncmp(s + i, words[w].name, n)) {
                t.kind = words[w].kind;
                t.num = words[w].fn;
                t.end = i + n;
                return t;
            }
        }
        if (c == 'e' && s[i + 1] != '_') {
            t.kind = T_E;
            return t;
        }
        t.kind = T_VAR;
        t.name[0] = c;
        t.name[1] = '\0';
        t.end = i + 1;
        if (s[t.end] == '_') t.end = read_subscript(s, t.end + 1, t.name, sizeof(t.name));
        return t;
    }
    if (c == '\\') {
        size_t j = i + 1;
        while (isalpha((unsigned char)s[j])) j++;
        size_t n = j - i - 1;
        t.end = j;
        if (n == 0) {
            /* "\%" "\{" "\}" "\," and friends; a '\' that ends the text is one character */
            t.end = s[i + 1] ? i + 2 : i + 1;
            switch (s[i + 1]) {
            case '%': t.kind = T_PCT; return t;
            case '{': t.kind = T_LB; return t;
            case '}': t.kind = T_RB; return t;
            default: t.kind = T_BAD; return t;
            }
        }
        char cmd[24];
        if (n >= sizeof(cmd)) {
            t.kind = T_BAD;
            return t;
        }
        memcpy(cmd, s + i + 1, n);
        cmd[n] = '\0';
        if (!strcmp(cmd, "frac") || !strcmp(cmd, "dfrac") || !strcmp(cmd, "tfrac") || !strcmp(cmd, "cfrac")) {
            t.kind = T_FRAC;
            return t;
        }
        if (!strcmp(cmd, "binom") || !strcmp(cmd, "dbinom") || !strcmp(cmd, "tbinom")) {
            t.kind = T_BINOM;
            return t;
        }
        if (!strcmp(cmd, "cdot") || !strcmp(cmd, "times") || !strcmp(cmd, "ast")) {
            t.kind = T_MUL;
            return t;
        }
        if (!strcmp(cmd, "div")) {
            t.kind = T_DIV;
            return t;
        }
        if (!strcmp(cmd, "infty") || !strcmp(cmd, "infinity")) {
            t.kind = T_INF;
            return t;
        }
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
            if (!strcmp(cmd, words[w].name)) {
                t.kind = words[w].kind;
                t.num = words[w].fn;
                return t;
            }
        }
        for (size_t g = 0; g < sizeof(greek) / sizeof(greek[0]); g++) {
            if (!strcmp(cmd, greek[g])) {
                t.kind = T_VAR;
                snprintf(t.name, sizeof(t.name), "\\%s", cmd);
                if (s[t.end] == '_') t.end = read_subscript(s, t.end + 1, t.name, sizeof(t.name));
                return t;
            }
        }
        t.kind = T_BAD;
        return t;
    }
    switch (c) {
    case '+': t.kind = T_PLUS; break;
    case '-': t.kind = T_MINUS; break;
    case '*': t.kind = T_MUL; break;
    case '/': t.kind = T_DIV; break;
    case ':': t.kind = T_DIV; break; /* a ratio, "2:3" */
    case '^': t.kind = T_POW; break;
    case '(': t.kind = T_LP; break;
    case ')': t.kind = T_RP; break;
    case '{': t.kind = T_LB; break;
    case '}': t.kind = T_RB; break;
    case '[': t.kind = T_LS; break;
    case ']': t.kind = T_RS; break;
    case '|': t.kind = T_BAR; break;
    case '!': t.kind = T_BANG; break;
    case '%': t.kind = T_PCT; break;
    case '_': t.kind = T_UNDER; break;
    default: t.kind = T_BAD; break;
    }
    return t;
}

/* ---- tree building ---- */

static int node(Parser *p, int op, int a, int b, double num) {
    MathExpr *e = p->e;
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 32;
        e->nodes = xrealloc(e->nodes, (size_t)e->cap * sizeof(MathNode));
    }
    MathNode *nd = &e->nodes[e->n];
    nd->op = op;
    nd->a = a;
    nd->b = b;
    nd->num = num;
    nd->lit_int = 0;
    nd->lit_dec = 0;
    return e->n++;
}

/* Variables are matched by name, ASCII letters in any case (Math-Verify
 * lowercases symbols): "X" and "x" are one variable. */
static int var_index(MathExpr *e, const char *raw) {
    char name[sizeof(e->vars[0])];
    snprintf(name, sizeof(name), "%s", raw);
    if (name[0] != '\\')
        for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
    for (int i = 0; i < e->n_vars; i++)
        if (!strcmp(e->vars[i], name)) return i;
    if (e->n_vars == MATH_EXPR_MAX_VARS) return -1;
    snprintf(e->vars[e->n_vars], sizeof(e->vars[0]), "%s", name);
    return e->n_vars++;
}

static int parse_sum(Parser *p);
static int parse_unary(Parser *p);
static int parse_power(Parser *p);
static int parse_primary(Parser *p);

static int expect(Parser *p, int kind) {
    Tok t = lex(p);
    if (t.kind != kind) return -1;
    p->pos = t.end;
    return 0;
}

/* A LaTeX macro argument: {sum}, or one digit, one letter, or a command. */
static int parse_latex_arg(Parser *p) {
    size_t i = skip_space(p->s, p->pos);
    char c = p->s[i];
    if (c == '{') {
        p->pos = i + 1;
        int x = parse_sum(p);
        if (x < 0 || expect(p, T_RB)) return -1;
        return x;
    }
    if (isdigit((unsigned char)c)) {
        p->pos = i + 1;
        int x = node(p, N_NUM, -1, -1, c - '0');
        p->e->nodes[x].lit_int = 1;
        return x;
    }
    if (isalpha((unsigned char)c)) {
        p->pos = i + 1;
        if (c == 'e') return node(p, N_NUM, -1, -1, M_E);
        char name[2] = {c, 0};
        int v = var_index(p->e, name);
        if (v < 0) return -1;
        return node(p, N_VAR, -1, -1, v);
    }
    if (c == '\\') return parse_primary(p);
    return -1;
}

static int starts_factor(const Parser *p, int kind) {
    switch (kind) {
    case T_NUM: case T_VAR: case T_FUNC: case T_PI: case T_E: case T_INF: case T_LP: case T_LB: case T_LS:
    case T_FRAC: case T_SQRT: case T_BINOM:
        return 1;
    case T_BAR:
        return p->abs_depth == 0;
    default:
        return 0;
    }
}

/* func arg: "\sin(x)", "\sin x", "\sin 2x", "\sin^2 x", "\sin^{-1} x", "\log_2 8". */
static int parse_call(Parser *p, int fn) {
    int base = -1, power = -1;
    Tok t = lex(p);
    if (fn == F_LOG10 && t.kind == T_UNDER) {
        p->pos = t.end;
        size_t i = skip_space(p->s, p->pos);
        if (isdigit((unsigned char)p->s[i])) {
            Tok nt = lex(p);
            p->pos = nt.end;
            base = node(p, N_NUM, -1, -1, nt.num);
        } else {
            base = parse_latex_arg(p);
        }
        if (base < 0) return -1;
        t = lex(p);
    }
    if (t.kind == T_POW) {
        p->pos = t.end;
        power = parse_latex_arg(p);
        if (power < 0) {
            /* "^-1" without braces */
            Tok m = lex(p);
            if (m.kind != T_MINUS) return -1;
            p->pos = m.end;
            int one = parse_latex_arg(p);
            if (one < 0) return -1;
            power = node(p, N_NEG, one, -1, 0);
        }
        const MathNode *pw = &p->e->nodes[power];
        int inverse = pw->op == N_NEG && p->e->nodes[pw->a].op == N_NUM && p->e->nodes[pw->a].num == 1.0;
        if (inverse) {
            if (fn == F_SIN) fn = F_ASIN;
            else if (fn == F_COS) fn = F_ACOS;
            else if (fn == F_TAN) fn = F_ATAN;
            else return -1;
            power = -1;
        }
        t = lex(p);
    }
    int arg;
    if (t.kind == T_LP || t.kind == T_LB || t.kind == T_LS || t.kind == T_BAR) {
        arg = parse_primary(p);
    } else {
        arg = parse_power(p);
        for (;;) {
            Tok n = lex(p);
            if (n.kind != T_NUM && n.kind != T_VAR && n.kind != T_PI && n.kind != T_E && n.kind != T_FRAC &&
                n.kind != T_SQRT)
                break;
            if (arg < 0) return -1;
            int r = parse_power(p);
            if (r < 0) return -1;
            arg = node(p, N_MUL, arg, r, 0);
        }
    }
    if (arg < 0) return -1;
    int call = base >= 0 ? node(p, N_LOGB, base, arg, 0) : node(p, N_FUNC, arg, -1, fn);
    if (power >= 0) call = node(p, N_POW, call, power, 0);
    return call;
}

static int parse_primary(Parser *p) {
    Tok t = lex(p);
    p->pos = t.end;
    switch (t.kind) {
    case T_NUM: {
        int x = node(p, N_NUM, -1, -1, t.num);
        p->e->nodes[x].lit_int = t.is_int;
        p->e->nodes[x].lit_dec = !t.is_int;
        return x;
    }
    case T_VAR: {
        int v = var_index(p->e, t.name);
        return v < 0 ? -1 : node(p, N_VAR, -1, -1, v);
    }
    case T_PI: return node(p, N_NUM, -1, -1, M_PI);
    case T_E: return node(p, N_NUM, -1, -1, M_E);
    case T_INF: return node(p, N_NUM, -1, -1, INFINITY);
    case T_LP: case T_LB: case T_LS: {
        int close = t.kind == T_LP ? T_RP : (t.kind == T_LB ? T_RB : T_RS);
        int saved = p->abs_depth;
        p->abs_depth = 0;
        int x = parse_sum(p);
        p->abs_depth = saved;
        if (x < 0 || expect(p, close)) return -1;
        return x;
    }
    case T_BAR: {
        p->abs_depth++;
        int x = parse_sum(p);
        p->abs_depth--;
        if (x < 0 || expect(p, T_BAR)) return -1;
        return node(p, N_FUNC, x, -1, F_ABS);
    }
    case T_FRAC: {
        int a = parse_latex_arg(p);
        if (a < 0) return -1;
        int b = parse_latex_arg(p);
        if (b < 0) return -1;
        return node(p, N_DIV, a, b, 0);
    }
    case T_BINOM: {
        int a = parse_latex_arg(p);
        if (a < 0) return -1;
        int b = parse_latex_arg(p);
        if (b < 0) return -1;
        return node(p, N_BINOM, a, b, 0);
    }
    case T_SQRT: {
        int idx = -1;
        Tok n = lex(p);
        if (n.kind == T_LS) {
            p->pos = n.end;
            idx = parse_sum(p);
            if (idx < 0 || expect(p, T_RS)) return -1;
        }
        n = lex(p);
        int x = (n.kind == T_LP) ? parse_primary(p) : parse_latex_arg(p);
        if (x < 0) return -1;
        return idx >= 0 ? node(p, N_ROOT, idx, x, 0) : node(p, N_FUNC, x, -1, F_SQRT);
    }
    case T_FUNC: return parse_call(p, (int)t.num);
    default: return -1;
    }
}

static int parse_postfix(Parser *p) {
    int x = parse_primary(p);
    if (x < 0) return -1;
    for (;;) {
        Tok t = lex(p);
        if (t.kind == T_BANG) x = node(p, N_FACT, x, -1, 0);
        else if (t.kind == T_PCT) x = node(p, N_PCT, x, -1, 0);
        else break;
        p->pos = t.end;
    }
    return x;
}

/* An exponent: {sum}, or a signed power (right-associative). */
static int parse_exponent(Parser *p) {
    Tok t = lex(p);
    if (t.kind == T_MINUS || t.kind == T_PLUS) {
        p->pos = t.end;
        int x = parse_exponent(p);
        if (x < 0) return -1;
        return t.kind == T_MINUS ? node(p, N_NEG, x, -1, 0) : x;
    }
    return parse_power(p);
}

static int parse_power(Parser *p) {
    if (++p->depth > MAX_DEPTH) return -1;
    int x = parse_postfix(p);
    if (x >= 0) {
        Tok t = lex(p);
        if (t.kind == T_POW) {
            p->pos = t.end;
            int y = parse_exponent(p);
            x = y < 0 ? -1 : node(p, N_POW, x, y, 0);
        }
    }
    p->depth--;
    return x;
}

static int parse_unary(Parser *p) {
    Tok t = lex(p);
    if (t.kind == T_MINUS || t.kind == T_PLUS) {
        if (++p->depth > MAX_DEPTH) return -1;
        p->pos = t.end;
        int x = parse_unary(p);
        p->depth--;
        if (x < 0) return -1;
        return t.kind == T_MINUS ? node(p, N_NEG, x, -1, 0) : x;
    }
    return parse_power(p);
}

static int is_int_lit(const MathExpr *e, int x) { return e->nodes[x].op == N_NUM && e->nodes[x].lit_int; }

static int parse_term(Parser *p) {
    int x = parse_unary(p);
    while (x >= 0) {
        Tok t = lex(p);
        if (t.kind == T_MUL || t.kind == T_DIV) {
            p->pos = t.end;
            int y = parse_unary(p);
            if (y < 0) return -1;
            x = node(p, t.kind == T_MUL ? N_MUL : N_DIV, x, y, 0);
        } else if (starts_factor(p, t.kind)) {
            int y = parse_power(p);
            if (y < 0) return -1;
            const MathExpr *e = p->e;
            const MathNode *ny = &e->nodes[y];
            int frac_ii = t.kind == T_FRAC && ny->op == N_DIV && is_int_lit(e, ny->a) && is_int_lit(e, ny->b);
            if (frac_ii && is_int_lit(e, x)) {
                x = node(p, N_ADD, x, y, 0); /* mixed number 3\frac{1}{2} */
            } else if (frac_ii && e->nodes[x].op == N_NEG && is_int_lit(e, e->nodes[x].a)) {
                int whole = e->nodes[x].a;
                x = node(p, N_NEG, node(p, N_ADD, whole, y, 0), -1, 0); /* -3\frac{1}{2} */
            } else {
                x = node(p, N_MUL, x, y, 0);
            }
        } else {
            break;
        }
    }
    return x;
}

static int parse_sum(Parser *p) {
    if (++p->depth > MAX_DEPTH) return -1;
    int x = parse_term(p);
    while (x >= 0) {
        Tok t = lex(p);
        if (t.kind != T_PLUS && t.kind != T_MINUS) break;
        p->pos = t.end;
        int y = parse_term(p);
        if (y < 0) {
            x = -1;
            break;
        }
        x = node(p, t.kind == T_PLUS ? N_ADD : N_SUB, x, y, 0);
    }
    p->depth--;
    return x;
}

int math_expr_parse(MathExpr *e, const char *s) {
    memset(e, 0, sizeof(*e));
    e->root = -1;
    if (strlen(s) > MAX_LEN) return -1;
    Parser p = {.s = s, .pos = 0, .e = e};
    int root = parse_sum(&p);
    if (root < 0 || lex(&p).kind != T_END) return -1;
    e->root = root;
    return 0;
}

void math_expr_free(MathExpr *e) {
    free(e->nodes);
    memset(e, 0, sizeof(*e));
    e->root = -1;
}

/* ---- evaluation ---- */

static double factorial(double x) {
    if (!(x >= 0) || x != floor(x) || x > 170) return NAN;
    return tgamma(x + 1);
}

static double binom(double n, double k) {
    if (n != floor(n) || k != floor(k) || n < 0 || k < 0 || k > n || n > 1000) return NAN;
    if (k > n - k) k = n - k;
    double r = 1;
    for (double i = 1; i <= k; i++) r = r * (n - k + i) / i;
    return round(r);
}

static double call(int fn, double x) {
    switch (fn) {
    case F_SIN: return sin(x);
    case F_COS: return cos(x);
    case F_TAN: return tan(x);
    case F_SEC: return 1.0 / cos(x);
    case F_CSC: return 1.0 / sin(x);
    case F_COT: return 1.0 / tan(x);
    case F_ASIN: return asin(x);
    case F_ACOS: return acos(x);
    case F_ATAN: return atan(x);
    case F_SINH: return sinh(x);
    case F_COSH: return cosh(x);
    case F_TANH: return tanh(x);
    case F_EXP: return exp(x);
    case F_LN: return x > 0 ? log(x) : NAN;
    case F_LOG10: return x > 0 ? log10(x) : NAN;
    case F_SQRT: return x >= 0 ? sqrt(x) : NAN;
    case F_ABS: return fabs(x);
    }
    return NAN;
}

static double eval_node(const MathExpr *e, int i, const double *vals) {
    const MathNode *n = &e->nodes[i];
    switch (n->op) {
    case N_NUM: return n->num;
    case N_VAR: return vals ? vals[(int)n->num] : NAN;
    case N_NEG: return -eval_node(e, n->a, vals);
    case N_ADD: return eval_node(e, n->a, vals) + eval_node(e, n->b, vals);
    case N_SUB: return eval_node(e, n->a, vals) - eval_node(e, n->b, vals);
    case N_MUL: return eval_node(e, n->a, vals) * eval_node(e, n->b, vals);
    case N_DIV: {
        double d = eval_node(e, n->b, vals);
        return d == 0 ? NAN : eval_node(e, n->a, vals) / d;
    }
    case N_POW: return pow(eval_node(e, n->a, vals), eval_node(e, n->b, vals));
    case N_FUNC: return call((int)n->num, eval_node(e, n->a, vals));
    case N_FACT: return factorial(eval_node(e, n->a, vals));
    case N_LOGB: {
        double b = eval_node(e, n->a, vals), x = eval_node(e, n->b, vals);
        if (!(b > 0) || b == 1 || !(x > 0)) return NAN;
        return log(x) / log(b);
    }
    case N_ROOT: {
        double k = eval_node(e, n->a, vals), x = eval_node(e, n->b, vals);
        if (k == 0) return NAN;
        if (x < 0 && k == floor(k) && fmod(k, 2.0) != 0) return -pow(-x, 1.0 / k);
        return pow(x, 1.0 / k);
    }
    case N_BINOM: return binom(eval_node(e, n->a, vals), eval_node(e, n->b, vals));
    case N_PCT: return eval_node(e, n->a, vals) / 100.0;
    }
    return NAN;
}

double math_expr_eval(const MathExpr *e, const double *vals) {
    if (e->root < 0) return NAN;
    return eval_node(e, e->root, vals);
}

int math_close(double a, double b, double tol) {
    if (isinf(a) || isinf(b)) return a == b;
    if (isnan(a) || isnan(b)) return 0;
    double m = fmax(fabs(a), fabs(b));
    return fabs(a - b) <= tol * m + 1e-12;
}

/* The values of a's and b's variables at one point, matched by name. */
typedef struct {
    char names[2 * MATH_EXPR_MAX_VARS][32];
    int n;
    int map_a[MATH_EXPR_MAX_VARS], map_b[MATH_EXPR_MAX_VARS];
} VarUnion;

static void var_union(const MathExpr *a, const MathExpr *b, VarUnion *u) {
    u->n = 0;
    for (int side = 0; side < 2; side++) {
        const MathExpr *e = side ? b : a;
        int *map = side ? u->map_b : u->map_a;
        for (int i = 0; i < e->n_vars; i++) {
            int k = 0;
            while (k < u->n && strcmp(u->names[k], e->vars[i])) k++;
            if (k == u->n) snprintf(u->names[u->n++], sizeof(u->names[0]), "%s", e->vars[i]);
            map[i] = k;
        }
    }
}

#define N_POINTS 12

/* Evaluates a and b at point k (0 <= k < N_POINTS). Points cycle through
 * (0.5, 2.5), (2.5, 6) and (-2.5, -0.5) so that roots, logs and signs are
 * all exercised. */
static void eval_point(const MathExpr *a, const MathExpr *b, const VarUnion *u, int k, double *va, double *vb) {
    static const double lo[3] = {0.5, 2.5, -2.5}, hi[3] = {2.5, 6.0, -0.5};
    Rng r;
    rng_init(&r, RNG_SEED_MATH_POINTS, 0, (uint32_t)k, 0); /* fixed: grading is reproducible */
    double val[2 * MATH_EXPR_MAX_VARS], xa[MATH_EXPR_MAX_VARS], xb[MATH_EXPR_MAX_VARS];
    for (int i = 0; i < u->n; i++) val[i] = lo[k % 3] + (hi[k % 3] - lo[k % 3]) * rng_uniform_double(&r);
    for (int i = 0; i < a->n_vars; i++) xa[i] = val[u->map_a[i]];
    for (int i = 0; i < b->n_vars; i++) xb[i] = val[u->map_b[i]];
    *va = math_expr_eval(a, xa);
    *vb = math_expr_eval(b, xb);
}

int math_expr_decimal(const MathExpr *e) {
    if (e->root < 0) return 0;
    const MathNode *n = &e->nodes[e->root];
    while (n->op == N_NEG || n->op == N_PCT) n = &e->nodes[n->a];
    return n->op == N_NUM && n->lit_dec;
}

int math_expr_equal(const MathExpr *a, const MathExpr *b, double tol) {
    if (a->root < 0 || b->root < 0) return 0;
    VarUnion u;
    var_union(a, b, &u);
    if (u.n == 0) return math_close(math_expr_eval(a, NULL), math_expr_eval(b, NULL), tol);
    int valid = 0;
    for (int k = 0; k < N_POINTS; k++) {
        double va, vb;
        eval_point(a, b, &u, k, &va, &vb);
        if (!isfinite(va) || !isfinite(vb)) continue;
        if (!math_close(va, vb, tol)) return 0;
        valid++;
    }
    return valid >= 3;
}

int math_expr_proportional(const MathExpr *a, const MathExpr *b, double tol) {
    if (a->root < 0 || b->root < 0) return 0;
    VarUnion u;
    var_union(a, b, &u);
    if (u.n == 0) {
        double va = math_expr_eval(a, NULL), vb = math_expr_eval(b, NULL);
        return isfinite(va) && isfinite(vb) && (va == 0) == (vb == 0);
    }
    int valid = 0;
    double ratio = 0;
    for (int k = 0; k < N_POINTS; k++) {
        double va, vb;
        eval_point(a, b, &u, k, &va, &vb);
        if (!isfinite(va) || !isfinite(vb)) continue;
        if (fabs(va) < 1e-12 && fabs(vb) < 1e-12) continue;
        if (fabs(va) < 1e-12 || fabs(vb) < 1e-12) return 0;
        if (valid == 0) ratio = va / vb;
        else if (!math_close(va, ratio * vb, tol)) return 0;
        valid++;
    }
    return valid >= 3;
}
