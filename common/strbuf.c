/*
 * strbuf.c: the growable byte buffer (strbuf.h).
 */
#include "strbuf.h"

#include <string.h>

#include "common.h"

size_t strbuf_add(StrBuf *b, const void *data, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    size_t off = b->n;
    if (n) memcpy(b->p + off, data, n);
    b->n += n;
    b->p[b->n] = '\0';
    return off;
}

void strbuf_cat(StrBuf *b, const char *s) { strbuf_add(b, s, strlen(s)); }
