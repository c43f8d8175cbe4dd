/*
 * test_optim.c: AdamW, clipping and schedules against closed forms.
 * - One AdamW step from zero moments moves every parameter by lr * g /
 *   (|g| + eps') (bias correction makes m_hat = g, v_hat = g^2), so by
 *   almost exactly lr * sign(g); 2-D tensors also shrink by lr*wd*p first,
 *   1-D tensors (norms, biases) do not.
 * - Clipping: the result's norm equals max_norm (within 1e-6 relative),
 *   and a norm below max_norm is left alone; the norm does not depend on the
 *   OpenMP thread count.
 * - Schedules: HF's warmup and linear/cosine values at chosen steps.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "model/model.h"
#include "model/optim.h"
#include "test.h"

int main(void) {
    ModelConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.model_type, sizeof(cfg.model_type), "llama");
    cfg.vocab_size = 11, cfg.hidden_size = 8, cfg.num_hidden_layers = 1, cfg.num_attention_heads = 2;
    cfg.num_key_value_heads = 1, cfg.head_dim = 4, cfg.intermediate_size = 12, cfg.max_position_embeddings = 16;
    cfg.rope_theta = 1e4, cfg.rms_norm_eps = 1e-6, cfg.initializer_range = 0.5;
    Model m;
    TEST_CHECK(model_init(&m, &cfg) == 0, "%s", err_msg());
    model_init_random(&m, 3);
    model_alloc_grads(&m);
    for (size_t i = 0; i < m.n_params; i++) m.grads[i] = (float)((i % 7) - 3) * 0.01f + 0.001f;
    float *p0 = xmalloc(m.n_params * sizeof(float));
    memcpy(p0, m.params, m.n_params * sizeof(float));
    AdamWConfig oc = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1};
    AdamW opt;
    adamw_init(&opt, &m, &oc);
    const double lr = 1e-2;
    adamw_step(&opt, m.params, m.grads, lr);
    size_t nt = model_tensors(&cfg, m.params, NULL, 0);
    TensorRef *t = xmalloc(nt * sizeof(TensorRef));
    model_tensors(&cfg, m.params, t, nt);
    double worst = 0;
    for (size_t i = 0; i < nt; i++) {
        size_t off = (size_t)(t[i].data - m.params);
        double wd = t[i].ndim == 2 ? 0.1 : 0.0;
        for (size_t k = 0; k < t[i].numel; k++) {
            double g = m.grads[off + k], p = p0[off + k];
            double want = p * (1 - lr * wd) - lr * g / (fabs(g) + 1e-8);
            worst = fmax(worst, fabs(m.params[off + k] - want));
        }
    }
    TEST_CHECK(worst < 2e-7, "first AdamW step off by %g", worst);
    /* Second step, closed form with bias correction. */
    float *p1 = xmalloc(m.n_params * sizeof(float));
    memcpy(p1, m.params, m.n_params * sizeof(float));
    adamw_step(&opt, m.params, m.grads, lr);
    worst = 0;
    for (size_t i = 0; i < nt; i++) {
        size_t off = (size_t)(t[i].data - m.params);
        double wd = t[i].ndim == 2 ? 0.1 : 0.0;
        for (size_t k = 0; k < t[i].numel; k++) {
            double g = m.grads[off + k];
            double mm = 0.1 * g * 0.9 + 0.1 * g, vv = 0.001 * g * g * 0.999 + 0.001 * g * g;
            double mh = mm / (1 - 0.81), vh = vv / (1 - 0.999 * 0.999);
            double want = p1[off + k] * (1 - lr * wd) - lr * mh / (sqrt(vh) + 1e-8);
            worst = fmax(worst, fabs(m.params[off + k] - want));
        }
    }
    TEST_CHECK(worst < 2e-7, "second AdamW step off by %g", worst);

    /* clipping */
    double n0 = grad_norm(m.grads, m.n_params);
    omp_set_num_threads(1);
    double n1 = grad_norm(m.grads, m.n_params);
    omp_set_num_threads(2);
    TEST_CHECK(n0 == n1, "grad_norm depends on the thread count: %.17g vs %.17g", n0, n1);
    double before = grad_clip(m.grads, m.n_params, 0.5 * n0);
    TEST_CLOSE(before, n0, 0, "clip returns the pre-clip norm");
    TEST_CLOSE(grad_norm(m.grads, m.n_params), 0.5 * n0, 1e-6 * n0, "clipped norm");
    double n2 = grad_norm(m.grads, m.n_params);
    grad_clip(m.grads, m.n_params, 10 * n2);
    TEST_CLOSE(grad_norm(m.grads, m.n_params), n2, 0, "no clipping below the limit");

    /* schedules (HF get_*_schedule_with_warmup) */
    LRSchedule s = {.kind = LR_LINEAR, .lr = 1.0, .warmup_steps = 10, .total_steps = 110, .min_lr_ratio = 0.0};
    TEST_CLOSE(lr_at(&s, 0), 0.0, 1e-12, "warmup start");
    TEST_CLOSE(lr_at(&s, 5), 0.5, 1e-12, "warmup middle");
    TEST_CLOSE(lr_at(&s, 10), 1.0, 1e-12, "peak");
    TEST_CLOSE(lr_at(&s, 60), 0.5, 1e-12, "linear middle");
    TEST_CLOSE(lr_at(&s, 110), 0.0, 1e-12, "linear end");
    s.kind = LR_COSINE;
    TEST_CLOSE(lr_at(&s, 60), 0.5, 1e-12, "cosine middle");
    TEST_CLOSE(lr_at(&s, 35), 0.5 * (1 + cos(M_PI * 0.25)), 1e-12, "cosine quarter");
    s.min_lr_ratio = 0.1;
    TEST_CLOSE(lr_at(&s, 110), 0.1, 1e-12, "cosine floor");
    s.kind = LR_CONSTANT;
    TEST_CLOSE(lr_at(&s, 100), 1.0, 1e-12, "constant");
    TEST_CHECK(lr_kind_parse("cosine") == LR_COSINE && lr_kind_parse("cosin") == -1, "lr_kind_parse");

    adamw_free(&opt);
    free(p0), free(p1), free(t);
    model_free(&m);
    return test_summary();
}
