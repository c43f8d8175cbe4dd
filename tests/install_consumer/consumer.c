/*
 * consumer.c: a program outside the tree that uses an installed grpo.c
 * through its public header alone (<grpo/grpo.h>), run by
 * tests/cli/test_install.sh: opens a tiny model, tokenizes, samples,
 * scores, scores rewards (built-in, a plugin built against the installed
 * plugin header, and the sandboxed code reward) and, when given job
 * configs, trains two SFT steps, then one GRPO step from that checkpoint,
 * and samples from the result. It checks that the results are sane and
 * the error paths say what went wrong.
 *
 *   consumer MODEL PLUGIN.so [SFT_CONFIG TRAIN_CONFIG RUN_DIR]
 *
 * Prints "params N" and "N passed, M failed"; exits 0 only if every check
 * passed.
 */
#include <grpo/grpo.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int ok, const char *fmt, ...) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void check_library(void) {
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", GRPO_VERSION_MAJOR, GRPO_VERSION_MINOR, GRPO_VERSION_PATCH);
    check(!strcmp(grpo_version(), GRPO_VERSION_STRING) && !strcmp(want, GRPO_VERSION_STRING),
          "version: library %s, header %s (%s)", grpo_version(), GRPO_VERSION_STRING, want);
    GrpoModel *m = (GrpoModel *)1;
    check(grpo_model_open(&m, "/nonexistent/model") == -1 && m == NULL && strstr(grpo_last_error(), "/nonexistent"),
          "opening a missing model: %s", grpo_last_error());
    grpo_model_free(NULL);
    grpo_free(NULL);
    grpo_completions_free(NULL, 0);
    grpo_rewards_free(NULL);
}

static void check_tokens(const GrpoModel *m) {
    const char *text = "Hi<|im_end|> there";
    int *ids, *plain;
    size_t n, n_plain;
    check(grpo_tokenize(m, text, strlen(text), 1, &ids, &n) == 0, "tokenize: %s", grpo_last_error());
    check(grpo_tokenize(m, text, strlen(text), 0, &plain, &n_plain) == 0, "tokenize: %s", grpo_last_error());
    check(n_plain == strlen(text) && n == n_plain - strlen("<|im_end|>") + 1,
          "special tokens: %zu ids matched, %zu not", n, n_plain);
    char *back;
    size_t len;
    check(grpo_detokenize(m, ids, n, 0, &back, &len) == 0 && len == strlen(text) && !memcmp(back, text, len),
          "detokenize does not give the text back: %s", grpo_last_error());
    grpo_free(back);
    int bad = 1 << 20;
    check(grpo_detokenize(m, &bad, 1, 0, &back, &len) == -1 && back == NULL, "an id outside the vocabulary");
    int *none;
    check(grpo_tokenize(m, "", 0, 1, &none, &n) == 0 && none != NULL && n == 0, "empty text");
    grpo_free(none);
    grpo_free(ids);
    grpo_free(plain);
}

/* Samples, checks every completion, and scores the first one: its log-probs
 * under the training forward match the sampler's. */
