/*
 * math_grade.c: final-answer extraction, normalisation and equivalence
 * rules of the math grader (see math_grade.h; rules listed in docs/rewards.md).
 * Not for: expression syntax (math_expr.c) or scores and config (math_accuracy.c).
 */
#include "math_grade.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "math_expr.h"
#include "reward_text.h"

/* ---- building strings (StrBuf) ---- */

static void sb_putc(StrBuf *b, char c) { strbuf_add(b, &c, 1); }
static char *sb_done(StrBuf *b) { return b->p ? b->p : xstrdup(""); }

static int starts(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

/* ---- extraction ---- */

static const char *const source_names[MATH_SRC_COUNT] = {"boxed", "answer_tag", "answer_is", "gsm8k", "last_number"};

const char *math_source_name(MathSource s) { return (unsigned)s < MATH_SRC_COUNT ? source_names[s] : "?"; }

int math_source_from_name(const char *name) {
    for (int i = 0; i < MATH_SRC_COUNT; i++)
        if (!strcmp(name, source_names[i])) return i;
    return -1;
}

/* Position just after the brace group opened at s[0] == '{' (escaped
 * braces "\{" "\}" do not count), or NULL if it is not closed. */
static const char *brace_end(const char *s) {
    int depth = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '\\' && (p[1] == '{' || p[1] == '}')) {
            p++;
            continue;
        }
        if (*p == '{') depth++;
        if (*p == '}' && --depth == 0) return p + 1;
    }
    return NULL;
}

/* The later of two positions in one string, either of which may be NULL. */
static const char *later(const char *a, const char *b) {
    if (!a) return b;
    if (!b) return a;
    return a > b ? a : b;
}

static char *extract_boxed(const char *text) {
    const char *a = rtext_rfind(text, "\\boxed"), *b = rtext_rfind(text, "\\fbox");
    const char *at = later(a, b);
    if (!at) return NULL;
    const char *p = at + (at == a ? 6 : 5);
    while (*p == ' ') p++;
    if (*p == '{') {
        const char *e = brace_end(p);
        if (!e || e - p <= 2) return NULL;
        return rtext_ndup(p + 1, (size_t)(e - p - 2));
    }
    if (at[at == a ? 6 : 5] != ' ') return NULL; /* "\boxedx" is not a box */
    const char *e = p;
    while (*e && !isspace((unsigned char)*e) && *e != '$') e++;
    return e > p ? rtext_ndup(p, (size_t)(e - p)) : NULL;
}

static char *nonempty(char *s) {
    if (!s) return NULL;
    char *t = rtext_trim_dup(s);
    free(s);
    if (!t[0]) {
        free(t);
        return NULL;
    }
    return t;
}

static char *extract_answer_tag(const char *text) {
    char *in = rtext_last_tag(text, "answer");
    if (!in) return NULL;
    char *box = extract_boxed(in);
    if (box) {
        free(in);
        return nonempty(box);
    }
    return nonempty(in);
}

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
    return nonempty(rtext_ndup(p, (size_t)(e - p)));
}

static char *extract_answer_is(const char *text) {
    const char *a = rtext_rfind_nocase(text, "answer is"), *b = rtext_rfind_nocase(text, "answer:");
    const char *at = later(a, b);
    if (!at) return NULL;
    const char *p = at + (at == a ? 9 : 7);
    char *s = sentence(p);
    if (!s) return NULL;
    char *box = extract_boxed(s);
    if (box) {
        free(s);
        return nonempty(box);
    }
    return s;
}

static char *extract_gsm8k(const char *text) {
    const char *at = rtext_rfind(text, "####");
    if (!at) return NULL;
    const char *p = at + 4, *e = p;
    while (*e && *e != '\n') e++;
    return nonempty(rtext_ndup(p, (size_t)(e - p)));
}

static char *extract_last_number(const char *text) {
    const char *best = NULL, *best_end = NULL;
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > text && (isdigit((unsigned char)p[-1]) || p[-1] == '.'))) continue;
        const char *b = p, *e = p;
        if (b > text && b[-1] == '-') b--;
        while (isdigit((unsigned char)*e) || (*e == ',' && isdigit((unsigned char)e[1])) ||
               (*e == '.' && isdigit((unsigned char)e[1])))
            e++;
        best = b;
        best_end = e;
        p = e - 1;
    }
    return best ? rtext_ndup(best, (size_t)(best_end - best)) : NULL;
}

