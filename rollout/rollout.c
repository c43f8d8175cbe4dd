/*
 * rollout.c: the rollout worker (rollout.h): prompt prefill into a shared
 * KV store, batched decode of every prompt's G samples with a shrinking
 * active set, sampling in parallel over sequences, and the per-sample
 * bookkeeping (EOS, stop strings over decoded bytes, length limit).
 *
 * KV store layout for one call: prompt p owns rows [base_p, base_p + Lp)
 * for its prompt, followed by G regions of M_p rows (M_p = that prompt's
 * completion limit), one per sample. Sample g of p decodes with
 * prefix = (base_p, Lp) and own rows starting at base_p + Lp + g * M_p.
 * Not for: the sampling rules (sampler.c), scoring (score.c), MPI.
 */
#define _GNU_SOURCE /* memmem */
#include "rollout.h"

#include <limits.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "model/forward.h"

/* Prompts are prefilled in forwards of at most this many tokens (a longer
 * prompt gets a forward of its own). */
#define PREFILL_TOKENS 2048
/* Logits buffer limit (rows x vocab x 4 bytes). */
#define LOGITS_BYTES ((size_t)256 << 20)

struct RolloutWorker {
    const Model *m;
    const Tokenizer *tok;
    KVStore kv;
    int have_kv;
    Acts acts;
    int have_acts;
    int acts_threads; /* Acts scratch is per thread: sized for this many */
    float *logits; /* (logit_rows, V) */
    int logit_rows;
    Sampler *samplers; /* one per thread */
    int n_samplers;
    RolloutStats st;
};

/* One sequence being sampled. */
typedef struct {
    int p, g;      /* prompt position, sample index */
    int max_new;   /* completion limit for this prompt */
    int own_row;   /* KV row of the sample's completion position 0 */
    Rng rng;
    int *ids;
    float *lp, *lpt; /* log-probs at temperature 1 and at the sampling temperature */
    int n;
    char *text;
    size_t len, cap;
    int done;
    FinishReason fin;
    int tok;       /* token drawn this step */
    float tok_lp, tok_lpt;
} Seq;

void rollout_config_default(RolloutConfig *c) {
    memset(c, 0, sizeof(*c));
    c->num_generations = 8;
    c->temperature = 1.0f;
    c->top_p = 1.0f;
    c->top_k = 0;
    c->min_p = 0.0f;
    c->max_completion_length = 256;
    c->seed = 42;
}

SamplerConfig rollout_sampler_config(const RolloutConfig *c) {
    SamplerConfig s = {c->temperature, c->top_k, c->top_p, c->min_p};
    return s;
}

int rollout_config_check(const RolloutConfig *c) {
    if (c->num_generations < 1) return ERR("rollout: num_generations must be >= 1, got %d", c->num_generations);
    if (c->max_completion_length < 1)
        return ERR("rollout: max_completion_length must be >= 1, got %d", c->max_completion_length);
    SamplerConfig s = rollout_sampler_config(c);
    if (sampler_config_check(&s, "rollout")) return -1;
    if (c->n_stop < 0 || (c->n_stop > 0 && !c->stop)) return ERR("rollout: stop strings missing");
    for (int i = 0; i < c->n_stop; i++)
        if (!c->stop[i] || !c->stop[i][0]) return ERR("rollout: stop string %d is empty; remove it", i);
    return 0;
}

size_t rollout_kv_bytes(const ModelConfig *cfg, size_t tokens) {
    return (size_t)cfg->num_hidden_layers * cfg->num_key_value_heads * cfg->head_dim * 2 * tokens * sizeof(float);
}

void rollout_shard(int n, int rank, int world, int *begin, int *end) {
    int q = n / world, r = n % world;
    *begin = rank * q + (rank < r ? rank : r);
    *end = *begin + q + (rank < r ? 1 : 0);
}

size_t rollout_find_stop(const char *text, size_t len, size_t from, const char *const *stop, int n_stop, int *which) {
    size_t best = 0;
    for (int i = 0; i < n_stop; i++) {
        size_t L = strlen(stop[i]);
        if (L == 0 || L > len) continue;
        size_t start = from >= L - 1 ? from - (L - 1) : 0;
        const char *hit = memmem(text + start, len - start, stop[i], L);
        if (!hit) continue;
        size_t end = (size_t)(hit - text) + L;
        if (best == 0 || end < best) {
            best = end;
            *which = i;
        }
    }
    return best;
}

