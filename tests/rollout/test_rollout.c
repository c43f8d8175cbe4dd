/*
 * test_rollout.c: the rollout worker on tiny random models of several
 * families (Llama GQA, Qwen2 with q/k/v bias, Qwen3 with qk-norm and
 * head_dim != C/NH, multi-head):
 *   - greedy generation is the argmax of the training forward at every
 *     position (a different pick is accepted only where the two best logits
 *     are within 1e-5: a float tie), and every rollout log-prob equals the
 *     training forward's (rollout_score, what `grpo score` runs) within 1e-5;
 *   - the same for sampled completions (temperature, top-k, top-p);
 *   - same seed, same groups: repeated calls, a fresh worker, a prompt alone
 *     or with others in any order, 1 or 2 threads; another step or prompt
 *     index gives other samples;
 *   - EOS, stop strings across token boundaries (text cut after the stop
 *     string, inside a multi-byte token), truncation at max_completion_length
 *     and at max_position_embeddings; streaming callbacks; bad input.
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <omp.h>

#include "common/rng.h"
#include "test.h"
#include "test_rollout.h"

static void random_ids(int *ids, int n, int V, uint32_t key) {
    Rng r;
    rng_init(&r, 11, 0, key, 0);
    for (int i = 0; i < n; i++) ids[i] = (int)rng_below(&r, (uint32_t)V);
}

/* Checks every sample of groups against the training forward. */
static void check_against_training(const char *name, const Model *m, const RolloutGroup *g, int n, int greedy) {
    const int V = m->cfg.vocab_size;
    double worst_lp = 0, worst_margin = INFINITY;
    int flips = 0, bad = 0;
    for (int p = 0; p < n; p++)
        for (int j = 0; j < g[p].n_samples; j++) {
            const RolloutSample *s = &g[p].samples[j];
            float *lp = xmalloc((size_t)s->n * sizeof(float)), *z = xmalloc((size_t)s->n * V * sizeof(float));
            if (rollout_score(m, g[p].prompt_ids, g[p].n_prompt, s->ids, s->n, lp, z)) {
                TEST_CHECK(0, "%s: score failed: %s", name, err_msg());
                free(lp), free(z);
                continue;
            }
            for (int t = 0; t < s->n; t++) {
                double d = fabs((double)lp[t] - s->logprobs[t]);
                worst_lp = d > worst_lp ? d : worst_lp;
                bad += d > 1e-5;
                if (!greedy) continue;
                const float *zt = z + (size_t)t * V;
                int am = 0;
                for (int v = 1; v < V; v++)
                    if (zt[v] > zt[am]) am = v;
                float second = -INFINITY;
                for (int v = 0; v < V; v++)
                    if (v != am && zt[v] > second) second = zt[v];
                if (zt[am] - second < worst_margin) worst_margin = zt[am] - second;
                if (s->ids[t] != am) {
                    flips++;
                    TEST_CHECK(zt[am] - zt[s->ids[t]] <= 1e-5f, "%s: prompt %d sample %d position %d: greedy %d, "
                               "training argmax %d (logit gap %g)", name, p, j, t, s->ids[t], am,
                               (double)(zt[am] - zt[s->ids[t]]));
                }
            }
            free(lp), free(z);
        }
    TEST_CHECK(bad == 0, "%s: %d log-probs differ from the training forward by more than 1e-5 (max %.3g)", name, bad,
               worst_lp);
    if (greedy)
        printf("%-26s greedy: max |logprob - score| %.2e, smallest top-2 margin %.2e, %d float-tie picks\n", name,
               worst_lp, worst_margin, flips);
    else
        printf("%-26s sampled: max |logprob - score| %.2e\n", name, worst_lp);
}

