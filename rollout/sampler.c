/*
 * sampler.c: next-token selection from a logits row (sampler.h): one pass
 * for the temperature-1 log-sum-exp, one for the tempered weights, a
 * bounded heap for top-k, a histogram over the weights' float bits for the
 * top-p boundary (no sort of the vocabulary), then one inverse-CDF draw in
 * id order. Every sum runs in a fixed order, so a draw depends only on the
 * logits and the stream.
 * Not for: the LM head or batching (rollout.c).
 */
#include "sampler.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

int sampler_config_check(const SamplerConfig *c, const char *what) {
    if (!(c->temperature >= 0.0f) || !isfinite(c->temperature))
        return ERR("%s: temperature must be >= 0 (0 = greedy), got %g", what, (double)c->temperature);
    if (c->top_k < 0) return ERR("%s: top_k must be >= 0 (0 = off), got %d", what, c->top_k);
    if (!(c->top_p > 0.0f && c->top_p <= 1.0f))
        return ERR("%s: top_p must be in (0, 1] (1 = off), got %g", what, (double)c->top_p);
    if (!(c->min_p >= 0.0f && c->min_p <= 1.0f))
        return ERR("%s: min_p must be in [0, 1] (0 = off), got %g", what, (double)c->min_p);
    return 0;
}

/* Top-p buckets: a positive float's bits >> 19 (exponent and the top 4
 * mantissa bits) order it; weights lie in (0, 1], so keys are below 2^12. */
#define NB_SHIFT 19
#define NB_BUCKETS (1 << 12)

void sampler_init(Sampler *s, int V) {
    s->V = V;
    s->w = xalloc_aligned((size_t)V * sizeof(float));
    s->sel = xalloc_aligned((size_t)V * sizeof(float));
    s->idx = xmalloc((size_t)V * sizeof(int));
    s->bucket_mass = xcalloc(NB_BUCKETS, sizeof(double));
}

void sampler_free(Sampler *s) {
    free(s->w);
    free(s->sel);
    free(s->idx);
    free(s->bucket_mass);
    memset(s, 0, sizeof(*s));
}

