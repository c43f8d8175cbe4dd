/*
 * lmhead.h: the LM head for training and scoring: per-token log-probs of
 * given targets and per-token entropies, and the gradient of any weighted sum
 * of them, computed over chunks of rows so that a [tokens x vocab] matrix is
 * never materialised (Qwen's vocab is 151,936).
 * Not for: sampling logits in rollout (model_logits in forward.h).
 *
 * With z = scale * h W^T (scale = 1/temperature; 1 for DESIGN's log-probs):
 *   logp[n] = log_softmax(z_n)[target[n]],   ent[n] = -sum_j p_nj log p_nj.
 * The caller's objective is J = sum_n wlp[n]*logp[n] + went[n]*ent[n]
 * (SFT: wlp = -1/n_targets; GRPO: the policy-gradient weights), and
 * lmhead_backward gives dJ/dh and dJ/dW:
 *   dJ/dz_nj = wlp[n] (1[j = t_n] - p_nj) - went[n] p_nj (log p_nj + ent[n]).
 */
#ifndef GRPO_LMHEAD_H
#define GRPO_LMHEAD_H

#include <stddef.h>

typedef struct {
    int C, V;
    int chunk_rows; /* rows per chunk */
    float *hbuf;    /* (chunk_rows, C) gathered hidden rows */
    float *logits;  /* (chunk_rows, V) */
    float *dhbuf;   /* (chunk_rows, C) */
    int *idx;       /* (chunk_rows) source row of each gathered row */
} LMHead;

/* Sizes the chunk so logits take at most about `budget_bytes` (0 = 32 MiB)
 * and allocates the scratch. Returns -1 (message set, lm zeroed) when the
 * memory is not there. */
int lmhead_init(LMHead *lm, int C, int V, size_t budget_bytes);
/* The rows per chunk lmhead_init picks. */
size_t lmhead_chunk_rows(int V, size_t budget_bytes);
void lmhead_free(LMHead *lm);

/* logp (N) for rows with targets[n] >= 0 (0 elsewhere), ent (N) for every
 * row when ent != NULL (rows with a negative target are skipped when ent
 * is NULL). h (N, C) row stride ldh. */
void lmhead_forward(LMHead *lm, float *logp, float *ent, const float *h, int ldh, const float *W, const int *targets,
                    int N, float scale);

/* dh (N, C) = dJ/dh (rows with zero weights get 0), dW (V, C) += dJ/dW.
 * Also writes logp/ent (if not NULL) for the rows it processes (a nonzero
 * weight) and 0 elsewhere, so a caller whose weights do not depend on them
 * (SFT) needs only this call. wlp or went may be NULL (all zero). */
void lmhead_backward(LMHead *lm, float *dh, float *dW, float *logp, float *ent, const float *h, int ldh,
                     const float *W, const int *targets, const float *wlp, const float *went, int N, float scale);

/* Weights that depend on the row's own log-prob and entropy (GRPO: the
 * clipped-surrogate and KL terms), computed inside the pass that produces
 * the gradient, so no second LM-head matmul is needed: called once for
 * every row with targets[n] >= 0, after its log-prob and entropy (at
 * `scale`) are known, to set *wlp and *went for that row. Called from
 * several threads at once for different rows: it may only write row n's
 * own outputs. */
typedef void (*LMHeadWeightFn)(void *ctx, int n, float logp, float ent, float *wlp, float *went);

/* lmhead_backward with the weights from fn (every row with a target is
 * processed; rows without one get dh = 0). */
void lmhead_backward_fn(LMHead *lm, float *dh, float *dW, float *logp, float *ent, const float *h, int ldh,
                        const float *W, const int *targets, LMHeadWeightFn fn, void *ctx, int N, float scale);

#endif
