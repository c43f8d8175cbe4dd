/*
 * jobconfig.c: the job config schema: every key, its default, range and
 * one-line meaning (jobconfig.h).
 */
#include "jobconfig.h"

#include <float.h>
#include <stddef.h>
#include <string.h>

#define F(path, type, member, def, lo, hi, choices, help) \
    {path, type, offsetof(JobConfig, member), def, lo, hi, choices, help}
#define BIG 1e15

static const CfgField schema[] = {
    F("model.path", CF_STRING, model_path, "null", 0, 0, NULL,
      "HF model directory or grpo .h5 checkpoint to start from; null builds a model from model.init"),
    F("model.init", CF_JSON, model_init, "null", 0, 0, NULL,
      "inline HF config.json for a randomly initialised model (when model.path is null)"),
    F("model.init_seed", CF_INT, model_init_seed, "0", 0, BIG, NULL, "seed of the random initialisation"),
    F("model.tokenizer", CF_STRING, model_tokenizer, "null", 0, 0, NULL,
      "tokenizer.json to use instead of the model's own"),
    F("data.train_file", CF_STRING, train_file, NULL, 0, 0, NULL,
      "training data: JSONL with a text field or prompt/completion pairs, or a plain .txt file"),
    F("data.eval_file", CF_STRING, eval_file, "null", 0, 0, NULL, "held-out data in the same format, for eval loss"),
    F("data.format", CF_ENUM, data_format, "\"auto\"", 0, 0, "auto|text|prompt_completion",
      "how lines are read; auto decides per file from its first line"),
    F("data.text_field", CF_STRING, text_field, "\"text\"", 0, 0, NULL, "JSONL field holding the text (TRL dataset_text_field)"),
    F("data.max_length", CF_INT, max_length, "1024", 2, 1 << 20, NULL,
      "tokens per training sequence; longer examples are truncated"),
    F("data.template", CF_STRING, template_name, "\"raw\"", 0, 0, NULL,
      "prompt template for prompt/completion data: raw, r1zero, chatml, llama3, or a string with {prompt}"),
    F("data.completion_only_loss", CF_BOOL, completion_only_loss, "true", 0, 0, NULL,
      "train only on completion tokens of prompt/completion data"),
    F("data.add_eos", CF_BOOL, add_eos, "true", 0, 0, NULL, "append the end-of-sequence token to each example"),
    F("data.shuffle", CF_BOOL, shuffle, "true", 0, 0, NULL, "shuffle examples each epoch (seeded)"),
    F("optim.learning_rate", CF_DOUBLE, learning_rate, "2e-5", 0, 10, NULL, "peak learning rate"),
    F("optim.adam_beta1", CF_DOUBLE, adam_beta1, "0.9", 0, 0.999999, NULL, "AdamW beta1"),
    F("optim.adam_beta2", CF_DOUBLE, adam_beta2, "0.999", 0, 0.999999999, NULL, "AdamW beta2"),
    F("optim.adam_epsilon", CF_DOUBLE, adam_epsilon, "1e-8", 0, 1, NULL, "AdamW epsilon"),
    F("optim.weight_decay", CF_DOUBLE, weight_decay, "0.0", 0, 10, NULL,
      "decoupled weight decay, applied to matrices and embeddings only"),
    F("optim.max_grad_norm", CF_DOUBLE, max_grad_norm, "1.0", 0, BIG, NULL, "global gradient-norm clip; 0 disables"),
    F("optim.lr_scheduler_type", CF_ENUM, lr_scheduler_type, "\"linear\"", 0, 0, "constant|linear|cosine",
      "learning-rate schedule after warmup"),
    F("optim.warmup_steps", CF_INT, warmup_steps, "0", 0, BIG, NULL, "linear warmup steps (overrides warmup_ratio)"),
    F("optim.warmup_ratio", CF_DOUBLE, warmup_ratio, "0.0", 0, 1, NULL, "warmup as a fraction of train.steps"),
    F("optim.min_lr_ratio", CF_DOUBLE, min_lr_ratio, "0.0", 0, 1, NULL,
      "floor of the linear/cosine decay as a fraction of the peak"),
    F("train.steps", CF_INT, steps, "100", 1, BIG, NULL, "optimizer steps"),
    F("train.batch_size", CF_INT, batch_size, "8", 1, BIG, NULL,
      "SFT: sequences per optimizer step, summed over all ranks"),
    F("train.micro_batch_size", CF_INT, micro_batch_size, "8", 1, BIG, NULL,
      "sequences per forward/backward pass on one rank (gradient accumulation fills the batch)"),
    F("train.seed", CF_INT, seed, "42", 0, BIG, NULL, "seed of every random stream of the run"),
    F("train.output_dir", CF_STRING, output_dir, "\"runs/default\"", 0, 0, NULL,
      "run directory: config.json, metrics.jsonl, checkpoints/"),
    F("train.save_steps", CF_INT, save_steps, "0", 0, BIG, NULL, "checkpoint every N steps (0: only at the end)"),
    F("train.save_total_limit", CF_INT, save_total_limit, "0", 0, BIG, NULL,
      "keep at most N step checkpoints (0: keep all)"),
    F("train.eval_steps", CF_INT, eval_steps, "0", 0, BIG, NULL, "evaluate every N steps (0: never)"),
    F("train.resume", CF_STRING, resume, "\"auto\"", 0, 0, NULL,
      "auto: continue from the newest valid checkpoint in output_dir; never; or a checkpoint path"),
    F("train.gradient_checkpointing", CF_BOOL, gradient_checkpointing, "false", 0, 0, NULL,
      "recompute each layer's activations in backward (less memory, about 1/3 more compute)"),
    F("log.logging_steps", CF_INT, logging_steps, "1", 1, BIG, NULL, "print and record metrics every N steps"),
    F("rewards", CF_JSON, rewards, "[]", 0, 0, NULL,
      "reward functions: [{\"name\": ..., \"weight\": ..., params}] (docs/rewards.md)"),
};

const CfgField *jobconfig_schema(size_t *n) {
    *n = sizeof(schema) / sizeof(schema[0]);
    return schema;
}

int jobconfig_load(JobConfig *job, const char *path, const char *const *sets, size_t n_sets) {
    memset(job, 0, sizeof(*job));
    size_t n;
    const CfgField *s = jobconfig_schema(&n);
    return config_load(job, s, n, path, NULL, sets, n_sets);
}

void jobconfig_free(JobConfig *job) {
    size_t n;
    const CfgField *s = jobconfig_schema(&n);
    config_free(job, s, n);
}

cJSON *jobconfig_to_json(const JobConfig *job) {
    size_t n;
    const CfgField *s = jobconfig_schema(&n);
    return config_to_json(job, s, n);
}
