/*
 * test_grad.c: every backward against central finite differences.
 * Each kernel gets a scalar objective f = sum(out * R) for a fixed random R;
 * the analytic gradient of f is compared with (f(x+h) - f(x-h)) / 2h at
 * sampled coordinates. Objectives are accumulated in double, so the
 * float32 forward's rounding (about 1e-7 relative per op) divided by 2h
 * sets the tolerance: |fd - an| <= 3e-3 + 3e-2 |an|.
 * The whole model is then checked the same way on tiny configs (GQA, bias,
 * qk-norm, tied and untied) with J = sum wlp*logp + went*ent.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "model/attention.h"
#include "model/forward.h"
#include "model/kernels.h"
#include "model/lmhead.h"
#include "model/model.h"
#include "test.h"

static Rng g_rng;

static void fill(float *x, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(scale * rng_normal(&g_rng));
}

static double dotd(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* An objective over a mutable input: f(ctx) evaluated after the caller
 * changed one coordinate. */
typedef double (*Objective)(void *ctx);

/* Compares analytic gradient `an` of f w.r.t. x (n floats) at `samples`
 * coordinates (all if samples >= n). Returns the max abs error seen. */
static double check_fd(const char *what, Objective f, void *ctx, float *x, const float *an, size_t n, size_t samples,
                       float h) {
    double worst = 0;
    int bad = 0;
    for (size_t s = 0; s < (samples < n ? samples : n); s++) {
        size_t i = samples >= n ? s : rng_below(&g_rng, (uint32_t)n);
        float old = x[i];
        x[i] = old + h;
        double fp = f(ctx);
        x[i] = old - h;
        double fm = f(ctx);
        x[i] = old;
        double fd = (fp - fm) / (2.0 * h);
        double err = fabs(fd - an[i]);
        if (err > worst) worst = err;
        if (err > 3e-3 + 3e-2 * fabs(an[i])) {
            if (bad < 5) fprintf(stderr, "  %s[%zu]: fd %.6g analytic %.6g\n", what, i, fd, (double)an[i]);
            bad++;
        }
    }
    TEST_CHECK(bad == 0, "%s: %d coordinates off (max abs err %.3g)", what, bad, worst);
    printf("%-28s max |fd - analytic| = %.3g\n", what, worst);
    return worst;
}

/* ---------------- RMSNorm ---------------- */
typedef struct {
    float *x, *w, *R, *out, *rstd;
    int N, C;
} NormCtx;

static double f_rmsnorm(void *p) {
    NormCtx *c = p;
    rmsnorm_forward(c->out, c->rstd, c->x, c->w, c->N, c->C, 1e-6f);
    return dotd(c->out, c->R, (size_t)c->N * c->C);
}

static void test_rmsnorm(void) {
    int N = 5, C = 24;
    NormCtx c = {xmalloc(N * C * 4), xmalloc(C * 4), xmalloc(N * C * 4), xmalloc(N * C * 4), xmalloc(N * 4), N, C};
    fill(c.x, N * C, 1.0f);
    fill(c.w, C, 1.0f);
    fill(c.R, N * C, 1.0f);
    float *dx = xcalloc(N * C, 4), *dw = xcalloc(C, 4), *scr = xmalloc(64 * C * 4);
    f_rmsnorm(&c);
    rmsnorm_backward(dx, dw, c.R, c.x, c.w, c.rstd, N, C, scr);
    check_fd("rmsnorm dx", f_rmsnorm, &c, c.x, dx, N * C, 60, 1e-2f);
    check_fd("rmsnorm dw", f_rmsnorm, &c, c.w, dw, C, 60, 1e-2f);
    free(c.x), free(c.w), free(c.R), free(c.out), free(c.rstd), free(dx), free(dw), free(scr);
}

/* ---------------- per-head norm ---------------- */
static double f_headnorm(void *p) {
    NormCtx *c = p;
    headnorm_forward(c->out, c->C, c->rstd, c->x, c->C, c->w, c->N, 3, c->C / 3, 1e-6f);
    return dotd(c->out, c->R, (size_t)c->N * c->C);
}

