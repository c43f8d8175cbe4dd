/*
 * pack.h: what training steps are made of, shared by SFT and GRPO:
 * tokenized sequences with the position where their loss starts, the
 * seeded per-epoch order in which a dataset is visited, and packed
 * micro-batches (sequences back to back, no padding) with next-token
 * targets and per-token loss weights.
 * Not for: tokenizing data (sft.c, grpo.c), the loss itself (the weights'
 * meaning is the caller's; model/lmhead.h), MPI.
 *
 *     MicroBatch mb; micro_init(&mb, max_tokens, max_seqs);
 *     micro_reset(&mb);
 *     micro_add(&mb, ids, n, loss_from, w);          // one sequence
 *     Batch b = micro_batch(&mb);
 *     model_forward(m, a, &b, NULL); ... model_backward(m, a, &b, mb.targets, mb.wlp, NULL, ...);
 *     micro_free(&mb);
 */
#ifndef GRPO_PACK_H
#define GRPO_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "model/forward.h"

/* ---- tokenized sequences ---- */

/* Sequence i is ids[off[i] .. off[i+1]); it carries loss on the tokens at
 * index >= loss_from[i] (>= 1): the targets of positions loss_from[i]-1 ..
 * len-2. */
typedef struct {
    int *ids;
    size_t *off;
    int *loss_from;
    size_t n, n_ids, cap_seqs, cap_ids;
} SeqSet; /* zero-initialise before first use */

void seqs_add(SeqSet *s, const int *ids, size_t n, int loss_from);
void seqs_free(SeqSet *s);
size_t seq_len(const SeqSet *s, size_t i);
/* Tokens of sequence i that carry loss (its target count). */
size_t seq_targets(const SeqSet *s, size_t i);

/* ---- the order in which a dataset is visited ---- */

/* An endless stream over n items, epoch after epoch; item g of the stream
 * is element g % n of epoch g / n's permutation, drawn from the named
 * random stream (seed, epoch, stream_key, 0) (common/rng.h), or the
 * identity without shuffle. A pure function of (seed, stream_key, n, g),
 * so resume needs only the position g. */
typedef struct {
    size_t n;
    long epoch; /* the epoch perm holds, -1 before the first call */
    size_t *perm;
    uint64_t seed;
    uint32_t stream_key;
    int shuffle;
} EpochOrder;

void epoch_order_init(EpochOrder *o, size_t n, uint64_t seed, uint32_t stream_key, int shuffle);
void epoch_order_free(EpochOrder *o);
/* The index (in 0..n) of item g of the stream. */
size_t epoch_order_at(EpochOrder *o, uint64_t g);

/* ---- packed micro-batches ---- */

typedef struct {
    int max_tokens, max_seqs;
    int n_seqs, n_tokens;
    int *tokens;  /* (max_tokens) */
    int *starts;  /* (max_seqs + 1) sequence b owns tokens[starts[b] .. starts[b+1]) */
    int *targets; /* (max_tokens) the next token where this position carries loss, else -1 */
    float *wlp;   /* (max_tokens) loss weight of each target (0 where none) */
    int *seq_of;  /* (max_tokens) which sequence of the micro-batch a token is in */
    int *pos_of;  /* (max_tokens) for a target: its index among its sequence's targets, else -1 */
} MicroBatch;

void micro_init(MicroBatch *mb, int max_tokens, int max_seqs);
void micro_free(MicroBatch *mb);
/* Empties the micro-batch (keeps its buffers). */
void micro_reset(MicroBatch *mb);
/* Appends one sequence of n >= 1 tokens. Positions t with loss_from - 1
 * <= t < n - 1 get target ids[t+1], weight w and pos_of t - (loss_from -
 * 1); other positions get no target. Returns 0, or -1 (nothing added)
 * when the sequence does not fit in the tokens or sequences left. */
int micro_add(MicroBatch *mb, const int *ids, int n, int loss_from, float w);
/* The model's view of the micro-batch (borrows its arrays). */
Batch micro_batch(const MicroBatch *mb);

#endif
