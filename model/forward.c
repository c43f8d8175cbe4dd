/*
 * forward.c: the transformer's forward and backward passes over a packed
 * batch (forward.h), built from the kernels in kernels.c, attention.c and
 * lmhead.c. Pre-norm decoder layer (Llama/Qwen2/Qwen3):
 *   h = RMSNorm(x) ; q,k,v = h Wqkv^T (+b) ; [Qwen3: per-head RMSNorm of q,k]
 *   q,k = RoPE(q,k) ; x2 = x + Attn(q,k,v) Wo^T
 *   h2 = RMSNorm(x2) ; x' = x2 + (silu(h2 Wg^T) * h2 Wu^T) Wd^T
 */
#include "forward.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "kernels.h"

typedef struct {
    int V, C, L, NH, NKV, HD, QD, KVD, QKV, F; /* F: MLP width (I in model.h; <complex.h> owns I) */
} Dims;

static Dims dims_of(const ModelConfig *c) {
    Dims d;
    d.V = c->vocab_size;
    d.C = c->hidden_size;
    d.L = c->num_hidden_layers;
    d.NH = c->num_attention_heads;
    d.NKV = c->num_key_value_heads;
    d.HD = c->head_dim;
    d.QD = d.NH * d.HD;
    d.KVD = d.NKV * d.HD;
    d.QKV = d.QD + 2 * d.KVD;
    d.F = c->intermediate_size;
    return d;
}

int kvstore_bytes(const ModelConfig *cfg, size_t rows, size_t *bytes) {
    Dims d = dims_of(cfg);
    size_t n;
    if (size_mul((size_t)d.L * (size_t)d.KVD, rows, &n) || size_mul(n, 2 * sizeof(float), bytes))
        return ERR("KV store: %zu rows of %d layers x %d floats overflow a 64-bit size", rows, d.L, d.KVD);
    return 0;
}

int kvstore_init(KVStore *kv, const ModelConfig *cfg, int rows) {
    memset(kv, 0, sizeof(*kv));
    Dims d = dims_of(cfg);
    size_t bytes;
    if (rows < 0 || kvstore_bytes(cfg, (size_t)rows, &bytes)) return rows < 0 ? ERR("KV store: %d rows", rows) : -1;
    kv->L = d.L;
    kv->rows = rows;
    kv->KVD = d.KVD;
    kv->k = try_alloc_aligned(bytes / 2);
    kv->v = kv->k ? try_alloc_aligned(bytes / 2) : NULL;
    if (!kv->v) {
        kvstore_free(kv);
        return ERR("KV store: cannot allocate %s for %d rows; this machine does not have the memory",
                   format_bytes((double)bytes).s, rows);
    }
    return 0;
}

void kvstore_free(KVStore *kv) {
    free(kv->k);
    free(kv->v);
    memset(kv, 0, sizeof(*kv));
}

/* The workspace's buffers in one table, so acts_size and acts_init agree:
 * each entry is a count of floats (or ints, for pos) computed with every
 * product checked. */
enum {
    B_X, B_HN1, B_RSTD1, B_QKV, B_QKRAW, B_QKRSTD, B_LSE, B_ATTY, B_X2, B_HN2, B_RSTD2, B_GU, B_HMLP, B_HF, B_RSTDF,
    B_POS, B_DX, B_DHN, B_DBIG, B_DMID, B_DHF, B_NORM, B_ATTN, B_COS, B_SIN, B_LMH, N_BUFS
};

/* product of up to three factors, checked */
static int mul3(size_t a, size_t b, size_t c, size_t *out) {
    size_t ab;
    return size_mul(a, b, &ab) || size_mul(ab, c, out) ? -1 : 0;
}

