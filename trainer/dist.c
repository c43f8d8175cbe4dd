/*
 * dist.c: the MPI wrapper and its watchdog (dist.h).
 * Not for: what is reduced, or when (the trainers).
 *
 * State kept here, once per process (a process has one Dist): the
 * heartbeat communicator, the count of collectives entered, this rank's
 * step and phase, every rank's host and pid, and on rank 0 the last
 * heartbeat of every rank.
 */
#define _GNU_SOURCE
#include "dist.h"

#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* ---- watchdog state ---- */

enum { PHASE_LEN = 24, SEND_RING = 16, BEAT_PARTS = 8 };

/* What a rank reports to rank 0 as it enters a collective, and again every
 * W.limit / BEAT_PARTS seconds while it waits in one. */
typedef struct {
    long seq;  /* collectives entered so far, this one included */
    long step; /* the step it is in */
    char phase[PHASE_LEN];
} Beat;

typedef struct {
    char host[64];
    long pid;
} Peer;

static struct {
    MPI_Comm comm;    /* heartbeats travel here, apart from the job's own messages */
    double limit;     /* seconds; 0: off */
    long seq;         /* collectives this rank entered */
    long step;
    const char *phase;
    Peer *peers;      /* [world] */
    /* rank 0 */
    Beat *last;       /* [world] newest beat of each rank */
    double *last_at;  /* [world] when it came */
    Beat *rbuf;       /* [world] receive buffers */
    MPI_Request *rreq; /* [world] one posted receive per other rank */
    /* other ranks */
    Beat sbuf[SEND_RING];
    MPI_Request sreq[SEND_RING];
    int snext;
    int local_size;
} W;

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
    W.local_size = 1;
    W.phase = "start";
    if (!launched_by_mpi()) return;
    int provided = 0;
    MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &d->rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &d->world));
    d->mpi = 1;
    MPI_Comm node;
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &node));
    MPI_CHECK(MPI_Comm_size(node, &W.local_size));
    MPI_CHECK(MPI_Comm_free(&node));
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &W.comm));
    W.peers = xcalloc((size_t)d->world, sizeof(Peer));
    Peer me = {.pid = (long)getpid()};
    snprintf(me.host, sizeof(me.host), "%s", d->host);
    MPI_CHECK(MPI_Allgather(&me, (int)sizeof(Peer), MPI_BYTE, W.peers, (int)sizeof(Peer), MPI_BYTE, MPI_COMM_WORLD));
    if (d->rank == 0) {
        W.last = xcalloc((size_t)d->world, sizeof(Beat));
        W.last_at = xcalloc((size_t)d->world, sizeof(double));
        W.rbuf = xcalloc((size_t)d->world, sizeof(Beat));
        W.rreq = xmalloc((size_t)d->world * sizeof(MPI_Request));
        double now = now_seconds();
        for (int r = 0; r < d->world; r++) {
            snprintf(W.last[r].phase, PHASE_LEN, "start");
            W.last_at[r] = now;
            W.rreq[r] = MPI_REQUEST_NULL;
            if (r > 0)
                MPI_CHECK(MPI_Irecv(&W.rbuf[r], (int)sizeof(Beat), MPI_BYTE, r, 0, W.comm, &W.rreq[r]));
        }
    } else {
        for (int i = 0; i < SEND_RING; i++) W.sreq[i] = MPI_REQUEST_NULL;
    }
}

void dist_finalize(Dist *d) {
    if (d->mpi) {
        if (d->rank == 0) {
            for (int r = 1; r < d->world; r++)
                if (W.rreq[r] != MPI_REQUEST_NULL) {
                    MPI_Cancel(&W.rreq[r]);
                    MPI_Request_free(&W.rreq[r]);
                }
        } else {
            MPI_Waitall(SEND_RING, W.sreq, MPI_STATUSES_IGNORE);
        }
        MPI_Comm_free(&W.comm);
        MPI_Finalize();
    }
    free(W.peers);
    free(W.last);
    free(W.last_at);
    free(W.rbuf);
    free(W.rreq);
    W.peers = NULL;
    W.last = W.rbuf = NULL;
    W.last_at = NULL;
    W.rreq = NULL;
    d->mpi = 0;
}

int dist_local_size(const Dist *d) { return d->mpi ? W.local_size : 1; }

void dist_set_watchdog(const Dist *d, double seconds) { W.limit = d->mpi && d->world > 1 ? seconds : 0; }

void dist_set_phase(const Dist *d, long step, const char *phase) {
    W.step = step;
    W.phase = phase;
}