static void test_family(const char *name, const char *type, int nkv, int hd, int tied, int bias) {
    Model m;
    trt_model(&m, type, 96, nkv, hd, tied, bias, 128, 3);
    RolloutWorker *w;
    TEST_CHECK(rollout_worker_init(&w, &m, NULL) == 0, "%s", err_msg());
    int a[5], b[1], c[9];
    random_ids(a, 5, 96, 1), random_ids(b, 1, 96, 2), random_ids(c, 9, 96, 3);
    RolloutPrompt pr[3] = {{NULL, a, 5, 0}, {NULL, b, 1, 1}, {NULL, c, 9, 2}};
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = 2, rc.temperature = 0.0f, rc.max_completion_length = 24, rc.ignore_eos = 1;
    RolloutGroup g[3];
    TEST_CHECK(rollout_generate(w, &rc, 0, pr, 3, g, NULL) == 0, "%s: %s", name, err_msg());
    int all_len = 1, same = 1;
    for (int p = 0; p < 3; p++) {
        for (int j = 0; j < 2; j++) all_len &= g[p].samples[j].n == 24 && g[p].samples[j].finish == FINISH_LENGTH;
        same &= !memcmp(g[p].samples[0].ids, g[p].samples[1].ids, 24 * sizeof(int));
    }
    TEST_CHECK(all_len, "%s: greedy with ignore_eos runs to max_completion_length", name);
    TEST_CHECK(same, "%s: greedy samples of a group are identical", name);
    check_against_training(name, &m, g, 3, 1);
    rollout_groups_free(g, 3);

    rc.num_generations = 4, rc.temperature = 1.1f, rc.top_k = 40, rc.top_p = 0.95f, rc.seed = 5;
    TEST_CHECK(rollout_generate(w, &rc, 3, pr, 3, g, NULL) == 0, "%s: %s", name, err_msg());
    check_against_training(name, &m, g, 3, 0);
    rollout_groups_free(g, 3);
    rollout_worker_free(w);
    model_free(&m);
}

static int run(RolloutWorker *w, const RolloutConfig *rc, uint32_t step, const RolloutPrompt *p, int n,
               RolloutGroup *g) {
    int r = rollout_generate(w, rc, step, p, n, g, NULL);
    TEST_CHECK(r == 0, "generate: %s", err_msg());
    return r;
}

