/*
 * driver.c: a small coverage-guided fuzzer for the harnesses in this
 * folder when libFuzzer is not there (a GCC build): it links with one
 * harness (LLVMFuzzerTestOneInput, optional LLVMFuzzerInitialize) and the
 * library files that harness exercises, compiled with
 * -fsanitize-coverage=trace-pc, whose callback here hashes each basic
 * block with the previous one into an AFL-style edge map with hit-count
 * buckets. Inputs that reach a new edge or bucket join the corpus;
 * mutations are bit flips, interesting bytes and numbers, inserts,
 * deletes, duplications, splices with another input and dictionary
 * tokens. It takes libFuzzer's flags, so a ctest command works with either:
 *
 *   fuzz_x [-max_total_time=S] [-runs=N] [-seed=N] [-dict=FILE] [-timeout=S]
 *          [-max_len=N] CORPUS_DIR|FILE ...
 *
 * Every file found is run first (a file alone reproduces a crash). An input
 * that crashes (a signal, or a sanitizer report) or runs longer than
 * -timeout is saved as crash-<n> / timeout-<n> in the current directory.
 * Not for: production fuzzing (use libFuzzer: scripts/fuzz.sh).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
void __sanitizer_cov_trace_pc(void);

/* ---- coverage: edges of basic blocks, AFL-style ---- */

#define MAP_BITS 16
#define MAP_SIZE ((size_t)1 << MAP_BITS)
static uint8_t cov[MAP_SIZE];  /* hits of the current run */
static uint8_t seen[MAP_SIZE]; /* buckets ever seen */
static _Thread_local uintptr_t prev_block;

void __sanitizer_cov_trace_pc(void) {
    uintptr_t pc = (uintptr_t)__builtin_return_address(0);
    uintptr_t cur = (pc ^ (pc >> MAP_BITS) ^ (pc >> (2 * MAP_BITS))) & (MAP_SIZE - 1);
    uint8_t *c = &cov[cur ^ prev_block];
    if (*c < 255) ++*c;
    prev_block = cur >> 1;
}

static uint8_t bucket(uint8_t n) {
    return n == 0 ? 0 : n == 1 ? 1 : n == 2 ? 2 : n == 3 ? 4 : n < 8 ? 8 : n < 16 ? 16 : n < 32 ? 32 : n < 128 ? 64 : 128;
}

/* Folds the run's hits into `seen`; returns how many edges or buckets were new. */
static size_t new_coverage(void) {
    size_t fresh = 0;
    for (size_t i = 0; i < MAP_SIZE; i++) {
        if (!cov[i]) continue;
        uint8_t b = bucket(cov[i]);
        if (b & ~seen[i]) {
            seen[i] |= b;
            fresh++;
        }
    }
    return fresh;
}

static size_t edges(void) {
    size_t n = 0;
    for (size_t i = 0; i < MAP_SIZE; i++) n += seen[i] != 0;
    return n;
}

/* ---- inputs ---- */

typedef struct {
    uint8_t *p;
    size_t n;
} Input;

static Input *corpus;
static size_t n_corpus, cap_corpus;
static Input *dict;
static size_t n_dict, cap_dict;

static void add_input(Input **v, size_t *n, size_t *cap, const uint8_t *p, size_t len) {
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *v = realloc(*v, *cap * sizeof(Input));
        if (!*v) abort();
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) abort();
    memcpy(copy, p, len);
    (*v)[(*n)++] = (Input){copy, len};
}

/* ---- what a crash leaves behind ---- */

static const uint8_t *cur_data;
static size_t cur_size;
static long n_execs;

static void save_current(const char *kind) {
    char name[64];
    snprintf(name, sizeof(name), "%s-%ld", kind, n_execs);
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (cur_data && cur_size) {
            ssize_t w = write(fd, cur_data, cur_size);
            (void)w;
        }
        close(fd);
    }
    static const char msg[] = "fuzz driver: the input that failed is saved in the current directory as ";
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    w = write(2, name, strlen(name));
    w = write(2, "\n", 1);
    (void)w;
}

static void on_death(void) { save_current("crash"); }