int rollout_worker_init(RolloutWorker **out, const Model *m, const Tokenizer *tok) {
    *out = NULL;
    if (!m || !m->params) return ERR("rollout: no model");
    RolloutWorker *w = xcalloc(1, sizeof(*w));
    w->m = m;
    w->tok = tok;
    *out = w;
    return 0;
}

void rollout_worker_free(RolloutWorker *w) {
    if (!w) return;
    if (w->have_kv) kvstore_free(&w->kv);
    if (w->have_acts) acts_free(&w->acts);
    free(w->logits);
    for (int i = 0; i < w->n_samplers; i++) sampler_free(&w->samplers[i]);
    free(w->samplers);
    free(w);
}

void rollout_stats(const RolloutWorker *w, RolloutStats *st) { *st = w->st; }

void rollout_groups_free(RolloutGroup *groups, int n) {
    for (int i = 0; i < n; i++) {
        RolloutGroup *g = &groups[i];
        for (int j = 0; j < g->n_samples; j++) {
            free(g->samples[j].ids);
            free(g->samples[j].logprobs);
            free(g->samples[j].logprobs_t);
            free(g->samples[j].text);
        }
        free(g->samples);
        free(g->prompt_ids);
        memset(g, 0, sizeof(*g));
    }
}

/* Grows the worker's buffers for rows KV rows, a workspace of max_tokens
 * tokens and max_keys keys, logits of up to logit_rows rows at once, and
 * the current thread count. */
static int ensure_buffers(RolloutWorker *w, size_t rows, int max_tokens, int max_keys, int logit_rows) {
    const ModelConfig *cfg = &w->m->cfg;
    if (rows > INT_MAX) return ERR("rollout: the KV store would need %zu rows; use fewer prompts per call", rows);
    if (!w->have_kv || (size_t)w->kv.rows < rows) {
        if (w->have_kv) kvstore_free(&w->kv);
        w->have_kv = 0;
        if (kvstore_init(&w->kv, cfg, (int)rows)) return err_prefix("rollout");
        w->have_kv = 1;
    }
    const int nt = omp_get_max_threads();
    if (!w->have_acts || w->acts.max_tokens < max_tokens || w->acts.max_keys < max_keys || w->acts_threads < nt) {
        if (w->have_acts) {
            if (w->acts.max_tokens > max_tokens) max_tokens = w->acts.max_tokens;
            if (w->acts.max_keys > max_keys) max_keys = w->acts.max_keys;
            acts_free(&w->acts);
            w->have_acts = 0;
        }
        if (acts_init(&w->acts, cfg, max_tokens, max_keys, 0, 0)) return -1;
        w->have_acts = 1;
        w->acts_threads = nt;
    }
    /* Logits for all decode rows at once when they fit in LOGITS_BYTES, so
     * each step streams the LM head once. */
    int want = logit_rows;
    const int cap = (int)(LOGITS_BYTES / ((size_t)cfg->vocab_size * sizeof(float)));
    if (want > cap) want = cap > w->acts.lm.chunk_rows ? cap : w->acts.lm.chunk_rows;
    if (want < 1) want = 1;
    if (w->logit_rows < want) {
        free(w->logits);
        w->logit_rows = want;
        w->logits = xalloc_aligned((size_t)w->logit_rows * cfg->vocab_size * sizeof(float));
    }
    if (w->n_samplers < nt) {
        w->samplers = xrealloc(w->samplers, (size_t)nt * sizeof(Sampler));
        for (int i = w->n_samplers; i < nt; i++) sampler_init(&w->samplers[i], cfg->vocab_size);
        w->n_samplers = nt;
    }
    return 0;
}

static int is_eos(const ModelConfig *cfg, int tok) {
    for (int i = 0; i < cfg->n_eos; i++)
        if (cfg->eos_token_ids[i] == tok) return 1;
    return 0;
}

static void text_append(Seq *s, const char *b, size_t n) {
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->text = xrealloc(s->text, s->cap);
    }
    memcpy(s->text + s->len, b, n);
    s->len += n;
    s->text[s->len] = '\0';
}

