/*
 * test_grpo_loss.c: the GRPO loss terms (trainer/grpo_loss.h) and
 * advantages (trainer/advantage.h), each against values worked by hand and
 * against finite differences: both clip regions, the GSPO sequence ratio,
 * the three KL estimators (with k3's clamps), the four aggregations, the
 * entropy bonus; then the whole path the trainer uses, a tiny model's
 * parameter gradient from model_backward_with and the LM-head weight
 * callback at a temperature, against finite differences of the loss.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "model/forward.h"
#include "test.h"
#include "trainer/advantage.h"
#include "trainer/grpo_loss.h"

static Rng g_rng;

/* Central difference of the token loss in logp, in double precision. */
static double fd_logp(const GrpoLossConfig *c, double l, double ent, double o, double q, double a, double coef) {
    const double h = 1e-6;
    float dl, dh;
    double lp = grpo_token_loss(c, l + h, ent, o, q, a, coef, 0, coef, &dl, &dh, NULL, NULL);
    double lm = grpo_token_loss(c, l - h, ent, o, q, a, coef, 0, coef, &dl, &dh, NULL, NULL);
    return (lp - lm) / (2 * h);
}

static void test_kl(void) {
    double d;
    /* x = q - l = -0.5 */
    TEST_CLOSE(grpo_kl(KL_K1, -1.5, -1.0, &d), 0.5, 1e-12, "k1 = l - q");
    TEST_CLOSE(d, 1.0, 1e-12, "dk1/dl");
    TEST_CLOSE(grpo_kl(KL_K2, -1.5, -1.0, &d), 0.125, 1e-12, "k2 = x^2/2");
    TEST_CLOSE(d, 0.5, 1e-12, "dk2/dl = -x");
    TEST_CLOSE(grpo_kl(KL_K3, -1.5, -1.0, &d), exp(-0.5) + 0.5 - 1, 1e-12, "k3 = e^x - x - 1");
    TEST_CLOSE(d, 1 - exp(-0.5), 1e-12, "dk3/dl = 1 - e^x");
    TEST_CLOSE(grpo_kl(KL_K3, -2.0, -2.0, &d), 0.0, 1e-15, "k3 of equal policies");
    /* verl's clamps: k3 at most 10, x within [-20, 20], no gradient there */
    TEST_CLOSE(grpo_kl(KL_K3, 5.0, -1.0, &d), 10.0, 1e-12, "k3 clamped to 10 (x = 6)");
    TEST_CHECK(d == 0.0, "no gradient through the k3 clamp");
    TEST_CLOSE(grpo_kl(KL_K3, -31.0, -1.0, &d), 10.0, 1e-12, "x = -30: clamped to [-20, 20], then k3 to 10");
    TEST_CHECK(d == 0.0, "no gradient through the clamps");
    /* finite differences at a few points */
    const KlEstimator ests[] = {KL_K1, KL_K2, KL_K3};
    for (int e = 0; e < 3; e++)
        for (double x = -1.5; x <= 1.5; x += 0.75) {
            double q = -1.0 + x, l = -1.0, dd, h = 1e-6;
            grpo_kl(ests[e], q, l, &dd);
            double fd = (grpo_kl(ests[e], q, l + h, &d) - grpo_kl(ests[e], q, l - h, &d)) / (2 * h);
            TEST_CLOSE(dd, fd, 1e-6, "k%d derivative at x = %g", (int)ests[e], x);
        }
}

