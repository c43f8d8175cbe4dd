/*
 * jobconfig.c: the job config schema: every key, its default, range, the
 * commands that read it and a one-line meaning (jobconfig.h).
 * Not for: checking combinations of keys (each command does, before any
 * work starts: sft.c, grpo.c).
 */
#include "jobconfig.h"

#include <float.h>
#include <stddef.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "reward/reward.h"

#define BIG 1e15
#define ALL 0u
#define SFT JOB_SFT
#define TRN JOB_TRAIN
#define EVL JOB_EVAL

/* One entry: F_<TYPE>(path, member, default, users, ...); the member's C
 * type is checked at compile time (CFG_OFFSET). */
#define OFF(m, ctype) CFG_OFFSET(JobConfig, m, ctype)
#define F_INT(path, m, def, users, lo, hi, help) {path, CF_INT, OFF(m, long), def, NULL, 0, users, lo, hi, NULL, help}
#define F_DBL(path, m, def, users, lo, hi, help) {path, CF_DOUBLE, OFF(m, double), def, NULL, 0, users, lo, hi, NULL, help}
#define F_BOOL(path, m, def, users, help) {path, CF_BOOL, OFF(m, int), def, NULL, 0, users, 0, 0, NULL, help}
#define F_STR(path, m, def, users, help) {path, CF_STRING, OFF(m, char *), def, NULL, 0, users, 0, 0, NULL, help}
#define F_ENUM(path, m, def, users, choices, help) \
    {path, CF_ENUM, OFF(m, char *), def, NULL, 0, users, 0, 0, choices, help}
#define F_JSON(path, m, def, users, help) {path, CF_JSON, OFF(m, cJSON *), def, NULL, 0, users, 0, 0, NULL, help}

