/*
 * dist.c: the MPI wrapper (dist.h).
 */
#define _GNU_SOURCE
#include "dist.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"

static const Dist *g_dist;

static void mpi_check(int rc, const char *call, const char *file, int line) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fprintf(stderr, "grpo: MPI error on %s rank %d: %s failed: %s (%s:%d)\n", g_dist ? g_dist->host : "?",
            g_dist ? g_dist->rank : -1, call, msg, file, line);
    MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}
#define MPI_CHECK(call) mpi_check((call), #call, __FILE__, __LINE__)

static int launched_by_mpi(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK", "MV2_COMM_WORLD_SIZE",
                                 "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        if (getenv(vars[i])) return 1;
    const char *ntasks = getenv("SLURM_NTASKS");
    return getenv("SLURM_STEP_ID") && ntasks && atoi(ntasks) > 1;
}

void dist_init(Dist *d, int *argc, char ***argv) {
    memset(d, 0, sizeof(*d));
    d->world = 1;
    gethostname(d->host, sizeof(d->host) - 1);
    g_dist = d;
    if (!launched_by_mpi()) return;
    int provided = 0;
    MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &d->rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &d->world));
    d->mpi = 1;
}

void dist_finalize(Dist *d) {
    if (d->mpi) MPI_Finalize();
    d->mpi = 0;
}

static void sum(const Dist *d, void *buf, size_t n, MPI_Datatype type, size_t elem) {
    if (!d->mpi || d->world == 1) return;
    char *p = buf;
    while (n > 0) {
        int count = n > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, p, count, type, MPI_SUM, MPI_COMM_WORLD));
        p += (size_t)count * elem;
        n -= (size_t)count;
    }
}

void dist_sum_f32(const Dist *d, float *buf, size_t n) { sum(d, buf, n, MPI_FLOAT, sizeof(float)); }
void dist_sum_f64(const Dist *d, double *buf, size_t n) { sum(d, buf, n, MPI_DOUBLE, sizeof(double)); }

int dist_all_ok(const Dist *d, int ok) {
    int v = ok ? 1 : 0;
    if (d->mpi && d->world > 1) MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    return v;
}

void dist_bcast(const Dist *d, void *buf, size_t n) {
    if (!d->mpi || d->world == 1) return;
    char *p = buf;
    while (n > 0) {
        int count = n > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        MPI_CHECK(MPI_Bcast(p, count, MPI_BYTE, 0, MPI_COMM_WORLD));
        p += count;
        n -= (size_t)count;
    }
}

void dist_barrier(const Dist *d) {
    if (d->mpi && d->world > 1) MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

void dist_abort(const Dist *d, int code) {
    fflush(stdout);
    fflush(stderr);
    if (d->mpi && d->world > 1) MPI_Abort(MPI_COMM_WORLD, code);
    if (d->mpi) MPI_Finalize();
    exit(code);
}
