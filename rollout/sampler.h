/*
 * sampler.h: choosing the next token from one row of logits: greedy,
 * temperature, top-k, top-p (nucleus) and min-p, applied in the order and
 * with the semantics of Hugging Face transformers' generate() (the same
 * order vLLM uses):
 *
 *   1. temperature T: z / T. T = 0 is greedy: exactly the argmax (ties go
 *      to the lowest id); the other options and the RNG are then unused.
 *   2. top_k (0 = off): keep tokens whose logit is >= the k-th largest
 *      (tokens tied with it are kept, as HF's TopKLogitsWarper does).
 *   3. top_p (1 = off): over the tokens left, renormalised, keep the
 *      smallest prefix of the order (probability descending, id ascending)
 *      whose mass reaches top_p: a token is kept iff the mass ranked above
 *      it is < top_p. The most likely token is always kept.
 *   4. min_p (0 = off): drop tokens whose probability is < min_p times the
 *      most likely token's.
 *   5. draw from the kept tokens in proportion to exp(z / T), with one
 *      uniform double from the caller's Rng.
 *
 * Two log-probs are reported with the token: the model's own, the
 * log-softmax of the raw logits (temperature 1, no truncation), and the
 * log-softmax of the logits divided by T (no truncation), which is what the
 * GRPO trainer computes for the same token (as TRL does).
 * Not for: logits processors that need the sequence (repetition penalty),
 * beam search, the LM head itself.
 *
 *     SamplerConfig sc = {0.7f, 20, 0.95f, 0.0f};
 *     Sampler s; sampler_init(&s, V);
 *     float lp, lpt; int tok = sampler_sample(&s, &sc, logits, &rng, &lp, &lpt);
 *     sampler_free(&s);
 */
#ifndef GRPO_SAMPLER_H
#define GRPO_SAMPLER_H

#include "common/rng.h"

typedef struct {
    float temperature; /* >= 0; 0 = greedy */
    int top_k;         /* >= 0; 0 = off */
    float top_p;       /* (0, 1]; 1 = off */
    float min_p;       /* [0, 1]; 0 = off */
} SamplerConfig;

/* Checks ranges; the message names the option and its valid range, with
 * `what` as the prefix (e.g. "rollout"). */
int sampler_config_check(const SamplerConfig *c, const char *what);

/* Scratch for one row of V logits (one Sampler per thread). */
typedef struct {
    int V;
    float *w;  /* (V) exp((z - max) / T) */
    float *sel; /* (V) copy for top-k selection */
    int *idx;  /* (V) ids of top-p's boundary bucket */
    double *bucket_mass; /* top-p's mass histogram */
} Sampler;

void sampler_init(Sampler *s, int V);
void sampler_free(Sampler *s);

/* Returns the chosen token id for logits (s->V) and writes its log-prob at
 * temperature 1 to *logp and at temperature T to *logp_t (nullable; equal
 * to *logp when T is 0 or 1). Greedy draws nothing from rng; otherwise
 * exactly one rng_uniform_double per call, so a stream's k-th token uses
 * its k-th draw. Logits must be finite. */
int sampler_sample(Sampler *s, const SamplerConfig *c, const float *logits, Rng *rng, float *logp, float *logp_t);

#endif
