/*
 * grpo_sandbox.c: grpo-sandbox, the small helper program that runs one
 * untrusted job (compile a C program and/or run a program once per input)
 * inside the sandbox and reports what happened. libgrpo (reward/sandbox/sandbox.c)
 * spawns it with posix_spawn, writes the request on its stdin and reads the
 * response on its stdout (reward/sandbox/sandbox_wire.h), so the large trainer
 * process never forks. Not for: judging outputs (the code reward does that),
 * running without a parent (no daemon mode), or being run by hand.
 *
 * Process tree in the namespace modes ("full" as root, "userns" otherwise):
 *
 *   trainer ── grpo-sandbox   new mount, net, IPC, UTS (and user) namespaces;
 *                 │            builds the private root on a tmpfs at /tmp
 *                 └── init     pid 1 of a fresh PID + mount namespace per run:
 *                       │      mounts /proc, pivots into the private root
 *                       └── program   slot uid, rlimits, no_new_privs, seccomp
 *
 * When init exits the kernel kills every process of its PID namespace, and
 * init exits as soon as the program does; the helper kills init at the
 * deadline or when an output cap is hit. So nothing the program started can
 * outlive its run. In "minimal" mode (no namespaces) the helper is a child
 * subreaper and kills every descendant it can find instead (weaker; see
 * docs/sandbox.md).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "../sandbox_wire.h"

/* Where the private root is built, inside our own mount namespace. */
#define ROOT "/tmp"

enum { MODE_AUTO, MODE_FULL, MODE_USERNS, MODE_MINIMAL };
static const char *const mode_names[] = {"auto", "full", "userns", "minimal"};
enum { LANG_PYTHON, LANG_C };

typedef struct {
    long wall_ms, cpu_ms;
    long long mem, stack, fsize;
    long nofile, nproc;
    long long out;
} Limits;

typedef struct {
    int mode;
    long uid, gid;     /* slot identity; -1: keep the helper's */
    long drop_uid;     /* test hook: become this uid first (exercises userns mode as root) */
    int lang;
    char python[PATH_MAX], cc[PATH_MAX];
    char *cflags[32];
    int n_cflags;
    Limits compile, run;
    long long tmpfs_bytes;
    long tmpfs_inodes;
    char workdir[PATH_MAX]; /* minimal mode: the run directory, made by the library */
    int stop_on_error;
    const char *source;
    size_t source_len;
    const char **inputs;
    size_t *input_lens;
    size_t n_inputs;
} Request;

typedef struct {
    const char *status; /* ok exit signal time memory output error */
    int code, sig;
    long wall_ms, cpu_ms, maxrss_kb;
    char *out, *err;
    size_t out_len, err_len;
    char error[512]; /* for status "error" */
} RunOut;

/* ---- errors and the response ---- */

static char g_err[1024];
static char *g_resp;
static size_t g_resp_len, g_resp_cap;
static char g_layers[512];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
    int e = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof(g_err), fmt, ap);
    va_end(ap);
    if (e) {
        size_t l = strlen(g_err);
        snprintf(g_err + l, sizeof(g_err) - l, ": %s", strerror(e));
    }
    return -1;
}

static void resp(const char *key, const void *val, size_t len) {
    if (wire_append(&g_resp, &g_resp_len, &g_resp_cap, key, val, len) != 0) {
        /* Out of memory while reporting: say so in the smallest way we can. */
        static const char oom[] = "version 1\n1\n\nerror 34\ngrpo-sandbox: out of memory (response)\nend 0\n\n";
        (void)wire_write_all(1, oom, sizeof(oom) - 1);
        _exit(3);
    }
}
static void resp_str(const char *key, const char *val) { resp(key, val, strlen(val)); }

static void layer(const char *name) {
    size_t l = strlen(g_layers);
    snprintf(g_layers + l, sizeof(g_layers) - l, "%s%s", l ? "," : "", name);
}

/* Sends the response and exits. */
static void finish(int code) __attribute__((noreturn));
static void finish(int code) {
    resp("end", "", 0);
    (void)wire_write_all(1, g_resp, g_resp_len);
    _exit(code);
}

