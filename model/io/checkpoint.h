/*
 * checkpoint.h: the HDF5 checkpoint (docs/architecture.md, Files): one file holding the
 * model's tensors under their HF names, optionally the AdamW moments, the
 * trainer's state and the model's side files, so a .h5 is a self-contained
 * `--model M`. Layout (docs/checkpoints.md):
 *
 *   (user block, 512 bytes)     "GRPO-CHECKPOINT 1", file size, XXH64 digest
 *   /model/<hf name>            fp32, HF shape, chunked + Fletcher32
 *   /optimizer/m/<hf name>      AdamW first moments (optional, same layout)
 *   /optimizer/v/<hf name>      AdamW second moments (optional)
 *   /state                      attributes format, format_version, step,
 *                               seed, data_cursor; datasets model_config
 *                               (config.json text), job_config, trainer_state
 *                               (JSON text, optional), rng (bytes, optional)
 *   /files/<name>               side files (tokenizer.json, ...), text
 *   /<block>/<hf name>          extra parameter-shaped blocks (optional; e.g.
 *                               /reference/: GRPO's reference policy)
 *
 * Damage detection in two layers: the digest in the user block covers every
 * byte after it and is checked before HDF5 parses anything (so a truncated
 * or corrupted file never reaches the HDF5 parser), and every tensor
 * dataset carries HDF5's Fletcher32 checksum (which h5py and h5dump check
 * too). Files are written under a temporary name, fsynced, then renamed.
 * HDF5 is not thread-safe here: call these from one thread at a time.
 * Not for: HF directories (hf.h).
 *
 *     CheckpointState st = {.step = 100, .seed = 42, .job_config = json};
 *     checkpoint_save("run/checkpoints/step-100.h5", &m, &st, adam_m, adam_v, &files);
 *     ...
 *     Model m; CheckpointState st; float *am, *av;
 *     checkpoint_load(path, &m, &st, &am, &av, NULL);
 */
#ifndef GRPO_CHECKPOINT_H
#define GRPO_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "model/io/modelfiles.h"
#include "model/model.h"

#define CHECKPOINT_FORMAT "grpo.c checkpoint"
#define CHECKPOINT_VERSION 1
#define CHECKPOINT_USERBLOCK 512

/* A parameter-shaped block stored beside the policy under /<name>/ with
 * the same tensor names (e.g. GRPO's reference policy under /reference/). */
typedef struct {
    char name[32]; /* lowercase letters, digits and '_'; not model, optimizer, state or files */
    float *data;   /* n_params floats, model_tensors layout */
} CheckpointBlock;

/* Trainer state saved beside the weights. All pointers may be NULL (then
 * the item is not stored, and loads back as NULL / 0 length). */
typedef struct {
    int64_t step;          /* optimizer steps completed */
    uint64_t seed;         /* the job's seed */
    uint64_t data_cursor;  /* position in the prompt stream */
    uint8_t *rng;          /* opaque RNG state bytes (e.g. a copy of an Rng) */
    size_t rng_len;
    char *job_config;      /* the effective job config, JSON text */
    char *trainer_state;   /* anything else the trainer needs, JSON text */
    CheckpointBlock *blocks; /* extra parameter-shaped blocks: saved from here; on load, every one the
                                file holds, allocated (64-byte aligned) and owned by the state */
    size_t n_blocks;
} CheckpointState;

/* Frees the strings and bytes of a state filled by checkpoint_load and
 * zeroes it. */
void checkpoint_state_free(CheckpointState *st);

/* Writes m (and the optional parts) to path atomically. st NULL stores step
 * 0 and nothing else. adam_m and adam_v are parameter-shaped blocks
 * (m->n_params floats, model_tensors layout): both or neither. files
 * (nullable): side files to embed; its config.json, if any, is the original
 * used by hf_config_text for /state/model_config. */
int checkpoint_save(const char *path, const Model *m, const CheckpointState *st, const float *adam_m,
                    const float *adam_v, const ModelFiles *files);

/* Reads path after checking its digest, format and version. *m is
 * initialised here from the stored config (with the stored
 * generation_config.json's eos ids applied, as hf_load does) and filled with
 * the tensors, bit-exact. st, adam_m, adam_v and files may each be NULL to
 * skip that part; *adam_m / *adam_v get 64-byte-aligned blocks of n_params
 * floats (free()), or NULL if the file has no optimizer state. A damaged,
 * truncated, foreign or wrong-version file, missing or extra tensors and
 * wrong shapes fail with a message naming the file and the problem; nothing
 * is left allocated then. */
int checkpoint_load(const char *path, Model *m, CheckpointState *st, float **adam_m, float **adam_v,
                    ModelFiles *files);

/* Only the side files of a checkpoint (config.json from /state/model_config
 * plus /files/...), after the same digest check. */
int checkpoint_load_files(const char *path, ModelFiles *files);

/* Checks everything checkpoint_load checks (digest, format, every tensor
 * readable with the right shape, Fletcher32) without keeping anything. */
int checkpoint_verify(const char *path);

/* True if the file at path begins with the grpo checkpoint header (cheap:
 * reads 512 bytes; says nothing about integrity). */
int checkpoint_probe(const char *path);

/* Recomputes and rewrites the digest of a checkpoint that was changed on
 * purpose with other tools (h5py), so that grpo accepts it again. For tests
 * and tools; the HDF5-level checks still apply at load. */
int checkpoint_seal(const char *path);

/* XXH64 (Collet's xxHash, 64-bit) of n bytes with a seed, one shot and
 * streaming; the streaming form equals the one-shot form for any split. */
typedef struct {
    uint64_t v[4], total, seed;
    uint8_t mem[32];
    size_t memsize;
} Xxh64;
void xxh64_init(Xxh64 *s, uint64_t seed);
void xxh64_update(Xxh64 *s, const void *data, size_t n);
uint64_t xxh64_final(const Xxh64 *s);
uint64_t xxh64(const void *data, size_t n, uint64_t seed);

#endif
