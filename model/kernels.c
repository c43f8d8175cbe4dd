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
#pragma omp parallel for schedule(static)
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
#pragma omp parallel for schedule(static)
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
#pragma omp parallel for schedule(static)
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

void swiglu_forward(float *h, const float *gu, int N, int F) {
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *g = gu + (size_t)n * 2 * F, *u = g + F;
        float *o = h + (size_t)n * F;
#pragma omp simd
        for (int i = 0; i < F; i++) o[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
}

void swiglu_backward(float *dgu, const float *dh, const float *gu, int N, int F) {
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *g = gu + (size_t)n * 2 * F, *u = g + F, *d = dh + (size_t)n * F;
        float *dg = dgu + (size_t)n * 2 * F, *du = dg + F;
#pragma omp simd
        for (int i = 0; i < F; i++) {
            float sig = 1.0f / (1.0f + expf(-g[i]));
            float silu = g[i] * sig;
            du[i] = d[i] * silu;
            dg[i] = d[i] * u[i] * sig * (1.0f + g[i] * (1.0f - sig));
        }
    }
}

void embed_forward(float *out, const int *tokens, const float *embed, int N, int C) {
#pragma omp parallel for schedule(static)
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

void vec_add(float *a, const float *b, size_t n) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) a[i] += b[i];
}
