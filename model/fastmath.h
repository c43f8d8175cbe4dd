/*
 * fastmath.h: an exp that compilers can vectorise, for the softmax, entropy
 * and SiLU loops. libm's expf is a function call per element (GCC only uses
 * glibc's vector expf under -ffast-math, which grpo.c never uses), and those
 * loops run over every score of attention and every vocabulary entry.
 * Not for: anything that needs correctly rounded results.
 *
 * exp(x) = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 (ln 2 split
 * in two parts, Cody & Waite 1980, so r is exact to float precision), and
 * e^r from its Taylor series to degree 7 on |r| <= ln(2)/2 (truncation error
 * below 1.6e-8 relative). Measured against libm over [-87, 88]: at most 1 ulp
 * (tests/model/test_fastmath.c, which allows 2). Inputs below -87.3 (and -inf) give 0, above
 * 88.0 give +inf (a little early: exp(88.72) is the largest float); NaN
 * gives NaN.
 */
#ifndef GRPO_FASTMATH_H
#define GRPO_FASTMATH_H

#include <stdint.h>
#include <string.h>

static inline float fast_expf(float x) {
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693145751953125f;      /* ln 2 to 16 bits: n * ln2_hi is exact */
    const float ln2_lo = 1.42860682030941723e-6f; /* ln 2 - ln2_hi */
    const float round_magic = 12582912.0f;        /* 1.5 * 2^23: adding it rounds to an integer */
    float xc = x < -87.33f ? -87.33f : (x > 88.0f ? 88.0f : x);
    xc = x == x ? xc : 0.0f; /* NaN: compute anything finite, return x below */
    float t = xc * log2e + round_magic;
    float n = t - round_magic;
    float r = xc - n * ln2_hi;
    r = r - n * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* n in [-126, 127] */
    float scale;
    memcpy(&scale, &bits, sizeof(scale));
    float y = p * scale;
    y = x < -87.33f ? 0.0f : y;
    y = x > 88.0f ? __builtin_inff() : y;
    return x != x ? x : y;
}

#endif