/* The k-th largest of w[0..V) (1 <= k < V), via a min-heap of size k in h. */
static float kth_largest(const float *w, int V, int k, float *h) {
    int n = 0;
    for (int i = 0; i < V; i++) {
        float x = w[i];
        if (n < k) {
            int j = n++; /* sift up */
            while (j > 0 && h[(j - 1) / 2] > x) {
                h[j] = h[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            h[j] = x;
        } else if (x > h[0]) {
            int j = 0; /* replace the root, sift down */
            for (;;) {
                int c = 2 * j + 1;
                if (c >= k) break;
                if (c + 1 < k && h[c + 1] < h[c]) c++;
                if (h[c] >= x) break;
                h[j] = h[c];
                j = c;
            }
            h[j] = x;
        }
    }
    return h[0];
}

static inline uint32_t wkey(float w) {
    uint32_t b;
    memcpy(&b, &w, 4);
    return b >> NB_SHIFT;
}

/* Order for the tokens of the boundary bucket: weight descending, then id
 * ascending (a total order, so the nucleus is well defined under ties). */
static _Thread_local const float *tl_w; /* qsort has no context argument */
static int by_weight_desc(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    if (tl_w[i] != tl_w[j]) return tl_w[i] > tl_w[j] ? -1 : 1;
    return (i > j) - (i < j);
}

/* The nucleus of the tokens with w >= thr (and w > 0): in the order above,
 * a token is kept iff the mass ranked before it is < top_p x their mass.
 * Returns it as a boundary: kept iff w > *wstar, or w == *wstar and
 * id < *tie_end. One pass builds a mass histogram over weight buckets
 * (ordered like the weights); only the bucket holding the boundary is
 * sorted. */
static void nucleus(Sampler *s, float thr, float top_p, float *wstar, int *tie_end) {
    const int V = s->V;
    const float *w = s->w;
    double *bm = s->bucket_mass; /* all zero on entry */
    double mass = 0.0;
    const int khi = (int)wkey(1.0f); /* weights are <= 1 */
    int klo = khi;
    for (int i = 0; i < V; i++)
        if (w[i] >= thr && w[i] > 0.0f) {
            int k = (int)wkey(w[i]);
            bm[k] += w[i];
            klo = k < klo ? k : klo;
        }
    for (int k = klo; k <= khi; k++) mass += bm[k];
    const double target = (double)top_p * mass;
    double before = 0.0;
    int kb = khi;
    for (; kb > klo; kb--) {
        if (bm[kb] > 0.0 && before + bm[kb] >= target) break;
        before += bm[kb];
    }
    int n = 0;
    for (int i = 0; i < V; i++)
        if (w[i] >= thr && w[i] > 0.0f && (int)wkey(w[i]) == kb) s->idx[n++] = i;
    memset(bm + klo, 0, (size_t)(khi + 1 - klo) * sizeof(double));
    if (n == 0) { /* only by rounding: keep every candidate */
        *wstar = 0.0f;
        *tie_end = V;
        return;
    }
    tl_w = w;
    qsort(s->idx, (size_t)n, sizeof(int), by_weight_desc);
    int last = s->idx[0];
    for (int j = 0; j < n && (j == 0 || before < target); j++) {
        last = s->idx[j];
        before += w[last];
    }
    *wstar = w[last];
    *tie_end = last + 1;
}

int sampler_sample(Sampler *s, const SamplerConfig *c, const float *z, Rng *rng, float *logp, float *logp_t) {
    const int V = s->V;
    float mx = -INFINITY;
    int am = 0;
    for (int i = 0; i < V; i++)
        if (z[i] > mx) { /* strict: the lowest id wins ties; NaN never wins */
            mx = z[i];
            am = i;
        }
    float *w = s->w;
    const float T = c->temperature;
    /* sum of exp(z - max) at temperature 1, four fixed partial sums */
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int i = 0;
    if (T == 1.0f) {
        for (; i + 4 <= V; i += 4) {
            a0 += w[i] = expf(z[i] - mx);
            a1 += w[i + 1] = expf(z[i + 1] - mx);
            a2 += w[i + 2] = expf(z[i + 2] - mx);
            a3 += w[i + 3] = expf(z[i + 3] - mx);
        }
        for (; i < V; i++) a0 += w[i] = expf(z[i] - mx);
    } else {
        for (; i + 4 <= V; i += 4) {
            a0 += expf(z[i] - mx);
            a1 += expf(z[i + 1] - mx);
            a2 += expf(z[i + 2] - mx);
            a3 += expf(z[i + 3] - mx);
        }
        for (; i < V; i++) a0 += expf(z[i] - mx);
    }
    const float lse = mx + (float)log((a0 + a1) + (a2 + a3));
    if (T <= 0.0f) {
        *logp = z[am] - lse;
        if (logp_t) *logp_t = *logp;
        return am;
    }
    float lse_t = 0.0f; /* log sum exp((z - max) / T), all tokens */
    if (T != 1.0f) {
        const float inv = 1.0f / T;
        double b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        for (i = 0; i + 4 <= V; i += 4) {
            b0 += w[i] = expf((z[i] - mx) * inv);
            b1 += w[i + 1] = expf((z[i + 1] - mx) * inv);
            b2 += w[i + 2] = expf((z[i + 2] - mx) * inv);
            b3 += w[i + 3] = expf((z[i + 3] - mx) * inv);
        }
        for (; i < V; i++) b0 += w[i] = expf((z[i] - mx) * inv);
        lse_t = (float)log((b0 + b1) + (b2 + b3));
    }
    for (i = 0; i < V; i++)
        if (!(w[i] >= 0.0f)) w[i] = 0.0f; /* NaN logits are never drawn */
    /* w[am] == 1 exactly: every threshold below is relative to the best. */
    float thr = 0.0f;
    if (c->top_k > 0 && c->top_k < V) thr = kth_largest(w, V, c->top_k, s->sel);
    /* Kept: w >= thr, w > 0 and, with top-p, inside the nucleus (w > wstar,
     * or w == wstar and id < tie_end). */
    float wstar = -1.0f;
    int tie_end = 0;
    if (c->top_p < 1.0f) nucleus(s, thr, c->top_p, &wstar, &tie_end);
    if (c->min_p > thr) thr = c->min_p; /* min-p last; w_max == 1 always stays */
#define KEPT(i) (w[i] >= thr && w[i] > 0.0f && (w[i] > wstar || (w[i] == wstar && (i) < tie_end)))
    double t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (i = 0; i + 4 <= V; i += 4) {
        if (KEPT(i)) t0 += w[i];
        if (KEPT(i + 1)) t1 += w[i + 1];
        if (KEPT(i + 2)) t2 += w[i + 2];
        if (KEPT(i + 3)) t3 += w[i + 3];
    }
    for (; i < V; i++)
        if (KEPT(i)) t0 += w[i];
    double u = rng_uniform_double(rng) * ((t0 + t1) + (t2 + t3)), acc = 0.0;
    int tok = am;
    for (i = 0; i < V; i++) {
        if (!KEPT(i)) continue;
        acc += w[i];
        tok = i; /* on round-off, the last kept token */
        if (u < acc) break;
    }
#undef KEPT
    *logp = z[tok] - lse;
    if (logp_t) *logp_t = T == 1.0f ? *logp : (z[tok] - mx) / T - lse_t;
    return tok;
}
