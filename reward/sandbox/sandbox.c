/*
 * sandbox.c: the library side of the code sandbox (see sandbox.h): config,
 * finding and spawning the grpo-sandbox helper, the request/response
 * exchange, slot uids, the worker pool and symlink-safe cleanup.
 * Not for: the isolation itself (reward/sandbox/helper/grpo_sandbox.c) or
 * judging outputs (reward/code.c).
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "common/json.h"
#include "reward/reward_text.h"
#include "sandbox_wire.h"

extern char **environ;

#ifndef GRPO_SANDBOX_HELPER_INSTALLED
#define GRPO_SANDBOX_HELPER_INSTALLED "/usr/local/bin/grpo-sandbox"
#endif
#define HELPER_NAME "grpo-sandbox"

static const char *const verdict_names[SANDBOX_N_VERDICTS] = {
    "passed", "failed", "compile_error", "runtime_error", "time_limit", "memory_limit", "output_limit", "sandbox_error",
};

const char *sandbox_verdict_name(SandboxVerdict v) {
    return (unsigned)v < SANDBOX_N_VERDICTS ? verdict_names[v] : "?";
}

const char *sandbox_lang_name(SandboxLang l) { return l == SANDBOX_LANG_C ? "c" : "python"; }

static const char *const mode_names[] = {"auto", "full", "userns", "minimal"};

/* ---- config ---- */

void sandbox_config_default(SandboxConfig *c) {
    memset(c, 0, sizeof(*c));
    c->mode = SANDBOX_MODE_AUTO;
    snprintf(c->python, sizeof(c->python), "/usr/bin/python3");
    snprintf(c->cc, sizeof(c->cc), "/usr/bin/gcc");
    snprintf(c->cflags[0], sizeof(c->cflags[0]), "-O2");
    snprintf(c->cflags[1], sizeof(c->cflags[1]), "-pipe");
    c->n_cflags = 2;
    c->run = (SandboxLimits){.wall_seconds = 4,
                             .cpu_seconds = 4,
                             .memory_bytes = (size_t)512 << 20,
                             .stack_bytes = (size_t)64 << 20,
                             .file_bytes = (size_t)16 << 20,
                             .output_bytes = (size_t)1 << 20,
                             .open_files = 64,
                             .processes = 32};
    c->compile = (SandboxLimits){.wall_seconds = 20,
                                 .cpu_seconds = 10,
                                 .memory_bytes = (size_t)1 << 30,
                                 .stack_bytes = (size_t)64 << 20,
                                 .file_bytes = (size_t)64 << 20,
                                 .output_bytes = (size_t)64 << 10,
                                 .open_files = 64,
                                 .processes = 16};
    c->tmpfs_bytes = (size_t)64 << 20;
    c->tmpfs_inodes = 4096;
    c->uid_base = 61000;
    snprintf(c->work_root, sizeof(c->work_root), "/tmp");
    c->drop_uid = -1;
}

static const char *const config_keys[] = {
    "mode",        "helper",           "python",           "cc",          "cflags",      "timeout",
    "cpu_time",    "memory_mb",        "stack_mb",         "file_mb",     "output_kb",   "open_files",
    "processes",   "compile_timeout",  "compile_cpu_time", "compile_memory_mb", "tmpfs_mb", "tmpfs_inodes",
    "uid_base",    "work_root",        "helper_uid",
};

const char *const *sandbox_config_keys(size_t *n) {
    *n = sizeof(config_keys) / sizeof(config_keys[0]);
    return config_keys;
}

static int get_path(const cJSON *obj, const char *path, const char *key, char *dst, size_t cap, int absolute) {
    const char *s = NULL;
    if (json_get_string(obj, path, key, &s)) return -1;
    if (!s) return 0;
    if (strlen(s) >= cap) return ERR("%s.%s: longer than %zu characters", path, key, cap - 1);
    if (absolute && s[0] != '/')
        return ERR("%s.%s: '%s' must be an absolute path (the sandbox has no PATH search)", path, key, s);
    snprintf(dst, cap, "%s", s);
    return 0;
}

static int get_mb(const cJSON *obj, const char *path, const char *key, long lo, long hi, size_t scale, size_t *dst) {
    long v = -1;
    if (json_get_int(obj, path, key, lo, hi, &v)) return -1;
    if (v >= 0) *dst = (size_t)v * scale;
    return 0;
}

