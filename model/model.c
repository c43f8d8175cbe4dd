/*
 * model.c: the parameter block: its layout (one walk that both binds
 * pointers and lists HF tensors), allocation and HF-style random init.
 * Not for: compute (forward.c, kernels.c), files (model/io/).
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"

/* Walks the block in layout order. For each tensor, binds it (if `p`) and
 * lists it (if `refs`). Returns the number of floats and, via *n_refs, the
 * number of HF tensors. */
typedef struct {
    float *base;
    size_t off;
    TensorRef *refs;
    size_t cap, n;
} Walk;

static float *take(Walk *w, size_t n) {
    float *ptr = w->base ? w->base + w->off : NULL;
    w->off += n;
    return ptr;
}

static void list(Walk *w, const char *name, float *data, int64_t d0, int64_t d1) {
    if (w->refs && w->n < w->cap) {
        TensorRef *r = &w->refs[w->n];
        snprintf(r->name, sizeof(r->name), "%s", name);
        r->data = data;
        r->ndim = d1 > 0 ? 2 : 1;
        r->shape[0] = d0;
        r->shape[1] = d1 > 0 ? d1 : 0;
        r->numel = (size_t)d0 * (size_t)(d1 > 0 ? d1 : 1);
    }
    w->n++;
}

/* starts (nullable, L+1 entries) receives the offset of each layer and,
 * last, of the final norm. */
static size_t layout(const ModelConfig *c, float *base, ParamPtrs *p, TensorRef *refs, size_t cap, size_t *n_refs,
                     size_t *starts) {
    const size_t V = (size_t)c->vocab_size, C = (size_t)c->hidden_size, L = (size_t)c->num_hidden_layers;
    const size_t HD = (size_t)c->head_dim, QD = (size_t)c->num_attention_heads * HD;
    const size_t KVD = (size_t)c->num_key_value_heads * HD, QKV = QD + 2 * KVD, I = (size_t)c->intermediate_size;
    Walk w = {base, 0, refs, cap, 0};
    char name[MODEL_NAME_MAX];

    float *embed = take(&w, V * C);
    list(&w, "model.embed_tokens.weight", embed, (int64_t)V, (int64_t)C);
    if (p) {
        p->embed = embed;
        p->layers = xcalloc(L, sizeof(LayerParams));
    }
    for (size_t l = 0; l < L; l++) {
        LayerParams lp = {0};
        if (starts) starts[l] = w.off;
#define NAME(fmt) (snprintf(name, sizeof(name), "model.layers.%zu." fmt, l), name)
        lp.ln1 = take(&w, C);
        list(&w, NAME("input_layernorm.weight"), lp.ln1, (int64_t)C, 0);
        lp.wqkv = take(&w, QKV * C);
        list(&w, NAME("self_attn.q_proj.weight"), lp.wqkv, (int64_t)QD, (int64_t)C);
        list(&w, NAME("self_attn.k_proj.weight"), lp.wqkv ? lp.wqkv + QD * C : NULL, (int64_t)KVD, (int64_t)C);
        list(&w, NAME("self_attn.v_proj.weight"), lp.wqkv ? lp.wqkv + (QD + KVD) * C : NULL, (int64_t)KVD,
             (int64_t)C);
        if (c->attention_bias) {
            lp.bqkv = take(&w, QKV);
            list(&w, NAME("self_attn.q_proj.bias"), lp.bqkv, (int64_t)QD, 0);
            list(&w, NAME("self_attn.k_proj.bias"), lp.bqkv ? lp.bqkv + QD : NULL, (int64_t)KVD, 0);
            list(&w, NAME("self_attn.v_proj.bias"), lp.bqkv ? lp.bqkv + QD + KVD : NULL, (int64_t)KVD, 0);
        }
        if (c->qk_norm) {
            lp.qnorm = take(&w, HD);
            list(&w, NAME("self_attn.q_norm.weight"), lp.qnorm, (int64_t)HD, 0);
            lp.knorm = take(&w, HD);
            list(&w, NAME("self_attn.k_norm.weight"), lp.knorm, (int64_t)HD, 0);
        }
        lp.wo = take(&w, C * QD);
        list(&w, NAME("self_attn.o_proj.weight"), lp.wo, (int64_t)C, (int64_t)QD);
        lp.ln2 = take(&w, C);
        list(&w, NAME("post_attention_layernorm.weight"), lp.ln2, (int64_t)C, 0);
        lp.wgu = take(&w, 2 * I * C);
        list(&w, NAME("mlp.gate_proj.weight"), lp.wgu, (int64_t)I, (int64_t)C);
        list(&w, NAME("mlp.up_proj.weight"), lp.wgu ? lp.wgu + I * C : NULL, (int64_t)I, (int64_t)C);
        lp.wdown = take(&w, C * I);
        list(&w, NAME("mlp.down_proj.weight"), lp.wdown, (int64_t)C, (int64_t)I);
#undef NAME
        if (p) p->layers[l] = lp;
    }
    if (starts) starts[L] = w.off;
    float *lnf = take(&w, C);
    list(&w, "model.norm.weight", lnf, (int64_t)C, 0);
    float *head = embed;
    if (!c->tie_word_embeddings) {
        head = take(&w, V * C);
        list(&w, "lm_head.weight", head, (int64_t)V, (int64_t)C);
    }
    if (p) {
        p->lnf = lnf;
        p->lm_head = head;
    }
    if (n_refs) *n_refs = w.n;
    return w.off;
}

