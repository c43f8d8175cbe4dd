/*
 * sandbox.h: runs untrusted programs (the model's Python or C) and reports
 * how each run ended. The work is done by the grpo-sandbox helper program
 * (reward/sandbox/helper/), which this library spawns per job; the trainer
 * itself never forks. Layers, limits and the threat model: docs/sandbox.md.
 * Not for: deciding whether an output is right (reward/code.c does that),
 * or running trusted tools (use posix_spawn directly).
 *
 *     SandboxConfig cfg; sandbox_config_default(&cfg);
 *     SandboxLang need = SANDBOX_LANG_PYTHON;
 *     SandboxPool *pool = sandbox_pool_new(&cfg, 4, &need, 1);  // probes, logs the layers
 *     const char *in = "2 3\n"; size_t in_len = 4;
 *     SandboxJob job = {SANDBOX_LANG_PYTHON, src, strlen(src), &in, &in_len, 1, 0};
 *     SandboxResult res;
 *     sandbox_pool_run(pool, &job, 1, &res);      // res.runs[0].out is the stdout
 *     sandbox_result_free(&res);
 *     sandbox_pool_free(pool);
 */
#ifndef GRPO_SANDBOX_H
#define GRPO_SANDBOX_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* How a judged program ended; the code reward gives one per completion. */
typedef enum {
    SANDBOX_PASSED = 0,
    SANDBOX_FAILED,        /* ran, but an output or an assertion was wrong */
    SANDBOX_COMPILE_ERROR, /* C did not compile, or Python had a syntax error */
    SANDBOX_RUNTIME_ERROR, /* non-zero exit or a signal */
    SANDBOX_TIME_LIMIT,    /* wall-clock deadline or CPU limit */
    SANDBOX_MEMORY_LIMIT,  /* address-space limit hit (see docs for how it is told apart) */
    SANDBOX_OUTPUT_LIMIT,  /* stdout or stderr beyond its cap */
    SANDBOX_ERROR,         /* the sandbox itself failed; the program is not to blame */
    SANDBOX_N_VERDICTS
} SandboxVerdict;

/* "passed", "failed", "compile_error", "runtime_error", "time_limit",
 * "memory_limit", "output_limit", "sandbox_error". */
const char *sandbox_verdict_name(SandboxVerdict v);

typedef enum { SANDBOX_LANG_PYTHON = 0, SANDBOX_LANG_C = 1 } SandboxLang;

/* "python" or "c". */
const char *sandbox_lang_name(SandboxLang l);

/* auto: the strongest the system allows (full as root, else userns, else
 * minimal, with a warning). The others are demanded: if they cannot be set
 * up, every job is a sandbox error. */
typedef enum {
    SANDBOX_MODE_AUTO = 0,
    SANDBOX_MODE_FULL,    /* root: namespaces, private root, slot uids */
    SANDBOX_MODE_USERNS,  /* unprivileged: the same inside a user namespace, no slot uids */
    SANDBOX_MODE_MINIMAL, /* no namespaces: rlimits, session, seccomp, slot uids if root */
} SandboxMode;

/* Limits of one process tree (one compile or one run). */
typedef struct {
    double wall_seconds; /* deadline, after which the whole tree is killed */
    double cpu_seconds;  /* RLIMIT_CPU per process (rounded up to whole seconds) */
    size_t memory_bytes; /* RLIMIT_AS per process */
    size_t stack_bytes;  /* RLIMIT_STACK */
    size_t file_bytes;   /* RLIMIT_FSIZE: largest file a process may write */
    size_t output_bytes; /* cap on stdout and on stderr, each */
    int open_files;      /* RLIMIT_NOFILE */
    int processes;       /* RLIMIT_NPROC (counts threads; per slot uid) */
} SandboxLimits;

#define SANDBOX_MAX_CFLAGS 16

typedef struct {
    SandboxMode mode;
    char helper[512];    /* path of grpo-sandbox; "" = find it (see sandbox_find_helper) */
    char python[256];    /* absolute path of the interpreter, run as `python -I -B main.py` */
    char cc[256];        /* absolute path of the C compiler */
    char cflags[SANDBOX_MAX_CFLAGS][64];
    int n_cflags;        /* the compile line is: cc CFLAGS -o main main.c -lm */
    SandboxLimits run, compile;
    size_t tmpfs_bytes;  /* size of /work and of /tmp, each (namespace modes) */
    size_t tmpfs_inodes; /* files in /work and in /tmp, each */
    long uid_base;       /* slot uids are the first free ones from here (root only) */
    char work_root[256]; /* minimal mode: run directories are made under this */
    long drop_uid;       /* root only ("helper_uid"): the helper first becomes this
                            unprivileged uid, so runs use userns (or minimal) mode
                            without slot uids; the tests use it. -1: off */
} SandboxConfig;

/* Fills the defaults: mode auto, python /usr/bin/python3, cc /usr/bin/gcc,
 * cflags -O2 -pipe; run 4 s wall, 4 s CPU, 512 MiB, 64 MiB stack, 16 MiB
 * files, 1 MiB output, 64 files, 32 processes; compile 20 s, 10 s CPU, 1 GiB,
 * 64 MiB files, 64 KiB output, 16 processes; tmpfs 64 MiB / 4096 inodes;
 * uid_base 61000; work_root /tmp. */