static void on_signal(int sig) {
    save_current(sig == SIGALRM ? "timeout" : "crash");
    if (sig == SIGALRM) {
        static const char msg[] = "fuzz driver: an input ran longer than -timeout\n";
        ssize_t w = write(2, msg, sizeof(msg) - 1);
        (void)w;
        _exit(70);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static unsigned timeout_s = 10;

static void run_one(const uint8_t *p, size_t n) {
    /* a copy of exactly n bytes, so reading past the end is caught */
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) abort();
    memcpy(buf, p, n);
    cur_data = buf;
    cur_size = n;
    memset(cov, 0, sizeof(cov));
    prev_block = 0;
    alarm(timeout_s);
    LLVMFuzzerTestOneInput(buf, n);
    alarm(0);
    n_execs++;
    cur_data = NULL;
    free(buf);
}

/* ---- mutations ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static const char *const numbers[] = {"0", "-1", "1e308", "1e309", "-0", "NaN", "4294967296", "2147483648",
                                      "9223372036854775807", "18446744073709551616", "1e15", "0.5", "65536", "-2147483649"};

/* Inserts b[0..k) at position at of a buffer of *n bytes (capacity cap). */
static void insert(uint8_t *p, size_t *n, size_t cap, size_t at, const uint8_t *b, size_t k) {
    if (*n + k > cap) k = cap - *n;
    memmove(p + at + k, p + at, *n - at);
    memcpy(p + at, b, k);
    *n += k;
}

static size_t mutate(uint8_t *p, size_t n, size_t cap) {
    int rounds = 1 + (int)below(4);
    for (int r = 0; r < rounds; r++) {
        switch (below(n ? 11 : 3)) {
        case 0: { /* insert random bytes */
            uint8_t b[8];
            size_t k = 1 + below(8);
            for (size_t i = 0; i < k; i++) b[i] = (uint8_t)rnd();
            insert(p, &n, cap, below(n + 1), b, k);
            break;
        }
        case 1: { /* insert a dictionary token, or a number */
            size_t at = below(n + 1);
            if (n_dict && below(3)) {
                const Input *d = &dict[below(n_dict)];
                insert(p, &n, cap, at, d->p, d->n);
            } else {
                const char *s = numbers[below(sizeof(numbers) / sizeof(numbers[0]))];
                insert(p, &n, cap, at, (const uint8_t *)s, strlen(s));
            }
            break;
        }
        case 2: { /* splice a piece of another input */
            if (!n_corpus) break;
            const Input *o = &corpus[below(n_corpus)];
            if (!o->n) break;
            size_t from = below(o->n), k = 1 + below(o->n - from);
            insert(p, &n, cap, below(n + 1), o->p + from, k);
            break;
        }
        case 3: p[below(n)] ^= (uint8_t)(1u << below(8)); break; /* flip a bit */
        case 4: p[below(n)] = (uint8_t)rnd(); break;              /* set a byte */
        case 5: { /* an interesting byte */
            static const uint8_t special[] = {0, 1, 0x7f, 0x80, 0xff, '{', '}', '[', ']', '"', '\\', ',', ':', '\n', ' ', '0', '9', '-', '.'};
            p[below(n)] = special[below(sizeof(special))];
            break;
        }
        case 6:
        case 7: { /* delete a range */
            size_t at = below(n), k = 1 + below(n - at < 16 ? n - at : 16);
            memmove(p + at, p + at + k, n - at - k);
            n -= k;
            break;
        }
        case 8: { /* duplicate a range */
            size_t at = below(n), k = 1 + below(n - at < 32 ? n - at : 32);
            uint8_t tmp[32];
            memcpy(tmp, p + at, k);
            insert(p, &n, cap, at, tmp, k);
            break;
        }
        case 9: { /* replace a digit run with a number */
            size_t at = below(n);
            while (at < n && !(p[at] >= '0' && p[at] <= '9')) at++;
            if (at == n) break;
            size_t end = at;
            while (end < n && p[end] >= '0' && p[end] <= '9') end++;
            memmove(p + at, p + end, n - end);
            n -= end - at;
            const char *s = numbers[below(sizeof(numbers) / sizeof(numbers[0]))];
            insert(p, &n, cap, at, (const uint8_t *)s, strlen(s));
            break;
        }
        default: { /* overwrite with a piece of another input */
            if (!n_corpus) break;
            const Input *o = &corpus[below(n_corpus)];
            if (!o->n) break;
            size_t from = below(o->n), at = below(n);
            size_t k = 1 + below(o->n - from);
            if (k > n - at) k = n - at;
            memcpy(p + at, o->p + from, k);
            break;
        }
        }
    }
    return n;
}

/* ---- files ---- */

static int read_file(const char *path, uint8_t **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) return -1;
    *out = buf;
    *len = n;
    return 0;
}