static int acts_plan(const ModelConfig *cfg, int max_tokens, int max_keys, int training, int recompute, int nt,
                     size_t n[N_BUFS], size_t *bytes) {
    memset(n, 0, N_BUFS * sizeof(size_t));
    if (max_tokens <= 0 || max_keys <= 0) return ERR("workspace: max_tokens and max_keys must be positive");
    const Dims d = dims_of(cfg);
    const size_t N = (size_t)max_tokens, S = training && !recompute ? (size_t)d.L : 1, C = (size_t)d.C;
    const size_t X = training ? (size_t)d.L + 1 : 1, F = (size_t)d.F;
    int bad = mul3(X, N, C, &n[B_X]) || mul3(S, N, C, &n[B_HN1]) || mul3(S, N, 1, &n[B_RSTD1]) ||
              mul3(S, N, (size_t)d.QKV, &n[B_QKV]) || mul3(S, N, (size_t)d.NH, &n[B_LSE]) ||
              mul3(S, N, (size_t)d.QD, &n[B_ATTY]) || mul3(S, N, C, &n[B_HN2]) || mul3(S, N, 1, &n[B_RSTD2]) ||
              mul3(S, N, 2 * F, &n[B_GU]) || mul3(S, N, F, &n[B_HMLP]) || mul3(N, C, 1, &n[B_HF]);
    if (cfg->qk_norm)
        bad = bad || mul3(S, N, (size_t)d.QD + (size_t)d.KVD, &n[B_QKRAW]) ||
              mul3(S, N, (size_t)d.NH + (size_t)d.NKV, &n[B_QKRSTD]);
    n[B_RSTDF] = N;
    n[B_POS] = N;
    if (training) {
        n[B_X2] = n[B_HN2];
        n[B_DX] = n[B_DHN] = n[B_DHF] = n[B_HF];
        size_t big = 2 * F > (size_t)d.QKV ? 2 * F : (size_t)d.QKV, mid = F > (size_t)d.QD ? F : (size_t)d.QD;
        bad = bad || mul3(N, big, 1, &n[B_DBIG]) || mul3(N, mid, 1, &n[B_DMID]);
    }
    bad = bad || mul3((size_t)nt, C > (size_t)d.HD ? C : (size_t)d.HD, 1, &n[B_NORM]) ||
          mul3((size_t)nt, attention_scratch_floats(max_keys), 1, &n[B_ATTN]) ||
          mul3((size_t)max_keys, (size_t)d.HD / 2, 1, &n[B_COS]);
    n[B_SIN] = n[B_COS];
    size_t rows = lmhead_chunk_rows(d.V, 0);
    bad = bad || mul3(rows, 2 * C + (size_t)d.V, 1, &n[B_LMH]);
    size_t total = 0;
    for (int i = 0; i < N_BUFS && !bad; i++) {
        size_t b;
        bad = size_mul(n[i], sizeof(float), &b) || size_add(total, (b + 63) & ~(size_t)63, &total);
    }
    if (bad)
        return ERR("workspace: %d tokens (at most %d keys each) of this model overflow a 64-bit size", max_tokens,
                   max_keys);
    *bytes = total;
    return 0;
}

int acts_size(const ModelConfig *cfg, int max_tokens, int max_keys, int training, int recompute, int n_threads,
              size_t *bytes) {
    size_t n[N_BUFS];
    return acts_plan(cfg, max_tokens, max_keys, training, recompute, n_threads, n, bytes);
}