static void test_determinism(void) {
    Model m;
    trt_model(&m, "qwen2", 96, 2, 8, 1, 1, 256, 4);
    m.cfg.n_eos = 2, m.cfg.eos_token_ids[0] = 5, m.cfg.eos_token_ids[1] = 6; /* some samples end early */
    RolloutWorker *w;
    rollout_worker_init(&w, &m, NULL);
    int a[7], b[3], c[12];
    random_ids(a, 7, 96, 4), random_ids(b, 3, 96, 5), random_ids(c, 12, 96, 6);
    RolloutPrompt all[3] = {{NULL, a, 7, 10}, {NULL, b, 3, 11}, {NULL, c, 12, 12}};
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = 5, rc.temperature = 0.9f, rc.top_p = 0.97f, rc.max_completion_length = 40, rc.seed = 77;
    RolloutGroup g1[3], g2[3], gb[1], gca[2], gt[3], gs[3];
    if (run(w, &rc, 9, all, 3, g1)) return;
    int lens[3] = {0}, early = 0;
    for (int p = 0; p < 3; p++)
        for (int j = 0; j < 5; j++) {
            lens[p] += g1[p].samples[j].n;
            early += g1[p].samples[j].finish == FINISH_EOS;
        }
    printf("determinism: %d of 15 samples ended at EOS (the active set shrinks)\n", early);
    TEST_CHECK(early > 0 && early < 15, "some but not all samples end at EOS (%d)", early);

    run(w, &rc, 9, all, 3, g2);
    int eq = 1;
    for (int p = 0; p < 3; p++) eq &= trt_groups_equal(&g1[p], &g2[p]);
    TEST_CHECK(eq, "the same call twice gives the same groups");
    rollout_groups_free(g2, 3);

    RolloutWorker *w2;
    rollout_worker_init(&w2, &m, NULL);
    run(w2, &rc, 9, all, 3, g2);
    eq = 1;
    for (int p = 0; p < 3; p++) eq &= trt_groups_equal(&g1[p], &g2[p]);
    TEST_CHECK(eq, "a fresh worker gives the same groups");
    rollout_groups_free(g2, 3);
    rollout_worker_free(w2);

    run(w, &rc, 9, all + 1, 1, gb);
    TEST_CHECK(trt_groups_equal(&g1[1], &gb[0]), "a prompt alone gives the same group as with others");
    RolloutPrompt ca[2] = {all[2], all[0]};
    run(w, &rc, 9, ca, 2, gca);
    TEST_CHECK(trt_groups_equal(&g1[2], &gca[0]) && trt_groups_equal(&g1[0], &gca[1]),
               "other batch order gives the same groups");

    int nt = omp_get_max_threads();
    for (int th = 1; th <= 2; th++) {
        omp_set_num_threads(th);
        run(w, &rc, 9, all, 3, gt);
        eq = 1;
        for (int p = 0; p < 3; p++) eq &= trt_groups_equal(&g1[p], &gt[p]);
        TEST_CHECK(eq, "%d thread(s) give the same groups", th);
        rollout_groups_free(gt, 3);
    }
    omp_set_num_threads(nt);

    run(w, &rc, 10, all, 3, gs);
    int differ = 0;
    for (int p = 0; p < 3; p++) differ += !trt_groups_equal(&g1[p], &gs[p]);
    TEST_CHECK(differ == 3, "another step gives other samples (%d of 3 groups differ)", differ);
    rollout_groups_free(gs, 3);
    RolloutPrompt other = all[1];
    other.index = 99;
    run(w, &rc, 9, &other, 1, gs);
    int same_ids = 1;
    for (int j = 0; j < 5; j++)
        same_ids &= gs[0].samples[j].n == g1[1].samples[j].n &&
                    !memcmp(gs[0].samples[j].ids, g1[1].samples[j].ids, (size_t)gs[0].samples[j].n * sizeof(int));
    TEST_CHECK(!same_ids, "another prompt index draws other tokens");
    rollout_groups_free(gs, 1);
    /* samples of a group differ from each other (own streams) */
    int distinct = 0;
    for (int j = 1; j < 5; j++)
        distinct += g1[0].samples[j].n != g1[0].samples[0].n ||
                    memcmp(g1[0].samples[j].ids, g1[0].samples[0].ids, (size_t)g1[0].samples[0].n * sizeof(int));
    TEST_CHECK(distinct == 4, "the samples of a group have their own streams (%d of 4 differ from sample 0)", distinct);

    rollout_groups_free(g1, 3), rollout_groups_free(gb, 1), rollout_groups_free(gca, 2);
    rollout_worker_free(w);
    model_free(&m);
}

/* EOS: run without, then make a token seen at position 3 of sample 0 the
 * only EOS id: every sample must end at its first occurrence. */
static void test_eos(void) {
    Model m;
    trt_model(&m, "llama", 96, 2, 8, 0, 0, 256, 5);
    Tokenizer *tk = NULL;
    RolloutWorker *w;
    rollout_worker_init(&w, &m, tk);
    int a[4];
    random_ids(a, 4, 96, 7);
    RolloutPrompt pr = {NULL, a, 4, 0};
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = 6, rc.max_completion_length = 20, rc.ignore_eos = 1;
    RolloutGroup g0, g1;
    run(w, &rc, 0, &pr, 1, &g0);
    const int eos = g0.samples[0].ids[3];
    m.cfg.n_eos = 1, m.cfg.eos_token_ids[0] = eos;
    rc.ignore_eos = 0;
    run(w, &rc, 0, &pr, 1, &g1);
    int ok = 1, ended = 0;
    for (int j = 0; j < 6; j++) {
        const RolloutSample *o = &g0.samples[j], *s = &g1.samples[j];
        int first = -1;
        for (int t = 0; t < o->n && first < 0; t++)
            if (o->ids[t] == eos) first = t;
        if (first >= 0) {
            ended++;
            ok &= s->finish == FINISH_EOS && s->n == first + 1 && s->ids[first] == eos;
        } else {
            ok &= s->finish == FINISH_LENGTH && s->n == 20;
        }
        ok &= !memcmp(s->ids, o->ids, (size_t)s->n * sizeof(int));
        ok &= !memcmp(s->logprobs, o->logprobs, (size_t)s->n * sizeof(float));
    }
    TEST_CHECK(ok && ended >= 1, "samples end at their first EOS token, which is kept in ids (%d ended)", ended);
    TEST_CHECK(g1.samples[0].n <= 4, "sample 0 ends by position 3");
    rollout_groups_free(&g0, 1), rollout_groups_free(&g1, 1);
    rollout_worker_free(w);
    model_free(&m);
}

