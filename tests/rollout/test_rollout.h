/*
 * test_rollout.h: helpers shared by the rollout tests: tiny random models,
 * a byte-level tokenizer with multi-byte tokens, group comparison.
 */
#ifndef GRPO_TEST_ROLLOUT_H
#define GRPO_TEST_ROLLOUT_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "model/model.h"
#include "model/tokenizer/tokenizer.h"
#include "rollout/rollout.h"

/* A tiny random model of the given family; norms perturbed away from 1 so
 * they matter. initializer_range 0.2 spreads the logits, so greedy margins
 * are well above float rounding. */
static inline void trt_model(Model *m, const char *type, int V, int nkv, int hd, int tied, int bias, int max_pos,
                             uint64_t seed) {
    ModelConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.model_type, sizeof(cfg.model_type), "%s", type);
    cfg.vocab_size = V, cfg.hidden_size = 32, cfg.num_hidden_layers = 2, cfg.num_attention_heads = 4;
    cfg.num_key_value_heads = nkv, cfg.head_dim = hd, cfg.intermediate_size = 40;
    cfg.max_position_embeddings = max_pos, cfg.rope_theta = 10000, cfg.rms_norm_eps = 1e-6;
    cfg.tie_word_embeddings = tied, cfg.attention_bias = bias, cfg.qk_norm = !strcmp(type, "qwen3");
    cfg.initializer_range = 0.2, cfg.bos_token_id = -1;
    if (model_init(m, &cfg)) FATAL("%s", err_msg());
    model_init_random(m, seed);
    size_t nt = model_tensors(&cfg, m->params, NULL, 0);
    TensorRef *t = xmalloc(nt * sizeof(TensorRef));
    model_tensors(&cfg, m->params, t, nt);
    Rng r;
    rng_init(&r, seed, 1, 0, 0);
    for (size_t i = 0; i < nt; i++)
        if (t[i].ndim == 1)
            for (size_t k = 0; k < t[i].numel; k++) t[i].data[k] += (float)(0.2 * rng_normal(&r));
    free(t);
}

/* configs/tokenizers/bytes.json (ids 0-255 bytes, 256-259 added tokens)
 * plus 64 two-letter tokens ("ee", "et", ... over "etaoinsh") at ids
 * 260-323, so sampled text has tokens of one, two and more bytes. */
#define TRT_VOCAB 324
static inline Tokenizer *trt_tokenizer(void) {
    size_t len;
    char *txt = file_read_all(GRPO_SOURCE_DIR "/configs/tokenizers/bytes.json", &len);
    if (!txt) FATAL("%s", err_msg());
    cJSON *j = cJSON_Parse(txt);
    free(txt);
    cJSON *model = cJSON_GetObjectItem(j, "model");
    cJSON *vocab = cJSON_GetObjectItem(model, "vocab"), *merges = cJSON_GetObjectItem(model, "merges");
    const char *letters = "etaoinsh";
    int id = 260;
    for (int a = 0; a < 8; a++)
        for (int b = 0; b < 8; b++) {
            char tok[3] = {letters[a], letters[b], 0}, merge[4] = {letters[a], ' ', letters[b], 0};
            cJSON_AddNumberToObject(vocab, tok, id++);
            cJSON_AddItemToArray(merges, cJSON_CreateString(merge));
        }
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    Tokenizer *tk;
    if (tokenizer_load_from_string(&tk, s, strlen(s), "test tokenizer")) FATAL("%s", err_msg());
    free(s);
    return tk;
}

/* 1 if two groups are bit-identical (ids, log-prob bits, text, finish). */
static inline int trt_groups_equal(const RolloutGroup *a, const RolloutGroup *b) {
    if (a->n_samples != b->n_samples || a->n_prompt != b->n_prompt || a->prompt_index != b->prompt_index) return 0;
    if (memcmp(a->prompt_ids, b->prompt_ids, (size_t)a->n_prompt * sizeof(int))) return 0;
    for (int j = 0; j < a->n_samples; j++) {
        const RolloutSample *x = &a->samples[j], *y = &b->samples[j];
        if (x->n != y->n || x->finish != y->finish || x->text_len != y->text_len) return 0;
        if (memcmp(x->ids, y->ids, (size_t)x->n * sizeof(int)) || memcmp(x->logprobs, y->logprobs, (size_t)x->n * 4))
            return 0;
        if (memcmp(x->text, y->text, x->text_len)) return 0;
    }
    return 1;
}

#endif
