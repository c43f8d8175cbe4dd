/*
 * kernels.c: matmul, RMSNorm, RoPE, SwiGLU and embedding kernels with their
 * backward passes (see kernels.h for contracts). Attention and the LM head
 * live in attention.c and lmhead.c.
 */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "common/common.h"
#include "fastmath.h"

void matmul_forward(float *out, int ldo, const float *inp, int ldi, const float *w, const float *bias, int N, int IC,
                    int OC) {
    if (N <= 0) return;
    if (N == 1) {
        /* OpenBLAS's sgemm with M=1 is several times slower than sgemv. */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, OC, IC, 1.0f, w, IC, inp, 1, 0.0f, out, 1);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1.0f, inp, ldi, w, IC, 0.0f, out, ldo);
    }
    if (bias) {
#pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++) {
            float *o = out + (size_t)n * ldo;
#pragma omp simd
            for (int j = 0; j < OC; j++) o[j] += bias[j];
        }
    }
}

void matmul_forward_add(float *out, int ldo, const float *inp, int ldi, const float *w, int N, int IC, int OC) {
    if (N <= 0) return;
    if (N == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, OC, IC, 1.0f, w, IC, inp, 1, 1.0f, out, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1.0f, inp, ldi, w, IC, 1.0f, out, ldo);
}

void matmul_backward(float *dinp, int lddi, float *dw, float *dbias, const float *dout, int lddo, const float *inp,
                     int ldi, const float *w, int N, int IC, int OC, int accumulate) {
    if (N <= 0) return;
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, OC, 1.0f, dout, lddo, w, IC,
                    accumulate ? 1.0f : 0.0f, dinp, lddi);
    if (dw) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, IC, N, 1.0f, dout, lddo, inp, ldi, 1.0f, dw, IC);
    if (dbias) {
        /* Columns split across threads: each column summed in row order. */
#pragma omp parallel for schedule(static)
        for (int j = 0; j < OC; j++) {
            float s = 0.0f;
            for (int n = 0; n < N; n++) s += dout[(size_t)n * lddo + j];
            dbias[j] += s;
        }
    }
}

void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps) {
#pragma omp parallel for schedule(static) if ((long)N * C >= KERNEL_SERIAL_BELOW)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (int i = 0; i < C; i++) ss += x[i] * x[i];
        float r = 1.0f / sqrtf(ss / (float)C + eps);
        if (rstd) rstd[n] = r;
#pragma omp simd
        for (int i = 0; i < C; i++) o[i] = x[i] * r * w[i];
    }
}

void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *rstd,
                      int N, int C, float *scratch) {
    int nt = omp_get_max_threads();
    memset(scratch, 0, (size_t)nt * C * sizeof(float));
#pragma omp parallel
    {
        float *dwp = scratch + (size_t)omp_get_thread_num() * C;
#pragma omp for schedule(static)
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
            float *dx = dinp + (size_t)n * C;
            float r = rstd[n], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int i = 0; i < C; i++) dot += dy[i] * w[i] * x[i];
            float k = dot * r * r * r / (float)C;
#pragma omp simd
            for (int i = 0; i < C; i++) {
                dx[i] += r * dy[i] * w[i] - k * x[i];
                dwp[i] += dy[i] * x[i] * r;
            }
        }
    }
    /* Reduce the per-thread partials in thread order: deterministic for a
     * given thread count. */
    for (int t = 0; t < nt; t++) {
        const float *p = scratch + (size_t)t * C;
        for (int i = 0; i < C; i++) dw[i] += p[i];
    }
}

