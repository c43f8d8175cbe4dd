/*
 * grpo_loss.c: the per-token GRPO loss and its derivatives (grpo_loss.h).
 */
#include "grpo_loss.h"

#include <math.h>
#include <string.h>

int kl_estimator_parse(const char *name) {
    if (!strcmp(name, "k1")) return KL_K1;
    if (!strcmp(name, "k2")) return KL_K2;
    if (!strcmp(name, "k3")) return KL_K3;
    return -1;
}

int loss_type_parse(const char *name) {
    static const char *const names[] = {"grpo", "bnpo", "dapo", "dr_grpo"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, names[i])) return i;
    return -1;
}

/* verl's low_var_kl bounds: the log ratio to [-20, 20], k3 to at most 10. */
#define K3_X_MAX 20.0
#define K3_MAX 10.0

double grpo_kl(KlEstimator est, double ref_logp, double logp, double *dk_dl) {
    const double x = ref_logp - logp; /* dx/dl = -1 */
    switch (est) {
    case KL_K1:
        *dk_dl = 1.0;
        return -x;
    case KL_K2:
        *dk_dl = -x;
        return 0.5 * x * x;
    case KL_K3: {
        double xc = x < -K3_X_MAX ? -K3_X_MAX : x > K3_X_MAX ? K3_X_MAX : x;
        double e = exp(xc), k = e - xc - 1.0;
        if (k > K3_MAX || xc != x) {
            *dk_dl = 0.0; /* a clamp is active: no gradient, as in verl */
            return k > K3_MAX ? K3_MAX : k;
        }
        *dk_dl = -(e - 1.0);
        return k;
    }
    }
    *dk_dl = 0.0;
    return 0.0;
}

double grpo_token_loss(const GrpoLossConfig *c, double logp, double ent, double old_logp, double ref_logp,
                       double adv, double coef, double log_w, double seq_coef_per_token, float *dl, float *dh,
                       int *flags, double *kl_out) {
    if (!c->sequence_level) log_w = logp - old_logp;
    const double w = exp(log_w);
    const double lo = 1.0 - c->eps_low, hi = 1.0 + c->eps_high;
    const double wc = w < lo ? lo : w > hi ? hi : w;
    /* -min(w A, clip(w) A); the clip is active where it picks the bound */
    const int high = adv > 0 && w > hi, low = adv < 0 && w < lo;
    const double surrogate = -fmin(w * adv, wc * adv);
    const double dsur = high || low ? 0.0 : -w * adv; /* d surrogate / d log_w */
    double dk = 0.0, kl = 0.0;
    if (c->beta != 0.0 || kl_out) kl = grpo_kl(c->kl, ref_logp, logp, &dk);
    const double sur_scale = c->sequence_level ? seq_coef_per_token : coef;
    *dl = (float)(sur_scale * dsur + coef * c->beta * dk);
    *dh = (float)(-coef * c->entropy_coeff);
    if (flags) *flags = (low ? CLIP_LOW : 0) | (high ? CLIP_HIGH : 0);
    if (kl_out) *kl_out = kl;
    return coef * (surrogate + c->beta * kl - c->entropy_coeff * ent);
}

double grpo_token_coef(LossType t, double n_seqs, double seq_tokens, double batch_tokens, double micro_tokens,
                       double n_micro, double max_len) {
    switch (t) {
    case LOSS_GRPO: return n_seqs > 0 && seq_tokens > 0 ? 1.0 / (n_seqs * seq_tokens) : 0.0;
    case LOSS_BNPO: return n_micro > 0 && micro_tokens > 0 ? 1.0 / (n_micro * micro_tokens) : 0.0;
    case LOSS_DAPO: return batch_tokens > 0 ? 1.0 / batch_tokens : 0.0;
    case LOSS_DR_GRPO: return n_seqs > 0 && max_len > 0 ? 1.0 / (n_seqs * max_len) : 0.0;
    }
    return 0.0;
}