static void test_token_loss(void) {
    GrpoLossConfig c = {.eps_low = 0.2, .eps_high = 0.28, .beta = 0.0, .kl = KL_K3, .entropy_coeff = 0.0};
    float dl, dh;
    int flags;
    /* inside the clip range: loss = -coef w A, d/dl = -coef w A (w = e^0.1) */
    double w = exp(0.1);
    TEST_CLOSE(grpo_token_loss(&c, -1.0, 0, -1.1, 0, 2.0, 0.5, 0, 0.5, &dl, &dh, &flags, NULL), -0.5 * w * 2, 1e-12,
               "unclipped loss");
    TEST_CLOSE(dl, -0.5 * w * 2, 1e-6, "unclipped gradient");
    TEST_CHECK(flags == 0, "no clip flag");
    /* A > 0 above 1 + eps_high: clipped, constant, no gradient */
    w = exp(0.4);
    TEST_CLOSE(grpo_token_loss(&c, -1.0, 0, -1.4, 0, 2.0, 1.0, 0, 1.0, &dl, &dh, &flags, NULL), -1.28 * 2, 1e-12,
               "high clip value");
    TEST_CHECK(dl == 0.0f && flags == CLIP_HIGH, "high clip: dl %g flags %d", dl, flags);
    /* A < 0 below 1 - eps_low: clipped */
    TEST_CLOSE(grpo_token_loss(&c, -1.5, 0, -1.0, 0, -1.0, 1.0, 0, 1.0, &dl, &dh, &flags, NULL), 0.8, 1e-12,
               "low clip value: -min(w A, 0.8 A) = 0.8");
    TEST_CHECK(dl == 0.0f && flags == CLIP_LOW, "low clip: dl %g flags %d", dl, flags);
    /* A < 0 above 1 + eps_high: the unclipped term is the min, gradient flows */
    w = exp(0.5);
    TEST_CLOSE(grpo_token_loss(&c, -0.5, 0, -1.0, 0, -1.0, 1.0, 0, 1.0, &dl, &dh, &flags, NULL), w, 1e-12,
               "A < 0, w above the range: unclipped");
    TEST_CLOSE(dl, w, 1e-6, "its gradient -w A");
    /* A > 0 below 1 - eps_low: unclipped as well */
    w = exp(-0.5);
    grpo_token_loss(&c, -1.5, 0, -1.0, 0, 1.0, 1.0, 0, 1.0, &dl, &dh, &flags, NULL);
    TEST_CLOSE(dl, -w, 1e-6, "A > 0, w below the range: gradient -w");
    /* KL and entropy terms: coef (beta k3 - ec H) */
    c.beta = 0.1, c.entropy_coeff = 0.01;
    double q = -1.3, l = -1.0, kl = 0;
    double k3 = exp(q - l) - (q - l) - 1;
    double got = grpo_token_loss(&c, l, 2.5, l, q, 0.0, 0.5, 0, 0.5, &dl, &dh, &flags, &kl);
    TEST_CLOSE(got, 0.5 * (0.1 * k3 - 0.01 * 2.5), 1e-12, "KL and entropy terms (A = 0)");
    TEST_CLOSE(kl, k3, 1e-12, "the KL estimate reported");
    TEST_CLOSE(dl, 0.5 * 0.1 * (1 - exp(q - l)), 1e-7, "KL gradient");
    TEST_CLOSE(dh, -0.5 * 0.01, 1e-9, "entropy gradient -coef ec");
    /* finite differences over both clip regions and every estimator */
    const KlEstimator ests[] = {KL_K1, KL_K2, KL_K3};
    int n_fd = 0;
    for (int e = 0; e < 3; e++)
        for (double a = -1.5; a <= 1.5; a += 1.0)
            for (double lr = -0.6; lr <= 0.6; lr += 0.15) {
                GrpoLossConfig cc = {.eps_low = 0.2, .eps_high = 0.3, .beta = 0.05, .kl = ests[e]};
                double o = -1.2, lcur = o + lr;
                /* skip the kinks at the clip bounds */
                if (fabs(exp(lr) - 0.8) < 1e-3 || fabs(exp(lr) - 1.3) < 1e-3) continue;
                grpo_token_loss(&cc, lcur, 0, o, -1.0, a, 0.7, 0, 0.7, &dl, &dh, NULL, NULL);
                TEST_CLOSE(dl, fd_logp(&cc, lcur, 0, o, -1.0, a, 0.7), 2e-6, "k%d A %g log ratio %g", (int)ests[e], a,
                           lr);
                n_fd++;
            }
    TEST_CHECK(n_fd >= 90, "finite-difference points: %d", n_fd);
}

