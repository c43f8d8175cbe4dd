/*
 * bench_sandbox.c: how fast the code sandbox runs trivial programs.
 * Prints a table: sandboxed executions per second for a trivial Python and
 * a trivial C program (one run per job, several runs per job, 1 and N
 * workers), and each one's per-run overhead over a plain posix_spawn+wait of
 * the same program outside any sandbox. Not part of the test suite.
 *
 *   bench_sandbox [--n RUNS] [--workers W]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "reward/sandbox/sandbox.h"

extern char **environ;

static const char *py_src = "print('ok')\n";
static const char *c_src = "#include <stdio.h>\nint main(void) { puts(\"ok\"); return 0; }\n";

/* Seconds for n plain spawn+wait runs of argv (stdout to /dev/null). */
static double plain_runs(char *const argv[], int n) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    double t0 = now_seconds();
    for (int i = 0; i < n; i++) {
        pid_t pid;
        if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
            fprintf(stderr, "bench_sandbox: cannot run %s\n", argv[0]);
            exit(1);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "bench_sandbox: %s failed\n", argv[0]);
            exit(1);
        }
    }
    double dt = now_seconds() - t0;
    posix_spawn_file_actions_destroy(&fa);
    return dt;
}

/* Seconds for n_jobs sandboxed jobs of runs_per_job runs each; checks every output. */
static double sandbox_runs(SandboxPool *pool, SandboxLang lang, int n_jobs, int runs_per_job) {
    const char *src = lang == SANDBOX_LANG_C ? c_src : py_src;
    const char **in = xcalloc((size_t)runs_per_job, sizeof(*in));
    size_t *in_len = xcalloc((size_t)runs_per_job, sizeof(*in_len));
    for (int i = 0; i < runs_per_job; i++) in[i] = "";
    SandboxJob *jobs = xcalloc((size_t)n_jobs, sizeof(*jobs));
    SandboxResult *res = xcalloc((size_t)n_jobs, sizeof(*res));
    for (int j = 0; j < n_jobs; j++)
        jobs[j] = (SandboxJob){lang, src, strlen(src), in, in_len, (size_t)runs_per_job, 1};
    double t0 = now_seconds();
    if (sandbox_pool_run(pool, jobs, (size_t)n_jobs, res)) {
        fprintf(stderr, "bench_sandbox: %s\n", err_msg());
        exit(1);
    }
    double dt = now_seconds() - t0;
    for (int j = 0; j < n_jobs; j++) {
        int ok = !res[j].error && res[j].n_runs == (size_t)runs_per_job;
        for (size_t r = 0; ok && r < res[j].n_runs; r++) ok = !strcmp(res[j].runs[r].out, "ok\n");
        if (!ok) {
            fprintf(stderr, "bench_sandbox: a sandboxed run failed: %s\n",
                    res[j].error ? res[j].error : (res[j].n_runs ? res[j].runs[0].err : "no run"));
            exit(1);
        }
        sandbox_result_free(&res[j]);
    }
    free(in);
    free(in_len);
    free(jobs);
    free(res);
    return dt;
}

/* One table line; plain_per_run < 0: no overhead column (a baseline, or parallel runs). */
static void row(const char *what, int runs, double secs, double plain_per_run) {
    double per = secs / runs;
    char over[32] = "-";
    if (plain_per_run >= 0) snprintf(over, sizeof(over), "%.2f", (per - plain_per_run) * 1e3);
    printf("| %-44s | %5d | %8.3f | %9.2f | %8.1f | %12s |\n", what, runs, secs, per * 1e3, runs / secs, over);
}

