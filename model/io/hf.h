/*
 * hf.h: Hugging Face model directories in and out, and the one function
 * that resolves `--model M` for every subcommand (an HF directory or an
 * HDF5 checkpoint written by grpo, DESIGN.md).
 *
 * An HF directory holds config.json, the weights as model.safetensors or as
 * shards listed by model.safetensors.index.json, and side files (tokenizer
 * files, generation_config.json) that travel with the model. Loading reads
 * config.json (model_config_from_json), lets generation_config.json's
 * eos_token_id replace config.json's (as HF generate() does), and converts
 * F32/BF16/F16 weights to fp32. Saving writes config.json,
 * generation_config.json, model.safetensors (fp32 or bf16) and copies the
 * side files, into a directory that transformers loads.
 * Not for: the tokenizer itself (tokenizer.h), the HDF5 format (checkpoint.h).
 *
 *     Model m; ModelFiles files = {0};
 *     if (model_load_any(path, &m, &files)) die(err_msg());
 *     const char *tok = model_files_get(&files, "tokenizer.json", NULL);
 *     ...
 *     model_files_free(&files); model_free(&m);
 */
#ifndef GRPO_HF_H
#define GRPO_HF_H

#include <stddef.h>

#include "model/model.h"
#include "model/io/safetensors.h"

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
extern const char *const hf_side_files[];
extern const size_t hf_n_side_files;

/* The text of the file called name, or NULL. *len (if len) gets its size. */
const char *model_files_get(const ModelFiles *f, const char *name, size_t *len);
/* Adds or replaces name with a copy of text[0..len). */
void model_files_set(ModelFiles *f, const char *name, const char *text, size_t len);
void model_files_free(ModelFiles *f);

/* ---- configs ---- */

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
 * ("float32", "bfloat16"). Fails only if
 * original is not a JSON object. */
char *hf_config_text(const ModelConfig *cfg, const char *original, const char *torch_dtype);

/* ---- HF directories ---- */

/* Reads dir/config.json and dir/generation_config.json (if present) into cfg. */
int hf_load_config(const char *dir, ModelConfig *cfg);

/* Loads an HF directory: config (as hf_load_config), then weights from
 * model.safetensors or, without it, from the shards that
 * model.safetensors.index.json lists. Every tensor the model needs must be
 * present once with its HF shape; tensors the model does not know are an
 * error naming them (rotary_emb.inv_freq buffers are ignored; with tied
 * embeddings an lm_head.weight equal to embed_tokens is accepted). *m is
 * initialised here (model_free it); on failure it is left zeroed. If files
 * is not NULL it receives config.json and every side file present. */
int hf_load(const char *dir, Model *m, ModelFiles *files);

/* Writes m as an HF directory: config.json (hf_config_text with
 * files' config.json as the original), generation_config.json (the one in
 * files, else one made from the config's bos/eos ids), model.safetensors in
 * dtype ST_F32 or ST_BF16, and every other side file in files. The
 * directory is built under a temporary sibling name and renamed into place,
 * so a failure never leaves a half-written dir. dir must not exist or be an
 * empty directory; with force, an existing directory's files of the same
 * names are replaced one by one (each atomically), a stale
 * model.safetensors.index.json and the shards it lists are removed, and
 * other files are kept. files may be NULL. */
int hf_save(const char *dir, const Model *m, const ModelFiles *files, StDtype dtype, int force);

/* ---- --model M ---- */

typedef enum { MODEL_PATH_HF = 1, MODEL_PATH_CHECKPOINT = 2 } ModelPathKind;

/* What path is: an HF directory (a directory with config.json) or a grpo
 * HDF5 checkpoint (a file starting with the grpo checkpoint header). Anything
 * else (missing, a plain HDF5 file, a lone .safetensors or config.json, ...)
 * fails with a message saying what was found and what is expected. */
int model_path_kind(const char *path, ModelPathKind *kind);

/* Loads the model at path, whichever kind it is (model_path_kind). *m is
 * initialised here. files (nullable) receives config.json and the side
 * files (tokenizer.json, ...) of the directory or checkpoint. */
int model_load_any(const char *path, Model *m, ModelFiles *files);

/* The side files of the model at path (either kind) without loading the
 * weights of an HF directory. (A checkpoint's integrity check still reads
 * the whole file.) */
int model_files_load(const char *path, ModelFiles *files);

#endif
