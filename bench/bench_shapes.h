/*
 * bench_shapes.h: the two benchmark model shapes of the model-core issue,
 * shared by bench_train.c, bench_rollout.c and bench_grpo_parts.c: small
 * (about 3M parameters) and big (about 27M), Llama-style with tied
 * embeddings; random prompts for the rollout benches; and the machine's
 * load average, which every table prints.
 */
#ifndef GRPO_BENCH_SHAPES_H
#define GRPO_BENCH_SHAPES_H

#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "model/model.h"
#include "rollout/rollout.h"

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

/* P prompts of plen ids drawn below V from the stream (9, 0, 0, 0), with
 * indices 0..P-1. The prompts point into *ids; the caller frees both. */
static inline RolloutPrompt *bench_random_prompts(int V, int P, int plen, int **ids) {
    *ids = xmalloc((size_t)P * plen * sizeof(int));
    Rng r;
    rng_init(&r, 9, 0, 0, 0);
    for (int i = 0; i < P * plen; i++) (*ids)[i] = (int)rng_below(&r, (uint32_t)V);
    RolloutPrompt *p = xmalloc((size_t)P * sizeof(RolloutPrompt));
    for (int i = 0; i < P; i++) p[i] = (RolloutPrompt){NULL, *ids + (size_t)i * plen, plen, (uint32_t)i};
    return p;
}

/* The 1-minute load average (/proc/loadavg), or -1 where there is none. */
static inline double bench_loadavg(void) {
    FILE *f = fopen("/proc/loadavg", "r");
    double l = -1;
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

#endif
