/*
 * sft.h: `grpo sft`: supervised next-token training (see sft.c).
 */
#ifndef GRPO_SFT_H
#define GRPO_SFT_H

#include "dist.h"
#include "jobconfig.h"

/* Runs the job on every rank; returns 0 or -1 with err_msg() set (the same
 * outcome on every rank). */
int sft_run(const JobConfig *job, const Dist *d);

#endif
