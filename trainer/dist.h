/*
 * dist.h: the one small wrapper around MPI. Everything else in grpo.c
 * builds and tests without mpirun: a job started without a launcher runs
 * as world size 1 and never calls MPI at all.
 * Not for: deciding what to reduce (the trainers do).
 *
 * Every MPI call is checked; a failure prints the host, rank and file:line
 * and aborts the whole job (MPI_Abort), since ranks cannot recover apart.
 *
 * The watchdog. Collectives are started non-blocking and waited for in a
 * loop that also watches the clock: when a rank has waited longer than the
 * watchdog's limit for the others, the job ends (exit 1) with a message
 * naming the rank(s) that never arrived, the step and phase they were last
 * seen in, and their host and pid. Rank 0 tells who is missing: every rank
 * reports each collective it enters to rank 0 on a separate communicator,
 * and again every eighth of the limit while it waits in one, so a rank
 * stopped inside a collective is named too (its reports stopped); the other
 * ranks wait a little longer, so rank 0 speaks first unless it is the one
 * that stopped. A rank killed outright is the launcher's to notice
 * (mpirun ends the job when a process dies). While waiting, a rank yields
 * its core after a short spin, so an idle rank does not starve busy ones.
 */
#ifndef GRPO_DIST_H
#define GRPO_DIST_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int rank, world;
    int mpi; /* 1 if MPI was initialised */
    char host[64];
} Dist;

/* Initialises MPI if the process was started by mpirun/mpiexec/srun (seen
 * from the launcher's environment variables), else sets world = 1. */
void dist_init(Dist *d, int *argc, char ***argv);
void dist_finalize(Dist *d);

/* Ranks on this rank's node (1 without MPI). */
int dist_local_size(const Dist *d);

/* Sets the watchdog's limit in seconds (0 disables it; the default). */
void dist_set_watchdog(const Dist *d, double seconds);
/* Records what this rank is doing, for the watchdog's messages: the
 * 1-based step and a short phase name ("rollout", "train", ...; a string
 * literal, kept by pointer). */
void dist_set_phase(const Dist *d, long step, const char *phase);

/* In-place sums across ranks (no-ops at world size 1). */
void dist_sum_f32(const Dist *d, float *buf, size_t n);
void dist_sum_f64(const Dist *d, double *buf, size_t n);
/* In-place maximum across ranks. */
void dist_max_f64(const Dist *d, double *buf, size_t n);
/* Returns 1 on every rank iff ok is non-zero on every rank: ranks agree
 * before they branch on an error. */
int dist_all_ok(const Dist *d, int ok);
/* Returns 1 on every rank iff v is the same on every rank. */
int dist_all_same(const Dist *d, uint64_t v);
/* Broadcasts n bytes from rank 0. */
void dist_bcast(const Dist *d, void *buf, size_t n);
void dist_barrier(const Dist *d);
/* Ends the whole job with exit code `code` (MPI_Abort under MPI). */
void dist_abort(const Dist *d, int code) __attribute__((noreturn));

/* Non-blocking in-place float sums, for overlapping the gradient all-reduce
 * with the backward pass: start one per bucket as its gradients are ready,
 * call dist_poll now and then while computing (MPI progresses only inside
 * MPI calls), then dist_wait_all. At world size 1 nothing is started. */
typedef struct {
    void *reqs;  /* MPI_Request[cap] */
    int n, cap;
    double waited; /* seconds spent in dist_wait_all */
} DistPending;

void dist_isum_f32(const Dist *d, DistPending *p, float *buf, size_t n);
void dist_poll(const Dist *d, DistPending *p);
void dist_wait_all(const Dist *d, DistPending *p);
void dist_pending_free(DistPending *p);

#endif