static void test_headnorm(void) {
    int N = 4, C = 24; /* 3 heads of 8 */
    NormCtx c = {xmalloc(N * C * 4), xmalloc(8 * 4), xmalloc(N * C * 4), xmalloc(N * C * 4), xmalloc(N * 3 * 4), N, C};
    fill(c.x, N * C, 1.0f);
    fill(c.w, 8, 1.0f);
    fill(c.R, N * C, 1.0f);
    float *dx = xcalloc(N * C, 4), *dw = xcalloc(8, 4), *scr = xmalloc(64 * 8 * 4), *dy = xmalloc(N * C * 4);
    f_headnorm(&c);
    memcpy(dy, c.R, N * C * 4);
    headnorm_backward(dx, C, dw, dy, C, c.x, C, c.w, c.rstd, N, 3, 8, scr);
    check_fd("headnorm dx", f_headnorm, &c, c.x, dx, N * C, 60, 1e-2f);
    check_fd("headnorm dw", f_headnorm, &c, c.w, dw, 8, 8, 1e-2f);
    /* in place (dinp == dout), as forward.c uses it */
    float *dx2 = xmalloc(N * C * 4), *dw2 = xcalloc(8, 4);
    memcpy(dx2, c.R, N * C * 4);
    headnorm_backward(dx2, C, dw2, dx2, C, c.x, C, c.w, c.rstd, N, 3, 8, scr);
    double md = 0;
    for (int i = 0; i < N * C; i++) md = fmax(md, fabs(dx2[i] - dx[i]));
    TEST_CHECK(md == 0.0, "headnorm in-place differs by %g", md);
    free(c.x), free(c.w), free(c.R), free(c.out), free(c.rstd), free(dx), free(dw), free(scr), free(dy), free(dx2),
        free(dw2);
}

/* ---------------- SwiGLU ---------------- */
typedef struct {
    float *gu, *R, *h;
    int N, F;
} SwiCtx;

static double f_swiglu(void *p) {
    SwiCtx *c = p;
    swiglu_forward(c->h, c->gu, c->N, c->F);
    return dotd(c->h, c->R, (size_t)c->N * c->F);
}

static void test_swiglu(void) {
    SwiCtx c = {xmalloc(4 * 20 * 4), xmalloc(4 * 10 * 4), xmalloc(4 * 10 * 4), 4, 10};
    fill(c.gu, 80, 2.0f);
    fill(c.R, 40, 1.0f);
    float *dgu = xmalloc(80 * 4);
    swiglu_backward(dgu, c.R, c.gu, 4, 10);
    check_fd("swiglu dgu", f_swiglu, &c, c.gu, dgu, 80, 80, 1e-2f);
    free(c.gu), free(c.R), free(c.h), free(dgu);
}

/* ---------------- RoPE ---------------- */
typedef struct {
    float *x, *y, *R, *cs, *sn;
    int *pos, N, HD, H;
} RopeCtx;

static double f_rope(void *p) {
    RopeCtx *c = p;
    memcpy(c->y, c->x, (size_t)c->N * c->H * c->HD * 4);
    rope_forward(c->y, c->H * c->HD, c->H, c->pos, c->cs, c->sn, c->N, c->HD);
    return dotd(c->y, c->R, (size_t)c->N * c->H * c->HD);
}

static void test_rope(void) {
    int N = 6, HD = 8, H = 2, n = N * H * HD;
    RopeCtx c = {xmalloc(n * 4), xmalloc(n * 4), xmalloc(n * 4), xmalloc(32 * 4 * 4), xmalloc(32 * 4 * 4),
                 xmalloc(N * sizeof(int)), N, HD, H};
    rope_tables(c.cs, c.sn, 32, HD, 10000.0, "", 1, 1, 4, 0);
    for (int i = 0; i < N; i++) c.pos[i] = (i * 7) % 32;
    fill(c.x, n, 1.0f);
    fill(c.R, n, 1.0f);
    float *dx = xmalloc(n * 4);
    memcpy(dx, c.R, n * 4);
    rope_backward(dx, H * HD, H, c.pos, c.cs, c.sn, N, HD);
    check_fd("rope dx", f_rope, &c, c.x, dx, n, n, 1e-2f);
    free(c.x), free(c.y), free(c.R), free(c.cs), free(c.sn), free(c.pos), free(dx);
}

/* ---------------- matmul ---------------- */
typedef struct {
    float *x, *w, *b, *R, *out;
    int N, IC, OC;
} MMCtx;

static double f_mm(void *p) {
    MMCtx *c = p;
    matmul_forward(c->out, c->OC, c->x, c->IC, c->w, c->b, c->N, c->IC, c->OC);
    return dotd(c->out, c->R, (size_t)c->N * c->OC);
}

