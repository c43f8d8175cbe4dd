/*
 * test_pack.c: what SFT and GRPO steps are made of (trainer/pack.h) and
 * SFT's step plan (sft_step_plan): micro-batch targets, weights and
 * positions against hand-written expectations, the epoch order (a
 * permutation per epoch, a pure function of the seed, the identity without
 * shuffle), and the SFT weights that make the step's loss the mean token
 * cross-entropy.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "test.h"
#include "trainer/pack.h"
#include "trainer/sft.h"

static void test_micro(void) {
    MicroBatch mb;
    micro_init(&mb, 12, 3);
    const int a[] = {10, 11, 12, 13, 14}; /* prompt 10 11, completion 12 13 14 */
    const int b[] = {20, 21, 22};
    TEST_CHECK(micro_add(&mb, a, 5, 2, 0.5f) == 0, "add a");
    TEST_CHECK(micro_add(&mb, b, 3, 1, -1.0f) == 0, "add b");
    /* a: targets at positions 1..3 (predicting 12, 13, 14); b: positions 0..1 */
    const int want_t[] = {-1, 12, 13, 14, -1, 21, 22, -1};
    const float want_w[] = {0, 0.5f, 0.5f, 0.5f, 0, -1, -1, 0};
    const int want_seq[] = {0, 0, 0, 0, 0, 1, 1, 1};
    const int want_pos[] = {-1, 0, 1, 2, -1, 0, 1, -1};
    TEST_CHECK(mb.n_seqs == 2 && mb.n_tokens == 8 && mb.starts[0] == 0 && mb.starts[1] == 5 && mb.starts[2] == 8,
               "layout: %d seqs, %d tokens", mb.n_seqs, mb.n_tokens);
    for (int t = 0; t < 8; t++) {
        TEST_CHECK(mb.tokens[t] == (t < 5 ? a[t] : b[t - 5]), "token %d", t);
        TEST_CHECK(mb.targets[t] == want_t[t], "target %d: %d want %d", t, mb.targets[t], want_t[t]);
        TEST_CHECK(mb.wlp[t] == want_w[t], "weight %d: %g want %g", t, mb.wlp[t], want_w[t]);
        TEST_CHECK(mb.seq_of[t] == want_seq[t] && mb.pos_of[t] == want_pos[t], "seq/pos %d: %d/%d", t, mb.seq_of[t],
                   mb.pos_of[t]);
    }
    TEST_CHECK(micro_add(&mb, a, 5, 1, 1.0f) == -1 && mb.n_tokens == 8, "a sequence that does not fit is refused");
    TEST_CHECK(micro_add(&mb, b, 3, 1, 1.0f) == 0, "one that fits still goes in");
    TEST_CHECK(micro_add(&mb, b, 1, 1, 1.0f) == -1, "no fourth sequence (max_seqs 3)");
    Batch bt = micro_batch(&mb);
    TEST_CHECK(bt.n_seqs == 3 && bt.n_tokens == 11 && bt.seq_start == mb.starts && !bt.own_row, "the Batch view");
    micro_reset(&mb);
    TEST_CHECK(mb.n_seqs == 0 && mb.n_tokens == 0, "reset");
    micro_free(&mb);
}

static void test_order(void) {
    enum { N = 37 };
    EpochOrder o, o2, id;
    epoch_order_init(&o, N, 7, RNG_PROMPT_SFT_SHUFFLE, 1);
    epoch_order_init(&o2, N, 7, RNG_PROMPT_SFT_SHUFFLE, 1);
    epoch_order_init(&id, N, 7, RNG_PROMPT_SFT_SHUFFLE, 0);
    int seen[3][N] = {{0}};
    int same_as_identity = 1, epochs_differ = 0;
    size_t first[N];
    for (uint64_t g = 0; g < 3 * N; g++) {
        size_t i = epoch_order_at(&o, g);
        TEST_CHECK(i < N, "index in range");
        if (i < N) seen[g / N][i]++; /* out of range is reported above */
        if (i != g % N) same_as_identity = 0;
        if (g < N) first[g] = i;
        else if (g < 2 * N && first[g - N] != i) epochs_differ = 1;
        TEST_CHECK(epoch_order_at(&id, g) == g % N, "no shuffle: identity at %llu", (unsigned long long)g);
    }
    for (int e = 0; e < 3; e++)
        for (int i = 0; i < N; i++) TEST_CHECK(seen[e][i] == 1, "epoch %d visits item %d once (%d)", e, i, seen[e][i]);
    TEST_CHECK(!same_as_identity && epochs_differ, "shuffled, and each epoch in its own order");
    /* random access (resume) gives the same items as walking */
    for (uint64_t g = 3 * N; g-- > 0;)
        TEST_CHECK(epoch_order_at(&o2, g) == epoch_order_at(&o, g), "position %llu", (unsigned long long)g);
    epoch_order_free(&o);
    epoch_order_free(&o2);
    epoch_order_free(&id);
}

static void test_sft_plan(void) {
    SeqSet s = {0};
    int ids[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    seqs_add(&s, ids, 5, 1); /* 4 targets */
    seqs_add(&s, ids, 6, 3); /* completion-only: 3 targets */
    seqs_add(&s, ids, 2, 1); /* 1 target */
    seqs_add(&s, ids, 4, 4); /* nothing to learn: 0 targets */
    TEST_CHECK(seq_targets(&s, 0) == 4 && seq_targets(&s, 1) == 3 && seq_targets(&s, 2) == 1 && seq_targets(&s, 3) == 0,
               "target counts");
    EpochOrder o;
    epoch_order_init(&o, s.n, 3, RNG_PROMPT_SFT_SHUFFLE, 1);
    size_t which[2], tokens = 0;
    int covered[4] = {0};
    for (long step = 0; step < 2; step++) {
        double w = sft_step_plan(&s, &o, step, 2, which, &tokens);
        size_t targets = 0, len = 0;
        for (int j = 0; j < 2; j++) {
            targets += seq_targets(&s, which[j]);
            len += seq_len(&s, which[j]);
            covered[which[j]]++;
        }
        TEST_CLOSE(w * (double)targets, -1.0, 1e-12, "step %ld: the weights sum to -1 over the step's targets", step);
        TEST_CHECK(tokens == len, "step %ld tokens", step);
    }
    for (int i = 0; i < 4; i++) TEST_CHECK(covered[i] == 1, "two steps of 2 cover the 4 sequences once (%d)", i);
    epoch_order_free(&o);
    seqs_free(&s);
}

int main(void) {
    test_micro();
    test_order();
    test_sft_plan();
    return test_summary();
}