int acts_init(Acts *a, const ModelConfig *cfg, int max_tokens, int max_keys, int training, int recompute) {
    memset(a, 0, sizeof(*a));
    const int nt = omp_get_max_threads();
    size_t n[N_BUFS], bytes;
    if (acts_plan(cfg, max_tokens, max_keys, training, recompute, nt, n, &bytes)) return -1;
    Dims d = dims_of(cfg);
    a->cfg = *cfg;
    a->max_tokens = max_tokens;
    a->max_keys = max_keys;
    a->training = training;
    a->recompute = training && recompute;
    a->n_slots = training && !recompute ? d.L : 1;
    a->n_threads = nt;
    float **dst[N_BUFS] = {
        [B_X] = &a->x,       [B_HN1] = &a->hn1,   [B_RSTD1] = &a->rstd1, [B_QKV] = &a->qkv,   [B_QKRAW] = &a->qkraw,
        [B_QKRSTD] = &a->qkrstd, [B_LSE] = &a->lse, [B_ATTY] = &a->atty, [B_X2] = &a->x2,     [B_HN2] = &a->hn2,
        [B_RSTD2] = &a->rstd2, [B_GU] = &a->gu,   [B_HMLP] = &a->hmlp,   [B_HF] = &a->hf,     [B_RSTDF] = &a->rstdf,
        [B_DX] = &a->dx,     [B_DHN] = &a->dhn,   [B_DBIG] = &a->dbig,   [B_DMID] = &a->dmid, [B_DHF] = &a->dhf,
        [B_NORM] = &a->norm_scratch, [B_ATTN] = &a->attn_scratch, [B_COS] = &a->rope_cos, [B_SIN] = &a->rope_sin,
    };
    int ok = 1;
    for (int i = 0; i < N_BUFS && ok; i++) {
        if (!dst[i] || !n[i]) continue;
        *dst[i] = try_alloc_aligned(n[i] * sizeof(float));
        ok = *dst[i] != NULL;
    }
    if (ok) a->pos = try_alloc_aligned(n[B_POS] * sizeof(int));
    if (ok && a->pos) ok = lmhead_init(&a->lm, d.C, d.V, 0) == 0;
    if (!ok || !a->pos) {
        acts_free(a);
        return ERR("workspace: cannot allocate %s for %d tokens; this machine does not have the memory",
                   format_bytes((double)bytes).s, max_tokens);
    }
    a->attn_per_thread = attention_scratch_floats(max_keys);
    rope_tables(a->rope_cos, a->rope_sin, max_keys, d.HD, cfg->rope_theta, cfg->rope_scaling_type, cfg->rope_factor,
                cfg->rope_low_freq_factor, cfg->rope_high_freq_factor, cfg->rope_original_max_pos);
    a->bytes = bytes;
    return 0;
}

void acts_free(Acts *a) {
    float *bufs[] = {a->x,   a->hn1,  a->rstd1, a->qkv,  a->qkraw, a->qkrstd, a->lse,  a->atty,
                     a->x2,  a->hn2,  a->rstd2, a->gu,   a->hmlp,  a->hf,     a->rstdf, a->dx,
                     a->dhn, a->dbig, a->dmid,  a->dhf,  a->norm_scratch, a->attn_scratch, a->rope_cos, a->rope_sin};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) free(bufs[i]);
    free(a->pos);
    lmhead_free(&a->lm);
    memset(a, 0, sizeof(*a));
}

size_t acts_bytes(const Acts *a) { return a->bytes; }

/* One layer's activation slot. */
typedef struct {
    float *hn1, *rstd1, *qkv, *qkraw, *qrstd, *krstd, *lse, *atty, *x2, *hn2, *rstd2, *gu, *hmlp;
} Slot;

static Slot slot_of(const Acts *a, int s) {
    Dims d = dims_of(&a->cfg);
    size_t N = (size_t)a->max_tokens;
    Slot sl;
    sl.hn1 = a->hn1 + s * N * d.C;
    sl.rstd1 = a->rstd1 + s * N;
    sl.qkv = a->qkv + s * N * d.QKV;
    sl.qkraw = a->qkraw ? a->qkraw + s * N * (d.QD + d.KVD) : NULL;
    sl.qrstd = a->qkrstd ? a->qkrstd + s * N * (d.NH + d.NKV) : NULL;
    sl.krstd = a->qkrstd ? sl.qrstd + N * d.NH : NULL;
    sl.lse = a->lse + s * N * d.NH;
    sl.atty = a->atty + s * N * d.QD;
    sl.x2 = a->x2 ? a->x2 + s * N * d.C : NULL;
    sl.hn2 = a->hn2 + s * N * d.C;
    sl.rstd2 = a->rstd2 + s * N;
    sl.gu = a->gu + s * N * 2 * d.F;
    sl.hmlp = a->hmlp + s * N * d.F;
    return sl;
}

static AttnLayout layout_of(const Batch *b) {
    AttnLayout lay = {b->n_seqs, b->seq_start, b->prefix_row, b->prefix_len, b->own_row, b->own_past};
    return lay;
}

/* One decoder layer. xin -> x2 (after attention) -> xout (after MLP); in
 * inference all three are the same buffer (updated in place). With
 * skip_down, stops before the MLP's down projection (recompute in
 * backward needs only the saved intermediates). */
