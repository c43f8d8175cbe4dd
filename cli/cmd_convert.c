/*
 * cmd_convert.c: `grpo convert IN OUT`: HF directory -> HDF5 checkpoint, or
 * HDF5 checkpoint -> HF directory (the direction follows IN's kind). The
 * output is written under a temporary name and renamed, so a failure never
 * leaves a half-written OUT and never clobbers an existing one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common/common.h"
#include "model/io/checkpoint.h"
#include "model/io/hf.h"
#include "model/io/loader.h"

static void convert_usage(FILE *f) {
    fprintf(f,
            "usage: grpo convert IN OUT [--dtype fp32|bf16] [--force]\n"
            "\n"
            "Converts between an HF model directory and a grpo HDF5 checkpoint:\n"
            "  IN an HF directory     -> OUT an HDF5 checkpoint (fp32; tokenizer and other\n"
            "                            side files embedded)\n"
            "  IN an HDF5 checkpoint  -> OUT an HF directory (config.json, generation_config.json,\n"
            "                            model.safetensors, tokenizer files) that transformers loads\n"
            "Optimizer state and trainer state in a checkpoint are not exported.\n"
            "\n"
            "  --dtype fp32|bf16  weight dtype of the HF directory written (default fp32;\n"
            "                     bf16 rounds to nearest even)\n"
            "  --force            replace an existing OUT (for a directory: its model files\n"
            "                     are replaced, other files kept)\n");
}

int cmd_convert(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        convert_usage(stdout);
        return EXIT_OK;
    }
    const char *pos[2] = {NULL, NULL}, *dtype_s = NULL;
    int npos = 0, force = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) {
            force = 1;
        } else if (!strcmp(argv[i], "--dtype")) {
            if (i + 1 >= argc) return cli_usage_error("convert", "--dtype needs a value (fp32 or bf16)");
            dtype_s = argv[++i];
        } else if (!strncmp(argv[i], "--dtype=", 8)) {
            dtype_s = argv[i] + 8;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("convert", "unknown option '%s'", argv[i]);
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            return cli_usage_error("convert", "too many arguments ('%s'); expected IN OUT", argv[i]);
        }
    }
    if (npos < 2) return cli_usage_error("convert", "expected IN OUT");
    StDtype dtype = ST_F32;
    if (dtype_s) {
        if (!strcmp(dtype_s, "bf16")) dtype = ST_BF16;
        else if (strcmp(dtype_s, "fp32"))
            return cli_usage_error("convert", "--dtype must be fp32 or bf16, got '%s'", dtype_s);
    }
    const char *in = pos[0], *out = pos[1];
    ModelPathKind kind;
    if (model_path_kind(in, &kind)) return cli_fail("convert");
    if (kind == MODEL_PATH_HF && dtype != ST_F32)
        return cli_usage_error("convert", "--dtype bf16 applies when writing an HF directory; checkpoints are fp32");
    struct stat si, so;
    if (stat(in, &si) == 0 && stat(out, &so) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
        fprintf(stderr, "grpo convert: IN and OUT are the same path (%s)\n", out);
        return EXIT_FAIL;
    }
    if (kind == MODEL_PATH_HF && stat(out, &so) == 0) {
        if (S_ISDIR(so.st_mode)) {
            fprintf(stderr, "grpo convert: %s is a directory; the output of an HF directory is an .h5 file\n", out);
            return EXIT_FAIL;
        }
        if (!force) {
            fprintf(stderr, "grpo convert: %s exists; pass --force to replace it\n", out);
            return EXIT_FAIL;
        }
    }

    Model m;
    ModelFiles files = {0};
    int rc;
    if (kind == MODEL_PATH_HF) {
        rc = hf_load(in, &m, &files);
        if (!rc) {
            rc = checkpoint_save(out, &m, NULL, NULL, NULL, &files);
            model_free(&m);
        }
    } else {
        rc = checkpoint_load(in, &m, NULL, NULL, NULL, &files);
        if (!rc) {
            rc = hf_save(out, &m, &files, dtype, force);
            model_free(&m);
        }
    }
    model_files_free(&files);
    if (rc) return cli_fail("convert");
    printf("wrote %s (%s)\n", out,
           kind == MODEL_PATH_HF ? "HDF5 checkpoint" : (dtype == ST_BF16 ? "HF directory, bf16" : "HF directory, fp32"));
    return EXIT_OK;
}
