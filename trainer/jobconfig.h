/*
 * jobconfig.h: the typed job config shared by `grpo sft` (and, as its
 * sections land, `grpo train`): every key with its default, range and
 * meaning lives in the schema in jobconfig.c, which also generates the
 * config reference (docs/config.md). Key names follow TRL's SFTConfig /
 * GRPOConfig where one exists.
 * Not for: interpreting the `rewards` array (reward/ validates it).
 */
#ifndef GRPO_JOBCONFIG_H
#define GRPO_JOBCONFIG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/config.h"

typedef struct {
    /* model */
    char *model_path;       /* HF directory or .h5 checkpoint; NULL: build from model.init */
    cJSON *model_init;      /* inline HF config.json for a from-scratch model */
    long model_init_seed;
    char *model_tokenizer;  /* tokenizer.json to use instead of the model's own */
    /* data */
    char *train_file;       /* JSONL ("text" or "prompt"/"completion" lines) or plain text */
    char *eval_file;
    char *data_format;      /* auto | text | prompt_completion */
    char *text_field;
    long max_length;        /* tokens per training sequence */
    char *template_name;    /* prompt template for prompt/completion data */
    int completion_only_loss;
    int add_eos;
    int shuffle;
    /* optim */
    double learning_rate, adam_beta1, adam_beta2, adam_epsilon, weight_decay, max_grad_norm;
    char *lr_scheduler_type;
    long warmup_steps;
    double warmup_ratio, min_lr_ratio;
    /* train */
    long steps, batch_size, micro_batch_size, seed, save_steps, save_total_limit, eval_steps;
    char *output_dir;
    char *resume;
    int gradient_checkpointing;
    /* log */
    long logging_steps;
    /* rewards (validated by reward/ when a job uses them) */
    cJSON *rewards;
} JobConfig;

/* The schema (for config_* functions and the reference). */
const CfgField *jobconfig_schema(size_t *n);

/* Loads path (NULL: the built-in defaults) with --set overrides. */
int jobconfig_load(JobConfig *job, const char *path, const char *const *sets, size_t n_sets);
void jobconfig_free(JobConfig *job);
/* The effective config as JSON (caller deletes). */
cJSON *jobconfig_to_json(const JobConfig *job);

#endif
