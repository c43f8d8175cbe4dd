/*
 * watchdog_stop.c: a rank stopped inside a collective, for faults.sh's
 * stopin mode (run under mpirun with 2 ranks). Both ranks enter a 16 MiB
 * sum with the watchdog at 3 s; rank 1 arrives first and, while it waits
 * for rank 0, a thread of its own stops the process (SIGSTOP). Rank 0
 * arrives 2 s later: the sum cannot complete (rank 1 holds its half), so
 * rank 0's watchdog ends the job. Every rank reached the collective, so
 * only rank 1's silence (its heartbeats stopped) can tell the watchdog
 * which rank it was; faults.sh checks that the message names it.
 * Exits 0 only if the sum completed, which it must not.
 * Not for: the trainer's own use of the watchdog (test_fault_stop).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "trainer/dist.h"

static void sleep_seconds(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void *stop_later(void *arg) {
    (void)arg;
    sleep_seconds(1.0);
    kill(getpid(), SIGSTOP);
    return NULL;
}

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    if (d.world != 2) {
        fprintf(stderr, "watchdog_stop: run me under mpirun -n 2 (world is %d)\n", d.world);
        dist_finalize(&d);
        return 2;
    }
    dist_set_watchdog(&d, 3.0);
    dist_set_phase(&d, 1, "warm-up");
    double one = 1.0;
    dist_sum_f64(&d, &one, 1);
    const size_t n = (size_t)4 << 20; /* 16 MiB of floats: far past any eager limit */
    float *buf = calloc(n, sizeof(float));
    if (!buf) return 2;
    dist_set_phase(&d, 1, "sum");
    if (d.rank == 1) {
        pthread_t t;
        pthread_create(&t, NULL, stop_later, NULL);
        pthread_detach(t);
    } else {
        sleep_seconds(2.0);
    }
    fprintf(stderr, "watchdog_stop: rank %d (pid %ld) enters the sum\n", d.rank, (long)getpid());
    dist_sum_f32(&d, buf, n);
    fprintf(stderr, "watchdog_stop: rank %d: the sum completed\n", d.rank);
    free(buf);
    dist_finalize(&d);
    return 0;
}
