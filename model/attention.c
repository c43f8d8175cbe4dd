/*
 * attention.c: blocked causal GQA attention with exact row softmax (each
 * block of ATTN_BLOCK query rows sees all of its keys at once, so no online
 * rescaling is needed), saving the log-sum-exp for a backward pass that
 * recomputes the probabilities instead of storing [T x T] per head.
 * (Backward as in FlashAttention, Dao et al. 2022, without the tiling over
 * keys.)
 */
#include "attention.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "common/common.h"

size_t attention_scratch_floats(int max_keys) { return (size_t)2 * ATTN_BLOCK * (size_t)(max_keys > 0 ? max_keys : 1); }

typedef struct {
    int q0, nq;     /* first query row (in the packed batch) and count */
    int prow, plen; /* prefix KV rows */
    int orow, past; /* own KV row of position 0 and rows cached before */
} SeqView;

static SeqView seq_view(const AttnLayout *lay, int b) {
    SeqView s;
    s.q0 = lay->seq_start[b];
    s.nq = lay->seq_start[b + 1] - s.q0;
    s.prow = lay->prefix_row ? lay->prefix_row[b] : 0;
    s.plen = lay->prefix_len ? lay->prefix_len[b] : 0;
    s.orow = lay->own_row ? lay->own_row[b] : s.q0;
    s.past = lay->own_past ? lay->own_past[b] : 0;
    return s;
}

/* Scores S (nq x nk, stride lds) for query rows [t0, t0+nq) of one head:
 * prefix columns first, then own columns 0 .. past+t0+nq-1. */
static void scores(float *S, int lds, const float *Q, int ldq, const float *k, int ldkv, const SeqView *s, int t0,
                   int nq, int hoff, int HD, float scale) {
    int nown = s->past + t0 + nq;
    if (nq == 1) {
        if (s->plen > 0)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, s->plen, HD, scale, k + (size_t)s->prow * ldkv + hoff, ldkv, Q, 1,
                        0.0f, S, 1);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, nown, HD, scale, k + (size_t)s->orow * ldkv + hoff, ldkv, Q, 1, 0.0f,
                    S + s->plen, 1);
        return;
    }
    if (s->plen > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, s->plen, HD, scale, Q, ldq,
                    k + (size_t)s->prow * ldkv + hoff, ldkv, 0.0f, S, lds);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nown, HD, scale, Q, ldq, k + (size_t)s->orow * ldkv + hoff,
                ldkv, 0.0f, S + s->plen, lds);
}

void attention_forward(float *out, int ldo, float *lse, const float *q, int ldq, const float *k, const float *v,
                       int ldkv, const AttnLayout *lay, int NH, int NKV, int HD, float *scratch,
                       size_t scratch_per_thread) {
    const int B = lay->n_seqs, hpg = NH / NKV;
    const float scale = 1.0f / sqrtf((float)HD);
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            SeqView s = seq_view(lay, b);
            float *S = scratch + (size_t)omp_get_thread_num() * scratch_per_thread;
            const int koff = (h / hpg) * HD;
            for (int t0 = 0; t0 < s.nq; t0 += ATTN_BLOCK) {
                int nq = s.nq - t0 < ATTN_BLOCK ? s.nq - t0 : ATTN_BLOCK;
                int nk = s.plen + s.past + t0 + nq; /* keys of the block's last row */
                const float *Q = q + (size_t)(s.q0 + t0) * ldq + (size_t)h * HD;
                scores(S, nk, Q, ldq, k, ldkv, &s, t0, nq, koff, HD, scale);
                for (int i = 0; i < nq; i++) {
                    float *row = S + (size_t)i * nk;
                    int valid = s.plen + s.past + t0 + i + 1;
                    float mx = -INFINITY;
                    for (int j = 0; j < valid; j++) mx = row[j] > mx ? row[j] : mx;
                    float sum = 0.0f;
                    for (int j = 0; j < valid; j++) {
                        row[j] = expf(row[j] - mx);
                        sum += row[j];
                    }
                    float inv = 1.0f / sum;
                    for (int j = 0; j < valid; j++) row[j] *= inv;
                    for (int j = valid; j < nk; j++) row[j] = 0.0f;
                    if (lse) lse[(size_t)(s.q0 + t0 + i) * NH + h] = mx + logf(sum);
                }
                float *O = out + (size_t)(s.q0 + t0) * ldo + (size_t)h * HD;
                int nown = s.past + t0 + nq;
                const float *Vp = v + (size_t)s.prow * ldkv + koff, *Vo = v + (size_t)s.orow * ldkv + koff;
                if (nq == 1) {
                    float beta = 0.0f;
                    if (s.plen > 0) {
                        cblas_sgemv(CblasRowMajor, CblasTrans, s.plen, HD, 1.0f, Vp, ldkv, S, 1, 0.0f, O, 1);
                        beta = 1.0f;
                    }
                    cblas_sgemv(CblasRowMajor, CblasTrans, nown, HD, 1.0f, Vo, ldkv, S + s.plen, 1, beta, O, 1);
                } else {
                    float beta = 0.0f;
                    if (s.plen > 0) {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, HD, s.plen, 1.0f, S, nk, Vp, ldkv,
                                    0.0f, O, ldo);
                        beta = 1.0f;
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, HD, nown, 1.0f, S + s.plen, nk, Vo,
                                ldkv, beta, O, ldo);
                }
            }
        }
    }
}