static void test_matmul(void) {
    for (int N = 1; N <= 5; N += 4) {
        int IC = 12, OC = 7;
        MMCtx c = {xmalloc(N * IC * 4), xmalloc(OC * IC * 4), xmalloc(OC * 4), xmalloc(N * OC * 4),
                   xmalloc(N * OC * 4), N, IC, OC};
        fill(c.x, N * IC, 1), fill(c.w, OC * IC, 1), fill(c.b, OC, 1), fill(c.R, N * OC, 1);
        float *dx = xmalloc(N * IC * 4), *dw = xcalloc(OC * IC, 4), *db = xcalloc(OC, 4);
        matmul_backward(dx, IC, dw, db, c.R, OC, c.x, IC, c.w, N, IC, OC, 0);
        check_fd(N == 1 ? "matmul(N=1) dx" : "matmul dx", f_mm, &c, c.x, dx, N * IC, 40, 1e-2f);
        check_fd("matmul dw", f_mm, &c, c.w, dw, OC * IC, 40, 1e-2f);
        check_fd("matmul db", f_mm, &c, c.b, db, OC, OC, 1e-2f);
        free(c.x), free(c.w), free(c.b), free(c.R), free(c.out), free(dx), free(dw), free(db);
    }
}

/* ---------------- attention ---------------- */
typedef struct {
    float *qkv, *out, *lse, *R, *scr;
    size_t per;
    AttnLayout lay;
    int N, NH, NKV, HD;
} AttnCtx;

static double f_attn(void *p) {
    AttnCtx *c = p;
    int QKV = (c->NH + 2 * c->NKV) * c->HD, QD = c->NH * c->HD, KVD = c->NKV * c->HD;
    attention_forward(c->out, QD, c->lse, c->qkv, QKV, c->qkv + QD, c->qkv + QD + KVD, QKV, &c->lay, c->NH, c->NKV,
                      c->HD, c->scr, c->per);
    return dotd(c->out, c->R, (size_t)c->N * QD);
}

static void test_attention(void) {
    /* sequences of 3, 70 (crosses the 64-row block) and 5 tokens, GQA 4:2 */
    static const int starts[] = {0, 3, 73, 78};
    AttnCtx c;
    memset(&c, 0, sizeof(c));
    c.N = 78, c.NH = 4, c.NKV = 2, c.HD = 8;
    c.lay.n_seqs = 3;
    c.lay.seq_start = starts;
    int QKV = (c.NH + 2 * c.NKV) * c.HD, QD = c.NH * c.HD, KVD = c.NKV * c.HD;
    c.qkv = xmalloc((size_t)c.N * QKV * 4);
    c.out = xmalloc((size_t)c.N * QD * 4);
    c.lse = xmalloc((size_t)c.N * c.NH * 4);
    c.R = xmalloc((size_t)c.N * QD * 4);
    c.per = attention_scratch_floats(c.N);
    c.scr = xmalloc(64 * c.per * 4);
    fill(c.qkv, (size_t)c.N * QKV, 1.0f);
    fill(c.R, (size_t)c.N * QD, 1.0f);
    f_attn(&c);
    float *d = xcalloc((size_t)c.N * QKV, 4);
    attention_backward(d, QKV, d + QD, d + QD + KVD, QKV, c.R, QD, c.out, QD, c.qkv, QKV, c.qkv + QD, c.qkv + QD + KVD,
                       QKV, c.lse, &c.lay, c.NH, c.NKV, c.HD, c.scr, c.per);
    /* check q, k and v parts separately, at rows in every sequence */
    double worst = 0;
    int bad = 0;
    for (int s = 0; s < 150; s++) {
        int row = (int)rng_below(&g_rng, (uint32_t)c.N), col = (int)rng_below(&g_rng, (uint32_t)QKV);
        size_t i = (size_t)row * QKV + col;
        float old = c.qkv[i];
        c.qkv[i] = old + 1e-2f;
        double fp = f_attn(&c);
        c.qkv[i] = old - 1e-2f;
        double fm = f_attn(&c);
        c.qkv[i] = old;
        double fd = (fp - fm) / 2e-2, err = fabs(fd - d[i]);
        worst = fmax(worst, err);
        if (err > 3e-3 + 3e-2 * fabs(d[i])) bad++;
    }
    TEST_CHECK(bad == 0, "attention dqkv: %d coordinates off (max abs err %.3g)", bad, worst);
    printf("%-28s max |fd - analytic| = %.3g\n", "attention dq,dk,dv", worst);
    /* no attention across sequences: perturbing seq 0 leaves seq 2's outputs alone */
    float *o0 = xmalloc((size_t)c.N * QD * 4);
    memcpy(o0, c.out, (size_t)c.N * QD * 4);
    c.qkv[0] += 1.0f;
    f_attn(&c);
    double cross = 0;
    for (size_t i = (size_t)73 * QD; i < (size_t)c.N * QD; i++) cross = fmax(cross, fabs(c.out[i] - o0[i]));
    TEST_CHECK(cross == 0.0, "a change in sequence 0 moved sequence 2's output by %g", cross);
    free(c.qkv), free(c.out), free(c.lse), free(c.R), free(c.scr), free(d), free(o0);
}

