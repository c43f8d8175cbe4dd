/*
 * test_rollout_hf.c: rollout and scoring on the HF parity fixtures
 * (tests/fixtures/hf/<model>/reference.json, docs/fixtures.md), whose
 * reference numbers come from an independent float64 PyTorch model:
 *   - the prompt text tokenizes to the reference prompt_ids;
 *   - greedy rollout of 8 tokens (EOS not special) gives the reference
 *     greedy ids, and its log-probs are within 1e-4 of the reference's;
 *   - rollout_score (what `grpo score` prints) of the reference completion
 *     is within 1e-4 of the reference log-probs (the fixture tolerance:
 *     float32 vs float64 differ by up to 7.2e-7, see docs/fixtures.md);
 *   - rollout's log-probs equal the training forward's within 1e-5;
 *   - the EOS ids come from generation_config.json.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "model/io/loader.h"
#include "model/tokenizer/tokenizer.h"
#include "rollout/rollout.h"
#include "test.h"

static int ints_of(const cJSON *a, int *out, int cap) {
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) if (n < cap) out[n++] = e->valueint;
    return n;
}

static void check_fixture(const char *name, const int *eos, int n_eos) {
    char dir[512], path[600];
    snprintf(dir, sizeof(dir), "%s/fixtures/hf/%s", GRPO_TEST_DATA, name);
    snprintf(path, sizeof(path), "%s/reference.json", dir);
    Model m;
    ModelFiles files = {0};
    if (model_load(dir, &m, &files)) {
        TEST_CHECK(0, "%s: %s", name, err_msg());
        return;
    }
    int eos_ok = m.cfg.n_eos == n_eos;
    for (int i = 0; i < n_eos && eos_ok; i++) eos_ok = m.cfg.eos_token_ids[i] == eos[i];
    TEST_CHECK(eos_ok, "%s: EOS ids from generation_config.json", name);
    size_t tl;
    const char *tj = model_files_get(&files, "tokenizer.json", &tl);
    Tokenizer *tok = NULL;
    TEST_CHECK(tj && tokenizer_load_from_string(&tok, tj, tl, name) == 0, "%s: tokenizer: %s", name, err_msg());
    cJSON *ref = json_read_file(path);
    TEST_CHECK(ref != NULL, "%s: %s", path, err_msg());
    if (!ref || !tok) return;
    RolloutWorker *w;
    rollout_worker_init(&w, &m, tok);
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = 2, rc.temperature = 0.0f, rc.max_completion_length = 8, rc.ignore_eos = 1;
    double worst_greedy = 0, worst_score = 0, worst_self = 0;
    int ncase = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ref, "cases")) {
        int pids[256], cids[256], gids[16];
        double clp[256], glp[16];
        int np = ints_of(cJSON_GetObjectItem(c, "prompt_ids"), pids, 256);
        int nc = ints_of(cJSON_GetObjectItem(c, "completion_ids"), cids, 256);
        const cJSON *greedy = cJSON_GetObjectItem(c, "greedy");
        int ng = ints_of(cJSON_GetObjectItem(greedy, "ids"), gids, 16);
        int k = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "logprobs")) clp[k++] = e->valuedouble;
        k = 0;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(greedy, "logprobs")) glp[k++] = e->valuedouble;

        RolloutPrompt p = {cJSON_GetObjectItem(c, "prompt")->valuestring, NULL, 0, (uint32_t)ncase};
        RolloutGroup g;
        if (rollout_generate(w, &rc, 0, &p, 1, &g, NULL)) {
            TEST_CHECK(0, "%s case %d: %s", name, ncase, err_msg());
            continue;
        }
        TEST_CHECK(g.n_prompt == np && !memcmp(g.prompt_ids, pids, (size_t)np * sizeof(int)),
                   "%s case %d: prompt text tokenizes to the reference prompt_ids", name, ncase);
        const RolloutSample *s = &g.samples[0];
        TEST_CHECK(s->n == ng && !memcmp(s->ids, gids, (size_t)ng * sizeof(int)),
                   "%s case %d: greedy ids equal the reference", name, ncase);
        for (int t = 0; t < s->n && t < ng; t++) {
            double d = fabs(s->logprobs[t] - glp[t]);
            worst_greedy = d > worst_greedy ? d : worst_greedy;
            TEST_CLOSE(s->logprobs[t], glp[t], 1e-4, "%s case %d greedy logprob %d", name, ncase, t);
        }
        float lp[256];
        TEST_CHECK(rollout_score(&m, pids, np, s->ids, s->n, lp, NULL) == 0, "%s", err_msg());
        for (int t = 0; t < s->n; t++) {
            double d = fabs((double)lp[t] - s->logprobs[t]);
            worst_self = d > worst_self ? d : worst_self;
            TEST_CLOSE(s->logprobs[t], lp[t], 1e-5, "%s case %d: rollout vs training forward, token %d", name, ncase,
                       t);
        }
        TEST_CHECK(rollout_score(&m, pids, np, cids, nc, lp, NULL) == 0, "%s", err_msg());
        for (int t = 0; t < nc; t++) {
            double d = fabs(lp[t] - clp[t]);
            worst_score = d > worst_score ? d : worst_score;
            TEST_CLOSE(lp[t], clp[t], 1e-4, "%s case %d: score logprob %d", name, ncase, t);
        }
        rollout_groups_free(&g, 1);
        ncase++;
    }
    TEST_CHECK(ncase == 6, "%s: 6 cases", name);
    printf("%-20s %d cases: greedy logprob vs ref %.2e, score vs ref %.2e, rollout vs training forward %.2e\n", name,
           ncase, worst_greedy, worst_score, worst_self);
    rollout_worker_free(w);
    cJSON_Delete(ref);
    tokenizer_free(tok);
    model_files_free(&files);
    model_free(&m);
}

int main(void) {
    const int q2[] = {258, 256}, ll[] = {256}, q3[] = {258, 256};
    check_fixture("qwen2_fp32", q2, 2);
    check_fixture("qwen2_bf16", q2, 2);
    check_fixture("llama_fp32_sharded", ll, 1);
    check_fixture("qwen3_fp32", q3, 2);
    return test_summary();
}
