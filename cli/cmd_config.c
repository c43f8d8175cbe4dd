/*
 * cmd_config.c: `grpo config CONFIG.json [--set ...]` checks a job config
 * and prints the effective config (every key, defaults filled in);
 * `grpo config --reference` prints the Markdown table of every key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "trainer/jobconfig.h"

int cmd_config(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        printf("usage: grpo config CONFIG.json [--set key.path=value ...]\n"
               "       grpo config --reference\n"
               "\n"
               "Checks a job config (unknown keys, types, ranges) and prints the effective\n"
               "config with every default filled in. --reference prints the table of every\n"
               "key (the source of docs/config.md).\n");
        return EXIT_OK;
    }
    if (argc == 2 && !strcmp(argv[1], "--reference")) {
        size_t n;
        const CfgField *s = jobconfig_schema(&n);
        config_write_reference(stdout, s, n);
        return EXIT_OK;
    }
    const char *config;
    const char **sets;
    size_t n_sets;
    int rc = cli_job_args("config", argc, argv, &config, &sets, &n_sets);
    if (rc != EXIT_OK) {
        free(sets);
        return rc;
    }
    JobConfig job;
    if (jobconfig_load(&job, config, sets, n_sets)) {
        fprintf(stderr, "grpo config: %s\n", err_msg());
        jobconfig_free(&job);
        free(sets);
        return EXIT_FAIL;
    }
    cJSON *j = jobconfig_to_json(&job);
    char *text = cJSON_Print(j);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(j);
    jobconfig_free(&job);
    free(sets);
    return EXIT_OK;
}
