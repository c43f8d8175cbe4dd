/*
 * model.h: the decoder-only transformer of the Llama / Qwen2 / Qwen3 /
 * Mistral family, used by BOTH rollout and training (one code path, so the
 * log-probs the sampler reports are the ones the trainer computes).
 * Not for: tokenization (tokenizer.h), files (checkpoint.h, hf.h), sampling
 * (rollout/).
 *
 * Shape letters: V vocab, C hidden, L layers, NH query heads, NKV key/value
 * heads, HD head dim, I MLP width, QD = NH*HD, KVD = NKV*HD,
 * QKV = QD + 2*KVD, N tokens in a call, B sequences in a call, R rows of a
 * KV store.
 *
 * Parameters live in one contiguous block laid out layer by layer. Inside a
 * layer, q/k/v projection rows are adjacent (one [QKV, C] matrix) and so are
 * gate/up rows (one [2I, C] matrix), so each is one GEMM; every HF tensor is
 * still a contiguous slice with its HF shape (model_tensors()). Gradients and
 * AdamW moments use the same layout, so one table describes them all.
 *
 *     Model m; model_init(&m, &cfg);          // allocates params (zeroed)
 *     model_init_random(&m, seed);            // HF-style N(0, initializer_range)
 *     ...
 *     model_free(&m);
 */
#ifndef GRPO_MODEL_H
#define GRPO_MODEL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define MODEL_MAX_EOS 8
#define MODEL_NAME_MAX 128

/* Architecture, named after the HF config.json fields. */
typedef struct {
    char model_type[32];     /* "llama", "qwen2", "qwen3", "mistral" */
    char architecture[64];   /* "LlamaForCausalLM", "Qwen2ForCausalLM", ... */
    int vocab_size;          /* V */
    int hidden_size;         /* C */
    int num_hidden_layers;   /* L */
    int num_attention_heads; /* NH */
    int num_key_value_heads; /* NKV (NH % NKV == 0) */
    int head_dim;            /* HD (default C / NH) */
    int intermediate_size;   /* I */
    int max_position_embeddings;
    double rope_theta;
    /* rope_scaling: "" (none), "linear" or "llama3" (Llama 3.1/3.2). */
    char rope_scaling_type[16];
    double rope_factor;           /* linear and llama3 */
    double rope_low_freq_factor;  /* llama3 */
    double rope_high_freq_factor; /* llama3 */
    int rope_original_max_pos;    /* llama3 original_max_position_embeddings */
    double rms_norm_eps;
    int tie_word_embeddings; /* lm_head shares embed_tokens */
    int attention_bias;      /* q/k/v projection bias (Qwen2) */
    int qk_norm;             /* per-head RMSNorm of q and k before RoPE (Qwen3) */
    double initializer_range;
    int bos_token_id;        /* -1 if none */
    int eos_token_ids[MODEL_MAX_EOS];
    int n_eos;
} ModelConfig;

/* Fills cfg from an HF config.json object. `what` names the source in
 * errors. Refuses (with a message naming the field) architectures and
 * features the model does not implement: rope_scaling types other than
 * linear and llama3, sliding windows, MoE. */
int model_config_from_json(ModelConfig *cfg, const cJSON *json, const char *what);
/* An HF config.json object for cfg (caller deletes). */
cJSON *model_config_to_json(const ModelConfig *cfg);
/* Checks internal consistency (positive dims, NH % NKV == 0, ...). */
int model_config_validate(const ModelConfig *cfg, const char *what);

/* Pointers into one layer's slice of a parameter-shaped block. */
typedef struct {
    float *ln1;   /* (C)         input_layernorm.weight */
    float *wqkv;  /* (QKV, C)    rows: q_proj (QD), k_proj (KVD), v_proj (KVD) */
    float *bqkv;  /* (QKV)       q/k/v biases, NULL unless attention_bias */
    float *qnorm; /* (HD)        self_attn.q_norm.weight, NULL unless qk_norm */
    float *knorm; /* (HD)        self_attn.k_norm.weight, NULL unless qk_norm */
    float *wo;    /* (C, QD)     o_proj.weight */
    float *ln2;   /* (C)         post_attention_layernorm.weight */
    float *wgu;   /* (2I, C)     rows: gate_proj (I), up_proj (I) */
    float *wdown; /* (C, I)      down_proj.weight */
} LayerParams;

/* Pointers into a whole parameter-shaped block (params, grads, m or v). */
typedef struct {
    float *embed;        /* (V, C)  model.embed_tokens.weight */
    LayerParams *layers; /* [L] */
    float *lnf;          /* (C)     model.norm.weight */
    float *lm_head;      /* (V, C)  lm_head.weight; == embed when tied */
} ParamPtrs;

/* One HF-named tensor inside a block. */
typedef struct {
    char name[MODEL_NAME_MAX]; /* e.g. "model.layers.0.self_attn.q_proj.weight" */
    float *data;
    int ndim;                  /* 1 or 2 */
    int64_t shape[2];          /* HF shape */
    size_t numel;
} TensorRef;

typedef struct {
    ModelConfig cfg;
    size_t n_params;   /* floats in the block (lm_head counted once if tied) */
    float *params;     /* the block (64-byte aligned) */
    ParamPtrs p;
    float *grads;      /* same layout, NULL until model_alloc_grads */
    ParamPtrs g;
} Model;

/* Allocates a zero-filled parameter block for cfg (validated first). */
int model_init(Model *m, const ModelConfig *cfg);
void model_free(Model *m);
/* Allocates (zeroed) gradients; idempotent. */
void model_alloc_grads(Model *m);
void model_zero_grads(Model *m);

/* HF-style initialisation: linear and embedding weights ~ N(0, range^2),
 * norms 1, biases 0, drawn from the counter-based RNG keyed by seed, so the
 * same seed always gives the same model. */
void model_init_random(Model *m, uint64_t seed);

/* The floats [*begin, *end) of a parameter-shaped block that hold one part
 * of the model: part -1 the embeddings, 0..L-1 layer l, L the final norm
 * and (when untied) lm_head. The parts tile the block in the order
 * -1, 0, .., L. */
void model_part_range(const ModelConfig *cfg, int part, size_t *begin, size_t *end);

/* Points a ParamPtrs at a block laid out like the parameters. */
void model_bind(const ModelConfig *cfg, float *block, ParamPtrs *out);
void model_unbind(ParamPtrs *p);
/* Number of floats in a parameter-shaped block for cfg (validated: see
 * model_param_count_checked). */
size_t model_param_count(const ModelConfig *cfg);
/* The same count with every product and sum checked, for a config not yet
 * validated: -1, with a message naming the fields, when the per-layer
 * widths do not fit an int (the kernels' dimension type) or the block's
 * bytes, times the 16 parameter-shaped blocks a job may keep, do not fit
 * a size_t. model_config_validate calls it. */
int model_param_count_checked(const ModelConfig *cfg, const char *what, size_t *n);

/* The HF tensors of a parameter-shaped block, in a fixed order. Writes at
 * most cap entries to out (out may be NULL to count) and returns the total.
 * lm_head.weight is listed only when embeddings are untied. */
size_t model_tensors(const ModelConfig *cfg, float *block, TensorRef *out, size_t cap);

#endif