static void die_sandbox_error(void) __attribute__((noreturn));
static void die_sandbox_error(void) {
    resp_str("layers", g_layers);
    resp_str("error", g_err);
    finish(0);
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- reading the request ---- */

static int read_all_fd(int fd, char **out, size_t *out_len) {
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf) return fail("out of memory reading the request");
    for (;;) {
        if (len == cap) {
            if (cap >= 4 * SANDBOX_WIRE_VALUE_MAX) {
                free(buf);
                errno = 0;
                return fail("request larger than %zu bytes", 4 * SANDBOX_WIRE_VALUE_MAX);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return fail("out of memory reading the request");
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            free(buf);
            return fail("reading the request");
        }
        if (r == 0) break; /* the library shuts its side down after the request */
        len += (size_t)r;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *val, size_t vlen, const char *key) {
    errno = 0;
    if (vlen >= cap || memchr(val, '\0', vlen)) return fail("request: bad value for '%s'", key);
    memcpy(dst, val, vlen);
    dst[vlen] = '\0';
    return 0;
}

static int parse_long(const char *val, size_t vlen, long *out, const char *key) {
    char tmp[32];
    if (copy_str(tmp, sizeof(tmp), val, vlen, key)) return -1;
    char *end;
    errno = 0;
    long v = strtol(tmp, &end, 10);
    if (errno || end == tmp || *end) {
        errno = 0;
        return fail("request: '%s' is not an integer", key);
    }
    *out = v;
    return 0;
}

static int parse_limits(const char *val, size_t vlen, Limits *l, const char *key) {
    char tmp[256];
    if (copy_str(tmp, sizeof(tmp), val, vlen, key)) return -1;
    long long v[8];
    if (sscanf(tmp, "%lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
               &v[7]) != 8) {
        errno = 0;
        return fail("request: '%s' needs 8 numbers", key);
    }
    for (int i = 0; i < 8; i++)
        if (v[i] <= 0) {
            errno = 0;
            return fail("request: '%s' has a non-positive limit", key);
        }
    l->wall_ms = (long)v[0];
    l->cpu_ms = (long)v[1];
    l->mem = v[2];
    l->stack = v[3];
    l->fsize = v[4];
    l->nofile = (long)v[5];
    l->nproc = (long)v[6];
    l->out = v[7];
    return 0;
}

static int parse_request(const char *buf, size_t len, Request *rq) {
    memset(rq, 0, sizeof(*rq));
    rq->uid = rq->gid = rq->drop_uid = -1;
    rq->tmpfs_bytes = 64LL << 20;
    rq->tmpfs_inodes = 4096;
    size_t cap_inputs = 0, pos = 0;
    char key[SANDBOX_WIRE_KEY_MAX];
    const char *val;
    size_t vlen;
    int r, saw_version = 0, saw_end = 0, saw_run = 0;
    while ((r = wire_next(buf, len, &pos, key, &val, &vlen)) == 1) {
        long n;
        errno = 0;
        if (!strcmp(key, "version")) {
            if (vlen != strlen(SANDBOX_WIRE_VERSION) || memcmp(val, SANDBOX_WIRE_VERSION, vlen))
                return fail("request: wire version %.*s, this helper speaks %s; reinstall grpo so "
                            "libgrpo and grpo-sandbox match",
                            (int)(vlen < 16 ? vlen : 16), val, SANDBOX_WIRE_VERSION);
            saw_version = 1;
        } else if (!strcmp(key, "mode")) {
            int found = 0;
            for (int m = 0; m < 4; m++)
                if (vlen == strlen(mode_names[m]) && !memcmp(val, mode_names[m], vlen)) rq->mode = m, found = 1;
            if (!found) return fail("request: unknown mode");
        } else if (!strcmp(key, "uid")) {
            if (parse_long(val, vlen, &rq->uid, key)) return -1;
        } else if (!strcmp(key, "gid")) {
            if (parse_long(val, vlen, &rq->gid, key)) return -1;
        } else if (!strcmp(key, "drop_uid")) {
            if (parse_long(val, vlen, &rq->drop_uid, key)) return -1;
        } else if (!strcmp(key, "lang")) {
            if (vlen == 6 && !memcmp(val, "python", 6)) rq->lang = LANG_PYTHON;
            else if (vlen == 1 && val[0] == 'c') rq->lang = LANG_C;
            else return fail("request: unknown lang");
        } else if (!strcmp(key, "python")) {
            if (copy_str(rq->python, sizeof(rq->python), val, vlen, key)) return -1;
        } else if (!strcmp(key, "cc")) {
            if (copy_str(rq->cc, sizeof(rq->cc), val, vlen, key)) return -1;
        } else if (!strcmp(key, "cflag")) {
            if (rq->n_cflags >= 31) return fail("request: more than 31 cflags");
            char *f = malloc(vlen + 1);
            if (!f || copy_str(f, vlen + 1, val, vlen, key)) return fail("request: bad cflag");
            rq->cflags[rq->n_cflags++] = f;
        } else if (!strcmp(key, "limits.compile")) {
            if (parse_limits(val, vlen, &rq->compile, key)) return -1;
        } else if (!strcmp(key, "limits.run")) {
            if (parse_limits(val, vlen, &rq->run, key)) return -1;
            saw_run = 1;
        } else if (!strcmp(key, "tmpfs")) {
            char tmp[64];
            if (copy_str(tmp, sizeof(tmp), val, vlen, key)) return -1;
            if (sscanf(tmp, "%lld %ld", &rq->tmpfs_bytes, &rq->tmpfs_inodes) != 2 || rq->tmpfs_bytes <= 0 ||
                rq->tmpfs_inodes <= 0)
                return fail("request: bad tmpfs");
        } else if (!strcmp(key, "workdir")) {
            if (copy_str(rq->workdir, sizeof(rq->workdir), val, vlen, key)) return -1;
        } else if (!strcmp(key, "stop_on_error")) {
            if (parse_long(val, vlen, &n, key)) return -1;
            rq->stop_on_error = n != 0;
        } else if (!strcmp(key, "source")) {
            rq->source = val;
            rq->source_len = vlen;
        } else if (!strcmp(key, "input")) {
            if (rq->n_inputs == cap_inputs) {
                cap_inputs = cap_inputs ? 2 * cap_inputs : 8;
                rq->inputs = realloc(rq->inputs, cap_inputs * sizeof(*rq->inputs));
                rq->input_lens = realloc(rq->input_lens, cap_inputs * sizeof(*rq->input_lens));
                if (!rq->inputs || !rq->input_lens) return fail("out of memory");
            }
            rq->inputs[rq->n_inputs] = val;
            rq->input_lens[rq->n_inputs++] = vlen;
        } else if (!strcmp(key, "end")) {
            saw_end = 1;
            break;
        } else {
            return fail("request: unknown record '%s'", key);
        }
    }
    errno = 0;
    if (r < 0) return fail("request: malformed record at byte %zu", pos);
    if (!saw_version || !saw_end) return fail("request: truncated (no version or end record)");
    if (!saw_run) return fail("request: no limits.run");
    if (rq->lang == LANG_C && !rq->compile.wall_ms) return fail("request: C needs limits.compile");
    if (rq->n_inputs == 0) return fail("request: no input (one run per input record)");
    if (!rq->source) return fail("request: no source");
    const char *exe = rq->lang == LANG_C ? rq->cc : rq->python;
    if (exe[0] != '/') return fail("request: the %s path '%s' must be absolute", rq->lang == LANG_C ? "cc" : "python", exe);
    return 0;
}

/* ---- small file helpers (never following symlinks in places a program could write) ---- */

static int write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, long uid, long gid) {
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return fail("create %s", name);
    if (wire_write_all(fd, data, len) != 0) {
        close(fd);
        return fail("write %s", name);
    }
    if (uid >= 0 && fchown(fd, (uid_t)uid, (gid_t)gid) != 0) {
        close(fd);
        return fail("chown %s", name);
    }
    if (fchmod(fd, mode) != 0) {
        close(fd);
        return fail("chmod %s", name);
    }
    close(fd);
    return 0;
}

static int write_small(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail("open %s", path);
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int e = errno;
    close(fd);
    errno = e;
    if (w != (ssize_t)len) return fail("write %s", path);
    return 0;
}

/* Root without CAP_SYS_ADMIN: unshare(CLONE_NEWUSER) and map root and the
 * slot uid/gid. A map of more than our own id must be written by a process
 * with CAP_SETUID in the parent namespace, so a child that stays there
 * writes it (as newuidmap does). */
static int unshare_userns_mapped(int ns_flags, long uid, long gid) {
    int go[2], res[2];
    if (pipe2(go, O_CLOEXEC) || pipe2(res, O_CLOEXEC)) return fail("pipe");
    pid_t self = getpid(), c = fork();
    if (c < 0) return fail("fork");
    if (c == 0) {
        char b, path[64], map[96];
        int ok = read(go[0], &b, 1) == 1;
        snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)self);
        snprintf(map, sizeof(map), "0 0 1\n%ld %ld 1\n", uid, uid);
        ok = ok && write_small(path, map) == 0;
        snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)self);
        snprintf(map, sizeof(map), "0 0 1\n%ld %ld 1\n", gid, gid);
        ok = ok && write_small(path, map) == 0;
        int e = ok ? 0 : (errno ? errno : EPERM);
        ssize_t w = write(res[1], &e, sizeof(e));
        (void)w;
        _exit(0);
    }
    int rc = unshare(CLONE_NEWUSER | ns_flags), e = errno, werr = -1;
    ssize_t w = write(go[1], "x", 1);
    (void)w;
    if (read(res[0], &werr, sizeof(werr)) != (ssize_t)sizeof(werr)) werr = EIO;
    waitpid(c, NULL, 0);
    close(go[0]), close(go[1]), close(res[0]), close(res[1]);
    if (rc != 0) {
        errno = e;
        return -1;
    }
    if (werr != 0) {
        errno = werr;
        return fail("map root and the slot uid %ld into the user namespace", uid);
    }
    return 0;
}

