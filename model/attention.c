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
#include "fastmath.h"

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
    if (s->plen > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, s->plen, HD, scale, Q, ldq,
                    k + (size_t)s->prow * ldkv + hoff, ldkv, 0.0f, S, lds);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nown, HD, scale, Q, ldq, k + (size_t)s->orow * ldkv + hoff,
                ldkv, 0.0f, S + s->plen, lds);
}

/* ---- single query rows (rollout decode) ----------------------------------
 * Added for rollout: one new query row per sequence is attended without
 * BLAS, every sum in a fixed order (q.k over 16 strided lanes, then the
 * lanes summed pairwise: lane l with l+8, then l+4, l+2, l+1; softmax and
 * p.v sums in key order), so a sequence gets the same bits whatever rows
 * of the KV store it occupies and whoever shares its batch. The query
 * heads that share a kv head are done together, so each key and value row
 * is read once per group. GCC vector types keep the lanes explicit;
 * target_clones compiles AVX-512, AVX2 and baseline versions, picked at
 * load time. */
#define ATTN_LANES 16
typedef float AttnV16 __attribute__((vector_size(64)));
typedef float AttnV16u __attribute__((vector_size(64), aligned(4))); /* unaligned loads */
typedef float AttnV8 __attribute__((vector_size(32)));
typedef float AttnV4 __attribute__((vector_size(16)));

/* Rows, in key order: all prefix rows, then own rows 0 .. nown-1. */
static inline size_t key_row(const SeqView *s, int j) {
    return j < s->plen ? (size_t)(s->prow + j) : (size_t)(s->orow + j - s->plen);
}

/* GCC warns that returning a 64-byte vector changes the ABI without
 * AVX-512; the helpers below are static and always inlined into
 * attend_heads' clones, so no call crosses that boundary. (GCC reports it
 * late, at the end of the translation unit, so it stays off to the end.) */
#pragma GCC diagnostic ignored "-Wpsabi"

/* 16 floats from p, the first n (0..16) of them, the rest zero. */
__attribute__((always_inline)) static inline AttnV16 attn_load(const float *p, int n) {
    if (n == ATTN_LANES) return *(const AttnV16u *)p;
    AttnV16 v = {0};
    memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}

/* The lane sums of four vectors: lane l added to l+8, then l+4, l+2, l+1
 * (a fixed pairwise tree, the same for every key). */
