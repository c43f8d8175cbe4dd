/*
 * grpo.h: the public C API of libgrpo, installed as <grpo/grpo.h>: open a
 * model, tokenize, sample completions, score a completion's log-probs,
 * score completions with reward functions, and run a training job. Plain
 * C types and opaque handles only; nothing else of grpo.c is exported.
 * Not for: writing reward plugins (<grpo/reward/reward_plugin.h>, which
 * this header includes for the reward input and output types), or the
 * internals (tensors, the trainer's loop): those are the `grpo` command's.
 * docs/library.md is the guide.
 *
 *     GrpoModel *m;
 *     if (grpo_model_open(&m, "Qwen3-0.6B")) {
 *         fprintf(stderr, "%s\n", grpo_last_error());
 *         return 1;
 *     }
 *     GrpoSamplingOptions opt;
 *     grpo_sampling_defaults(&opt);
 *     opt.num_generations = 4;
 *     GrpoCompletion *c;
 *     if (grpo_generate(m, &opt, "What is 2+3?", "chatml", &c) == 0) {
 *         for (int i = 0; i < opt.num_generations; i++) puts(c[i].text);
 *         grpo_completions_free(c, opt.num_generations);
 *     }
 *     grpo_model_free(m);
 *
 * Conventions, for every function below:
 * - A function that can fail returns 0 on success, or -1 after recording a
 *   message for grpo_last_error(); on failure its output arguments are
 *   left NULL / zero and nothing is left allocated.
 * - What the library hands out (arrays, strings, handles) belongs to the
 *   caller, who releases it with the function named in its contract.
 *   Strings the caller passes in are borrowed for the call only.
 * - Text is UTF-8 or any bytes; token ids are the model's vocabulary ids.
 * - Running out of memory, and a broken internal invariant, end the process
 *   with a message on stderr (file:line); nothing else does.
 * - The work runs on OpenMP threads (OMP_NUM_THREADS sets how many).
 *   A handle serves one call at a time unless its contract says otherwise;
 *   separate handles are independent.
 * - Fields may be added to the option structs in a minor release; start
 *   from the _defaults function so that code keeps compiling. The library's
 *   binary interface is the SONAME's (libgrpo.so.0) within one minor
 *   version.
 */
#ifndef GRPO_API_H
#define GRPO_API_H

#include <stddef.h>
#include <stdint.h>

#include "reward/reward_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GRPO_VERSION_MAJOR 0
#define GRPO_VERSION_MINOR 1
#define GRPO_VERSION_PATCH 0
#define GRPO_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define GRPO_API __attribute__((visibility("default")))
#else
#define GRPO_API
#endif

/* ---- the library ---- */

/* The version of the libgrpo that is loaded, e.g. "0.1.0" (a static
 * string). It can differ from GRPO_VERSION_STRING, which is the version of
 * the header the caller was compiled against. */
GRPO_API const char *grpo_version(void);

/* The message of the last call that failed on the calling thread, naming
 * what was at fault and what to do (e.g. "m/config.json: ..."). Valid until
 * the next grpo_ call on this thread; "" if nothing has failed yet. A
 * successful call does not clear it, so read it only after a -1. */
GRPO_API const char *grpo_last_error(void);

enum { GRPO_LOG_QUIET = 0, GRPO_LOG_INFO = 1, GRPO_LOG_DEBUG = 2 };

/* How much the library prints to stderr: GRPO_LOG_INFO (the default:
 * progress of jobs, warnings, the sandbox's start-up report),
 * GRPO_LOG_QUIET (nothing but fatal errors) or GRPO_LOG_DEBUG. One
 * setting for the whole process; set it before starting work on other
 * threads. */
GRPO_API void grpo_set_log_level(int level);

/* Releases an array or string the library handed out (token ids, text,
 * log-probs). NULL is fine. */
GRPO_API void grpo_free(void *p);

/* ---- models ---- */

/* A model's weights and its tokenizer. */
typedef struct GrpoModel GrpoModel;

/* Opens the model at path: an HF model directory (config.json,
 * model.safetensors or sharded model-*.safetensors with their index,
 * tokenizer.json) or a grpo .h5 checkpoint (which carries its
 * tokenizer). The weights are read into memory as fp32. A model without a
 * tokenizer.json, an architecture grpo does not implement, or a damaged
 * file fails with a message naming the file. On success *out is a new
 * handle (release with grpo_model_free); on failure it is NULL. */
