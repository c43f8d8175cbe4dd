/*
 * utf8.h: UTF-8 validity, for output that must be valid UTF-8 (JSON lines)
 * while model text may hold any bytes.
 * Not for: decoding to code points in hot loops (the tokenizer keeps its
 * own inline decoder, model/tokenizer/tokenizer_internal.h).
 */
#ifndef GRPO_UTF8_H
#define GRPO_UTF8_H

#include <stddef.h>

/* The length (1-4) of the well-formed UTF-8 sequence at s (n bytes
 * available): no overlong forms, surrogates or code points above
 * U+10FFFF. 0 if the bytes at s are not one. */
size_t utf8_valid_len(const unsigned char *s, size_t n);

/* A NUL-terminated copy of n bytes that is valid UTF-8 and holds no NUL:
 * every byte that does not start a well-formed sequence, and every NUL,
 * becomes U+FFFD (for JSON output of model text). Caller frees. */
char *utf8_sanitize(const char *s, size_t n);

#endif
