/*
 * optim.c: AdamW, gradient clipping and learning-rate schedules (optim.h).
 */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

void adamw_init(AdamW *opt, const Model *m, const AdamWConfig *cfg) {
    memset(opt, 0, sizeof(*opt));
    opt->cfg = *cfg;
    opt->n = m->n_params;
    opt->m = xalloc_aligned(opt->n * sizeof(float));
    opt->v = xalloc_aligned(opt->n * sizeof(float));
    size_t nt = model_tensors(&m->cfg, m->params, NULL, 0);
    TensorRef *t = xmalloc(nt * sizeof(TensorRef));
    model_tensors(&m->cfg, m->params, t, nt);
    opt->ranges = xmalloc(nt * sizeof(*opt->ranges));
    for (size_t i = 0; i < nt; i++) {
        if (t[i].ndim != 2) continue;
        size_t start = (size_t)(t[i].data - m->params);
        opt->ranges[opt->n_ranges][0] = start;
        opt->ranges[opt->n_ranges][1] = start + t[i].numel;
        opt->n_ranges++;
    }
    free(t);
}

void adamw_free(AdamW *opt) {
    free(opt->m);
    free(opt->v);
    free(opt->ranges);
    memset(opt, 0, sizeof(*opt));
}

void adamw_step(AdamW *opt, float *params, const float *grads, double lr) {
    opt->step++;
    const double b1 = opt->cfg.beta1, b2 = opt->cfg.beta2;
    const float bc1 = (float)(1.0 - pow(b1, (double)opt->step));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(b2, (double)opt->step));
    const float step_size = (float)lr / bc1, eps = (float)opt->cfg.eps;
    const float fb1 = (float)b1, fb2 = (float)b2;
    const float decay = (float)(1.0 - lr * opt->cfg.weight_decay);
    if (opt->cfg.weight_decay != 0.0) {
        for (size_t r = 0; r < opt->n_ranges; r++) {
            size_t a = opt->ranges[r][0], e = opt->ranges[r][1];
#pragma omp parallel for simd schedule(static)
            for (size_t i = a; i < e; i++) params[i] *= decay;
        }
    }
    float *m = opt->m, *v = opt->v;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < opt->n; i++) {
        float g = grads[i];
        m[i] = fb1 * m[i] + (1.0f - fb1) * g;
        v[i] = fb2 * v[i] + (1.0f - fb2) * g * g;
        params[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

#define NORM_PIECE 65536

double grad_norm(const float *g, size_t n) {
    size_t pieces = (n + NORM_PIECE - 1) / NORM_PIECE;
    double *part = xmalloc((pieces ? pieces : 1) * sizeof(double));
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < pieces; p++) {
        size_t a = p * NORM_PIECE, e = a + NORM_PIECE < n ? a + NORM_PIECE : n;
        double s = 0.0;
        for (size_t i = a; i < e; i++) s += (double)g[i] * g[i];
        part[p] = s;
    }
    double total = 0.0;
    for (size_t p = 0; p < pieces; p++) total += part[p];
    free(part);
    return sqrt(total);
}

double grad_clip(float *g, size_t n, double max_norm) {
    double norm = grad_norm(g, n);
    if (max_norm > 0.0) {
        double coef = max_norm / (norm + 1e-6);
        if (coef < 1.0) {
            float c = (float)coef;
#pragma omp parallel for simd schedule(static)
            for (size_t i = 0; i < n; i++) g[i] *= c;
        }
    }
    return norm;
}

double lr_at(const LRSchedule *s, long step) {
    if (step < s->warmup_steps) return s->lr * (double)step / (double)(s->warmup_steps > 1 ? s->warmup_steps : 1);
    if (s->kind == LR_CONSTANT) return s->lr;
    long span = s->total_steps - s->warmup_steps;
    double progress = span > 0 ? (double)(step - s->warmup_steps) / (double)span : 1.0;
    if (progress > 1.0) progress = 1.0;
    double f = s->kind == LR_LINEAR ? 1.0 - progress : 0.5 * (1.0 + cos(M_PI * progress));
    return s->lr * (s->min_lr_ratio + (1.0 - s->min_lr_ratio) * f);
}

int lr_kind_parse(const char *name) {
    if (!strcmp(name, "constant")) return LR_CONSTANT;
    if (!strcmp(name, "linear")) return LR_LINEAR;
    if (!strcmp(name, "cosine")) return LR_COSINE;
    return -1;
}