/* Rank 0: takes in the heartbeats that arrived. */
static void take_beats(const Dist *d) {
    for (int r = 1; r < d->world; r++) {
        int done = 1;
        while (done && W.rreq[r] != MPI_REQUEST_NULL) {
            MPI_CHECK(MPI_Test(&W.rreq[r], &done, MPI_STATUS_IGNORE));
            if (!done) break;
            W.last[r] = W.rbuf[r];
            W.last_at[r] = now_seconds();
            MPI_CHECK(MPI_Irecv(&W.rbuf[r], (int)sizeof(Beat), MPI_BYTE, r, 0, W.comm, &W.rreq[r]));
        }
    }
}

/* A rank other than 0: tells rank 0 where it is (a dropped heartbeat, when
 * the ring is full, only delays a diagnosis). */
static void send_beat(void) {
    int slot = W.snext;
    int free_slot = 1;
    if (W.sreq[slot] != MPI_REQUEST_NULL) MPI_CHECK(MPI_Test(&W.sreq[slot], &free_slot, MPI_STATUS_IGNORE));
    if (!free_slot) return;
    W.sbuf[slot] = (Beat){.seq = W.seq, .step = W.step};
    snprintf(W.sbuf[slot].phase, PHASE_LEN, "%s", W.phase);
    MPI_CHECK(MPI_Isend(&W.sbuf[slot], (int)sizeof(Beat), MPI_BYTE, 0, 0, W.comm, &W.sreq[slot]));
    W.snext = (slot + 1) % SEND_RING;
}

/* Enters a collective: counts it and tells rank 0. */
static void enter_collective(const Dist *d) {
    W.seq++;
    if (d->rank == 0) {
        W.last[0].seq = W.seq;
        W.last[0].step = W.step;
        snprintf(W.last[0].phase, PHASE_LEN, "%s", W.phase);
        W.last_at[0] = now_seconds();
        take_beats(d);
        return;
    }
    send_beat();
}

/* Ends the job: the watchdog fired. */
__attribute__((noreturn)) static void watchdog_fire(const Dist *d, double waited) {
    if (d->rank == 0) {
        take_beats(d);
        int n_missing = 0;
        double now = now_seconds();
        for (int r = 1; r < d->world; r++) {
            if (W.last[r].seq >= W.seq) continue;
            n_missing++;
            fprintf(stderr,
                    "grpo: watchdog: rank %d (%s, pid %ld) has not reached step %ld's %s after %.0f s (train.watchdog_"
                    "seconds = %.0f); it was last seen %.0f s ago in step %ld, %s; it may be stopped, stuck or much "
                    "slower than the others. Ending the job.\n",
                    r, W.peers[r].host, W.peers[r].pid, W.step, W.phase, waited, W.limit, now - W.last_at[r],
                    W.last[r].step, W.last[r].phase);
        }
        /* Every rank arrived: one whose beats stopped while it waited was
         * stopped or stuck inside the collective (a waiting rank beats every
         * W.limit / BEAT_PARTS s: silent for a quarter of the limit is 2 beats
         * missed). */
        int n_silent = 0;
        for (int r = 1; r < d->world && !n_missing; r++) {
            if (now - W.last_at[r] <= W.limit / 4) continue;
            n_silent++;
            fprintf(stderr,
                    "grpo: watchdog: rank %d (%s, pid %ld) reached step %ld's %s but has been silent for %.0f s "
                    "inside it (train.watchdog_seconds = %.0f); it may be stopped or stuck. Ending the job.\n",
                    r, W.peers[r].host, W.peers[r].pid, W.step, W.phase, now - W.last_at[r], W.limit);
        }
        if (!n_missing && !n_silent)
            fprintf(stderr,
                    "grpo: watchdog: every rank reached step %ld's %s, but it has not completed after %.0f s "
                    "(train.watchdog_seconds = %.0f): the network or MPI is stuck. Ending the job.\n",
                    W.step, W.phase, waited, W.limit);
    } else {
        fprintf(stderr,
                "grpo: watchdog: rank %d (%s) waited %.0f s for the other ranks at step %ld's %s and rank 0 did not "
                "end the job: rank 0 (%s, pid %ld) may be stopped or stuck. Ending the job.\n",
                d->rank, d->host, waited, W.step, W.phase, W.peers[0].host, W.peers[0].pid);
    }
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

/* Waits for n requests, watching the clock: spins briefly, then yields the
 * core between tests. */
static void wait_reqs(const Dist *d, MPI_Request *reqs, int n) {
    double t0 = now_seconds(), beat_at = t0;
    long spins = 0;
    for (;;) {
        int done = 0;
        MPI_CHECK(MPI_Testall(n, reqs, &done, MPI_STATUSES_IGNORE));
        if (done) return;
        if (d->rank == 0) take_beats(d);
        if (++spins > 2000) {
            struct timespec ts = {0, 50000}; /* 50 us */
            nanosleep(&ts, NULL);
        }
        if (W.limit > 0 && (spins & 63) == 0) {
            double now = now_seconds(), waited = now - t0;
            double limit = d->rank == 0 ? W.limit : W.limit * 1.25 + 5.0;
            if (waited > limit) watchdog_fire(d, waited);
            if (d->rank != 0 && now - beat_at > W.limit / BEAT_PARTS) {
                send_beat();
                beat_at = now;
            }
        }
    }
}

/* ---- collectives ---- */

static void allreduce(const Dist *d, void *buf, size_t n, MPI_Datatype type, size_t elem, MPI_Op op) {
    if (!d->mpi || d->world == 1) return;
    char *p = buf;
    while (n > 0) {
        int count = n > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        MPI_Request r;
        enter_collective(d);
        MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, p, count, type, op, MPI_COMM_WORLD, &r));
        wait_reqs(d, &r, 1);
        p += (size_t)count * elem;
        n -= (size_t)count;
    }
}

