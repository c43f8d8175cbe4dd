/*
 * loader.h: the one way to open "a model": an HF directory or a grpo HDF5
 * checkpoint (docs/architecture.md, `--model M`), with its tokenizer. The
 * formats themselves (hf.h, checkpoint.h) know nothing of each other; this
 * file is the only place that tells them apart.
 * Not for: writing models (hf_save, checkpoint_save), the trainer's
 * from-scratch models (trainer/session.c builds those, then asks
 * model_tokenizer_open for the tokenizer like everyone else).
 *
 *     Model m; ModelFiles files = {0}; Tokenizer *tok;
 *     if (model_open(path, &m, &files, &tok)) return -1;
 *     ...
 *     tokenizer_free(tok); model_files_free(&files); model_free(&m);
 */
#ifndef GRPO_LOADER_H
#define GRPO_LOADER_H

#include "model/io/modelfiles.h"
#include "model/model.h"
#include "model/tokenizer/tokenizer.h"

typedef enum { MODEL_PATH_HF = 1, MODEL_PATH_CHECKPOINT = 2 } ModelPathKind;

/* What path is: an HF directory (a directory with config.json) or a grpo
 * HDF5 checkpoint (a file starting with the grpo checkpoint header). Anything
 * else (missing, a plain HDF5 file, a lone .safetensors or config.json, ...)
 * fails with a message saying what was found and what is expected. */
int model_path_kind(const char *path, ModelPathKind *kind);

/* Loads the weights of the model at path, whichever kind it is. *m is
 * initialised here (model_free it); on failure it is left zeroed. files
 * (nullable) receives config.json and the side files (tokenizer.json, ...)
 * of the directory or checkpoint. */
int model_load(const char *path, Model *m, ModelFiles *files);

/* The side files of the model at path (either kind) without loading the
 * weights of an HF directory. (A checkpoint's integrity check still reads
 * the whole file.) */
int model_load_files(const char *path, ModelFiles *files);

/* The tokenizer of a model whose side files are `files` (its
 * tokenizer.json; a job that replaces the tokenizer puts the replacement
 * there first, so checkpoints carry the tokenizer the run used). `what`
 * names the model in errors (its path, or a config key). With vocab_size >
 * 0, a tokenizer with more ids than the model's vocabulary is refused.
 * *tok is NULL on failure. */
int model_tokenizer_open(const ModelFiles *files, const char *what, int vocab_size, Tokenizer **tok);

/* model_load and model_tokenizer_open in one: the model at path and its
 * tokenizer. files may be NULL when the caller does not keep the side
 * files. On failure nothing is left allocated and *tok is NULL. */
int model_open(const char *path, Model *m, ModelFiles *files, Tokenizer **tok);

/* Only a tokenizer: path is a tokenizer.json file, a directory holding
 * one (an HF model directory or a tokenizer's own), or a grpo checkpoint
 * (its embedded tokenizer.json). Anything else fails with a message saying
 * what path must be. */
int model_open_tokenizer(const char *path, Tokenizer **tok);

#endif