/* ---- the private root ---- */

/* Remounts every mount at or below `dst` with `flags` plus the flags the
 * kernel insists we keep (a user namespace may not clear nodev, noexec or
 * atime flags of mounts it inherited). */
static int remount_tree(const char *dst, unsigned long flags) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) return fail("open /proc/self/mountinfo");
    char line[4096];
    size_t dl = strlen(dst);
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        /* fields: id parent major:minor root mountpoint options ... */
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        for (int i = 0; i < 4 && tok; i++) tok = strtok_r(NULL, " ", &save);
        if (!tok) continue;
        char mp[PATH_MAX];
        size_t k = 0;
        for (char *s = tok; *s && k + 1 < sizeof(mp); s++) { /* undo \040-style escapes */
            if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                s[3] <= '7') {
                mp[k++] = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                s += 3;
            } else {
                mp[k++] = *s;
            }
        }
        mp[k] = '\0';
        if (strncmp(mp, dst, dl) || (mp[dl] != '\0' && mp[dl] != '/')) continue;
        struct statvfs sv;
        unsigned long keep = 0;
        if (statvfs(mp, &sv) == 0) {
            if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
            if (sv.f_flag & ST_NOATIME) keep |= MS_NOATIME;
            if (sv.f_flag & ST_NODIRATIME) keep |= MS_NODIRATIME;
            if (sv.f_flag & ST_RELATIME) keep |= MS_RELATIME;
            if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
        }
        if (mount(NULL, mp, NULL, MS_REMOUNT | MS_BIND | flags | keep, NULL) != 0) rc = fail("remount %s", mp);
    }
    fclose(f);
    return rc;
}

static int bind_ro(const char *src, const char *dst) {
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0) return fail("bind %s", src);
    return remount_tree(dst, MS_RDONLY | MS_NOSUID | MS_NODEV);
}

static int touch(const char *path, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return fail("create %s", path);
    close(fd);
    return 0;
}

/* Makes ROOT/<name> mirror /<name>: a symlink stays a symlink (merged /usr),
 * a directory becomes a read-only bind, absence stays absence. */
static int mirror_top(const char *name) {
    char src[64], dst[64];
    snprintf(src, sizeof(src), "/%s", name);
    snprintf(dst, sizeof(dst), ROOT "/%s", name);
    struct stat st;
    if (lstat(src, &st) != 0) return 0;
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(src, target, sizeof(target) - 1);
        if (n < 0) return fail("readlink %s", src);
        target[n] = '\0';
        if (symlink(target, dst) != 0) return fail("symlink %s", dst);
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) return 0;
    if (mkdir(dst, 0755) != 0) return fail("mkdir %s", dst);
    return bind_ro(src, dst);
}

static int mount_tmpfs(const char *dst, long long bytes, long inodes, const char *mode, unsigned long flags) {
    char opts[128];
    snprintf(opts, sizeof(opts), "size=%lld,nr_inodes=%ld,mode=%s", bytes, inodes, mode);
    if (mount("tmpfs", dst, "tmpfs", flags, opts) != 0) return fail("mount tmpfs on %s", dst);
    return 0;
}

/* ROOT/etc: read-only binds of the few host files programs need (the
 * ld.so cache and config, localtime, alternatives) and generated passwd,
 * group, hosts and hostname naming only root and the slot identity. */
static int root_etc(uid_t uid, gid_t gid) {
    if (mkdir(ROOT "/etc", 0755) != 0) return fail("mkdir etc");
    /* Read-only binds of the host's files (dir 0) and directories (dir 1) that are there. */
    static const struct {
        const char *name;
        int dir;
    } etc[] = {{"ld.so.cache", 0}, {"ld.so.conf", 0}, {"localtime", 0}, {"ld.so.conf.d", 1}, {"alternatives", 1}};
    for (size_t i = 0; i < sizeof(etc) / sizeof(etc[0]); i++) {
        char src[64], dst[64];
        struct stat st;
        snprintf(src, sizeof(src), "/etc/%s", etc[i].name);
        snprintf(dst, sizeof(dst), ROOT "/etc/%s", etc[i].name);
        if (stat(src, &st) != 0 || !(etc[i].dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode))) continue;
        if (etc[i].dir ? mkdir(dst, 0755) != 0 : touch(dst, 0644) != 0) return fail("make %s", dst);
        if (bind_ro(src, dst)) return -1;
    }
    int etcfd = open(ROOT "/etc", O_DIRECTORY | O_CLOEXEC);
    if (etcfd < 0) return fail("open etc");
    char text[512];
    snprintf(text, sizeof(text), "root:x:0:0:root:/:/bin/false\nsandbox:x:%u:%u:sandbox:/work:/bin/false\n",
             (unsigned)uid, (unsigned)gid);
    int rc = write_file_at(etcfd, "passwd", text, strlen(text), 0644, -1, -1);
    snprintf(text, sizeof(text), "root:x:0:\nsandbox:x:%u:\n", (unsigned)gid);
    if (!rc) rc = write_file_at(etcfd, "group", text, strlen(text), 0644, -1, -1);
    snprintf(text, sizeof(text), "127.0.0.1 localhost\n::1 localhost\n");
    if (!rc) rc = write_file_at(etcfd, "hosts", text, strlen(text), 0644, -1, -1);
    if (!rc) rc = write_file_at(etcfd, "hostname", "sandbox\n", 8, 0644, -1, -1);
    close(etcfd);
    return rc ? -1 : 0;
}

/* ROOT/dev: a small noexec tmpfs holding binds of null, zero, full,
 * random and urandom and the fd/std* links, read-only once made. */