int sandbox_config_parse(const cJSON *obj, const char *path, SandboxConfig *c) {
    if (!obj) return 0;
    size_t nk;
    const char *const *keys = sandbox_config_keys(&nk);
    if (json_check_keys(obj, path, keys, nk)) return -1;
    const char *mode = NULL;
    if (json_get_string(obj, path, "mode", &mode)) return -1;
    if (mode) {
        int found = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(mode, mode_names[i])) found = i;
        if (found < 0) return ERR("%s.mode: '%s' is not a mode; valid: auto, full, userns, minimal", path, mode);
        c->mode = (SandboxMode)found;
    }
    if (get_path(obj, path, "helper", c->helper, sizeof(c->helper), 1) ||
        get_path(obj, path, "python", c->python, sizeof(c->python), 1) ||
        get_path(obj, path, "cc", c->cc, sizeof(c->cc), 1) ||
        get_path(obj, path, "work_root", c->work_root, sizeof(c->work_root), 1))
        return -1;
    const cJSON *flags = cJSON_GetObjectItemCaseSensitive(obj, "cflags");
    if (flags) {
        if (!cJSON_IsArray(flags)) return ERR("%s.cflags: expected an array of strings such as [\"-O2\"]", path);
        int n = 0;
        for (const cJSON *f = flags->child; f; f = f->next, n++) {
            if (n >= SANDBOX_MAX_CFLAGS) return ERR("%s.cflags: at most %d flags", path, SANDBOX_MAX_CFLAGS);
            if (!cJSON_IsString(f) || !f->valuestring[0] || strlen(f->valuestring) >= sizeof(c->cflags[0]))
                return ERR("%s.cflags[%d]: expected a non-empty string of at most %zu characters", path, n,
                           sizeof(c->cflags[0]) - 1);
            snprintf(c->cflags[n], sizeof(c->cflags[n]), "%s", f->valuestring);
        }
        c->n_cflags = n;
    }
    if (json_get_double(obj, path, "timeout", 0.05, 3600, &c->run.wall_seconds) ||
        json_get_double(obj, path, "cpu_time", 0.05, 3600, &c->run.cpu_seconds) ||
        json_get_double(obj, path, "compile_timeout", 0.5, 3600, &c->compile.wall_seconds) ||
        json_get_double(obj, path, "compile_cpu_time", 0.5, 3600, &c->compile.cpu_seconds))
        return -1;
    long v = -1;
    if (get_mb(obj, path, "memory_mb", 16, 1 << 20, (size_t)1 << 20, &c->run.memory_bytes) ||
        get_mb(obj, path, "stack_mb", 1, 1 << 16, (size_t)1 << 20, &c->run.stack_bytes) ||
        get_mb(obj, path, "file_mb", 1, 1 << 20, (size_t)1 << 20, &c->run.file_bytes) ||
        get_mb(obj, path, "output_kb", 1, 1 << 20, (size_t)1 << 10, &c->run.output_bytes) ||
        get_mb(obj, path, "compile_memory_mb", 64, 1 << 20, (size_t)1 << 20, &c->compile.memory_bytes) ||
        get_mb(obj, path, "tmpfs_mb", 1, 1 << 20, (size_t)1 << 20, &c->tmpfs_bytes) ||
        get_mb(obj, path, "tmpfs_inodes", 16, 1 << 24, 1, &c->tmpfs_inodes))
        return -1;
    if (json_get_int(obj, path, "open_files", 8, 1 << 16, &v)) return -1;
    if (v >= 0) c->run.open_files = (int)v;
    v = -1;
    if (json_get_int(obj, path, "processes", 1, 1 << 16, &v)) return -1;
    if (v >= 0) c->run.processes = (int)v;
    if (json_get_int(obj, path, "uid_base", 1000, 2000000000L, &c->uid_base)) return -1;
    if (json_get_int(obj, path, "helper_uid", 1, 2000000000L, &c->drop_uid)) return -1;
    return 0;
}

/* ---- the helper ---- */

