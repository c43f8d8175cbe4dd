/*
 * external.c: the `external` reward: a user's program, started once, that
 * scores batches sent as JSON lines on its stdin and answers one JSON line
 * per batch on its stdout (protocol version 1, docs/rewards.md):
 *
 *   request:  {"protocol": 1, "params": {...}, "items": [{"prompt": ...,
 *              "completion": ..., "example": {...} | null, "n_tokens": N,
 *              "finish_reason": "eos" | "stop" | "length", "group": G | null,
 *              "index": J | null, "step": S | null, ["token_ids": [...]]}, ...]}
 *   response: {"scores": [0.5, null, ...],          (null = no score)
 *              "diagnostics": [{...}, null, ...],   (optional, any JSON per item)
 *              "errors": [null, "message", ...]}    (optional: the item failed)
 *          or {"error": "message"}                   (the batch fails with it)
 *
 * The program is started without a shell (fork + execve, argv from the
 * config's "command"), in "working_dir" (the config file's folder), in its
 * own process group, killed if grpo dies (PR_SET_PDEATHSIG), with stdin and
 * stdout on a socket and stderr shared with grpo (so its tracebacks show
 * up). A program that dies before answering is started again and sent the
 * batch once more; dying again fails the batch. A batch that takes longer
 * than timeout_seconds, or an answer that is not one well-formed JSON line,
 * is an error naming the command and what to do; the process is then
 * stopped, and the next batch starts a new one.
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
#include "common/json.h"
#include "common/utf8.h"
#include "reward.h"

extern char **environ;

#define MAX_ARGS 64

/* The parsed config (shared by create and check). */
typedef struct {
    char *argv[MAX_ARGS]; /* xstrdup'd, NULL-terminated */
    char *exe;            /* the resolved program */
    char *working_dir;    /* or NULL: grpo's */
    double timeout;       /* seconds per batch */
    int token_ids;        /* send the completion's token ids */
} ExtConfig;

typedef struct {
    ExtConfig c;
    pid_t pid;
    int fd;        /* socket: the child's stdin and stdout */
    cJSON *params; /* sent with every request */
    char cmd[256]; /* the command, for messages */
    char path[128]; /* the config entry, e.g. "rewards[1]" */
    char *buf;     /* bytes read past the last response line */
    size_t buf_n, buf_cap;
    size_t got;    /* bytes received during the current batch */
} External;

/* How an exchange ended. */
enum { EX_OK = 0, EX_FAILED = -1, EX_DIED = -2 };

/* ---- process control ---- */

/* The executable for argv0: itself if it has a '/' (relative to dir when
 * given), else the first match on PATH. Resolved before fork so the child
 * only calls async-signal-safe functions. Returns an xmalloc'd path or NULL. */
static char *resolve(const char *argv0, const char *dir) {
    if (strchr(argv0, '/')) return argv0[0] != '/' && dir ? path_join(dir, argv0) : xstrdup(argv0);
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
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else snprintf(buf, cap, "stopped (status 0x%x)", status);
}

/* Kills the process group and reaps the child; *how describes its end.
 * force = 0 first closes its stdin and gives it 2 s to exit. */
static void stop_child(External *x, int force, char *how, size_t cap) {
    if (x->fd >= 0) {
        close(x->fd);
        x->fd = -1;
    }
    x->buf_n = 0;
    if (x->pid <= 0) {
        if (how) snprintf(how, cap, "is not running");
        return;
    }
    int status = 0;
    pid_t r = 0;
    if (!force) {
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

/* Starts the program; path names the config entry in messages. */
static int start_child(External *x, const char *path) {
    int sv[2], ep[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) return ERR("%s: socketpair: %s", path, strerror(errno));
    if (pipe2(ep, O_CLOEXEC)) {
        close(sv[0]);
        close(sv[1]);
        return ERR("%s: pipe: %s", path, strerror(errno));
    }
    const char *exe = x->c.exe, *wd = x->c.working_dir;
    char *const *argv = x->c.argv;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        close(ep[0]);
        close(ep[1]);
        return ERR("%s: fork: %s", path, strerror(e));
    }
    if (pid == 0) {
        /* child: async-signal-safe calls only; on failure it reports
         * {stage, errno} on the pipe (stage 1: chdir, 2: exec) */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0 || dup2(ep[1], 3) < 0) _exit(127);
        fcntl(3, F_SETFD, FD_CLOEXEC);
#ifdef SYS_close_range
        if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0)
#endif
            for (int fd = 4; fd < 1024; fd++) close(fd);
        int report[2] = {1, 0};
        if (!wd || chdir(wd) == 0) {
            report[0] = 2;
            execve(exe, argv, environ);
        }
        report[1] = errno;
        ssize_t w = write(3, report, sizeof(report));
        (void)w;
        _exit(127);
    }
    close(sv[1]);
    close(ep[1]);
    int report[2] = {0, 0};
    ssize_t r;
    do r = read(ep[0], report, sizeof(report));
    while (r < 0 && errno == EINTR);
    close(ep[0]);
    x->pid = pid;
    x->fd = sv[0];
    x->buf_n = 0;
    if (r == (ssize_t)sizeof(report)) {
        stop_child(x, 1, NULL, 0);
        if (report[0] == 1)
            return ERR("%s.working_dir: cannot enter '%s': %s", path, wd, strerror(report[1]));
        return ERR("%s.command: cannot run '%s': %s", path, argv[0], strerror(report[1]));
    }
    return 0;
}