void rope_tables(float *cos_t, float *sin_t, int max_pos, int HD, double theta, const char *scaling, double factor,
                 double low_ff, double high_ff, int orig_max_pos) {
    int half = HD / 2;
    for (int i = 0; i < half; i++) {
        /* HF: inv_freq = 1 / theta ** (arange(0, HD, 2).float() / HD), in fp32. */
        float inv = (float)(1.0 / pow(theta, (double)(float)((float)(2 * i) / (float)HD)));
        if (scaling && !strcmp(scaling, "linear")) {
            inv = (float)(inv / factor);
        } else if (scaling && !strcmp(scaling, "llama3")) {
            double low_wl = orig_max_pos / low_ff, high_wl = orig_max_pos / high_ff;
            double wl = 2.0 * M_PI / inv;
            if (wl > low_wl) {
                inv = (float)(inv / factor);
            } else if (wl >= high_wl) {
                double smooth = (orig_max_pos / wl - low_ff) / (high_ff - low_ff);
                inv = (float)((1.0 - smooth) * inv / factor + smooth * inv);
            }
        }
        for (int p = 0; p < max_pos; p++) {
            float ang = (float)p * inv; /* fp32 product, as HF */
            cos_t[(size_t)p * half + i] = (float)cos((double)ang);
            sin_t[(size_t)p * half + i] = (float)sin((double)ang);
        }
    }
}

static void rope_apply(float *x, int ld, int n_heads, const int *pos, const float *cos_t, const float *sin_t, int N,
                       int HD, float sign) {
    int half = HD / 2;
#pragma omp parallel for schedule(static) if ((long)N * n_heads * HD >= KERNEL_SERIAL_BELOW)
    for (int n = 0; n < N; n++) {
        const float *c = cos_t + (size_t)pos[n] * half, *s = sin_t + (size_t)pos[n] * half;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + (size_t)n * ld + (size_t)h * HD;
#pragma omp simd
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half], si = sign * s[i];
                v[i] = a * c[i] - b * si;
                v[i + half] = b * c[i] + a * si;
            }
        }
    }
}

void rope_forward(float *x, int ld, int n_heads, const int *pos, const float *cos_t, const float *sin_t, int N,
                  int HD) {
    rope_apply(x, ld, n_heads, pos, cos_t, sin_t, N, HD, 1.0f);
}

void rope_backward(float *dx, int ld, int n_heads, const int *pos, const float *cos_t, const float *sin_t, int N,
                   int HD) {
    rope_apply(dx, ld, n_heads, pos, cos_t, sin_t, N, HD, -1.0f);
}

void headnorm_forward(float *out, int ldo, float *rstd, const float *inp, int ldi, const float *w, int N, int n_heads,
                      int HD, float eps) {
#pragma omp parallel for schedule(static) if ((long)N * n_heads * HD >= KERNEL_SERIAL_BELOW)
    for (int n = 0; n < N; n++) {
        for (int h = 0; h < n_heads; h++) {
            const float *x = inp + (size_t)n * ldi + (size_t)h * HD;
            float *o = out + (size_t)n * ldo + (size_t)h * HD;
            float ss = 0.0f;
            for (int i = 0; i < HD; i++) ss += x[i] * x[i];
            float r = 1.0f / sqrtf(ss / (float)HD + eps);
            if (rstd) rstd[(size_t)n * n_heads + h] = r;
            for (int i = 0; i < HD; i++) o[i] = x[i] * r * w[i];
        }
    }
}

void headnorm_backward(float *dinp, int lddi, float *dw, const float *dout, int lddo, const float *inp, int ldi,
                       const float *w, const float *rstd, int N, int n_heads, int HD, float *scratch) {
    int nt = omp_get_max_threads();
    memset(scratch, 0, (size_t)nt * HD * sizeof(float));
#pragma omp parallel
    {
        float *dwp = scratch + (size_t)omp_get_thread_num() * HD;
#pragma omp for schedule(static)
        for (int n = 0; n < N; n++) {
            for (int h = 0; h < n_heads; h++) {
                const float *x = inp + (size_t)n * ldi + (size_t)h * HD;
                const float *dy = dout + (size_t)n * lddo + (size_t)h * HD;
                float *dx = dinp + (size_t)n * lddi + (size_t)h * HD;
                float r = rstd[(size_t)n * n_heads + h], dot = 0.0f;
                for (int i = 0; i < HD; i++) dot += dy[i] * w[i] * x[i];
                float k = dot * r * r * r / (float)HD;
                for (int i = 0; i < HD; i++) {
                    float g = dy[i];
                    dwp[i] += g * x[i] * r;
                    dx[i] = r * g * w[i] - k * x[i];
                }
            }
        }
    }
    for (int t = 0; t < nt; t++)
        for (int i = 0; i < HD; i++) dw[i] += scratch[(size_t)t * HD + i];
}