/* GSPO: one weight per completion, w = exp(mean_t (l_t - o_t)). The
 * sequence's loss as a function of its log-probs, and its gradient from
 * the per-token derivatives. */
static void test_sequence_level(void) {
    GrpoLossConfig c = {.eps_low = 3e-4, .eps_high = 4e-4, .beta = 0.02, .kl = KL_K3, .sequence_level = 1};
    enum { T = 5 };
    double l[T] = {-1.0, -0.5, -2.0, -0.7, -1.2}, o[T], q[T];
    for (int t = 0; t < T; t++) o[t] = l[t] + 0.0001 * (t - 2), q[t] = l[t] - 0.1;
    const double coef = 1.0 / T, A = 0.8;
    for (int trial = 0; trial < 2; trial++) {
        if (trial == 1) /* push the ratio out of the tiny clip range: gradient only from the KL term */
            for (int t = 0; t < T; t++) o[t] = l[t] - 0.01;
        double mean = 0;
        for (int t = 0; t < T; t++) mean += (l[t] - o[t]) / T;
        float dl[T], dh;
        double loss = 0;
        for (int t = 0; t < T; t++) loss += grpo_token_loss(&c, l[t], 0, o[t], q[t], A, coef, mean, coef, &dl[t], &dh,
                                                            NULL, NULL);
        /* by hand: sum_t c (-min(w A, clip(w) A)) = -w A for w in range */
        if (trial == 0) TEST_CLOSE(loss, -exp(mean) * A + 0.02 * coef * 0, 0.02, "sequence loss near -w A");
        for (int t = 0; t < T; t++) {
            const double h = 1e-6;
            double s[2];
            for (int side = 0; side < 2; side++) {
                double lt[T];
                memcpy(lt, l, sizeof(lt));
                lt[t] += side ? -h : h;
                double m = 0;
                for (int u = 0; u < T; u++) m += (lt[u] - o[u]) / T;
                s[side] = 0;
                float d1, d2;
                for (int u = 0; u < T; u++)
                    s[side] += grpo_token_loss(&c, lt[u], 0, o[u], q[u], A, coef, m, coef, &d1, &d2, NULL, NULL);
            }
            TEST_CLOSE(dl[t], (s[0] - s[1]) / (2 * h), 1e-6, "GSPO d/dl[%d] (trial %d)", t, trial);
        }
    }
}

static void test_coefficients(void) {
    /* N = 4 completions, this one with 10 loss tokens, T = 30 in the batch,
     * its micro-batch holds 12 of M = 3, L_max 16 */
    TEST_CLOSE(grpo_token_coef(LOSS_GRPO, 4, 10, 30, 12, 3, 16), 1.0 / 40, 1e-15, "grpo 1/(N |y|)");
    TEST_CLOSE(grpo_token_coef(LOSS_BNPO, 4, 10, 30, 12, 3, 16), 1.0 / 36, 1e-15, "bnpo 1/(M T_m)");
    TEST_CLOSE(grpo_token_coef(LOSS_DAPO, 4, 10, 30, 12, 3, 16), 1.0 / 30, 1e-15, "dapo 1/T");
    TEST_CLOSE(grpo_token_coef(LOSS_DR_GRPO, 4, 10, 30, 12, 3, 16), 1.0 / 64, 1e-15, "dr_grpo 1/(N L_max)");
    TEST_CHECK(grpo_token_coef(LOSS_GRPO, 4, 0, 30, 12, 3, 16) == 0.0, "an empty completion weighs nothing");
    /* every aggregation sums to 1 over its unit when all losses are 1 */
    const double lens[4] = {10, 5, 7, 8};
    double sum_grpo = 0, sum_dapo = 0;
    for (int i = 0; i < 4; i++) {
        sum_grpo += lens[i] * grpo_token_coef(LOSS_GRPO, 4, lens[i], 30, 0, 0, 16);
        sum_dapo += lens[i] * grpo_token_coef(LOSS_DAPO, 4, lens[i], 30, 0, 0, 16);
    }
    TEST_CLOSE(sum_grpo, 1.0, 1e-12, "grpo: mean of sequence means");
    TEST_CLOSE(sum_dapo, 1.0, 1e-12, "dapo: token mean");
    TEST_CHECK(loss_type_parse("dr_grpo") == LOSS_DR_GRPO && loss_type_parse("x") == -1, "loss_type names");
    TEST_CHECK(kl_estimator_parse("k2") == KL_K2 && kl_estimator_parse("k4") == -1, "estimator names");
}

