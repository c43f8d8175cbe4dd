/*
 * test_sandbox_hostile.c: runs the hostile-program corpus (hostile_corpus.h)
 * through the `code` reward and checks each program's verdict, then that
 * nothing happened outside the sandbox:
 *   - this test process is alive (it is the one checking) and so is its listener;
 *   - no canary changed: the canary directory and secret file (content,
 *     size, mode, mtime), the /etc canary, /etc/passwd, /etc/hosts; the
 *     /etc/.new and /usr paths are absent;
 *   - nothing reached the TCP (127.0.0.1 and ::1), UDP and abstract-unix
 *     listeners;
 *   - no process of the sandbox's uids is left, and no child of ours.
 * Fork bombs and kill(-1) run only after a probe program has confirmed,
 * from inside, that it is pid <= 3 of its own PID namespace, not root, and
 * under the process limit; all of them are bounded in count regardless.
 *
 *   test_sandbox_hostile --mode full|userns|userns-root|minimal --subset fast|all
 *
 * full needs root (exit 77 = skipped otherwise); userns runs as root through
 * helper_uid 65534 (or as the calling user) and is skipped where user
 * namespaces are disabled; userns-root is root asking for mode userns (what
 * root without CAP_SYS_ADMIN gets: slot uids mapped into the user
 * namespace); minimal runs the entries that make sense without namespaces.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "../test.h"
#include "common/strbuf.h"
#include "hostile_corpus.h"
#include "sandbox_test.h"

/* Where each mode's slot uids start. Concurrent runs may still get
 * neighbouring uids (the pool flock-claims the first free one), so the test
 * watches exactly the uid the sandbox reports from inside. */
#define UID_BASE_FULL 63000
#define UID_BASE_MINIMAL 63100
#define UID_BASE_USERNS_ROOT 63200
#define NPROC_LIMIT 16

static char canary_dir[64], secret_path[128], etc_canary[128], usr_new[128], env_name[64], abs_name[64];
static char secret_value[64], env_value[64];
static int tcp_fd = -1, tcp6_fd = -1, udp_fd = -1, unix_fd = -1, tcp_port, udp_port;
static long watch_uid_lo, watch_uid_hi;

/* ---- canaries ---- */

static void write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        fprintf(stderr, "FAIL: cannot write canary %s: %s\n", path, strerror(errno));
        exit(1);
    }
    close(fd);
    chmod(path, mode);
}

/* Canary secrets: unguessable, from getrandom (not part of any deterministic result). */
static void random_hex(char *out, size_t n) {
    unsigned char raw[32];
    if (n > 2 * sizeof(raw) || getrandom(raw, (n + 1) / 2, 0) != (ssize_t)((n + 1) / 2)) {
        perror("getrandom");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) out[i] = "0123456789abcdef"[(raw[i / 2] >> (4 * (i & 1))) & 15];
    out[n] = '\0';
}