/* Appends the token drawn this step to s and decides whether s is done. */
static void seq_push(RolloutWorker *w, const RolloutConfig *c, Seq *s, const RolloutCallbacks *cb) {
    const int tok = s->tok;
    s->ids[s->n] = tok;
    s->lp[s->n] = s->tok_lp;
    s->lpt[s->n] = s->tok_lpt;
    s->n++;
    if (!c->ignore_eos && is_eos(&w->m->cfg, tok)) {
        s->done = 1;
        s->fin = FINISH_EOS;
    } else if (w->tok) {
        size_t nb = 0, old = s->len;
        const char *b = tokenizer_token_bytes(w->tok, tok, &nb);
        if (b && nb) text_append(s, b, nb);
        int which = 0;
        size_t end = c->n_stop ? rollout_find_stop(s->text, s->len, old, c->stop, c->n_stop, &which) : 0;
        if (end) {
            s->len = end;
            s->text[end] = '\0';
            s->done = 1;
            s->fin = FINISH_STOP;
        }
        if (cb && cb->on_text && s->len > old) cb->on_text(cb->ctx, s->p, s->g, s->text + old, s->len - old);
    }
    if (!s->done && s->n >= s->max_new) {
        s->done = 1;
        s->fin = FINISH_LENGTH;
    }
    if (s->done && cb && cb->on_done) {
        RolloutSample view = {.ids = s->ids, .logprobs = s->lp, .logprobs_t = s->lpt, .n = s->n, .text = s->text,
                              .text_len = s->len, .finish = s->fin};
        cb->on_done(cb->ctx, s->p, s->g, &view);
    }
}

/* Draws the next token of seqs[job_seq[j]] from logits row job_row[j] for
 * j in [0, n_jobs), in parallel: each draw depends only on its row and its
 * sequence's stream. */
static void sample_jobs(RolloutWorker *w, const SamplerConfig *sc, Seq *seqs, const int *job_seq, const int *job_row,
                        int n_jobs) {
    const int V = w->m->cfg.vocab_size;
#pragma omp parallel for schedule(dynamic, 1) if (n_jobs > 1)
    for (int j = 0; j < n_jobs; j++) {
        Seq *s = &seqs[job_seq[j]];
        s->tok = sampler_sample(&w->samplers[omp_get_thread_num()], sc, w->logits + (size_t)job_row[j] * V, &s->rng,
                                &s->tok_lp, &s->tok_lpt);
    }
}

/* Tokenizes and checks the prompts into groups[i].prompt_ids. */
static int load_prompts(RolloutWorker *w, const RolloutPrompt *prompts, int n, RolloutGroup *groups) {
    const ModelConfig *cfg = &w->m->cfg;
    for (int i = 0; i < n; i++) {
        const RolloutPrompt *p = &prompts[i];
        RolloutGroup *g = &groups[i];
        g->prompt_index = p->index;
        if (p->text) {
            if (!w->tok)
                return ERR("rollout: prompt %u is text but the model has no tokenizer; pass token ids", p->index);
            TokenIds ids = {0};
            if (tokenizer_encode(w->tok, p->text, strlen(p->text), 1, &ids)) {
                token_ids_free(&ids);
                return err_prefix("rollout: prompt %u", p->index);
            }
            g->prompt_ids = ids.ids;
            g->n_prompt = (int)ids.n;
        } else {
            if (p->n_ids < 0 || (p->n_ids > 0 && !p->ids)) return ERR("rollout: prompt %u has no ids", p->index);
            g->prompt_ids = xmalloc((size_t)(p->n_ids > 0 ? p->n_ids : 1) * sizeof(int));
            if (p->n_ids) memcpy(g->prompt_ids, p->ids, (size_t)p->n_ids * sizeof(int));
            g->n_prompt = p->n_ids;
        }
        if (g->n_prompt == 0)
            return ERR("rollout: prompt %u is empty; a prompt needs at least one token", p->index);
        if (g->n_prompt >= cfg->max_position_embeddings)
            return ERR("rollout: prompt %u has %d tokens, but the model's max_position_embeddings is %d; shorten it",
                       p->index, g->n_prompt, cfg->max_position_embeddings);
        for (int t = 0; t < g->n_prompt; t++)
            if (g->prompt_ids[t] < 0 || g->prompt_ids[t] >= cfg->vocab_size)
                return ERR("rollout: prompt %u: token id %d is outside the vocabulary (size %d)", p->index,
                           g->prompt_ids[t], cfg->vocab_size);
    }
    return 0;
}