static void test_advantages(void) {
    /* group 0: 1, 0, 0, 1 (mean 0.5, sample std 1/sqrt(3)); group 1: all 1 */
    const double r[8] = {1, 0, 0, 1, 1, 1, 1, 1};
    float a[8];
    size_t flat = advantage_compute(r, 2, 4, SCALE_GROUP, 0, a);
    const double sd = sqrt(1.0 / 3.0);
    TEST_CHECK(flat == 1, "one flat group (%zu)", flat);
    TEST_CLOSE(a[0], 0.5 / (sd + 1e-4), 1e-6, "group: (r - mean) / (std + 1e-4)");
    TEST_CLOSE(a[1], -0.5 / (sd + 1e-4), 1e-6, "negative side");
    for (int i = 4; i < 8; i++) TEST_CHECK(a[i] == 0.0f, "flat group advantage 0");
    advantage_compute(r, 2, 4, SCALE_NONE, 0, a);
    TEST_CLOSE(a[0], 0.5, 1e-7, "none (Dr. GRPO): r - mean");
    double mom[2];
    advantage_batch_moments(r, 8, mom);
    double bsd = advantage_std(mom[0], mom[1], 8); /* 6 ones, 2 zeros: mean .75, var (6*.0625+2*.5625)/7 */
    TEST_CLOSE(bsd, sqrt((6 * 0.0625 + 2 * 0.5625) / 7), 1e-12, "batch sample std");
    advantage_compute(r, 2, 4, SCALE_BATCH, bsd, a);
    TEST_CLOSE(a[0], 0.5 / (bsd + 1e-4), 1e-6, "batch: group mean, batch std");
    TEST_CHECK(scale_rewards_parse("batch") == SCALE_BATCH && scale_rewards_parse("grp") == -1, "scale names");
}

/* ---- the trainer's whole path on a tiny model ---- */

typedef struct {
    Model *m;
    Acts *a;
    const Batch *b;
    const int *tg;
    const float *old, *ref, *adv, *coef;
    float temperature;
    GrpoLossConfig lc;
    float *logp, *ent;
} Path;

static void weight_fn(void *ctx, int n, float logp, float ent, float *wlp, float *went) {
    const Path *p = ctx;
    grpo_token_loss(&p->lc, logp, ent, p->old[n], p->ref[n], p->adv[n], p->coef[n], 0, p->coef[n], wlp, went, NULL,
                    NULL);
}

static double path_loss(Path *p) {
    if (model_forward(p->m, p->a, p->b, NULL)) FATAL("%s", err_msg());
    model_logprobs_at(p->m, p->a, p->tg, p->logp, p->ent, p->temperature);
    double loss = 0;
    float dl, dh;
    for (int n = 0; n < p->b->n_tokens; n++)
        if (p->tg[n] >= 0)
            loss += grpo_token_loss(&p->lc, p->logp[n], p->ent[n], p->old[n], p->ref[n], p->adv[n], p->coef[n], 0,
                                    p->coef[n], &dl, &dh, NULL, NULL);
    return loss;
}