static int executable(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* dir of `file` + "/" + rel into out; 0 if it names an executable. */
static int try_beside(const char *file, const char *rel, char *out, size_t cap) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", file);
    char *slash = strrchr(tmp, '/');
    if (!slash) return -1;
    *slash = '\0';
    if ((size_t)snprintf(out, cap, "%s/%s", tmp, rel) >= cap) return -1;
    return executable(out) ? 0 : -1;
}

int sandbox_find_helper(const SandboxConfig *c, char *out, size_t cap) {
    if (c->helper[0]) {
        if (!executable(c->helper))
            return ERR("sandbox.helper: '%s' is not an executable file; build it with `make grpo-sandbox` or "
                       "remove the key to use the installed one",
                       c->helper);
        snprintf(out, cap, "%s", c->helper);
        return 0;
    }
    const char *env = getenv("GRPO_SANDBOX_HELPER");
    if (env && env[0]) {
        if (!executable(env)) return ERR("GRPO_SANDBOX_HELPER='%s' is not an executable file", env);
        snprintf(out, cap, "%s", env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        if (try_beside(exe, HELPER_NAME, out, cap) == 0) return 0;
    }
    Dl_info info;
    if (dladdr((void *)sandbox_find_helper, &info) && info.dli_fname && info.dli_fname[0] == '/') {
        if (try_beside(info.dli_fname, HELPER_NAME, out, cap) == 0) return 0;
        if (try_beside(info.dli_fname, "../bin/" HELPER_NAME, out, cap) == 0) return 0;
        if (try_beside(info.dli_fname, "../libexec/" HELPER_NAME, out, cap) == 0) return 0;
    }
    if (executable(GRPO_SANDBOX_HELPER_INSTALLED)) {
        snprintf(out, cap, "%s", GRPO_SANDBOX_HELPER_INSTALLED);
        return 0;
    }
    return ERR("cannot find the %s helper (looked beside %s, beside libgrpo, and at %s); it is built with grpo "
               "(target grpo-sandbox) and installed next to it; or set sandbox.helper or $GRPO_SANDBOX_HELPER",
               HELPER_NAME, n > 0 ? exe : "the executable", GRPO_SANDBOX_HELPER_INSTALLED);
}

/* ---- cleanup that never follows a symlink ---- */

/* Walks down by descriptor (openat O_NOFOLLOW|O_DIRECTORY), back up by "..",
 * which is never a symlink; a stack of names lets us rmdir on the way up. */
int sandbox_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : ERR("cannot stat %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0) return ERR("cannot remove %s: %s", path, strerror(errno));
        return 0;
    }
    int cur = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cur < 0) return ERR("cannot open %s: %s", path, strerror(errno));
    char **stack = NULL;
    size_t depth = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (geteuid() != 0) (void)fchmod(cur, 0700); /* a program may have left a directory unreadable */
        int dup_fd = dup(cur);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
            if (dup_fd >= 0) close(dup_fd);
            rc = ERR("cannot read a directory under %s: %s", path, strerror(errno));
            break;
        }
        char *descend = NULL;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            int is_dir = e->d_type == DT_DIR;
            if (e->d_type == DT_UNKNOWN) {
                struct stat es;
                is_dir = fstatat(cur, e->d_name, &es, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(es.st_mode);
            }
            if (is_dir) {
                descend = xstrdup(e->d_name);
                break;
            }
            if (unlinkat(cur, e->d_name, 0) != 0 && errno != ENOENT) {
                rc = ERR("cannot remove %s under %s: %s", e->d_name, path, strerror(errno));
                break;
            }
        }
        closedir(d);
        if (rc) {
            free(descend);
            break;
        }
        if (descend) {
            int next = openat(cur, descend, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0) {
                /* Not a directory after all (replaced): unlink the entry itself. */
                if (unlinkat(cur, descend, 0) != 0 && unlinkat(cur, descend, AT_REMOVEDIR) != 0) {
                    rc = ERR("cannot remove %s under %s: %s", descend, path, strerror(errno));
                    free(descend);
                    break;
                }
                free(descend);
                continue;
            }
            if (depth == cap) {
                cap = cap ? 2 * cap : 64;
                stack = xrealloc(stack, cap * sizeof(*stack));
            }
            stack[depth++] = descend;
            close(cur);
            cur = next;
            continue;
        }
        if (depth == 0) break;
        int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (up < 0) {
            rc = ERR("cannot go back up under %s: %s", path, strerror(errno));
            break;
        }
        close(cur);
        cur = up;
        char *name = stack[--depth];
        if (unlinkat(cur, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
            rc = ERR("cannot remove directory %s under %s: %s", name, path, strerror(errno));
        free(name);
        if (rc) break;
    }
    close(cur);
    while (depth) free(stack[--depth]);
    free(stack);
    if (rc) return rc;
    if (rmdir(path) != 0 && errno != ENOENT) return ERR("cannot remove %s: %s", path, strerror(errno));
    return 0;
}