/* Per-call state of rollout_generate: the KV layout of each prompt, the
 * sequences, and the arrays of one forward (one entry per sequence; a
 * prefill forward has at most n <= NS rows, a decode step at most NS). */
typedef struct {
    int n, G, NS;      /* prompts, samples per prompt, sequences (n x G) */
    int *base, *maxnew; /* (n) prompt p's first KV row, its completion limit */
    Seq *seqs;          /* (NS) sample g of prompt p is seqs[p * G + g] */
    int chunk;          /* prefill forwards hold at most this many tokens */
    int *tokens;        /* (max(chunk, NS)) the forward's tokens */
    int *seq_start;     /* (NS + 1) the forward's sequence boundaries */
    int *prow, *plen, *orow, *opast; /* (NS) the forward's KV prefixes and own rows */
    int *rows;          /* (NS) the forward rows whose logits are sampled */
    int *first_seq;     /* (n) prefill: the first sequence each row feeds */
    int *active;        /* (NS) decode: the unfinished sequences */
    int *job_seq, *job_row; /* (NS) one draw each: its sequence and logits row */
} Call;

static void call_alloc(Call *k, int n, int G) {
    memset(k, 0, sizeof(*k));
    k->n = n;
    k->G = G;
    k->NS = n * G;
    const size_t NS = (size_t)k->NS;
    k->base = xmalloc((size_t)n * sizeof(int));
    k->maxnew = xmalloc((size_t)n * sizeof(int));
    k->seqs = xcalloc(NS, sizeof(Seq));
    k->seq_start = xmalloc((NS + 1) * sizeof(int));
    k->prow = xmalloc(NS * sizeof(int));
    k->plen = xmalloc(NS * sizeof(int));
    k->orow = xmalloc(NS * sizeof(int));
    k->opast = xmalloc(NS * sizeof(int));
    k->rows = xmalloc(NS * sizeof(int));
    k->first_seq = xmalloc((size_t)n * sizeof(int));
    k->active = xmalloc(NS * sizeof(int));
    k->job_seq = xmalloc(NS * sizeof(int));
    k->job_row = xmalloc(NS * sizeof(int));
}

static void call_free(Call *k) {
    for (int i = 0; i < k->NS; i++) {
        free(k->seqs[i].ids);
        free(k->seqs[i].lp);
        free(k->seqs[i].lpt);
        free(k->seqs[i].text);
    }
    free(k->seqs), free(k->base), free(k->maxnew), free(k->tokens), free(k->seq_start), free(k->prow);
    free(k->plen), free(k->orow), free(k->opast), free(k->rows), free(k->first_seq), free(k->active);
    free(k->job_seq), free(k->job_row);
}

/* Lays out the KV store (prompt p at base[p], then its G completion
 * regions of maxnew[p] rows), picks the prefill chunk, grows the worker's
 * buffers to fit and records their sizes in w->st. */
static int call_size(RolloutWorker *w, const RolloutConfig *c, const RolloutGroup *groups, Call *k) {
    const ModelConfig *cfg = &w->m->cfg;
    size_t total_rows = 0, sum_prompt = 0;
    int longest = 0, max_keys = 0;
    for (int p = 0; p < k->n; p++) {
        int L = groups[p].n_prompt;
        int mn = cfg->max_position_embeddings - L;
        k->maxnew[p] = c->max_completion_length < mn ? c->max_completion_length : mn;
        k->base[p] = (int)(total_rows < INT_MAX ? total_rows : INT_MAX);
        total_rows += (size_t)L + (size_t)k->G * k->maxnew[p];
        sum_prompt += (size_t)L;
        if (L > longest) longest = L;
        if (L + k->maxnew[p] > max_keys) max_keys = L + k->maxnew[p];
    }
    k->chunk = longest > PREFILL_TOKENS ? longest : PREFILL_TOKENS;
    if ((size_t)k->chunk > sum_prompt) k->chunk = (int)sum_prompt;
    const int max_tokens = k->chunk > k->NS ? k->chunk : k->NS; /* a prefill chunk or one decode step */
    if (ensure_buffers(w, total_rows, max_tokens, max_keys, k->NS)) return -1;
    k->tokens = xmalloc((size_t)max_tokens * sizeof(int));
    w->st.kv_bytes = rollout_kv_bytes(cfg, (size_t)w->kv.rows);
    w->st.workspace_bytes = acts_bytes(&w->acts) + (size_t)w->logit_rows * cfg->vocab_size * sizeof(float);
    return 0;
}

