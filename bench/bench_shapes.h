/*
 * bench_shapes.h: the two benchmark model shapes of the model-core issue,
 * shared by bench_train.c and bench_rollout.c: small (about 3M parameters)
 * and big (about 27M), Llama-style with tied embeddings.
 */
#ifndef GRPO_BENCH_SHAPES_H
#define GRPO_BENCH_SHAPES_H

#include <stdio.h>
#include <string.h>

#include "model/model.h"

typedef struct {
    const char *name;
    int V, C, L, NH, NKV, F; /* F: MLP width */
} Shape;

static const Shape bench_shapes[] = {
    {"small", 256, 256, 4, 8, 4, 688},
    {"big", 8192, 512, 8, 8, 2, 1408},
};
#define N_BENCH_SHAPES (sizeof(bench_shapes) / sizeof(bench_shapes[0]))

/* The ModelConfig of a shape (positions up to 1024, RoPE theta 1e4). */
static inline ModelConfig bench_shape_config(const Shape *sh) {
    ModelConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.model_type, sizeof(cfg.model_type), "llama");
    snprintf(cfg.architecture, sizeof(cfg.architecture), "LlamaForCausalLM");
    cfg.vocab_size = sh->V, cfg.hidden_size = sh->C, cfg.num_hidden_layers = sh->L;
    cfg.num_attention_heads = sh->NH, cfg.num_key_value_heads = sh->NKV, cfg.head_dim = sh->C / sh->NH;
    cfg.intermediate_size = sh->F, cfg.max_position_embeddings = 1024, cfg.rope_theta = 10000;
    cfg.rms_norm_eps = 1e-6, cfg.tie_word_embeddings = 1, cfg.initializer_range = 0.02, cfg.bos_token_id = -1;
    return cfg;
}

#endif