/* ---- slots ---- */

typedef struct {
    long uid;    /* -1 when not root */
    int lock_fd; /* held flock on the uid's lock file */
} Slot;

struct SandboxPool {
    SandboxConfig cfg;
    char helper[PATH_MAX];
    Slot *slots;
    int workers;
    SandboxMode mode; /* as settled by the probe */
    char mode_name[16];
    char layers[512];
};

static const char *lock_dir(void) {
    static const char *const dirs[] = {"/run/grpo-sandbox", "/tmp/grpo-sandbox-uids"};
    for (size_t i = 0; i < 2; i++) {
        if (mkdir(dirs[i], 0700) != 0 && errno != EEXIST) continue;
        struct stat st;
        /* Ours only: a directory (not a symlink) owned by root and closed to others. */
        if (lstat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & 022) == 0)
            return dirs[i];
    }
    return NULL;
}

/* Claims the first uid >= base that has no passwd entry and whose lock file
 * we can flock. */
static int claim_uid(long base, Slot *s) {
    const char *dir = lock_dir();
    if (!dir) return ERR("sandbox: cannot make a private lock directory (/run/grpo-sandbox or /tmp/grpo-sandbox-uids)");
    char buf[4096];
    for (long uid = base; uid < base + 100000; uid++) {
        struct passwd pw, *res = NULL;
        if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res) continue;
        char path[128];
        snprintf(path, sizeof(path), "%s/uid-%ld.lock", dir, uid);
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) return ERR("sandbox: cannot open %s: %s", path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            s->uid = uid;
            s->lock_fd = fd;
            return 0;
        }
        close(fd);
    }
    return ERR("sandbox: no free uid in [%ld, %ld)", base, base + 100000);
}

/* ---- one job on one slot ---- */

static void limits_str(const SandboxLimits *l, char *buf, size_t cap) {
    long wall = (long)(l->wall_seconds * 1000 + 0.5), cpu = (long)(l->cpu_seconds * 1000 + 0.5);
    snprintf(buf, cap, "%ld %ld %zu %zu %zu %d %d %zu", wall > 0 ? wall : 1, cpu > 0 ? cpu : 1, l->memory_bytes,
             l->stack_bytes, l->file_bytes, l->open_files, l->processes, l->output_bytes);
}

static char *build_request(const SandboxPool *p, const Slot *s, SandboxMode mode, const SandboxJob *job,
                           const char *workdir, size_t *len_out) {
    const SandboxConfig *c = &p->cfg;
    char *buf = NULL, tmp[256];
    size_t len = 0, cap = 0;
    int bad = 0;
#define PUT(k, v) bad |= wire_append_str(&buf, &len, &cap, k, v)
    PUT("version", SANDBOX_WIRE_VERSION);
    PUT("mode", mode_names[mode]);
    if (s->uid >= 0) {
        snprintf(tmp, sizeof(tmp), "%ld", s->uid);
        PUT("uid", tmp);
        PUT("gid", tmp);
    }
    if (c->drop_uid >= 0) {
        snprintf(tmp, sizeof(tmp), "%ld", c->drop_uid);
        PUT("drop_uid", tmp);
    }
    PUT("lang", sandbox_lang_name(job->lang));
    PUT("python", c->python);
    PUT("cc", c->cc);
    for (int i = 0; i < c->n_cflags; i++) PUT("cflag", c->cflags[i]);
    limits_str(&c->compile, tmp, sizeof(tmp));
    PUT("limits.compile", tmp);
    limits_str(&c->run, tmp, sizeof(tmp));
    PUT("limits.run", tmp);
    snprintf(tmp, sizeof(tmp), "%zu %zu", c->tmpfs_bytes, c->tmpfs_inodes);
    PUT("tmpfs", tmp);
    if (workdir) PUT("workdir", workdir);
    PUT("stop_on_error", job->stop_on_error ? "1" : "0");
    bad |= wire_append(&buf, &len, &cap, "source", job->source, job->source_len);
    for (size_t i = 0; i < job->n_inputs; i++)
        bad |= wire_append(&buf, &len, &cap, "input", job->inputs[i], job->input_lens[i]);
    PUT("end", "");
#undef PUT
    if (bad) FATAL("out of memory building a sandbox request");
    *len_out = len;
    return buf;
}