/* One token's SwiGLU rows. The exp is most of the work: target_clones
 * compiles AVX-512, AVX2 and baseline versions of the loops (picked at load
 * time), as for attention's score loops, so they run 16 or 8 lanes wide
 * instead of SSE's 4. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
swiglu_row(float *o, const float *g, const float *u, int F) {
#pragma omp simd
    for (int i = 0; i < F; i++) o[i] = g[i] / (1.0f + fast_expf(-g[i])) * u[i];
}

__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
swiglu_row_backward(float *dg, float *du, const float *d, const float *g, const float *u, int F) {
#pragma omp simd
    for (int i = 0; i < F; i++) {
        float sig = 1.0f / (1.0f + fast_expf(-g[i]));
        float silu = g[i] * sig;
        du[i] = d[i] * silu;
        dg[i] = d[i] * u[i] * sig * (1.0f + g[i] * (1.0f - sig));
    }
}

void swiglu_forward(float *h, const float *gu, int N, int F) {
#pragma omp parallel for schedule(static) if ((long)N * F >= KERNEL_SERIAL_BELOW / 4) /* expf: heavier */
    for (int n = 0; n < N; n++) {
        const float *g = gu + (size_t)n * 2 * F;
        swiglu_row(h + (size_t)n * F, g, g + F, F);
    }
}

void swiglu_backward(float *dgu, const float *dh, const float *gu, int N, int F) {
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *g = gu + (size_t)n * 2 * F;
        float *dg = dgu + (size_t)n * 2 * F;
        swiglu_row_backward(dg, dg + F, dh + (size_t)n * F, g, g + F, F);
    }
}

void embed_forward(float *out, const int *tokens, const float *embed, int N, int C) {
#pragma omp parallel for schedule(static) if ((long)N * C >= KERNEL_SERIAL_BELOW)
    for (int n = 0; n < N; n++) memcpy(out + (size_t)n * C, embed + (size_t)tokens[n] * C, (size_t)C * sizeof(float));
}

void embed_backward(float *dembed, const float *dout, const int *tokens, int N, int C) {
    /* Each thread owns a column range and walks rows in order. */
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        int c0 = (int)((long)C * t / nt), c1 = (int)((long)C * (t + 1) / nt);
        for (int n = 0; n < N; n++) {
            float *d = dembed + (size_t)tokens[n] * C;
            const float *g = dout + (size_t)n * C;
            for (int i = c0; i < c1; i++) d[i] += g[i];
        }
    }
}

/* ---- row-stable matmul for rollout (matmul_forward_rowstable) -----------
 * Added for decode speed and rollout determinism. Each output element is
 * a dot product accumulated in one fixed order: lane j of a vector
 * accumulator takes k = j, j+L, j+2L, ... (L = 16 with AVX-512, 8 with
 * AVX2 and in plain C), the last IC % L columns in one masked step, then
 * the L lanes are summed pairwise (lane i with i+L/2, then i+L/4, ...).
 * No step depends on N, on which tile an element falls in or on the thread
 * count, so a sequence's numbers do not depend on which other sequences
 * share its batch. Tiles are MM_RO weight rows x MM_RN tokens; the weights
 * stream from memory once per block of MM_NB_BYTES of input rows, with no
 * packing (sgemm packs w on every call, which dominates at decode's small
 * N), and the next rows are prefetched while a block's tiles run. */

#if defined(__x86_64__)
#include <immintrin.h>
#define MM_X86 1
#endif

#define MM_RO 4
#define MM_RN 4
#define MM_NB_BYTES ((size_t)256 << 10)

typedef void (*MmTileFn)(float *out, int ldo, const float *inp, int ldi, const float *w, int IC, int ro, int rn,
                         const float *bias, int accumulate);