static void setup_canaries(void) {
    char rnd[17];
    random_hex(rnd, 16);
    snprintf(secret_value, sizeof(secret_value), "SECRET-%s", rnd);
    random_hex(rnd, 16);
    snprintf(env_value, sizeof(env_value), "ENVSECRET-%s", rnd);
    snprintf(canary_dir, sizeof(canary_dir), "/tmp/grpo-canary-XXXXXX");
    if (!mkdtemp(canary_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    chmod(canary_dir, 0700);
    snprintf(secret_path, sizeof(secret_path), "%s/secret.txt", canary_dir);
    write_file(secret_path, secret_value, 0600);
    char p[256];
    snprintf(p, sizeof(p), "%s/sub", canary_dir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/sub/keep.txt", canary_dir);
    write_file(p, "keep\n", 0644);
    snprintf(etc_canary, sizeof(etc_canary), "/etc/grpo-sandbox-canary-%d", (int)getpid());
    write_file(etc_canary, "canary\n", 0644);
    snprintf(usr_new, sizeof(usr_new), "/usr/grpo-sandbox-canary-%d.new", (int)getpid());
    snprintf(env_name, sizeof(env_name), "GRPO_CANARY_ENV_%d", (int)getpid());
    setenv(env_name, env_value, 1);
    snprintf(abs_name, sizeof(abs_name), "grpo-canary-%d", (int)getpid());
}

static void setup_listeners(void) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (tcp_fd < 0 || bind(tcp_fd, (struct sockaddr *)&a, sizeof(a)) || listen(tcp_fd, 16) ||
        getsockname(tcp_fd, (struct sockaddr *)&a, &al)) {
        perror("tcp listener");
        exit(1);
    }
    tcp_port = ntohs(a.sin_port);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT, .sin6_port = a.sin_port};
    tcp6_fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (tcp6_fd >= 0 && (bind(tcp6_fd, (struct sockaddr *)&a6, sizeof(a6)) || listen(tcp6_fd, 16))) {
        close(tcp6_fd); /* no IPv6 here: fine */
        tcp6_fd = -1;
    }
    struct sockaddr_in u = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    al = sizeof(u);
    udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (udp_fd < 0 || bind(udp_fd, (struct sockaddr *)&u, sizeof(u)) || getsockname(udp_fd, (struct sockaddr *)&u, &al)) {
        perror("udp socket");
        exit(1);
    }
    udp_port = ntohs(u.sin_port);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    memcpy(un.sun_path + 1, abs_name, strlen(abs_name));
    unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (unix_fd < 0 ||
        bind(unix_fd, (struct sockaddr *)&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abs_name))) ||
        listen(unix_fd, 16)) {
        perror("abstract unix listener");
        exit(1);
    }
}

/* Appends one line per entry of the canary dir: path, mode, size, mtime, content. */
static StrBuf g_snap;

static int snap_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)type;
    (void)ftw;
    char line[600];
    snprintf(line, sizeof(line), "%s %o %lld %lld.%09ld %lu\n", path, st->st_mode, (long long)st->st_size,
             (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (unsigned long)st->st_ino);
    strbuf_cat(&g_snap, line);
    if (S_ISREG(st->st_mode)) {
        char *text = file_read_all(path, NULL);
        strbuf_cat(&g_snap, text ? text : "(unreadable)");
        strbuf_cat(&g_snap, "\n");
        free(text);
    }
    return 0;
}

static char *snapshot(void) {
    g_snap = (StrBuf){0};
    strbuf_cat(&g_snap, "");
    nftw(canary_dir, snap_entry, 16, FTW_PHYS);
    const char *files[] = {etc_canary, "/etc/passwd", "/etc/hosts", "/etc/group"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct stat st;
        if (lstat(files[i], &st) == 0) snap_entry(files[i], &st, 0, NULL);
        else strbuf_cat(&g_snap, "(missing)\n");
    }
    struct stat st;
    char p[256];
    snprintf(p, sizeof(p), "%s.new", etc_canary);
    strbuf_cat(&g_snap, lstat(p, &st) == 0 ? "etc.new exists\n" : "");
    snprintf(p, sizeof(p), "%s.moved", etc_canary);
    strbuf_cat(&g_snap, lstat(p, &st) == 0 ? "etc.moved exists\n" : "");
    strbuf_cat(&g_snap, lstat(usr_new, &st) == 0 ? "usr.new exists\n" : "");
    return g_snap.p;
}

/* Processes of the watched uids, killed and counted (they must not exist). */
static int leftover_processes(char *what, size_t cap) {
    int found = 0;
    what[0] = '\0';
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        char path[300];
        snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
        char *st = file_read_all(path, NULL);
        if (!st) continue;
        const char *u = strstr(st, "\nUid:"), *state = strstr(st, "\nState:");
        long uid = u ? strtol(u + 5, NULL, 10) : -1;
        int zombie = state && strchr(state + 7, 'Z') && strchr(state + 7, 'Z') < strchr(state + 7, '\n');
        /* A zombie has exited (one we killed, waiting for the host's init to reap it). */
        if (!zombie && uid >= watch_uid_lo && uid < watch_uid_hi) {
            found++;
            size_t l = strlen(what);
            snprintf(what + l, cap - l, " pid %s (uid %ld)", e->d_name, uid);
            kill(atoi(e->d_name), SIGKILL);
        }
        free(st);
    }
    if (d) closedir(d);
    return found;
}