static int parse_run(const char *val, size_t vlen, SandboxRun *r) {
    char tmp[192], status[16];
    if (vlen >= sizeof(tmp)) return -1;
    memcpy(tmp, val, vlen);
    tmp[vlen] = '\0';
    long wall, cpu, rss;
    if (sscanf(tmp, "%15s %d %d %ld %ld %ld", status, &r->exit_code, &r->signal, &wall, &cpu, &rss) != 6) return -1;
    static const char *const names[] = {"ok", "exit", "signal", "time", "memory", "output", "error"};
    int st = -1;
    for (int i = 0; i < 7; i++)
        if (!strcmp(status, names[i])) st = i;
    if (st < 0) return -1;
    r->status = (SandboxRunStatus)st;
    r->wall_seconds = (double)wall / 1000.0;
    r->cpu_seconds = (double)cpu / 1000.0;
    r->maxrss_kb = rss;
    return 0;
}

/* Parses the helper's response into r. Fails on a malformed message. */
static int parse_response(const char *buf, size_t len, SandboxResult *r, char *mode, size_t mode_cap, char *layers,
                          size_t layers_cap) {
    size_t pos = 0, cap_runs = 0;
    char key[SANDBOX_WIRE_KEY_MAX];
    const char *val;
    size_t vlen;
    int rc, saw_end = 0;
    SandboxRun *cur = NULL;
    while ((rc = wire_next(buf, len, &pos, key, &val, &vlen)) == 1) {
        if (!strcmp(key, "version")) {
            if (vlen != strlen(SANDBOX_WIRE_VERSION) || memcmp(val, SANDBOX_WIRE_VERSION, vlen))
                return ERR("the grpo-sandbox helper speaks another wire version; reinstall grpo so libgrpo and "
                           "the helper match");
        } else if (!strcmp(key, "mode")) {
            if (mode) snprintf(mode, mode_cap, "%.*s", (int)vlen, val);
        } else if (!strcmp(key, "layers")) {
            if (layers) snprintf(layers, layers_cap, "%.*s", (int)vlen, val);
        } else if (!strcmp(key, "error")) {
            free(r->error);
            r->error = rtext_ndup(val, vlen);
        } else if (!strcmp(key, "compile")) {
            r->has_compile = 1;
            cur = &r->compile;
            if (parse_run(val, vlen, cur)) return ERR("malformed compile record from the sandbox helper");
        } else if (!strcmp(key, "run")) {
            if (r->n_runs == cap_runs) {
                cap_runs = cap_runs ? 2 * cap_runs : 8;
                r->runs = xrealloc(r->runs, cap_runs * sizeof(*r->runs));
            }
            cur = &r->runs[r->n_runs++];
            memset(cur, 0, sizeof(*cur));
            if (parse_run(val, vlen, cur)) return ERR("malformed run record from the sandbox helper");
        } else if (!strcmp(key, "stdout") && cur) {
            free(cur->out);
            cur->out = rtext_ndup(val, vlen);
            cur->out_len = vlen;
        } else if ((!strcmp(key, "stderr") || !strcmp(key, "compile.stderr")) && cur) {
            free(cur->err);
            cur->err = rtext_ndup(val, vlen);
            cur->err_len = vlen;
        } else if (!strcmp(key, "end")) {
            saw_end = 1;
            break;
        } else {
            return ERR("unexpected record '%s' from the sandbox helper", key);
        }
    }
    if (rc < 0) return ERR("malformed response from the sandbox helper at byte %zu", pos);
    if (!saw_end) return ERR("the sandbox helper's response is truncated (it died?)");
    /* Every run carries out/err, even empty. */
    for (size_t i = 0; i < r->n_runs; i++) {
        if (!r->runs[i].out) r->runs[i].out = xstrdup("");
        if (!r->runs[i].err) r->runs[i].err = xstrdup("");
    }
    if (r->has_compile) {
        if (!r->compile.out) r->compile.out = xstrdup("");
        if (!r->compile.err) r->compile.err = xstrdup("");
    }
    return 0;
}