void sandbox_config_default(SandboxConfig *c);

/* Applies a JSON object of overrides, e.g. {"mode": "full", "timeout": 2,
 * "memory_mb": 256, "python": "/usr/bin/python3"} (keys: docs/sandbox.md).
 * obj may be NULL (nothing to do). Unknown keys and out-of-range values fail
 * with a message naming "path.key". */
int sandbox_config_parse(const cJSON *obj, const char *path, SandboxConfig *c);

/* The keys sandbox_config_parse accepts (for listings); n set to the count. */
const char *const *sandbox_config_keys(size_t *n);

/* Finds grpo-sandbox: cfg->helper if set; else $GRPO_SANDBOX_HELPER; else
 * next to the running executable; else next to libgrpo (and ../bin, ../libexec
 * from it); else the installed path. Writes the path to out (cap bytes).
 * Returns 0 or -1 with an error saying where it looked. */
int sandbox_find_helper(const SandboxConfig *c, char *out, size_t cap);

/* ---- jobs and results ---- */

/* One program and its inputs: the program runs once per input (stdin), in
 * order. C is compiled first, once. Pointers are borrowed for the call. */
typedef struct {
    SandboxLang lang;
    const char *source;
    size_t source_len;
    const char *const *inputs; /* [n_inputs] stdin of each run */
    const size_t *input_lens;
    size_t n_inputs;           /* >= 1 */
    int stop_on_error;         /* stop after the first run that does not exit 0 */
} SandboxJob;

typedef enum {
    SANDBOX_RUN_OK = 0, /* exit code 0 */
    SANDBOX_RUN_EXIT,   /* other exit code */
    SANDBOX_RUN_SIGNAL, /* killed by a signal (not ours) */
    SANDBOX_RUN_TIME,
    SANDBOX_RUN_MEMORY,
    SANDBOX_RUN_OUTPUT,
    SANDBOX_RUN_ERROR, /* the sandbox failed; err holds the message */
} SandboxRunStatus;

/* One process tree's end. out/err are NUL-terminated, capped at output_bytes. */
typedef struct {
    SandboxRunStatus status;
    int exit_code;     /* for OK/EXIT, else -1 */
    int signal;        /* for SIGNAL (and TIME/MEMORY when a signal ended it) */
    double wall_seconds, cpu_seconds;
    long maxrss_kb;    /* largest resident set of any process of the tree */
    char *out;         /* stdout */
    size_t out_len;
    char *err;         /* stderr, or the sandbox's message when status is ERROR */
    size_t err_len;
} SandboxRun;

typedef struct {
    char *error;       /* non-NULL: the job could not be run (sandbox error), message */
    int has_compile;   /* C: compile holds the compiler's run (its stdout is empty) */
    SandboxRun compile;
    SandboxRun *runs;  /* [n_runs], n_runs <= n_inputs: runs stop after a time limit,
                          a sandbox error, or (stop_on_error) a failed run */
    size_t n_runs;
} SandboxResult;

/* Frees everything the result owns and zeroes it (a zeroed result is fine). */
void sandbox_result_free(SandboxResult *r);

/* ---- the pool: one slot (uid, run directory) per concurrent job ---- */

typedef struct SandboxPool SandboxPool;

/* Makes a pool of `workers` slots (>= 1). As root each slot claims a
 * dedicated uid (the first free one from uid_base with no passwd entry,
 * locked with flock under /run/grpo-sandbox so concurrent trainers never
 * share one). Then probes: runs a trivial program in each of the n_langs
 * languages and logs the mode and active layers. Returns NULL with ERR if
 * the helper is missing or the probe fails (the message carries the
 * sandbox's own explanation). */
SandboxPool *sandbox_pool_new(const SandboxConfig *cfg, int workers, const SandboxLang *langs, size_t n_langs);

/* The mode the probe settled on ("full", "userns", "minimal") and the active
 * layers, comma-separated, e.g. "helper,closefds,session,...,seccomp". */
const char *sandbox_pool_mode(const SandboxPool *p);
const char *sandbox_pool_layers(const SandboxPool *p);
int sandbox_pool_workers(const SandboxPool *p);
const SandboxConfig *sandbox_pool_config(const SandboxPool *p);

/* Runs n jobs on the pool's slots in parallel (one thread per busy slot) and
 * fills results[0..n) (caller frees each with sandbox_result_free). A job the
 * sandbox could not run has results[i].error set; the call itself fails
 * (-1, ERR) only on misuse (n_inputs == 0). Thread-safe with respect to
 * other pools, not to concurrent calls on the same pool. */
int sandbox_pool_run(SandboxPool *p, const SandboxJob *jobs, size_t n, SandboxResult *results);

/* Frees the pool and releases its uids (NULL is fine). */
void sandbox_pool_free(SandboxPool *p);

/* Removes path and everything below it without ever following a symlink
 * (directories are opened with O_NOFOLLOW and walked by descriptor; the
 * walk keeps O(1) descriptors however deep the tree). A missing path is
 * success. Returns 0 or -1 with ERR. */
int sandbox_remove_tree(const char *path);

#endif