/* Anything that reached our listeners. */
static int listener_hits(char *what, size_t cap) {
    int hits = 0;
    what[0] = '\0';
    int fds[] = {tcp_fd, tcp6_fd, unix_fd};
    const char *names[] = {"tcp", "tcp6", "abstract-unix"};
    for (int i = 0; i < 3; i++) {
        if (fds[i] < 0) continue;
        int c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0) {
            hits++;
            size_t l = strlen(what);
            snprintf(what + l, cap - l, " %s", names[i]);
            close(c);
        }
    }
    char b[64];
    if (recv(udp_fd, b, sizeof(b), MSG_DONTWAIT) >= 0) {
        hits++;
        size_t l = strlen(what);
        snprintf(what + l, cap - l, " udp");
    }
    return hits;
}

/* An unprivileged uid for helper_uid that no concurrent test or pool uses:
 * claimed with the same flock on /run/grpo-sandbox/uid-N.lock as the pools'
 * slot uids (the lock is held until we exit). */
static long claim_helper_uid(void) {
    mkdir("/run/grpo-sandbox", 0700);
    for (long u = 62500; u < 63000; u++) {
        if (getpwuid((uid_t)u)) continue;
        char path[64];
        snprintf(path, sizeof(path), "/run/grpo-sandbox/uid-%ld.lock", u);
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) return u;
        if (fd >= 0) close(fd);
    }
    fprintf(stderr, "FAIL: no free uid for helper_uid in [62500, 63000)\n");
    exit(1);
}

/* ---- running entries ---- */

static char *substitute(const char *src) {
    char port[16], uport[16], pid[16];
    snprintf(port, sizeof(port), "%d", tcp_port);
    snprintf(uport, sizeof(uport), "%d", udp_port);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    const char *keys[][2] = {{"@CANARY@", canary_dir}, {"@SECRET@", secret_path}, {"@ETC@", etc_canary},
                             {"@USRNEW@", usr_new},    {"@PORT@", port},          {"@UPORT@", uport},
                             {"@ABS@", abs_name},      {"@ENVNAME@", env_name},   {"@TESTPID@", pid}};
    size_t cap = strlen(src) * 2 + 4096, len = 0;
    char *out = xmalloc(cap);
    for (const char *p = src; *p;) {
        int hit = 0;
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            size_t kl = strlen(keys[k][0]);
            if (strncmp(p, keys[k][0], kl)) continue;
            size_t vl = strlen(keys[k][1]);
            if (len + vl + 1 >= cap) out = xrealloc(out, cap = 2 * (len + vl + 1));
            memcpy(out + len, keys[k][1], vl);
            len += vl;
            p += kl;
            hit = 1;
            break;
        }
        if (hit) continue;
        if (len + 2 >= cap) out = xrealloc(out, cap *= 2);
        out[len++] = *p++;
    }
    out[len] = '\0';
    return out;
}

/* Scores one program; returns the result (caller clears it). */
static RewardResult score_one(CodeRw *rw, const char *lang, const char *src, const char *output, const char *asserts) {
    char *code = substitute(src);
    char *completion = fenced(lang, code);
    cJSON *ex;
    if (asserts) {
        ex = example_asserts(asserts);
    } else {
        const char *in = "";
        ex = example_cases(&in, &output, 1);
    }
    RewardInput input = {.prompt = "", .completion = completion, .example = ex, .n_tokens = 10, .finish = FINISH_EOS};
    RewardResult r = {0};
    if (rw->kind->score(rw->state, &input, 1, &r)) {
        fprintf(stderr, "FAIL: score: %s\n", err_msg());
        exit(1);
    }
    cJSON_Delete(ex);
    free(completion);
    free(code);
    return r;
}