void attention_backward(float *dq, int lddq, float *dk, float *dv, int lddkv, const float *dout, int lddo,
                        const float *out, int ldo, const float *q, int ldq, const float *k, const float *v, int ldkv,
                        const float *lse, const AttnLayout *lay, int NH, int NKV, int HD, float *scratch,
                        size_t scratch_per_thread) {
    ASSERT(!lay->prefix_len && !lay->own_past && !lay->own_row);
    const int B = lay->n_seqs, hpg = NH / NKV;
    const float scale = 1.0f / sqrtf((float)HD);
    /* One task per (sequence, kv head): it alone writes that head's dk/dv rows. */
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; b++) {
        for (int g = 0; g < NKV; g++) {
            SeqView s = seq_view(lay, b);
            float *P = scratch + (size_t)omp_get_thread_num() * scratch_per_thread;
            float *dS = P + (size_t)ATTN_BLOCK * (s.nq > 0 ? s.nq : 1);
            const int koff = g * HD;
            const float *K = k + (size_t)s.q0 * ldkv + koff, *V = v + (size_t)s.q0 * ldkv + koff;
            float *dK = dk + (size_t)s.q0 * lddkv + koff, *dV = dv + (size_t)s.q0 * lddkv + koff;
            for (int h = g * hpg; h < (g + 1) * hpg; h++) {
                for (int t0 = 0; t0 < s.nq; t0 += ATTN_BLOCK) {
                    int nq = s.nq - t0 < ATTN_BLOCK ? s.nq - t0 : ATTN_BLOCK;
                    int nk = t0 + nq;
                    size_t r0 = (size_t)(s.q0 + t0);
                    const float *Q = q + r0 * ldq + (size_t)h * HD;
                    const float *dO = dout + r0 * lddo + (size_t)h * HD;
                    const float *O = out + r0 * ldo + (size_t)h * HD;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, HD, scale, Q, ldq, K, ldkv, 0.0f, P,
                                nk);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, HD, 1.0f, dO, lddo, V, ldkv, 0.0f, dS,
                                nk);
                    for (int i = 0; i < nq; i++) {
                        float *p = P + (size_t)i * nk, *ds = dS + (size_t)i * nk;
                        float l = lse[(r0 + (size_t)i) * NH + h];
                        const float *oi = O + (size_t)i * ldo, *doi = dO + (size_t)i * lddo;
                        float D = 0.0f;
                        for (int d = 0; d < HD; d++) D += oi[d] * doi[d];
                        int valid = t0 + i + 1;
                        for (int j = 0; j < valid; j++) {
                            p[j] = expf(p[j] - l);
                            ds[j] = p[j] * (ds[j] - D);
                        }
                        for (int j = valid; j < nk; j++) p[j] = ds[j] = 0.0f;
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, HD, nk, scale, dS, nk, K, ldkv, 0.0f,
                                dq + r0 * lddq + (size_t)h * HD, lddq);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, HD, nq, scale, dS, nk, Q, ldq, 1.0f, dK,
                                lddkv);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, HD, nq, 1.0f, P, nk, dO, lddo, 1.0f, dV,
                                lddkv);
                }
            }
        }
    }
}
