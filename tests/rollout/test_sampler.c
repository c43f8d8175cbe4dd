/*
 * test_sampler.c: the sampler against a known distribution. For each
 * option set, 200,000 draws (fixed seed) are compared with the truncated,
 * renormalised distribution computed here independently (double precision,
 * full sort) by a chi-square test at significance 0.001; tokens outside the
 * kept set must never be drawn. Also: greedy is the exact argmax with ties
 * to the lowest id, the reported log-prob is the raw log-softmax, top-p on
 * a large vocabulary, option checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "rollout/sampler.h"
#include "test.h"

#define V 12
#define DRAWS 200000

/* Upper 0.001 critical values of chi-square with df = 1..11. */
static const double chi2_crit[12] = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88, 29.59, 31.26};

static const double *ref_p; /* for the sort below */
static int by_p_desc(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    if (ref_p[i] != ref_p[j]) return ref_p[i] > ref_p[j] ? -1 : 1;
    return i - j;
}

/* The distribution HF's warpers leave: temperature, top-k, top-p, min-p. */
static void reference(const float *z, const SamplerConfig *c, double *p) {
    double mx = -INFINITY, s = 0;
    for (int i = 0; i < V; i++) mx = z[i] > mx ? z[i] : mx;
    for (int i = 0; i < V; i++) s += p[i] = exp(((double)z[i] - mx) / c->temperature);
    for (int i = 0; i < V; i++) p[i] /= s;
    int order[V];
    for (int i = 0; i < V; i++) order[i] = i;
    ref_p = p;
    qsort(order, V, sizeof(int), by_p_desc);
    if (c->top_k > 0 && c->top_k < V) {
        double kth = p[order[c->top_k - 1]];
        for (int i = 0; i < V; i++)
            if (p[i] < kth) p[i] = 0;
    }
    s = 0;
    for (int i = 0; i < V; i++) s += p[i];
    for (int i = 0; i < V; i++) p[i] /= s;
    if (c->top_p < 1) {
        double before = 0;
        for (int j = 0; j < V; j++) {
            int i = order[j];
            double pi = p[i];
            if (before >= c->top_p) p[i] = 0;
            before += pi;
        }
        s = 0;
        for (int i = 0; i < V; i++) s += p[i];
        for (int i = 0; i < V; i++) p[i] /= s;
    }
    if (c->min_p > 0) {
        double best = 0;
        for (int i = 0; i < V; i++) best = p[i] > best ? p[i] : best;
        for (int i = 0; i < V; i++)
            if (p[i] < c->min_p * best) p[i] = 0;
        s = 0;
        for (int i = 0; i < V; i++) s += p[i];
        for (int i = 0; i < V; i++) p[i] /= s;
    }
}

static void check_case(const char *name, const float *z, SamplerConfig c, uint32_t stream) {
    double p[V];
    reference(z, &c, p);
    Sampler s;
    sampler_init(&s, V);
    Rng r;
    rng_init(&r, 1234, 0, 0, stream);
    long cnt[V] = {0};
    double lse = 0, mx = -INFINITY;
    for (int i = 0; i < V; i++) mx = z[i] > mx ? z[i] : mx;
    for (int i = 0; i < V; i++) lse += exp(z[i] - mx);
    lse = mx + log(lse);
    int bad_lp = 0;
    for (int d = 0; d < DRAWS; d++) {
        float lp;
        int t = sampler_sample(&s, &c, z, &r, &lp, NULL);
        if (t < 0 || t >= V) {
            TEST_CHECK(0, "%s: token %d out of range", name, t);
            break;
        }
        cnt[t]++;
        if (fabs(lp - (z[t] - lse)) > 1e-5) bad_lp++;
    }
    TEST_CHECK(bad_lp == 0, "%s: %d draws reported a log-prob other than the raw log-softmax", name, bad_lp);
    double chi2 = 0;
    int kept = 0, leaked = 0;
    for (int i = 0; i < V; i++) {
        if (p[i] == 0) {
            leaked += cnt[i] != 0;
            continue;
        }
        kept++;
        double e = p[i] * DRAWS;
        chi2 += (cnt[i] - e) * (cnt[i] - e) / e;
    }
    TEST_CHECK(leaked == 0, "%s: %d truncated tokens were drawn", name, leaked);
    int df = kept - 1;
    if (df >= 1) {
        printf("%-28s kept %2d  chi2 %7.2f  (df %d, critical %.2f at 0.001)\n", name, kept, chi2, df, chi2_crit[df]);
        TEST_CHECK(chi2 < chi2_crit[df], "%s: chi2 %.2f >= %.2f (df %d)", name, chi2, chi2_crit[df], df);
    } else {
        printf("%-28s kept %2d  (one token: every draw must be it)\n", name, kept);
    }
    sampler_free(&s);
}