/* Spawns the helper, sends the request, collects the response within
 * `timeout` seconds (else kills the helper). Returns 0 with the response in
 * *resp, or -1 with ERR. */
static int exchange(const char *helper, const char *req, size_t req_len, double timeout, char **resp,
                    size_t *resp_len) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return ERR("sandbox: socketpair: %s", strerror(errno));
    /* The child's end must not be fd 0/1/2 (dup2 onto itself would keep CLOEXEC). */
    if (sv[1] < 3) {
        int hi = fcntl(sv[1], F_DUPFD_CLOEXEC, 3);
        close(sv[1]);
        sv[1] = hi;
        if (hi < 0) {
            close(sv[0]);
            return ERR("sandbox: fcntl: %s", strerror(errno));
        }
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
#ifdef POSIX_SPAWN_SETSID
    flags |= POSIX_SPAWN_SETSID;
#endif
    posix_spawnattr_setflags(&at, flags);
    char parent[32];
    snprintf(parent, sizeof(parent), "%ld", (long)getpid());
    char *argv[] = {(char *)helper, "--parent", parent, NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", "LANG=C", NULL};
    pid_t pid;
    int e = posix_spawn(&pid, helper, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(sv[1]);
    if (e != 0) {
        close(sv[0]);
        return ERR("sandbox: cannot start %s: %s", helper, strerror(e));
    }
    int fd = sv[0];
    fcntl(fd, F_SETFL, O_NONBLOCK);
    size_t sent = 0, len = 0, cap = 1 << 16;
    char *buf = xmalloc(cap);
    double deadline = now_seconds() + timeout;
    int rc = 0, eof = 0;
    while (!eof) {
        double left = deadline - now_seconds();
        if (left <= 0) {
            rc = ERR("sandbox: the helper did not answer within %.0f s (killed it)", timeout);
            break;
        }
        struct pollfd pf = {fd, (short)(POLLIN | (sent < req_len ? POLLOUT : 0)), 0};
        int pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr < 0) {
            rc = ERR("sandbox: poll: %s", strerror(errno));
            break;
        }
        if (pr == 0) continue;
        if ((pf.revents & POLLOUT) && sent < req_len) {
            ssize_t w = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
            if (w > 0) sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR) sent = req_len; /* it died; read what it said */
            if (sent == req_len) shutdown(fd, SHUT_WR); /* the helper reads the request to EOF */
        }
        if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (len == cap) {
                cap *= 2;
                buf = xrealloc(buf, cap);
            }
            ssize_t r = read(fd, buf + len, cap - len);
            if (r > 0) len += (size_t)r;
            else if (r == 0 || (errno != EAGAIN && errno != EINTR)) eof = 1;
        }
    }
    close(fd);
    if (rc) kill(pid, SIGKILL);
    int st = 0; /* stays 0 if the process ignores SIGCHLD (children reaped by the kernel) */
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (rc) {
        free(buf);
        return rc;
    }
    if (len == 0) {
        free(buf);
        if (WIFSIGNALED(st)) return ERR("sandbox: the helper %s died with signal %d", helper, WTERMSIG(st));
        return ERR("sandbox: the helper %s exited (%d) without an answer", helper, WEXITSTATUS(st));
    }
    *resp = buf;
    *resp_len = len;
    return 0;
}

static double job_timeout(const SandboxConfig *c, const SandboxJob *j) {
    double t = 10.0 + (j->lang == SANDBOX_LANG_C ? c->compile.wall_seconds + 1.0 : 0.0);
    return t + (double)j->n_inputs * (c->run.wall_seconds + 1.0);
}

/* Runs one job on slot s with the given mode; on return *r is filled (its
 * error set for a sandbox error). mode_out/layers_out get the helper's report. */
