/*
 * math_expr.h: a small parser and evaluator for the LaTeX/ASCII math a model
 * writes as a final answer ("2\sqrt{3}", "\frac{x+1}{2}", "3x^2 - sin(x)"),
 * and a numeric test of whether two expressions are equal: both are evaluated
 * at several pseudo-random points (fixed seed, common/rng.h) and must agree
 * within a relative tolerance.
 * Not for: answer extraction, tuples/sets/equations (math_grade.c), exact or
 * complex arithmetic (i is an ordinary variable).
 *
 * Grammar (implicit multiplication binds like '*', left to right):
 *   sum   := term (('+'|'-') term)*
 *   term  := unary (('*'|'/'|':'|\cdot|\times|\div) unary | <implicit> power)*
 *   unary := ('+'|'-') unary | power
 *   power := postfix ('^' unary-exponent)?         right-associative
 *   postfix := primary ('!' | '%')*
 *   primary := number | variable | \pi | e | \infty | (sum) | {sum} | [sum]
 *            | |sum| | \frac{a}{b} | \sqrt[n]{x} | \binom{n}{k} | func arg
 * Functions: sin cos tan sec csc cot arcsin arccos arctan sinh cosh tanh exp
 * ln log (base 10; \log_b x in base b) sqrt abs; \sin^2 x is (sin x)^2 and
 * \sin^{-1} x is arcsin x. A mixed number "3\frac{1}{2}" is 3 + 1/2.
 */
#ifndef GRPO_MATH_EXPR_H
#define GRPO_MATH_EXPR_H

#include <stddef.h>

#define MATH_EXPR_MAX_VARS 16

typedef struct {
    int op;      /* node kind (math_expr.c) */
    int a, b;    /* child node indices, -1 if unused */
    double num;  /* literal value; function id for calls */
    int lit_int; /* 1 for an unsigned integer literal written as digits */
    int lit_dec; /* 1 for a literal written with a decimal point or exponent */
} MathNode;

typedef struct {
    MathNode *nodes; /* the tree, children before parents */
    int n, cap;
    int root;
    char vars[MATH_EXPR_MAX_VARS][32]; /* variable names, e.g. "x", "a_1", "\alpha" */
    int n_vars;
} MathExpr;

/* Parses s (already normalised: see math_grade.c) into e. Returns 0, or -1
 * when s is not an expression this grammar reads (no ERR message: callers
 * treat it as "no match"). e must be freed with math_expr_free either way. */
int math_expr_parse(MathExpr *e, const char *s);

/* Releases e's nodes (a zeroed or failed e is fine). */
void math_expr_free(MathExpr *e);

/* Value of e with variable i set to vals[i] (vals may be NULL when e has no
 * variables). NaN or inf where the expression is undefined or overflows. */
double math_expr_eval(const MathExpr *e, const double *vals);

/* 1 if e is one decimal literal ("0.25", "-1.5", "12.5%"): Math-Verify
 * compares such a Float rounded to 6 decimals. */
int math_expr_decimal(const MathExpr *e);

/* 1 if |a - b| <= tol * max(|a|, |b|) + 1e-12, or both are the same infinity. */
int math_close(double a, double b, double tol);

/* 1 if a and b agree as functions of their variables (matched by name): on
 * at least 3 of 12 pseudo-random points where both are finite, and at all
 * such points, within tol. Constant expressions are compared once. */
int math_expr_equal(const MathExpr *a, const MathExpr *b, double tol);

/* 1 if a = k * b for one constant k != 0 (same test as math_expr_equal, on
 * the ratio). Used for equations: "2x - 4 = 0" and "x = 2". */
int math_expr_proportional(const MathExpr *a, const MathExpr *b, double tol);

#endif
