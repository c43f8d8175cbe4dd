/* Builds a tiny model with the installed SDK and prints its parameter
 * count and the log-prob of one token: proof that headers, library and
 * CMake package work together outside the source tree. */
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "model/forward.h"
#include "model/model.h"

int main(void) {
    ModelConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.model_type, sizeof(cfg.model_type), "llama");
    cfg.vocab_size = 32, cfg.hidden_size = 16, cfg.num_hidden_layers = 1, cfg.num_attention_heads = 2;
    cfg.num_key_value_heads = 1, cfg.head_dim = 8, cfg.intermediate_size = 24, cfg.max_position_embeddings = 16;
    cfg.rope_theta = 10000, cfg.rms_norm_eps = 1e-6, cfg.initializer_range = 0.02;
    Model m;
    if (model_init(&m, &cfg)) {
        fprintf(stderr, "%s\n", err_msg());
        return 1;
    }
    model_init_random(&m, 1);
    Acts a;
    acts_init(&a, &cfg, 4, 4, 0, 0);
    int tokens[3] = {1, 2, 3}, starts[2] = {0, 3}, targets[3] = {2, 3, -1};
    Batch b = {.n_seqs = 1, .n_tokens = 3, .tokens = tokens, .seq_start = starts};
    float logp[3];
    if (model_forward(&m, &a, &b, NULL)) return 1;
    model_logprobs(&m, &a, targets, logp, NULL);
    printf("params %zu logp %.3f\n", m.n_params, logp[0]);
    acts_free(&a);
    model_free(&m);
    return logp[0] < 0 ? 0 : 1;
}
