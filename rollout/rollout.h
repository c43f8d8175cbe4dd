/*
 * rollout.h: the rollout worker: given the policy, a tokenizer and a list
 * of prompts, sample a group of G completions per prompt, with the token
 * ids, text, finish reason and per-token log-probs the GRPO trainer needs.
 * Not for: rewards (reward/), advantages and losses (trainer/), MPI (the
 * caller splits prompts across ranks, e.g. with rollout_shard).
 *
 * How it runs (docs/rollout.md): each prompt is prefilled once into a KV
 * store and its G samples all attend to those rows (no G-fold copy); the
 * P x G sequences of a call decode together, one token each per step,
 * every sequence with its own length; a finished sequence leaves the batch
 * at once. Randomness: sample g of the prompt with global index i draws
 * from the stream rng_init(seed, step, i, g), one uniform per token, and
 * every number a sequence sees is computed in an order that does not
 * depend on which other sequences share the batch (kernels.h,
 * matmul_forward_rowstable), so a group is the same whatever batch, thread
 * count or MPI rank produces it.
 *
 *     RolloutWorker *w;
 *     if (rollout_worker_init(&w, &model, tok)) return -1;
 *     RolloutConfig rc; rollout_config_default(&rc);
 *     rc.num_generations = 16; rc.temperature = 1.0f; rc.max_completion_length = 512;
 *     const char *stop[] = {"</answer>"}; rc.stop = stop; rc.n_stop = 1;
 *     RolloutPrompt p[2] = {{.text = prompt0, .index = 0}, {.text = prompt1, .index = 1}};
 *     RolloutGroup g[2];
 *     if (rollout_generate(w, &rc, step, p, 2, g, NULL)) return -1;
 *     ... g[i].samples[j].ids / .logprobs / .text / .finish ...
 *     rollout_groups_free(g, 2); rollout_worker_free(w);
 */
#ifndef GRPO_ROLLOUT_H
#define GRPO_ROLLOUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/finish.h"
#include "model/model.h"
#include "model/tokenizer/tokenizer.h"
#include "sampler.h"

/* Sampling options, named as in TRL's GRPOConfig (stop as in vLLM). */
typedef struct {
    int num_generations;       /* G, samples per prompt (>= 1) */
    float temperature;         /* >= 0; 0 = greedy */
    float top_p;               /* (0, 1]; 1 = off */
    int top_k;                 /* >= 0; 0 = off */
    float min_p;               /* [0, 1]; 0 = off */
    int max_completion_length; /* >= 1 tokens per completion */
    const char *const *stop;   /* n_stop stop strings (borrowed, non-empty) */
    int n_stop;
    uint64_t seed;
    int ignore_eos; /* 1: EOS ids do not end a completion (benchmarks, tests) */
} RolloutConfig;

/* TRL's defaults: G 8, temperature 1, top_p 1, top_k 0, min_p 0,
 * max_completion_length 256, no stop strings, seed 42. */
void rollout_config_default(RolloutConfig *c);
/* Checks every field; the message names the option and its valid range. */
int rollout_config_check(const RolloutConfig *c);
/* The SamplerConfig part of c. */
SamplerConfig rollout_sampler_config(const RolloutConfig *c);

/* A prompt: rendered text (a template already applied; tokenized with
 * special tokens matched, no BOS/EOS added) or, when text is NULL, token
 * ids. index is the prompt's global index in the step: it keys the RNG. */
typedef struct {
    const char *text;
    const int *ids;
    int n_ids;
    uint32_t index;
} RolloutPrompt;

/* One completion. ids holds every sampled token, including a final EOS;
 * logprobs[t] is log softmax(raw logits)[ids[t]] (temperature 1, no
 * truncation) under the model that sampled it, and logprobs_t[t] the same
 * at the sampling temperature, log softmax(logits / T)[ids[t]] (what the
 * GRPO trainer computes for the token; equal to logprobs at T = 0 or 1).
 * text is the bytes of the
 * tokens, minus a final EOS token, cut right after a stop string when one
 * ended the sample (the last token's bytes may run past it). */