static void check_generate(const GrpoModel *m) {
    GrpoSamplingOptions o;
    grpo_sampling_defaults(&o);
    o.num_generations = 3;
    o.max_completion_length = 8;
    o.ignore_eos = 1;
    o.seed = 7;
    GrpoCompletion *c, *again;
    if (grpo_generate(m, &o, "What is 2+3?", "r1zero", &c)) {
        check(0, "generate: %s", grpo_last_error());
        return;
    }
    for (int i = 0; i < o.num_generations; i++) {
        check(c[i].n_tokens == 8 && c[i].finish_reason == GRPO_FINISH_LENGTH && c[i].text_len > 0 &&
                  strlen(c[i].text) <= c[i].text_len,
              "completion %d: %d tokens, finish %d, %zu bytes", i, c[i].n_tokens, c[i].finish_reason,
              c[i].text_len);
        for (int t = 0; t < c[i].n_tokens; t++)
            check(c[i].logprobs[t] < 0 && isfinite(c[i].logprobs[t]), "completion %d: log-prob %d is %g", i, t,
                  (double)c[i].logprobs[t]);
    }
    check(grpo_generate(m, &o, "What is 2+3?", "r1zero", &again) == 0 &&
              !memcmp(again[1].ids, c[1].ids, sizeof(int) * (size_t)c[1].n_tokens),
          "same seed, different samples");
    grpo_completions_free(again, o.num_generations);

    float *lp;
    int *ids;
    size_t n;
    if (grpo_score(m, "What is 2+3?", "r1zero", c[0].text, &lp, &ids, &n)) {
        check(0, "score: %s", grpo_last_error());
    } else {
        double maxdiff = 0;
        int same = n == (size_t)c[0].n_tokens && !memcmp(ids, c[0].ids, n * sizeof(int));
        for (size_t t = 0; same && t < n; t++) maxdiff = fmax(maxdiff, fabs((double)lp[t] - c[0].logprobs[t]));
        /* fp32 forward passes in two summation orders */
        check(same && maxdiff < 1e-3, "score vs sampler: same ids %d, max log-prob difference %g", same, maxdiff);
        printf("score: %zu tokens, max |score - sampler| = %.2e\n", n, maxdiff);
        grpo_free(lp);
        grpo_free(ids);
    }
    check(grpo_score(m, "What is 2+3?", NULL, "", &lp, NULL, &n) == -1 && lp == NULL &&
              strstr(grpo_last_error(), "empty"),
          "an empty completion: %s", grpo_last_error());

    o.temperature = -1;
    check(grpo_generate(m, &o, "x", NULL, &again) == -1 &&
              strstr(grpo_last_error(), "temperature"),
          "a negative temperature: %s", grpo_last_error());
    grpo_sampling_defaults(&o);
    check(grpo_generate(m, &o, "x", "{promt}", &again) == -1 && again == NULL, "a bad template");
    grpo_completions_free(c, 3);
}

static void check_rewards(const char *plugin) {
    char cfg[2048];
    snprintf(cfg, sizeof(cfg),
             "{\"rewards\": [{\"name\": \"format\", \"mode\": \"lenient\"},"
             " {\"name\": \"math_accuracy\", \"weight\": 2},"
             " {\"name\": \"plugin\", \"library\": \"%s\", \"keywords\": [\"therefore\"], \"label\": \"keywords\"},"
             " {\"name\": \"code\", \"language\": \"python\", \"sandbox\": {\"timeout\": 60}}]}",
             plugin);
    GrpoRewards *r;
    if (grpo_rewards_new(&r, cfg)) {
        check(0, "rewards: %s", grpo_last_error());
        return;
    }
    check(grpo_rewards_count(r) == 4 && !strcmp(grpo_rewards_label(r, 2), "keywords") && !grpo_rewards_label(r, 4),
          "reward labels");
    const GrpoRewardInput in[3] = {
        {"What is 2+3?", "<think>2+3 is 5, therefore</think><answer>5</answer>", "{\"answer\": \"5\"}", 12,
         GRPO_FINISH_EOS},
        {NULL, "no tags, 7", "{\"answer\": \"5\"}", -1, GRPO_FINISH_LENGTH},
        {"double it", "```python\nprint(int(input()) * 2)\n```",
         "{\"tests\": [{\"input\": \"2\\n\", \"output\": \"4\\n\"}, {\"input\": \"5\\n\", \"output\": \"10\\n\"}]}",
         -1, GRPO_FINISH_STOP},
    };
    GrpoRewardOutput total[3], per[4 * 3];
    if (grpo_rewards_score(r, in, 3, total, per)) {
        check(0, "rewards score: %s", grpo_last_error());
    } else {
#define PER(f, i) per[(f) * 3 + (i)]
        check(PER(0, 0).has_score && PER(0, 0).score == 1 && PER(0, 1).has_score && PER(0, 1).score == 0,
              "format scores");
        check(PER(1, 0).score == 1 && PER(1, 1).has_score && PER(1, 1).score == 0 && !PER(1, 2).has_score,
              "math_accuracy scores");
        check(PER(2, 0).score == 1 && PER(2, 1).score == 0, "plugin scores");
        check(PER(3, 2).has_score && PER(3, 2).score == 1 && !PER(3, 0).has_score,
              "code reward (sandbox helper found from libgrpo): %g/%d", PER(3, 2).score, PER(3, 2).has_score);
        check(total[0].has_score && total[0].score == 4 && total[1].has_score && total[1].score == 0 &&
                  total[2].has_score && total[2].score == 1,
              "totals: %g %g %g", total[0].score, total[1].score, total[2].score);
#undef PER
    }
    GrpoRewardInput broken = in[0];
    broken.example_json = "{\"answer\": ";
    check(grpo_rewards_score(r, &broken, 1, total, NULL) == -1 && strstr(grpo_last_error(), "example_json"),
          "invalid example_json: %s", grpo_last_error());
    grpo_rewards_free(r);
    check(grpo_rewards_new(&r, "[{\"name\": \"formt\"}]") == -1 && r == NULL &&
              strstr(grpo_last_error(), "format"),
          "a misspelt reward: %s", grpo_last_error());
}