static void run_job(SandboxPool *p, Slot *s, SandboxMode mode, const SandboxJob *job, SandboxResult *r,
                    char *mode_out, size_t mode_cap, char *layers_out, size_t layers_cap) {
    memset(r, 0, sizeof(*r));
    char workdir[PATH_MAX] = {0};
    if (mode == SANDBOX_MODE_MINIMAL) {
        snprintf(workdir, sizeof(workdir), "%s/grpo-sandbox-XXXXXX", p->cfg.work_root);
        if (!mkdtemp(workdir)) {
            r->error = xstrdup("sandbox: cannot make a run directory under work_root");
            return;
        }
        if (s->uid >= 0 && chown(workdir, (uid_t)s->uid, (gid_t)s->uid) != 0) {
            r->error = xstrdup("sandbox: cannot give the run directory to the slot uid");
            rmdir(workdir);
            return;
        }
    }
    size_t req_len, resp_len = 0;
    char *req = build_request(p, s, mode, job, workdir[0] ? workdir : NULL, &req_len);
    char *resp = NULL;
    if (exchange(p->helper, req, req_len, job_timeout(&p->cfg, job), &resp, &resp_len) ||
        parse_response(resp, resp_len, r, mode_out, mode_cap, layers_out, layers_cap)) {
        free(r->error);
        r->error = xstrdup(err_msg());
    }
    free(req);
    free(resp);
    if (workdir[0] && sandbox_remove_tree(workdir) != 0) log_warn("sandbox: cleanup: %s", err_msg());
}

void sandbox_result_free(SandboxResult *r) {
    free(r->error);
    free(r->compile.out);
    free(r->compile.err);
    for (size_t i = 0; i < r->n_runs; i++) {
        free(r->runs[i].out);
        free(r->runs[i].err);
    }
    free(r->runs);
    memset(r, 0, sizeof(*r));
}

/* ---- the pool ---- */

const char *sandbox_pool_mode(const SandboxPool *p) { return p->mode_name; }
const char *sandbox_pool_layers(const SandboxPool *p) { return p->layers; }
int sandbox_pool_workers(const SandboxPool *p) { return p->workers; }
const SandboxConfig *sandbox_pool_config(const SandboxPool *p) { return &p->cfg; }

static const char *probe_src[2] = {"print('ok')\n", "#include <stdio.h>\nint main(void) { puts(\"ok\"); return 0; }\n"};

/* The probe checks that a program runs at all, not how fast: it gets at
 * least these limits (seconds), so that a loaded machine (a Python start
 * that waits seconds for a CPU) does not fail a pool whose limits are short. */
#define PROBE_WALL 30.0
#define PROBE_CPU 10.0

static void limits_at_least(SandboxLimits *l, double wall, double cpu) {
    if (l->wall_seconds < wall) l->wall_seconds = wall;
    if (l->cpu_seconds < cpu) l->cpu_seconds = cpu;
}