static const CfgField fields[] = {
    /* model */
    F_STR("model.path", model_path, "null", ALL,
          "HF model directory or grpo .h5 checkpoint to start from; null builds a model from model.init"),
    F_JSON("model.init", model_init, "null", SFT | TRN,
           "inline HF config.json for a randomly initialised model (when model.path is null)"),
    F_INT("model.init_seed", model_init_seed, "0", SFT | TRN, 0, BIG, "seed of the random initialisation"),
    F_STR("model.tokenizer", model_tokenizer, "null", ALL, "tokenizer.json to use instead of the model's own"),
    /* data */
    F_STR("data.train_file", train_file, "null", SFT | TRN,
          "training data: sft reads JSONL text or prompt/completion lines, or a plain .txt file; train reads "
          "JSONL prompts (with their answers); required unless train uses data.generator"),
    F_STR("data.eval_file", eval_file, "null", ALL,
          "held-out data: sft computes eval loss on it; train and eval sample its prompts"),
    F_JSON("data.generator", generator, "null", ALL,
           "built-in task generator used when there is no file, e.g. {\"task\": \"arith\"}; grpo sft takes the "
           "corpus task (docs/data.md)"),
    F_ENUM("data.format", data_format, "\"auto\"", SFT, "auto|text|prompt_completion",
           "how lines are read; auto decides per file from its first line"),
    F_STR("data.text_field", text_field, "\"text\"", SFT, "JSONL field holding the text (TRL dataset_text_field)"),
    F_STR("data.prompt_field", prompt_field, "\"auto\"", TRN | EVL,
          "JSONL field holding the prompt; auto takes prompt, question or problem"),
    F_STR("data.answer_field", answer_field, "\"auto\"", TRN | EVL,
          "JSONL field holding the gold answer; auto takes answer, then solution (GSM8K's #### and MATH's "
          "\\boxed{} are read as they are)"),
    F_INT("data.max_length", max_length, "1024", SFT, 2, 1 << 20,
          "tokens per training sequence; longer examples are truncated"),
    F_INT("data.max_prompt_length", max_prompt_length, "512", TRN | EVL, 1, 1 << 20,
          "prompt tokens kept; a longer prompt keeps its last tokens (TRL max_prompt_length)"),
    F_INT("data.eval_size", eval_size, "0", ALL, 0, BIG,
          "eval prompts used: the first N of data.eval_file, or N generated held-out tasks; 0 = the whole file"),
    F_STR("data.template", template_name, "\"raw\"", ALL,
          "prompt template: raw, r1zero, chatml, llama3, or a string with {prompt}"),
    F_BOOL("data.completion_only_loss", completion_only_loss, "true", SFT,
           "train only on completion tokens of prompt/completion data"),
    F_BOOL("data.add_eos", add_eos, "true", SFT, "append the end-of-sequence token to each example"),
    F_BOOL("data.shuffle", shuffle, "true", SFT | TRN, "shuffle examples each epoch (seeded)"),
    /* rollout */
    F_INT("rollout.num_generations", num_generations, "8", TRN | EVL, 1, 1 << 16,
          "G: completions sampled per prompt (the group)"),
    F_DBL("rollout.temperature", temperature, "1.0", TRN | EVL, 0, 100, "sampling temperature; 0 is greedy"),
    F_DBL("rollout.top_p", top_p, "1.0", TRN | EVL, 1e-9, 1, "nucleus sampling; 1 is off"),
    F_INT("rollout.top_k", top_k, "0", TRN | EVL, 0, 1 << 30, "top-k sampling; 0 is off"),
    F_DBL("rollout.min_p", min_p, "0.0", TRN | EVL, 0, 1, "min-p sampling; 0 is off"),
    F_INT("rollout.max_completion_length", max_completion_length, "256", TRN | EVL, 1, 1 << 20,
          "tokens sampled per completion at most"),
    F_JSON("rollout.stop", stop, "[]", TRN | EVL,
           "stop strings: a completion ends right after the first one it produces (kept in the text)"),
    /* algorithm */
    F_DBL("algorithm.beta", beta, "0.0", TRN, 0, 1e6, "KL coefficient to the reference policy; 0 keeps no reference model"),
    F_ENUM("algorithm.kl_estimator", kl_estimator, "\"k3\"", TRN, "k1|k2|k3",
           "KL estimator (Schulman): k1 = log ratio, k2 = squared log ratio / 2, k3 = ratio - 1 - log ratio"),
    F_BOOL("algorithm.kl_in_reward", kl_in_reward, "false", TRN,
           "subtract beta x KL from the reward (verl use_kl_in_reward) instead of adding it to the loss"),
    F_DBL("algorithm.epsilon", epsilon, "0.2", TRN, 0, 10, "lower clip range of the importance ratio"),
    F_DBL("algorithm.epsilon_high", epsilon_high, "null", TRN, 0, 10,
          "upper clip range (DAPO clip-higher); null = epsilon"),
    F_ENUM("algorithm.importance_sampling_level", importance_sampling_level, "\"token\"", TRN, "token|sequence",
           "token ratios (GRPO) or one length-normalised ratio per sequence (GSPO)"),
    F_ENUM("algorithm.loss_type", loss_type, "\"grpo\"", TRN, "grpo|bnpo|dapo|dr_grpo",
           "loss aggregation: per-sequence token mean (grpo), token mean per micro-batch (bnpo), token mean over "
           "the global batch (dapo), token sum / max_completion_length (dr_grpo)"),
    F_ENUM("algorithm.scale_rewards", scale_rewards, "\"group\"", TRN, "group|batch|none",
           "divide advantages by the group's reward std, the batch's, or not at all (Dr. GRPO)"),
    F_BOOL("algorithm.mask_truncated_completions", mask_truncated_completions, "false", TRN,
           "leave truncated completions out of the loss (DAPO)"),
    F_DBL("algorithm.entropy_coeff", entropy_coeff, "0.0", TRN, 0, 100, "entropy bonus coefficient"),
    F_INT("algorithm.num_iterations", num_iterations, "1", TRN, 1, 1000,
          "updates per batch of rollouts (TRL num_iterations, PPO epochs)"),
    F_INT("algorithm.ref_model_sync_steps", ref_model_sync_steps, "0", TRN, 0, BIG,
          "replace the reference policy with the current one every N steps; 0 never"),
    F_BOOL("algorithm.dynamic_sampling", dynamic_sampling, "false", TRN,
           "drop groups whose rewards are all equal and draw more prompts until the batch is full (DAPO)"),
    F_INT("algorithm.max_num_gen_batches", max_num_gen_batches, "4", TRN, 1, 1000,
          "dynamic sampling: at most this many rounds of prompts per step"),
    F_BOOL("algorithm.skip_zero_advantage", skip_zero_advantage, "true", TRN,
           "with beta and entropy_coeff 0, do not run completions whose advantage is 0 through the update (they "
           "add nothing to the gradient)"),
    /* optim */
    {"optim.learning_rate", CF_DOUBLE, OFF(learning_rate, double), "2e-5", "1e-6", TRN, ALL, 0, 10, NULL,
     "peak learning rate"},
    F_DBL("optim.adam_beta1", adam_beta1, "0.9", SFT | TRN, 0, 0.999999, "AdamW beta1"),
    F_DBL("optim.adam_beta2", adam_beta2, "0.999", SFT | TRN, 0, 0.999999999, "AdamW beta2"),
    F_DBL("optim.adam_epsilon", adam_epsilon, "1e-8", SFT | TRN, 0, 1, "AdamW epsilon"),
    F_DBL("optim.weight_decay", weight_decay, "0.0", SFT | TRN, 0, 10,
          "decoupled weight decay, applied to matrices and embeddings only"),
    F_DBL("optim.max_grad_norm", max_grad_norm, "1.0", SFT | TRN, 0, BIG, "global gradient-norm clip; 0 disables"),
    F_ENUM("optim.lr_scheduler_type", lr_scheduler_type, "\"linear\"", SFT | TRN, "constant|linear|cosine",
           "learning-rate schedule after warmup"),
    F_INT("optim.warmup_steps", warmup_steps, "0", SFT | TRN, 0, BIG, "linear warmup steps (overrides warmup_ratio)"),
    F_DBL("optim.warmup_ratio", warmup_ratio, "0.0", SFT | TRN, 0, 1, "warmup as a fraction of train.steps"),
    F_DBL("optim.min_lr_ratio", min_lr_ratio, "0.0", SFT | TRN, 0, 1,
          "floor of the linear/cosine decay as a fraction of the peak"),
    /* train */
    F_INT("train.steps", steps, "100", SFT | TRN, 1, BIG,
          "sft: optimizer steps; train: GRPO steps (each one batch of rollouts and num_iterations updates)"),
    {"train.batch_size", CF_INT, OFF(batch_size, long), "8", "0", TRN, SFT | TRN, 0, BIG, NULL,
     "sft: sequences per optimizer step, summed over all ranks; train: completions per step (TRL's way; a "
     "multiple of rollout.num_generations, replacing train.prompts_per_step), 0 to use prompts_per_step"},
    F_INT("train.prompts_per_step", prompts_per_step, "8", TRN, 1, BIG,
          "prompts per step over all ranks; each brings num_generations completions"),
    F_INT("train.micro_batch_size", micro_batch_size, "8", SFT | TRN, 1, BIG,
          "sequences (sft) or completions (train) per forward/backward pass on one rank; gradient accumulation "
          "fills the batch"),
    F_INT("train.seed", seed, "42", ALL, 0, BIG, "seed of every random stream of the run"),
    F_STR("train.output_dir", output_dir, "\"runs/default\"", ALL,
          "run directory: config.json, metrics.jsonl, checkpoints/ (eval writes eval.json there)"),
    F_INT("train.save_steps", save_steps, "0", SFT | TRN, 0, BIG, "checkpoint every N steps (0: only at the end)"),
    F_INT("train.save_total_limit", save_total_limit, "0", SFT | TRN, 0, BIG,
          "keep at most N step checkpoints (0: keep all)"),
    F_INT("train.eval_steps", eval_steps, "0", SFT | TRN, 0, BIG, "evaluate every N steps (0: never)"),
    F_STR("train.resume", resume, "\"auto\"", SFT | TRN,
          "auto: continue from the newest valid checkpoint in output_dir; never; or a checkpoint path"),
    F_JSON("train.resume_allow_changes", resume_allow_changes, "[]", SFT | TRN,
           "keys a resumed run may change from the checkpoint's config, e.g. [\"optim.learning_rate\"], or "
           "[\"*\"]; how long a run goes and what it logs may always change (docs/training.md)"),
    F_BOOL("train.gradient_checkpointing", gradient_checkpointing, "false", SFT | TRN,
           "recompute each layer's activations in backward (less memory, about 1/3 more compute)"),
    F_INT("train.threads", threads, "0", ALL, 0, 4096,
          "OpenMP threads per rank; 0: the node's cores divided by the ranks on the node"),
    F_INT("train.watchdog_seconds", watchdog_seconds, "600", SFT | TRN, 0, BIG,
          "end the job, naming the rank, when a rank makes no progress for this long; 0 disables"),
    F_INT("train.checksum_steps", checksum_steps, "10", SFT | TRN, 0, BIG,
          "compare a checksum of the parameters across ranks every N steps; 0 disables"),
    /* eval */
    F_INT("eval.num_samples", eval_num_samples, "8", TRN | EVL, 1, 1 << 16,
          "k: completions sampled per eval prompt (pass@1 is their mean, pass@k and maj@k use all k)"),
    F_DBL("eval.temperature", eval_temperature, "null", TRN | EVL, 0, 100,
          "eval sampling temperature; null = rollout.temperature; 0 is greedy"),
    /* log */
    F_INT("log.logging_steps", logging_steps, "1", SFT | TRN, 1, BIG, "print and record metrics every N steps"),
    F_INT("log.log_completions", log_completions, "2", TRN, 0, BIG,
          "prompts per step whose whole group goes to completions.jsonl"),
    F_ENUM("log.progress", progress, "\"auto\"", SFT | TRN, "auto|bar|lines|none",
           "a progress bar on a terminal (auto; under mpirun, when mpirun's stderr is one), always, plain log lines, "
           "or nothing"),
    /* rewards */
    F_JSON("rewards", rewards, "[]", TRN | EVL,
           "reward functions: [{\"name\": ..., \"weight\": ..., params}] (docs/rewards.md)"),
};