/* Runs a job and opens the checkpoint it saved at step `steps` in
 * out_dir (its train.output_dir); NULL on failure. */
static GrpoModel *run_job(const char *command, const char *config, const char *const *sets, size_t n_sets,
                          const char *out_dir, int steps) {
    if (grpo_run_job(command, config, sets, n_sets)) {
        check(0, "%s job: %s", command, grpo_last_error());
        return NULL;
    }
    char ckpt[1200];
    snprintf(ckpt, sizeof(ckpt), "%s/checkpoints/step-%d.h5", out_dir, steps);
    GrpoModel *m;
    check(grpo_model_open(&m, ckpt) == 0, "the %s job's checkpoint: %s", command, grpo_last_error());
    return m;
}

/* Two SFT steps from the config's from-scratch model, then one GRPO step
 * from that checkpoint; samples from the result. */
static void check_jobs(const char *sft_config, const char *train_config, const char *run_dir) {
    char sft_out[1024], train_out[1024], out_set[1100], model_set[1200];
    snprintf(sft_out, sizeof(sft_out), "%s/sft", run_dir);
    snprintf(train_out, sizeof(train_out), "%s/train", run_dir);
    snprintf(out_set, sizeof(out_set), "train.output_dir=%s", sft_out);
    const char *sft_sets[] = {"train.steps=2", "train.save_steps=2", "train.batch_size=4", "train.micro_batch_size=4",
                              "data.max_length=256", "data.template=raw", "data.eval_file=null",
                              "log.logging_steps=1", out_set};
    GrpoModel *m = run_job("sft", sft_config, sft_sets, sizeof(sft_sets) / sizeof(sft_sets[0]), sft_out, 2);
    if (!m) return;
    grpo_model_free(m);
    snprintf(model_set, sizeof(model_set), "model.path=%s/checkpoints/step-2.h5", sft_out);
    snprintf(out_set, sizeof(out_set), "train.output_dir=%s", train_out);
    const char *train_sets[] = {"train.steps=1", model_set, out_set};
    m = run_job("train", train_config, train_sets, sizeof(train_sets) / sizeof(train_sets[0]), train_out, 1);
    if (!m) return;
    GrpoSamplingOptions o;
    grpo_sampling_defaults(&o);
    o.temperature = 0;
    o.max_completion_length = 4;
    GrpoCompletion *c;
    check(grpo_generate(m, &o, "1+1=", NULL, &c) == 0 && c[0].n_tokens >= 1, "sampling the trained model: %s",
          grpo_last_error());
    grpo_completions_free(c, 1);
    grpo_model_free(m);

    check(grpo_run_job("sfft", sft_config, NULL, 0) == -1 && strstr(grpo_last_error(), "did you mean 'sft'"),
          "an unknown job: %s", grpo_last_error());
    const char *typo[] = {"train.stepz=1"};
    check(grpo_run_job("sft", sft_config, typo, 1) == -1 && strstr(grpo_last_error(), "stepz"),
          "a misspelt override: %s", grpo_last_error());
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 6) {
        fprintf(stderr, "usage: consumer MODEL PLUGIN.so [SFT_CONFIG TRAIN_CONFIG RUN_DIR]\n");
        return 2;
    }
    check_library();
    GrpoModel *m;
    if (grpo_model_open(&m, argv[1])) {
        fprintf(stderr, "FAIL: %s\n", grpo_last_error());
        return 1;
    }
    printf("params %zu vocab %d context %d\n", grpo_model_n_params(m), grpo_model_vocab_size(m),
           grpo_model_context_length(m));
    check(grpo_model_n_params(m) > 0 && grpo_model_vocab_size(m) > 0 && grpo_model_context_length(m) > 0,
          "model sizes");
    check_tokens(m);
    check_generate(m);
    grpo_model_free(m);
    check_rewards(argv[2]); /* prints the sandbox's start-up report (test_install.sh reads it) */
    if (argc == 6) check_jobs(argv[3], argv[4], argv[5]);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
