/*
 * math_rules.h: internals shared by the files of the math grader:
 * math_norm.c (normal form), math_grade.c (lists, brackets, values),
 * math_relation.c (equations, inequalities, assignments) and math_matrix.c.
 * Not a public API (use math_grade.h); nothing outside those files includes it.
 *
 * Every rule works on normal forms (math_normalize) and compares a gold answer
 * g with a predicted answer p. The rules are not symmetric, as in
 * Math-Verify: "x = 5" as gold accepts "5", and "5" as gold accepts "x = 5",
 * but "x = 5" as gold rejects "y = 5" in strict mode.
 */
#ifndef GRPO_MATH_RULES_H
#define GRPO_MATH_RULES_H

#include <stddef.h>

#include "common/strbuf.h"

/* The state of one comparison. */
typedef struct {
    double tol;    /* relative tolerance of numbers and symbolic checks */
    int strict;    /* left sides of two assignments must agree */
    int budget;    /* rule applications left: bounds the work on adversarial nesting */
    char why[160]; /* the rule that decided (explanations) */
} MathCtx;

/* Records the deciding rule (printf-style) in c->why. */
void mctx_why(MathCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- lists and brackets (math_grade.c) ---- */

#define MATH_MAX_PARTS 32

typedef struct {
    char *part[MATH_MAX_PARTS];
    int n;
} Parts;

void parts_free(Parts *p);

/* Splits s at top-level ",", ";", " or ", " and ", "\cup" and expands one
 * "\pm"/"\mp" per part into two parts. Returns the number of parts (0 when
 * there are more than MATH_MAX_PARTS or a part is empty). */
int split_top(const char *s, Parts *out);

/* 1 if p starts an opening / closing bracket: ( [ { \{ and ) ] } \}. */
int math_is_open(const char *p);
int math_is_close(const char *p);

/* Steps over the bracket at p (if any), updating *depth; returns the length
 * to skip: 2 for "\{" and "\}", else 1. */
size_t math_bracket(const char *p, int *depth);

/* The whole rule set: 1 if pred p equals gold g (normal forms). depth
 * bounds the recursion. */
int mg_equal(const char *g, const char *p, MathCtx *c, int depth);

/* g and p as numbers or expressions (with the percent rule). */
int mg_value(const char *g, const char *p, MathCtx *c);

/* 1 if the expression parser reads s ("%" ignored). */
int mg_expr_reads(const char *s);

/* ---- relations (math_relation.c) ---- */

typedef enum { REL_EQ = 1, REL_LT, REL_LE, REL_GT, REL_GE, REL_NE, REL_IN, REL_APPROX } RelOp;

#define REL_MAX_SIDES 8

/* A chain of relations side[0] op[0] side[1] op[1] ... at the top level of
 * an answer, with "\approx" resolved as Math-Verify does ("x \approx 3" is
 * 3, "1/3 \approx 0.33" is 1/3). */
typedef struct {
    int n;                            /* sides; 0 or 1: not a relation */
    char *side[REL_MAX_SIDES];
    RelOp op[REL_MAX_SIDES - 1];
    int is_equation;                  /* every op is "=" or "\in" */
    int is_assignment;                /* an equation whose first side is made of symbols */
} Rel;

/* Reads the top-level relations of s. Returns the number of sides (0 when
 * there is no relation; -1 when there are too many). Free with rel_free. */
int rel_read(const char *s, Rel *r);
void rel_free(Rel *r);

/* 1 if s is made of symbols only ("x", "AB", "|AB|", "(p, q)", "f(x)",
 * "A:B", "x + y"): the left side of an assignment. */
int rel_symbolic(const char *s);

/* Both relations (gold g, pred p): assignments by sides, equations up to a
 * non-zero factor, inequalities up to moving terms and flipping. */
int rel_equal(const Rel *g, const Rel *p, MathCtx *c, int depth);

/* The set a gold inequality in one variable stands for ("0 < x \le 1" ->
 * "(0, 1]", "x \ne 2" -> "(-\infty, 2) \cup (2, \infty)"), xmalloc'd; NULL
 * when it is not one. */
char *rel_as_set(const Rel *g);

/* ---- matrices (math_matrix.c) ---- */

/* 1 if s holds a matrix environment (pmatrix, bmatrix, array, ...). */
int matrix_in(const char *s);

/* g and p as matrix expressions (sums and products of matrices and
 * scalars), entry by entry. */
int matrix_equal(const char *g, const char *p, MathCtx *c);

/* 1 if s reads as a matrix expression with readable entries. */
int matrix_reads(const char *s);

#endif
