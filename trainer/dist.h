/*
 * dist.h: the one small wrapper around MPI. Everything else in grpo.c
 * builds and tests without mpirun: a job started without a launcher runs
 * as world size 1 and never calls MPI at all.
 * Not for: deciding what to reduce (the trainers do).
 *
 * Every MPI call is checked; a failure prints the host, rank and file:line
 * and aborts the whole job (MPI_Abort), since ranks cannot recover apart.
 */
#ifndef GRPO_DIST_H
#define GRPO_DIST_H

#include <stddef.h>

typedef struct {
    int rank, world;
    int mpi; /* 1 if MPI was initialised */
    char host[64];
} Dist;

/* Initialises MPI if the process was started by mpirun/mpiexec/srun (seen
 * from the launcher's environment variables), else sets world = 1. */
void dist_init(Dist *d, int *argc, char ***argv);
void dist_finalize(Dist *d);

/* In-place sums across ranks (no-ops at world size 1). */
void dist_sum_f32(const Dist *d, float *buf, size_t n);
void dist_sum_f64(const Dist *d, double *buf, size_t n);
/* Returns 1 on every rank iff ok is non-zero on every rank: ranks agree
 * before they branch on an error. */
int dist_all_ok(const Dist *d, int ok);
/* Broadcasts n bytes from rank 0. */
void dist_bcast(const Dist *d, void *buf, size_t n);
void dist_barrier(const Dist *d);
/* Ends the whole job with exit code `code` (MPI_Abort under MPI). */
void dist_abort(const Dist *d, int code) __attribute__((noreturn));

#endif
