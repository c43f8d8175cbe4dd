/*
 * test_sandbox_unit.c: the sandbox library's own pieces: config parsing and
 * its error messages, finding the helper, the wire format's parser on
 * malformed input, the symlink-safe tree removal (against a canary), and
 * the pool API on a few direct jobs (layers reported, runs per input,
 * stop_on_error, captured output and exit codes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "common/common.h"
#include "reward/sandbox/sandbox.h"
#include "reward/sandbox/sandbox_wire.h"

static void test_config(void) {
    SandboxConfig c;
    sandbox_config_default(&c);
    TEST_CHECK(c.mode == SANDBOX_MODE_AUTO && c.run.wall_seconds == 4 && c.run.memory_bytes == (size_t)512 << 20,
               "defaults");
    cJSON *j = cJSON_Parse("{\"mode\": \"minimal\", \"timeout\": 2.5, \"memory_mb\": 256, \"cflags\": [\"-O0\"], "
                           "\"processes\": 8, \"output_kb\": 4}");
    TEST_CHECK(sandbox_config_parse(j, "sandbox", &c) == 0, "parse: %s", err_msg());
    TEST_CHECK(c.mode == SANDBOX_MODE_MINIMAL && c.run.wall_seconds == 2.5 && c.run.memory_bytes == (size_t)256 << 20 &&
                   c.n_cflags == 1 && !strcmp(c.cflags[0], "-O0") && c.run.processes == 8 &&
                   c.run.output_bytes == 4096,
               "parsed values");
    cJSON_Delete(j);
    static const char *const bad[][2] = {
        {"{\"timout\": 1}", "sandbox.timout: unknown key; did you mean 'timeout'?"},
        {"{\"mode\": 3}", "sandbox.mode: expected a string"},
        {"{\"memory_mb\": 1}", "sandbox.memory_mb"},
        {"{\"cc\": \"gcc\"}", "sandbox.cc: 'gcc' must be an absolute path"},
        {"{\"cflags\": \"-O2\"}", "sandbox.cflags: expected an array"},
        {"{\"cflags\": [\"\"]}", "sandbox.cflags[0]"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = cJSON_Parse(bad[i][0]);
        sandbox_config_default(&c);
        int rc = sandbox_config_parse(j, "sandbox", &c);
        TEST_CHECK(rc != 0 && strstr(err_msg(), bad[i][1]), "%s -> %s", bad[i][0], err_msg());
        cJSON_Delete(j);
    }
    sandbox_config_default(&c);
    snprintf(c.helper, sizeof(c.helper), "/nonexistent/grpo-sandbox");
    char path[4096];
    TEST_CHECK(sandbox_find_helper(&c, path, sizeof(path)) != 0 && strstr(err_msg(), "not an executable"),
               "explicit missing helper: %s", err_msg());
    c.helper[0] = '\0';
    TEST_CHECK(sandbox_find_helper(&c, path, sizeof(path)) == 0, "find helper: %s", err_msg());
    printf("helper: %s\n", path);
}

static void test_wire(void) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    TEST_CHECK(wire_append(&buf, &len, &cap, "source", "a\nb\0c", 5) == 0, "append");
    TEST_CHECK(wire_append_str(&buf, &len, &cap, "end", "") == 0, "append");
    size_t pos = 0, vlen;
    char key[SANDBOX_WIRE_KEY_MAX];
    const char *val;
    TEST_CHECK(wire_next(buf, len, &pos, key, &val, &vlen) == 1 && !strcmp(key, "source") && vlen == 5 &&
                   !memcmp(val, "a\nb\0c", 5),
               "binary-safe record");
    TEST_CHECK(wire_next(buf, len, &pos, key, &val, &vlen) == 1 && !strcmp(key, "end") && vlen == 0, "end record");
    TEST_CHECK(wire_next(buf, len, &pos, key, &val, &vlen) == 0, "end of buffer");
    free(buf);
    static const char *const bad[] = {"KEY 1\nx\n", "key 5\nab\n", "key x\nab\n", "key 2\nabc",
                                      "key\n", "key 99999999999999999999\n", "k 1\nxy"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pos = 0;
        TEST_CHECK(wire_next(bad[i], strlen(bad[i]), &pos, key, &val, &vlen) == -1, "malformed record %zu rejected", i);
    }
}

/* dir + "/" + rel into out (PATH_BUF bytes); returns out. */
#define PATH_BUF 1024
static char *path_in(char *out, const char *dir, const char *rel) {
    if ((size_t)snprintf(out, PATH_BUF, "%s/%s", dir, rel) >= PATH_BUF) {
        fprintf(stderr, "FAIL: path too long: %s/%s\n", dir, rel);
        exit(1);
    }
    return out;
}

static void mkdir_in(const char *dir, const char *rel) {
    char p[PATH_BUF];
    mkdir(path_in(p, dir, rel), 0755);
}

static void write_in(const char *dir, const char *rel, const char *text) {
    char p[PATH_BUF];
    file_write_atomic(path_in(p, dir, rel), text, strlen(text));
}