typedef struct {
    char *buf[8];
    size_t len[8];
    int done[8];
} Streams;

static void on_text(void *ctx, int prompt, int sample, const char *b, size_t n) {
    Streams *s = ctx;
    (void)prompt;
    s->buf[sample] = xrealloc(s->buf[sample], s->len[sample] + n + 1);
    memcpy(s->buf[sample] + s->len[sample], b, n);
    s->len[sample] += n;
}

static void on_done(void *ctx, int prompt, int sample, const RolloutSample *r) {
    Streams *s = ctx;
    (void)prompt, (void)r;
    s->done[sample]++;
}

/* The completion expected when `stop` cuts the unstopped sample o: text up
 * to the end of the first occurrence, ids up to the token holding its last
 * byte. Returns the token count, or 0 if stop does not occur. */
static int expected_cut(const Tokenizer *tk, const RolloutSample *o, const char *stop, size_t *text_end) {
    const char *hit = memmem(o->text, o->text_len, stop, strlen(stop));
    if (!hit) return 0;
    *text_end = (size_t)(hit - o->text) + strlen(stop);
    size_t bytes = 0;
    for (int t = 0; t < o->n; t++) {
        size_t nb = 0;
        tokenizer_token_bytes(tk, o->ids[t], &nb);
        bytes += nb;
        if (bytes >= *text_end) return t + 1;
    }
    return -1;
}

