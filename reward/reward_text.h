/*
 * reward_text.h: small text helpers the reward functions share: finding tags
 * and markers, copying slices, counting words by Unicode script.
 * Not for: answer equivalence (math_grade.h) or anything that needs a tokenizer.
 */
#ifndef GRPO_REWARD_TEXT_H
#define GRPO_REWARD_TEXT_H

#include <stddef.h>

/* A NUL-terminated xmalloc'd copy of s[0..n). */
char *rtext_ndup(const char *s, size_t n);

/* The concatenation of the strings given, up to a NULL, as an xmalloc'd
 * string: rtext_cat("(", a, ")-(", b, ")", NULL). */
char *rtext_cat(const char *first, ...);

/* The start of the last occurrence of needle in s, or NULL. needle non-empty. */
const char *rtext_rfind(const char *s, const char *needle);

/* The start of the last occurrence of needle inside s[0..len), or NULL. */
const char *rtext_rfind_in(const char *s, size_t len, const char *needle);

/* Like rtext_rfind, ASCII case-insensitive. */
const char *rtext_rfind_nocase(const char *s, const char *needle);

/* Number of non-overlapping occurrences of needle (non-empty) in s. */
size_t rtext_count(const char *s, const char *needle);

/* The contents of the last complete <tag>...</tag> pair of s (the last
 * "</tag>" and the last "<tag>" before it), as an xmalloc'd copy; NULL when
 * there is none. tag is the bare name, e.g. "answer". */
char *rtext_last_tag(const char *s, const char *tag);

/* Copy of s without leading and trailing ASCII whitespace (xmalloc'd). */
char *rtext_trim_dup(const char *s);

/* Pointers to the first non-space byte and one past the last one of s[0..n). */
void rtext_trim(const char **b, const char **e);

/* Position just after the brace group opened at s[0] == '{' (escaped
 * braces "\{" "\}" do not count), or NULL if it is not closed. */
const char *rtext_brace_end(const char *s);

/* 1 if every '{' of s is closed and no '}' comes unopened ("\{" "\}" do
 * not count). */
int rtext_braces_balanced(const char *s);

/* 1 if s begins with prefix. */
int rtext_starts(const char *s, const char *prefix);

/* 1 if w[0..n) is one of the k words of list. */
int rtext_in_list(const char *w, size_t n, const char *const *list, size_t k);
#define RTEXT_IN_LIST(w, n, list) rtext_in_list((w), (n), (list), sizeof(list) / sizeof((list)[0]))

/* Number of Unicode code points in s (invalid bytes count one each). */
size_t rtext_codepoints(const char *s);

#endif
