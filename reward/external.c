/*
 * external.c: the `external` reward: a user's program, started once, that
 * scores batches sent as JSON lines on its stdin and answers one JSON line
 * per batch on its stdout (protocol version 1, docs/rewards.md):
 *
 *   request:  {"protocol": 1, "params": {...}, "items": [{"prompt": ...,
 *              "completion": ..., "example": {...} | null, "n_tokens": N,
 *              "finish_reason": "eos" | "stop" | "length"}, ...]}
 *   response: {"scores": [0.5, null, ...]}   (null = no score)
 *          or {"error": "message"}            (the batch fails with it)
 *
 * The program is started without a shell (fork + execve, argv from the
 * config's "command"), in its own process group, killed if grpo dies
 * (PR_SET_PDEATHSIG), with stdin and stdout on a socket and stderr shared
 * with grpo (so its tracebacks show up). A batch that takes longer than
 * timeout_seconds, a process that exits, or an answer that is not one
 * well-formed JSON line is an error naming the command; after one, the
 * process is killed and the function stays failed (later batches fail at
 * once with the first error).
 * Not for: sandboxing untrusted code (sandbox.h): the program is the user's
 * own and runs with grpo's rights and environment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "common/utf8.h"
#include "common/json.h"
#include "reward.h"

extern char **environ;

#define MAX_ARGS 64

typedef struct {
    pid_t pid;
    int fd;             /* socket: the child's stdin and stdout */
    double timeout;     /* seconds per batch */
    cJSON *params;      /* sent with every request */
    char cmd[256];      /* the command, for messages */
    char *failed;       /* first fatal error, or NULL */
    char *buf;          /* bytes read past the last response line */
    size_t buf_n, buf_cap;
} External;

/* ---- process control ---- */

/* The executable for argv0: itself if it has a '/', else the first match on
 * PATH. Resolved before fork so the child only calls async-signal-safe
 * functions. Returns an xmalloc'd path or NULL. */
static char *resolve(const char *argv0) {
    if (strchr(argv0, '/')) return xstrdup(argv0);
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    size_t n0 = strlen(argv0);
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *cand = xmalloc(n + n0 + 2);
        snprintf(cand, n + n0 + 2, "%.*s/%s", (int)n, n ? p : ".", argv0);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) return cand;
        free(cand);
        p += n;
        if (*p == ':') p++;
    }
    return NULL;
}

static void describe_exit(int status, char *buf, size_t cap) {
    if (WIFEXITED(status)) snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(buf, cap, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else snprintf(buf, cap, "stopped (status 0x%x)", status);
}

/* Kills the process group and reaps the child; *how describes its end. */
static void stop_child(External *x, int force, char *how, size_t cap) {
    if (x->fd >= 0) {
        close(x->fd);
        x->fd = -1;
    }
    if (x->pid <= 0) {
        if (how) snprintf(how, cap, "is not running");
        return;
    }
    int status = 0;
    pid_t r = 0;
    if (!force) {
        /* closing stdin asks it to finish; give it 2 s */
        double t0 = now_seconds();
        while ((r = waitpid(x->pid, &status, WNOHANG)) == 0 && now_seconds() - t0 < 2.0) usleep(10000);
    }
    if (r == 0 || force) {
        kill(-x->pid, SIGKILL);
        kill(x->pid, SIGKILL);
        do r = waitpid(x->pid, &status, 0);
        while (r < 0 && errno == EINTR);
    }
    if (how) describe_exit(status, how, cap);
    x->pid = -1;
}

static int start_child(External *x, char *const *argv, const char *path) {
    char *exe = resolve(argv[0]);
    if (!exe)
        return ERR("%s.command: '%s' not found on PATH; give an absolute path or install it", path, argv[0]);
    int sv[2], ep[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        free(exe);
        return ERR("%s: socketpair: %s", path, strerror(errno));
    }
    if (pipe2(ep, O_CLOEXEC)) {
        close(sv[0]);
        close(sv[1]);
        free(exe);
        return ERR("%s: pipe: %s", path, strerror(errno));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        close(ep[0]);
        close(ep[1]);
        free(exe);
        return ERR("%s: fork: %s", path, strerror(e));
    }
    if (pid == 0) {
        /* child: async-signal-safe calls only */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0 || dup2(ep[1], 3) < 0) _exit(127);
        fcntl(3, F_SETFD, FD_CLOEXEC);
#ifdef SYS_close_range
        if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0)
#endif
            for (int fd = 4; fd < 1024; fd++) close(fd);
        execve(exe, argv, environ);
        int e = errno;
        ssize_t w = write(3, &e, sizeof(e));
        (void)w;
        _exit(127);
    }
    free(exe);
    close(sv[1]);
    close(ep[1]);
    int child_errno = 0;
    ssize_t r;
    do r = read(ep[0], &child_errno, sizeof(child_errno));
    while (r < 0 && errno == EINTR);
    close(ep[0]);
    x->pid = pid;
    x->fd = sv[0];
    if (r == (ssize_t)sizeof(child_errno)) {
        stop_child(x, 1, NULL, 0);
        return ERR("%s.command: cannot run '%s': %s", path, argv[0], strerror(child_errno));
    }
    return 0;
}