char *math_extract(const char *text, const MathSource *order, size_t n, MathSource *used) {
    for (size_t i = 0; i < n; i++) {
        char *s = NULL;
        switch (order[i]) {
        case MATH_SRC_BOXED: s = nonempty(extract_boxed(text)); break;
        case MATH_SRC_ANSWER_TAG: s = extract_answer_tag(text); break;
        case MATH_SRC_ANSWER_IS: s = extract_answer_is(text); break;
        case MATH_SRC_GSM8K: s = extract_gsm8k(text); break;
        case MATH_SRC_LAST_NUMBER: s = extract_last_number(text); break;
        default: break;
        }
        if (s) {
            if (used) *used = order[i];
            return s;
        }
    }
    return NULL;
}

char *math_truth(const char *truth) {
    char *s = nonempty(extract_boxed(truth));
    if (s) return s;
    s = extract_gsm8k(truth);
    if (s) return s;
    return xstrdup(truth);
}

/* ---- normalisation ---- */

static const struct {
    const char *from, *to;
} unicode_map[] = {
    {"\xe2\x88\x92", "-"},        /* U+2212 minus sign */
    {"\xe2\x80\x93", "-"},        /* U+2013 en dash */
    {"\xc3\x97", "*"},            /* U+00D7 multiplication sign */
    {"\xc3\xb7", "/"},            /* U+00F7 division sign */
    {"\xc2\xb7", "*"},            /* U+00B7 middle dot */
    {"\xe2\x8b\x85", "*"},        /* U+22C5 dot operator */
    {"\xcf\x80", "\\pi "},        /* U+03C0 pi */
    {"\xe2\x88\x9a", "\\sqrt"},   /* U+221A square root */
    {"\xe2\x88\x9e", "\\infty "}, /* U+221E infinity */
    {"\xc2\xb0", ""},             /* U+00B0 degree sign */
    {"\xe2\x88\xaa", "\\cup "},   /* U+222A union */
    {"\xe2\x89\xa4", "\\le "},    /* U+2264 */
    {"\xe2\x89\xa5", "\\ge "},    /* U+2265 */
    {"\xe2\x89\xa0", "\\ne "},    /* U+2260 */
    {"\xc2\xb1", "\\pm "},        /* U+00B1 plus-minus */
    {"\xc2\xa0", " "},            /* U+00A0 no-break space */
    {"\xe2\x80\x89", " "},        /* U+2009 thin space */
    {"\xe2\x80\xaf", " "},        /* U+202F narrow no-break space */
};

/* Commands removed outright (only when not followed by a letter). */
static const char *const drop_cmds[] = {
    "left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big", "displaystyle", "textstyle",
    "quad", "qquad", "circ", "degree", "limits", "mathstrut",
};

/* Commands whose braced argument is text: units dropped, words kept. */
static const char *const text_cmds[] = {"text", "textbf", "textit", "textrm", "mbox", "mathrm", "mathbf",
                                        "mathit", "mathsf", "operatorname", "boxed", "fbox"};

/* Units stripped after a number ("5 cm", "12cm^2", "30 mph", "7 dollars"). */
static const char *const units[] = {
    "mm", "cm", "km", "m", "kg", "mg", "g", "lb", "lbs", "oz", "ft", "in", "yd", "mi", "mph", "kph",
    "ml", "mL", "L", "l", "s", "sec", "secs", "min", "mins", "h", "hr", "hrs", "am", "pm", "AM", "PM",
};

/* Words that are mathematics, never units. */
static const char *const math_words[] = {
    "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "exp", "ln", "log", "sqrt", "pi", "abs", "or", "and", "infty", "i", "e",
};

static int in_list(const char *w, size_t n, const char *const *list, size_t k) {
    for (size_t i = 0; i < k; i++)
        if (strlen(list[i]) == n && !strncmp(w, list[i], n)) return 1;
    return 0;
}
#define IN_LIST(w, n, list) in_list((w), (n), (list), sizeof(list) / sizeof((list)[0]))

static int only_words(const char *s, size_t n) {
    int letters = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalpha(c)) letters++;
        else if (c != ' ' && c != '/' && c != '^' && !isdigit(c) && c != '.') return 0;
    }
    return letters > 0;
}

static char *replace_unicode(const char *s) {
    StrBuf b = {0};
    for (const char *p = s; *p;) {
        int done = 0;
        if ((unsigned char)*p >= 0x80) {
            for (size_t i = 0; i < sizeof(unicode_map) / sizeof(unicode_map[0]) && !done; i++) {
                size_t n = strlen(unicode_map[i].from);
                if (!strncmp(p, unicode_map[i].from, n)) {
                    strbuf_cat(&b, unicode_map[i].to);
                    p += n;
                    done = 1;
                }
            }
        }
        if (done) continue;
        sb_putc(&b, (*p == '\t' || *p == '\n' || *p == '\r' || *p == '~') ? ' ' : *p);
        p++;
    }
    return sb_done(&b);
}