size_t model_param_count(const ModelConfig *cfg) { return layout(cfg, NULL, NULL, NULL, 0, NULL, NULL); }

void model_part_range(const ModelConfig *cfg, int part, size_t *begin, size_t *end) {
    const int L = cfg->num_hidden_layers;
    ASSERT(part >= -1 && part <= L);
    size_t *starts = xmalloc((size_t)(L + 1) * sizeof(size_t));
    size_t total = layout(cfg, NULL, NULL, NULL, 0, NULL, starts);
    *begin = part == -1 ? 0 : starts[part];
    *end = part == L ? total : starts[part + 1];
    free(starts);
}

void model_bind(const ModelConfig *cfg, float *block, ParamPtrs *out) {
    layout(cfg, block, out, NULL, 0, NULL, NULL);
}

void model_unbind(ParamPtrs *p) {
    free(p->layers);
    memset(p, 0, sizeof(*p));
}

size_t model_tensors(const ModelConfig *cfg, float *block, TensorRef *out, size_t cap) {
    size_t n = 0;
    layout(cfg, block, NULL, out, cap, &n, NULL);
    return n;
}

int model_init(Model *m, const ModelConfig *cfg) {
    memset(m, 0, sizeof(*m));
    if (model_config_validate(cfg, "model config")) return -1;
    m->cfg = *cfg;
    m->n_params = model_param_count(cfg);
    m->params = xalloc_aligned(m->n_params * sizeof(float));
    model_bind(cfg, m->params, &m->p);
    return 0;
}

void model_free(Model *m) {
    model_unbind(&m->p);
    if (m->grads) model_unbind(&m->g);
    free(m->params);
    free(m->grads);
    memset(m, 0, sizeof(*m));
}

void model_alloc_grads(Model *m) {
    if (m->grads) return;
    m->grads = xalloc_aligned(m->n_params * sizeof(float));
    model_bind(&m->cfg, m->grads, &m->g);
}

void model_zero_grads(Model *m) {
    if (m->grads) memset(m->grads, 0, m->n_params * sizeof(float));
}

/* Norm weights are 1-D tensors whose name ends in "norm.weight". */
static int is_norm(const char *name) {
    size_t n = strlen(name);
    return n >= 11 && !strcmp(name + n - 11, "norm.weight");
}

static int is_bias(const char *name) {
    size_t n = strlen(name);
    return n >= 5 && !strcmp(name + n - 5, ".bias");
}

void model_init_random(Model *m, uint64_t seed) {
    size_t n = model_tensors(&m->cfg, m->params, NULL, 0);
    TensorRef *t = xmalloc(n * sizeof(TensorRef));
    model_tensors(&m->cfg, m->params, t, n);
    const double std = m->cfg.initializer_range;
    const size_t chunk = 1 << 16;
    for (size_t i = 0; i < n; i++) {
        if (is_norm(t[i].name)) {
            for (size_t k = 0; k < t[i].numel; k++) t[i].data[k] = 1.0f;
            continue;
        }
        if (is_bias(t[i].name)) {
            memset(t[i].data, 0, t[i].numel * sizeof(float));
            continue;
        }
        /* Stream (seed, tensor, chunk): independent of thread count. */
        size_t n_chunks = (t[i].numel + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
        for (size_t ch = 0; ch < n_chunks; ch++) {
            Rng r;
            rng_init(&r, seed, RNG_STEP_INIT, (uint32_t)i, (uint32_t)ch);
            size_t end = (ch + 1) * chunk < t[i].numel ? (ch + 1) * chunk : t[i].numel;
            for (size_t k = ch * chunk; k < end; k++) t[i].data[k] = (float)(std * rng_normal(&r));
        }
    }
    free(t);
}