/* ---- config ---- */

static void external_destroy(void *state) {
    External *x = state;
    if (!x) return;
    stop_child(x, 0, NULL, 0);
    cJSON_Delete(x->params);
    free(x->failed);
    free(x->buf);
    free(x);
}

static int external_create(const cJSON *params, const char *path, void **state) {
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(params, "command");
    if (!cmd)
        return ERR("%s.command: required: the program and its arguments as an array, e.g. [\"python3\", "
                   "\"my_reward.py\"]",
                   path);
    if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0 || cJSON_GetArraySize(cmd) >= MAX_ARGS)
        return ERR("%s.command: expected a non-empty array of strings (at most %d), e.g. [\"python3\", "
                   "\"my_reward.py\"]; it is run without a shell",
                   path, MAX_ARGS - 1);
    char *argv[MAX_ARGS] = {0};
    int argc = 0;
    for (const cJSON *it = cmd->child; it; it = it->next) {
        if (!cJSON_IsString(it)) return ERR("%s.command[%d]: expected a string", path, argc);
        argv[argc++] = it->valuestring;
    }
    double timeout = 30.0;
    if (json_get_double(params, path, "timeout_seconds", 0.001, 86400.0, &timeout)) return -1;
    External *x = xcalloc(1, sizeof(*x));
    x->fd = -1;
    x->pid = -1;
    x->timeout = timeout;
    size_t off = 0;
    for (int i = 0; i < argc && off + 2 < sizeof(x->cmd); i++)
        off += (size_t)snprintf(x->cmd + off, sizeof(x->cmd) - off, "%s%s", i ? " " : "", argv[i]);
    x->params = cJSON_Duplicate(params, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(x->params, "command");
    cJSON_DeleteItemFromObjectCaseSensitive(x->params, "timeout_seconds");
    if (start_child(x, argv, path)) {
        external_destroy(x);
        return -1;
    }
    *state = x;
    return 0;
}

/* ---- one batch ---- */

/* s with invalid UTF-8 replaced by U+FFFD (so the program's JSON reader
 * accepts the line; byte-level tokenizers can cut a character in half). */
static char *utf8_clean(const char *s) {
    size_t n = strlen(s);
    char *d = xmalloc(3 * n + 1);
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t len = utf8_valid_len(p, n - (size_t)(p - (const unsigned char *)s));
        if (len) {
            memcpy(d + o, p, len);
            o += len;
            p += len;
        } else {
            memcpy(d + o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        }
    }
    d[o] = '\0';
    return d;
}

static char *build_request(const External *x, const RewardInput *in, size_t n) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "protocol", 1);
    cJSON_AddItemToObject(req, "params", cJSON_Duplicate(x->params, 1));
    cJSON *items = cJSON_AddArrayToObject(req, "items");
    for (size_t i = 0; i < n; i++) {
        cJSON *it = cJSON_CreateObject();
        char *p = utf8_clean(in[i].prompt ? in[i].prompt : "");
        char *c = utf8_clean(in[i].completion ? in[i].completion : "");
        cJSON_AddStringToObject(it, "prompt", p);
        cJSON_AddStringToObject(it, "completion", c);
        free(p);
        free(c);
        cJSON_AddItemToObject(it, "example", in[i].example ? cJSON_Duplicate(in[i].example, 1) : cJSON_CreateNull());
        if (in[i].n_tokens >= 0) cJSON_AddNumberToObject(it, "n_tokens", in[i].n_tokens);
        else cJSON_AddNullToObject(it, "n_tokens");
        const char *fr = finish_reason_name(in[i].finish);
        cJSON_AddStringToObject(it, "finish_reason", fr ? fr : "eos");
        cJSON_AddItemToArray(items, it);
    }
    char *s = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!s) FATAL("out of memory printing an external reward request");
    return s;
}

/* Marks x failed with the current error message and stops the child. */
static int fail(External *x) {
    free(x->failed);
    x->failed = xstrdup(err_msg());
    stop_child(x, 1, NULL, 0);
    return -1;
}

