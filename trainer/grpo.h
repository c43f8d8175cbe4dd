/*
 * grpo.h: `grpo train`: GRPO over MPI ranks with exact resume (grpo.c).
 * Not for: the loss terms (grpo_loss.h), advantages (advantage.h), what
 * every trainer shares (session.h).
 */
#ifndef GRPO_GRPO_H
#define GRPO_GRPO_H

#include "trainer/dist.h"
#include "trainer/jobconfig.h"

/* Runs the job on every rank; returns 0 or -1 with err_msg() set (the same
 * outcome on every rank). */
int grpo_run(const JobConfig *job, const Dist *d);

#endif