/* A top-p nucleus on a 50,000-token vocabulary (the threshold search and
 * partial sort) must equal the full-sort reference. */
static void check_large_vocab(void) {
    const int NV = 50000;
    float *z = xmalloc(NV * sizeof(float));
    Rng r;
    rng_init(&r, 7, 0, 0, 0);
    for (int i = 0; i < NV; i++) z[i] = (float)(3.0 * rng_normal(&r));
    Sampler s;
    sampler_init(&s, NV);
    float topps[] = {0.5f, 0.9f, 0.999f};
    for (int k = 0; k < 3; k++) {
        SamplerConfig c = {1.0f, 0, topps[k], 0.0f};
        /* reference nucleus */
        double mx = -INFINITY, sum = 0;
        for (int i = 0; i < NV; i++) mx = z[i] > mx ? z[i] : mx;
        double *p = xmalloc(NV * sizeof(double));
        int *order = xmalloc(NV * sizeof(int));
        for (int i = 0; i < NV; i++) sum += p[i] = exp(z[i] - mx);
        for (int i = 0; i < NV; i++) p[i] /= sum, order[i] = i;
        ref_p = p;
        qsort(order, NV, sizeof(int), by_p_desc);
        char *in = xcalloc(NV, 1);
        double before = 0;
        int m = 0;
        for (int j = 0; j < NV && before < topps[k]; j++) in[order[j]] = 1, before += p[order[j]], m++;
        int out = 0;
        for (int d = 0; d < 2000; d++) {
            float lp;
            int t = sampler_sample(&s, &c, z, &r, &lp, NULL);
            out += !in[t];
        }
        printf("top_p %.3f on V=%d: nucleus of %d tokens\n", (double)topps[k], NV, m);
        TEST_CHECK(out == 0, "top_p %g, V=%d: %d draws outside the nucleus of %d", (double)topps[k], NV, out, m);
        free(p), free(order), free(in);
    }
    sampler_free(&s);
    free(z);
}

