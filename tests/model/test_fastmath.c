/*
 * test_fastmath.c: fast_expf against libm's expf (correctly rounded to
 * within 1 ulp in glibc) over the whole finite range, by ulp distance; and
 * its edge cases (underflow to 0, -inf, overflow, NaN).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "model/fastmath.h"
#include "test.h"

static int64_t ulps(float a, float b) {
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0) ia = (int32_t)0x80000000 - ia;
    if (ib < 0) ib = (int32_t)0x80000000 - ib;
    return ia > ib ? (int64_t)ia - ib : (int64_t)ib - ia;
}

int main(void) {
    int64_t worst = 0;
    float worst_x = 0;
    for (int i = 0; i <= 2000000; i++) {
        float x = -87.0f + 175.0f * (float)i / 2000000.0f;
        int64_t u = ulps(fast_expf(x), expf(x));
        if (u > worst) worst = u, worst_x = x;
    }
    printf("fast_expf: max %lld ulp from expf over [-87, 88] (at x = %.7g)\n", (long long)worst, worst_x);
    TEST_CHECK(worst <= 2, "max ulp error %lld at x = %.9g", (long long)worst, worst_x);
    TEST_CHECK(fast_expf(0.0f) == 1.0f, "exp(0) = %.9g", fast_expf(0.0f));
    TEST_CHECK(fast_expf(-INFINITY) == 0.0f, "exp(-inf)");
    TEST_CHECK(fast_expf(-100.0f) == 0.0f, "exp(-100) underflows to 0");
    TEST_CHECK(isinf(fast_expf(100.0f)) && isinf(fast_expf(INFINITY)), "overflow gives inf");
    TEST_CHECK(isnan(fast_expf(NAN)), "NaN stays NaN");
    TEST_CHECK(fast_expf(-87.0f) > 0.0f && isnormal(fast_expf(-87.0f)), "exp(-87) is a normal float");
    return test_summary();
}
