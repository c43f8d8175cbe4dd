/*
 * cmd_eval.c: `grpo eval --model M --config CONFIG.json [--k K] [--set ...]`:
 * pass@1, pass@k, maj@k, format rate, mean length and think rate of a
 * model on the config's eval set (trainer/eval.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "common/json.h"
#include "model/io/loader.h"
#include "reward/reward.h"
#include "trainer/dist.h"
#include "trainer/eval.h"
#include "trainer/jobconfig.h"

static void help(void) {
    printf("usage: grpo eval --config CONFIG.json [--model M] [--k K] [--set key.path=value ...]\n"
           "\n"
           "Samples eval.num_samples completions of every prompt of the config's eval set\n"
           "(data.eval_file, or data.generator's held-out split with data.eval_size\n"
           "prompts), grades them with the config's rewards and prints pass@1, pass@k\n"
           "(the unbiased estimator of Chen et al. 2021), maj@k (R1's cons@k), the format\n"
           "rate, mean completion length and think rate. Runs under mpirun/srun too.\n"
           "\n"
           "  --config PATH     the job config (its data, rollout, eval and rewards sections)\n"
           "  --model M         HF directory or grpo checkpoint (default: model.path)\n"
           "  --k K             samples per prompt (eval.num_samples)\n"
           "  --set k.p=value   override one key, repeatable\n"
           "  --out FILE        also write the result as JSON to FILE (default:\n"
           "                    train.output_dir/eval.json)\n"
           "\n"
           "Prints a table on stderr and the result as one JSON object on stdout.\n"
           "eval.temperature 0 is greedy (one sample per prompt).\n");
}

int cmd_eval(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        help();
        return EXIT_OK;
    }
    const char *config = NULL, *model = NULL, *k_s = NULL, *out = NULL;
    const char **sets = calloc((size_t)argc + 2, sizeof(char *));
    size_t n_sets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = !strcmp(a, "--config") ? &config : !strcmp(a, "--model") ? &model
                           : !strcmp(a, "--k") ? &k_s : !strcmp(a, "--out") ? &out : NULL;
        if (dst || !strcmp(a, "--set")) {
            if (i + 1 >= argc) {
                free(sets);
                return cli_usage_error("eval", "%s needs a value", a);
            }
            if (dst) *dst = argv[++i];
            else sets[n_sets++] = argv[++i];
        } else {
            free(sets);
            return cli_usage_error("eval", "unknown argument '%s'", a);
        }
    }
    if (!config) {
        free(sets);
        return cli_usage_error("eval", "--config CONFIG.json is required");
    }
    long k = 0;
    if (k_s && cli_parse_long(k_s, 1, 1 << 16, &k)) {
        free(sets);
        return cli_usage_error("eval", "--k must be an integer from 1 to 65536, got '%s'", k_s);
    }
    char kset[64], mset[4096];
    if (k) snprintf(kset, sizeof(kset), "eval.num_samples=%ld", k), sets[n_sets++] = kset;
    if (model) {
        /* as a JSON string, so any path is taken literally */
        cJSON *s = cJSON_CreateString(model);
        char *js = cJSON_PrintUnformatted(s);
        snprintf(mset, sizeof(mset), "model.path=%s", js);
        free(js);
        cJSON_Delete(s);
        sets[n_sets++] = mset;
    }
    Dist d;
    dist_init(&d, &argc, &argv);
    if (d.rank != 0) log_set_level(LOG_QUIET);
    JobConfig job;
    Evaluator ev = {0};
    RewardSet *rewards = NULL;
    Model m = {0};
    Tokenizer *tok = NULL;
    int rc = jobconfig_load(&job, JOB_EVAL, config, sets, n_sets);
    if (rc == 0 && !job.model_path) rc = ERR("no model: pass --model M or set model.path");
    if (rc == 0 && !(rewards = reward_set_new(job.rewards, "rewards"))) rc = -1;
    if (rc == 0) rc = eval_open(&ev, &job);
    if (rc == 0) rc = model_open(job.model_path, &m, NULL, &tok);
    EvalSummary sum;
    if (!dist_all_ok(&d, rc == 0)) rc = rc ? rc : ERR("setting up failed on another rank");
    if (rc == 0) rc = eval_run(&ev, &m, tok, rewards, &d, &sum);
    if (rc == 0 && d.rank == 0) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", job.model_path);
        eval_summary_to_json(&sum, j);
        cJSON_AddNumberToObject(j, "temperature", ev.temperature);
        fprintf(stderr,
                "model          %s\n"
                "prompts        %zu (%zu samples each, temperature %g)\n"
                "pass@1         %.4f\n"
                "pass@%-9zu %.4f\n"
                "maj@%-10zu %.4f\n"
                "format rate    %.4f\n"
                "think rate     %.4f\n"
                "mean length    %.1f tokens\n",
                job.model_path, sum.n_prompts, sum.samples_per_prompt, ev.temperature, sum.pass_at_1, sum.k,
                sum.pass_at_k, sum.k, sum.maj_at_k, sum.format_rate, sum.think_rate, sum.mean_length);
        char *text = json_print_text(j);
        fputs(text, stdout);
        char *path = out ? xstrdup(out) : NULL;
        if (!path && mkdir_p(job.output_dir) == 0) path = path_join(job.output_dir, "eval.json");
        if (path && file_write_atomic(path, text, strlen(text))) rc = -1;
        free(path);
        free(text);
        cJSON_Delete(j);
    }
    if (rc) fprintf(stderr, "grpo eval: %s\n", err_msg());
    eval_close(&ev);
    reward_set_free(rewards);
    tokenizer_free(tok);
    if (m.params) model_free(&m);
    jobconfig_free(&job);
    free(sets);
    dist_finalize(&d);
    return rc ? EXIT_FAIL : EXIT_OK;
}
