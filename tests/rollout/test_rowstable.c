/*
 * test_rowstable.c: matmul_forward_rowstable (model/kernels.h), the matmul
 * of rollout's forward, on every instruction set this CPU has (AVX-512,
 * AVX2, plain C): values against a float64 reference, and the property
 * rollout's determinism rests on: a row's result is bit-identical whether
 * it is computed alone, in any slice of a batch, or with 1 or 2 threads.
 * Shapes are odd on purpose (IC not a multiple of 16 or 8, OC not a
 * multiple of the 4-row tile, N across the token blocking).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "model/kernels.h"
#include "test.h"

static void fill(float *x, size_t n, uint32_t key) {
    Rng r;
    rng_init(&r, 5, 0, key, 0);
    for (size_t i = 0; i < n; i++) x[i] = (float)rng_normal(&r);
}

static void check_shape(int isa, int N, int IC, int OC) {
    float *inp = xmalloc((size_t)N * IC * 4), *w = xmalloc((size_t)OC * IC * 4), *bias = xmalloc((size_t)OC * 4);
    float *out = xmalloc((size_t)N * OC * 4), *one = xmalloc((size_t)OC * 4), *acc = xmalloc((size_t)N * OC * 4);
    fill(inp, (size_t)N * IC, 1), fill(w, (size_t)OC * IC, 2), fill(bias, OC, 3), fill(acc, (size_t)N * OC, 4);
    matmul_forward_rowstable(out, OC, inp, IC, w, bias, N, IC, OC, 0);
    double worst = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double ref = bias[o];
            for (int k = 0; k < IC; k++) ref += (double)inp[(size_t)n * IC + k] * w[(size_t)o * IC + k];
            double d = fabs(out[(size_t)n * OC + o] - ref) / sqrt((double)IC);
            worst = d > worst ? d : worst;
        }
    TEST_CHECK(worst < 2e-6, "isa %d N=%d IC=%d OC=%d: max error / sqrt(IC) %.3g vs float64", isa, N, IC, OC, worst);
    int stable = 1;
    for (int n = 0; n < N; n++) {
        matmul_forward_rowstable(one, OC, inp + (size_t)n * IC, IC, w, bias, 1, IC, OC, 0);
        stable &= !memcmp(one, out + (size_t)n * OC, (size_t)OC * 4);
    }
    TEST_CHECK(stable, "isa %d N=%d IC=%d OC=%d: each row alone gives the same bits", isa, N, IC, OC);
    if (N > 4) { /* a slice starting at an odd row */
        float *sl = xmalloc((size_t)N * OC * 4);
        matmul_forward_rowstable(sl, OC, inp + (size_t)3 * IC, IC, w, bias, N - 4, IC, OC, 0);
        TEST_CHECK(!memcmp(sl, out + (size_t)3 * OC, (size_t)(N - 4) * OC * 4), "isa %d: a slice gives the same bits",
                   isa);
        free(sl);
    }
    int nt = omp_get_max_threads();
    float *t1 = xmalloc((size_t)N * OC * 4);
    omp_set_num_threads(1);
    matmul_forward_rowstable(t1, OC, inp, IC, w, bias, N, IC, OC, 0);
    omp_set_num_threads(nt > 1 ? nt : 2);
    TEST_CHECK(!memcmp(t1, out, (size_t)N * OC * 4), "isa %d N=%d: 1 thread gives the same bits", isa, N);
    omp_set_num_threads(nt);
    /* accumulate: out += inp w^T, bias ignored */
    float *acc2 = xmalloc((size_t)N * OC * 4);
    memcpy(acc2, acc, (size_t)N * OC * 4);
    matmul_forward_rowstable(acc, OC, inp, IC, w, bias, N, IC, OC, 1);
    int acc_ok = 1;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            float want = acc2[(size_t)n * OC + o] + (out[(size_t)n * OC + o] - bias[o]);
            acc_ok &= fabsf(acc[(size_t)n * OC + o] - want) <= 1e-4f * (1.0f + fabsf(want));
        }
    TEST_CHECK(acc_ok, "isa %d: accumulate adds the product and ignores the bias", isa);
    free(inp), free(w), free(bias), free(out), free(one), free(acc), free(acc2), free(t1);
}

int main(void) {
    const char *names[3] = {"plain C", "AVX2+FMA", "AVX-512"};
    int ran = 0;
    for (int isa = 0; isa <= 2; isa++) {
        if (matmul_rowstable_force_isa(isa)) {
            printf("%s: not available on this CPU, skipped\n", names[isa]);
            continue;
        }
        TEST_CHECK(matmul_rowstable_isa() == isa, "forced isa %d", isa);
        check_shape(isa, 1, 5, 3);
        check_shape(isa, 13, 37, 10);
        check_shape(isa, 9, 64, 33);
        check_shape(isa, 40, 4100, 6); /* several token blocks */
        printf("%s: checked\n", names[isa]);
        ran++;
    }
    matmul_rowstable_force_isa(-1);
    printf("automatic choice: %s\n", names[matmul_rowstable_isa()]);
    TEST_CHECK(ran >= 1, "at least the plain C path runs");
    return test_summary();
}