/* AFL/libFuzzer dictionary lines: name="value" or "value", with \\, \" and \xNN. */
static void load_dict(const char *path) {
    uint8_t *text;
    size_t len;
    if (read_file(path, &text, &len)) {
        fprintf(stderr, "fuzz driver: cannot read dictionary %s\n", path);
        exit(2);
    }
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        size_t q = i;
        while (q < e && text[q] != '"') q++;
        if (q < e && text[i] != '#') {
            uint8_t tok[256];
            size_t k = 0;
            for (size_t j = q + 1; j < e && text[j] != '"' && k < sizeof(tok); j++) {
                if (text[j] == '\\' && j + 1 < e) {
                    j++;
                    if (text[j] == 'x' && j + 2 < e) {
                        char hex[3] = {(char)text[j + 1], (char)text[j + 2], 0};
                        tok[k++] = (uint8_t)strtol(hex, NULL, 16);
                        j += 2;
                        continue;
                    }
                }
                tok[k++] = text[j];
            }
            if (k) add_input(&dict, &n_dict, &cap_dict, tok, k);
        }
        i = e + 1;
    }
    free(text);
}

static void load_path(const char *path, int *n_files) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "fuzz driver: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    if (S_ISDIR(sb.st_mode)) {
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            if (names[i]->d_name[0] != '.') {
                char sub[4096];
                snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
                struct stat ss;
                if (stat(sub, &ss) == 0 && S_ISREG(ss.st_mode)) load_path(sub, n_files);
            }
            free(names[i]);
        }
        free(names);
        return;
    }
    uint8_t *p;
    size_t n;
    if (read_file(path, &p, &n)) return;
    add_input(&corpus, &n_corpus, &cap_corpus, p, n);
    free(p);
    ++*n_files;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    double max_time = 0;
    long runs = -1;
    size_t max_len = 0;
    int n_paths = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "-max_total_time=", 16)) max_time = atof(a + 16);
        else if (!strncmp(a, "-runs=", 6)) runs = atol(a + 6);
        else if (!strncmp(a, "-seed=", 6)) rng_state = strtoull(a + 6, NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
        else if (!strncmp(a, "-dict=", 6)) load_dict(a + 6);
        else if (!strncmp(a, "-timeout=", 9)) timeout_s = (unsigned)atoi(a + 9);
        else if (!strncmp(a, "-max_len=", 9)) max_len = (size_t)atol(a + 9);
        else if (a[0] == '-' && strncmp(a, "-rss_limit_mb=", 14) && strncmp(a, "-print_final_stats=", 19))
            fprintf(stderr, "fuzz driver: ignoring %s\n", a);
        else n_paths++;
    }
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(on_death);
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) signal(sigs[i], on_signal);
#ifndef __SANITIZE_ADDRESS__
    /* a runaway allocation fails instead of taking the machine */
    struct rlimit rl = {(rlim_t)4 << 30, (rlim_t)4 << 30};
    setrlimit(RLIMIT_AS, &rl);
#endif

    int n_files = 0;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-') load_path(argv[i], &n_files);
    size_t largest = 0;
    for (size_t i = 0; i < n_corpus; i++) largest = corpus[i].n > largest ? corpus[i].n : largest;
    if (!max_len) max_len = largest * 2 > 4096 ? largest * 2 : 4096;

    /* every seed once: it also reproduces a saved crash */
    size_t n_seeds = n_corpus;
    for (size_t i = 0; i < n_seeds; i++) {
        run_one(corpus[i].p, corpus[i].n);
        new_coverage();
    }
    if (!n_corpus) add_input(&corpus, &n_corpus, &cap_corpus, (const uint8_t *)"", 0);
    const double t0 = now();
    const int fuzzing = max_time > 0 || runs > 0;
    uint8_t *buf = malloc(max_len + 1);
    while (fuzzing && buf) {
        if (runs > 0 && n_execs - (long)n_seeds >= runs) break;
        if (max_time > 0 && (n_execs & 15) == 0 && now() - t0 >= max_time) break;
        const Input *base = &corpus[below(n_corpus)];
        size_t n = base->n < max_len ? base->n : max_len;
        memcpy(buf, base->p, n);
        n = mutate(buf, n, max_len);
        run_one(buf, n);
        if (new_coverage() && n_corpus < 100000) add_input(&corpus, &n_corpus, &cap_corpus, buf, n);
    }
    free(buf);
    double dt = now() - t0;
    printf("fuzz driver: %d seed file%s, %ld executions in %.1f s (%.0f/s), corpus %zu, %zu edges\n", n_files,
           n_files == 1 ? "" : "s", n_execs, dt, dt > 0 ? (double)(n_execs - (long)n_seeds) / dt : 0.0, n_corpus,
           edges());
    for (size_t i = 0; i < n_corpus; i++) free(corpus[i].p);
    free(corpus);
    for (size_t i = 0; i < n_dict; i++) free(dict[i].p);
    free(dict);
    return 0;
}
