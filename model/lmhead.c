/*
 * lmhead.c: chunked log-prob / entropy LM head and its gradient (lmhead.h).
 * Rows that need nothing (no target and no entropy, or zero weights) are not
 * gathered, so prompt tokens in a GRPO batch cost no vocab-sized work.
 */
#include "lmhead.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fastmath.h"

size_t lmhead_chunk_rows(int V, size_t budget_bytes) {
    if (budget_bytes == 0) budget_bytes = (size_t)32 << 20;
    size_t rows = budget_bytes / ((size_t)(V > 0 ? V : 1) * sizeof(float));
    if (rows < 8) rows = 8;
    if (rows > 4096) rows = 4096;
    return rows;
}

int lmhead_init(LMHead *lm, int C, int V, size_t budget_bytes) {
    size_t rows = lmhead_chunk_rows(V, budget_bytes);
    lm->C = C;
    lm->V = V;
    lm->chunk_rows = (int)rows;
    lm->hbuf = try_alloc_aligned(rows * (size_t)C * sizeof(float));
    lm->dhbuf = try_alloc_aligned(rows * (size_t)C * sizeof(float));
    lm->logits = try_alloc_aligned(rows * (size_t)V * sizeof(float));
    lm->idx = try_alloc_aligned(rows * sizeof(int));
    if (!lm->hbuf || !lm->dhbuf || !lm->logits || !lm->idx) {
        lmhead_free(lm);
        return ERR("LM head: cannot allocate %zu rows of %d logits", rows, V);
    }
    return 0;
}

void lmhead_free(LMHead *lm) {
    free(lm->hbuf);
    free(lm->dhbuf);
    free(lm->logits);
    free(lm->idx);
    memset(lm, 0, sizeof(*lm));
}

/* Softmax statistics of one logits row: lse, and (optionally) entropy. */
static void row_stats(const float *z, int V, float *lse_out, float *ent_out) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < V; j++) mx = z[j] > mx ? z[j] : mx;
    double sum = 0.0, sz = 0.0;
#pragma omp simd reduction(+ : sum, sz)
    for (int j = 0; j < V; j++) {
        float e = fast_expf(z[j] - mx);
        sum += e;
        sz += (double)e * z[j];
    }
    float lse = mx + (float)log(sum);
    *lse_out = lse;
    if (ent_out) *ent_out = lse - (float)(sz / sum);
}

/* Gathers up to chunk_rows rows starting at *next for which want(n) holds;
 * returns the count. */
static int gather(LMHead *lm, const float *h, int ldh, int N, int *next, const int *targets, const float *wlp,
                  const float *went, int need_ent, int backward) {
    int r = 0;
    while (*next < N && r < lm->chunk_rows) {
        int n = (*next)++;
        int want;
        if (backward)
            want = (wlp && wlp[n] != 0.0f && targets[n] >= 0) || (went && went[n] != 0.0f);
        else
            want = targets[n] >= 0 || need_ent;
        if (!want) continue;
        lm->idx[r] = n;
        memcpy(lm->hbuf + (size_t)r * lm->C, h + (size_t)n * ldh, (size_t)lm->C * sizeof(float));
        r++;
    }
    return r;
}

void lmhead_forward(LMHead *lm, float *logp, float *ent, const float *h, int ldh, const float *W, const int *targets,
                    int N, float scale) {
    const int C = lm->C, V = lm->V;
    for (int n = 0; n < N; n++) {
        logp[n] = 0.0f;
        if (ent) ent[n] = 0.0f;
    }
    int next = 0;
    for (;;) {
        int R = gather(lm, h, ldh, N, &next, targets, NULL, NULL, ent != NULL, 0);
        if (R == 0) break;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, V, C, scale, lm->hbuf, C, W, C, 0.0f, lm->logits, V);
#pragma omp parallel for schedule(static)
        for (int r = 0; r < R; r++) {
            int n = lm->idx[r];
            const float *z = lm->logits + (size_t)r * V;
            float lse, e;
            row_stats(z, V, &lse, ent ? &e : NULL);
            if (targets[n] >= 0) logp[n] = z[targets[n]] - lse;
            if (ent) ent[n] = e;
        }
    }
}

/* Where a backward pass gets its weights: arrays, or a function of the
 * row's log-prob and entropy. */
typedef struct {
    const float *wlp, *went;
    LMHeadWeightFn fn;
    void *ctx;
} Weights;

static void backward(LMHead *lm, float *dh, float *dW, float *logp, float *ent, const float *h, int ldh,
                     const float *W, const int *targets, const Weights *wt, int N, float scale) {
    const int C = lm->C, V = lm->V;
    for (int n = 0; n < N; n++) {
        memset(dh + (size_t)n * ldh, 0, (size_t)C * sizeof(float));
        if (logp) logp[n] = 0.0f;
        if (ent) ent[n] = 0.0f;
    }
    int next = 0;
    for (;;) {
        /* with a weight function every row with a target is wanted */
        int R = gather(lm, h, ldh, N, &next, targets, wt->wlp, wt->went, 0, wt->fn ? 0 : 1);
        if (R == 0) break;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, V, C, scale, lm->hbuf, C, W, C, 0.0f, lm->logits, V);
#pragma omp parallel for schedule(static)
        for (int r = 0; r < R; r++) {
            int n = lm->idx[r], t = targets[n];
            float *z = lm->logits + (size_t)r * V;
            float lse, H;
            row_stats(z, V, &lse, &H);
            float lpt = t >= 0 ? z[t] - lse : 0.0f;
            float a, b;
            if (wt->fn) {
                a = b = 0.0f;
                wt->fn(wt->ctx, n, lpt, H, &a, &b);
            } else {
                a = wt->wlp && t >= 0 ? wt->wlp[n] : 0.0f;
                b = wt->went ? wt->went[n] : 0.0f;
            }
            if (logp && t >= 0) logp[n] = lpt;
            if (ent) ent[n] = H;
            /* dz_j = a (1[j=t] - p_j) - b p_j (z_j - lse + H), then * scale. */
#pragma omp simd
            for (int j = 0; j < V; j++) {
                float lp = z[j] - lse, p = fast_expf(lp);
                z[j] = scale * (-a * p - b * p * (lp + H));
            }
            if (t >= 0) z[t] += scale * a;
        }
        /* dh rows = dz @ W ; dW += dz^T @ h */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, C, V, 1.0f, lm->logits, V, W, C, 0.0f, lm->dhbuf, C);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, C, R, 1.0f, lm->logits, V, lm->hbuf, C, 1.0f, dW, C);
        for (int r = 0; r < R; r++)
            memcpy(dh + (size_t)lm->idx[r] * ldh, lm->dhbuf + (size_t)r * C, (size_t)C * sizeof(float));
    }
}

void lmhead_backward(LMHead *lm, float *dh, float *dW, float *logp, float *ent, const float *h, int ldh,
                     const float *W, const int *targets, const float *wlp, const float *went, int N, float scale) {
    Weights wt = {.wlp = wlp, .went = went};
    backward(lm, dh, dW, logp, ent, h, ldh, W, targets, &wt, N, scale);
}

void lmhead_backward_fn(LMHead *lm, float *dh, float *dW, float *logp, float *ent, const float *h, int ldh,
                        const float *W, const int *targets, LMHeadWeightFn fn, void *ctx, int N, float scale) {
    Weights wt = {.fn = fn, .ctx = ctx};
    backward(lm, dh, dW, logp, ent, h, ldh, W, targets, &wt, N, scale);
}