SandboxPool *sandbox_pool_new(const SandboxConfig *cfg, int workers, const SandboxLang *langs, size_t n_langs) {
    if (workers < 1 || workers > 1024) {
        ERR("sandbox: workers must be in [1, 1024], got %d", workers);
        return NULL;
    }
    SandboxPool *p = xcalloc(1, sizeof(*p));
    p->cfg = *cfg;
    p->workers = workers;
    p->slots = xcalloc((size_t)workers, sizeof(Slot));
    for (int i = 0; i < workers; i++) p->slots[i] = (Slot){-1, -1};
    if (sandbox_find_helper(cfg, p->helper, sizeof(p->helper))) goto fail;
    if (geteuid() == 0 && cfg->drop_uid < 0) {
        long next = cfg->uid_base;
        for (int i = 0; i < workers; i++) {
            if (claim_uid(next, &p->slots[i])) goto fail;
            next = p->slots[i].uid + 1;
        }
    }
    /* Probe: settle the mode on the first run, then use exactly that one. */
    p->mode = cfg->mode;
    limits_at_least(&p->cfg.run, PROBE_WALL, PROBE_CPU);
    limits_at_least(&p->cfg.compile, 2 * PROBE_WALL, PROBE_WALL);
    SandboxLang dflt = SANDBOX_LANG_PYTHON;
    if (n_langs == 0) {
        langs = &dflt;
        n_langs = 1;
    }
    for (size_t k = 0; k < n_langs; k++) {
        SandboxLang l = langs[k];
        const char *in = "";
        size_t in_len = 0;
        SandboxJob job = {l, probe_src[l], strlen(probe_src[l]), &in, &in_len, 1, 1};
        SandboxResult r;
        char mode[16] = {0}, layers[512] = {0};
        run_job(p, &p->slots[0], p->mode, &job, &r, mode, sizeof(mode), layers, sizeof(layers));
        const char *what = l == SANDBOX_LANG_C ? cfg->cc : cfg->python;
        int bad = 1;
        if (r.error) {
            ERR("sandbox: the start-up probe (%s, %s) failed: %s", sandbox_lang_name(l), what, r.error);
        } else if (r.has_compile && r.compile.status != SANDBOX_RUN_OK) {
            ERR("sandbox: the start-up probe could not compile a trivial C program with %s inside the sandbox: %.300s",
                what, r.compile.err);
        } else if (r.n_runs != 1 || r.runs[0].status != SANDBOX_RUN_OK || strcmp(r.runs[0].out, "ok\n")) {
            ERR("sandbox: the start-up probe could not run a trivial %s program (%s) inside the sandbox: %.300s",
                sandbox_lang_name(l), what, r.n_runs ? r.runs[0].err : "no run");
        } else {
            bad = 0;
        }
        sandbox_result_free(&r);
        if (bad) goto fail;
        for (int m = 1; m < 4; m++)
            if (!strcmp(mode, mode_names[m])) p->mode = (SandboxMode)m;
        snprintf(p->mode_name, sizeof(p->mode_name), "%s", mode);
        snprintf(p->layers, sizeof(p->layers), "%s", layers);
    }
    p->cfg.run = cfg->run;
    p->cfg.compile = cfg->compile;
    log_info("sandbox: mode %s, %d worker%s, helper %s", p->mode_name, workers, workers == 1 ? "" : "s", p->helper);
    log_info("sandbox: layers: %s", p->layers);
    if (p->mode == SANDBOX_MODE_MINIMAL)
        log_warn("sandbox: running WITHOUT namespaces (mode minimal): programs see the host file system and "
                 "network; run as root or enable user namespaces for the full sandbox (docs/sandbox.md)");
    return p;
fail:
    sandbox_pool_free(p);
    return NULL;
}

void sandbox_pool_free(SandboxPool *p) {
    if (!p) return;
    for (int i = 0; i < p->workers; i++)
        if (p->slots[i].lock_fd >= 0) close(p->slots[i].lock_fd);
    free(p->slots);
    free(p);
}

typedef struct {
    SandboxPool *p;
    const SandboxJob *jobs;
    SandboxResult *results;
    size_t n;
    atomic_size_t next;
} Batch;

typedef struct {
    Batch *b;
    int slot;
} Worker;

static void *worker_main(void *arg) {
    Worker *w = arg;
    Batch *b = w->b;
    for (;;) {
        size_t i = atomic_fetch_add(&b->next, 1);
        if (i >= b->n) break;
        run_job(b->p, &b->p->slots[w->slot], b->p->mode, &b->jobs[i], &b->results[i], NULL, 0, NULL, 0);
    }
    return NULL;
}

int sandbox_pool_run(SandboxPool *p, const SandboxJob *jobs, size_t n, SandboxResult *results) {
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof(results[i]));
        if (jobs[i].n_inputs == 0) return ERR("sandbox: job %zu has no input (one run per input)", i);
    }
    Batch b = {p, jobs, results, n, 0};
    int nt = (size_t)p->workers < n ? p->workers : (int)n;
    if (nt <= 1) {
        Worker w = {&b, 0};
        worker_main(&w);
        return 0;
    }
    /* Threads live for this call only; each helper's parent-death signal is
     * tied to the thread that spawned it, which outlives its job. */
    pthread_t *th = xcalloc((size_t)nt, sizeof(*th));
    Worker *ws = xcalloc((size_t)nt, sizeof(*ws));
    int started = 0;
    for (int t = 0; t < nt; t++) {
        ws[t] = (Worker){&b, t};
        if (pthread_create(&th[t], NULL, worker_main, &ws[t]) != 0) break;
        started++;
    }
    if (started == 0) worker_main(&ws[0]);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    free(th);
    free(ws);
    return 0;
}
