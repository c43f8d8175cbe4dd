/*
 * advantage.h: group-relative advantages (GRPO, Shao et al. 2024, eq. 3):
 * every completion of a prompt's group is scored against the group,
 *
 *     A_i = (r_i - mean(r_group)) / (std + 1e-4)      scale_rewards "group"
 *     A_i = (r_i - mean(r_group)) / (std_batch + 1e-4) scale_rewards "batch"
 *     A_i =  r_i - mean(r_group)                      scale_rewards "none" (Dr. GRPO)
 *
 * with the sample (N-1) standard deviation as TRL's GRPOTrainer takes it.
 * A group whose rewards are all equal gets zero advantages and is counted
 * (frac_reward_zero_std). Not for: rewards themselves (reward/), gathering
 * batch-wide numbers across ranks (the caller reduces
 * advantage_batch_moments and passes the std in).
 */
#ifndef GRPO_ADVANTAGE_H
#define GRPO_ADVANTAGE_H

#include <stddef.h>

typedef enum { SCALE_GROUP = 0, SCALE_BATCH = 1, SCALE_NONE = 2 } ScaleRewards;

/* "group", "batch", "none" -> the enum; -1 if unknown. */
int scale_rewards_parse(const char *name);

#define ADVANTAGE_STD_EPS 1e-4

/* The rewards' sum and sum of squares (to reduce across ranks for the batch
 * std), n values. */
void advantage_batch_moments(const double *r, size_t n, double out[2]);
/* The sample standard deviation of n values from their sum and sum of
 * squares (0 when n < 2). */
double advantage_std(double sum, double sumsq, double n);

/* Advantages of n_groups groups of G rewards each, laid out group after
 * group: adv[g*G + j]. batch_std is used with SCALE_BATCH only. Returns how
 * many groups have all rewards equal (their advantages are exactly 0). G = 1
 * gives zero advantages (a group of one has nothing to compare with). */
size_t advantage_compute(const double *r, size_t n_groups, size_t G, ScaleRewards scale, double batch_std,
                         float *adv);

/* True when every reward of the group of G at r is the same. */
int advantage_group_flat(const double *r, size_t G);

#endif
