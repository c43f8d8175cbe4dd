/*
 * common.c: error messages, checked allocation, logging and file helpers
 * (see common.h for the contracts).
 */
#define _GNU_SOURCE
#include "common.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ERR_CAP 4096
static _Thread_local char err_buf[ERR_CAP];

int err_set(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, ERR_CAP, fmt, ap);
    va_end(ap);
    return -1;
}

int err_prefix(const char *fmt, ...) {
    char head[ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, ERR_CAP, fmt, ap);
    va_end(ap);
    size_t hl = strlen(head), ol = strlen(err_buf);
    if (hl + 2 >= ERR_CAP) hl = ERR_CAP - 3;
    if (hl + 2 + ol >= ERR_CAP) ol = ERR_CAP - 3 - hl;
    memmove(err_buf + hl + 2, err_buf, ol);
    memcpy(err_buf, head, hl);
    err_buf[hl] = ':';
    err_buf[hl + 1] = ' ';
    err_buf[hl + 2 + ol] = '\0';
    return -1;
}

const char *err_msg(void) { return err_buf; }
void err_clear(void) { err_buf[0] = '\0'; }

void grpo_fatal(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "grpo: fatal: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (%s:%d)\n", file, line);
    fflush(stderr);
    abort();
}

static void oom(size_t n, const char *file, int line) {
    grpo_fatal(file, line, "out of memory allocating %zu bytes (%.1f MiB); reduce the batch or model size", n,
               (double)n / (1024.0 * 1024.0));
}

void *grpo_xmalloc(size_t n, const char *file, int line) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n, file, line);
    return p;
}

void *grpo_xcalloc(size_t n, size_t sz, const char *file, int line) {
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) oom(n * sz, file, line);
    return p;
}

void *grpo_xrealloc(void *p, size_t n, const char *file, int line) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n, file, line);
    return q;
}

char *grpo_xstrdup(const char *s, const char *file, int line) {
    size_t n = strlen(s) + 1;
    char *p = grpo_xmalloc(n, file, line);
    memcpy(p, s, n);
    return p;
}

void *grpo_xalloc_aligned(size_t n, const char *file, int line) {
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n) oom(n, file, line);
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) oom(n, file, line);
    memset(p, 0, rounded);
    return p;
}

void *try_alloc_aligned(size_t n) {
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n) return NULL;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (p) memset(p, 0, rounded ? rounded : 64);
    return p;
}

ByteStr format_bytes(double bytes) {
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
    ByteStr r;
    int u = 0;
    while (bytes >= 1024 && u < 8) bytes /= 1024, u++;
    if (u == 0) snprintf(r.s, sizeof(r.s), "%.0f B", bytes);
    else snprintf(r.s, sizeof(r.s), "%.*f %s", bytes < 10 ? 2 : 1, bytes, unit[u]);
    return r;
}

int size_mul(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

int size_add(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return -1;
    *out = a + b;
    return 0;
}

static int g_log_level = LOG_INFO;
void log_set_level(int level) { g_log_level = level; }
int log_level(void) { return g_log_level; }

static void vlog(const char *tag, const char *fmt, va_list ap) {
    if (tag) fputs(tag, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void log_info(const char *fmt, ...) {
    if (g_log_level < LOG_INFO) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(NULL, fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...) {
    if (g_log_level < LOG_DEBUG) return;
    va_list ap;
    va_start(ap, fmt);
    vlog("debug: ", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...) {
    if (g_log_level < LOG_INFO) return;
    va_list ap;
    va_start(ap, fmt);
    vlog("warning: ", fmt, ap);
    va_end(ap);
}

char *file_read_all(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        err_set("error reading %s", path);
        return NULL;
    }
    buf[len] = '\0';
    if (len_out) *len_out = len;
    return buf;
}

int file_write_atomic(const char *path, const void *data, size_t len) {
    AtomicFile f;
    if (atomic_open(&f, path)) return -1;
    if (atomic_write(&f, data, len)) {
        atomic_abort(&f);
        return -1;
    }
    return atomic_commit(&f);
}

char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int is_regular_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int str_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int mkdir_p(const char *path) {
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            err_set("cannot create directory %s: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        err_set("cannot create directory %s: %s", p, strerror(errno));
        free(p);
        return -1;
    }
    free(p);
    return 0;
}

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
