/*
 * hf.h: Hugging Face model directories in and out.
 *
 * An HF directory holds config.json, the weights as model.safetensors or as
 * shards listed by model.safetensors.index.json, and side files (tokenizer
 * files, generation_config.json) that travel with the model. Loading reads
 * config.json (model_config_from_json), lets generation_config.json's
 * eos_token_id replace config.json's (as HF generate() does), and converts
 * F32/BF16/F16 weights to fp32. Saving writes config.json,
 * generation_config.json, model.safetensors (fp32 or bf16) and copies the
 * side files, into a directory that transformers loads.
 * Not for: the tokenizer itself (tokenizer.h), the HDF5 format
 * (checkpoint.h), or resolving `--model M` to either format (loader.h).
 *
 *     Model m; ModelFiles files = {0};
 *     if (hf_load(dir, &m, &files)) return -1;
 *     ...
 *     model_files_free(&files); model_free(&m);
 */
#ifndef GRPO_HF_H
#define GRPO_HF_H

#include <stddef.h>

#include "model/model.h"
#include "model/io/modelfiles.h"
#include "model/io/safetensors.h"

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

#endif