int main(void) {
    /* probabilities 0.25 0.2 0.15 0.1 0.1 0.06 0.05 0.04 0.02 0.015 0.01 0.005 (a tie at ranks 4-5) */
    const double probs[V] = {0.1, 0.25, 0.04, 0.15, 0.02, 0.1, 0.06, 0.005, 0.2, 0.05, 0.015, 0.01};
    float z[V];
    for (int i = 0; i < V; i++) z[i] = (float)log(probs[i]) + 1.5f;

    check_case("temperature 1", z, (SamplerConfig){1.0f, 0, 1.0f, 0.0f}, 0);
    check_case("temperature 0.5", z, (SamplerConfig){0.5f, 0, 1.0f, 0.0f}, 1);
    check_case("temperature 2", z, (SamplerConfig){2.0f, 0, 1.0f, 0.0f}, 2);
    check_case("top_k 3", z, (SamplerConfig){1.0f, 3, 1.0f, 0.0f}, 3);
    check_case("top_k 4 (tie kept: 5 left)", z, (SamplerConfig){1.0f, 4, 1.0f, 0.0f}, 4);
    check_case("top_k 1", z, (SamplerConfig){1.0f, 1, 1.0f, 0.0f}, 5);
    check_case("top_p 0.5", z, (SamplerConfig){1.0f, 0, 0.5f, 0.0f}, 6);
    check_case("top_p 0.9", z, (SamplerConfig){1.0f, 0, 0.9f, 0.0f}, 7);
    check_case("top_p 0.65 (cuts a tie)", z, (SamplerConfig){1.0f, 0, 0.65f, 0.0f}, 8);
    check_case("top_p 0.1 (best only)", z, (SamplerConfig){1.0f, 0, 0.1f, 0.0f}, 9);
    check_case("min_p 0.22", z, (SamplerConfig){1.0f, 0, 1.0f, 0.22f}, 10);
    check_case("min_p 0.05", z, (SamplerConfig){1.0f, 0, 1.0f, 0.05f}, 11);
    check_case("T 0.7 top_k 6 top_p 0.8 min_p 0.1", z, (SamplerConfig){0.7f, 6, 0.8f, 0.1f}, 12);
    check_case("T 1.5 top_k 8 top_p 0.95", z, (SamplerConfig){1.5f, 8, 0.95f, 0.0f}, 13);
    check_case("T 1.3 top_p 0.7 min_p 0.3", z, (SamplerConfig){1.3f, 0, 0.7f, 0.3f}, 14);

    /* The reference itself: spot values that a wrong order would change. */
    double p[V];
    reference(z, &(SamplerConfig){1.0f, 4, 1.0f, 0.0f}, p);
    TEST_CHECK(p[0] > 0 && p[5] > 0 && p[6] == 0, "reference top_k keeps both tied 0.1 tokens");
    reference(z, &(SamplerConfig){1.0f, 0, 0.65f, 0.0f}, p);
    TEST_CHECK(p[1] > 0 && p[8] > 0 && p[3] > 0 && p[0] > 0 && p[5] == 0,
               "reference top_p 0.65 keeps 0.25 0.2 0.15 and the lower id of the tied 0.1s");

    /* Greedy: exact argmax, ties to the lowest id, no RNG draw. */
    Sampler s;
    sampler_init(&s, V);
    float zt[V];
    for (int i = 0; i < V; i++) zt[i] = 0.5f;
    zt[7] = zt[3] = 2.0f;
    Rng r, r0;
    rng_init(&r, 1, 0, 0, 0);
    r0 = r;
    float lp;
    SamplerConfig greedy = {0.0f, 5, 0.5f, 0.5f};
    int t = sampler_sample(&s, &greedy, zt, &r, &lp, NULL);
    TEST_CHECK(t == 3, "greedy tie goes to the lowest id: got %d", t);
    double lse = 0;
    for (int i = 0; i < V; i++) lse += exp(zt[i] - 2.0);
    TEST_CLOSE(lp, -log(lse), 1e-6, "greedy log-prob");
    TEST_CHECK(!memcmp(&r, &r0, sizeof(r)), "greedy draws nothing from the RNG");

    /* Same stream, same draws. */
    Rng a, b;
    rng_init(&a, 99, 3, 5, 7);
    rng_init(&b, 99, 3, 5, 7);
    SamplerConfig c = {0.9f, 0, 0.95f, 0.0f};
    int same = 1;
    for (int d = 0; d < 1000; d++) {
        float l1, l2;
        same &= sampler_sample(&s, &c, z, &a, &l1, NULL) == sampler_sample(&s, &c, z, &b, &l2, NULL);
    }
    TEST_CHECK(same, "the same stream gives the same tokens");
    sampler_free(&s);

    check_large_vocab();

    /* Option checks. */
    SamplerConfig badc[] = {{-1.0f, 0, 1.0f, 0.0f}, {NAN, 0, 1.0f, 0.0f}, {1.0f, -1, 1.0f, 0.0f},
                            {1.0f, 0, 0.0f, 0.0f},  {1.0f, 0, 1.5f, 0.0f}, {1.0f, 0, 1.0f, 1.5f}};
    const char *want[] = {"temperature", "temperature", "top_k", "top_p", "top_p", "min_p"};
    for (int i = 0; i < 6; i++) {
        int rc = sampler_config_check(&badc[i], "test");
        TEST_CHECK(rc == -1 && strstr(err_msg(), want[i]), "bad option %d: rc %d, message '%s'", i, rc, err_msg());
    }
    TEST_CHECK(sampler_config_check(&(SamplerConfig){0.0f, 0, 1.0f, 0.0f}, "test") == 0, "greedy config is valid");
    return test_summary();
}
