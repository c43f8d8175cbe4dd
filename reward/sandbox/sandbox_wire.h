/*
 * sandbox_wire.h: the record format spoken between libgrpo (reward/sandbox/sandbox.c)
 * and the grpo-sandbox helper (reward/sandbox/helper/). Shared by both so the
 * two sides cannot drift apart; the helper does not link libgrpo, so this
 * header uses only libc. Not for: anything a user sees.
 *
 * A message is a sequence of records, each
 *
 *     KEY SP LENGTH LF  <LENGTH bytes>  LF
 *
 * KEY is [a-z_.]{1,31}, LENGTH decimal. Binary-safe (sources, stdin, stdout
 * travel as record values). A message ends with the record "end". The first
 * record of both directions is "version" with SANDBOX_WIRE_VERSION.
 *
 * Request (library -> helper stdin, then the library shuts down its sending
 * side so the helper reads to EOF): version, mode, uid, gid, lang, python,
 * cc, cflag*, limits.compile, limits.run, tmpfs, workdir, stop_on_error,
 * drop_uid, source, input* (one run per input), end.
 * Response (helper stdout -> library): version, mode, layers, then either
 * error (a sandbox error) or [compile + compile.stderr] and per run
 * run + stdout + stderr; end. A "run"/"compile" value is
 * "STATUS CODE SIGNAL WALL_MS CPU_MS MAXRSS_KB", STATUS one of
 * ok exit signal time memory output error.
 * Limits are "WALL_MS CPU_MS MEM_BYTES STACK_BYTES FSIZE_BYTES NOFILE NPROC OUT_BYTES".
 */
#ifndef GRPO_SANDBOX_WIRE_H
#define GRPO_SANDBOX_WIRE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SANDBOX_WIRE_VERSION "1"
#define SANDBOX_WIRE_KEY_MAX 32
/* Largest single record value accepted (a source or a stdin case). */
#define SANDBOX_WIRE_VALUE_MAX ((size_t)256 << 20)

/* Writes all of buf to fd; send(MSG_NOSIGNAL) on sockets so a dead peer is an
 * EPIPE error, not a SIGPIPE. Returns 0 or -1 (errno set). */
static inline int wire_write_all(int fd, const void *buf, size_t len) {
    const char *p = (const char *)buf;
    int use_send = 1;
    while (len > 0) {
        ssize_t w = use_send ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
        if (w < 0 && use_send && errno == ENOTSOCK) {
            use_send = 0;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Appends one record to a growing buffer (*buf, *len, *cap; realloc'd).
 * Returns 0, or -1 if memory ran out. */
static inline int wire_append(char **buf, size_t *len, size_t *cap, const char *key, const void *val, size_t vlen) {
    char head[SANDBOX_WIRE_KEY_MAX + 32];
    int hl = snprintf(head, sizeof(head), "%s %zu\n", key, vlen);
    if (hl < 0 || (size_t)hl >= sizeof(head)) return -1;
    size_t need = *len + (size_t)hl + vlen + 1;
    if (need > *cap) {
        size_t nc = *cap ? *cap : 4096;
        while (nc < need) nc *= 2;
        char *nb = (char *)realloc(*buf, nc);
        if (!nb) return -1;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, head, (size_t)hl);
    if (vlen) memcpy(*buf + *len + hl, val, vlen);
    (*buf)[*len + (size_t)hl + vlen] = '\n';
    *len = need;
    return 0;
}

static inline int wire_append_str(char **buf, size_t *len, size_t *cap, const char *key, const char *val) {
    return wire_append(buf, len, cap, key, val, strlen(val));
}

/* Parses the next record of buf[*pos .. len). On success returns 1 and sets
 * key (NUL-terminated copy), *val (pointer into buf, not NUL-terminated) and
 * *vlen, advancing *pos. Returns 0 at the end of buf, -1 on a malformed
 * record. */
static inline int wire_next(const char *buf, size_t len, size_t *pos, char key[SANDBOX_WIRE_KEY_MAX],
                            const char **val, size_t *vlen) {
    size_t p = *pos;
    if (p >= len) return 0;
    size_t k = 0;
    while (p < len && buf[p] != ' ') {
        char c = buf[p];
        if (!((c >= 'a' && c <= 'z') || c == '_' || c == '.') || k + 1 >= SANDBOX_WIRE_KEY_MAX) return -1;
        key[k++] = c;
        p++;
    }
    if (k == 0 || p >= len) return -1;
    key[k] = '\0';
    p++;
    size_t n = 0, digits = 0;
    while (p < len && buf[p] >= '0' && buf[p] <= '9') {
        if (n > SANDBOX_WIRE_VALUE_MAX) return -1;
        n = n * 10 + (size_t)(buf[p] - '0');
        p++;
        digits++;
    }
    if (digits == 0 || p >= len || buf[p] != '\n' || n > SANDBOX_WIRE_VALUE_MAX) return -1;
    p++;
    if (len - p < n + 1 || buf[p + n] != '\n') return -1;
    *val = buf + p;
    *vlen = n;
    *pos = p + n + 1;
    return 1;
}

#endif
