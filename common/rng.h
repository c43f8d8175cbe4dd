/*
 * rng.h: counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
 * A stream is named by (seed, step, prompt, sample); draw k of a stream is a
 * pure function of those five numbers, so results do not depend on how work
 * is split across ranks or threads (docs/architecture.md, Determinism).
 * Not for: cryptography.
 *
 *     Rng r; rng_init(&r, seed, step, prompt_idx, sample_idx);
 *     float u = rng_uniform(&r);        // [0, 1)
 *
 * The whole state is the struct below (plain data), so it can be saved in a
 * checkpoint and restored bit for bit.
 */
#ifndef GRPO_RNG_H
#define GRPO_RNG_H

#include <stdint.h>

typedef struct {
    uint32_t key[2];  /* from seed */
    uint32_t ctr[4];  /* [0] block counter, [1] sample, [2] prompt, [3] step */
    uint32_t buf[4];  /* current block */
    int used;         /* words of buf consumed (4 = empty) */
} Rng;

/* Philox4x32-10 block function: out = philox(ctr, key). */
void philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

void rng_init(Rng *r, uint64_t seed, uint32_t step, uint32_t prompt, uint32_t sample);

/* The named streams. Every random draw of grpo.c comes from one of these,
 * so no two purposes ever share draws (docs/architecture.md,
 * Determinism). The ordinary slots (step, prompt, sample) belong to
 * rollout sampling; every other stream puts a reserved key in one slot,
 * far above any prompt index or step a run reaches:
 *
 *   rollout sample g of prompt i at step s   (seed, s, i, g)
 *   weight initialisation, tensor t, chunk c (seed, RNG_STEP_INIT, t, c)
 *   eval sample g of eval prompt i           (seed, RNG_STEP_EVAL, i, g)
 *   SFT example order in epoch e             (seed, e, RNG_PROMPT_SFT_SHUFFLE, 0)
 *   GRPO prompt order in epoch e             (seed, e, RNG_PROMPT_GRPO_SHUFFLE, 0)
 *   math grader test point k                 (RNG_SEED_MATH_POINTS, 0, k, 0)
 *   task generator example i of split s      (seed, RNG_STEP_TASK_<KIND>, i, s)  (data/taskgen.h)
 */
enum {
    RNG_STEP_INIT = 0xFFFFFFFFu,          /* step slot: model_init_random */
    RNG_STEP_EVAL = 0xFFFFFFFEu,          /* step slot: evaluation samples (trainer/eval.c) */
    RNG_PROMPT_SFT_SHUFFLE = 0x5F7D47A0u, /* prompt slot: the SFT epoch permutation */
    RNG_PROMPT_GRPO_SHUFFLE = 0x5F7D47A1u, /* prompt slot: the GRPO epoch permutation */
    RNG_STEP_TASK_ARITH = 0x61726974u,     /* step slot: the arith generator ("arit") */
    RNG_STEP_TASK_COUNTDOWN = 0x636e7464u, /* step slot: the countdown generator ("cntd") */
    RNG_STEP_TASK_CORPUS = 0x636f7270u,    /* step slot: the corpus generator ("corp") */
};
#define RNG_SEED_MATH_POINTS 0x6d617468u /* "math": the grader's fixed evaluation points */
uint32_t rng_u32(Rng *r);
uint64_t rng_u64(Rng *r);
/* Uniform in [0, 1) with 24 random bits (exactly representable floats). */
float rng_uniform(Rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double rng_uniform_double(Rng *r);
/* Standard normal (Box-Muller on two doubles). */
double rng_normal(Rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t rng_below(Rng *r, uint32_t n);

#endif