/* ---- config ---- */

static void config_free(ExtConfig *c) {
    for (int i = 0; c->argv[i]; i++) free(c->argv[i]);
    free(c->exe);
    free(c->working_dir);
    memset(c, 0, sizeof(*c));
}

static int config_parse(const cJSON *params, const char *path, ExtConfig *c) {
    memset(c, 0, sizeof(*c));
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(params, "command");
    if (!cmd)
        return ERR("%s.command: required: the program and its arguments as an array, e.g. [\"python3\", "
                   "\"my_reward.py\"]",
                   path);
    if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0 || cJSON_GetArraySize(cmd) >= MAX_ARGS)
        return ERR("%s.command: expected a non-empty array of strings (at most %d), e.g. [\"python3\", "
                   "\"my_reward.py\"]; it is run without a shell",
                   path, MAX_ARGS - 1);
    int argc = 0;
    for (const cJSON *it = cmd->child; it; it = it->next, argc++)
        if (!cJSON_IsString(it)) return ERR("%s.command[%d]: expected a string", path, argc);
    c->timeout = 30.0;
    const char *wd = NULL;
    if (json_get_double(params, path, "timeout_seconds", 0.001, 86400.0, &c->timeout) ||
        json_get_bool(params, path, "token_ids", &c->token_ids) ||
        json_get_string(params, path, "working_dir", &wd))
        return -1;
    if (wd) {
        struct stat st;
        if (stat(wd, &st) != 0 || !S_ISDIR(st.st_mode))
            return ERR("%s.working_dir: '%s' is not a folder (relative paths start at the config file's folder)",
                       path, wd);
    }
    argc = 0;
    for (const cJSON *it = cmd->child; it; it = it->next) c->argv[argc++] = xstrdup(it->valuestring);
    c->working_dir = wd ? xstrdup(wd) : NULL;
    c->exe = resolve(c->argv[0], wd);
    if (!c->exe) {
        ERR("%s.command: '%s' not found on PATH; give an absolute path or install it", path, c->argv[0]);
        config_free(c);
        return -1;
    }
    return 0;
}

static int external_check(const cJSON *params, const char *path) {
    ExtConfig c;
    if (config_parse(params, path, &c)) return -1;
    config_free(&c);
    return 0;
}

static void external_destroy(void *state) {
    External *x = state;
    if (!x) return;
    stop_child(x, 0, NULL, 0);
    config_free(&x->c);
    cJSON_Delete(x->params);
    free(x->buf);
    free(x);
}

static int external_create(const cJSON *params, const char *path, void **state) {
    External *x = xcalloc(1, sizeof(*x));
    x->fd = -1;
    x->pid = -1;
    if (config_parse(params, path, &x->c)) {
        free(x);
        return -1;
    }
    snprintf(x->path, sizeof(x->path), "%s", path);
    size_t off = 0;
    for (int i = 0; x->c.argv[i] && off + 2 < sizeof(x->cmd); i++)
        off += (size_t)snprintf(x->cmd + off, sizeof(x->cmd) - off, "%s%s", i ? " " : "", x->c.argv[i]);
    x->params = cJSON_Duplicate(params, 1);
    static const char *const ours[] = {"command", "timeout_seconds", "token_ids", "working_dir"};
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(x->params, ours[i]);
    if (start_child(x, path)) {
        external_destroy(x);
        return -1;
    }
    *state = x;
    return 0;
}

/* ---- one batch ---- */

