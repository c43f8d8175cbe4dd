/*
 * test.h: the tiny harness every C test uses. Checks count failures and keep
 * going; test_summary() prints "N passed, N failed" (the closing line ctest
 * logs show) and returns the exit code (non-zero if anything failed or if
 * no check ran).
 *
 *     TEST_CHECK(x == 3, "x=%d", x);
 *     TEST_CLOSE(got, want, 1e-5, "logprob[%d]", i);   // absolute tolerance
 *     return test_summary();
 */
#ifndef GRPO_TEST_H
#define GRPO_TEST_H

#include <math.h>
#include <stdio.h>
#include <time.h>

static int test_passed_, test_failed_;

#define TEST_CHECK(cond, ...)                                          \
    do {                                                               \
        if (cond) {                                                    \
            test_passed_++;                                            \
        } else {                                                       \
            test_failed_++;                                            \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                              \
            fputc('\n', stderr);                                       \
        }                                                              \
    } while (0)

#define TEST_CLOSE(got, want, tol, ...)                                          \
    do {                                                                         \
        double g_ = (double)(got), w_ = (double)(want);                          \
        if (fabs(g_ - w_) <= (tol)) {                                            \
            test_passed_++;                                                      \
        } else {                                                                 \
            test_failed_++;                                                      \
            fprintf(stderr, "FAIL %s:%d: got %.9g want %.9g (tol %g): ", __FILE__, __LINE__, g_, w_, \
                    (double)(tol));                                              \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

/* CPU seconds of the calling thread: for a test that bounds how long work
 * takes, since other jobs on the machine (a loaded CI runner, a parallel
 * ctest) stretch the wall clock but not this. */
static inline double test_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The exit code: non-zero if a check failed, or if none ran at all (a test
 * that checks nothing must not pass). */
static inline int test_summary(void) {
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    if (test_passed_ + test_failed_ == 0) {
        fprintf(stderr, "FAIL: no check ran\n");
        return 1;
    }
    return test_failed_ ? 1 : 0;
}

#endif