/* Does s without its \text-like groups contain a digit? */
static int digits_outside_text(const char *s) {
    for (const char *p = s; *p; p++) {
        if (*p == '\\') {
            const char *q = p + 1;
            while (isalpha((unsigned char)*q)) q++;
            if (IN_LIST(p + 1, (size_t)(q - p - 1), text_cmds) && *q == '{') {
                const char *e = brace_end(q);
                if (e) {
                    p = e - 1;
                    continue;
                }
            }
            p = q - 1;
            continue;
        }
        if (isdigit((unsigned char)*p)) return 1;
    }
    return 0;
}

/* One pass over LaTeX commands: drops spacing and sizing commands, unwraps
 * \text{} (or drops it when it holds units next to a number), maps
 * \lvert \rvert \vert \mid to '|', "{,}" to ",", "\%" to "%", drops '$'. */
static char *clean_latex(const char *s) {
    int has_digits = digits_outside_text(s);
    StrBuf b = {0};
    for (const char *p = s; *p;) {
        if (starts(p, "{,}")) {
            sb_putc(&b, ',');
            p += 3;
            continue;
        }
        if (*p == '$') {
            p++;
            continue;
        }
        if (*p != '\\') {
            sb_putc(&b, *p++);
            continue;
        }
        const char *q = p + 1;
        while (isalpha((unsigned char)*q)) q++;
        size_t n = (size_t)(q - p - 1);
        if (n == 0) {
            char c = p[1];
            if (c == ',' || c == ';' || c == ':' || c == '!' || c == ' ') {
                sb_putc(&b, ' ');
                p += 2;
            } else if (c == '%') {
                sb_putc(&b, '%');
                p += 2;
            } else if (c == '$') {
                p += 2;
            } else if (c == '(' || c == ')' || c == '[' || c == ']') {
                sb_putc(&b, ' '); /* \( \) \[ \] math delimiters */
                p += 2;
            } else if (c == '|') {
                sb_putc(&b, '|');
                p += 2;
            } else if (c) {
                strbuf_add(&b, p, 2);
                p += 2;
            } else {
                p++;
            }
            continue;
        }
        if (IN_LIST(p + 1, n, drop_cmds)) {
            int delim = in_list(p + 1, n, (const char *const[]){"left", "right"}, 2);
            p = q;
            if (delim && *p == '.') p++; /* "\left." is an empty delimiter */
            continue;
        }
        if (in_list(p + 1, n, (const char *const[]){"lvert", "rvert", "vert", "mid"}, 4)) {
            sb_putc(&b, '|');
            p = q;
            continue;
        }
        if (in_list(p + 1, n, (const char *const[]){"lbrace", "rbrace"}, 2)) {
            strbuf_cat(&b, p[1] == 'l' ? "\\{" : "\\}");
            p = q;
            continue;
        }
        if (in_list(p + 1, n, (const char *const[]){"leq", "leqslant"}, 2)) {
            strbuf_cat(&b, "\\le ");
            p = q;
            continue;
        }
        if (in_list(p + 1, n, (const char *const[]){"geq", "geqslant"}, 2)) {
            strbuf_cat(&b, "\\ge ");
            p = q;
            continue;
        }
        if (in_list(p + 1, n, (const char *const[]){"neq"}, 1)) {
            strbuf_cat(&b, "\\ne ");
            p = q;
            continue;
        }
        if (IN_LIST(p + 1, n, text_cmds)) {
            const char *arg = q;
            while (*arg == ' ') arg++;
            const char *e = *arg == '{' ? brace_end(arg) : NULL;
            if (!e) {
                p = q;
                continue;
            }
            const char *cb = arg + 1, *ce = e - 1;
            rtext_trim(&cb, &ce);
            size_t len = (size_t)(ce - cb);
            /* plain-text commands may hold units; \textbf, \boxed and friends are unwrapped */
            int is_text = in_list(p + 1, n, (const char *const[]){"text", "textrm", "mbox", "mathrm"}, 4);
            if ((len == 2 && !strncmp(cb, "or", 2)) || (len == 3 && !strncmp(cb, "and", 3))) {
                strbuf_cat(&b, len == 2 ? " or " : " and ");
            } else if (is_text && has_digits && only_words(cb, len) &&
                       !(len == 1 && (cb[0] == 'e' || cb[0] == 'i'))) {
                sb_putc(&b, ' '); /* units or a remark next to a number, with its power: "\text{cm}^2" */
                if (e[0] == '^' && isdigit((unsigned char)e[1])) e += 2;
                else if (e[0] == '^' && e[1] == '{' && isdigit((unsigned char)e[2]) && e[3] == '}') e += 4;
            } else {
                char *inner = rtext_ndup(cb, len);
                char *clean = clean_latex(inner);
                strbuf_cat(&b, clean);
                free(clean);
                free(inner);
            }
            p = e;
            continue;
        }
        if (in_list(p + 1, n, (const char *const[]){"dfrac", "tfrac", "cfrac"}, 3)) {
            strbuf_cat(&b, "\\frac");
            p = q;
            continue;
        }
        strbuf_add(&b, p, (size_t)(q - p));
        p = q;
    }
    return sb_done(&b);
}