static inline void mm_store(float *o, float dot, const float *bias, int accumulate) {
    if (accumulate)
        *o += dot;
    else
        *o = bias ? dot + *bias : dot;
}

/* One tile body, instantiated per ISA: VEC, ZERO, LOAD, LOADM (masked
 * load of the tail), FMA, HSUM, HSUM4 (four HSUMs at once, the same tree)
 * and W (lanes) are macros of the ISA. ro and rn are compile-time
 * constants at every call (MM_DISPATCH), so acc lives in registers. */
#define MM_TILE_BODY(VEC, ZERO, LOAD, LOADM, FMA, HSUM, HSUM4, W)                            \
    VEC acc[MM_RO][MM_RN];                                                                   \
    for (int r = 0; r < ro; r++)                                                             \
        for (int t = 0; t < rn; t++) acc[r][t] = ZERO;                                       \
    int k = 0;                                                                               \
    for (; k + (W) <= IC; k += (W)) {                                                        \
        VEC x[MM_RN];                                                                        \
        for (int t = 0; t < rn; t++) x[t] = LOAD(inp + (size_t)t * ldi + k);                 \
        for (int r = 0; r < ro; r++) {                                                       \
            VEC wv = LOAD(w + (size_t)r * IC + k);                                           \
            for (int t = 0; t < rn; t++) acc[r][t] = FMA(wv, x[t], acc[r][t]);               \
        }                                                                                    \
    }                                                                                        \
    if (k < IC) {                                                                            \
        const int rem = IC - k;                                                              \
        VEC x[MM_RN];                                                                        \
        for (int t = 0; t < rn; t++) x[t] = LOADM(inp + (size_t)t * ldi + k, rem);           \
        for (int r = 0; r < ro; r++) {                                                       \
            VEC wv = LOADM(w + (size_t)r * IC + k, rem);                                     \
            for (int t = 0; t < rn; t++) acc[r][t] = FMA(wv, x[t], acc[r][t]);               \
        }                                                                                    \
    }                                                                                        \
    for (int t = 0; t < rn; t++) {                                                           \
        float dots_[MM_RO];                                                                  \
        if (ro == MM_RO)                                                                     \
            HSUM4(dots_, acc[0][t], acc[1][t], acc[2][t], acc[3][t]);                        \
        else                                                                                 \
            for (int r = 0; r < ro; r++) dots_[r] = HSUM(acc[r][t]);                         \
        for (int r = 0; r < ro; r++)                                                         \
            mm_store(out + (size_t)t * ldo + r, dots_[r], bias ? bias + r : NULL, accumulate); \
    }

/* Calls TILE with constant (ro, rn): full-height tiles get their own
 * instantiation; the last partial row block goes element by element. */
#define MM_DISPATCH(TILE)                                                                             \
    switch (ro == MM_RO ? rn : 0) {                                                                   \
    case 4: TILE(out, ldo, inp, ldi, w, IC, 4, 4, bias, accumulate); break;                           \
    case 3: TILE(out, ldo, inp, ldi, w, IC, 4, 3, bias, accumulate); break;                           \
    case 2: TILE(out, ldo, inp, ldi, w, IC, 4, 2, bias, accumulate); break;                           \
    case 1: TILE(out, ldo, inp, ldi, w, IC, 4, 1, bias, accumulate); break;                           \
    default:                                                                                          \
        for (int r_ = 0; r_ < ro; r_++)                                                               \
            for (int t_ = 0; t_ < rn; t_++)                                                           \
                TILE(out + (size_t)t_ * ldo + r_, ldo, inp + (size_t)t_ * ldi, ldi, w + (size_t)r_ * IC, IC, 1, 1, \
                     bias ? bias + r_ : NULL, accumulate);                                            \
    }