static int root_dev(void) {
    if (mkdir(ROOT "/dev", 0755) != 0) return fail("mkdir dev");
    if (mount_tmpfs(ROOT "/dev", 65536, 64, "0755", MS_NOSUID | MS_NOEXEC)) return -1;
    static const char *const devs[] = {"null", "zero", "full", "random", "urandom"};
    for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
        char src[64], dst[64];
        snprintf(src, sizeof(src), "/dev/%s", devs[i]);
        snprintf(dst, sizeof(dst), ROOT "/dev/%s", devs[i]);
        if (touch(dst, 0666)) return -1;
        if (mount(src, dst, NULL, MS_BIND, NULL) != 0) return fail("bind %s", src);
        if (remount_tree(dst, MS_NOSUID | MS_NOEXEC)) return -1;
    }
    static const char *const links[][2] = {{"/proc/self/fd", "fd"},
                                           {"/proc/self/fd/0", "stdin"},
                                           {"/proc/self/fd/1", "stdout"},
                                           {"/proc/self/fd/2", "stderr"}};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        char dst[64];
        snprintf(dst, sizeof(dst), ROOT "/dev/%s", links[i][1]);
        if (symlink(links[i][0], dst) != 0) return fail("symlink %s", dst);
    }
    if (mount(NULL, ROOT "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) != 0)
        return fail("remount dev read-only");
    return 0;
}

/* ROOT/proc (an empty mount point), ROOT/work (a tmpfs owned by the slot
 * identity, holding the source) and ROOT/tmp (a tmpfs, 1777). */
static int root_work(const Request *rq, uid_t uid, gid_t gid) {
    if (mkdir(ROOT "/proc", 0555) != 0) return fail("mkdir proc");
    if (mkdir(ROOT "/work", 0700) != 0 || mkdir(ROOT "/tmp", 01777) != 0) return fail("mkdir work/tmp");
    if (mount_tmpfs(ROOT "/work", rq->tmpfs_bytes, rq->tmpfs_inodes, "0700", MS_NOSUID | MS_NODEV)) return -1;
    if (chown(ROOT "/work", uid, gid) != 0) return fail("chown work");
    if (mount_tmpfs(ROOT "/tmp", rq->tmpfs_bytes, rq->tmpfs_inodes, "1777", MS_NOSUID | MS_NODEV)) return -1;

    int workfd = open(ROOT "/work", O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (workfd < 0) return fail("open work");
    int rc = write_file_at(workfd, rq->lang == LANG_C ? "main.c" : "main.py", rq->source, rq->source_len, 0644,
                           (long)uid, (long)gid);
    close(workfd);
    return rc ? -1 : 0;
}

/* Builds the private root at ROOT (a tmpfs, read-only once built):
 *   /usr /bin /sbin /lib* read-only nosuid nodev binds of the host's (or the same symlinks)
 *   /etc   a few binds (ld.so cache, alternatives) + generated passwd/group/hosts
 *   /dev   null zero full random urandom, fd/std* links
 *   /proc  empty: each run's init mounts a fresh one for its PID namespace
 *   /work  tmpfs owned by the slot uid (the program's cwd); /tmp tmpfs 1777
 * Order matters: / is made private before anything is mounted (no mount of
 * ours propagates to the host), and the root is remounted read-only last. */
static int build_root(const Request *rq, uid_t uid, gid_t gid) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return fail("make / private");
    if (mount("tmpfs", ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=512,mode=0755") != 0)
        return fail("mount the root tmpfs on " ROOT);
    static const char *const top[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
        if (mirror_top(top[i])) return -1;
    if (root_etc(uid, gid) || root_dev() || root_work(rq, uid, gid)) return -1;
    if (mount(NULL, ROOT, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
        return fail("remount the root read-only");
    return 0;
}

/* ---- the seccomp filter ---- */

static struct sock_fprog g_filter;

/* Builds the deny-list filter once (BPF kept in memory, so the child only
 * needs one prctl and no allocation). Allowed by default; each rule below
 * returns EPERM (clone3 returns ENOSYS so libc falls back to clone, whose
 * namespace flags we can inspect). */
static int build_filter(void) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return fail("seccomp_init");
    int rc = 0;
#define DENY(name) rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(name), 0)
    DENY(ptrace);
    DENY(process_vm_readv);
    DENY(process_vm_writev);
    DENY(kcmp);
    DENY(pidfd_getfd);
    DENY(mount);
    DENY(umount2);
    DENY(pivot_root);
    DENY(chroot);
    DENY(move_mount);
    DENY(open_tree);
    DENY(fsopen);
    DENY(fsconfig);
    DENY(fsmount);
    DENY(fspick);
    DENY(mount_setattr);
    DENY(unshare);
    DENY(setns);
    DENY(bpf);
    DENY(perf_event_open);
    DENY(userfaultfd);
    DENY(io_uring_setup);
    DENY(io_uring_enter);
    DENY(io_uring_register);
    DENY(keyctl);
    DENY(add_key);
    DENY(request_key);
    DENY(kexec_load);
    DENY(kexec_file_load);
    DENY(init_module);
    DENY(finit_module);
    DENY(delete_module);
    DENY(acct);
    DENY(swapon);
    DENY(swapoff);
    DENY(reboot);
    DENY(syslog);
    DENY(quotactl);
    DENY(open_by_handle_at);
    DENY(name_to_handle_at);
    DENY(lookup_dcookie);
    DENY(fanotify_init);
    DENY(vhangup);
    DENY(personality);
#undef DENY
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    static const unsigned long ns_flags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,   CLONE_NEWUSER,
                                             CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};
    for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++)
        rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                               SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                           SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCSTI));
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                           SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCLINUX));
    if (rc) {
        seccomp_release(ctx);
        errno = 0;
        return fail("seccomp_rule_add failed");
    }
    /* Export the BPF through a memfd and keep it. */
    int fd = memfd_create("seccomp", MFD_CLOEXEC);
    if (fd < 0) {
        seccomp_release(ctx);
        return fail("memfd_create");
    }
    if (seccomp_export_bpf(ctx, fd) != 0) {
        seccomp_release(ctx);
        close(fd);
        errno = 0;
        return fail("seccomp_export_bpf failed");
    }
    seccomp_release(ctx);
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) || size > 65536) {
        close(fd);
        errno = 0;
        return fail("seccomp: unexpected filter size %lld", (long long)size);
    }
    struct sock_filter *prog = malloc((size_t)size);
    if (!prog || pread(fd, prog, (size_t)size, 0) != size) {
        close(fd);
        return fail("seccomp: read back the filter");
    }
    close(fd);
    g_filter.len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    g_filter.filter = prog;
    return 0;
}

/* ---- one run ---- */

/* What the child side reports through the report pipe (fd 3 in the program). */
typedef struct {
    int kind;  /* 1 setup failed (step, err), 2 the program's wait status (value) */
    int step;
    int value;
} Report;

enum {
    STEP_FORK = 1, STEP_PROC, STEP_PIVOT, STEP_FDS, STEP_CHDIR, STEP_CAPS, STEP_IDS,
    STEP_NNP, STEP_SECCOMP, STEP_RLIMIT, STEP_EXEC
};
static const char *const step_names[] = {"?",     "fork",       "mount /proc",      "pivot_root",
                                         "fds",   "chdir",      "drop capabilities", "set uid/gid",
                                         "no_new_privs", "seccomp", "setrlimit",     "exec"};

static void report(int fd, int kind, int step, int value) {
    Report r = {kind, step, value};
    ssize_t w = write(fd, &r, sizeof(r));
    (void)w;
}

static void child_fail(int rep, int step) __attribute__((noreturn));
static void child_fail(int rep, int step) {
    report(rep, 1, step, errno);
    _exit(127);
}

/* Runs in the forked program process; never returns. Order matters: ids and
 * capabilities are dropped before no_new_privs + seccomp, and the rlimits
 * come last so nothing here allocates under the address-space limit. */
