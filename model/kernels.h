/*
 * kernels.h: the compute kernels of the transformer, each a free function on
 * flat float buffers: forward right above its backward, outputs first, then
 * inputs, weights, dims (llm.c style). Backward functions ADD into
 * gradients (zeroing is the caller's explicit step) unless they say "=".
 * Kernels never allocate, log or do I/O; they thread with OpenMP and call
 * OpenBLAS for matrix products.
 * Not for: deciding what to compute (forward.c) or owning buffers.
 */
#ifndef GRPO_KERNELS_H
#define GRPO_KERNELS_H

#include <stddef.h>

/* Below this many elements a row-wise loop runs on one thread: at
 * decode's few rows a parallel region costs more than the work. (Rows are
 * independent, so the results do not change.) */
#define KERNEL_SERIAL_BELOW 32768L

/* out (N, OC) = inp (N, IC) @ w^T, w (OC, IC) row-major, + bias (OC) if not
 * NULL. ldo/ldi are the row strides of out and inp (>= OC, >= IC). */
void matmul_forward(float *out, int ldo, const float *inp, int ldi, const float *w, const float *bias, int N, int IC,
                    int OC);
/* out (N, OC) += inp (N, IC) @ w^T (a residual added in place). */
void matmul_forward_add(float *out, int ldo, const float *inp, int ldi, const float *w, int N, int IC, int OC);
/* Rollout's matmul: out (N, OC) = inp @ w^T (+ bias), or out += inp @ w^T
 * when accumulate (bias ignored then). Each element is summed in an order
 * fixed by IC alone (never by N, the batch's other rows or the thread
 * count), so a row's result is bit-identical however sequences are batched;
 * faster than sgemm at decode's small N (no packing). Uses AVX-512, else
 * AVX2+FMA, else plain C, chosen at run time. */
void matmul_forward_rowstable(float *out, int ldo, const float *inp, int ldi, const float *w, const float *bias, int N,
                              int IC, int OC, int accumulate);
/* The instruction set matmul_forward_rowstable uses: 2 AVX-512, 1 AVX2,
 * 0 plain C. force_isa (tests) pins one (returns -1 if the CPU lacks it;
 * any other value restores the automatic choice). Results
 * are bit-identical across batches for one ISA, not across ISAs. */
int matmul_rowstable_isa(void);
int matmul_rowstable_force_isa(int isa);
/* dinp (N, IC) (+)= dout @ w (accumulate if `accumulate`, else "="),
 * dw (OC, IC) += dout^T @ inp, dbias (OC) += column sums of dout. Any of
 * dinp/dw/dbias may be NULL to skip it. */
void matmul_backward(float *dinp, int lddi, float *dw, float *dbias, const float *dout, int lddo, const float *inp,
                     int ldi, const float *w, int N, int IC, int OC, int accumulate);

/* out = x / sqrt(mean(x^2) + eps) * w per row; rstd (N) saved for backward.
 * (Zhang & Sennrich 2019, RMSNorm.) rstd may be NULL in inference. */
void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps);
/* dinp += d/dx, dw += d/dw. scratch: nthreads * C floats for dw partials. */
void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *rstd,
                      int N, int C, float *scratch);

/* RoPE tables: cos/sin (max_pos, HD/2), computed as HF does (inv_freq and
 * angles in fp32). scaling: "" | "linear" | "llama3" with its parameters. */
void rope_tables(float *cos_t, float *sin_t, int max_pos, int HD, double theta, const char *scaling, double factor,
                 double low_ff, double high_ff, int orig_max_pos);
/* Rotates n_heads heads of HD in each of N rows (row stride ld) in place, at
 * positions pos[N] (HF rotate_half: pairs (i, i + HD/2)). */
void rope_forward(float *x, int ld, int n_heads, const int *pos, const float *cos_t, const float *sin_t, int N, int HD);
/* The transpose rotation, applied in place to gradients. */
void rope_backward(float *dx, int ld, int n_heads, const int *pos, const float *cos_t, const float *sin_t, int N,
                   int HD);

/* Per-head RMSNorm (Qwen3 q_norm/k_norm): each of n_heads heads of HD in each
 * of N rows (stride ldx) normalised with weight w (HD). out may equal inp.
 * rstd (N, n_heads) saved. */
void headnorm_forward(float *out, int ldo, float *rstd, const float *inp, int ldi, const float *w, int N, int n_heads,
                      int HD, float eps);
/* dinp (=) from dout (both may alias), dw += ; scratch nthreads*HD floats. */
void headnorm_backward(float *dinp, int lddi, float *dw, const float *dout, int lddo, const float *inp, int ldi,
                       const float *w, const float *rstd, int N, int n_heads, int HD, float *scratch);

/* SwiGLU: h (N, F) = silu(gu[:, :F]) * gu[:, F:], gu (N, 2F); F is the MLP
 * width (I elsewhere; <complex.h>, pulled in by cblas.h, defines I). */
void swiglu_forward(float *h, const float *gu, int N, int F);
/* dgu (N, 2F) = (from dh (N, F)). */
void swiglu_backward(float *dgu, const float *dh, const float *gu, int N, int F);

/* out (N, C) = embed[tokens]. */
void embed_forward(float *out, const int *tokens, const float *embed, int N, int C);
/* dembed[tokens[n]] += dout[n]; deterministic (fixed summation order). */
void embed_backward(float *dembed, const float *dout, const int *tokens, int N, int C);

#endif