/* Removes "^\circ" leftovers ("^{}" or a trailing '^') and "**" bold. */
static char *drop_marks(const char *s) {
    StrBuf b = {0};
    for (const char *p = s; *p;) {
        if (starts(p, "^{}")) {
            p += 3;
            continue;
        }
        if (starts(p, "**")) {
            p += 2;
            continue;
        }
        if (*p == '^') {
            const char *q = p + 1;
            while (*q == ' ') q++;
            if (!*q) break;
        }
        sb_putc(&b, *p++);
    }
    return sb_done(&b);
}

/* Collapses runs of spaces and trims. */
static char *squeeze(const char *s) {
    StrBuf b = {0};
    int space = 0;
    for (const char *p = s; *p; p++) {
        if (*p == ' ') {
            space = 1;
            continue;
        }
        if (space && b.n) sb_putc(&b, ' ');
        space = 0;
        sb_putc(&b, *p);
    }
    return sb_done(&b);
}

/* Strips a trailing unit word: "5 cm", "12cm^2", "3 square feet", "20 m/s".
 * A word is stripped only after a digit-bearing remainder, and only if it is
 * a known unit or (for words of two letters or more) follows a space. */
static int strip_unit(char *s) {
    size_t n = strlen(s);
    size_t e = n;
    if (e >= 2 && s[e - 2] == '^' && isdigit((unsigned char)s[e - 1])) e -= 2;
    else if (e >= 4 && s[e - 4] == '^' && s[e - 3] == '{' && isdigit((unsigned char)s[e - 2]) && s[e - 1] == '}')
        e -= 4;
    size_t w = e;
    for (;;) {
        size_t b = w;
        while (b > 0 && isalpha((unsigned char)s[b - 1])) b--;
        if (b == w) return 0;
        if (b > 0 && s[b - 1] == '\\') return 0; /* a command */
        size_t len = w - b;
        if (IN_LIST(s + b, len, math_words)) return 0;
        if (b > 0 && s[b - 1] == '/') {
            w = b - 1; /* "m/s": keep going left */
            continue;
        }
        int after_space = b > 0 && s[b - 1] == ' ';
        int after_digit = b > 0 && isdigit((unsigned char)s[b - 1]);
        int known = IN_LIST(s + b, len, units);
        if (!((after_space && (len >= 2 || known)) || (after_digit && known))) return 0;
        int digit = 0;
        for (size_t i = 0; i < b; i++) digit |= isdigit((unsigned char)s[i]) != 0;
        if (!digit) return 0;
        size_t cut = b;
        while (cut > 0 && s[cut - 1] == ' ') cut--;
        if (cut == 0 || strchr("+-*/^=(,", s[cut - 1])) return 0;
        s[cut] = '\0';
        return 1;
    }
}