void dist_sum_f32(const Dist *d, float *buf, size_t n) { allreduce(d, buf, n, MPI_FLOAT, sizeof(float), MPI_SUM); }
void dist_sum_f64(const Dist *d, double *buf, size_t n) { allreduce(d, buf, n, MPI_DOUBLE, sizeof(double), MPI_SUM); }
void dist_max_f64(const Dist *d, double *buf, size_t n) { allreduce(d, buf, n, MPI_DOUBLE, sizeof(double), MPI_MAX); }

int dist_all_ok(const Dist *d, int ok) {
    int v = ok ? 1 : 0;
    allreduce(d, &v, 1, MPI_INT, sizeof(int), MPI_MIN);
    return v;
}

int dist_all_same(const Dist *d, uint64_t v) {
    uint64_t lo = v, hi = v;
    allreduce(d, &lo, 1, MPI_UINT64_T, sizeof(uint64_t), MPI_MIN);
    allreduce(d, &hi, 1, MPI_UINT64_T, sizeof(uint64_t), MPI_MAX);
    return lo == hi;
}

void dist_bcast(const Dist *d, void *buf, size_t n) {
    if (!d->mpi || d->world == 1) return;
    char *p = buf;
    while (n > 0) {
        int count = n > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        MPI_Request r;
        enter_collective(d);
        MPI_CHECK(MPI_Ibcast(p, count, MPI_BYTE, 0, MPI_COMM_WORLD, &r));
        wait_reqs(d, &r, 1);
        p += count;
        n -= (size_t)count;
    }
}

void dist_barrier(const Dist *d) {
    if (!d->mpi || d->world == 1) return;
    MPI_Request r;
    enter_collective(d);
    MPI_CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &r));
    wait_reqs(d, &r, 1);
}

void dist_abort(const Dist *d, int code) {
    fflush(stdout);
    fflush(stderr);
    if (d->mpi && d->world > 1) MPI_Abort(MPI_COMM_WORLD, code);
    if (d->mpi) MPI_Finalize();
    exit(code);
}

/* ---- overlapped sums ---- */

void dist_isum_f32(const Dist *d, DistPending *p, float *buf, size_t n) {
    if (!d->mpi || d->world == 1) return;
    while (n > 0) {
        int count = n > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        if (p->n == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 64;
            p->reqs = xrealloc(p->reqs, (size_t)p->cap * sizeof(MPI_Request));
        }
        enter_collective(d);
        MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                                 &((MPI_Request *)p->reqs)[p->n++]));
        buf += count;
        n -= (size_t)count;
    }
}

void dist_poll(const Dist *d, DistPending *p) {
    if (!p->n) return;
    int done = 0;
    MPI_CHECK(MPI_Testall(p->n, (MPI_Request *)p->reqs, &done, MPI_STATUSES_IGNORE));
    (void)d;
}

void dist_wait_all(const Dist *d, DistPending *p) {
    if (!p->n) return;
    double t0 = now_seconds();
    wait_reqs(d, (MPI_Request *)p->reqs, p->n);
    p->n = 0;
    p->waited += now_seconds() - t0;
}

void dist_pending_free(DistPending *p) {
    free(p->reqs);
    memset(p, 0, sizeof(*p));
}
