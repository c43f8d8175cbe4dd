/*
 * modelfiles.h: what both model formats carry besides the weights: the
 * text side files that travel with a model (tokenizer.json,
 * generation_config.json, ...) and the config.json texts they store.
 * Shared by the HF directory format (hf.h) and the HDF5 checkpoint
 * (checkpoint.h), so neither needs the other.
 * Not for: weights, or deciding which format a path is (loader.h).
 */
#ifndef GRPO_MODELFILES_H
#define GRPO_MODELFILES_H

#include <stddef.h>

#include "model/model.h"

/* ---- side files: the text files that travel with a model ---- */

typedef struct {
    char *name; /* a base name: "tokenizer.json", "config.json", ... */
    char *text; /* NUL-terminated, len bytes before the NUL */
    size_t len;
} ModelFile;

typedef struct {
    ModelFile *v;
    size_t n;
} ModelFiles; /* zero-initialise before first use */

/* The side files copied between HF directories and checkpoints (besides
 * config.json, which is always written from the model's config). */
extern const char *const model_side_files[];
extern const size_t model_n_side_files;

/* The text of the file called name, or NULL. *len (if len) gets its size. */
const char *model_files_get(const ModelFiles *f, const char *name, size_t *len);
/* Adds or replaces name with a copy of text[0..len). */
void model_files_set(ModelFiles *f, const char *name, const char *text, size_t len);
void model_files_free(ModelFiles *f);

/* Adds config.json and every side file present in dir to files. A side
 * file must be text (no NUL bytes) under 256 MB; the error names it. */
int model_files_read_dir(const char *dir, ModelFiles *files);

/* ---- config texts ---- */

/* Lets a generation_config.json text override cfg's end-of-sequence ids:
 * its eos_token_id (an int or a list of ints) replaces cfg->eos_token_ids
 * when present; absent or null leaves cfg alone. Ids must lie inside the
 * vocabulary. `what` names the file in errors. */
int model_config_apply_generation(ModelConfig *cfg, const char *gen_json, const char *what);

/* The config.json text to write for cfg (caller frees): the original
 * config.json text (nullable; keys we do not model, such as
 * transformers_version, are kept) updated with every field of
 * model_config_to_json(cfg), except that an original bos/eos_token_id is
 * kept (generation_config.json may have overridden cfg's eos ids);
 * torch_dtype (and "dtype", if the original has it) set to `torch_dtype`
 * ("float32", "bfloat16"). Fails only if original is not a JSON object. */
char *hf_config_text(const ModelConfig *cfg, const char *original, const char *torch_dtype);

#endif
