/*
 * optim.h: AdamW (Loshchilov & Hutter 2019, decoupled weight decay, with
 * Adam's bias correction), global gradient-norm clipping and learning-rate
 * schedules, over the model's flat parameter block.
 * Not for: computing gradients or reducing them across ranks (trainer/).
 *
 * Update k (1-based) with learning rate lr, as torch.optim.AdamW:
 *   p <- p * (1 - lr * wd)                   (only for 2-D tensors)
 *   m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
 *   p <- p - lr / (1 - b1^k) * m / (sqrt(v) / sqrt(1 - b2^k) + eps)
 * Weight decay skips biases and norm weights (1-D tensors), as the HF
 * Trainer groups parameters.
 */
#ifndef GRPO_OPTIM_H
#define GRPO_OPTIM_H

#include <stddef.h>

#include "model.h"

typedef struct {
    double beta1, beta2, eps, weight_decay;
} AdamWConfig;

typedef struct {
    AdamWConfig cfg;
    size_t n;         /* floats in the block */
    float *m, *v;     /* (n) moments, parameter layout */
    long step;        /* updates applied so far */
    size_t n_ranges;  /* [start, end) float ranges that get weight decay */
    size_t (*ranges)[2];
} AdamW;

/* Zeroed moments for m's parameter block. */
void adamw_init(AdamW *opt, const Model *m, const AdamWConfig *cfg);
void adamw_free(AdamW *opt);
/* One update of params with grads at learning rate lr. */
void adamw_step(AdamW *opt, float *params, const float *grads, double lr);

/* L2 norm of a block, summed in fixed-size pieces in a fixed order, so the
 * result does not depend on the thread count. */
double grad_norm(const float *g, size_t n);
/* Scales g so its norm is at most max_norm (torch's clip_grad_norm_:
 * coefficient max_norm / (norm + 1e-6), capped at 1). Returns the norm
 * before clipping. max_norm <= 0 disables clipping. */
double grad_clip(float *g, size_t n, double max_norm);

typedef enum { LR_CONSTANT = 0, LR_LINEAR = 1, LR_COSINE = 2 } LRKind;

typedef struct {
    LRKind kind;
    double lr;           /* peak */
    long warmup_steps;
    long total_steps;
    double min_lr_ratio; /* floor of linear/cosine decay as a fraction of lr */
} LRSchedule;

/* The learning rate for update `step` (0-based), as HF's
 * get_{constant,linear,cosine}_schedule_with_warmup: linear warmup from 0
 * over warmup_steps, then constant, linear or half-cosine decay to
 * min_lr_ratio * lr at total_steps. */
double lr_at(const LRSchedule *s, long step);
/* "constant", "linear", "cosine" -> kind; -1 if unknown. */
int lr_kind_parse(const char *name);

#endif
