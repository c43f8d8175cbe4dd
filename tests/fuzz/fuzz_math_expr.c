/*
 * fuzz_math_expr.c: the math expression parser and evaluator
 * (reward/math_expr.h, its public API only). The input is one expression,
 * or two separated by a 0x01 byte, which are also compared for equality and
 * proportionality.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reward/math_expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *second = memchr(text, 1, size);
    if (second) *second++ = '\0';
    MathExpr a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    int ra = math_expr_parse(&a, text);
    int rb = second ? math_expr_parse(&b, second) : -1;
    double vals[MATH_EXPR_MAX_VARS];
    for (int i = 0; i < MATH_EXPR_MAX_VARS; i++) vals[i] = 0.5 + i;
    if (ra == 0) math_expr_eval(&a, vals);
    if (ra == 0 && rb == 0) {
        math_expr_equal(&a, &b, 1e-6);
        math_expr_proportional(&a, &b, 1e-6);
    }
    math_expr_free(&a);
    math_expr_free(&b);
    free(text);
    return 0;
}