GRPO_API int grpo_model_open(GrpoModel **out, const char *path);

/* Releases the model and its tokenizer. NULL is fine. */
GRPO_API void grpo_model_free(GrpoModel *m);

/* Size of the model's vocabulary (rows of its embedding matrix; may exceed
 * the tokenizer's number of ids). */
GRPO_API int grpo_model_vocab_size(const GrpoModel *m);

/* Number of parameters (tied input and output embeddings count once). */
GRPO_API size_t grpo_model_n_params(const GrpoModel *m);

/* The longest sequence the model takes: prompt plus completion tokens
 * (its max_position_embeddings). */
GRPO_API int grpo_model_context_length(const GrpoModel *m);

/* ---- tokens ---- */

/* Tokenizes len bytes of text (any bytes: NULs and invalid UTF-8 are
 * fine) with the model's tokenizer, as HF tokenizers does with
 * add_special_tokens=False: nothing is added. With match_special = 1,
 * special tokens written in the text (<|im_start|>) become their ids; with
 * 0 their text is tokenized as ordinary text. *ids is a new array of *n ids
 * (release with grpo_free; not NULL even when *n is 0). Safe to call from
 * several threads at once on one model. */
GRPO_API int grpo_tokenize(const GrpoModel *m, const char *text, size_t len, int match_special, int **ids,
                           size_t *n);

/* The text of n token ids: the concatenation of each token's bytes (the
 * tokenized text itself unless the tokenizer normalizes, e.g. to NFC).
 * With skip_special = 1 special tokens are left out. *text is a new NUL-terminated string (release with
 * grpo_free) of *len bytes (len may be NULL), which may hold NULs or
 * invalid UTF-8 when the ids spell them. An id outside the vocabulary
 * fails. Safe to call from several threads at once on one model. */
GRPO_API int grpo_detokenize(const GrpoModel *m, const int *ids, size_t n, int skip_special, char **text,
                             size_t *len);

/* ---- sampling ---- */

/* How grpo_generate samples; names and meanings as in TRL's GRPOConfig
 * and the job config's "rollout" section (docs/rollout.md). */
typedef struct {
    int num_generations;       /* completions to sample (>= 1) */
    float temperature;         /* >= 0; 0 = greedy */
    float top_p;               /* (0, 1]; 1 = off */
    int top_k;                 /* >= 0; 0 = off */
    float min_p;               /* [0, 1]; 0 = off */
    int max_completion_length; /* >= 1 new tokens per completion */
    const char *const *stop;   /* n_stop non-empty stop strings (borrowed), or NULL */
    int n_stop;
    uint64_t seed;  /* same model, prompt, options and seed: same completions */
    int ignore_eos; /* 1: end-of-sequence ids do not end a completion */
} GrpoSamplingOptions;

/* Fills *o with the defaults of `grpo generate`: 1 completion,
 * temperature 1, top_p 1, top_k 0, min_p 0, 256 new tokens, no stop
 * strings, seed 42, ignore_eos 0. */
GRPO_API void grpo_sampling_defaults(GrpoSamplingOptions *o);

/* One sampled completion. ids[0..n_tokens) are the sampled tokens,
 * including a final end-of-sequence token; logprobs[t] is the log-prob of
 * ids[t] under the model (log-softmax of the raw logits at temperature 1,
 * whatever the sampling options; always <= 0). text is the tokens' bytes
 * without a final end-of-sequence token, cut right after the stop string
 * that ended the sample; NUL-terminated, text_len bytes (it may hold
 * NULs). */
typedef struct {
    char *text;
    size_t text_len;
    int *ids;
    float *logprobs;
    int n_tokens;
    int finish_reason; /* GRPO_FINISH_EOS, GRPO_FINISH_STOP or GRPO_FINISH_LENGTH (truncated) */
} GrpoCompletion;

/* Samples o->num_generations completions of prompt (o NULL: the defaults
 * of grpo_sampling_defaults) with the engine the trainer's rollouts use.
 * template_name renders the prompt first ("r1zero", "chatml", "llama3",
 * "raw", or a custom string with {prompt}; docs/config.md); NULL uses the
 * prompt as given. Special tokens written in the rendered prompt are
 * matched. The prompt must have at least one token and leave room in the
 * context: a completion that reaches the context length ends with
 * GRPO_FINISH_LENGTH. Invalid options fail with a message naming the
 * option and its range. *out is a new array of o->num_generations
 * completions in sample order (release with grpo_completions_free). */