/* The code reward for the corpus: mode, wall and CPU limits in seconds. */
static CodeRw code_rw_with_limits(const char *mode, int wall, int cpu, int uid_base, const char *extra) {
    char params[512];
    snprintf(params, sizeof(params),
             "{\"language\": \"auto\", \"score\": \"all\", \"workers\": 1, \"sandbox\": {\"mode\": \"%s\", "
             "\"timeout\": %d, \"cpu_time\": %d, \"processes\": %d, \"uid_base\": %d, \"compile_timeout\": 60%s}}",
             mode, wall, cpu, NPROC_LIMIT, uid_base, extra);
    return code_rw_new(params);
}

int main(int argc, char **argv) {
    const char *mode = "full", *subset = "fast";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
        else if (!strcmp(argv[i], "--subset")) subset = argv[i + 1];
    }
    int all = !strcmp(subset, "all"), minimal = !strcmp(mode, "minimal"), root = geteuid() == 0;
    int uid_base = minimal ? UID_BASE_MINIMAL : UID_BASE_FULL;
    /* userns-root: root asking for mode userns, as root without CAP_SYS_ADMIN gets it:
     * the helper maps root and the slot uid into the user namespace. */
    if (!strcmp(mode, "userns-root")) {
        if (!root) {
            printf("SKIP: userns-root needs root (it maps a slot uid into the user namespace)\n");
            return TEST_SKIP;
        }
        uid_base = UID_BASE_USERNS_ROOT;
    }
    char extra[128] = "";
    if (!strcmp(mode, "full") && !root) {
        printf("SKIP: mode full needs root (namespaces, private root, slot uids); CI runs as root\n");
        return TEST_SKIP;
    }
    if (!strcmp(mode, "userns")) {
        if (root) {
            /* Can an unprivileged user make a user namespace here? Ask a throwaway child. */
            pid_t c = fork();
            if (c == 0) {
                if (setgid(62499) || setuid(62499)) _exit(2);
                _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
            }
            int st = 0;
            waitpid(c, &st, 0);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                printf("SKIP: unprivileged user namespaces are disabled on this system (the userns layer cannot exist)\n");
                return TEST_SKIP;
            }
            long hu = claim_helper_uid();
            snprintf(extra, sizeof(extra), ", \"helper_uid\": %ld", hu);
            watch_uid_lo = hu;
            watch_uid_hi = hu + 1;
        } else {
            watch_uid_lo = getuid(); /* cannot tell ours apart: only the namespace check applies */
            watch_uid_hi = watch_uid_lo;
        }
    }
    char what[512];
    setup_canaries();
    setup_listeners();
    const char *smode = strcmp(mode, "userns-root") ? mode : "userns";
    /* A verdict must not depend on the machine's load. Only the cases that
     * want time_limit need a short limit: they run with 1 s of wall and CPU
     * time (a loaded machine only reaches it sooner). Every other case, the
     * probes included, runs with a backstop of 120 s wall and 30 s CPU time
     * that it never reaches: with a 1 s wall limit, a Python start that
     * waits for a CPU on a loaded machine (seen at a load of 2, and under
     * nice against busy processes) ended as time_limit, and a memory bomb
     * needs 2 s or more to fill 512 MiB where page faults are slow. */
    CodeRw rw = code_rw_with_limits(smode, 120, 30, uid_base, extra);
    CodeRw rw_time = code_rw_with_limits(smode, 1, 1, uid_base, extra);

    /* Confirm from inside: own PID namespace (pid <= 3), not root, process limit in force. */
    char probe[256];
    snprintf(probe, sizeof(probe),
             "import os, resource\nok = os.getpid() <= 3 and os.getuid() != 0 and "
             "resource.getrlimit(resource.RLIMIT_NPROC)[0] == %d\nprint('ok' if ok else 'no')\n",
             NPROC_LIMIT);
    RewardResult pr = score_one(&rw, "python", probe, "ok\n", NULL);
    int limits_ok = !strcmp(verdict_of(&pr), "passed");
    printf("PID namespace and process limit %s (%s)\n", limits_ok ? "confirmed" : "NOT confirmed",
           limits_ok ? "fork bombs and kill(-1) will run" : "fork bombs and kill(-1) are skipped");
    if (!minimal) TEST_CHECK(limits_ok, "mode %s must give a PID namespace and process limits: %s", mode, detail_of(&pr));
    reward_results_clear(&pr, 1);

    /* The uid the programs of rw run as (all but the time-limit cases):
     * watched for leftover processes after each one. */
    if (root && !watch_uid_hi) {
        RewardResult ur = score_one(&rw, "python", "import os\nprint('uid=%d' % os.getuid())\n", "?", NULL);
        static const char key[] = "got \"uid=";
        const char *got = strstr(detail_of(&ur), key);
        if (got) {
            watch_uid_lo = strtol(got + strlen(key), NULL, 10);
            watch_uid_hi = watch_uid_lo + 1;
        }
        TEST_CHECK(got && watch_uid_lo >= uid_base && watch_uid_lo < uid_base + 1000,
                   "programs must run as a slot uid from %d: %s", uid_base, detail_of(&ur));
        reward_results_clear(&ur, 1);
    }
    if (watch_uid_hi > watch_uid_lo && leftover_processes(what, sizeof(what))) {
        printf("note: processes of uid %ld existed before the corpus:%s; not checking for leftovers\n", watch_uid_lo,
               what);
        watch_uid_hi = watch_uid_lo;
    }
    if (watch_uid_hi > watch_uid_lo) printf("programs run as uid %ld\n", watch_uid_lo);
    else printf("note: programs share the caller's uid; leftovers are checked by the PID namespace only\n");

    char *before = snapshot();
    size_t n_run = 0, n_skip = 0;
    double t_all = now_seconds();
    for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        const Hostile *h = &corpus[i];
        if (!all && !(h->flags & H_FAST)) continue;
        if (minimal && (h->flags & H_NOT_MINIMAL)) {
            n_skip++;
            continue;
        }
        if ((h->flags & H_NEEDS_LIMITS) && !limits_ok) {
            printf("skip %-50s (needs a confirmed PID namespace and process limit)\n", h->name);
            n_skip++;
            continue;
        }
        double t0 = now_seconds();
        RewardResult r = score_one(!strcmp(h->expect, "time_limit") ? &rw_time : &rw, h->lang, h->src, h->output,
                                   h->asserts);
        double dt = now_seconds() - t0;
        n_run++;
        int ok = !strcmp(verdict_of(&r), h->expect);
        printf("%-4s %-52s %-14s %.2fs\n", ok ? "ok" : "BAD", h->name, verdict_of(&r), dt);
        TEST_CHECK(ok, "%s: verdict %s, want %s; detail: %s", h->name, verdict_of(&r), h->expect, detail_of(&r));
        const char *d = detail_of(&r);
        TEST_CHECK(!strstr(d, secret_value) && !strstr(d, env_value), "%s: a secret reached the output", h->name);
        reward_results_clear(&r, 1);
        /* After each: we are alive (we are checking), canaries intact, no contact, nothing left. */
        char *after = snapshot();
        TEST_CHECK(!strcmp(before, after), "%s: a canary changed:\nbefore:\n%s\nafter:\n%s", h->name, before, after);
        free(after);
        TEST_CHECK(listener_hits(what, sizeof(what)) == 0, "%s: reached the test's listeners:%s", h->name, what);
        TEST_CHECK(leftover_processes(what, sizeof(what)) == 0, "%s: processes left behind:%s", h->name, what);
        int st;
        TEST_CHECK(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD, "%s: a child of the test is left", h->name);
        TEST_CHECK(getenv(env_name) && !strcmp(getenv(env_name), env_value), "environment intact");
    }
    printf("mode %s, subset %s: %zu programs in %.1f s, %zu skipped\n", mode, subset, n_run, now_seconds() - t_all,
           n_skip);
    free(before);
    code_rw_free(&rw);
    code_rw_free(&rw_time);
    /* Remove our canaries (they are ours; checked intact above). */
    unlink(etc_canary);
    char p[256];
    snprintf(p, sizeof(p), "%s/sub/keep.txt", canary_dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/sub", canary_dir);
    rmdir(p);
    unlink(secret_path);
    rmdir(canary_dir);
    return test_summary();
}