static int all_digits(const char *b, const char *e) {
    if (b == e) return 0;
    for (const char *p = b; p < e; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    return 1;
}

/* "1,234,567.5" -> "1234567.5" and "1 234" -> "1234" for a whole-string
 * number; "3 1/2" -> "3\frac{1}{2}" (a mixed number). */
static char *fix_number(const char *s) {
    const char *p = s;
    if (*p == '-') p++;
    /* digit groups */
    for (char sep = ','; sep; sep = sep == ',' ? ' ' : 0) {
        const char *q = p, *g = q;
        while (isdigit((unsigned char)*q)) q++;
        size_t lead = (size_t)(q - g);
        int groups = 0;
        while (lead >= 1 && lead <= 3 && *q == sep && all_digits(q + 1, q + 4) && !isdigit((unsigned char)q[4])) {
            q += 4;
            groups++;
        }
        if (groups && *q == '.' && isdigit((unsigned char)q[1])) {
            q++;
            while (isdigit((unsigned char)*q)) q++;
        }
        if (groups && !*q) {
            StrBuf b = {0};
            for (const char *c = s; *c; c++)
                if (*c != sep) sb_putc(&b, *c);
            return sb_done(&b);
        }
    }
    /* mixed number "3 1/2" */
    const char *a = p;
    while (isdigit((unsigned char)*a)) a++;
    if (a > p && *a == ' ') {
        const char *n1 = a + 1, *n2 = n1;
        while (isdigit((unsigned char)*n2)) n2++;
        if (n2 > n1 && *n2 == '/') {
            const char *d1 = n2 + 1, *d2 = d1;
            while (isdigit((unsigned char)*d2)) d2++;
            if (d2 > d1 && !*d2) {
                StrBuf b = {0};
                strbuf_add(&b, s, (size_t)(a - s));
                strbuf_cat(&b, "\\frac{");
                strbuf_add(&b, n1, (size_t)(n2 - n1));
                strbuf_cat(&b, "}{");
                strbuf_add(&b, d1, (size_t)(d2 - d1));
                strbuf_cat(&b, "}");
                return sb_done(&b);
            }
        }
    }
    return xstrdup(s);
}

/* Removes wrappers around the whole string: spaces, a trailing '.', a
 * leading "=", and a lone "\boxed{...}" handled by clean_latex. */
static void strip_outer(char *s) {
    for (int changed = 1; changed;) {
        changed = 0;
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ') s[--n] = '\0';
        size_t lead = 0;
        while (s[lead] == ' ') lead++;
        if (lead) {
            memmove(s, s + lead, n - lead + 1);
            n -= lead;
        }
        if (n && s[n - 1] == '.' && !(n >= 2 && s[n - 2] == '.')) {
            s[--n] = '\0';
            changed = 1;
        }
        if (n && (s[0] == '=' || s[0] == ':')) {
            memmove(s, s + 1, n);
            n--;
            changed = 1;
        }
    }
}

char *math_normalize(const char *in) {
    char *a = replace_unicode(in);
    char *b = clean_latex(a);
    free(a);
    a = drop_marks(b);
    free(b);
    b = squeeze(a);
    free(a);
    strip_outer(b);
    while (strip_unit(b)) strip_outer(b);
    a = fix_number(b);
    free(b);
    b = squeeze(a);
    free(a);
    return b;
}

/* ---- structure: lists, brackets, equations ---- */

#define MAX_PARTS 32

typedef struct {
    char *part[MAX_PARTS];
    int n;
} Parts;

static void parts_free(Parts *p) {
    for (int i = 0; i < p->n; i++) free(p->part[i]);
    p->n = 0;
}

static int is_open(const char *p) { return *p == '(' || *p == '[' || *p == '{' || starts(p, "\\{"); }
static int is_close(const char *p) { return *p == ')' || *p == ']' || *p == '}' || starts(p, "\\}"); }

/* Splits s at top-level separators: ",", ";", " or ", " and ", "\cup".
 * Returns the number of parts (0 if there are too many or a part is empty). */
static int split_top(const char *s, Parts *out) {
    out->n = 0;
    int depth = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        size_t skip = 0;
        if (*p) {
            if (starts(p, "\\{") || starts(p, "\\}")) {
                depth += p[1] == '{' ? 1 : -1;
                p++;
                continue;
            }
            if (is_open(p)) depth++;
            else if (is_close(p)) depth--;
            if (depth != 0) continue;
            if (*p == ',' || *p == ';') skip = 1;
            else if (starts(p, " or ")) skip = 4;
            else if (starts(p, " and ")) skip = 5;
            else if (starts(p, "\\cup") && !isalpha((unsigned char)p[4])) skip = 4;
            if (!skip) continue;
        }
        const char *b = start, *e = p;
        rtext_trim(&b, &e);
        if (b == e || out->n == MAX_PARTS) {
            parts_free(out);
            return 0;
        }
        out->part[out->n++] = rtext_ndup(b, (size_t)(e - b));
        if (!*p) break;
        start = p + skip;
        p += skip - 1;
    }
    return out->n;
}

/* If s is one bracketed group "(...)", "[...)", "\{...\}", returns 1 and the
 * opening/closing kinds ('(' '[' '{' and ')' ']' '}') and the inner text. */