/* out (N, OC) (+)= inp @ w^T (+ bias): the row-stable kernel for rollout
 * (rowstable: faster at decode's few rows, and each sequence's numbers do
 * not depend on its batch), OpenBLAS otherwise. */
static void linear(int rowstable, float *out, int ldo, const float *inp, int ldi, const float *w, const float *bias,
                   int N, int IC, int OC, int add) {
    if (rowstable)
        matmul_forward_rowstable(out, ldo, inp, ldi, w, bias, N, IC, OC, add);
    else if (add)
        matmul_forward_add(out, ldo, inp, ldi, w, N, IC, OC); /* callers pass no bias when adding */
    else
        matmul_forward(out, ldo, inp, ldi, w, bias, N, IC, OC);
}

static void layer_forward(const ModelConfig *cfg, const LayerParams *p, Acts *a, const Slot *sl, const float *xin,
                          float *x2, float *xout, int N, const Batch *batch, KVStore *kv, int l, int skip_down) {
    Dims d = dims_of(cfg);
    const float eps = (float)cfg->rms_norm_eps;
    rmsnorm_forward(sl->hn1, a->training ? sl->rstd1 : NULL, xin, p->ln1, N, d.C, eps);
    const int rs = kv != NULL; /* rollout */
    linear(rs, sl->qkv, d.QKV, sl->hn1, d.C, p->wqkv, p->bqkv, N, d.C, d.QKV, 0);
    if (cfg->qk_norm) {
        const int ldr = d.QD + d.KVD;
        if (a->training) {
#pragma omp parallel for schedule(static)
            for (int n = 0; n < N; n++)
                memcpy(sl->qkraw + (size_t)n * ldr, sl->qkv + (size_t)n * d.QKV, (size_t)ldr * sizeof(float));
            headnorm_forward(sl->qkv, d.QKV, sl->qrstd, sl->qkraw, ldr, p->qnorm, N, d.NH, d.HD, eps);
            headnorm_forward(sl->qkv + d.QD, d.QKV, sl->krstd, sl->qkraw + d.QD, ldr, p->knorm, N, d.NKV, d.HD, eps);
        } else {
            headnorm_forward(sl->qkv, d.QKV, NULL, sl->qkv, d.QKV, p->qnorm, N, d.NH, d.HD, eps);
            headnorm_forward(sl->qkv + d.QD, d.QKV, NULL, sl->qkv + d.QD, d.QKV, p->knorm, N, d.NKV, d.HD, eps);
        }
    }
    rope_forward(sl->qkv, d.QKV, d.NH, a->pos, a->rope_cos, a->rope_sin, N, d.HD);
    rope_forward(sl->qkv + d.QD, d.QKV, d.NKV, a->pos, a->rope_cos, a->rope_sin, N, d.HD);

    AttnLayout lay = layout_of(batch);
    const float *kb = sl->qkv + d.QD, *vb = sl->qkv + d.QD + d.KVD;
    int ldkv = d.QKV;
    if (kv) {
        float *K = kv->k + (size_t)l * kv->rows * d.KVD, *Vv = kv->v + (size_t)l * kv->rows * d.KVD;
#pragma omp parallel for schedule(static) if ((long)N * d.KVD >= KERNEL_SERIAL_BELOW)
        for (int b = 0; b < batch->n_seqs; b++) {
            int row0 = batch->own_row[b] + (batch->own_past ? batch->own_past[b] : 0);
            for (int n = batch->seq_start[b]; n < batch->seq_start[b + 1]; n++) {
                size_t r = (size_t)(row0 + n - batch->seq_start[b]);
                memcpy(K + r * d.KVD, sl->qkv + (size_t)n * d.QKV + d.QD, (size_t)d.KVD * sizeof(float));
                memcpy(Vv + r * d.KVD, sl->qkv + (size_t)n * d.QKV + d.QD + d.KVD, (size_t)d.KVD * sizeof(float));
            }
        }
        kb = K;
        vb = Vv;
        ldkv = d.KVD;
    }
    attention_forward(sl->atty, d.QD, a->training ? sl->lse : NULL, sl->qkv, d.QKV, kb, vb, ldkv, &lay, d.NH, d.NKV,
                      d.HD, a->attn_scratch, a->attn_per_thread);
    if (x2 != xin) memcpy(x2, xin, (size_t)N * d.C * sizeof(float));
    linear(rs, x2, d.C, sl->atty, d.QD, p->wo, NULL, N, d.QD, d.C, 1);
    rmsnorm_forward(sl->hn2, a->training ? sl->rstd2 : NULL, x2, p->ln2, N, d.C, eps);
    linear(rs, sl->gu, 2 * d.F, sl->hn2, d.C, p->wgu, NULL, N, d.C, 2 * d.F, 0);
    swiglu_forward(sl->hmlp, sl->gu, N, d.F);
    if (skip_down) return;
    if (xout != x2) memcpy(xout, x2, (size_t)N * d.C * sizeof(float));
    linear(rs, xout, d.C, sl->hmlp, d.F, p->wdown, NULL, N, d.F, d.C, 1);
}

