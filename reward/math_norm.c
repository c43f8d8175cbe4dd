/*
 * math_norm.c: the normal form of an answer (math_normalize, see
 * math_grade.h): unicode symbols, LaTeX spacing and sizing commands,
 * \text{} words and units, digit groups and decimal commas, percent words.
 * Not for: deciding equality (math_grade.c) or finding answers (math_extract.c).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "math_grade.h"
#include "math_rules.h"
#include "reward_text.h"

static void sb_putc(StrBuf *b, char c) { strbuf_add(b, &c, 1); }
static char *sb_done(StrBuf *b) { return b->p ? b->p : xstrdup(""); }

static const struct {
    const char *from, *to;
} unicode_map[] = {
    {"\xe2\x88\x92", "-"},             /* U+2212 minus sign */
    {"\xe2\x80\x93", "-"},             /* U+2013 en dash */
    {"\xc3\x97", "*"},                 /* U+00D7 multiplication sign */
    {"\xc3\xb7", "/"},                 /* U+00F7 division sign */
    {"\xc2\xb7", "*"},                 /* U+00B7 middle dot */
    {"\xe2\x8b\x85", "*"},             /* U+22C5 dot operator */
    {"\xcf\x80", "\\pi "},             /* U+03C0 pi */
    {"\xe2\x88\x9a", "\\sqrt"},        /* U+221A square root */
    {"\xe2\x88\x9e", "\\infty "},      /* U+221E infinity */
    {"\xc2\xb0", ""},                  /* U+00B0 degree sign */
    {"\xe2\x88\xaa", "\\cup "},        /* U+222A union */
    {"\xe2\x88\x88", "\\in "},         /* U+2208 element of */
    {"\xe2\x89\xa4", "\\le "},         /* U+2264 */
    {"\xe2\x89\xa5", "\\ge "},         /* U+2265 */
    {"\xe2\x89\xa0", "\\ne "},         /* U+2260 */
    {"\xe2\x89\x88", "\\approx "},     /* U+2248 almost equal */
    {"\xc2\xb1", "\\pm "},             /* U+00B1 plus-minus */
    {"\xc2\xb2", "^2"},                /* U+00B2 superscript two (m²) */
    {"\xc2\xb3", "^3"},                /* U+00B3 superscript three */
    {"\xe2\x82\xac", ""},              /* U+20AC euro sign */
    {"\xc2\xa3", ""},                  /* U+00A3 pound sign */
    {"\xc2\xa5", ""},                  /* U+00A5 yen sign */
    {"\xe2\x82\xb9", ""},              /* U+20B9 rupee sign */
    {"\xc2\xa0", " "},                 /* U+00A0 no-break space */
    {"\xe2\x80\x89", " "},             /* U+2009 thin space */
    {"\xe2\x80\xaf", " "},             /* U+202F narrow no-break space */
    {"\xe2\x88\x85", "\\emptyset "},   /* U+2205 empty set */
};

/* Commands removed outright (only when not followed by a letter). */
static const char *const drop_cmds[] = {
    "left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big", "biggl", "biggr", "displaystyle", "textstyle",
    "quad", "qquad", "circ", "degree", "limits", "mathstrut", "mleft", "mright",
};

/* Commands whose braced argument is text: units dropped, words kept. */
static const char *const text_cmds[] = {"text", "textbf", "textit", "textrm", "textnormal", "textsf", "texttt",
                                        "mbox", "mathrm", "mathbf", "mathit", "mathsf", "mathnormal",
                                        "operatorname", "boxed", "fbox"};

/* The plain-text commands among them: their words next to a number are units. */
static const char *const unit_cmds[] = {"text", "textrm", "textnormal", "mbox", "mathrm"};

/* Units stripped right after a digit ("5cm", "12cm^2"); any word of two
 * letters or more is stripped after a space ("12 apples"). */
static const char *const units[] = {
    "mm", "cm", "km", "m", "kg", "mg", "g", "lb", "lbs", "oz", "ft", "in", "yd", "mi", "mph", "kph",
    "ml", "mL", "L", "l", "s", "sec", "secs", "min", "mins", "h", "hr", "hrs", "am", "pm", "AM", "PM",
};

/* Words that are mathematics, never units. */
static const char *const math_words[] = {
    "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "exp", "ln", "log", "sqrt", "pi", "abs", "or", "and", "infty", "i", "e",
};

static const char *const percent_words[] = {"percent", "percentage", "pct"};

static int only_words(const char *s, size_t n) {
    int letters = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalpha(c)) letters++;
        else if (c != ' ' && c != '/' && c != '^' && !isdigit(c) && c != '.') return 0;
    }
    return letters > 0;
}

/* Unicode symbols to LaTeX/ASCII; tabs, newlines and '~' to spaces. */
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