static void exec_program(const Request *rq, const Limits *lim, char *const argv[], char *const envp[], int in_fd,
                         int out_fd, int err_fd, int rep_fd, const char *cwd, int drop_ids) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Move the four fds high first so the dup2s below cannot clobber each other. */
    int hi[4] = {in_fd, out_fd, err_fd, rep_fd};
    for (int i = 0; i < 4; i++)
        if ((hi[i] = fcntl(hi[i], F_DUPFD_CLOEXEC, 100)) < 0) child_fail(rep_fd, STEP_FDS);
    rep_fd = hi[3];
    if (dup2(hi[0], 0) < 0 || dup2(hi[1], 1) < 0 || dup2(hi[2], 2) < 0 || dup3(hi[3], 3, O_CLOEXEC) < 0)
        child_fail(rep_fd, STEP_FDS);
    rep_fd = 3;
    if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
        for (int fd = 4; fd < 4096; fd++) close(fd);
    }
    if (chdir(cwd) != 0) child_fail(rep_fd, STEP_CHDIR);
    /* Empty the capability bounding set while we may (needs CAP_SETPCAP), so
     * not even an exec as uid 0 of a user namespace could regain any. */
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM)
            child_fail(rep_fd, STEP_CAPS);
    if (drop_ids) {
        if (setgroups(0, NULL) != 0) child_fail(rep_fd, STEP_IDS);
        if (setresgid((gid_t)rq->gid, (gid_t)rq->gid, (gid_t)rq->gid) != 0) child_fail(rep_fd, STEP_IDS);
        if (setresuid((uid_t)rq->uid, (uid_t)rq->uid, (uid_t)rq->uid) != 0) child_fail(rep_fd, STEP_IDS);
    }
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) != 0) child_fail(rep_fd, STEP_CAPS);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(rep_fd, STEP_NNP);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &g_filter, 0, 0) != 0) child_fail(rep_fd, STEP_SECCOMP);
    struct {
        int res;
        rlim_t soft, hard;
    } rl[] = {
        {RLIMIT_CPU, (rlim_t)((lim->cpu_ms + 999) / 1000), (rlim_t)((lim->cpu_ms + 999) / 1000 + 1)},
        {RLIMIT_AS, (rlim_t)lim->mem, (rlim_t)lim->mem},
        {RLIMIT_STACK, (rlim_t)lim->stack, (rlim_t)lim->stack},
        {RLIMIT_FSIZE, (rlim_t)lim->fsize, (rlim_t)lim->fsize},
        {RLIMIT_NOFILE, (rlim_t)lim->nofile, (rlim_t)lim->nofile},
        {RLIMIT_NPROC, (rlim_t)lim->nproc, (rlim_t)lim->nproc},
        {RLIMIT_CORE, 0, 0},
        {RLIMIT_MEMLOCK, 0, 0},
        {RLIMIT_MSGQUEUE, 0, 0},
        {RLIMIT_LOCKS, 64, 64},
        {RLIMIT_SIGPENDING, 256, 256},
    };
    for (size_t i = 0; i < sizeof(rl) / sizeof(rl[0]); i++) {
        struct rlimit r = {rl[i].soft, rl[i].hard};
        if (setrlimit(rl[i].res, &r) != 0) child_fail(rep_fd, STEP_RLIMIT);
    }
    execve(argv[0], argv, envp);
    child_fail(rep_fd, STEP_EXEC);
}

static void on_alarm(int sig) {
    (void)sig;
    _exit(0);
}

/* pid 1 of the run's PID namespace: fresh /proc, pivot into the private
 * root, start the program, reap everything, leave when the program is gone
 * (taking the rest of the namespace with it). Never returns. */
static void run_init(const Request *rq, const Limits *lim, char *const argv[], char *const envp[], int in_fd,
                     int out_fd, int err_fd, int rep_fd) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_DUMPABLE, 0); /* inherited already; the program must never ptrace or /proc/1/mem us */
    close(0); /* the helper's request/response socket */
    close(1);
    /* Backstop deadline of our own, should the helper be gone. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm((unsigned)(lim->wall_ms / 1000 + 3));
    if (mount("proc", ROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid,hidepid=invisible") != 0 &&
        mount("proc", ROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") != 0 &&
        mount("proc", ROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        child_fail(rep_fd, STEP_PROC);
    if (chdir(ROOT) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
        child_fail(rep_fd, STEP_PIVOT);
    pid_t prog = fork();
    if (prog < 0) child_fail(rep_fd, STEP_FORK);
    if (prog == 0)
        exec_program(rq, lim, argv, envp, in_fd, out_fd, err_fd, rep_fd, "/work", rq->uid >= 0);
    close(in_fd);
    close(out_fd);
    close(err_fd);
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, __WALL);
        if (w == prog) {
            report(rep_fd, 2, 0, st);
            _exit(0);
        }
        if (w < 0 && errno != EINTR) _exit(0);
    }
}

/* Minimal mode: kill every process the run left. The helper is a child
 * subreaper, so orphans come back to it; with a slot uid, a killer process
 * running as that uid sends kill(-1) too, reaching anything of that uid. */
static void kill_descendants(pid_t pgid, long uid) {
    for (int round = 0; round < 2000; round++) {
        if (pgid > 0) kill(-pgid, SIGKILL);
        if (uid >= 0) {
            pid_t k = fork();
            if (k == 0) {
                if (setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) == 0 &&
                    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) == 0)
                    kill(-1, SIGKILL);
                _exit(0);
            }
            if (k > 0) waitpid(k, NULL, 0);
        }
        DIR *d = opendir("/proc");
        pid_t self = getpid();
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
            char path[300], buf[512];
            snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            ssize_t n = read(fd, buf, sizeof(buf) - 1);
            close(fd);
            if (n <= 0) continue;
            buf[n] = '\0';
            char *rp = strrchr(buf, ')');
            int ppid = 0;
            char state;
            if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == self) kill(atoi(e->d_name), SIGKILL);
        }
        if (d) closedir(d);
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, __WALL | WNOHANG)) > 0) {
        }
        if (w < 0 && errno == ECHILD) return;
        usleep(1000);
    }
}

static int append_capped(char **buf, size_t *len, size_t cap, const char *data, size_t n, int *over) {
    if (*len + n > cap) {
        n = cap - *len;
        *over = 1;
    }
    if (n) {
        char *nb = realloc(*buf, *len + n + 1);
        if (!nb) return -1;
        *buf = nb;
        memcpy(*buf + *len, data, n);
        *len += n;
        (*buf)[*len] = '\0';
    }
    return 0;
}

/* A memfd holding the run's stdin, read from offset 0; -1 with o->error
 * set. */
static int stdin_memfd(const char *input, size_t input_len, RunOut *o) {
    int fd = memfd_create("stdin", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(o->error, sizeof(o->error), "memfd_create: %s", strerror(errno));
        return -1;
    }
    if (wire_write_all(fd, input, input_len) != 0) {
        snprintf(o->error, sizeof(o->error), "write stdin: %s", strerror(errno));
        close(fd);
        return -1;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* Starts the run's child: in the namespace modes an init of a fresh PID
 * and mount namespace (run_init), in minimal mode the program itself.
 * Returns its pid, or -1 with errno set. */
static pid_t spawn_run(const Request *rq, int mode, const Limits *lim, char *const argv[], char *const envp[],
                       int in_fd, int out_fd, int err_fd, int rep_fd) {
    pid_t pid;
    if (mode == MODE_MINIMAL) {
        pid = fork();
        if (pid == 0) exec_program(rq, lim, argv, envp, in_fd, out_fd, err_fd, rep_fd, rq->workdir, rq->uid >= 0);
    } else {
        pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWPID | CLONE_NEWNS | SIGCHLD), NULL, NULL, NULL, NULL);
        if (pid == 0) run_init(rq, lim, argv, envp, in_fd, out_fd, err_fd, rep_fd);
    }
    return pid;
}

