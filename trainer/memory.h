/*
 * memory.h: how much memory a training job will hold on each rank,
 * estimated from its config and its model's architecture before the big
 * buffers are allocated, so that a job which cannot fit is refused at once
 * with the estimate and the key to change, instead of aborting, meeting
 * the OOM killer or swapping for hours (`grpo train/sft --dry-run` prints
 * it). The estimate counts what grows with the model and the batch:
 * parameters, gradients, AdamW moments, the reference copy, the
 * activation workspace of a micro-batch, the rollout's KV cache and
 * workspace, per-token scratch and the loaded data; not the libraries'
 * own memory (MPI, OpenBLAS, HDF5: tens of MB).
 * Not for: allocating anything (the trainers do), the model math.
 *
 *     MemEstimate e;
 *     if (memory_estimate(job, &cfg, d->world, dist_local_size(d), 0, &e)) return -1;
 *     if (memory_fits(&e)) return -1;          // message names the key to change
 */
#ifndef GRPO_MEMORY_H
#define GRPO_MEMORY_H

#include <stdio.h>

#include "model/model.h"
#include "trainer/dist.h"
#include "trainer/jobconfig.h"

#define MEMORY_MAX_ITEMS 16

typedef struct {
    const char *what; /* "parameters", "activations (one micro-batch)", ... */
    double bytes;     /* on one rank */
    const char *key;  /* the config key that scales it most directly, or NULL */
} MemItem;

typedef struct {
    MemItem item[MEMORY_MAX_ITEMS];
    int n;
    double total;        /* bytes per rank at the peak (steady state, or while resuming if larger) */
    double node_limit;   /* bytes this node offers the job */
    const char *limit_from; /* where node_limit comes from */
    int ranks_per_node;
    double rank_limit;   /* node_limit / ranks_per_node */
    long seq_tokens;     /* tokens per sequence assumed for the workspace */
    long max_tokens;     /* tokens per micro-batch */
    const char *seq_from; /* what decided seq_tokens */
} MemEstimate;

/* Estimates job (sft or train, job->kind) for a model of architecture cfg
 * run on `world` ranks with `ranks_per_node` of them per node. seq_tokens >
 * 0 is the longest sequence the data really holds (SFT knows it once the
 * data is tokenized); 0 assumes the config's bound (data.max_length for
 * sft, data.max_prompt_length + rollout.max_completion_length for train).
 * Fails (naming the key) only when a size does not even fit the counters
 * the trainer uses (e.g. more tokens per micro-batch than an int holds). */
int memory_estimate(const JobConfig *job, const ModelConfig *cfg, int world, int ranks_per_node, long seq_tokens,
                    MemEstimate *e);

/* 0 when e->total fits e->rank_limit; else -1 with a message giving the
 * estimate, the memory there is, the largest part and the key to change. */
int memory_fits(const MemEstimate *e);

/* The memory this node offers a job, in bytes: the smaller of the physical
 * memory and the cgroup's limit (v2 memory.max or v1 limit_in_bytes); the
 * environment variable GRPO_MAX_MEMORY (bytes, or with a K/M/G/T suffix)
 * replaces both, and GRPO_MAX_MEMORY=0 turns the check off. *from says
 * which one it is. */
double memory_node_limit(const char **from);

/* Prints e as a table (one line per part, then the total and the limit). */
void memory_print(const MemEstimate *e, FILE *f);

/* The architecture of the job's model without loading its weights:
 * model.init, or model.path's config.json (an HF directory) or
 * /state/model_config (a checkpoint, after its integrity check). */
int memory_model_config(const JobConfig *job, ModelConfig *cfg);

/* What a trainer calls once its model is known and before it allocates
 * its workspace: memory_estimate for this job on d's ranks, then
 * memory_fits. Every rank returns the same status. */
int memory_check(const JobConfig *job, const ModelConfig *cfg, const Dist *d, long seq_tokens);

/* memory_check for a job whose model is not loaded yet: its architecture
 * from memory_model_config. For a launcher to call before the trainer
 * allocates anything (grpo train does, from the command line). */
int memory_check_job(const JobConfig *job, const Dist *d);

#endif
