/*
 * pack.c: tokenized sequences, epoch orders and packed micro-batches
 * (pack.h).
 */
#include "pack.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"

/* ---- tokenized sequences ---- */

void seqs_add(SeqSet *s, const int *ids, size_t n, int loss_from) {
    if (s->n + 1 >= s->cap_seqs) {
        s->cap_seqs = s->cap_seqs ? 2 * s->cap_seqs : 1024;
        s->off = xrealloc(s->off, (s->cap_seqs + 1) * sizeof(size_t));
        s->loss_from = xrealloc(s->loss_from, s->cap_seqs * sizeof(int));
    }
    if (s->n_ids + n > s->cap_ids) {
        while (s->n_ids + n > s->cap_ids) s->cap_ids = s->cap_ids ? 2 * s->cap_ids : 65536;
        s->ids = xrealloc(s->ids, s->cap_ids * sizeof(int));
    }
    if (s->n == 0) s->off[0] = 0;
    memcpy(s->ids + s->n_ids, ids, n * sizeof(int));
    s->n_ids += n;
    s->loss_from[s->n] = loss_from;
    s->off[++s->n] = s->n_ids;
}

void seqs_free(SeqSet *s) {
    free(s->ids);
    free(s->off);
    free(s->loss_from);
    memset(s, 0, sizeof(*s));
}

size_t seq_len(const SeqSet *s, size_t i) { return s->off[i + 1] - s->off[i]; }

size_t seq_targets(const SeqSet *s, size_t i) {
    size_t len = seq_len(s, i);
    size_t from = (size_t)(s->loss_from[i] > 1 ? s->loss_from[i] : 1);
    return len > from ? len - from : 0;
}

/* ---- epoch orders ---- */

void epoch_order_init(EpochOrder *o, size_t n, uint64_t seed, uint32_t stream_key, int shuffle) {
    ASSERT(n > 0);
    o->n = n;
    o->epoch = -1;
    o->perm = xmalloc(n * sizeof(size_t));
    o->seed = seed;
    o->stream_key = stream_key;
    o->shuffle = shuffle;
}

void epoch_order_free(EpochOrder *o) {
    free(o->perm);
    memset(o, 0, sizeof(*o));
}

size_t epoch_order_at(EpochOrder *o, uint64_t g) {
    long epoch = (long)(g / o->n);
    if (epoch != o->epoch) {
        o->epoch = epoch;
        for (size_t i = 0; i < o->n; i++) o->perm[i] = i;
        if (o->shuffle) { /* Fisher-Yates from the epoch's own stream */
            Rng r;
            rng_init(&r, o->seed, (uint32_t)epoch, o->stream_key, 0);
            for (size_t i = o->n - 1; i > 0; i--) {
                size_t j = rng_below(&r, (uint32_t)(i + 1));
                size_t t = o->perm[i];
                o->perm[i] = o->perm[j];
                o->perm[j] = t;
            }
        }
    }
    return o->perm[g % o->n];
}

/* ---- packed micro-batches ---- */

void micro_init(MicroBatch *mb, int max_tokens, int max_seqs) {
    memset(mb, 0, sizeof(*mb));
    mb->max_tokens = max_tokens;
    mb->max_seqs = max_seqs;
    mb->tokens = xmalloc((size_t)max_tokens * sizeof(int));
    mb->targets = xmalloc((size_t)max_tokens * sizeof(int));
    mb->wlp = xmalloc((size_t)max_tokens * sizeof(float));
    mb->seq_of = xmalloc((size_t)max_tokens * sizeof(int));
    mb->pos_of = xmalloc((size_t)max_tokens * sizeof(int));
    mb->starts = xmalloc((size_t)(max_seqs + 1) * sizeof(int));
    mb->starts[0] = 0;
}

void micro_free(MicroBatch *mb) {
    free(mb->tokens);
    free(mb->targets);
    free(mb->wlp);
    free(mb->seq_of);
    free(mb->pos_of);
    free(mb->starts);
    memset(mb, 0, sizeof(*mb));
}

void micro_reset(MicroBatch *mb) {
    mb->n_seqs = 0;
    mb->n_tokens = 0;
    mb->starts[0] = 0;
}

int micro_add(MicroBatch *mb, const int *ids, int n, int loss_from, float w) {
    if (n < 1 || mb->n_seqs >= mb->max_seqs || mb->n_tokens + n > mb->max_tokens) return -1;
    const int first = (loss_from > 1 ? loss_from : 1) - 1; /* first position with a target */
    for (int t = 0; t < n; t++) {
        int at = mb->n_tokens + t;
        int has = t >= first && t + 1 < n;
        mb->tokens[at] = ids[t];
        mb->targets[at] = has ? ids[t + 1] : -1;
        mb->wlp[at] = has ? w : 0.0f;
        mb->seq_of[at] = mb->n_seqs;
        mb->pos_of[at] = has ? t - first : -1;
    }
    mb->n_tokens += n;
    mb->starts[++mb->n_seqs] = mb->n_tokens;
    return 0;
}

Batch micro_batch(const MicroBatch *mb) {
    return (Batch){.n_seqs = mb->n_seqs, .n_tokens = mb->n_tokens, .tokens = mb->tokens, .seq_start = mb->starts};
}