static int bracketed(const char *s, char *open, char *close, char **inner) {
    size_t n = strlen(s);
    if (n < 2 || !is_open(s)) return 0;
    size_t ol = starts(s, "\\{") ? 2 : 1;
    size_t cl = (n >= 2 && starts(s + n - 2, "\\}")) ? 2 : 1;
    if (!is_close(s + n - cl)) return 0;
    if (n < ol + cl) return 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (starts(s + i, "\\{") || starts(s + i, "\\}")) {
            depth += s[i + 1] == '{' ? 1 : -1;
            i++;
        } else if (is_open(s + i)) {
            depth++;
        } else if (is_close(s + i)) {
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

/* Finds a single top-level relation ("=", "<", ">", "\le", "\ge", "\ne",
 * "\in"). Returns its kind ('=' '<' '>' 'l' 'g' 'n' 'i'; 0 for none, -1 for
 * several) with the two sides copied into *lhs and *rhs. */
static int relation(const char *s, char **lhs, char **rhs) {
    int depth = 0, kind = 0;
    const char *at = NULL, *after = NULL;
    for (const char *p = s; *p; p++) {
        if (is_open(p)) depth++;
        else if (is_close(p)) depth--;
        if (depth) continue;
        int k = 0;
        size_t len = 1;
        if (*p == '=' || *p == '<' || *p == '>') {
            k = *p;
            if (p[1] == '=') {
                k = *p == '<' ? 'l' : (*p == '>' ? 'g' : '=');
                len = 2;
            }
        } else if (starts(p, "\\le") && !isalpha((unsigned char)p[3])) {
            k = 'l';
            len = 3;
        } else if (starts(p, "\\ge") && !isalpha((unsigned char)p[3])) {
            k = 'g';
            len = 3;
        } else if (starts(p, "\\ne") && !isalpha((unsigned char)p[3])) {
            k = 'n';
            len = 3;
        } else if (starts(p, "\\in") && !isalpha((unsigned char)p[3])) {
            k = 'i';
            len = 3;
        } else if (starts(p, "\\lt") && !isalpha((unsigned char)p[3])) {
            k = '<';
            len = 3;
        } else if (starts(p, "\\gt") && !isalpha((unsigned char)p[3])) {
            k = '>';
            len = 3;
        }
        if (!k) continue;
        if (kind) return -1;
        kind = k;
        at = p;
        after = p + len;
        p += len - 1;
    }
    if (!kind) return 0;
    const char *b = s, *e = at;
    rtext_trim(&b, &e);
    *lhs = rtext_ndup(b, (size_t)(e - b));
    b = after;
    e = after + strlen(after);
    rtext_trim(&b, &e);
    *rhs = rtext_ndup(b, (size_t)(e - b));
    return kind;
}

/* A variable name: "x", "y_1", "a_{12}", "\theta", or "f(x)". */
static int is_variable(const char *s) {
    const char *p = s;
    if (*p == '\\') {
        p++;
        while (isalpha((unsigned char)*p)) p++;
        if (p - s < 3) return 0;
    } else if (isalpha((unsigned char)*p)) {
        p++;
    } else {
        return 0;
    }
    if (*p == '_') {
        p++;
        if (*p == '{') {
            p++;
            while (isalnum((unsigned char)*p)) p++;
            if (*p++ != '}') return 0;
        } else {
            while (isalnum((unsigned char)*p)) p++;
        }
    }
    if (*p == '(' && isalpha((unsigned char)p[1]) && p[2] == ')') p += 3; /* f(x) */
    return *p == '\0';
}

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

/* A word answer ("Monday", "no solution"): letters and spaces only, and at
 * least one word of two letters that is not mathematics. */
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
        if (q - p >= 2 && !IN_LIST(p, (size_t)(q - p), math_words)) long_word = 1;
        p = q;
    }
    return long_word;
}

/* Answer a against truth b as expressions. An integer-valued constant truth
 * must be hit to within 1e-9 relative and less than 1/2 absolute, so
 * 1000001 is not 1000000 under any tolerance. */
static int expr_equal_text(const char *a, const char *b, double tol) {
    MathExpr ea = {0}, eb = {0};
    int ok = 0;
    if (math_expr_parse(&ea, a) == 0 && math_expr_parse(&eb, b) == 0) {
        double vb = eb.n_vars == 0 ? math_expr_eval(&eb, NULL) : NAN;
        if (ea.n_vars == 0 && isfinite(vb) && vb == round(vb)) {
            double va = math_expr_eval(&ea, NULL);
            ok = isfinite(va) && fabs(va - vb) < 0.5 && math_close(va, vb, tol < 1e-9 ? tol : 1e-9);
        } else {
            ok = math_expr_equal(&ea, &eb, tol);
        }
    }
    math_expr_free(&ea);
    math_expr_free(&eb);
    return ok;
}

static int eq_list(const Parts *a, const Parts *t, int ordered, double tol, int depth);
static int eq_item(const char *a, const char *t, double tol, int depth);

/* Two values: expressions, with the percent rule ("50%" equals 50 and 0.5). */
static int eq_value(const char *a, const char *t, double tol) {
    if (expr_equal_text(a, t, tol)) return 1;
    if (!strchr(a, '%') && !strchr(t, '%')) return 0;
    char *x = xstrdup(a), *y = xstrdup(t);
    char *w = x;
    for (char *r = x; *r; r++)
        if (*r != '%') *w++ = *r;
    *w = '\0';
    w = y;
    for (char *r = y; *r; r++)
        if (*r != '%') *w++ = *r;
    *w = '\0';
    size_t nx = strlen(x), ny = strlen(y);
    if (nx && x[nx - 1] == '\\') x[nx - 1] = '\0';
    if (ny && y[ny - 1] == '\\') y[ny - 1] = '\0';
    int ok = expr_equal_text(x, y, tol);
    free(x);
    free(y);
    return ok;
}

