/*
 * test_rollout_mpi.c (2 MPI ranks): the same job split over ranks makes
 * the same groups. Each rank builds the same model, takes its shard of 7
 * prompts (rollout_shard) and generates it; it also generates all 7 prompts
 * itself, which is what a 1-rank job does. Every group of the shard must be
 * bit-identical to the 1-rank group of the same prompt, and a checksum of
 * the shards, summed over ranks, must equal the 1-rank checksum on every
 * rank (so the ranks did split the prompts between them and dropped none).
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "test_rollout.h"
#include "trainer/dist.h"

/* A checksum of a group: sums of ids and of log-prob bits, mixed with the
 * lengths (exact in a double: all terms are small integers). */
static double group_sum(const RolloutGroup *g) {
    double s = 0;
    for (int j = 0; j < g->n_samples; j++) {
        const RolloutSample *x = &g->samples[j];
        s += 1000.0 * x->n + 7.0 * x->finish + (double)x->text_len;
        for (int t = 0; t < x->n; t++) {
            uint32_t bits;
            memcpy(&bits, &x->logprobs[t], 4);
            s += x->ids[t] * (t + 1) + (double)(bits & 0xffff);
        }
    }
    return s;
}

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    TEST_CHECK(d.world == 2, "run with 2 ranks (world %d)", d.world);
    Model m;
    trt_model(&m, "qwen3", TRT_VOCAB, 2, 16, 1, 0, 256, 21);
    m.cfg.n_eos = 1, m.cfg.eos_token_ids[0] = 256;
    Tokenizer *tk = trt_tokenizer();
    RolloutWorker *w;
    rollout_worker_init(&w, &m, tk);
    const char *texts[7] = {"What is 2+3?",      "Name a prime.", "eat tea", "<|im_start|>user\nhi<|im_end|>",
                            "Count to three:", "a",             "The answer is"};
    RolloutPrompt p[7];
    for (int i = 0; i < 7; i++) p[i] = (RolloutPrompt){texts[i], NULL, 0, (uint32_t)(100 + i)};
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = 4, rc.temperature = 1.0f, rc.top_p = 0.9f, rc.max_completion_length = 24, rc.seed = 3;
    const char *stop[1] = {"ea"};
    rc.stop = stop, rc.n_stop = 1;

    RolloutGroup all[7], mine[7];
    int ok = rollout_generate(w, &rc, 5, p, 7, all, NULL) == 0;
    int b, e;
    rollout_shard(7, d.rank, d.world, &b, &e);
    ok &= rollout_generate(w, &rc, 5, p + b, e - b, mine, NULL) == 0;
    TEST_CHECK(ok, "generate: %s", err_msg());
    int same = 1;
    double sums[7] = {0}, ref[7];
    for (int i = b; i < e; i++) {
        same &= trt_groups_equal(&all[i], &mine[i - b]);
        sums[i] = group_sum(&mine[i - b]);
    }
    for (int i = 0; i < 7; i++) ref[i] = group_sum(&all[i]);
    TEST_CHECK(same, "rank %d: its shard [%d, %d) equals the 1-rank groups", d.rank, b, e);
    dist_sum_f64(&d, sums, 7);
    int sums_ok = 1;
    for (int i = 0; i < 7; i++) sums_ok &= sums[i] == ref[i];
    TEST_CHECK(sums_ok, "rank %d: the shards summed over ranks equal the 1-rank checksums", d.rank);
    int all_ok = dist_all_ok(&d, same && sums_ok);
    TEST_CHECK(all_ok, "every rank agrees");
    rollout_groups_free(all, 7);
    rollout_groups_free(mine, e - b);
    rollout_worker_free(w);
    tokenizer_free(tk);
    model_free(&m);
    int rc_exit = test_summary();
    dist_finalize(&d);
    return rc_exit;
}