__attribute__((always_inline)) static inline AttnV4 attn_hsum4(AttnV16 a, AttnV16 b, AttnV16 c, AttnV16 d) {
    AttnV16 ab = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                 __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    AttnV16 cd = __builtin_shufflevector(c, d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                 __builtin_shufflevector(c, d, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    AttnV16 u = __builtin_shufflevector(ab, cd, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +
                __builtin_shufflevector(ab, cd, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    AttnV8 w = __builtin_shufflevector(u, u, 0, 1, 4, 5, 8, 9, 12, 13) +
               __builtin_shufflevector(u, u, 2, 3, 6, 7, 10, 11, 14, 15);
    return __builtin_shufflevector(w, w, 0, 2, 4, 6) + __builtin_shufflevector(w, w, 1, 3, 5, 7);
}

/* Query heads h0 .. h0+nh-1 (all on kv head offset koff) of one query row
 * against its plen + nown keys. o, lse, q: the row's output (heads of HD),
 * log-sum-exp (NH per row, may be NULL) and query. S: nh * nk floats. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
attend_heads(float *o, float *lse, const float *q, const float *k, const float *v, int ldkv, const SeqView *s, int nown,
             int h0, int nh, int koff, int HD, float scale, float *S) {
    const int nk = s->plen + nown, PD = 8; /* prefetch distance in key rows */
    for (int j = 0; j < nk && j < PD; j++)
        for (int d = 0; d < HD; d += 16) __builtin_prefetch(k + key_row(s, j) * ldkv + koff + d);
    /* scores four keys at a time per head: four independent sums, one
     * combined lane reduction */
    for (int j = 0; j < nk; j += 4) {
        const int nj = nk - j < 4 ? nk - j : 4;
        const float *kr[4];
        for (int t = 0; t < 4; t++) kr[t] = k + key_row(s, j + (t < nj ? t : 0)) * ldkv + koff;
        for (int t = 0; t < 4 && j + PD + t < nk; t++)
            for (int d = 0; d < HD; d += 16) __builtin_prefetch(k + key_row(s, j + PD + t) * ldkv + koff + d);
        for (int h = 0; h < nh; h++) {
            const float *qh = q + (size_t)(h0 + h) * HD;
            AttnV16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
            for (int d = 0; d < HD; d += ATTN_LANES) {
                int n = HD - d < ATTN_LANES ? HD - d : ATTN_LANES;
                AttnV16 qv = attn_load(qh + d, n);
                a0 += qv * attn_load(kr[0] + d, n);
                a1 += qv * attn_load(kr[1] + d, n);
                a2 += qv * attn_load(kr[2] + d, n);
                a3 += qv * attn_load(kr[3] + d, n);
            }
            AttnV4 r = attn_hsum4(a0, a1, a2, a3);
            for (int t = 0; t < nj; t++) S[(size_t)h * nk + j + t] = scale * r[t];
        }
    }
    /* S becomes the probabilities p[h][j], normalised once here rather than
     * once per 16 columns below */
    for (int h = 0; h < nh; h++) {
        float *Sh = S + (size_t)h * nk, mx = -INFINITY, sum = 0.0f;
        for (int j = 0; j < nk; j++) mx = Sh[j] > mx ? Sh[j] : mx;
        for (int j = 0; j < nk; j++) {
            Sh[j] = fast_expf(Sh[j] - mx);
            sum += Sh[j];
        }
        const float inv = 1.0f / sum;
        for (int j = 0; j < nk; j++) Sh[j] *= inv;
        if (lse) lse[h0 + h] = mx + logf(sum);
    }
    /* o[h][d] = sum over keys j, in order, of p[h][j] v[j][d]; 16 columns of
     * up to 8 heads at a time in registers. */
    for (int hb = 0; hb < nh; hb += 8) {
        const int nb = nh - hb < 8 ? nh - hb : 8;
        for (int d = 0; d < HD; d += ATTN_LANES) {
            const int n = HD - d < ATTN_LANES ? HD - d : ATTN_LANES;
            AttnV16 acc[8] = {{0}};
            for (int j = 0; j < nk; j++) {
                if (j + PD < nk) __builtin_prefetch(v + key_row(s, j + PD) * ldkv + koff + d);
                AttnV16 vv = attn_load(v + key_row(s, j) * ldkv + koff + d, n);
                for (int h = 0; h < nb; h++) acc[h] += S[(size_t)(hb + h) * nk + j] * vv;
            }
            for (int h = 0; h < nb; h++) memcpy(o + (size_t)(h0 + hb + h) * HD + d, &acc[h], (size_t)n * sizeof(float));
        }
    }
}

void attention_forward(float *out, int ldo, float *lse, const float *q, int ldq, const float *k, const float *v,
                       int ldkv, const AttnLayout *lay, int NH, int NKV, int HD, float *scratch,
                       size_t scratch_per_thread) {
    const int B = lay->n_seqs, hpg = NH / NKV;
    const float scale = 1.0f / sqrtf((float)HD);
    int decode = 1; /* attend_heads' scratch: hpg x keys floats */
    for (int b = 0; b < B && decode; b++) {
        SeqView s = seq_view(lay, b);
        decode = s.nq == 1 && (size_t)hpg * (size_t)(s.plen + s.past + 1) <= scratch_per_thread;
    }
    if (decode) { /* rollout decode: one row per sequence, head groups together */
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
        for (int b = 0; b < B; b++)
            for (int g = 0; g < NKV; g++) {
                SeqView s = seq_view(lay, b);
                float *S = scratch + (size_t)omp_get_thread_num() * scratch_per_thread;
                size_t r = (size_t)s.q0;
                attend_heads(out + r * ldo, lse ? lse + r * NH : NULL, q + r * ldq, k, v, ldkv, &s, s.past + 1,
                             g * hpg, hpg, g * HD, HD, scale, S);
            }
        return;
    }
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            SeqView s = seq_view(lay, b);
            float *S = scratch + (size_t)omp_get_thread_num() * scratch_per_thread;
            const int koff = (h / hpg) * HD;
            for (int t0 = 0; t0 < s.nq; t0 += ATTN_BLOCK) {
                int nq = s.nq - t0 < ATTN_BLOCK ? s.nq - t0 : ATTN_BLOCK;
                if (nq == 1) { /* decode's one new row (or a block's last row) */
                    size_t r = (size_t)(s.q0 + t0);
                    attend_heads(out + r * ldo, lse ? lse + r * NH : NULL, q + r * ldq, k, v, ldkv, &s, s.past + t0 + 1,
                                 h, 1, koff, HD, scale, S);
                    continue;
                }
                int nk = s.plen + s.past + t0 + nq; /* keys of the block's last row */
                const float *Q = q + (size_t)(s.q0 + t0) * ldq + (size_t)h * HD;
                scores(S, nk, Q, ldq, k, ldkv, &s, t0, nq, koff, HD, scale);
                for (int i = 0; i < nq; i++) {
                    float *row = S + (size_t)i * nk;
                    int valid = s.plen + s.past + t0 + i + 1;
                    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
                    for (int j = 0; j < valid; j++) mx = row[j] > mx ? row[j] : mx;
                    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
                    for (int j = 0; j < valid; j++) {
                        row[j] = fast_expf(row[j] - mx);
                        sum += row[j];
                    }
                    float inv = 1.0f / sum;
#pragma omp simd
                    for (int j = 0; j < valid; j++) row[j] *= inv;
                    for (int j = valid; j < nk; j++) row[j] = 0.0f;
                    if (lse) lse[(size_t)(s.q0 + t0 + i) * NH + h] = mx + logf(sum);
                }
                float *O = out + (size_t)(s.q0 + t0) * ldo + (size_t)h * HD;
                int nown = s.past + t0 + nq;
                const float *Vp = v + (size_t)s.prow * ldkv + koff, *Vo = v + (size_t)s.orow * ldkv + koff;
                float beta = 0.0f;
                if (s.plen > 0) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, HD, s.plen, 1.0f, S, nk, Vp, ldkv, 0.0f,
                                O, ldo);
                    beta = 1.0f;
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, HD, nown, 1.0f, S + s.plen, nk, Vo, ldkv,
                            beta, O, ldo);
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
#pragma omp simd
                        for (int j = 0; j < valid; j++) {
                            p[j] = fast_expf(p[j] - l);
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
