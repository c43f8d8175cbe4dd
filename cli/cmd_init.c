/*
 * cmd_init.c: `grpo init --arch ARCH.json --out PATH`: a seeded, randomly
 * initialised model (HF-style init, model_init_random), written as an HDF5
 * checkpoint when PATH ends in .h5, else as an HF-layout directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common/common.h"
#include "common/json.h"
#include "model/io/checkpoint.h"
#include "model/io/hf.h"
#include "model/model.h"

static void init_usage(FILE *f) {
    fprintf(f,
            "usage: grpo init --arch ARCH.json --out PATH [--seed S] [--tokenizer tokenizer.json]\n"
            "                 [--dtype fp32|bf16] [--force]\n"
            "\n"
            "Writes a randomly initialised model: weights ~ N(0, initializer_range^2), norms 1,\n"
            "biases 0, drawn from a counter-based RNG keyed by the seed (same seed, same model).\n"
            "\n"
            "  --arch FILE        an HF config.json (e.g. configs/arch/tiny.json)\n"
            "  --out PATH         PATH ending in .h5: an HDF5 checkpoint; otherwise an HF model\n"
            "                     directory (config.json, generation_config.json, model.safetensors)\n"
            "  --seed S           random seed (default 0)\n"
            "  --tokenizer FILE   a tokenizer.json to ship with the model (its ids must fit vocab_size)\n"
            "  --dtype fp32|bf16  weight dtype of an HF directory (default fp32; .h5 is always fp32)\n"
            "  --force            replace an existing PATH\n");
}

/* Reads "--opt VALUE" or "--opt=VALUE" at argv[*i]; returns the value or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, int *missing) {
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n)) return NULL;
    if (argv[*i][n] == '=') return argv[*i] + n + 1;
    if (argv[*i][n] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* The largest token id a tokenizer.json defines (model.vocab and
 * added_tokens), or -1 if it lists none. */
static int tokenizer_max_id(const cJSON *tok) {
    int max_id = -1;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *e;
    if (cJSON_IsObject(vocab)) {
        cJSON_ArrayForEach(e, vocab) {
            if (cJSON_IsNumber(e) && e->valueint > max_id) max_id = e->valueint;
        }
    }
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tok, "added_tokens");
    if (cJSON_IsArray(added)) {
        cJSON_ArrayForEach(e, added) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
            if (cJSON_IsNumber(id) && id->valueint > max_id) max_id = id->valueint;
        }
    }
    return max_id;
}

int cmd_init(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        init_usage(stdout);
        return EXIT_OK;
    }
    const char *arch = NULL, *out = NULL, *tok_path = NULL, *seed_s = NULL, *dtype_s = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if ((v = opt_value(argc, argv, &i, "--arch", &missing))) arch = v;
        else if ((v = opt_value(argc, argv, &i, "--out", &missing))) out = v;
        else if ((v = opt_value(argc, argv, &i, "--seed", &missing))) seed_s = v;
        else if ((v = opt_value(argc, argv, &i, "--tokenizer", &missing))) tok_path = v;
        else if ((v = opt_value(argc, argv, &i, "--dtype", &missing))) dtype_s = v;
        else if (!strcmp(argv[i], "--force")) force = 1;
        else if (missing) return cli_usage_error("init", "%s needs a value", argv[i]);
        else return cli_usage_error("init", "unknown argument '%s'", argv[i]);
    }
    if (!arch) return cli_usage_error("init", "--arch ARCH.json is required");
    if (!out) return cli_usage_error("init", "--out PATH is required");
    uint64_t seed = 0;
    if (seed_s) {
        if (cli_parse_u64(seed_s, &seed))
            return cli_usage_error("init", "--seed must be a non-negative integer, got '%s'", seed_s);
    }
    StDtype dtype = ST_F32;
    if (dtype_s) {
        if (!strcmp(dtype_s, "bf16")) dtype = ST_BF16;
        else if (strcmp(dtype_s, "fp32")) return cli_usage_error("init", "--dtype must be fp32 or bf16, got '%s'", dtype_s);
    }
    int h5 = str_ends_with(out, ".h5");
    if (h5 && dtype != ST_F32) return cli_usage_error("init", "--dtype bf16 applies to HF directories; .h5 checkpoints are fp32");

    size_t arch_len = 0;
    char *arch_text = file_read_all(arch, &arch_len);
    if (!arch_text) return cli_fail("init");
    cJSON *aj = json_parse_named(arch_text, arch_len, arch);
    ModelConfig cfg;
    int rc = aj ? model_config_from_json(&cfg, aj, arch) : -1;
    cJSON_Delete(aj);
    if (rc) {
        free(arch_text);
        return cli_fail("init");
    }
    ModelFiles files = {0};
    model_files_set(&files, "config.json", arch_text, arch_len);
    free(arch_text);
    if (tok_path) {
        size_t len = 0;
        char *text = file_read_all(tok_path, &len);
        cJSON *tj = text ? json_parse_named(text, len, tok_path) : NULL;
        if (!tj) {
            free(text);
            model_files_free(&files);
            return cli_fail("init");
        }
        int max_id = tokenizer_max_id(tj);
        cJSON_Delete(tj);
        if (max_id >= cfg.vocab_size) {
            fprintf(stderr, "grpo init: %s has token ids up to %d but %s has vocab_size %d; raise vocab_size\n",
                    tok_path, max_id, arch, cfg.vocab_size);
            free(text);
            model_files_free(&files);
            return EXIT_FAIL;
        }
        model_files_set(&files, "tokenizer.json", text, len);
        free(text);
    }

    struct stat sb;
    if (h5 && !force && stat(out, &sb) == 0) {
        fprintf(stderr, "grpo init: %s exists; pass --force to replace it\n", out);
        model_files_free(&files);
        return EXIT_FAIL;
    }
    Model m;
    if (model_init(&m, &cfg)) {
        err_prefix("%s", arch);
        model_files_free(&files);
        return cli_fail("init");
    }
    model_init_random(&m, seed);
    CheckpointState st = {.seed = seed}; /* step 0; records the init seed */
    rc = h5 ? checkpoint_save(out, &m, &st, NULL, NULL, &files) : hf_save(out, &m, &files, dtype, force);
    if (!rc)
        printf("wrote %s: %s (%s), %s, %zu parameters, seed %llu\n", out, h5 ? "HDF5 checkpoint" : "HF directory",
               h5 || dtype == ST_F32 ? "fp32" : "bf16", cfg.architecture, m.n_params, (unsigned long long)seed);
    model_free(&m);
    model_files_free(&files);
    return rc ? cli_fail("init") : EXIT_OK;
}
