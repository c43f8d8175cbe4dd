/*
 * common.h: the few things every part of grpo.c shares: error reporting,
 * checked allocation, always-on assertions and logging.
 * Not for: anything that knows about tensors, text or MPI.
 *
 * Error convention. Library functions return an int status: 0 on success,
 * -1 on failure after recording a human-readable message with ERR(...).
 * Callers may add context with err_prefix() and pass the -1 up; only main()
 * prints err_msg() and exits. The message is thread-local.
 *
 *     if (n < 0) return ERR("%s: line %d: 'n' must be >= 0, got %d", path, line, n);
 */
#ifndef GRPO_COMMON_H
#define GRPO_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define GRPO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define GRPO_NORETURN __attribute__((noreturn))
#else
#define GRPO_PRINTF(a, b)
#define GRPO_NORETURN
#endif

/* ---- errors ---- */

/* Records a formatted message as this thread's last error. Returns -1 so that
 * `return ERR(...)` reads naturally. ERR's -1 is visible to the compiler
 * (err_fail), so where a caller is inlined GCC knows the failure path
 * returns non-zero and does not warn that outputs set on success "may be
 * used uninitialized". */
int err_set(const char *fmt, ...) GRPO_PRINTF(1, 2);
static inline int err_fail(int rc) { return (void)rc, -1; }
#define ERR(...) err_fail(err_set(__VA_ARGS__))

/* Prepends "<formatted>: " to the current message (for context such as the
 * file being read). Returns -1. */
int err_prefix(const char *fmt, ...) GRPO_PRINTF(1, 2);

/* The last message recorded on this thread ("" if none). Valid until the next
 * err_set/err_prefix on this thread. */
const char *err_msg(void);

/* Clears the last error. */
void err_clear(void);

/* ---- always-on invariants (programming errors, never user input) ---- */

GRPO_NORETURN void grpo_fatal(const char *file, int line, const char *fmt, ...) GRPO_PRINTF(3, 4);
#define ASSERT(cond)                                                        \
    do {                                                                    \
        if (!(cond)) grpo_fatal(__FILE__, __LINE__, "assertion failed: %s", #cond); \
    } while (0)
#define FATAL(...) grpo_fatal(__FILE__, __LINE__, __VA_ARGS__)

/* ---- checked allocation: out of memory is fatal with the size and site ---- */

void *grpo_xmalloc(size_t n, const char *file, int line);
void *grpo_xcalloc(size_t n, size_t sz, const char *file, int line);
void *grpo_xrealloc(void *p, size_t n, const char *file, int line);
char *grpo_xstrdup(const char *s, const char *file, int line);
/* 64-byte aligned, zero-filled; release with free(). */
void *grpo_xalloc_aligned(size_t n, const char *file, int line);
#define xmalloc(n) grpo_xmalloc((n), __FILE__, __LINE__)
#define xcalloc(n, sz) grpo_xcalloc((n), (sz), __FILE__, __LINE__)
#define xrealloc(p, n) grpo_xrealloc((p), (n), __FILE__, __LINE__)
#define xstrdup(s) grpo_xstrdup((s), __FILE__, __LINE__)
#define xalloc_aligned(n) grpo_xalloc_aligned((n), __FILE__, __LINE__)

/* 64-byte aligned and zero-filled like xalloc_aligned, but NULL (nothing
 * printed) when the memory is not there, for sizes that come from a file
 * or a config: the caller reports which one asked for too much. */
void *try_alloc_aligned(size_t n);

/* bytes for people: "512 B", "3.20 MiB", "19.8 TiB" (returned by value). */
typedef struct {
    char s[24];
} ByteStr;
ByteStr format_bytes(double bytes);

/* Overflow-checked size arithmetic: return 0 and set *out, or -1 on overflow. */
int size_mul(size_t a, size_t b, size_t *out);
int size_add(size_t a, size_t b, size_t *out);

/* ---- logging (stderr). Level 0 silences info; ranks other than 0 set it. ---- */

enum { LOG_QUIET = 0, LOG_INFO = 1, LOG_DEBUG = 2 };
void log_set_level(int level);
int log_level(void);
void log_info(const char *fmt, ...) GRPO_PRINTF(1, 2);
void log_debug(const char *fmt, ...) GRPO_PRINTF(1, 2);
void log_warn(const char *fmt, ...) GRPO_PRINTF(1, 2);

/* ---- small file helpers ---- */

/* Reads a whole file into a NUL-terminated buffer (caller frees). On failure
 * returns NULL with an error naming the path and errno's text. */
char *file_read_all(const char *path, size_t *len_out);

/* Writes len bytes to path atomically (atomic_file.h: a temporary file in
 * the same directory, fsync, rename, fsync of the directory). Nothing at
 * `path` is replaced unless the whole write succeeded. */
int file_write_atomic(const char *path, const void *data, size_t len);

/* "dir/name" (caller frees). */
char *path_join(const char *dir, const char *name);
/* True if path exists and is a regular file (after following links). */
int is_regular_file(const char *path);
/* True if s ends with suffix. */
int str_ends_with(const char *s, const char *suffix);

/* mkdir -p. */
int mkdir_p(const char *path);

/* Monotonic wall clock in seconds. */
double now_seconds(void);

#endif
