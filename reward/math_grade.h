/*
 * math_grade.h: the math answer grader behind the math_accuracy and length
 * (cosine) rewards: the normal form of LaTeX/plain answers and the
 * equivalence rules (numbers, fractions, percentages, units, tuples,
 * intervals, sets, matrices, equations, assignments, inequalities, multiple
 * choice, symbolic expressions), following HuggingFace Math-Verify's
 * verdicts. docs/rewards.md lists every rule with examples.
 * Not for: finding the answer in a completion (math_extract.h), parsing
 * expressions (math_expr.h) or reading the config (math_accuracy.h).
 *
 * All functions are pure and thread-safe. Nothing here fails on bad input:
 * an answer that cannot be read simply does not match.
 */
#ifndef GRPO_MATH_GRADE_H
#define GRPO_MATH_GRADE_H

#include <stddef.h>

/* Longer answers (bytes, before or after normalisation) are never equal to
 * anything: a final answer is short, and this bounds the time of the
 * quadratic steps. */
#define MATH_MAX_ANSWER 4096

/* How strictly answers are compared. */
typedef struct {
    double tol; /* 0: Math-Verify's comparison of numbers; > 0: numbers within this relative
                   tolerance are equal too (the symbolic check uses max(tol, 1e-9)) */
    int strict; /* 1: "x = 1" is not "y = 1" (Math-Verify's strict mode) */
} MathRules;

/* The normal form the rules compare ($...$, \left/\right, spacing, \text{}
 * units, unicode minus and friends, "1{,}000" and "11,\!111", "\\frac",
 * "28 percent" handled). xmalloc'd. */
char *math_normalize(const char *s);

/* 1 if the normal form could be an answer: not empty, braces balanced, not
 * ending in an operator (extraction skips a candidate that is not). */
int math_readable(const char *norm);

/* 1 if the rules can read every part of the normal form (a number,
 * expression, tuple, set, interval, matrix, relation, word or letter). */
int math_parses(const char *norm);

/* 1 if pred equals gold under the rules (both normal forms), else 0. If why
 * is not NULL it receives the rule that decided ("numbers equal", "tuple:
 * element 2 differs", ...), cut to why_cap bytes. */
int math_verify(const char *gold, const char *pred, const MathRules *r, char *why, size_t why_cap);

/* math_verify(truth, answer) on two raw answers (normalised here), strict,
 * tolerance tol. */
int math_equal(const char *answer, const char *truth, double tol);

#endif