/* Sends req + "\n" and reads one response line into *line (xmalloc'd). */
static int exchange(External *x, const char *req, char **line) {
    size_t req_n = strlen(req), sent = 0;
    const char nl = '\n';
    double deadline = now_seconds() + x->timeout;
    for (;;) {
        char *eol = x->buf_n ? memchr(x->buf, '\n', x->buf_n) : NULL;
        if (eol && sent == req_n + 1) {
            size_t n = (size_t)(eol - x->buf);
            *line = xmalloc(n + 1);
            memcpy(*line, x->buf, n);
            (*line)[n] = '\0';
            memmove(x->buf, eol + 1, x->buf_n - n - 1);
            x->buf_n -= n + 1;
            return 0;
        }
        double left = deadline - now_seconds();
        if (left <= 0) {
            ERR("external reward '%s' did not answer a batch within timeout_seconds=%g; it was killed (raise "
                "timeout_seconds or make it faster)",
                x->cmd, x->timeout);
            return fail(x);
        }
        struct pollfd pfd = {.fd = x->fd, .events = POLLIN | (sent <= req_n ? POLLOUT : 0)};
        int rc = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0) {
            ERR("external reward '%s': poll: %s", x->cmd, strerror(errno));
            return fail(x);
        }
        if (rc == 0) continue;
        if ((pfd.revents & POLLOUT) && sent <= req_n) {
            const char *src = sent < req_n ? req + sent : &nl;
            size_t len = sent < req_n ? req_n - sent : 1;
            ssize_t w = send(x->fd, src, len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) pfd.revents |= POLLHUP;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (x->buf_cap - x->buf_n < 65536) {
                x->buf_cap = x->buf_cap * 2 + 65536;
                x->buf = xrealloc(x->buf, x->buf_cap);
            }
            ssize_t r = recv(x->fd, x->buf + x->buf_n, x->buf_cap - x->buf_n, MSG_DONTWAIT);
            if (r > 0) {
                x->buf_n += (size_t)r;
                continue;
            }
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
            char how[128];
            stop_child(x, 0, how, sizeof(how));
            ERR("external reward '%s' %s before answering a batch (its stderr above may say why)", x->cmd, how);
            return fail(x);
        }
    }
}

static int external_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    External *x = state;
    if (x->failed) return ERR("external reward '%s' failed earlier: %s", x->cmd, x->failed);
    if (n == 0) return 0;
    if (x->buf_n) {
        size_t show = x->buf_n < 120 ? x->buf_n : 120;
        ERR("external reward '%s' wrote output nobody asked for (\"%.*s\"); print exactly one JSON line per "
            "batch on stdout and send logs to stderr",
            x->cmd, (int)show, x->buf);
        return fail(x);
    }
    char *req = build_request(x, in, n);
    char *line = NULL;
    int rc = exchange(x, req, &line);
    free(req);
    if (rc) return -1;
    char what[320];
    snprintf(what, sizeof(what), "external reward '%s' response", x->cmd);
    cJSON *resp = json_parse_named(line, strlen(line), what);
    if (!resp) {
        size_t show = strlen(line) < 120 ? strlen(line) : 120;
        err_prefix("(got \"%.*s\")", (int)show, line);
        free(line);
        return fail(x);
    }
    free(line);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(resp, "error");
    const cJSON *scores = cJSON_GetObjectItemCaseSensitive(resp, "scores");
    if (cJSON_IsString(err)) {
        ERR("external reward '%s' reported an error: %s", x->cmd, err->valuestring);
        cJSON_Delete(resp);
        return fail(x);
    }
    if (!cJSON_IsArray(scores) || cJSON_GetArraySize(scores) != (int)n) {
        ERR("%s: expected {\"scores\": [...]} with %zu entries (numbers or null), got %s", what, n,
            !cJSON_IsArray(scores) ? "no \"scores\" array" : "a different count");
        cJSON_Delete(resp);
        return fail(x);
    }
    size_t i = 0;
    for (const cJSON *s = scores->child; s; s = s->next, i++) {
        if (cJSON_IsNull(s)) continue;
        if (!cJSON_IsNumber(s) || !isfinite(s->valuedouble)) {
            ERR("%s: scores[%zu] is not a finite number or null", what, i);
            cJSON_Delete(resp);
            return fail(x);
        }
        out[i].has_score = 1;
        out[i].score = s->valuedouble;
    }
    cJSON_Delete(resp);
    return 0;
}

const RewardKind reward_kind_external = {
    .name = "external",
    .pure = 0, /* one process: batches go through it one at a time */
    .create = external_create,
    .score = external_score,
    .destroy = external_destroy,
};
