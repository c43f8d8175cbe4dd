/*
 * strbuf.h: a growable byte buffer that is always NUL-terminated, for
 * building strings and byte sequences piece by piece.
 * Not for: binary formats that need alignment (allocate those directly).
 *
 *     StrBuf b = {0};
 *     strbuf_cat(&b, "id=");
 *     strbuf_add(&b, bytes, n);   // may contain NULs
 *     use(b.p, b.n);
 *     free(b.p);                  // the caller owns b.p
 */
#ifndef GRPO_STRBUF_H
#define GRPO_STRBUF_H

#include <stddef.h>

typedef struct {
    char *p;    /* NUL-terminated once anything was added (NULL before) */
    size_t n;   /* bytes in use, not counting the NUL */
    size_t cap; /* bytes allocated */
} StrBuf;

/* Appends n bytes (growing by doubling; out of memory is fatal) and returns
 * the offset at which they start. */
size_t strbuf_add(StrBuf *b, const void *data, size_t n);
/* Appends a NUL-terminated string. */
void strbuf_cat(StrBuf *b, const char *s);

#endif