typedef struct {
    int *ids;
    float *logprobs;
    float *logprobs_t;
    int n;
    char *text; /* NUL-terminated; text_len bytes (may hold NULs) */
    size_t text_len;
    FinishReason finish; /* eos, stop, or length (truncated) */
} RolloutSample;

typedef struct {
    uint32_t prompt_index;
    int *prompt_ids; /* the prompt as the model saw it */
    int n_prompt;
    int n_samples; /* G */
    RolloutSample *samples;
} RolloutGroup;

/* Frees what n groups own (the array itself is the caller's). */
void rollout_groups_free(RolloutGroup *groups, int n);

/* Optional hooks while generating (any may be NULL). prompt is the
 * position in the prompts array, sample in 0..G-1. on_text gets the bytes
 * appended to the sample's text, in order (what a terminal should print);
 * on_done fires once when a sample is complete. */
typedef struct {
    void (*on_text)(void *ctx, int prompt, int sample, const char *bytes, size_t n);
    void (*on_done)(void *ctx, int prompt, int sample, const RolloutSample *s);
    void *ctx;
} RolloutCallbacks;

/* Timings and sizes of the last rollout_generate call. */
typedef struct {
    long prefill_tokens, decode_tokens, decode_steps;
    double prefill_seconds, decode_seconds; /* decode includes sampling */
    size_t kv_bytes, workspace_bytes;       /* allocated now */
} RolloutStats;

typedef struct RolloutWorker RolloutWorker;

/* A worker for model m (borrowed; the worker sees in-place weight updates)
 * and tok (borrowed; may be NULL: then prompts must be ids, the text
 * stays empty and stop strings are refused). Buffers grow on demand. */
int rollout_worker_init(RolloutWorker **out, const Model *m, const Tokenizer *tok);
void rollout_worker_free(RolloutWorker *w);

/* Samples c->num_generations completions for each of the n prompts into
 * groups[0..n) (caller's array; each group then owns its arrays: free with
 * rollout_groups_free). step keys the RNG with the prompts' indices.
 * A prompt must have at least one token and fewer than the model's
 * max_position_embeddings; completions stop early (finish "length") where
 * they would pass that limit. cb may be NULL. On failure nothing is left
 * allocated in groups. */
int rollout_generate(RolloutWorker *w, const RolloutConfig *c, uint32_t step, const RolloutPrompt *prompts, int n,
                     RolloutGroup *groups, const RolloutCallbacks *cb);

void rollout_stats(const RolloutWorker *w, RolloutStats *st);

/* Scoring (`grpo score`): logprobs[j] = log softmax(z_j)[completion[j]] at
 * temperature 1, z_j the logits after prompt + completion[0..j), computed
 * by the training forward (model_forward without a KV store, then
 * model_logprobs), i.e. what the trainer computes. Needs np >= 1, nc >= 1
 * and np + nc <= max_position_embeddings; allocates a workspace per call.
 * logits (nullable) receives the full (nc, V) logits of those rows. */
int rollout_score(const Model *m, const int *prompt, int np, const int *completion, int nc, float *logprobs,
                  float *logits);

/* KV-cache bytes for `tokens` cached positions of cfg's model:
 * layers x kv_heads x head_dim x 2 (k and v) x tokens x 4. A call with P
 * prompts of length Lp needs sum_p (Lp + G x max_completion_length)
 * positions. */
size_t rollout_kv_bytes(const ModelConfig *cfg, size_t tokens);

/* The contiguous block [*begin, *end) of n prompts that rank of world
 * takes (the first n % world ranks get one more). */
void rollout_shard(int n, int rank, int world, int *begin, int *end);

/* Stop-string search over a completion's bytes: the earliest end position
 * of any stop string occurrence that ends after `from` (bytes before
 * `from` were searched already), with *which set to its index. Returns the
 * end offset (one past the match), or 0 if none. */
size_t rollout_find_stop(const char *text, size_t len, size_t from, const char *const *stop, int n_stop, int *which);

#endif
