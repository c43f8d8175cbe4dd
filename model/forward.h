/*
 * forward.h: running the transformer: the forward pass over a packed batch
 * (training, scoring, rollout prefill and decode all use it), the backward
 * pass, and the LM-head entry points. Activations and scratch live in an
 * Acts workspace allocated once for a maximum batch.
 * Not for: sampling (rollout/), the optimizer (optim.h), files.
 *
 * Training step (objective J = sum wlp*logp + went*ent, see lmhead.h):
 *
 *     Acts a; acts_init(&a, &m.cfg, max_tokens, max_tokens, 1, 0);
 *     model_forward(&m, &a, &batch, NULL);
 *     model_logprobs(&m, &a, targets, logp, NULL);      // if weights need them
 *     model_backward(&m, &a, &batch, targets, wlp, went, NULL, NULL); // grads += dJ/dθ
 *
 * A batch packs B sequences' new tokens back to back (no padding): sequence
 * b owns tokens[seq_start[b] .. seq_start[b+1]). Positions restart at 0 for
 * each sequence (plus any cached prefix/past in rollout), and attention never
 * crosses sequences.
 */
#ifndef GRPO_FORWARD_H
#define GRPO_FORWARD_H

#include "attention.h"
#include "lmhead.h"
#include "model.h"

typedef struct {
    int n_seqs;            /* B */
    int n_tokens;          /* N = seq_start[B] */
    const int *tokens;     /* (N) */
    const int *seq_start;  /* (B+1) */
    /* Rollout only (all NULL in training): where each sequence's keys and
     * values live in the KVStore; see attention.h. */
    const int *prefix_row; /* (B) */
    const int *prefix_len; /* (B) */
    const int *own_row;    /* (B) */
    const int *own_past;   /* (B) */
} Batch;

/* Keys and values of every layer: k, v (L, rows, KVD). */
typedef struct {
    int L, rows, KVD;
    float *k, *v;
} KVStore;

/* Allocates (zeroed) a store of `rows` rows; fails, naming the size, when
 * the bytes overflow or the memory is not there. */
int kvstore_init(KVStore *kv, const ModelConfig *cfg, int rows);
/* The bytes of a store of `rows` rows (k and v), checked. */
int kvstore_bytes(const ModelConfig *cfg, size_t rows, size_t *bytes);
void kvstore_free(KVStore *kv);

typedef struct {
    ModelConfig cfg;
    int max_tokens, max_keys;
    int training;  /* keep what backward needs */
    int recompute; /* keep only layer inputs; recompute each layer in backward */
    int n_slots;   /* layers whose activations are stored (L, or 1) */
    int n_tokens;  /* tokens of the last forward */
    /* activations (slot-major: slot s holds layer s, or the layer being
     * recomputed) */
    float *x;      /* (L+1, N, C) residual stream into each layer (training); (N, C) otherwise */
    float *hn1;    /* (S, N, C) */
    float *rstd1;  /* (S, N) */
    float *qkv;    /* (S, N, QKV) q and k after qk-norm and RoPE */
    float *qkraw;  /* (S, N, QD+KVD) q, k before qk-norm (qk_norm only) */
    float *qkrstd; /* (S, N, NH+NKV) (qk_norm only) */
    float *lse;    /* (S, N, NH) */
    float *atty;   /* (S, N, QD) */
    float *x2;     /* (S, N, C) residual after attention (training) */
    float *hn2;    /* (S, N, C) */
    float *rstd2;  /* (S, N) */
    float *gu;     /* (S, N, 2I) */
    float *hmlp;   /* (S, N, I) */
    float *hf;     /* (N, C) final-norm output: the LM head's input */
    float *rstdf;  /* (N) */
    int *pos;      /* (N) */
    /* backward buffers */
    float *dx, *dhn, *dbig, *dmid, *dhf;
    /* scratch */
    float *norm_scratch;    /* nthreads * max(C, HD) */
    float *attn_scratch;    /* nthreads * attn_per_thread */
    size_t attn_per_thread;
    float *rope_cos, *rope_sin; /* (max_keys, HD/2) */
    LMHead lm;
    size_t bytes;  /* total allocated */
    int n_threads; /* per-thread scratch was sized for this many OpenMP threads */
} Acts;

/* Allocates a workspace for calls of up to max_tokens tokens whose
 * sequences see at most max_keys keys (prefix + cached + new). training=1
 * keeps activations for model_backward; recompute=1 keeps only each layer's
 * input and recomputes the rest during backward (less memory, ~1/3 more
 * compute). */
int acts_init(Acts *a, const ModelConfig *cfg, int max_tokens, int max_keys, int training, int recompute);
void acts_free(Acts *a);
/* The bytes acts_init would allocate for these arguments with n_threads
 * OpenMP threads, computed with every product checked (-1 with a message on
 * overflow); for estimating a job's memory before allocating anything. */
int acts_size(const ModelConfig *cfg, int max_tokens, int max_keys, int training, int recompute, int n_threads,
              size_t *bytes);
/* Bytes held by the workspace. */
size_t acts_bytes(const Acts *a);

/* Runs the body; leaves final-norm hidden states in a->hf (N, C). With kv,
 * the new tokens' keys/values are written to the store first (rollout);
 * without, keys and values are read from the batch itself (training).
 * Fails (no crash) if the batch exceeds the workspace or a position exceeds
 * max_keys, a token id is outside the vocabulary, or more OpenMP threads
 * are active than the workspace was sized for (re-create it after raising
 * the thread count). */
int model_forward(const Model *m, Acts *a, const Batch *batch, KVStore *kv);

/* After model_forward: per-token log-probs of targets and entropies
 * (ent may be NULL) at temperature 1 (lmhead.h). */
void model_logprobs(const Model *m, Acts *a, const int *targets, float *logp, float *ent);

/* After model_forward: log-probs and entropies (ent may be NULL) at
 * temperature T > 0, i.e. of log_softmax(logits / T), as the GRPO loss
 * takes them. */
void model_logprobs_at(const Model *m, Acts *a, const int *targets, float *logp, float *ent, float temperature);

/* After model_forward on a training workspace (and no kv): accumulates
 * dJ/dθ into m->grads for J = sum wlp*logp + went*ent (lmhead.h); writes
 * logp/ent of the processed rows when not NULL. */
void model_backward(Model *m, Acts *a, const Batch *batch, const int *targets, const float *wlp, const float *went,
                    float *logp, float *ent);

/* What model_backward_with differentiates. */
typedef struct {
    const float *wlp, *went; /* fixed per-token weights (either may be NULL), or: */
    LMHeadWeightFn fn;        /* weights from each row's own log-prob and entropy (lmhead.h) */
    void *fn_ctx;
    float temperature;        /* log-probs of logits / temperature; 0 means 1 */
    /* Called (may be NULL) as soon as a part's parameter gradients are
     * complete, in the order the pass finishes them: part L (the final norm
     * and an untied lm_head), then layers L-1 .. 0, then part -1 (the
     * embeddings); model_part_range gives each part's floats. For
     * overlapping the gradient all-reduce with the rest of the pass. */
    void (*part_done)(void *ctx, int part);
    void *part_ctx;
} BackwardSpec;

/* model_backward with the weights, temperature and hook of spec. */
void model_backward_with(Model *m, Acts *a, const Batch *batch, const int *targets, const BackwardSpec *spec,
                         float *logp, float *ent);

/* After model_forward: full logits (n, V) of the hidden rows rows[0..n). */
void model_logits(const Model *m, const Acts *a, const int *rows, int n, float *logits);

#endif
