/*
 * cmd_pipeline.c: `grpo pipeline [CONFIG.json] [--set key.path=value ...]`:
 * runs a chain of stages (trainer/pipeline.h); without a config, the
 * built-in tiny R1-Zero recipe (configs/r1zero-tiny.json, compiled in).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "common/json.h"
#include "reward/reward.h"
#include "trainer/dist.h"
#include "trainer/pipeline.h"

/* configs/r1zero-tiny.json, embedded by the build (embedded_config.c). */
extern const char grpo_embedded_r1zero_tiny[];

static void help(void) {
    printf("usage: grpo pipeline [CONFIG.json] [--set key.path=value ...] [--print]\n"
           "\n"
           "Runs DeepSeek-R1's stages as one job: a pipeline config lists named stages\n"
           "(sft, train, eval, distill, report), each stage's model feeding the next.\n"
           "Each stage writes its run directory under pipeline.output_dir; a stage that\n"
           "finished is skipped when the pipeline is started again, and an interrupted\n"
           "one resumes. Ends with the evaluations side by side and the report's path.\n"
           "\n"
           "  CONFIG.json       a pipeline config (docs/pipeline.md); without one, the\n"
           "                    built-in tiny R1-Zero recipe (configs/r1zero-tiny.json):\n"
           "                    pretrain a tiny base on arithmetic, evaluate, GRPO,\n"
           "                    evaluate, report\n"
           "  --set k.p=value   override one key of the pipeline config, e.g.\n"
           "                    --set pipeline.output_dir=runs/x --set defaults.train.seed=7\n"
           "  --print           print the effective pipeline config and exit\n"
           "\n"
           "Runs under mpirun/srun too: every stage is data-parallel.\n");
}

/* Every "rewards" array of the pipeline (defaults and stages) gets its
 * relative plugin and program paths made absolute from the pipeline file's
 * folder, before the stages' configs are written elsewhere. */
static void resolve_reward_paths(cJSON *node, const char *config) {
    for (cJSON *it = node ? node->child : NULL; it; it = it->next) {
        if (it->string && !strcmp(it->string, "rewards") && cJSON_IsArray(it)) reward_config_resolve_paths(it, config);
        else if (cJSON_IsObject(it) || cJSON_IsArray(it)) resolve_reward_paths(it, config);
    }
}

int cmd_pipeline(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        help();
        return EXIT_OK;
    }
    const char *config = NULL;
    const char **sets = calloc((size_t)argc + 1, sizeof(char *));
    size_t n_sets = 0;
    int print = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--set")) {
            if (i + 1 >= argc) {
                free(sets);
                return cli_usage_error("pipeline", "--set needs key.path=value");
            }
            sets[n_sets++] = argv[++i];
        } else if (!strcmp(argv[i], "--print")) {
            print = 1;
        } else if (argv[i][0] == '-') {
            free(sets);
            return cli_usage_error("pipeline", "unknown option '%s'", argv[i]);
        } else if (!config) {
            config = argv[i];
        } else {
            free(sets);
            return cli_usage_error("pipeline", "more than one config ('%s' and '%s')", config, argv[i]);
        }
    }
    const char *origin = config ? config : "the built-in r1zero-tiny pipeline";
    cJSON *root = config ? json_read_file(config)
                         : json_parse_named(grpo_embedded_r1zero_tiny, strlen(grpo_embedded_r1zero_tiny), origin);
    int rc = root ? pipeline_apply_sets(root, sets, n_sets) : -1;
    free(sets);
    if (rc == 0 && config) resolve_reward_paths(root, config);
    if (rc) {
        cJSON_Delete(root);
        return cli_fail("pipeline");
    }
    if (print) {
        char *text = json_print_text(root);
        fputs(text, stdout);
        free(text);
        cJSON_Delete(root);
        return EXIT_OK;
    }
    Dist d;
    dist_init(&d, &argc, &argv);
    if (d.rank != 0) log_set_level(LOG_QUIET);
    rc = pipeline_run(root, origin, &d);
    if (rc && d.rank == 0) fprintf(stderr, "grpo pipeline: %s\n", err_msg());
    cJSON_Delete(root);
    dist_finalize(&d);
    return rc ? EXIT_FAIL : EXIT_OK;
}
