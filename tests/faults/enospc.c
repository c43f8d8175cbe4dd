/*
 * enospc.c: a disk that fills up, for the fault-injection tests: an
 * LD_PRELOAD library whose write(2) and pwrite(2) fail with ENOSPC on the
 * files whose path contains GRPO_FAULT_PATH, once GRPO_FAULT_AFTER bytes
 * have been written to them (counted over all such files of the process).
 * With GRPO_FAULT_ONCE=1 only the first write past the limit fails (a
 * transient error that the writer must still notice); otherwise every one
 * does, as on a full disk. Other files and processes are untouched.
 *
 *   GRPO_FAULT_PATH=.h5.tmp GRPO_FAULT_AFTER=100000 LD_PRELOAD=libgrpo_fault_enospc.so grpo train ...
 *
 * Not for: anything but tests.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static atomic_long written;
static atomic_int fired;

/* 1 if this write should fail: its file matches and the budget is spent. */
static int should_fail(int fd, size_t n) {
    const char *pat = getenv("GRPO_FAULT_PATH");
    const char *after = getenv("GRPO_FAULT_AFTER");
    if (!pat || !after || fd < 0) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, path, sizeof(path) - 1);
    if (len <= 0) return 0;
    path[len] = '\0';
    if (!strstr(path, pat)) return 0;
    long limit = atol(after);
    long before = atomic_fetch_add(&written, (long)n);
    if (before + (long)n <= limit) return 0;
    const char *once = getenv("GRPO_FAULT_ONCE");
    if (once && atoi(once) && atomic_exchange(&fired, 1)) return 0;
    atomic_fetch_sub(&written, (long)n); /* nothing was written */
    errno = ENOSPC;
    return 1;
}

#define RESOLVE(fn)                                           \
    do {                                                      \
        if (!real_##fn) real_##fn = dlsym(RTLD_NEXT, #fn);    \
    } while (0)

ssize_t write(int fd, const void *buf, size_t n) {
    RESOLVE(write);
    if (should_fail(fd, n)) return -1;
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    RESOLVE(pwrite);
    if (should_fail(fd, n)) return -1;
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
    RESOLVE(pwrite64);
    if (should_fail(fd, n)) return -1;
    return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    RESOLVE(writev);
    size_t n = 0;
    for (int i = 0; i < cnt; i++) n += iov[i].iov_len;
    if (should_fail(fd, n)) return -1;
    return real_writev(fd, iov, cnt);
}