/* "\\frac" written with a doubled backslash (JSON escaped twice) becomes
 * "\frac"; left alone in matrices and arrays, where "\\" ends a row. */
static void undouble_backslashes(char *s) {
    if (strstr(s, "matrix") || strstr(s, "array")) return;
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == '\\' && isalpha((unsigned char)r[2])) continue;
        *w++ = *r;
    }
    *w = '\0';
}

/* Does s without its \text-like groups contain a digit? */
static int digits_outside_text(const char *s) {
    for (const char *p = s; *p; p++) {
        if (*p == '\\') {
            const char *q = p + 1;
            while (isalpha((unsigned char)*q)) q++;
            if (RTEXT_IN_LIST(p + 1, (size_t)(q - p - 1), text_cmds) && *q == '{') {
                const char *e = rtext_brace_end(q);
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

/* "{,}" with any spaces inside: a LaTeX thousands separator. Returns its
 * length at p, or 0. */
static size_t brace_comma(const char *p) {
    if (*p != '{') return 0;
    const char *q = p + 1;
    while (*q == ' ') q++;
    if (*q != ',') return 0;
    q++;
    while (*q == ' ') q++;
    return *q == '}' ? (size_t)(q + 1 - p) : 0;
}

static char *clean_latex(const char *s);

/* The argument of a \text-like command at q (after the name): appends its
 * normal form to b (a unit next to a number is dropped with its power, a
 * percent word becomes "%") and returns the position after it; NULL when
 * there is no braced argument. */
static const char *text_arg(const char *cmd, size_t n, const char *q, int has_digits, StrBuf *b) {
    const char *arg = q;
    while (*arg == ' ') arg++;
    const char *e = *arg == '{' ? rtext_brace_end(arg) : NULL;
    if (!e) return NULL;
    const char *cb = arg + 1, *ce = e - 1;
    rtext_trim(&cb, &ce);
    size_t len = (size_t)(ce - cb);
    if ((len == 2 && !strncmp(cb, "or", 2)) || (len == 3 && !strncmp(cb, "and", 3))) {
        strbuf_cat(b, len == 2 ? " or " : " and ");
    } else if (RTEXT_IN_LIST(cb, len, percent_words)) {
        sb_putc(b, '%');
    } else if (rtext_in_list(cmd, n, unit_cmds, sizeof(unit_cmds) / sizeof(unit_cmds[0])) && has_digits &&
               only_words(cb, len) && !(len == 1 && (cb[0] == 'e' || cb[0] == 'i'))) {
        sb_putc(b, ' '); /* units or a remark next to a number, with its power: "\text{cm}^2" */
        if (e[0] == '^' && isdigit((unsigned char)e[1])) e += 2;
        else if (e[0] == '^' && e[1] == '{' && isdigit((unsigned char)e[2]) && e[3] == '}') e += 4;
    } else {
        char *inner = rtext_ndup(cb, len);
        char *clean = clean_latex(inner);
        strbuf_cat(b, clean);
        free(clean);
        free(inner);
    }
    return e;
}

/* One pass over LaTeX commands: drops spacing and sizing commands and '$',
 * unwraps \text{} (or drops it when it holds units next to a number), maps
 * \lvert \rvert \vert \mid to '|', "{,}" to ",", "\%" to "%", removes "\!"
 * with the spaces after it (so "11,\! 111" is one number). */
static char *clean_latex(const char *s) {
    int has_digits = digits_outside_text(s);
    StrBuf b = {0};
    for (const char *p = s; *p;) {
        size_t bc = brace_comma(p);
        if (bc) {
            while (b.n && b.p[b.n - 1] == ' ') b.p[--b.n] = '\0';
            sb_putc(&b, ',');
            p += bc;
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
            if (c == '!') {
                p += 2;
                while (*p == ' ') p++;
            } else if (c == ',' || c == ';' || c == ':' || c == ' ') {
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
        const char *cmd = p + 1;
        if (RTEXT_IN_LIST(cmd, n, drop_cmds)) {
            int delim = rtext_in_list(cmd, n, (const char *const[]){"left", "right", "mleft", "mright"}, 4);
            p = q;
            if (delim && *p == '.') p++; /* "\left." is an empty delimiter */
            continue;
        }
        static const struct {
            const char *name, *to;
        } renames[] = {
            {"lvert", "|"},   {"rvert", "|"},  {"vert", "|"},     {"mid", "|"},       {"lbrace", "\\{"},
            {"rbrace", "\\}"}, {"leq", "\\le "}, {"leqslant", "\\le "}, {"geq", "\\ge "}, {"geqslant", "\\ge "},
            {"neq", "\\ne "}, {"dfrac", "\\frac"}, {"tfrac", "\\frac"}, {"cfrac", "\\frac"},
            {"varnothing", "\\emptyset"}, {"langle", "("}, {"rangle", ")"},
        };
        int renamed = 0;
        for (size_t i = 0; i < sizeof(renames) / sizeof(renames[0]) && !renamed; i++) {
            if (strlen(renames[i].name) == n && !strncmp(cmd, renames[i].name, n)) {
                strbuf_cat(&b, renames[i].to);
                renamed = 1;
            }
        }
        if (renamed) {
            p = q;
            continue;
        }
        if (RTEXT_IN_LIST(cmd, n, text_cmds)) {
            const char *e = text_arg(cmd, n, q, has_digits, &b);
            p = e ? e : q;
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
        if (rtext_starts(p, "^{}")) {
            p += 3;
            continue;
        }
        if (rtext_starts(p, "**")) {
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

/* Words: "percent", "percentage", "pct" become "%" (with the spaces before
 * them); "infinity" and "inf" become "\infty". */
static char *replace_words(const char *s) {
    StrBuf b = {0};
    for (const char *p = s; *p;) {
        if (isalpha((unsigned char)*p) && (p == s || (!isalpha((unsigned char)p[-1]) && p[-1] != '\\'))) {
            const char *q = p;
            while (isalpha((unsigned char)*q)) q++;
            size_t n = (size_t)(q - p);
            static const char *const capital[] = {"ercent", "ercentage", "ct"}; /* "Percent", "Pct" */
            if (RTEXT_IN_LIST(p, n, percent_words) || (*p == 'P' && n >= 3 && RTEXT_IN_LIST(p + 1, n - 1, capital))) {
                while (b.n && b.p[b.n - 1] == ' ') b.p[--b.n] = '\0';
                sb_putc(&b, '%');
                p = q;
                continue;
            }
            if ((n == 8 && !strncmp(p, "infinity", 8)) || (n == 3 && !strncmp(p, "inf", 3))) {
                strbuf_cat(&b, "\\infty");
                p = q;
                continue;
            }
            strbuf_add(&b, p, n);
            p = q;
            continue;
        }
        sb_putc(&b, *p++);
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
        if (RTEXT_IN_LIST(s + b, len, math_words)) return 0;
        if (b > 0 && s[b - 1] == '/') {
            w = b - 1; /* "m/s": keep going left */
            continue;
        }
        int after_space = b > 0 && s[b - 1] == ' ';
        int after_digit = b > 0 && isdigit((unsigned char)s[b - 1]);
        int known = RTEXT_IN_LIST(s + b, len, units);
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

/* Whole-answer numbers: "1,234,567.5" -> "1234567.5", "1 234" -> "1234",
 * "0,125" -> "0.125" (a zero and a group of three make the comma decimal,
 * as in Math-Verify), "3 1/2" -> "3\frac{1}{2}" (a mixed number). */
static char *fix_number(const char *s) {
    const char *p = s;
    if (*p == '-') p++;
    if (p[0] == '0' && p[1] == ',' && strlen(p) == 5 && all_digits(p + 2, p + 5)) {
        char *d = xstrdup(s);
        d[p + 1 - s] = '.';
        return d;
    }
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

/* Removes wrappers around the whole string: spaces, sentence punctuation
 * ('.' or ',' at the end, not "..."), a leading "=" or ":". */
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
        if (n && (s[n - 1] == '.' || s[n - 1] == ',') && !(n >= 2 && s[n - 2] == '.')) {
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

/* s with every `from` replaced by `to` (xmalloc'd; s is freed). */
static char *replace_all(char *s, const char *from, const char *to) {
    if (!strstr(s, from)) return s;
    StrBuf b = {0};
    size_t n = strlen(from);
    for (const char *p = s; *p;) {
        if (!strncmp(p, from, n)) {
            strbuf_cat(&b, to);
            p += n;
        } else {
            strbuf_add(&b, p++, 1);
        }
    }
    free(s);
    return sb_done(&b);
}

/* Sets with names: the empty set and the reals as an interval. */
static char *name_sets(char *s) {
    static const struct {
        const char *from, *to;
    } sets[] = {{"\\{\\}", "\\emptyset"}, {"\\{ \\}", "\\emptyset"}, {"\\mathbb{R}", "(-\\infty, \\infty)"},
                {"\\mathbb R", "(-\\infty, \\infty)"}};
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) s = replace_all(s, sets[i].from, sets[i].to);
    return s;
}

char *math_normalize(const char *in) {
    if (strlen(in) > 4 * MATH_MAX_ANSWER) return xstrdup(""); /* never an answer: not worth the passes */
    char *a = replace_unicode(in);
    undouble_backslashes(a);
    char *b = clean_latex(a);
    free(a);
    a = drop_marks(b);
    free(b);
    b = replace_words(a);
    free(a);
    a = squeeze(b);
    free(b);
    strip_outer(a);
    while (strip_unit(a)) strip_outer(a);
    b = fix_number(a);
    free(a);
    a = squeeze(b);
    free(b);
    return name_sets(a);
}