/* One run as the helper watches it. */
typedef struct {
    pid_t pid;         /* the run's child: init, or the program in minimal mode */
    int pidfd;         /* -1: no pidfd_open, so the child is polled every 10 ms */
    long deadline;     /* now_ms() at which the wall limit passes */
    int exited, killed;
    int timed_out;     /* the deadline passed */
    int over;          /* an output cap was hit (or capturing ran out of memory) */
    int status;        /* the child's wait status, once exited */
    struct rusage ru;  /* the child's usage, from wait4 */
} Watch;

static void watch_kill(Watch *w) {
    if (!w->exited && !w->killed) kill(w->pid, SIGKILL), w->killed = 1;
}

/* The child has been reaped. In minimal mode nothing else ends what it
 * started, so every descendant is killed now. */
static void watch_reaped(Watch *w, const Request *rq, int mode) {
    w->exited = 1;
    if (mode == MODE_MINIMAL) kill_descendants(w->pid, rq->uid);
}

/* Reads what fd has ready into *buf (at most cap bytes in all; past that,
 * or out of memory, the run is over its cap and killed). Returns 1 once fd
 * has ended, else 0. */
static int watch_read(Watch *w, int fd, char **buf, size_t *len, size_t cap, RunOut *o) {
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n > 0) {
        int hit = 0;
        if (append_capped(buf, len, cap, chunk, (size_t)n, &hit)) {
            snprintf(o->error, sizeof(o->error), "out of memory capturing output");
            hit = 1;
        }
        if (hit && !w->over) {
            w->over = 1;
            watch_kill(w);
        }
        return 0;
    }
    return n == 0 || (errno != EAGAIN && errno != EINTR);
}

/* Reaps the child once it is done (pid_ready: its pidfd says so); at the
 * deadline kills it, and without a pidfd to wait on reaps it at once. */
static void watch_child(Watch *w, int pid_ready, const Request *rq, int mode) {
    if (w->pidfd < 0 || pid_ready) {
        pid_t r = wait4(w->pid, &w->status, __WALL | (pid_ready ? 0 : WNOHANG), &w->ru);
        if (r == w->pid) watch_reaped(w, rq, mode);
    }
    if (!w->exited && now_ms() >= w->deadline) {
        w->timed_out = 1;
        watch_kill(w);
        if (w->pidfd < 0) {
            wait4(w->pid, &w->status, __WALL, &w->ru);
            watch_reaped(w, rq, mode);
        }
    }
}

/* Captures the run's stdout and stderr (lim->out bytes each) until the
 * child is gone and both pipes are drained, killing the child at the
 * deadline or when a cap is hit. */
static void watch_run(Watch *w, const Request *rq, int mode, const Limits *lim, int out_fd, int err_fd, RunOut *o) {
    int open_out = 1, open_err = 1;
    /* Phase 1: until the program tree is done (or killed). Phase 2: drain. */
    while (!w->exited || open_out || open_err) {
        struct pollfd p[3];
        int np = 0, i_out = -1, i_err = -1, i_pid = -1;
        if (open_out) p[i_out = np++] = (struct pollfd){out_fd, POLLIN, 0};
        if (open_err) p[i_err = np++] = (struct pollfd){err_fd, POLLIN, 0};
        if (!w->exited && w->pidfd >= 0) p[i_pid = np++] = (struct pollfd){w->pidfd, POLLIN, 0};
        long wait = 1000;
        if (!w->exited) {
            long left = w->deadline - now_ms();
            wait = left < 0 ? 0 : left;
            if (w->pidfd < 0 && wait > 10) wait = 10;
        }
        int pr = poll(p, (nfds_t)np, (int)wait);
        if (pr < 0 && errno != EINTR) break;
        const short ready = POLLIN | POLLHUP | POLLERR;
        const size_t cap = (size_t)lim->out;
        if (i_out >= 0 && (p[i_out].revents & ready) && watch_read(w, out_fd, &o->out, &o->out_len, cap, o))
            open_out = 0;
        if (i_err >= 0 && (p[i_err].revents & ready) && watch_read(w, err_fd, &o->err, &o->err_len, cap, o))
            open_err = 0;
        if (!w->exited)
            watch_child(w, i_pid >= 0 && (p[i_pid].revents & POLLIN), rq, mode);
        else if (pr == 0)
            break; /* a pipe stays open after every process is gone: cannot happen, but never hang */
    }
}

/* What the children said through the report pipe: a setup failure (sets
 * o->error, returns 0) or the program's wait status (*prog_status,
 * returns 1). Returns 0 if init died without a word. */