/* ---------------- LM head ---------------- */
typedef struct {
    LMHead lm;
    float *h, *W, *wlp, *went, *logp, *ent;
    int *tg, N;
} HeadCtx;

static double f_head(void *p) {
    HeadCtx *c = p;
    lmhead_forward(&c->lm, c->logp, c->ent, c->h, c->lm.C, c->W, c->tg, c->N, 0.7f);
    return dotd(c->logp, c->wlp, c->N) + dotd(c->ent, c->went, c->N);
}

static void test_lmhead(void) {
    HeadCtx c;
    int C = 16, V = 300;
    c.N = 37;
    /* a 12 KiB budget forces chunks of 10 rows: chunk boundaries are crossed */
    lmhead_init(&c.lm, C, V, 12 << 10);
    TEST_CHECK(c.lm.chunk_rows == 10, "chunk rows %d", c.lm.chunk_rows);
    c.h = xmalloc(c.N * C * 4), c.W = xmalloc(V * C * 4), c.wlp = xmalloc(c.N * 4), c.went = xmalloc(c.N * 4);
    c.logp = xmalloc(c.N * 4), c.ent = xmalloc(c.N * 4), c.tg = xmalloc(c.N * sizeof(int));
    fill(c.h, c.N * C, 1.0f), fill(c.W, V * C, 0.5f), fill(c.wlp, c.N, 1.0f), fill(c.went, c.N, 1.0f);
    for (int i = 0; i < c.N; i++) c.tg[i] = i % 5 == 4 ? -1 : (int)rng_below(&g_rng, V);
    for (int i = 0; i < c.N; i++)
        if (c.tg[i] < 0) c.wlp[i] = 0.0f;
    c.went[3] = 0.0f, c.wlp[3] = 0.0f; /* a row with nothing to do */
    float *dh = xmalloc(c.N * C * 4), *dW = xcalloc(V * C, 4), *lp2 = xmalloc(c.N * 4), *en2 = xmalloc(c.N * 4);
    f_head(&c);
    lmhead_backward(&c.lm, dh, dW, lp2, en2, c.h, C, c.W, c.tg, c.wlp, c.went, c.N, 0.7f);
    double md = 0;
    for (int i = 0; i < c.N; i++)
        if (i != 3) md = fmax(md, fmax(fabs(lp2[i] - c.logp[i]), fabs(en2[i] - c.ent[i])));
    TEST_CHECK(md < 1e-6, "backward's logp/entropy differ from forward's by %g", md);
    /* softmax sanity: logp <= 0, 0 <= entropy <= log V */
    int sane = 1;
    for (int i = 0; i < c.N; i++) sane &= c.logp[i] <= 0 && c.ent[i] >= -1e-5 && c.ent[i] <= logf((float)V) + 1e-4;
    TEST_CHECK(sane, "log-probs or entropies out of range");
    check_fd("lmhead dh", f_head, &c, c.h, dh, c.N * C, 80, 1e-2f);
    check_fd("lmhead dW", f_head, &c, c.W, dW, V * C, 80, 1e-2f);
    lmhead_free(&c.lm);
    free(c.h), free(c.W), free(c.wlp), free(c.went), free(c.logp), free(c.ent), free(c.tg), free(dh), free(dW),
        free(lp2), free(en2);
}

/* ---------------- whole model ---------------- */
typedef struct {
    Model *m;
    Acts *a;
    Batch *b;
    int *tg;
    float *wlp, *went, *logp, *ent;
} ModelCtx;

static double f_model(void *p) {
    ModelCtx *c = p;
    if (model_forward(c->m, c->a, c->b, NULL)) FATAL("%s", err_msg());
    model_logprobs(c->m, c->a, c->tg, c->logp, c->ent);
    return dotd(c->logp, c->wlp, c->b->n_tokens) + dotd(c->ent, c->went, c->b->n_tokens);
}