int main(int argc, char **argv) {
    int n = 40, workers = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--n")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--workers")) workers = atoi(argv[i + 1]);
    }
    if (n < 2 || workers < 1) {
        fprintf(stderr, "usage: bench_sandbox [--n RUNS>=2] [--workers W>=1]\n");
        return 2;
    }
    SandboxConfig cfg;
    sandbox_config_default(&cfg);
    SandboxLang langs[] = {SANDBOX_LANG_PYTHON, SANDBOX_LANG_C};
    SandboxPool *pool1 = sandbox_pool_new(&cfg, 1, langs, 2);
    SandboxPool *poolw = pool1 ? sandbox_pool_new(&cfg, workers, langs, 2) : NULL;
    if (!pool1 || !poolw) {
        fprintf(stderr, "bench_sandbox: %s\n", err_msg());
        return 1;
    }
    /* The plain baselines: the same programs, no sandbox. */
    char dir[] = "/tmp/grpo-bench-sandbox-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char py_path[256], c_path[256], bin_path[256];
    snprintf(py_path, sizeof(py_path), "%s/main.py", dir);
    snprintf(c_path, sizeof(c_path), "%s/main.c", dir);
    snprintf(bin_path, sizeof(bin_path), "%s/main", dir);
    if (file_write_atomic(py_path, py_src, strlen(py_src)) || file_write_atomic(c_path, c_src, strlen(c_src))) {
        fprintf(stderr, "bench_sandbox: %s\n", err_msg());
        return 1;
    }
    char *py_argv[] = {cfg.python, "-I", "-B", py_path, NULL};
    char *c_argv[] = {bin_path, NULL};
    char *cc_argv[] = {cfg.cc, "-O2", "-pipe", "-o", bin_path, c_path, "-lm", NULL};
    plain_runs(cc_argv, 1); /* the baseline binary (exits with a message if it does not compile) */

    printf("grpo-sandbox benchmark: mode %s, layers %s\n", sandbox_pool_mode(pool1), sandbox_pool_layers(pool1));
    printf("%d runs per line; overhead = ms per run minus a plain posix_spawn+wait of the same program\n"
           "(one worker; with W workers jobs overlap, so only runs/s is shown)\n\n", n);
    printf("| %-44s | %5s | %8s | %9s | %8s | %12s |\n", "what", "runs", "total s", "ms / run", "runs / s",
           "overhead ms");
    printf("|%.46s|%.7s|%.10s|%.11s|%.10s|%.14s|\n", "----------------------------------------------",
           "-------", "----------", "-----------", "----------", "--------------");
    plain_runs(py_argv, 2); /* warm the page cache */
    double py_plain = plain_runs(py_argv, n) / n;
    row("plain python3 -I (no sandbox)", n, py_plain * n, -1);
    row("sandbox python, 1 run per job, 1 worker", n, sandbox_runs(pool1, SANDBOX_LANG_PYTHON, n, 1), py_plain);
    row("sandbox python, 10 runs per job, 1 worker", n, sandbox_runs(pool1, SANDBOX_LANG_PYTHON, n / 10 ? n / 10 : 1, 10),
        py_plain);
    char label[96];
    snprintf(label, sizeof(label), "sandbox python, 1 run per job, %d workers", workers);
    row(label, n, sandbox_runs(poolw, SANDBOX_LANG_PYTHON, n, 1), -1);
    double c_plain = plain_runs(c_argv, n) / n;
    row("plain C binary (no sandbox)", n, c_plain * n, -1);
    int n_cc = n / 4 > 2 ? n / 4 : 2;
    double cc_plain = plain_runs(cc_argv, n_cc) / n_cc;
    row("plain gcc -O2 compile (no sandbox)", n_cc, cc_plain * n_cc, -1);
    row("sandbox C compile + 1 run, 1 worker", n_cc, sandbox_runs(pool1, SANDBOX_LANG_C, n_cc, 1), cc_plain + c_plain);
    /* Per-run cost inside a C job: (job with 11 runs - job with 1 run) / 10. */
    double one = sandbox_runs(pool1, SANDBOX_LANG_C, n_cc, 1), eleven = sandbox_runs(pool1, SANDBOX_LANG_C, n_cc, 11);
    row("sandbox C, each further run of a job", 10 * n_cc, eleven - one, c_plain);
    snprintf(label, sizeof(label), "sandbox C compile + 1 run, %d workers", workers);
    row(label, n_cc, sandbox_runs(poolw, SANDBOX_LANG_C, n_cc, 1), -1);
    sandbox_pool_free(pool1);
    sandbox_pool_free(poolw);
    unlink(py_path);
    unlink(c_path);
    unlink(bin_path);
    rmdir(dir);
    return 0;
}
