/*
 * cmd_config.c: `grpo config CONFIG.json [--set ...]` checks a job config
 * and prints the effective config (every key, defaults filled in);
 * `grpo config --reference` prints the Markdown table of every key.
 * A train or eval config's rewards array is checked as grpo reward and
 * grpo train check it (without starting a reward process) and printed with
 * every reward's defaults; model.init, the template and the data source
 * (sft's training data, train's and eval's prompts) are checked too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "data/template.h"
#include "reward/reward.h"
#include "trainer/jobconfig.h"
#include "trainer/prompts.h"
#include "trainer/sft.h"

int cmd_config(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        printf("usage: grpo config CONFIG.json [--for sft|train|eval] [--set key.path=value ...]\n"
               "       grpo config --reference\n"
               "\n"
               "Checks a job config as the given command reads it (unknown keys, keys that\n"
               "command does not use, types, ranges, model.init, the template, the data\n"
               "source: grpo train and eval read their prompts) and prints the effective\n"
               "config with every default filled in. Without --for, a config with a\n"
               "rewards, rollout or algorithm section is checked for grpo train, any other\n"
               "for grpo sft. The rewards array is checked as grpo train reads it (names,\n"
               "parameters, plugins loaded; external programs found but not started) and\n"
               "printed with its defaults.\n"
               "--reference prints the table of every key (the source of docs/config.md).\n");
        return EXIT_OK;
    }
    if (argc == 2 && !strcmp(argv[1], "--reference")) {
        config_write_reference(stdout, jobconfig_schema());
        return EXIT_OK;
    }
    /* --for is ours; the rest are the job arguments. */
    const char *for_cmd = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    int n_rest = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && !strcmp(argv[i], "--for")) {
            if (i + 1 >= argc) {
                free(rest);
                return cli_usage_error("config", "--for needs sft, train or eval");
            }
            for_cmd = argv[++i];
        } else {
            rest[n_rest++] = argv[i];
        }
    }
    JobKind kind = JOB_SFT;
    if (for_cmd) {
        if (!strcmp(for_cmd, "sft")) kind = JOB_SFT;
        else if (!strcmp(for_cmd, "train")) kind = JOB_TRAIN;
        else if (!strcmp(for_cmd, "eval")) kind = JOB_EVAL;
        else {
            free(rest);
            return cli_usage_error("config", "--for must be sft, train or eval, got '%s'", for_cmd);
        }
    }
    const char *config;
    const char **sets;
    size_t n_sets;
    int rc = cli_job_args("config", n_rest, rest, &config, &sets, &n_sets);
    if (rc != EXIT_OK) {
        free(sets);
        free(rest);
        return rc;
    }
    JobConfig job = {0};
    if ((!for_cmd && jobconfig_guess_kind(config, &kind)) || jobconfig_load(&job, kind, config, sets, n_sets)) {
        fprintf(stderr, "grpo config: %s\n", err_msg());
        jobconfig_free(&job);
        free(sets);
        free(rest);
        return EXIT_FAIL;
    }
    /* What the schema leaves to others: model.init, the rewards array, the
     * template and the data source. */
    RewardSet *rewards = NULL;
    int bad = 0;
    if (job.model_init && !cJSON_IsNull(job.model_init)) {
        ModelConfig mc;
        bad = model_config_from_json(&mc, job.model_init, "model.init");
    }
    if (!bad && kind != JOB_SFT) bad = (rewards = reward_set_check(job.rewards, "rewards")) == NULL;
    if (!bad && template_check(job.template_name)) bad = err_prefix("data.template");
    if (!bad && kind == JOB_SFT) bad = sft_check(&job);
    if (!bad && kind != JOB_SFT) { /* the prompts: a readable file, or a valid generator */
        PromptSource src;
        bad = prompts_open(&src, &job, kind == JOB_EVAL);
        prompts_close(&src);
    }
    if (bad) {
        fprintf(stderr, "grpo config: %s: %s\n", config, err_msg());
        reward_set_free(rewards);
        jobconfig_free(&job);
        free(sets);
        free(rest);
        return EXIT_FAIL;
    }
    fprintf(stderr, "grpo config: %s is a valid config for %s\n", config, jobconfig_kind_name(kind));
    cJSON *j = jobconfig_to_json(&job);
    if (rewards) {
        cJSON_ReplaceItemInObjectCaseSensitive(j, "rewards", reward_set_config(rewards));
        reward_set_free(rewards);
    }
    char *text = cJSON_Print(j);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(j);
    jobconfig_free(&job);
    free(sets);
    free(rest);
    return EXIT_OK;
}