static int check_batch(const Acts *a, const Batch *b, const KVStore *kv) {
    const ModelConfig *c = &a->cfg;
    if (omp_get_max_threads() > a->n_threads)
        return ERR("forward: the workspace was sized for %d threads but %d are active; re-create it after raising "
                   "the thread count",
                   a->n_threads, omp_get_max_threads());
    if (b->n_seqs <= 0 || b->n_tokens <= 0) return ERR("forward: empty batch");
    if (b->n_tokens > a->max_tokens)
        return ERR("forward: %d tokens exceed the workspace's %d; use smaller micro-batches", b->n_tokens,
                   a->max_tokens);
    if (b->seq_start[0] != 0 || b->seq_start[b->n_seqs] != b->n_tokens)
        return ERR("forward: seq_start must run from 0 to n_tokens");
    if (kv && !b->own_row) return ERR("forward: a KV store needs own_row for every sequence");
    if (!kv && (b->prefix_len || b->own_past)) return ERR("forward: prefixes and cached rows need a KV store");
    for (int s = 0; s < b->n_seqs; s++) {
        int len = b->seq_start[s + 1] - b->seq_start[s];
        if (len < 0) return ERR("forward: seq_start must be non-decreasing");
        int plen = b->prefix_len ? b->prefix_len[s] : 0, past = b->own_past ? b->own_past[s] : 0;
        if (plen + past + len > a->max_keys)
            return ERR("forward: sequence %d reaches position %d, beyond the workspace's %d keys", s,
                       plen + past + len, a->max_keys);
        if (plen + past + len > c->max_position_embeddings)
            return ERR("forward: sequence %d reaches position %d, beyond max_position_embeddings %d", s,
                       plen + past + len, c->max_position_embeddings);
        if (kv) {
            int end = b->own_row[s] + past + len;
            if (b->own_row[s] < 0 || end > kv->rows || (plen && (b->prefix_row[s] < 0 ||
                                                                 b->prefix_row[s] + plen > kv->rows)))
                return ERR("forward: sequence %d's KV rows fall outside the store's %d rows", s, kv->rows);
        }
    }
    for (int n = 0; n < b->n_tokens; n++)
        if (b->tokens[n] < 0 || b->tokens[n] >= c->vocab_size)
            return ERR("forward: token id %d at position %d is outside the vocabulary (size %d)", b->tokens[n], n,
                       c->vocab_size);
    return 0;
}