static void test_model_path(void) {
    ModelConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.model_type, sizeof(cfg.model_type), "qwen2");
    cfg.vocab_size = 40, cfg.hidden_size = 16, cfg.num_hidden_layers = 2, cfg.num_attention_heads = 4;
    cfg.num_key_value_heads = 2, cfg.head_dim = 4, cfg.intermediate_size = 24, cfg.max_position_embeddings = 64;
    cfg.rope_theta = 10000, cfg.rms_norm_eps = 1e-6, cfg.tie_word_embeddings = 1, cfg.initializer_range = 0.3;
    Model m;
    TEST_CHECK(model_init(&m, &cfg) == 0, "%s", err_msg());
    model_init_random(&m, 11);
    model_alloc_grads(&m);
    /* two sequences: prompt 4 + completion 5, prompt 3 + completion 6 */
    static const int starts[] = {0, 9, 18};
    int N = 18, tokens[18], tg[18];
    float old[18], ref[18], adv[18], coef[18], logp[18], ent[18];
    for (int i = 0; i < N; i++) tokens[i] = (int)rng_below(&g_rng, 40);
    for (int s = 0; s < 2; s++) {
        const int prompt = s == 0 ? 4 : 3;
        for (int i = starts[s]; i < starts[s + 1]; i++) {
            const int has = i - starts[s] >= prompt - 1 && i + 1 < starts[s + 1];
            tg[i] = has ? tokens[i + 1] : -1;
            adv[i] = s == 0 ? 1.3f : -0.7f;
            coef[i] = has ? 0.1f : 0.0f;
            ref[i] = -3.5f + 0.2f * (float)(i % 3);
        }
    }
    Batch b = {.n_seqs = 2, .n_tokens = N, .tokens = tokens, .seq_start = starts};
    Acts a;
    TEST_CHECK(acts_init(&a, &cfg, 32, 32, 1, 0) == 0, "%s", err_msg());
    Path p = {&m, &a, &b, tg, old, ref, adv, coef, 0.7f,
              {.eps_low = 0.2, .eps_high = 0.28, .beta = 0.04, .kl = KL_K3, .entropy_coeff = 0.01}, logp, ent};
    /* an old policy a little away from the current one, some tokens clipped */
    path_loss(&p);
    for (int i = 0; i < N; i++) old[i] = logp[i] + (i % 4 == 0 ? 0.5f : 0.02f * (float)(i % 5 - 2));
    double base = path_loss(&p);
    model_zero_grads(&m);
    BackwardSpec spec = {.fn = weight_fn, .fn_ctx = &p, .temperature = 0.7f};
    if (model_forward(&m, &a, &b, NULL) == 0) model_backward_with(&m, &a, &b, tg, &spec, logp, ent);
    /* finite differences of the loss on sampled parameters, float model */
    int bad = 0, checked = 0;
    double worst = 0;
    for (int k = 0; k < 200; k++) {
        size_t i = rng_below(&g_rng, (uint32_t)m.n_params);
        const float h = 2e-3f, x = m.params[i];
        m.params[i] = x + h;
        double lp = path_loss(&p);
        m.params[i] = x - h;
        double lm = path_loss(&p);
        m.params[i] = x;
        double fd = (lp - lm) / (2.0 * h), an = m.grads[i], err = fabs(fd - an);
        if (err > worst) worst = err;
        if (err > 2e-4 + 3e-2 * fabs(an)) {
            if (bad < 5) fprintf(stderr, "  param %zu: fd %.6g analytic %.6g\n", i, fd, an);
            bad++;
        }
        checked++;
    }
    printf("model path: loss %.6f, %d parameters checked, max |fd - analytic| = %.3g\n", base, checked, worst);
    TEST_CHECK(bad == 0, "model path gradient: %d of %d parameters off", bad, checked);
    acts_free(&a);
    model_free(&m);
}

int main(void) {
    rng_init(&g_rng, 99, 0, 0, 0);
    test_kl();
    test_token_loss();
    test_sequence_level();
    test_coefficients();
    test_advantages();
    test_model_path();
    return test_summary();
}