static int read_reports(int rep_fd, RunOut *o, int *prog_status) {
    fcntl(rep_fd, F_SETFL, O_NONBLOCK);
    Report r;
    int have_status = 0;
    while (read(rep_fd, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
        if (r.kind == 1) {
            snprintf(o->error, sizeof(o->error), "sandbox setup failed at %s: %s",
                     r.step > 0 && r.step <= STEP_EXEC ? step_names[r.step] : "?", strerror(r.value));
            return 0;
        }
        if (r.kind == 2) have_status = 1, *prog_status = r.value;
    }
    return have_status;
}

/* The run's verdict in o->status (and o->code, o->sig): a cap or the
 * deadline first, then how the program ended, with a kill near the memory
 * limit (or Python's MemoryError) counted as "memory". */
static void classify(const Request *rq, int mode, const Limits *lim, const Watch *w, int have_status,
                     int prog_status, RunOut *o) {
    if (mode == MODE_MINIMAL) have_status = 1, prog_status = w->status;
    o->code = -1;
    if (w->over) {
        o->status = "output";
    } else if (w->timed_out) {
        o->status = "time";
    } else if (!have_status) {
        /* init died without a word: its backstop alarm, or killed from inside (userns mode). */
        o->status = "signal";
        o->sig = WIFSIGNALED(w->status) ? WTERMSIG(w->status) : SIGKILL;
    } else if (WIFSIGNALED(prog_status)) {
        o->sig = WTERMSIG(prog_status);
        if (o->sig == SIGXCPU || (o->sig == SIGKILL && o->cpu_ms >= lim->cpu_ms)) o->status = "time";
        else if (o->maxrss_kb * 1024L >= lim->mem * 8 / 10) o->status = "memory";
        else o->status = "signal";
    } else {
        o->code = WEXITSTATUS(prog_status);
        if (o->code == 0) {
            o->status = "ok";
        } else if (o->maxrss_kb * 1024L >= lim->mem * 8 / 10 ||
                   (rq->lang == LANG_PYTHON && o->err && strstr(o->err, "\nMemoryError"))) {
            o->status = "memory";
        } else {
            o->status = "exit";
        }
    }
}

/* Runs argv with the given stdin and limits; fills *o. In the namespace modes
 * the program runs under a fresh init; in minimal mode directly. */
static void run_one(const Request *rq, int mode, const Limits *lim, char *const argv[], char *const envp[],
                    const char *input, size_t input_len, RunOut *o) {
    memset(o, 0, sizeof(*o));
    o->status = "error";
    int out[2] = {-1, -1}, err[2] = {-1, -1}, rep[2] = {-1, -1};
    Watch w;
    memset(&w, 0, sizeof(w));
    int in_fd = stdin_memfd(input, input_len, o);
    if (in_fd < 0) return;
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(rep, O_CLOEXEC)) {
        snprintf(o->error, sizeof(o->error), "pipe: %s", strerror(errno));
        goto done;
    }
    long t0 = now_ms();
    w.pid = spawn_run(rq, mode, lim, argv, envp, in_fd, out[1], err[1], rep[1]);
    if (w.pid < 0) {
        snprintf(o->error, sizeof(o->error), "%s: %s", mode == MODE_MINIMAL ? "fork" : "clone(CLONE_NEWPID)",
                 strerror(errno));
        goto done;
    }
    /* Only the children keep the write ends, so the pipes end with them. */
    close(out[1]);
    close(err[1]);
    close(rep[1]);
    out[1] = err[1] = rep[1] = -1;
    w.pidfd = (int)syscall(SYS_pidfd_open, w.pid, 0);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    w.deadline = t0 + lim->wall_ms;
    watch_run(&w, rq, mode, lim, out[0], err[0], o);
    if (w.pidfd >= 0) close(w.pidfd);
    o->wall_ms = now_ms() - t0;
    o->cpu_ms = (long)(w.ru.ru_utime.tv_sec + w.ru.ru_stime.tv_sec) * 1000 +
                (long)(w.ru.ru_utime.tv_usec + w.ru.ru_stime.tv_usec) / 1000;
    o->maxrss_kb = w.ru.ru_maxrss;

    int prog_status = 0;
    int have_status = read_reports(rep[0], o, &prog_status);
    if (!o->error[0]) classify(rq, mode, lim, &w, have_status, prog_status, o);
done:
    if (o->error[0]) o->status = "error";
    close(in_fd);
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0) close(out[i]);
        if (err[i] >= 0) close(err[i]);
        if (rep[i] >= 0) close(rep[i]);
    }
}

static void resp_run(const char *key, const char *out_key, const char *err_key, const RunOut *o) {
    char line[160];
    snprintf(line, sizeof(line), "%s %d %d %ld %ld %ld", o->status, o->code, o->sig, o->wall_ms, o->cpu_ms,
             o->maxrss_kb);
    resp_str(key, line);
    if (out_key) resp(out_key, o->out ? o->out : "", o->out_len);
    if (!strcmp(o->status, "error")) resp(err_key, o->error, strlen(o->error));
    else resp(err_key, o->err ? o->err : "", o->err_len);
}

/* ---- main ---- */

static int try_unshare(int flags) { return unshare(flags) == 0 ? 0 : -1; }

/* argv: grpo-sandbox [--parent PID] (*parent 0 without it). Returns -1,
 * after saying so on stderr, for anything else. */
static int parse_args(int argc, char **argv, pid_t *parent) {
    *parent = 0;
    if (argc == 3 && !strcmp(argv[1], "--parent")) {
        *parent = (pid_t)atol(argv[2]);
        return 0;
    }
    if (argc == 1) return 0;
    fprintf(stderr, "grpo-sandbox: internal helper of grpo (libgrpo talks to it on stdin/stdout); "
                    "not for use by hand\n");
    return -1;
}

/* Cuts the helper loose from what it inherited: it dies with its parent,
 * keeps no fd beyond stdin/stdout/stderr, leads a session of its own and
 * ignores SIGPIPE on its own writes. Returns -1 if the parent is gone
 * already (checked after the death signal is armed, so it cannot slip
 * away in between). */
static int detach(pid_t parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (parent && getppid() != parent) return -1; /* the trainer is already gone */
    layer("helper");
    /* Every inherited fd beyond stdin/stdout/stderr is closed. */
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
        for (int fd = 3; fd < 4096; fd++) close(fd);
    layer("closefds");
    setsid(); /* already a session leader when spawned by libgrpo (POSIX_SPAWN_SETSID) */
    if (getsid(0) == getpid()) layer("session");
    layer("pdeathsig");
    /* posix_spawn set our signal mask and dispositions to defaults already. */
    signal(SIGPIPE, SIG_IGN); /* our own writes; the children reset every disposition */
    return 0;
}

/* Reads the request from stdin into *rq, whose strings point into the
 * buffer read (kept for the life of the process). */
static int read_request(Request *rq) {
    char *buf = NULL;
    size_t len = 0;
    if (read_all_fd(0, &buf, &len) || parse_request(buf, len, rq)) return -1;
    return 0;
}

/* Settles who programs run as: the drop_uid test hook first (the helper
 * itself becomes that uid), then a slot uid only as root and always as
 * root (programs never run as root); the slot gid defaults to the slot
 * uid. Returns 1 if the helper is root, 0 if not, -1 on failure. */
static int settle_identity(Request *rq) {
    if (rq->drop_uid >= 0) {
        errno = 0;
        if (setgroups(0, NULL) || setresgid((gid_t)rq->drop_uid, (gid_t)rq->drop_uid, (gid_t)rq->drop_uid) ||
            setresuid((uid_t)rq->drop_uid, (uid_t)rq->drop_uid, (uid_t)rq->drop_uid))
            return fail("drop to uid %ld", rq->drop_uid);
        prctl(PR_SET_DUMPABLE, 1); /* else /proc/self/uid_map stays root's */
        rq->uid = rq->gid = -1;
    }
    int root = geteuid() == 0;
    if (!root) rq->uid = rq->gid = -1; /* slot uids need root */
    if (root && rq->uid <= 0) {
        errno = 0;
        return fail("running as root needs a slot uid (request record 'uid' > 0): programs never run as root");
    }
    if (rq->gid < 0) rq->gid = rq->uid;
    return root;
}

/* Unprivileged user namespace: maps the helper's own uid and gid, all a
 * process without CAP_SETUID may map (setgroups denied first, as the
 * kernel requires for the gid map). */
static int map_own_ids(uid_t real_uid, gid_t real_gid) {
    char map[96];
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)real_uid, (unsigned)real_uid);
    if (write_small("/proc/self/setgroups", "deny\n") || write_small("/proc/self/uid_map", map)) return -1;
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)real_gid, (unsigned)real_gid);
    return write_small("/proc/self/gid_map", map);
}

/* Moves the helper into new mount, net, IPC and UTS namespaces (and a user
 * namespace in "userns" mode): under "auto" the strongest mode the system
 * allows, else exactly the mode asked for. Returns the mode, or -1. In
 * "userns" mode without root the programs keep the helper's identity
 * (rq->uid and rq->gid become -1). */