static void test_stop(void) {
    Model m;
    trt_model(&m, "qwen3", TRT_VOCAB, 2, 16, 1, 0, 256, 6);
    Tokenizer *tk = trt_tokenizer();
    RolloutWorker *w;
    rollout_worker_init(&w, &m, tk);
    RolloutPrompt pr = {"Question: eat tea? Answer:", NULL, 0, 3};
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = 8, rc.max_completion_length = 48, rc.ignore_eos = 1, rc.seed = 1;
    RolloutGroup g0, g1;
    run(w, &rc, 0, &pr, 1, &g0);
    /* text == concatenated token bytes without stops */
    int text_ok = 1;
    for (int j = 0; j < 8; j++) {
        char *dec;
        size_t dn;
        tokenizer_decode(tk, g0.samples[j].ids, (size_t)g0.samples[j].n, 0, &dec, &dn);
        text_ok &= dn == g0.samples[j].text_len && !memcmp(dec, g0.samples[j].text, dn);
        free(dec);
    }
    TEST_CHECK(text_ok, "text is the bytes of the sampled tokens");
    /* A stop string from sample 0's text: the three bytes ending with the
     * first byte of a multi-byte token (it spans a token boundary and ends
     * inside a token), chosen where that is its first occurrence. */
    const RolloutSample *o = &g0.samples[0];
    char stop[4] = {0};
    size_t off = 0;
    for (int t = 0; t + 1 < o->n && !stop[0]; t++) {
        size_t n1, n2;
        tokenizer_token_bytes(tk, o->ids[t], &n1);
        tokenizer_token_bytes(tk, o->ids[t + 1], &n2);
        off += n1; /* start of token t+1 */
        if (off >= 2 && n2 >= 2 && o->text[off - 2] && o->text[off - 1] && o->text[off] &&
            memmem(o->text, o->text_len, o->text + off - 2, 3) == o->text + off - 2)
            memcpy(stop, o->text + off - 2, 3);
    }
    TEST_CHECK(stop[0] != 0, "sample 0 has a multi-byte token to cut inside (test setup)");
    const char *stops[2] = {"\x01\x02\x03 never", stop};
    rc.stop = stops, rc.n_stop = 2;
    Streams st;
    memset(&st, 0, sizeof(st));
    RolloutCallbacks cb = {on_text, on_done, &st};
    TEST_CHECK(rollout_generate(w, &rc, 0, &pr, 1, &g1, &cb) == 0, "%s", err_msg());
    int cut = 0, ok = 1, inside = 0;
    for (int j = 0; j < 8; j++) {
        const RolloutSample *u = &g0.samples[j], *s = &g1.samples[j];
        size_t end = 0;
        int k = expected_cut(tk, u, stop, &end);
        if (k > 0) {
            cut++;
            size_t tb = 0;
            for (int t = 0; t < k; t++) {
                size_t nb;
                tokenizer_token_bytes(tk, u->ids[t], &nb);
                tb += nb;
            }
            inside += tb > end; /* the last token runs past the stop string */
            ok &= s->finish == FINISH_STOP && s->n == k && s->text_len == end && !memcmp(s->text, u->text, end);
            ok &= s->text_len >= strlen(stop) && !memcmp(s->text + s->text_len - strlen(stop), stop, strlen(stop));
        } else {
            ok &= s->finish == FINISH_LENGTH && s->n == u->n && s->text_len == u->text_len;
        }
        ok &= !memcmp(s->ids, u->ids, (size_t)s->n * sizeof(int));
        ok &= st.done[j] == 1 && st.len[j] == s->text_len && (!s->text_len || !memcmp(st.buf[j], s->text, s->text_len));
        free(st.buf[j]);
    }
    printf("stop string \"%s\": %d of 8 samples cut, %d inside a multi-byte token\n", stop, cut, inside);
    TEST_CHECK(ok, "stop strings cut the text right after their first occurrence; streams match");
    TEST_CHECK(cut >= 1 && inside >= 1, "the stop string was hit inside a token (%d cut, %d inside)", cut, inside);
    rollout_groups_free(&g0, 1), rollout_groups_free(&g1, 1);

    /* rollout_find_stop on its own */
    const char *ss[3] = {"</answer>", "ab", "b"};
    int which = -1;
    const char *txt = "xx</ans";
    TEST_CHECK(rollout_find_stop(txt, strlen(txt), 0, ss, 1, &which) == 0, "partial stop string: no match");
    const char *txt2 = "xx</answer>yy";
    TEST_CHECK(rollout_find_stop(txt2, strlen(txt2), 7, ss, 1, &which) == 11 && which == 0,
               "match spanning old and new bytes");
    TEST_CHECK(rollout_find_stop(txt2, strlen(txt2), 12, ss, 1, &which) == 0, "a match before `from` is not reported");
    const char *txt3 = "zzab";
    TEST_CHECK(rollout_find_stop(txt3, 4, 2, ss + 1, 2, &which) == 4 && which == 0,
               "earliest end wins (ties: first listed)");
    const char *txt4 = "zabzb";
    TEST_CHECK(rollout_find_stop(txt4, 5, 0, ss + 1, 2, &which) == 3, "earliest end over all stop strings");
    rollout_worker_free(w);
    tokenizer_free(tk);
    model_free(&m);
}

