/*
 * jobconfig.h: the typed job config of `grpo sft`, `grpo train` and
 * `grpo eval`: every key with its default, range, meaning and the commands
 * that read it lives in the schema in jobconfig.c, which also generates
 * the config reference (docs/config.md). Key names follow TRL's SFTConfig
 * / GRPOConfig where one exists. A command refuses keys and sections it
 * does not read (config.h).
 * Not for: interpreting the `rewards` array (reward/ validates it), the
 * `stop` strings' meaning (rollout/).
 */
#ifndef GRPO_JOBCONFIG_H
#define GRPO_JOBCONFIG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/config.h"

/* The commands a config serves (bit masks of the schema's users). */
typedef enum { JOB_SFT = 1, JOB_TRAIN = 2, JOB_EVAL = 4 } JobKind;

typedef struct {
    JobKind kind;
    /* model */
    char *model_path;      /* HF directory or .h5 checkpoint; NULL: build from model.init */
    cJSON *model_init;     /* inline HF config.json for a from-scratch model */
    long model_init_seed;
    char *model_tokenizer; /* tokenizer.json to use instead of the model's own */
    /* data */
    char *train_file;      /* JSONL or plain text (sft); JSONL prompts (train) */
    char *eval_file;
    cJSON *generator;      /* built-in task generator spec (train, eval) when there is no file */
    char *data_format;     /* sft: auto | text | prompt_completion */
    char *text_field;      /* sft */
    char *prompt_field;    /* train, eval: "auto" or a field name */
    char *answer_field;    /* train, eval: "auto" or a field name */
    long max_length;       /* sft: tokens per training sequence */
    long max_prompt_length; /* train, eval: prompt tokens kept (from the right) */
    long eval_size;        /* train, eval: eval prompts used (0: all) */
    char *template_name;   /* prompt template */
    int completion_only_loss;
    int add_eos;
    int shuffle;
    /* rollout (train, eval) */
    long num_generations;
    double temperature, top_p, min_p;
    long top_k;
    long max_completion_length;
    cJSON *stop;           /* array of strings */
    /* algorithm (train) */
    double beta;
    char *kl_estimator;    /* k1 | k2 | k3 */
    int kl_in_reward;
    double epsilon, epsilon_high; /* epsilon_high NAN: = epsilon */
    char *importance_sampling_level; /* token | sequence */
    char *loss_type;       /* grpo | bnpo | dapo | dr_grpo */
    char *scale_rewards;   /* group | batch | none */
    int mask_truncated_completions;
    double entropy_coeff;
    long num_iterations;
    long ref_model_sync_steps;
    int dynamic_sampling;
    long max_num_gen_batches;
    int skip_zero_advantage;
    /* optim */
    double learning_rate, adam_beta1, adam_beta2, adam_epsilon, weight_decay, max_grad_norm;
    char *lr_scheduler_type;
    long warmup_steps;
    double warmup_ratio, min_lr_ratio;
    /* train */
    long steps, batch_size, prompts_per_step, micro_batch_size, seed, save_steps, save_total_limit, eval_steps;
    char *output_dir;
    char *resume;
    cJSON *resume_allow_changes; /* key paths a resumed run may change, or ["*"] */
    int gradient_checkpointing;
    long threads;
    long watchdog_seconds;
    long checksum_steps;
    /* eval */
    long eval_num_samples;
    double eval_temperature; /* NAN: rollout.temperature */
    /* log */
    long logging_steps;
    long log_completions;   /* prompts per step whose groups go to completions.jsonl */
    char *progress;         /* auto | bar | lines | none */
    /* rewards (train, eval; validated by reward/) */
    cJSON *rewards;
} JobConfig;

/* The schema (for config_* functions and the reference). */
const CfgSchema *jobconfig_schema(void);

/* "grpo sft", "grpo train", "grpo eval". */
const char *jobconfig_kind_name(JobKind kind);

/* Loads path for command `kind` (path NULL: the built-in defaults) with
 * --set overrides; refuses keys and sections that command does not read.
 * The rewards' relative plugin and program paths are made absolute from
 * path's folder (reward_config_resolve_paths). Release with
 * jobconfig_free, also after a failure. */
int jobconfig_load(JobConfig *job, JobKind kind, const char *path, const char *const *sets, size_t n_sets);
void jobconfig_free(JobConfig *job);
/* The effective config (every key the command reads) as JSON (caller
 * deletes). */
cJSON *jobconfig_to_json(const JobConfig *job);

/* Keeps the keys of cfg that command `kind` reads (or accepts) and drops
 * the rest; a key no command knows is an error naming origin and the key. */
int jobconfig_prune(cJSON *cfg, JobKind kind, const char *origin);

/* The command a config file is most likely for, for `grpo config` without
 * --for: train if it has a rewards, rollout or algorithm section, else sft.
 * Returns 0, or -1 if the file cannot be read as a JSON object. */
int jobconfig_guess_kind(const char *path, JobKind *kind);

#endif
