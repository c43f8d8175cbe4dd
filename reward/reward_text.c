/*
 * reward_text.c: text helpers shared by the reward functions (see reward_text.h).
 * Not for: anything that knows a reward's rules.
 */
#define _GNU_SOURCE /* memrchr */
#include "reward_text.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"

char *rtext_ndup(const char *s, size_t n) {
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *rtext_cat(const char *first, ...) {
    va_list ap;
    size_t n = 0;
    va_start(ap, first);
    for (const char *p = first; p; p = va_arg(ap, const char *)) n += strlen(p);
    va_end(ap);
    char *d = xmalloc(n + 1), *w = d;
    va_start(ap, first);
    for (const char *p = first; p; p = va_arg(ap, const char *)) {
        size_t k = strlen(p);
        memcpy(w, p, k);
        w += k;
    }
    va_end(ap);
    *w = '\0';
    return d;
}

const char *rtext_rfind_in(const char *s, size_t len, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0 || n > len) return NULL;
    for (size_t end = len - n + 1; end > 0;) {
        const char *p = memrchr(s, needle[0], end);
        if (!p) return NULL;
        if (!memcmp(p, needle, n)) return p;
        end = (size_t)(p - s);
    }
    return NULL;
}

const char *rtext_rfind(const char *s, const char *needle) { return rtext_rfind_in(s, strlen(s), needle); }

const char *rtext_rfind_nocase(const char *s, const char *needle) {
    size_t n = strlen(needle), len = strlen(s);
    if (n == 0 || n > len) return NULL;
    for (size_t i = len - n + 1; i-- > 0;)
        if (!strncasecmp(s + i, needle, n)) return s + i;
    return NULL;
}

size_t rtext_count(const char *s, const char *needle) {
    size_t n = 0, k = strlen(needle);
    for (const char *p = strstr(s, needle); p; p = strstr(p + k, needle)) n++;
    return n;
}

char *rtext_last_tag(const char *s, const char *tag) {
    char open[80], close[80];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *c = rtext_rfind(s, close);
    if (!c) return NULL;
    size_t ol = strlen(open);
    const char *o = rtext_rfind_in(s, (size_t)(c - s), open);
    if (!o) return NULL;
    return rtext_ndup(o + ol, (size_t)(c - (o + ol)));
}

void rtext_trim(const char **b, const char **e) {
    while (*b < *e && isspace((unsigned char)**b)) (*b)++;
    while (*e > *b && isspace((unsigned char)(*e)[-1])) (*e)--;
}

char *rtext_trim_dup(const char *s) {
    const char *b = s, *e = s + strlen(s);
    rtext_trim(&b, &e);
    return rtext_ndup(b, (size_t)(e - b));
}

size_t rtext_codepoints(const char *s) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80) n++;
    return n;
}

/* Walks s counting braces ("\{" "\}" do not count): returns the position
 * after the brace that brings the depth back to 0 (stop_at_zero), or the
 * end of s; *depth is the depth there, negative after a stray '}'. */
static const char *brace_walk(const char *s, int stop_at_zero, int *depth) {
    *depth = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '\\' && (p[1] == '{' || p[1] == '}')) {
            p++;
            continue;
        }
        if (*p == '{') (*depth)++;
        if (*p == '}' && (--*depth < 0 || (stop_at_zero && *depth == 0))) return p + 1;
    }
    return s + strlen(s);
}

const char *rtext_brace_end(const char *s) {
    int depth;
    const char *e = brace_walk(s, 1, &depth);
    return depth == 0 && e > s && e[-1] == '}' ? e : NULL;
}

int rtext_braces_balanced(const char *s) {
    int depth;
    brace_walk(s, 0, &depth);
    return depth == 0;
}

int rtext_starts(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

int rtext_in_list(const char *w, size_t n, const char *const *list, size_t k) {
    for (size_t i = 0; i < k; i++)
        if (strlen(list[i]) == n && !strncmp(w, list[i], n)) return 1;
    return 0;
}