static void test_limits_and_errors(void) {
    Model m;
    trt_model(&m, "llama", 96, 4, 8, 1, 0, 32, 8);
    RolloutWorker *w;
    rollout_worker_init(&w, &m, NULL);
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = 2, rc.max_completion_length = 10, rc.ignore_eos = 1;
    int ids[40];
    random_ids(ids, 40, 96, 9);
    RolloutPrompt p = {NULL, ids, 28, 0};
    RolloutGroup g;
    TEST_CHECK(rollout_generate(w, &rc, 0, &p, 1, &g, NULL) == 0, "%s", err_msg());
    TEST_CHECK(g.samples[0].n == 4 && g.samples[0].finish == FINISH_LENGTH,
               "completion stops at max_position_embeddings (n=%d)", g.samples[0].n);
    rollout_groups_free(&g, 1);

    struct {
        RolloutPrompt p;
        const char *want;
    } bad[] = {
        {{NULL, ids, 0, 5}, "prompt 5 is empty"},
        {{NULL, ids, 32, 6}, "max_position_embeddings"},
        {{"hello", NULL, 0, 7}, "no tokenizer"},
    };
    for (int i = 0; i < 3; i++) {
        int rc2 = rollout_generate(w, &rc, 0, &bad[i].p, 1, &g, NULL);
        TEST_CHECK(rc2 == -1 && strstr(err_msg(), bad[i].want), "bad prompt %d: '%s'", i, err_msg());
    }
    int oov[2] = {3, 96};
    RolloutPrompt po = {NULL, oov, 2, 0};
    TEST_CHECK(rollout_generate(w, &rc, 0, &po, 1, &g, NULL) == -1 && strstr(err_msg(), "outside the vocabulary"),
               "out-of-vocabulary prompt id: '%s'", err_msg());
    const char *stop[1] = {"x"};
    RolloutConfig rs = rc;
    rs.stop = stop, rs.n_stop = 1;
    TEST_CHECK(rollout_generate(w, &rs, 0, &p, 1, &g, NULL) == -1 && strstr(err_msg(), "tokenizer"),
               "stop strings without a tokenizer: '%s'", err_msg());
    RolloutConfig bc[5];
    const char *want[5] = {"num_generations", "max_completion_length", "temperature", "top_p", "stop string 0"};
    const char *empty[1] = {""};
    for (int i = 0; i < 5; i++) bc[i] = rc;
    bc[0].num_generations = 0, bc[1].max_completion_length = 0, bc[2].temperature = -0.5f, bc[3].top_p = 0.0f;
    bc[4].stop = empty, bc[4].n_stop = 1;
    for (int i = 0; i < 5; i++)
        TEST_CHECK(rollout_generate(w, &bc[i], 0, &p, 1, &g, NULL) == -1 && strstr(err_msg(), want[i]),
                   "bad config %d: '%s'", i, err_msg());

    /* memory accounting */
    RolloutStats st;
    rollout_generate(w, &rc, 0, &p, 1, &g, NULL);
    rollout_stats(w, &st);
    size_t want_rows = 28 + 2 * 4;
    TEST_CHECK(rollout_kv_bytes(&m.cfg, 1) == (size_t)2 * 4 * 8 * 2 * 4, "KV bytes per token = L x NKV x HD x 2 x 4");
    TEST_CHECK(st.kv_bytes >= rollout_kv_bytes(&m.cfg, want_rows), "the KV store holds prompt + G x max_new rows");
    rollout_groups_free(&g, 1);
    int b0, e0, b1, e1, b2, e2;
    rollout_shard(7, 0, 3, &b0, &e0), rollout_shard(7, 1, 3, &b1, &e1), rollout_shard(7, 2, 3, &b2, &e2);
    TEST_CHECK(b0 == 0 && e0 == 3 && b1 == 3 && e1 == 5 && b2 == 5 && e2 == 7, "shards of 7 over 3 ranks");
    rollout_worker_free(w);
    model_free(&m);
}

int main(void) {
    double t0 = now_seconds();
    test_family("llama GQA untied", "llama", 2, 8, 0, 0);
    test_family("qwen2 bias tied", "qwen2", 2, 8, 1, 1);
    test_family("qwen3 qk-norm hd16", "qwen3", 2, 16, 0, 0);
    test_family("llama MHA tied", "llama", 4, 8, 1, 0);
    printf("[families %.2f s]\n", now_seconds() - t0);
    t0 = now_seconds();
    test_determinism();
    printf("[determinism %.2f s]\n", now_seconds() - t0);
    t0 = now_seconds();
    test_eos();
    test_stop();
    test_limits_and_errors();
    printf("[eos, stop, limits %.2f s]\n", now_seconds() - t0);
    return test_summary();
}