int model_forward(const Model *m, Acts *a, const Batch *batch, KVStore *kv) {
    if (check_batch(a, batch, kv)) return -1;
    if (a->training && kv) return ERR("forward: a training workspace cannot write a KV store");
    Dims d = dims_of(&m->cfg);
    const int N = batch->n_tokens;
    a->n_tokens = N;
    for (int b = 0; b < batch->n_seqs; b++) {
        int base = (batch->prefix_len ? batch->prefix_len[b] : 0) + (batch->own_past ? batch->own_past[b] : 0);
        for (int n = batch->seq_start[b]; n < batch->seq_start[b + 1]; n++) a->pos[n] = base + n - batch->seq_start[b];
    }
    embed_forward(a->x, batch->tokens, m->p.embed, N, d.C);
    const size_t NC = (size_t)a->max_tokens * d.C;
    for (int l = 0; l < d.L; l++) {
        Slot sl = slot_of(a, a->n_slots == 1 ? 0 : l);
        if (a->training) {
            float *xin = a->x + (size_t)l * NC, *xout = a->x + (size_t)(l + 1) * NC;
            float *x2 = sl.x2;
            layer_forward(&m->cfg, &m->p.layers[l], a, &sl, xin, x2, xout, N, batch, kv, l, 0);
        } else {
            layer_forward(&m->cfg, &m->p.layers[l], a, &sl, a->x, a->x, a->x, N, batch, kv, l, 0);
        }
    }
    const float *xl = a->training ? a->x + (size_t)d.L * NC : a->x;
    rmsnorm_forward(a->hf, a->rstdf, xl, m->p.lnf, N, d.C, (float)m->cfg.rms_norm_eps);
    return 0;
}

void model_logprobs(const Model *m, Acts *a, const int *targets, float *logp, float *ent) {
    lmhead_forward(&a->lm, logp, ent, a->hf, m->cfg.hidden_size, m->p.lm_head, targets, a->n_tokens, 1.0f);
}

void model_logprobs_at(const Model *m, Acts *a, const int *targets, float *logp, float *ent, float temperature) {
    ASSERT(temperature > 0.0f);
    lmhead_forward(&a->lm, logp, ent, a->hf, m->cfg.hidden_size, m->p.lm_head, targets, a->n_tokens,
                   1.0f / temperature);
}

void model_logits(const Model *m, const Acts *a, const int *rows, int n, float *logits) {
    /* Row-stable matmul (kernels.h): a row's logits do not depend on n or
     * on the other rows, which rollout's determinism needs. */
    const int C = m->cfg.hidden_size, V = m->cfg.vocab_size;
    const LMHead *lm = &a->lm;
    int consecutive = 1;
    for (int r = 1; r < n && consecutive; r++) consecutive = rows[r] == rows[0] + r;
    if (consecutive) { /* one pass over the LM head for all rows (decode) */
        matmul_forward_rowstable(logits, V, a->hf + (size_t)rows[0] * C, C, m->p.lm_head, NULL, n, C, V, 0);
        return;
    }
    for (int r0 = 0; r0 < n; r0 += lm->chunk_rows) {
        int R = n - r0 < lm->chunk_rows ? n - r0 : lm->chunk_rows;
        for (int r = 0; r < R; r++)
            memcpy(lm->hbuf + (size_t)r * C, a->hf + (size_t)rows[r0 + r] * C, (size_t)C * sizeof(float));
        matmul_forward_rowstable(logits + (size_t)r0 * V, V, lm->hbuf, C, m->p.lm_head, NULL, R, C, V, 0);
    }
}

/* Backward of one layer: dx holds dJ/d(x_{l+1}) on entry and dJ/d(x_l) on
 * exit; parameter gradients accumulate into g. */