static const char *const users[] = {"grpo sft", "grpo train", "grpo eval"};

/* grpo eval reads a grpo train config as it is (the training keys are
 * checked, not used). */
static const unsigned also_accepts[] = {0, 0, JOB_TRAIN};

static const CfgSchema schema = {fields, sizeof(fields) / sizeof(fields[0]), users, sizeof(users) / sizeof(users[0]),
                                 also_accepts};

const CfgSchema *jobconfig_schema(void) { return &schema; }

const char *jobconfig_kind_name(JobKind kind) {
    switch (kind) {
    case JOB_SFT: return users[0];
    case JOB_TRAIN: return users[1];
    case JOB_EVAL: return users[2];
    }
    return "?";
}

int jobconfig_load(JobConfig *job, JobKind kind, const char *path, const char *const *sets, size_t n_sets) {
    memset(job, 0, sizeof(*job));
    job->kind = kind;
    if (config_load(job, &schema, (unsigned)kind, path, NULL, sets, n_sets)) return -1;
    /* a reward's relative plugin and program paths start at the config's folder */
    reward_config_resolve_paths(job->rewards, path);
    return 0;
}

void jobconfig_free(JobConfig *job) { config_free(job, &schema); }

cJSON *jobconfig_to_json(const JobConfig *job) { return config_to_json(job, &schema, (unsigned)job->kind); }

int jobconfig_prune(cJSON *cfg, JobKind kind, const char *origin) {
    return config_prune(cfg, &schema, (unsigned)kind, origin);
}

int jobconfig_guess_kind(const char *path, JobKind *kind) {
    cJSON *root = json_read_file(path);
    if (!root) return -1;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return ERR("%s: the config must be a JSON object", path);
    }
    int train = cJSON_GetObjectItemCaseSensitive(root, "rewards") || cJSON_GetObjectItemCaseSensitive(root, "rollout") ||
                cJSON_GetObjectItemCaseSensitive(root, "algorithm");
    *kind = train ? JOB_TRAIN : JOB_SFT;
    cJSON_Delete(root);
    return 0;
}