static char *build_request(const External *x, const RewardInput *in, size_t n) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "protocol", 1);
    cJSON_AddItemToObject(req, "params", cJSON_Duplicate(x->params, 1));
    cJSON *items = cJSON_AddArrayToObject(req, "items");
    for (size_t i = 0; i < n; i++) {
        const RewardInput *r = &in[i];
        cJSON *it = cJSON_CreateObject();
        /* invalid UTF-8 (a byte-level tokenizer can cut a character) becomes
         * U+FFFD, so the line is valid JSON for the program's reader */
        const char *p = r->prompt ? r->prompt : "", *c = r->completion ? r->completion : "";
        char *ps = utf8_sanitize(p, strlen(p)), *cs = utf8_sanitize(c, strlen(c));
        cJSON_AddStringToObject(it, "prompt", ps);
        cJSON_AddStringToObject(it, "completion", cs);
        free(ps);
        free(cs);
        cJSON_AddItemToObject(it, "example", r->example ? cJSON_Duplicate(r->example, 1) : cJSON_CreateNull());
        if (r->n_tokens >= 0) cJSON_AddNumberToObject(it, "n_tokens", r->n_tokens);
        else cJSON_AddNullToObject(it, "n_tokens");
        const char *fr = finish_reason_name(r->finish);
        cJSON_AddStringToObject(it, "finish_reason", fr ? fr : "eos");
        if (r->has_group) {
            cJSON_AddNumberToObject(it, "group", (double)r->group);
            cJSON_AddNumberToObject(it, "index", r->index);
        } else {
            cJSON_AddNullToObject(it, "group");
            cJSON_AddNullToObject(it, "index");
        }
        if (r->step > 0) cJSON_AddNumberToObject(it, "step", (double)r->step);
        else cJSON_AddNullToObject(it, "step");
        if (x->c.token_ids) {
            if (r->token_ids) cJSON_AddItemToObject(it, "token_ids", cJSON_CreateIntArray(r->token_ids, r->n_token_ids));
            else cJSON_AddNullToObject(it, "token_ids");
        }
        cJSON_AddItemToArray(items, it);
    }
    char *s = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!s) FATAL("out of memory printing an external reward request");
    return s;
}

/* Records the current error, stops the child (the next batch starts a new
 * one) and returns EX_FAILED. */
static int fail(External *x) {
    stop_child(x, 1, NULL, 0);
    return EX_FAILED;
}

/* Sends req + "\n" and reads one response line into *line (xmalloc'd).
 * EX_DIED (with ERR saying how) when the process ended before answering. */
static int exchange(External *x, const char *req, char **line) {
    size_t req_n = strlen(req), sent = 0;
    const char nl = '\n';
    double deadline = now_seconds() + x->c.timeout;
    x->got = 0;
    for (;;) {
        char *eol = x->buf_n ? memchr(x->buf, '\n', x->buf_n) : NULL;
        if (eol && sent == req_n + 1) {
            size_t n = (size_t)(eol - x->buf);
            *line = xmalloc(n + 1);
            memcpy(*line, x->buf, n);
            (*line)[n] = '\0';
            if (n && (*line)[n - 1] == '\r') (*line)[n - 1] = '\0';
            memmove(x->buf, eol + 1, x->buf_n - n - 1);
            x->buf_n -= n + 1;
            return EX_OK;
        }
        double left = deadline - now_seconds();
        if (left <= 0) {
            if (x->got == 0)
                ERR("external reward '%s' did not answer a batch within timeout_seconds=%g and wrote nothing; it "
                    "was killed. If it computes its answers, flush stdout after each one (print(..., flush=True) "
                    "in Python: stdout is block-buffered when it is not a terminal); else raise timeout_seconds",
                    x->cmd, x->c.timeout);
            else
                ERR("external reward '%s' did not answer a batch within timeout_seconds=%g (it wrote %zu bytes "
                    "without ending the line); it was killed. End each answer with a newline and flush stdout, "
                    "or raise timeout_seconds",
                    x->cmd, x->c.timeout, x->got);
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
                x->got += (size_t)r;
                continue;
            }
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
            char how[128];
            stop_child(x, 0, how, sizeof(how));
            ERR("external reward '%s' %s before answering a batch", x->cmd, how);
            return EX_DIED;
        }
    }
}

/* Does a line that failed to parse hold a NaN or Infinity outside strings
 * (Python's json.dumps writes them for float('nan') and float('inf'))? */
static int has_nan_token(const char *s) {
    int in_str = 0;
    for (; *s; s++) {
        if (in_str) {
            if (*s == '\\' && s[1]) s++;
            else if (*s == '"') in_str = 0;
        } else if (*s == '"') {
            in_str = 1;
        } else if (!strncmp(s, "NaN", 3) || !strncmp(s, "Infinity", 8)) {
            return 1;
        }
    }
    return 0;
}

/* The answer line as a JSON object, or NULL with an error that says what
 * to do (the process is then stopped: its output is out of step). */
static cJSON *parse_answer(External *x, const char *line) {
    char what[320];
    snprintf(what, sizeof(what), "external reward '%s' response", x->cmd);
    size_t len = strlen(line), show = len < 160 ? len : 160;
    const char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p != '{' && *p != '[') {
        ERR("external reward '%s' wrote a line that is not JSON (\"%.*s\"): reward processes must write only "
            "their answers to stdout; send logs to stderr (print(..., file=sys.stderr) in Python)",
            x->cmd, (int)show, line);
        fail(x);
        return NULL;
    }
    cJSON *resp = json_parse_named(line, len, what);
    if (resp) return resp;
    if (has_nan_token(line))
        ERR("external reward '%s' answered \"%.*s\": NaN and Infinity are not JSON: return null for no score "
            "(in Python, None instead of float('nan'))",
            x->cmd, (int)show, line);
    else err_prefix("(got \"%.*s\")", (int)show, line);
    fail(x);
    return NULL;
}