static void test_model(const char *name, const char *type, int nkv, int hd, int tied, int bias, int recompute) {
    ModelConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.model_type, sizeof(cfg.model_type), "%s", type);
    cfg.vocab_size = 50, cfg.hidden_size = 16, cfg.num_hidden_layers = 2, cfg.num_attention_heads = 4;
    cfg.num_key_value_heads = nkv, cfg.head_dim = hd, cfg.intermediate_size = 24, cfg.max_position_embeddings = 64;
    cfg.rope_theta = 10000, cfg.rms_norm_eps = 1e-6, cfg.tie_word_embeddings = tied, cfg.attention_bias = bias;
    cfg.qk_norm = !strcmp(type, "qwen3"), cfg.initializer_range = 0.3;
    Model m;
    TEST_CHECK(model_init(&m, &cfg) == 0, "%s", err_msg());
    model_init_random(&m, 7);
    /* norms and biases away from their init values so their gradients matter */
    size_t nt = model_tensors(&cfg, m.params, NULL, 0);
    TensorRef *t = xmalloc(nt * sizeof(TensorRef));
    model_tensors(&cfg, m.params, t, nt);
    for (size_t i = 0; i < nt; i++)
        if (t[i].ndim == 1)
            for (size_t k = 0; k < t[i].numel; k++) t[i].data[k] += (float)(0.2 * rng_normal(&g_rng));
    model_alloc_grads(&m);
    static const int starts[] = {0, 7, 12, 21};
    int N = 21, tokens[21], tg[21];
    for (int i = 0; i < N; i++) tokens[i] = (int)rng_below(&g_rng, 50);
    for (int s = 0; s < 3; s++)
        for (int i = starts[s]; i < starts[s + 1]; i++) tg[i] = i + 1 < starts[s + 1] ? tokens[i + 1] : -1;
    Batch b = {.n_seqs = 3, .n_tokens = N, .tokens = tokens, .seq_start = starts};
    Acts a;
    TEST_CHECK(acts_init(&a, &cfg, 32, 32, 1, recompute) == 0, "%s", err_msg());
    float wlp[21], went[21], logp[21], ent[21];
    fill(wlp, N, 1.0f), fill(went, N, 0.5f);
    ModelCtx c = {&m, &a, &b, tg, wlp, went, logp, ent};
    f_model(&c);
    model_zero_grads(&m);
    model_backward(&m, &a, &b, tg, wlp, went, NULL, NULL);
    TensorRef *g = xmalloc(nt * sizeof(TensorRef));
    model_tensors(&cfg, m.grads, g, nt);
    for (size_t i = 0; i < nt; i++) {
        char what[200];
        snprintf(what, sizeof(what), "%s %s", name, t[i].name);
        check_fd(what, f_model, &c, t[i].data, g[i].data, t[i].numel, 12, 1e-2f);
    }
    free(t), free(g);
    acts_free(&a);
    model_free(&m);
}

/* A workspace sized for fewer threads than are active refuses to run
 * instead of overflowing its per-thread scratch. */
static void test_thread_guard(void) {
    ModelConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.model_type, sizeof(cfg.model_type), "llama");
    cfg.vocab_size = 20, cfg.hidden_size = 8, cfg.num_hidden_layers = 1, cfg.num_attention_heads = 2;
    cfg.num_key_value_heads = 1, cfg.head_dim = 4, cfg.intermediate_size = 8, cfg.max_position_embeddings = 16;
    cfg.rope_theta = 1e4, cfg.rms_norm_eps = 1e-6, cfg.initializer_range = 0.1;
    Model m;
    model_init(&m, &cfg);
    int before = omp_get_max_threads();
    omp_set_num_threads(1);
    Acts a;
    acts_init(&a, &cfg, 8, 8, 1, 0);
    omp_set_num_threads(2);
    int tokens[3] = {1, 2, 3}, starts[2] = {0, 3};
    Batch b = {.n_seqs = 1, .n_tokens = 3, .tokens = tokens, .seq_start = starts};
    int rc = model_forward(&m, &a, &b, NULL);
    TEST_CHECK(rc == -1 && strstr(err_msg(), "threads"), "forward with more threads than sized: rc %d, %s", rc,
               err_msg());
    omp_set_num_threads(before);
    acts_free(&a);
    model_free(&m);
}

int main(void) {
    rng_init(&g_rng, 1234, 0, 0, 0);
    test_thread_guard();
    test_rmsnorm();
    test_headnorm();
    test_swiglu();
    test_rope();
    test_matmul();
    test_attention();
    test_lmhead();
    test_model("llama-gqa-tied", "llama", 2, 4, 1, 0, 0);
    test_model("qwen2-bias-untied", "qwen2", 1, 4, 0, 1, 0);
    test_model("qwen3-qknorm-hd6", "qwen3", 2, 6, 0, 0, 0);
    test_model("llama-recompute", "llama", 4, 4, 0, 0, 1);
    return test_summary();
}