/* Sets up every sequence: its KV region, its empty buffers and its random
 * stream rng_init(seed, step, prompt index, g), which alone decides its
 * draws (rollout.h). */
static void seqs_init(const RolloutConfig *c, uint32_t step, const RolloutGroup *groups, Call *k) {
    for (int p = 0; p < k->n; p++)
        for (int g = 0; g < k->G; g++) {
            Seq *s = &k->seqs[p * k->G + g];
            s->p = p;
            s->g = g;
            s->max_new = k->maxnew[p];
            s->own_row = k->base[p] + groups[p].n_prompt + g * k->maxnew[p];
            rng_init(&s->rng, c->seed, step, groups[p].prompt_index, (uint32_t)g);
            s->ids = xmalloc((size_t)s->max_new * sizeof(int));
            s->lp = xmalloc((size_t)s->max_new * sizeof(float));
            s->lpt = xmalloc((size_t)s->max_new * sizeof(float));
            s->cap = 64;
            s->text = xmalloc(s->cap);
            s->text[0] = '\0';
        }
}

/* After a forward: the logits of its rows k->rows[0..R), as many rows at a
 * time as the logits buffer holds; row r feeds the per_row sequences from
 * row_seq[r] on, each of which draws and appends one token. */
static void sample_rows(RolloutWorker *w, const RolloutConfig *c, const SamplerConfig *sc, Call *k,
                        const int *row_seq, int R, int per_row, const RolloutCallbacks *cb) {
    for (int r0 = 0; r0 < R; r0 += w->logit_rows) {
        int nr = R - r0 < w->logit_rows ? R - r0 : w->logit_rows;
        model_logits(w->m, &w->acts, k->rows + r0, nr, w->logits);
        int nj = 0;
        for (int r = 0; r < nr; r++)
            for (int g = 0; g < per_row; g++) {
                k->job_seq[nj] = row_seq[r0 + r] + g;
                k->job_row[nj++] = r;
            }
        sample_jobs(w, sc, k->seqs, k->job_seq, k->job_row, nj);
        for (int j = 0; j < nj; j++) seq_push(w, c, &k->seqs[k->job_seq[j]], cb);
    }
}

/* Prefill: whole prompts packed into forwards of up to k->chunk tokens;
 * each prompt's last row gives its G samples their first token. */
static int prefill(RolloutWorker *w, const RolloutConfig *c, const SamplerConfig *sc, const RolloutGroup *groups,
                   Call *k, const RolloutCallbacks *cb) {
    const double t0 = now_seconds();
    for (int p0 = 0; p0 < k->n;) {
        int p1 = p0, ntok = 0;
        while (p1 < k->n && (p1 == p0 || ntok + groups[p1].n_prompt <= k->chunk)) ntok += groups[p1++].n_prompt;
        int B = p1 - p0;
        k->seq_start[0] = 0;
        for (int b = 0; b < B; b++) {
            const RolloutGroup *g = &groups[p0 + b];
            memcpy(k->tokens + k->seq_start[b], g->prompt_ids, (size_t)g->n_prompt * sizeof(int));
            k->seq_start[b + 1] = k->seq_start[b] + g->n_prompt;
            k->orow[b] = k->base[p0 + b];
            k->rows[b] = k->seq_start[b + 1] - 1;
            k->first_seq[b] = (p0 + b) * k->G;
        }
        Batch batch = {B, ntok, k->tokens, k->seq_start, NULL, NULL, k->orow, NULL};
        if (model_forward(w->m, &w->acts, &batch, &w->kv)) return -1;
        w->st.prefill_tokens += ntok;
        sample_rows(w, c, sc, k, k->first_seq, B, k->G, cb);
        p0 = p1;
    }
    w->st.prefill_seconds = now_seconds() - t0;
    return 0;
}

/* One decode step: each of the na sequences in k->active feeds its last
 * token at its own position and draws the next; the finished ones leave
 * k->active. Returns how many remain, or -1. */
