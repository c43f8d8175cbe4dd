/*
 * model.c: the parameter block: its layout (one walk that both binds
 * pointers and lists HF tensors), allocation and HF-style random init.
 * Not for: compute (forward.c, kernels.c), files (model/io/).
 */
#include "model.h"

#include <limits.h>
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

/* a * b + c, checked. */
static int mul_add(size_t a, size_t b, size_t c, size_t *out) {
    size_t p;
    return size_mul(a, b, &p) || size_add(p, c, out) ? -1 : 0;
}

int model_param_count_checked(const ModelConfig *c, const char *what, size_t *n) {
    const long long NH = c->num_attention_heads, NKV = c->num_key_value_heads, HD = c->head_dim;
    const long long QD = NH * HD, KVD = NKV * HD, I2 = 2LL * c->intermediate_size; /* each < 2^61 */
    if (QD > INT_MAX)
        return ERR("%s: num_attention_heads x head_dim = %d x %d = %lld is too large (at most %d)", what,
                   c->num_attention_heads, c->head_dim, QD, INT_MAX);
    if (QD + 2 * KVD > INT_MAX)
        return ERR("%s: the q/k/v width (num_attention_heads + 2 x num_key_value_heads) x head_dim = %lld is too "
                   "large (at most %d)",
                   what, QD + 2 * KVD, INT_MAX);
    if (I2 > INT_MAX)
        return ERR("%s: intermediate_size %d is too large (2 x intermediate_size must be at most %d)", what,
                   c->intermediate_size, INT_MAX);
    const size_t V = (size_t)c->vocab_size, C = (size_t)c->hidden_size, L = (size_t)c->num_hidden_layers;
    const size_t QKV = (size_t)(QD + 2 * KVD), I = (size_t)c->intermediate_size;
    /* one layer: norms, wqkv (+ bias), q/k norms, wo, wgu, wdown */
    size_t layer = 2 * C + (c->attention_bias ? QKV : 0) + (c->qk_norm ? 2 * (size_t)HD : 0), total = C;
    if (mul_add(QKV, C, layer, &layer) || mul_add(C, (size_t)QD, layer, &layer) || mul_add(3 * I, C, layer, &layer))
        return ERR("%s: one layer's parameters overflow a 64-bit count (hidden_size %d, intermediate_size %d, "
                   "num_attention_heads %d, head_dim %d); check these fields",
                   what, c->hidden_size, c->intermediate_size, c->num_attention_heads, c->head_dim);
    if (mul_add(L, layer, total, &total))
        return ERR("%s: num_hidden_layers %d x %.3g parameters per layer overflows a 64-bit count; check "
                   "num_hidden_layers, hidden_size and intermediate_size",
                   what, c->num_hidden_layers, (double)layer);
    if (mul_add(V, C, total, &total) || (!c->tie_word_embeddings && mul_add(V, C, total, &total)))
        return ERR("%s: vocab_size %d x hidden_size %d overflows a 64-bit count with the rest of the model", what,
                   c->vocab_size, c->hidden_size);
    size_t bytes;
    if (size_mul(total, 16 * sizeof(float), &bytes))
        return ERR("%s: %.3g parameters (%.3g bytes) are more than a 64-bit machine can address; check "
                   "num_hidden_layers (%d), hidden_size (%d), intermediate_size (%d) and vocab_size (%d)",
                   what, (double)total, 4.0 * (double)total, c->num_hidden_layers, c->hidden_size,
                   c->intermediate_size, c->vocab_size);
    *n = total;
    return 0;
}

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
    m->params = try_alloc_aligned(m->n_params * sizeof(float));
    if (!m->params) {
        size_t n = m->n_params;
        memset(m, 0, sizeof(*m));
        return ERR("model: cannot allocate %s for %zu parameters; this machine does not have the memory",
                   format_bytes((double)n * sizeof(float)).s, n);
    }
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