static void layer_backward(const ModelConfig *cfg, const LayerParams *p, LayerParams *g, Acts *a, const Slot *sl,
                           const float *xin, int N, const Batch *batch) {
    Dims d = dims_of(cfg);
    float *dx = a->dx, *dhn = a->dhn, *dbig = a->dbig, *dmid = a->dmid;
    /* MLP */
    matmul_backward(dmid, d.F, g->wdown, NULL, dx, d.C, sl->hmlp, d.F, p->wdown, N, d.F, d.C, 0);
    swiglu_backward(dbig, dmid, sl->gu, N, d.F);
    matmul_backward(dhn, d.C, g->wgu, NULL, dbig, 2 * d.F, sl->hn2, d.C, p->wgu, N, d.C, 2 * d.F, 0);
    rmsnorm_backward(dx, g->ln2, dhn, sl->x2, p->ln2, sl->rstd2, N, d.C, a->norm_scratch);
    /* attention */
    matmul_backward(dmid, d.QD, g->wo, NULL, dx, d.C, sl->atty, d.QD, p->wo, N, d.QD, d.C, 0);
    memset(dbig, 0, (size_t)N * d.QKV * sizeof(float));
    AttnLayout lay = layout_of(batch);
    attention_backward(dbig, d.QKV, dbig + d.QD, dbig + d.QD + d.KVD, d.QKV, dmid, d.QD, sl->atty, d.QD, sl->qkv, d.QKV,
                       sl->qkv + d.QD, sl->qkv + d.QD + d.KVD, d.QKV, sl->lse, &lay, d.NH, d.NKV, d.HD,
                       a->attn_scratch, a->attn_per_thread);
    rope_backward(dbig, d.QKV, d.NH, a->pos, a->rope_cos, a->rope_sin, N, d.HD);
    rope_backward(dbig + d.QD, d.QKV, d.NKV, a->pos, a->rope_cos, a->rope_sin, N, d.HD);
    if (cfg->qk_norm) {
        const int ldr = d.QD + d.KVD;
        headnorm_backward(dbig, d.QKV, g->qnorm, dbig, d.QKV, sl->qkraw, ldr, p->qnorm, sl->qrstd, N, d.NH, d.HD,
                          a->norm_scratch);
        headnorm_backward(dbig + d.QD, d.QKV, g->knorm, dbig + d.QD, d.QKV, sl->qkraw + d.QD, ldr, p->knorm, sl->krstd,
                          N, d.NKV, d.HD, a->norm_scratch);
    }
    matmul_backward(dhn, d.C, g->wqkv, g->bqkv, dbig, d.QKV, sl->hn1, d.C, p->wqkv, N, d.C, d.QKV, 0);
    rmsnorm_backward(dx, g->ln1, dhn, xin, p->ln1, sl->rstd1, N, d.C, a->norm_scratch);
}

void model_backward_with(Model *m, Acts *a, const Batch *batch, const int *targets, const BackwardSpec *spec,
                         float *logp, float *ent) {
    ASSERT(a->training && m->grads);
    ASSERT(omp_get_max_threads() <= a->n_threads); /* per-thread scratch size */
    ASSERT(batch->n_tokens == a->n_tokens);
    Dims d = dims_of(&m->cfg);
    const int N = batch->n_tokens;
    const size_t NC = (size_t)a->max_tokens * d.C;
    const float scale = spec->temperature > 0.0f ? 1.0f / spec->temperature : 1.0f;
    if (spec->fn)
        lmhead_backward_fn(&a->lm, a->dhf, m->g.lm_head, logp, ent, a->hf, d.C, m->p.lm_head, targets, spec->fn,
                           spec->fn_ctx, N, scale);
    else
        lmhead_backward(&a->lm, a->dhf, m->g.lm_head, logp, ent, a->hf, d.C, m->p.lm_head, targets, spec->wlp,
                        spec->went, N, scale);
    memset(a->dx, 0, (size_t)N * d.C * sizeof(float));
    rmsnorm_backward(a->dx, m->g.lnf, a->dhf, a->x + (size_t)d.L * NC, m->p.lnf, a->rstdf, N, d.C, a->norm_scratch);
    if (spec->part_done) spec->part_done(spec->part_ctx, d.L);
    for (int l = d.L - 1; l >= 0; l--) {
        const float *xin = a->x + (size_t)l * NC;
        Slot sl = slot_of(a, a->n_slots == 1 ? 0 : l);
        if (a->recompute) layer_forward(&m->cfg, &m->p.layers[l], a, &sl, xin, sl.x2, NULL, N, batch, NULL, l, 1);
        layer_backward(&m->cfg, &m->p.layers[l], &m->g.layers[l], a, &sl, xin, N, batch);
        if (spec->part_done) spec->part_done(spec->part_ctx, l);
    }
    embed_backward(m->g.embed, a->dx, batch->tokens, N, d.C);
    if (spec->part_done) spec->part_done(spec->part_ctx, -1);
}

void model_backward(Model *m, Acts *a, const Batch *batch, const int *targets, const float *wlp, const float *went,
                    float *logp, float *ent) {
    BackwardSpec spec = {.wlp = wlp, .went = went};
    model_backward_with(m, a, batch, targets, &spec, logp, ent);
}
