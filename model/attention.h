/*
 * attention.h: causal grouped-query attention over packed sequences whose
 * keys and values may come in two segments: a shared prefix (a prompt's KV
 * cache that G samples share) and the sequence's own rows. Training is the
 * special case "no prefix, no past, own rows = query rows"; rollout decode is
 * "one new query row per sequence, prefix = the prompt's cache rows".
 * Not for: projections or RoPE (forward.c, kernels.c).
 *
 * Query row t (0-based among sequence b's new tokens) sits at absolute
 * position prefix_len[b] + own_past[b] + t and attends to every prefix row
 * and to own rows 0 .. own_past[b] + t.
 */
#ifndef GRPO_ATTENTION_H
#define GRPO_ATTENTION_H

#include <stddef.h>

typedef struct {
    int n_seqs;             /* B */
    const int *seq_start;   /* (B+1) query rows of seq b: [seq_start[b], seq_start[b+1]) */
    const int *prefix_row;  /* (B) first KV row of b's shared prefix, or NULL (no prefixes) */
    const int *prefix_len;  /* (B) rows in that prefix, or NULL */
    const int *own_row;     /* (B) KV row of b's own position 0, or NULL (= seq_start[b]) */
    const int *own_past;    /* (B) own rows cached before this call, or NULL (= 0) */
} AttnLayout;

/* Query rows per block; scratch sizing depends on it. */
#define ATTN_BLOCK 64

/* Floats of per-thread scratch the kernels need when no sequence sees more
 * than max_keys keys. */
size_t attention_scratch_floats(int max_keys);

/* out (N, NH*HD, row stride ldo) = softmax(q k^T / sqrt(HD)) v per head;
 * lse (N, NH) = log-sum-exp of each row's scaled scores (may be NULL in
 * inference). q has row stride ldq; k and v rows have stride ldkv and
 * hold NKV heads of HD. scratch: nthreads * attention_scratch_floats(). */
void attention_forward(float *out, int ldo, float *lse, const float *q, int ldq, const float *k, const float *v,
                       int ldkv, const AttnLayout *lay, int NH, int NKV, int HD, float *scratch, size_t scratch_per_thread);

/* Backward of attention_forward for the training layout (no prefix, no
 * past). dq (=), dk and dv (+=) share the strides of q and k/v buffers given
 * by lddq and lddkv. out and lse are the forward's outputs. */
void attention_backward(float *dq, int lddq, float *dk, float *dv, int lddkv, const float *dout, int lddo,
                        const float *out, int ldo, const float *q, int ldq, const float *k, const float *v, int ldkv,
                        const float *lse, const AttnLayout *lay, int NH, int NKV, int HD, float *scratch,
                        size_t scratch_per_thread);

#endif