static int eq_relation(const char *a, const char *t, double tol, int depth) {
    char *al = NULL, *ar = NULL, *tl = NULL, *tr = NULL;
    int ka = relation(a, &al, &ar), kt = relation(t, &tl, &tr);
    int result = -1; /* -1: rule does not apply */
    if (ka < 0 || kt < 0) {
        result = 0;
    } else if (ka == '=' || ka == 'i' || kt == '=' || kt == 'i') {
        /* "x = 5" vs "5", "x \in [1, 2]" vs "[1, 2]" */
        int sa = (ka == '=' || ka == 'i') && is_variable(al);
        int st = (kt == '=' || kt == 'i') && is_variable(tl);
        if (sa || st) {
            result = eq_item(sa ? ar : a, st ? tr : t, tol, depth + 1);
        } else if (ka == '=' && kt == '=') {
            /* equations: l - r proportional ("2x - 4 = 0" vs "x = 2") */
            size_t na = strlen(al) + strlen(ar) + 8, nt = strlen(tl) + strlen(tr) + 8;
            char *da = xmalloc(na), *dt = xmalloc(nt);
            snprintf(da, na, "(%s)-(%s)", al, ar);
            snprintf(dt, nt, "(%s)-(%s)", tl, tr);
            MathExpr ea = {0}, et = {0};
            result = 0;
            if (math_expr_parse(&ea, da) == 0 && math_expr_parse(&et, dt) == 0)
                result = math_expr_proportional(&ea, &et, tol);
            math_expr_free(&ea);
            math_expr_free(&et);
            free(da);
            free(dt);
        } else {
            result = 0;
        }
    } else if (ka && kt) {
        /* inequalities: same relation, or the mirrored one with sides swapped */
        int mirror = (ka == '<' && kt == '>') || (ka == '>' && kt == '<') || (ka == 'l' && kt == 'g') ||
                     (ka == 'g' && kt == 'l');
        if (ka == kt) result = eq_value(al, tl, tol) && eq_value(ar, tr, tol);
        else if (mirror) result = eq_value(al, tr, tol) && eq_value(ar, tl, tol);
        else result = 0;
    } else if (ka || kt) {
        result = 0;
    }
    free(al);
    free(ar);
    free(tl);
    free(tr);
    return result;
}

/* The right side of "x = ..." or "x \in ..." with a variable on the left
 * (xmalloc'd), or NULL. */
static char *var_rhs(const char *s) {
    char *l = NULL, *r = NULL;
    int k = relation(s, &l, &r);
    int ok = (k == '=' || k == 'i') && is_variable(l);
    free(l);
    if (ok) return r;
    free(r);
    return NULL;
}

static int eq_item(const char *a, const char *t, double tol, int depth) {
    if (depth > 8) return 0;
    if (same_text(a, t)) return 1;
    char *ra = var_rhs(a), *rt = var_rhs(t);
    if (ra || rt) {
        int r = eq_item(ra ? ra : a, rt ? rt : t, tol, depth + 1);
        free(ra);
        free(rt);
        return r;
    }
    char ao, ac, to, tc;
    char *ai = NULL, *ti = NULL;
    int ba = bracketed(a, &ao, &ac, &ai), bt = bracketed(t, &to, &tc, &ti);
    if (ba || bt) {
        Parts pa = {0}, pt = {0};
        int na = ba ? split_top(ai, &pa) : 0, nt = bt ? split_top(ti, &pt) : 0;
        int result = -1;
        if (ba && bt && (na > 1 || nt > 1 || ao == '{' || to == '{')) {
            /* tuples, intervals and sets */
            if ((ao == '{') != (to == '{')) result = 0;
            else if (ao == '{') result = eq_list(&pa, &pt, 0, tol, depth);
            else result = ao == to && ac == tc && eq_list(&pa, &pt, 1, tol, depth);
        } else if ((ba && na > 1) || (bt && nt > 1)) {
            result = 0; /* a tuple against a single value */
        }
        if (result < 0 && ((ba && na == 1) || (bt && nt == 1))) {
            /* "(5)" is just 5 */
            result = eq_item(ba && na == 1 ? ai : a, bt && nt == 1 ? ti : t, tol, depth + 1);
        }
        parts_free(&pa);
        parts_free(&pt);
        free(ai);
        free(ti);
        if (result >= 0) return result;
    }
    int rel = eq_relation(a, t, tol, depth);
    if (rel >= 0) return rel;
    if (is_word_answer(a) || is_word_answer(t)) return !strcasecmp(a, t);
    return eq_value(a, t, tol);
}

