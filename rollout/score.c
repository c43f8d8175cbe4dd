/*
 * score.c: log-probs of a given completion by the training forward
 * (rollout_score in rollout.h): the reference that rollout's own log-probs
 * are tested against, and what `grpo score` prints.
 * Not for: batched scoring inside the trainer (it packs micro-batches itself).
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "model/forward.h"
#include "rollout.h"

int rollout_score(const Model *m, const int *prompt, int np, const int *completion, int nc, float *logprobs,
                  float *logits) {
    const ModelConfig *cfg = &m->cfg;
    if (np < 1) return ERR("score: the prompt is empty; it needs at least one token");
    if (nc < 1) return ERR("score: the completion is empty; it needs at least one token");
    if ((long)np + nc > cfg->max_position_embeddings)
        return ERR("score: prompt (%d tokens) + completion (%d) exceed max_position_embeddings %d", np, nc,
                   cfg->max_position_embeddings);
    const int N = np + nc;
    int *tokens = xmalloc((size_t)N * sizeof(int)), *targets = xmalloc((size_t)N * sizeof(int));
    int *rows = xmalloc((size_t)nc * sizeof(int));
    float *lp = xmalloc((size_t)N * sizeof(float));
    memcpy(tokens, prompt, (size_t)np * sizeof(int));
    memcpy(tokens + np, completion, (size_t)nc * sizeof(int));
    for (int i = 0; i < N; i++) targets[i] = i + 1 >= np && i + 1 < N ? tokens[i + 1] : -1;
    for (int j = 0; j < nc; j++) rows[j] = np - 1 + j;
    int starts[2] = {0, N};
    Batch b = {.n_seqs = 1, .n_tokens = N, .tokens = tokens, .seq_start = starts};
    Acts a;
    int rc = acts_init(&a, cfg, N, N, 0, 0);
    if (!rc) {
        rc = model_forward(m, &a, &b, NULL);
        if (!rc) {
            model_logprobs(m, &a, targets, lp, NULL);
            memcpy(logprobs, lp + np - 1, (size_t)nc * sizeof(float));
            if (logits) model_logits(m, &a, rows, nc, logits);
        }
        acts_free(&a);
    }
    free(tokens), free(targets), free(rows), free(lp);
    return rc;
}
