/*
 * math_grade.h: the math answer grader behind the math_accuracy and length
 * (cosine) rewards: final-answer extraction from a completion, normalisation
 * of LaTeX/plain answers, and the equivalence rules (numbers, fractions,
 * percentages, units, tuples, sets, intervals, equations, multiple choice,
 * symbolic expressions). docs/rewards.md lists every rule with examples.
 * Not for: parsing expressions (math_expr.h) or reading the config.
 *
 * All functions are pure and thread-safe. Nothing here fails on bad input:
 * an answer that cannot be read simply does not match.
 */
#ifndef GRPO_MATH_GRADE_H
#define GRPO_MATH_GRADE_H

#include <stddef.h>

/* Where a final answer may be found in a completion. */
typedef enum {
    MATH_SRC_BOXED = 0,  /* the last \boxed{...} or \fbox{...} */
    MATH_SRC_ANSWER_TAG, /* the last <answer>...</answer> (a \boxed inside wins) */
    MATH_SRC_ANSWER_IS,  /* after the last "answer is" / "answer:", to the end of the sentence */
    MATH_SRC_GSM8K,      /* after the last "####", to the end of the line */
    MATH_SRC_LAST_NUMBER,/* the last number in the text (opt-in fallback) */
    MATH_SRC_COUNT
} MathSource;

/* "boxed", "answer_tag", "answer_is", "gsm8k", "last_number". */
const char *math_source_name(MathSource s);

/* The source called name; -1 if there is none. */
int math_source_from_name(const char *name);

/* The final answer of text, trying the sources in order; the first that
 * finds one wins and is stored in *used (may be NULL). Returns an xmalloc'd
 * string, or NULL when no source found an answer. */
char *math_extract(const char *text, const MathSource *order, size_t n, MathSource *used);

/* The comparable part of a ground truth: the last \boxed{} if it has one
 * (MATH solutions), the text after "####" if it has one (GSM8K solutions),
 * else the whole text. xmalloc'd. */
char *math_truth(const char *truth);

/* The normal form the rules compare (spacing, \left/\right, \text{},
 * units, $...$, Unicode minus and friends removed). xmalloc'd. */
char *math_normalize(const char *s);

/* 1 if the extracted answer equals the ground truth under the rules, else 0.
 * tol is the relative tolerance for numbers and for symbolic comparison
 * (e.g. 1e-6). Either longer than 4096 bytes: 0. */
int math_equal(const char *answer, const char *truth, double tol);

#endif
