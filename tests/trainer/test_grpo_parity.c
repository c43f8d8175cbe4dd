/*
 * test_grpo_parity.c: one whole GRPO update against an independent PyTorch
 * float64 reference (scripts/make_grpo_fixture.py; docs/fixtures.md): from
 * the same weights, batch, rewards, old and reference log-probs, the
 * trainer's path (group advantages, aggregation weights, the LM head's
 * weight callback at the sampling temperature, backward, clipping, AdamW)
 * must give the reference's advantages, loss, gradient norm and every
 * updated parameter.
 *
 * Tolerances: the loss and the gradient norm are sums of fp32 terms of
 * order 1 (1e-5 relative); every gradient coordinate at 1e-5 absolute +
 * 1e-4 relative to its tensor's largest (as test_parity); the parameters
 * after one AdamW step at 1e-5 absolute, except where the reference
 * gradient is below 1e-6, where Adam's first step lr g / (|g| + eps)
 * turns fp32 rounding of g into up to lr (those are counted and held to lr).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "fixture_h5.h"
#include "model/forward.h"
#include "model/optim.h"
#include "test.h"
#include "trainer/advantage.h"
#include "trainer/grpo_loss.h"

typedef struct {
    GrpoLossConfig lc;
    const float *old, *ref, *adv, *coef, *logw;
} Ctx;

static void weights(void *p, int n, float logp, float ent, float *wlp, float *went) {
    const Ctx *c = p;
    grpo_token_loss(&c->lc, logp, ent, c->old[n], c->ref[n], c->adv[n], c->coef[n], c->logw[n], c->coef[n], wlp, went,
                    NULL, NULL);
}

static void run_case(const char *name) {
    char path[600];
    snprintf(path, sizeof(path), "%s/fixtures/grpo/%s.h5", GRPO_TEST_DATA, name);
    g_file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (g_file < 0) FATAL("cannot open %s (run scripts/make_grpo_fixture.py)", path);
    char *cfg_text = read_config_attr();
    cJSON *cj = json_parse_named(cfg_text, strlen(cfg_text), path);
    ModelConfig cfg;
    if (!cj || model_config_from_json(&cfg, cj, path)) FATAL("%s", err_msg());
    cJSON_Delete(cj);
    free(cfg_text);
    Model m;
    model_init(&m, &cfg);
    model_alloc_grads(&m);
    size_t nt = model_tensors(&cfg, m.params, NULL, 0);
    TensorRef *t = xmalloc(nt * sizeof(TensorRef));
    model_tensors(&cfg, m.params, t, nt);
    load_tensors("model", t, nt, m.params, m.params);

    size_t N, B1, n_rewards;
    int *tokens = read_ints("inputs/tokens", &N), *starts = read_ints("inputs/seq_start", &B1);
    int *targets = read_ints("inputs/targets", NULL), *owner = read_ints("inputs/owner", NULL);
    double *oldd = read_doubles("inputs/old", NULL), *refd = read_doubles("inputs/ref", NULL);
    double *rewards = read_doubles("inputs/rewards", &n_rewards);
    double *want_adv = read_doubles("out/advantages", NULL);
    const int G = (int)read_scalar("config/group_size");
    Ctx c = {.lc = {.eps_low = read_scalar("config/eps_low"),
                    .eps_high = read_scalar("config/eps_high"),
                    .beta = read_scalar("config/beta"),
                    .kl = (KlEstimator)(int)read_scalar("config/kl"),
                    .entropy_coeff = read_scalar("config/entropy_coeff"),
                    .sequence_level = (int)read_scalar("config/sequence_level")}};
    const float temperature = (float)read_scalar("config/temperature");
    const LossType lt = (LossType)(int)read_scalar("config/loss_type");

    /* advantages, as the trainer computes them */
    float *adv = xmalloc(n_rewards * sizeof(float));
    advantage_compute(rewards, n_rewards / (size_t)G, (size_t)G, SCALE_GROUP, 0, adv);
    for (size_t i = 0; i < n_rewards; i++) TEST_CLOSE(adv[i], want_adv[i], 1e-6, "%s advantage %zu", name, i);

    /* per-token inputs and aggregation weights */
    float *old = xcalloc(N, sizeof(float)), *ref = xcalloc(N, sizeof(float)), *tadv = xcalloc(N, sizeof(float));
    float *coef = xcalloc(N, sizeof(float)), *logw = xcalloc(N, sizeof(float));
    double *len = xcalloc(n_rewards, sizeof(double)), total = 0;
    for (size_t n = 0; n < N; n++)
        if (owner[n] >= 0) len[owner[n]] += 1, total += 1;
    for (size_t n = 0; n < N; n++) {
        if (owner[n] < 0) continue;
        old[n] = (float)oldd[n], ref[n] = (float)refd[n], tadv[n] = adv[owner[n]];
        coef[n] = (float)grpo_token_coef(lt, (double)n_rewards, len[owner[n]], total, 0, 0, 0);
    }
    Batch b = {.n_seqs = (int)B1 - 1, .n_tokens = (int)N, .tokens = tokens, .seq_start = starts};
    Acts a;
    acts_init(&a, &cfg, (int)N, (int)N, 1, 0);
    float *logp = xmalloc(N * sizeof(float)), *ent = xmalloc(N * sizeof(float));
    if (model_forward(&m, &a, &b, NULL)) FATAL("%s", err_msg());
    if (c.lc.sequence_level) { /* GSPO: the mean log-ratio of each completion, from a forward of the head */
        model_logprobs_at(&m, &a, targets, logp, NULL, temperature);
        double *sum = xcalloc(n_rewards, sizeof(double));
        for (size_t n = 0; n < N; n++)
            if (owner[n] >= 0) sum[owner[n]] += logp[n] - old[n];
        for (size_t n = 0; n < N; n++)
            if (owner[n] >= 0) logw[n] = (float)(sum[owner[n]] / len[owner[n]]);
        free(sum);
    }
    c.old = old, c.ref = ref, c.adv = tadv, c.coef = coef, c.logw = logw;
    model_zero_grads(&m);
    BackwardSpec spec = {.fn = weights, .fn_ctx = &c, .temperature = temperature};
    model_backward_with(&m, &a, &b, targets, &spec, logp, ent);
    /* the loss from the same pass's log-probs and entropies */
    double loss = 0;
    for (size_t n = 0; n < N; n++) {
        if (owner[n] < 0) continue;
        float d1, d2;
        loss += grpo_token_loss(&c.lc, logp[n], ent[n], old[n], ref[n], tadv[n], coef[n], logw[n], coef[n], &d1, &d2,
                                NULL, NULL);
    }
    double want_loss = read_scalar("out/loss"), want_norm = read_scalar("out/grad_norm");
    TEST_CLOSE(loss, want_loss, 1e-5 * fmax(1.0, fabs(want_loss)), "%s loss", name);
    /* the gradient, before clipping */
    double gworst = 0;
    size_t gbad = 0;
    for (size_t i = 0; i < nt; i++) {
        char ds[300];
        snprintf(ds, sizeof(ds), "grad/%s", t[i].name);
        size_t n;
        double *want = read_doubles(ds, &n), scale = 0;
        for (size_t k = 0; k < n; k++) scale = fmax(scale, fabs(want[k]));
        const float *got = m.grads + (t[i].data - m.params);
        for (size_t k = 0; k < n; k++) {
            double e = fabs(got[k] - want[k]);
            gworst = fmax(gworst, e);
            if (e > 1e-5 + 1e-4 * scale && gbad++ < 5)
                fprintf(stderr, "  grad %s[%zu]: %.9g want %.9g\n", t[i].name, k, got[k], want[k]);
        }
        free(want);
    }
    TEST_CHECK(gbad == 0, "%s: %zu gradient coordinates differ", name, gbad);
    AdamWConfig oc = {.beta1 = read_scalar("adamw/beta1"), .beta2 = read_scalar("adamw/beta2"),
                      .eps = read_scalar("adamw/eps"), .weight_decay = read_scalar("adamw/weight_decay")};
    AdamW opt;
    adamw_init(&opt, &m, &oc);
    double norm = grad_clip(m.grads, m.n_params, read_scalar("config/max_grad_norm"));
    TEST_CLOSE(norm, want_norm, 1e-5 * want_norm, "%s gradient norm", name);
    const double lr = read_scalar("adamw/lr");
    adamw_step(&opt, m.params, m.grads, lr);
    /* every updated parameter. Adam's first step is lr g / (|g| + eps):
     * where the reference gradient is below 1e-6 (k_proj biases: softmax is
     * shift-invariant; about fp32's rounding of this model's gradients) an
     * fp32 gradient's last bits move the step by up to lr; those coordinates
     * are only held to lr, and counted. */
    double worst = 0;
    size_t bad = 0, tiny = 0;
    for (size_t i = 0; i < nt; i++) {
        char ds[300];
        snprintf(ds, sizeof(ds), "final/%s", t[i].name);
        size_t n;
        double *want = read_doubles(ds, &n);
        snprintf(ds, sizeof(ds), "grad/%s", t[i].name);
        double *g0 = read_doubles(ds, NULL);
        for (size_t k = 0; k < n; k++) {
            double e = fabs(t[i].data[k] - want[k]);
            int is_tiny = fabs(g0[k]) < 1e-6;
            tiny += is_tiny;
            if (!is_tiny) worst = fmax(worst, e);
            if (e > (is_tiny ? lr : 1e-5) && bad++ < 5)
                fprintf(stderr, "  %s[%zu]: %.9g want %.9g (grad %.3g)\n", t[i].name, k, t[i].data[k], want[k], g0[k]);
        }
        free(want);
        free(g0);
    }
    printf("%-14s loss %.8f (ref %.8f)  |g| %.6f (ref %.6f)  grads max |diff| %.3g  params max |diff| %.3g "
           "(%zu with |grad| < 1e-6 held to lr)\n",
           name, loss, want_loss, norm, want_norm, gworst, worst, tiny);
    TEST_CHECK(bad == 0, "%s: %zu parameters differ from the reference", name, bad);
    adamw_free(&opt);
    acts_free(&a);
    free(t), free(tokens), free(starts), free(targets), free(owner), free(oldd), free(refd), free(rewards);
    free(want_adv), free(adv), free(old), free(ref), free(tadv), free(coef), free(logw), free(len), free(logp), free(ent);
    model_free(&m);
    H5Fclose(g_file);
}

int main(void) {
    run_case("token_grpo");
    run_case("sequence_dapo");
    return test_summary();
}