#ifdef MM_X86
/* AVX-512 (16 lanes). */
__attribute__((target("avx512f"))) static inline float mm_hsum16(__m512 v) {
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_shuffle_ps(b, b, _MM_SHUFFLE(1, 0, 3, 2)));
    b = _mm_add_ps(b, _mm_shuffle_ps(b, b, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtss_f32(b);
}
/* mm_hsum16 of a, b, c, d into out[0..3] in one pass of shuffles: the same
 * pairing (lane l with l+8, l+4, l+2, l+1), so the same bits. */
__attribute__((target("avx512f"))) static inline void mm_hsum16x4(float *out, __m512 a, __m512 b, __m512 c, __m512 d) {
    __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
    __m512 u = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
    u = _mm512_add_ps(u, _mm512_permute_ps(u, _MM_SHUFFLE(1, 0, 3, 2)));
    u = _mm512_add_ps(u, _mm512_permute_ps(u, _MM_SHUFFLE(2, 3, 0, 1)));
    const __m512i pick = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
    _mm_storeu_ps(out, _mm512_castps512_ps128(_mm512_permutexvar_ps(pick, u)));
}
#define MM16_LOADM(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), (p))
__attribute__((target("avx512f"), always_inline)) static inline void mm_tile16(float *out, int ldo, const float *inp,
                                                                                 int ldi, const float *w, int IC,
                                                                                 const int ro, const int rn,
                                                                                 const float *bias, int accumulate) {
    MM_TILE_BODY(__m512, _mm512_setzero_ps(), _mm512_loadu_ps, MM16_LOADM, _mm512_fmadd_ps, mm_hsum16, mm_hsum16x4, 16)
}
__attribute__((target("avx512f"))) static void mm_tile_avx512(float *out, int ldo, const float *inp, int ldi,
                                                               const float *w, int IC, int ro, int rn,
                                                               const float *bias, int accumulate) {
    MM_DISPATCH(mm_tile16)
}

/* AVX2 + FMA (8 lanes). */
__attribute__((target("avx2,fma"))) static inline float mm_hsum8(__m256 v) {
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    b = _mm_add_ps(b, _mm_shuffle_ps(b, b, _MM_SHUFFLE(1, 0, 3, 2)));
    b = _mm_add_ps(b, _mm_shuffle_ps(b, b, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtss_f32(b);
}
#define MM_HSUM4_EACH8(o, a, b, c, d) \
    ((o)[0] = mm_hsum8(a), (o)[1] = mm_hsum8(b), (o)[2] = mm_hsum8(c), (o)[3] = mm_hsum8(d))
__attribute__((target("avx2,fma"))) static inline __m256 mm8_loadm(const float *p, int n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane));
}
__attribute__((target("avx2,fma"), always_inline)) static inline void mm_tile8(float *out, int ldo, const float *inp,
                                                                                 int ldi, const float *w, int IC,
                                                                                 const int ro, const int rn,
                                                                                 const float *bias, int accumulate) {
    MM_TILE_BODY(__m256, _mm256_setzero_ps(), _mm256_loadu_ps, mm8_loadm, _mm256_fmadd_ps, mm_hsum8, MM_HSUM4_EACH8, 8)
}
__attribute__((target("avx2,fma"))) static void mm_tile_avx2(float *out, int ldo, const float *inp, int ldi,
                                                              const float *w, int IC, int ro, int rn,
                                                              const float *bias, int accumulate) {
    MM_DISPATCH(mm_tile8)
}

#endif /* MM_X86 */

/* Plain C (8 emulated lanes), for CPUs without AVX2. */
typedef struct {
    float v[8];
} MmVec8;
static inline MmVec8 mmc_zero(void) {
    MmVec8 r;
    for (int j = 0; j < 8; j++) r.v[j] = 0.0f;
    return r;
}
static inline MmVec8 mmc_loadm(const float *p, int n) {
    MmVec8 r;
    for (int j = 0; j < 8; j++) r.v[j] = j < n ? p[j] : 0.0f;
    return r;
}
static inline MmVec8 mmc_load(const float *p) { return mmc_loadm(p, 8); }
static inline MmVec8 mmc_fma(MmVec8 a, MmVec8 b, MmVec8 c) {
    for (int j = 0; j < 8; j++) c.v[j] += a.v[j] * b.v[j];
    return c;
}
static inline float mmc_hsum(MmVec8 a) {
    for (int h = 4; h >= 1; h /= 2)
        for (int j = 0; j < h; j++) a.v[j] += a.v[j + h];
    return a.v[0];
}
#define MM_HSUM4_EACHC(o, a, b, c, d) \
    ((o)[0] = mmc_hsum(a), (o)[1] = mmc_hsum(b), (o)[2] = mmc_hsum(c), (o)[3] = mmc_hsum(d))
static inline void mm_tilec(float *out, int ldo, const float *inp, int ldi, const float *w, int IC, const int ro,
                            const int rn, const float *bias, int accumulate) {
    MM_TILE_BODY(MmVec8, mmc_zero(), mmc_load, mmc_loadm, mmc_fma, mmc_hsum, MM_HSUM4_EACHC, 8)
}
static void mm_tile_c(float *out, int ldo, const float *inp, int ldi, const float *w, int IC, int ro, int rn,
                      const float *bias, int accumulate) {
    MM_DISPATCH(mm_tilec)
}

static int mm_isa_forced = -1; /* matmul_rowstable_force_isa */

static int mm_cpu_isa(void) {
#ifdef MM_X86
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

int matmul_rowstable_force_isa(int isa) {
    if (isa < 0 || isa > 2) {
        mm_isa_forced = -1;
        return 0;
    }
    if (isa > mm_cpu_isa()) return -1; /* (every AVX-512 CPU has AVX2 and FMA) */
    mm_isa_forced = isa;
    return 0;
}

int matmul_rowstable_isa(void) { return mm_isa_forced >= 0 ? mm_isa_forced : mm_cpu_isa(); }

void matmul_forward_rowstable(float *out, int ldo, const float *inp, int ldi, const float *w, const float *bias, int N,
                              int IC, int OC, int accumulate) {
    if (N <= 0 || OC <= 0) return;
    const int isa = matmul_rowstable_isa();
#ifdef MM_X86
    const MmTileFn tile = isa == 2 ? mm_tile_avx512 : isa == 1 ? mm_tile_avx2 : mm_tile_c;
#else
    const MmTileFn tile = mm_tile_c;
    (void)isa;
#endif
    size_t nb = MM_NB_BYTES / ((size_t)(IC > 0 ? IC : 1) * sizeof(float));
    const int NB = nb < MM_RN ? MM_RN : (int)(nb > (size_t)1 << 20 ? (size_t)1 << 20 : nb - nb % MM_RN);
    const int nob = (OC + MM_RO - 1) / MM_RO;
#pragma omp parallel
    for (int n0 = 0; n0 < N; n0 += NB) {
        const int nn = N - n0 < NB ? N - n0 : NB;
        /* token blocks are independent: no barrier between them */
#pragma omp for schedule(static) nowait
        for (int ob = 0; ob < nob; ob++) {
            const int o = ob * MM_RO, ro = OC - o < MM_RO ? OC - o : MM_RO;
            /* the next block's weights are prefetched a slice before each
             * token tile, so the stream from memory overlaps the tiles */
            const char *nxt = ob + 1 < nob ? (const char *)(w + (size_t)(o + MM_RO) * IC) : NULL;
            const size_t nbytes = (size_t)MM_RO * IC * sizeof(float);
            const int ntile = (nn + MM_RN - 1) / MM_RN;
            for (int t = 0, ti = 0; t < nn; t += MM_RN, ti++) {
                if (nxt)
                    for (size_t b = nbytes * ti / ntile; b < nbytes * (ti + 1) / ntile; b += 64)
                        __builtin_prefetch(nxt + b, 0, 2);
                tile(out + (size_t)(n0 + t) * ldo + o, ldo, inp + (size_t)(n0 + t) * ldi, ldi, w + (size_t)o * IC, IC,
                     ro, nn - t < MM_RN ? nn - t : MM_RN, bias ? bias + o : NULL, accumulate);
            }
        }
    }
}