static void test_remove_tree(void) {
    char base[] = "/tmp/grpo-sbx-unit-XXXXXX";
    TEST_CHECK(mkdtemp(base) != NULL, "mkdtemp");
    char canary[PATH_BUF], victim[PATH_BUF], p[PATH_BUF], target[PATH_BUF];
    path_in(canary, base, "canary");
    path_in(victim, base, "victim");
    mkdir(canary, 0755);
    write_in(canary, "keep.txt", "precious\n");
    mkdir(victim, 0755);
    /* Symlinks to the canary directory and file, at several depths. */
    TEST_CHECK(symlink(canary, path_in(p, victim, "link-dir")) == 0, "symlink");
    mkdir_in(victim, "a");
    TEST_CHECK(symlink(path_in(target, canary, "keep.txt"), path_in(p, victim, "a/link-file")) == 0, "symlink");
    mkdir_in(victim, "a/b");
    write_in(victim, "a/b/file", "x");
    /* An unreadable directory and a deep chain (deeper than PATH_MAX allows by name). */
    mkdir_in(victim, "locked");
    write_in(victim, "locked/f", "y");
    chmod(path_in(p, victim, "locked"), 0);
    mkdir_in(victim, "deep");
    int fd = open(path_in(p, victim, "deep"), O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 3000 && fd >= 0; i++) {
        mkdirat(fd, "dddddddddd", 0755);
        int next = openat(fd, "dddddddddd", O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = next;
    }
    if (fd >= 0) close(fd);
    TEST_CHECK(sandbox_remove_tree(victim) == 0, "remove_tree: %s", err_msg());
    struct stat st;
    TEST_CHECK(lstat(victim, &st) != 0 && errno == ENOENT, "victim removed");
    char *kept = file_read_all(path_in(p, canary, "keep.txt"), NULL);
    TEST_CHECK(kept && !strcmp(kept, "precious\n"), "canary file intact through symlinks");
    free(kept);
    TEST_CHECK(sandbox_remove_tree(victim) == 0, "removing a missing path is success");
    TEST_CHECK(sandbox_remove_tree(base) == 0, "cleanup: %s", err_msg());
}

static void test_pool(void) {
    SandboxConfig c;
    sandbox_config_default(&c);
    c.run.wall_seconds = 60; /* a backstop: no program here is meant to reach it, even on a loaded machine */
    c.run.cpu_seconds = 1;
    c.run.output_bytes = 1000;
    c.uid_base = 64000;
    SandboxLang langs[] = {SANDBOX_LANG_PYTHON, SANDBOX_LANG_C};
    SandboxPool *pool = sandbox_pool_new(&c, 2, langs, 2);
    TEST_CHECK(pool != NULL, "pool: %s", err_msg());
    if (!pool) return;
    const char *layers = sandbox_pool_layers(pool);
    printf("mode %s, layers %s\n", sandbox_pool_mode(pool), layers);
    if (geteuid() == 0) {
        static const char *const need[] = {"helper", "closefds", "session", "pdeathsig", "mntns", "netns", "ipcns",
                                           "utsns",  "pidns",    "privroot", "uid=",     "nonewprivs", "seccomp",
                                           "rlimits", "deadline", "outcap", "cleanenv"};
        TEST_CHECK(!strcmp(sandbox_pool_mode(pool), "full"), "root gets mode full");
        for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
            TEST_CHECK(strstr(layers, need[i]) != NULL, "layer %s active", need[i]);
    }
    const char *py = "import sys\ndata = sys.stdin.read()\nsys.stderr.write('E' + data)\nprint(len(data))\n"
                     "sys.exit(0 if data != 'bad' else 5)\n";
    const char *in[] = {"abc", "", "bad", "last"};
    size_t in_len[] = {3, 0, 3, 4};
    const char *spam = "print('x' * 5000)\n";
    SandboxJob jobs[3] = {
        {SANDBOX_LANG_PYTHON, py, strlen(py), in, in_len, 4, 0},
        {SANDBOX_LANG_PYTHON, py, strlen(py), in, in_len, 4, 1},
        {SANDBOX_LANG_PYTHON, spam, strlen(spam), in, in_len, 1, 0},
    };
    SandboxResult r[3];
    TEST_CHECK(sandbox_pool_run(pool, jobs, 3, r) == 0, "run: %s", err_msg());
    TEST_CHECK(!r[0].error && r[0].n_runs == 4, "one run per input (%zu) %s", r[0].n_runs, r[0].error ? r[0].error : "");
    if (r[0].n_runs == 4) {
        TEST_CHECK(r[0].runs[0].status == SANDBOX_RUN_OK && !strcmp(r[0].runs[0].out, "3\n") &&
                       !strcmp(r[0].runs[0].err, "Eabc"),
                   "run 0: out '%s' err '%s'", r[0].runs[0].out, r[0].runs[0].err);
        TEST_CHECK(!strcmp(r[0].runs[1].out, "0\n"), "empty stdin");
        TEST_CHECK(r[0].runs[2].status == SANDBOX_RUN_EXIT && r[0].runs[2].exit_code == 5, "exit code 5");
        TEST_CHECK(r[0].runs[3].status == SANDBOX_RUN_OK && !strcmp(r[0].runs[3].out, "4\n"), "runs go on after a failure");
    }
    TEST_CHECK(!r[1].error && r[1].n_runs == 3, "stop_on_error stops after the failing run (%zu runs)", r[1].n_runs);
    TEST_CHECK(r[2].n_runs == 1 && r[2].runs[0].status == SANDBOX_RUN_OUTPUT && r[2].runs[0].out_len == 1000,
               "output cap: status %d, %zu bytes kept", r[2].n_runs ? (int)r[2].runs[0].status : -1,
               r[2].n_runs ? r[2].runs[0].out_len : 0);
    for (int i = 0; i < 3; i++) sandbox_result_free(&r[i]);
    SandboxJob empty = {SANDBOX_LANG_PYTHON, py, strlen(py), in, in_len, 0, 0};
    TEST_CHECK(sandbox_pool_run(pool, &empty, 1, r) != 0, "a job without inputs is misuse");
    sandbox_pool_free(pool);
}

int main(void) {
    test_config();
    test_wire();
    test_remove_tree();
    test_pool();
    return test_summary();
}