static int decode_step(RolloutWorker *w, const RolloutConfig *c, const SamplerConfig *sc,
                       const RolloutGroup *groups, Call *k, int na, const RolloutCallbacks *cb) {
    for (int b = 0; b < na; b++) {
        const Seq *s = &k->seqs[k->active[b]];
        k->tokens[b] = s->ids[s->n - 1];
        k->seq_start[b] = b;
        k->prow[b] = k->base[s->p];
        k->plen[b] = groups[s->p].n_prompt;
        k->orow[b] = s->own_row;
        k->opast[b] = s->n - 1;
        k->rows[b] = b;
    }
    k->seq_start[na] = na;
    Batch batch = {na, na, k->tokens, k->seq_start, k->prow, k->plen, k->orow, k->opast};
    if (model_forward(w->m, &w->acts, &batch, &w->kv)) return -1;
    w->st.decode_tokens += na;
    w->st.decode_steps++;
    sample_rows(w, c, sc, k, k->active, na, 1, cb);
    int left = 0;
    for (int b = 0; b < na; b++)
        if (!k->seqs[k->active[b]].done) k->active[left++] = k->active[b];
    return left;
}

/* Decode: every unfinished sequence advances one token per step until
 * none is left. */
static int decode(RolloutWorker *w, const RolloutConfig *c, const SamplerConfig *sc, const RolloutGroup *groups,
                  Call *k, const RolloutCallbacks *cb) {
    const double t0 = now_seconds();
    int na = 0;
    for (int i = 0; i < k->NS; i++)
        if (!k->seqs[i].done) k->active[na++] = i;
    while (na > 0)
        if ((na = decode_step(w, c, sc, groups, k, na, cb)) < 0) return -1;
    w->st.decode_seconds = now_seconds() - t0;
    return 0;
}

/* Hands each finished sequence's buffers to its group's samples (trimmed
 * to size); the sequences keep nothing. */
static void copy_out(Call *k, RolloutGroup *groups) {
    for (int p = 0; p < k->n; p++) {
        RolloutGroup *g = &groups[p];
        g->n_samples = k->G;
        g->samples = xcalloc((size_t)k->G, sizeof(RolloutSample));
        for (int j = 0; j < k->G; j++) {
            Seq *s = &k->seqs[p * k->G + j];
            RolloutSample *o = &g->samples[j];
            o->n = s->n;
            o->ids = xrealloc(s->ids, (size_t)(s->n > 0 ? s->n : 1) * sizeof(int));
            o->logprobs = xrealloc(s->lp, (size_t)(s->n > 0 ? s->n : 1) * sizeof(float));
            o->logprobs_t = xrealloc(s->lpt, (size_t)(s->n > 0 ? s->n : 1) * sizeof(float));
            o->text = s->text;
            o->text_len = s->len;
            o->finish = s->fin;
            s->ids = NULL;
            s->lp = NULL;
            s->lpt = NULL;
            s->text = NULL;
        }
    }
}

int rollout_generate(RolloutWorker *w, const RolloutConfig *c, uint32_t step, const RolloutPrompt *prompts, int n,
                     RolloutGroup *groups, const RolloutCallbacks *cb) {
    if (rollout_config_check(c)) return -1;
    if (n < 0) return ERR("rollout: negative prompt count");
    if (c->n_stop && !w->tok) return ERR("rollout: stop strings need the model's tokenizer");
    memset(groups, 0, (size_t)n * sizeof(*groups));
    memset(&w->st, 0, sizeof(w->st));
    if (n == 0) return 0;
    const int G = c->num_generations;
    if ((size_t)n * G > INT_MAX / 2) return ERR("rollout: %d prompts x %d samples is too many for one call", n, G);
    const SamplerConfig sc = rollout_sampler_config(c);

    Call k;
    call_alloc(&k, n, G);
    int rc = -1;
    if (load_prompts(w, prompts, n, groups)) goto done;
    if (call_size(w, c, groups, &k)) goto done;
    seqs_init(c, step, groups, &k);
    if (prefill(w, c, &sc, groups, &k, cb)) goto done;
    if (decode(w, c, &sc, groups, &k, cb)) goto done;
    copy_out(&k, groups);
    rc = 0;
done:
    if (rc) rollout_groups_free(groups, n);
    call_free(&k);
    return rc;
}
