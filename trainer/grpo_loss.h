/*
 * grpo_loss.h: the GRPO loss of one token, its derivatives with respect to
 * the token's log-prob and entropy, and the aggregation weights that sum
 * tokens into the batch's loss. The trainer feeds the derivatives to the
 * LM head's backward pass (model/lmhead.h) as per-token weights.
 * Not for: advantages (advantage.h), the loop (grpo.c).
 *
 * For completion i with advantage A_i, token t with current log-prob l
 * (at the sampling temperature), old log-prob o (the policy that sampled
 * it), reference log-prob q and entropy H, the batch loss is
 *
 *   L = sum_{i,t} c_it * ( -min(w A_i, clip(w, 1 - eps_lo, 1 + eps_hi) A_i)
 *                          + beta * k(q - l) - entropy_coeff * H )
 *
 * (Schulman et al. 2017's clipped surrogate; DAPO's clip-higher eps_hi;
 * GRPO's per-token KL to a reference), where
 *   - the importance weight is w = exp(l - o) per token, or with
 *     importance_sampling_level "sequence" (GSPO, Zheng et al. 2025)
 *     w_i = exp(mean_t (l - o)) shared by the completion's tokens;
 *   - k is the KL estimator of Schulman's "Approximating KL divergence":
 *     k1(x) = -x, k2(x) = x^2 / 2, k3(x) = e^x - x - 1 with x = q - l; k3
 *     is clamped as verl's low_var_kl: x to [-20, 20], k3 to at most 10;
 *   - c_it is the aggregation weight of loss_type (N completions in the
 *     batch, |y_i| the loss tokens of completion i, T all loss tokens of
 *     the batch, T_m those of token's micro-batch m of M, L_max the
 *     max_completion_length):
 *       grpo     1 / (N |y_i|)    mean over each sequence, then over sequences
 *       bnpo     1 / (M T_m)      token mean per micro-batch, averaged
 *       dapo     1 / T            token mean over the whole batch
 *       dr_grpo  1 / (N L_max)    token sum over a constant
 *     a token outside the loss (a prompt token, a masked truncated
 *     completion) has c = 0.
 * The gradient of a clipped term is zero where the clip is active. With
 * num_iterations = 1 the old policy is the current one (o = l, detached),
 * so w = 1 and nothing is ever clipped.
 */
#ifndef GRPO_GRPO_LOSS_H
#define GRPO_GRPO_LOSS_H

#include <stddef.h>

typedef enum { KL_K1 = 1, KL_K2 = 2, KL_K3 = 3 } KlEstimator;
typedef enum { LOSS_GRPO = 0, LOSS_BNPO = 1, LOSS_DAPO = 2, LOSS_DR_GRPO = 3 } LossType;

/* "k1".."k3", "grpo".."dr_grpo" -> the enums; -1 if unknown. */
int kl_estimator_parse(const char *name);
int loss_type_parse(const char *name);

typedef struct {
    double eps_low, eps_high; /* clip range of w: [1 - eps_low, 1 + eps_high] */
    double beta;              /* KL coefficient in the loss (0: no KL term) */
    KlEstimator kl;
    double entropy_coeff;
    int sequence_level;       /* GSPO: one weight per completion */
} GrpoLossConfig;

/* k(x) for x = q - l, and dk/dl (written to *dk_dl). */
double grpo_kl(KlEstimator est, double ref_logp, double logp, double *dk_dl);

/* Flags of one token, for the clip-fraction metrics (TRL's: low = w below
 * 1 - eps_lo with A < 0, high = w above 1 + eps_hi with A > 0). */
enum { CLIP_LOW = 1, CLIP_HIGH = 2 };

/* The loss of one token times its aggregation weight, and its derivatives.
 * Token level: log_w = l - o and c = coef. Sequence level: log_w = the
 * completion's mean (l - o) over its loss tokens, computed beforehand, and
 * the surrogate's derivative with respect to this token's l is
 * f'(w) * seq_coef / |y_i|, where seq_coef = sum_t c_it over the
 * completion, passed as seq_coef_per_token = seq_coef / |y_i|. The KL and
 * entropy terms are per token in both cases, weighted by coef.
 * Writes d(loss)/dl to *dl, d(loss)/dH to *dh, the clip flags to *flags
 * and the unweighted KL estimate to *kl_out (all nullable except dl, dh).
 * Returns the token's contribution to L. */
double grpo_token_loss(const GrpoLossConfig *c, double logp, double ent, double old_logp, double ref_logp,
                       double adv, double coef, double log_w, double seq_coef_per_token, float *dl, float *dh,
                       int *flags, double *kl_out);

/* The aggregation weight c of a token (above). n_seqs (N), seq_tokens
 * (|y_i|), batch_tokens (T), micro_tokens (T_m), n_micro (M) and
 * max_len (L_max) describe the whole batch over every rank, so the loss
 * does not depend on how the batch is split. */
double grpo_token_coef(LossType t, double n_seqs, double seq_tokens, double batch_tokens, double micro_tokens,
                       double n_micro, double max_len);

#endif