/* Unordered (multiset) or ordered comparison of two lists of items. */
static int eq_list(const Parts *a, const Parts *t, int ordered, double tol, int depth) {
    if (a->n != t->n || a->n == 0) return 0;
    if (ordered) {
        for (int i = 0; i < a->n; i++)
            if (!eq_item(a->part[i], t->part[i], tol, depth + 1)) return 0;
        return 1;
    }
    int used[MAX_PARTS] = {0};
    for (int i = 0; i < a->n; i++) {
        int found = 0;
        for (int j = 0; j < t->n && !found; j++) {
            if (used[j] || !eq_item(a->part[i], t->part[j], tol, depth + 1)) continue;
            used[j] = 1;
            found = 1;
        }
        if (!found) return 0;
    }
    return 1;
}

/* Expands one "\pm" (or "\mp") in each part into two parts. */
static void expand_pm(Parts *p) {
    Parts out = {0};
    for (int i = 0; i < p->n; i++) {
        char *s = p->part[i];
        const char *pm = strstr(s, "\\pm");
        if (!pm) pm = strstr(s, "\\mp");
        if (!pm || strstr(pm + 3, "\\pm") || strstr(pm + 3, "\\mp") || out.n + 2 > MAX_PARTS) {
            if (out.n < MAX_PARTS) out.part[out.n++] = s;
            else free(s);
            continue;
        }
        for (int sign = 0; sign < 2; sign++) {
            StrBuf b = {0};
            strbuf_add(&b, s, (size_t)(pm - s));
            sb_putc(&b, sign ? '-' : '+');
            strbuf_cat(&b, pm + 3);
            out.part[out.n++] = sb_done(&b);
        }
        free(s);
    }
    *p = out;
}

/* A multiple-choice letter: "C", "(C)", "C)", "C.", "(c) 42", "option C". */
static int choice_letter(const char *s, int strict) {
    const char *p = s;
    static const char *const prefixes[] = {"option ", "choice ", "Option ", "Choice ", "answer ", "Answer "};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (starts(p, prefixes[i])) p += strlen(prefixes[i]);
    int paren = *p == '(';
    if (paren) p++;
    char c = *p;
    if (!isalpha((unsigned char)c)) return 0;
    char up = (char)toupper((unsigned char)c);
    if (up < 'A' || up > 'J') return 0;
    if (strict && (c != up)) return 0;
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
    if (*p == ' ' && isupper((unsigned char)c)) return up; /* "B 42" */
    return 0;
}

/* Longer answers are never a final answer and are not graded (bounds the
 * time of the quadratic steps). */
#define MAX_ANSWER 4096

int math_equal(const char *answer, const char *truth, double tol) {
    if (strlen(answer) > MAX_ANSWER || strlen(truth) > MAX_ANSWER) return 0;
    char *a = math_normalize(answer), *t = math_normalize(truth);
    int result = 0;
    int letter = choice_letter(t, 1);
    if (!a[0] || !t[0]) {
        result = 0;
    } else if (letter) {
        /* hedging over several options ("A or B", "A, C") is wrong */
        Parts pa = {0};
        result = split_top(a, &pa) >= 1;
        for (int i = 0; i < pa.n; i++) result = result && choice_letter(pa.part[i], 0) == letter;
        parts_free(&pa);
    } else if (same_text(a, t)) {
        result = 1;
    } else {
        Parts pa = {0}, pt = {0};
        split_top(a, &pa);
        split_top(t, &pt);
        expand_pm(&pa);
        expand_pm(&pt);
        if (pa.n == 1 && pt.n == 1) {
            result = eq_item(pa.part[0], pt.part[0], tol, 0);
        } else if (pa.n > 1 && pt.n > 1) {
            result = eq_list(&pa, &pt, 0, tol, 0);
        } else if (pa.n >= 1 && pt.n >= 1) {
            /* a bare list against one bracketed group: "2, 3" vs "(2, 3)" or "\{2, 3\}" */
            const Parts *one = pa.n == 1 ? &pa : &pt;
            const Parts *many = pa.n == 1 ? &pt : &pa;
            char o, c, *in = NULL;
            if (bracketed(one->part[0], &o, &c, &in)) {
                Parts pi = {0};
                split_top(in, &pi);
                if (o == '(' && c == ')') result = pa.n == 1 ? eq_list(&pi, many, 1, tol, 0) : eq_list(many, &pi, 1, tol, 0);
                else if (o == '{') result = pa.n == 1 ? eq_list(&pi, many, 0, tol, 0) : eq_list(many, &pi, 0, tol, 0);
                parts_free(&pi);
                free(in);
            }
        }
        parts_free(&pa);
        parts_free(&pt);
    }
    free(a);
    free(t);
    return result;
}