GRPO_API int grpo_generate(const GrpoModel *m, const GrpoSamplingOptions *o, const char *prompt,
                           const char *template_name, GrpoCompletion **out);

/* Releases n completions returned by grpo_generate and the array. NULL is
 * fine. */
GRPO_API void grpo_completions_free(GrpoCompletion *c, int n);

/* ---- scoring ---- */

/* The log-prob of each token of completion after prompt under the model,
 * computed by the forward pass the trainer uses (log-softmax at
 * temperature 1). prompt (rendered with template_name unless it is NULL)
 * and completion are tokenized separately, special tokens matched, and
 * their ids concatenated, as the trainer sees a prompt and a sampled
 * completion; this can differ from tokenizing them as one string at the
 * seam. Both must be non-empty and fit the context together. *logprobs is
 * a new array of *n values (release with grpo_free); ids (may be NULL)
 * receives the completion's *n token ids likewise. */
GRPO_API int grpo_score(const GrpoModel *m, const char *prompt, const char *template_name, const char *completion,
                        float **logprobs, int **ids, size_t *n);

/* ---- rewards ---- */

/* A configured set of reward functions (docs/rewards.md): the built-in
 * kinds, plugins and external programs, with their weights. */
typedef struct GrpoRewards GrpoRewards;

/* Builds the reward functions described by rewards_json: the JSON text of
 * a job config's "rewards" array, e.g.
 * [{"name": "format", "weight": 0.2}, {"name": "math_accuracy"}], or of a
 * whole job config object holding one (its other sections are ignored).
 * Errors name the key at fault ("rewards[1].mode: ...") and the valid
 * choices. On success *out is a new handle (release with
 * grpo_rewards_free). */
GRPO_API int grpo_rewards_new(GrpoRewards **out, const char *rewards_json);

/* Releases the functions (stopping external programs and sandboxes).
 * NULL is fine. */
GRPO_API void grpo_rewards_free(GrpoRewards *r);

/* Number of functions in the set. */
GRPO_API size_t grpo_rewards_count(const GrpoRewards *r);

/* The label of function f (its "label", else its "name"), as the logs
 * show it; owned by r. NULL if f is out of range. */
GRPO_API const char *grpo_rewards_label(const GrpoRewards *r, size_t f);

/* Scores n completions with every function, as a training step does.
 * in[i] (GrpoRewardInput of reward_plugin.h) gives the prompt (NULL is
 * ""), the completion (required), the dataset line as JSON text with
 * "answer", "tests", ... (NULL or "null" when there is none), the length
 * in tokens (-1 if unknown) and the finish reason. total[i] receives the
 * weighted sum over the functions that scored completion i, with
 * has_score = 0 when none did. per (may be NULL; F = grpo_rewards_count
 * entries per completion) receives function f's own score of completion i
 * at per[f * n + i], has_score = 0 meaning "no score". A bad completion
 * gets a low score or "no score", never a failure; the call fails on
 * malformed input (invalid example_json, an unknown finish reason) or when
 * a function itself breaks (a dead external program). */
GRPO_API int grpo_rewards_score(GrpoRewards *r, const GrpoRewardInput *in, size_t n, GrpoRewardOutput *total,
                                GrpoRewardOutput *per);

/* ---- jobs ---- */

/* Runs a training job as the `grpo` command would: command "train"
 * (GRPO, what `grpo train` runs) or "sft" (`grpo sft`), with the job
 * config at config_path (NULL: the built-in defaults) and n_sets overrides
 * such as "train.steps=10" (`--set` of the command line). Paths in the
 * config are relative to the working directory. Writes the run directory
 * (train.output_dir) and prints progress at GRPO_LOG_INFO; returns when
 * the job ends. An unknown command, an invalid config or a failed run
 * returns -1 with the message. MPI: a program started without a launcher
 * runs the job as one process and never touches MPI. A program started by
 * mpirun or srun runs it data-parallel across its ranks: every rank calls
 * grpo_run_job with the same arguments, the library initialises MPI and
 * finalizes it before returning, so such a program must not use MPI itself
 * and can run one job per process (a second call fails). */
GRPO_API int grpo_run_job(const char *command, const char *config_path, const char *const *sets, size_t n_sets);

#ifdef __cplusplus
}
#endif

#endif