static int enter_namespaces(Request *rq, int root) {
    int mode = rq->mode;
    const int ns_flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
    uid_t real_uid = getuid();
    gid_t real_gid = getgid();
    if (mode == MODE_AUTO || mode == MODE_FULL) {
        errno = 0;
        if (root && try_unshare(ns_flags) == 0) mode = MODE_FULL;
        else if (rq->mode == MODE_FULL)
            return fail(root ? "mode 'full': cannot create namespaces (unshare)" : "mode 'full' needs root");
        else mode = MODE_USERNS;
    }
    if (mode == MODE_USERNS) {
        g_err[0] = '\0';
        if (root && unshare_userns_mapped(ns_flags, rq->uid, rq->gid) == 0) {
            /* Root without CAP_SYS_ADMIN (a container): the slot uid is mapped, so
             * the program never runs as (mapped) root. */
        } else if (root && g_err[0]) {
            return -1; /* the namespace exists but its map could not be written */
        } else if (!root && try_unshare(CLONE_NEWUSER | ns_flags) == 0) {
            if (map_own_ids(real_uid, real_gid)) return -1;
            rq->uid = rq->gid = -1;
        } else if (rq->mode == MODE_USERNS) {
            return fail("mode 'userns': cannot create a user namespace (unshare(CLONE_NEWUSER)); enable "
                        "unprivileged user namespaces or run as root");
        } else {
            mode = MODE_MINIMAL;
        }
    }
    return mode;
}

/* Puts the source where the programs will find it. Namespace modes: the
 * hostname "sandbox" and the private root at ROOT, the source in its
 * /work. Minimal mode: the helper becomes a child subreaper (so orphans
 * come back to it) and writes the source into the library's workdir. */
static int prepare_files(const Request *rq, int mode) {
    uid_t uid = rq->uid >= 0 ? (uid_t)rq->uid : getuid();
    gid_t gid = rq->gid >= 0 ? (gid_t)rq->gid : getgid();
    if (mode != MODE_MINIMAL) {
        if (mode == MODE_USERNS) layer("userns");
        layer("mntns");
        layer("netns");
        layer("ipcns");
        layer("utsns");
        if (sethostname("sandbox", 7) != 0) return fail("sethostname");
        if (build_root(rq, uid, gid)) return -1;
        layer("pidns");
        layer("privroot");
        layer("proc");
        layer("tmpfs");
        return 0;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) == 0) layer("subreaper");
    errno = 0;
    if (rq->workdir[0] != '/') return fail("minimal mode needs an absolute workdir");
    int wfd = open(rq->workdir, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (wfd < 0) return fail("open workdir %s", rq->workdir);
    int rc = write_file_at(wfd, rq->lang == LANG_C ? "main.c" : "main.py", rq->source, rq->source_len, 0644, rq->uid,
                           rq->gid);
    close(wfd);
    return rc;
}

/* Builds the seccomp filter and sends the layers: what the helper has set
 * up, then what every program gets (exec_program, run_one). */
static int seal_layers(const Request *rq) {
    if (rq->uid >= 0) {
        char l[32];
        snprintf(l, sizeof(l), "uid=%ld", rq->uid);
        layer(l);
    }
    if (build_filter()) return -1;
    layer("nonewprivs");
    layer("seccomp");
    layer("rlimits");
    layer("deadline");
    layer("outcap");
    layer("cleanenv");
    resp_str("layers", g_layers);
    return 0;
}

/* Compiles main.c into main and reports it. Returns 0 if it compiled. */
static int compile_source(Request *rq, int mode, char *const envp[]) {
    char *cargv[48];
    int n = 0;
    cargv[n++] = rq->cc;
    for (int i = 0; i < rq->n_cflags; i++) cargv[n++] = rq->cflags[i];
    cargv[n++] = "-o";
    cargv[n++] = "main";
    cargv[n++] = "main.c";
    cargv[n++] = "-lm";
    cargv[n] = NULL;
    RunOut o;
    run_one(rq, mode, &rq->compile, cargv, envp, "", 0, &o);
    resp_run("compile", NULL, "compile.stderr", &o);
    int ok = !strcmp(o.status, "ok");
    free(o.out);
    free(o.err);
    return ok ? 0 : -1;
}

/* Runs the program once per input and reports each run; stops after a
 * sandbox error or a timeout, and with stop_on_error after any failure. */
static void run_inputs(Request *rq, int mode, char *const envp[]) {
    char *pyargv[] = {rq->python, "-I", "-B", "main.py", NULL};
    char *cbin[] = {"./main", NULL};
    char *const *rargv = rq->lang == LANG_C ? cbin : pyargv;
    for (size_t i = 0; i < rq->n_inputs; i++) {
        RunOut o;
        run_one(rq, mode, &rq->run, rargv, envp, rq->inputs[i], rq->input_lens[i], &o);
        resp_run("run", "stdout", "stderr", &o);
        int bad = strcmp(o.status, "ok") != 0;
        int stop = !strcmp(o.status, "error") || !strcmp(o.status, "time") || (rq->stop_on_error && bad);
        free(o.out);
        free(o.err);
        if (stop) break;
    }
}

/* The steps in order, each needing the ones before it: detach (inherited
 * fds closed before any child exists), the request, the identity (a slot
 * uid is mapped into the user namespace), the namespaces, the dumpable
 * flag cleared (only once the helper's own id maps are written), the files
 * (inside the private root), the filter; then the runs. In each run's
 * child exec_program applies the per-program layers: the capability
 * bounding set, ids, capabilities, no_new_privs, seccomp, rlimits, in that
 * order. */
int main(int argc, char **argv) {
    pid_t parent;
    if (parse_args(argc, argv, &parent)) return 2;
    if (detach(parent)) return 1;
    resp_str("version", SANDBOX_WIRE_VERSION);
    Request rq;
    if (read_request(&rq)) die_sandbox_error();
    int root = settle_identity(&rq);
    if (root < 0) die_sandbox_error();
    int mode = enter_namespaces(&rq, root);
    if (mode < 0) die_sandbox_error();
    /* From here on no process of ours is dumpable: in userns mode the program
     * shares our uid, and a dumpable init would let it open /proc/1/mem.
     * Not earlier: the helper writes its own uid_map while dumpable. */
    prctl(PR_SET_DUMPABLE, 0);
    resp_str("mode", mode_names[mode]);
    if (prepare_files(&rq, mode)) die_sandbox_error();
    if (seal_layers(&rq)) die_sandbox_error();

    /* The environment of every sandboxed process: nothing but these. */
    char tmpdir_env[PATH_MAX + 8];
    snprintf(tmpdir_env, sizeof(tmpdir_env), "TMPDIR=%s", mode == MODE_MINIMAL ? rq.workdir : "/tmp");
    char *envp[] = {"PATH=/usr/bin:/bin", "LANG=C", tmpdir_env, NULL};
    if (rq.lang == LANG_C && compile_source(&rq, mode, envp)) finish(0);
    run_inputs(&rq, mode, envp);
    finish(0);
}