/* Fills out[0..n) from a parsed answer; -1 with ERR if it is not a valid one. */
static int read_answer(const External *x, const cJSON *resp, size_t n, RewardResult *out) {
    char what[320];
    snprintf(what, sizeof(what), "external reward '%s' response", x->cmd);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(resp, "error");
    if (cJSON_IsString(err)) return ERR("external reward '%s' reported an error: %s", x->cmd, err->valuestring);
    const cJSON *scores = cJSON_GetObjectItemCaseSensitive(resp, "scores");
    if (!cJSON_IsArray(scores) || cJSON_GetArraySize(scores) != (int)n)
        return ERR("%s: expected {\"scores\": [...]} with %zu entries (numbers or null), got %s", what, n,
                   !cJSON_IsArray(scores) ? "no \"scores\" array" : "a different count");
    const cJSON *diags = cJSON_GetObjectItemCaseSensitive(resp, "diagnostics");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(resp, "errors");
    if (diags && !cJSON_IsNull(diags) && (!cJSON_IsArray(diags) || cJSON_GetArraySize(diags) != (int)n))
        return ERR("%s: \"diagnostics\" must be an array with one entry per item (%zu; null for none)", what, n);
    if (errs && !cJSON_IsNull(errs) && (!cJSON_IsArray(errs) || cJSON_GetArraySize(errs) != (int)n))
        return ERR("%s: \"errors\" must be an array with one entry per item (%zu; null or a message)", what, n);
    size_t i = 0;
    for (const cJSON *s = scores->child; s; s = s->next, i++) {
        if (cJSON_IsNull(s)) continue;
        if (!cJSON_IsNumber(s) || !isfinite(s->valuedouble))
            return ERR("%s: scores[%zu] is not a finite number or null", what, i);
        out[i].has_score = 1;
        out[i].score = s->valuedouble;
    }
    i = 0;
    for (const cJSON *d = cJSON_IsArray(diags) ? diags->child : NULL; d; d = d->next, i++)
        if (!cJSON_IsNull(d)) out[i].diag = cJSON_Duplicate(d, 1);
    i = 0;
    for (const cJSON *e = cJSON_IsArray(errs) ? errs->child : NULL; e; e = e->next, i++) {
        if (cJSON_IsNull(e)) continue;
        if (!cJSON_IsString(e)) return ERR("%s: errors[%zu] must be null or a message", what, i);
        out[i].error = xstrdup(e->valuestring);
        out[i].has_score = 0;
    }
    return 0;
}

static int external_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    External *x = state;
    if (n == 0) return 0;
    if (x->pid > 0 && x->buf_n) {
        size_t show = x->buf_n < 120 ? x->buf_n : 120;
        ERR("external reward '%s' wrote output nobody asked for (\"%.*s\"): reward processes must write only "
            "their answers to stdout, exactly one JSON line per batch; send logs to stderr",
            x->cmd, (int)show, x->buf);
        return fail(x);
    }
    char *req = build_request(x, in, n);
    char *line = NULL;
    int rc = EX_DIED;
    char first[512] = {0};
    for (int attempt = 0; attempt < 2 && rc == EX_DIED; attempt++) {
        /* not running: stopped after an earlier error, or died just now */
        if (x->pid <= 0 && start_child(x, x->path)) {
            rc = EX_FAILED;
            break;
        }
        rc = exchange(x, req, &line);
        if (rc == EX_DIED && attempt == 0) {
            snprintf(first, sizeof(first), "%s", err_msg());
            log_warn("%s; starting it again and resending the batch (once)", first);
        }
    }
    free(req);
    if (rc == EX_DIED) {
        char again[512];
        snprintf(again, sizeof(again), "%s", err_msg());
        if (!strcmp(again, first)) ERR("%s, also after a restart (its stderr above may say why)", again);
        else ERR("%s after a restart (its stderr above may say why; before the restart: %s)", again, first);
    }
    if (rc) return -1;
    cJSON *resp = parse_answer(x, line);
    free(line);
    if (!resp) return -1;
    rc = read_answer(x, resp, n, out);
    cJSON_Delete(resp);
    if (rc) reward_results_clear(out, n);
    return rc;
}

const RewardKind reward_kind_external = {
    .name = "external",
    .pure = 0, /* one process: batches go through it one at a time */
    .create = external_create,
    .score = external_score,
    .destroy = external_destroy,
    .check = external_check,
};
