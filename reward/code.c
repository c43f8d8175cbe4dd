/*
 * code.c: the `code` reward: takes the last fenced code block of the
 * completion (```python or ```c), runs it in the sandbox (sandbox.h) against
 * the example's tests and scores the pass fraction, or 1/0 all-or-nothing.
 *
 * Tests come from the example's "tests" field, in one of three shapes:
 *   [{"input": "1 2\n", "output": "3\n"}, ...]   stdin/stdout cases, one run each;
 *                                                outputs compared line by line
 *                                                after trimming trailing
 *                                                whitespace (and trailing blank lines)
 *   {"inputs": [...], "outputs": [...]}          the same, APPS-style
 *   "assert f(2) == 4\n..."                     test code appended to the program,
 *                                                one run; passes only if the run
 *                                                reaches the end of the tests
 * (a string holding JSON of the first two shapes is read as such).
 * For assert-style tests the harness prints a fresh random token (getrandom)
 * after the last test and the run passes only if that token comes back, so a
 * program that exits early (exit(0), os._exit(0)) earns nothing.
 * Not for: isolation (sandbox.c and the grpo-sandbox helper) or any other
 * reward's rules.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/common.h"
#include "common/json.h"
#include "reward.h"
#include "reward_text.h"
#include "reward/sandbox/sandbox.h"

enum { LANG_AUTO = -1 }; /* CodeReward.language: this, or a SandboxLang */
typedef enum { SCORE_FRACTION, SCORE_ALL } ScoreMode;

typedef struct {
    int language; /* LANG_AUTO or a SandboxLang */
    ScoreMode score_mode;
    double no_code_score;
    char tests_key[64];
    SandboxPool *pool;
} CodeReward;

#define N_TOKEN_HEX 32

/* ---- params ---- */

/* Parses params into c, cfg and *workers (no sandbox is started). */
static int code_parse(const cJSON *params, const char *path, CodeReward *c, SandboxConfig *cfg, long *workers) {
    static const char *const keys[] = {"language", "score", "workers", "no_code_score", "tests_key", "sandbox"};
    if (json_check_keys(params, path, keys, sizeof(keys) / sizeof(keys[0]))) return -1;
    c->language = LANG_AUTO;
    c->score_mode = SCORE_FRACTION;
    snprintf(c->tests_key, sizeof(c->tests_key), "tests");
    const char *s = "auto";
    if (json_get_string(params, path, "language", &s)) return -1;
    if (!strcmp(s, "auto")) c->language = LANG_AUTO;
    else if (!strcmp(s, "python")) c->language = SANDBOX_LANG_PYTHON;
    else if (!strcmp(s, "c")) c->language = SANDBOX_LANG_C;
    else return ERR("%s.language: '%s' is not supported; valid: auto, python, c", path, s);
    s = "fraction";
    if (json_get_string(params, path, "score", &s)) return -1;
    if (!strcmp(s, "fraction")) c->score_mode = SCORE_FRACTION;
    else if (!strcmp(s, "all")) c->score_mode = SCORE_ALL;
    else
        return ERR("%s.score: '%s' is not a scoring rule; valid: fraction (passed/total), all (1 only if every test "
                   "passes)",
                   path, s);
    if (json_get_double(params, path, "no_code_score", -1e6, 1e6, &c->no_code_score)) return -1;
    s = "tests";
    if (json_get_string(params, path, "tests_key", &s)) return -1;
    if (!s[0] || strlen(s) >= sizeof(c->tests_key))
        return ERR("%s.tests_key: must be a non-empty field name shorter than %zu bytes", path, sizeof(c->tests_key));
    snprintf(c->tests_key, sizeof(c->tests_key), "%s", s);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    *workers = ncpu > 0 && ncpu < 4 ? ncpu : 4;
    if (json_get_int(params, path, "workers", 1, 256, workers)) return -1;
    sandbox_config_default(cfg);
    char sp[300];
    snprintf(sp, sizeof(sp), "%s.sandbox", path);
    return sandbox_config_parse(cJSON_GetObjectItemCaseSensitive(params, "sandbox"), sp, cfg);
}

static int code_check(const cJSON *params, const char *path) {
    CodeReward c = {0};
    SandboxConfig cfg;
    long workers;
    return code_parse(params, path, &c, &cfg, &workers);
}

static int code_create(const cJSON *params, const char *path, void **state) {
    CodeReward *c = xcalloc(1, sizeof(*c));
    SandboxConfig cfg;
    long workers;
    if (code_parse(params, path, c, &cfg, &workers)) goto fail;
    /* Probe the languages this reward will run (C only if a compiler is there, under "auto"). */
    SandboxLang langs[2];
    size_t nl = 0;
    if (c->language != SANDBOX_LANG_C) langs[nl++] = SANDBOX_LANG_PYTHON;
    if (c->language == SANDBOX_LANG_C || access(cfg.cc, X_OK) == 0) langs[nl++] = SANDBOX_LANG_C;
    c->pool = sandbox_pool_new(&cfg, (int)workers, langs, nl);
    if (!c->pool) {
        err_prefix("%s", path);
        goto fail;
    }
    *state = c;
    return 0;
fail:
    free(c);
    return -1;
}

static void code_destroy(void *state) {
    CodeReward *c = state;
    if (!c) return;
    sandbox_pool_free(c->pool);
    free(c);
}

/* ---- extracting the program ---- */

static int label_lang(const char *l, size_t n) {
    char w[16];
    if (n == 0) return -2; /* unlabelled */
    if (n >= sizeof(w)) return -1;
    for (size_t i = 0; i < n; i++) w[i] = (char)tolower((unsigned char)l[i]);
    w[n] = '\0';
    if (!strcmp(w, "python") || !strcmp(w, "py") || !strcmp(w, "python3")) return SANDBOX_LANG_PYTHON;
    if (!strcmp(w, "c")) return SANDBOX_LANG_C;
    return -1; /* another language */
}

/* The last complete fenced block (``` on its own line, up to three spaces
 * of indent, info string's first word as the label) whose label is
 * acceptable: `want` (a SandboxLang) or an unlabelled block when want >= 0;
 * python or c when want is LANG_AUTO. Sets *lang; returns an xmalloc'd copy
 * or NULL. */
static char *last_code_block(const char *text, int want, SandboxLang *lang) {
    char *best = NULL;
    const char *p = text;
    const char *open_body = NULL;
    int open_lang = -1;
    while (*p) {
        const char *line = p, *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        const char *q = line;
        int indent = 0;
        while (*q == ' ' && indent < 3) q++, indent++;
        int fence = q + 3 <= eol && !strncmp(q, "```", 3);
        if (fence) {
            const char *info = q + 3;
            while (info < eol && *info == '`') info++;
            if (!open_body) {
                while (info < eol && (*info == ' ' || *info == '\t')) info++;
                const char *w = info;
                while (w < eol && !isspace((unsigned char)*w) && *w != '{') w++;
                open_lang = label_lang(info, (size_t)(w - info));
                open_body = *eol ? eol + 1 : eol;
            } else {
                const char *rest = info;
                while (rest < eol && isspace((unsigned char)*rest)) rest++;
                if (rest == eol) { /* a closing fence */
                    int ok = want == LANG_AUTO ? open_lang >= 0 : (open_lang == want || open_lang == -2);
                    if (ok) {
                        free(best);
                        best = rtext_ndup(open_body, (size_t)(line - open_body));
                        *lang = want == LANG_AUTO ? (SandboxLang)open_lang : (SandboxLang)want;
                    }
                    open_body = NULL;
                }
            }
        }
        p = *eol ? eol + 1 : eol;
    }
    return best;
}

/* ---- tests ---- */

typedef struct {
    size_t n;
    const char **in, **out; /* borrowed from the example (or from `parsed`) */
    size_t *in_len;
    const char *asserts;    /* assert-style test code, or NULL */
    cJSON *parsed;          /* owned: tests that came as a JSON string */
} Tests;

static void tests_free(Tests *t) {
    free(t->in);
    free(t->out);
    free(t->in_len);
    cJSON_Delete(t->parsed);
    memset(t, 0, sizeof(*t));
}

static int tests_add(Tests *t, const cJSON *in, const cJSON *out, size_t i, char *why, size_t cap) {
    if (!cJSON_IsString(in) || !cJSON_IsString(out)) {
        snprintf(why, cap, "test %zu: \"input\" and \"output\" must be strings", i);
        return -1;
    }
    t->in = xrealloc(t->in, (t->n + 1) * sizeof(*t->in));
    t->out = xrealloc(t->out, (t->n + 1) * sizeof(*t->out));
    t->in_len = xrealloc(t->in_len, (t->n + 1) * sizeof(*t->in_len));
    t->in[t->n] = in->valuestring;
    t->in_len[t->n] = strlen(in->valuestring);
    t->out[t->n] = out->valuestring;
    t->n++;
    return 0;
}

/* Reads the example's tests; on a malformed field returns -1 with a reason. */
static int tests_read(const cJSON *v, Tests *t, char *why, size_t cap, int depth) {
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        while (isspace((unsigned char)*s)) s++;
        if ((*s == '[' || *s == '{') && depth == 0) {
            cJSON *j = cJSON_Parse(s);
            if (j) {
                int rc = tests_read(j, t, why, cap, 1);
                if (t->parsed) cJSON_Delete(t->parsed);
                t->parsed = j;
                return rc;
            }
        }
        if (!*s) {
            snprintf(why, cap, "the test code is empty");
            return -1;
        }
        t->asserts = v->valuestring;
        return 0;
    }
    if (cJSON_IsArray(v)) {
        size_t i = 0;
        for (const cJSON *c = v->child; c; c = c->next, i++) {
            if (!cJSON_IsObject(c)) {
                snprintf(why, cap, "test %zu: expected an object {\"input\": ..., \"output\": ...}", i);
                return -1;
            }
            if (tests_add(t, cJSON_GetObjectItemCaseSensitive(c, "input"), cJSON_GetObjectItemCaseSensitive(c, "output"),
                          i, why, cap))
                return -1;
        }
    } else if (cJSON_IsObject(v)) {
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(v, "inputs");
        const cJSON *outs = cJSON_GetObjectItemCaseSensitive(v, "outputs");
        if (!cJSON_IsArray(ins) || !cJSON_IsArray(outs) || cJSON_GetArraySize(ins) != cJSON_GetArraySize(outs)) {
            snprintf(why, cap, "expected {\"inputs\": [...], \"outputs\": [...]} of equal length");
            return -1;
        }
        size_t i = 0;
        for (const cJSON *a = ins->child, *b = outs->child; a && b; a = a->next, b = b->next, i++)
            if (tests_add(t, a, b, i, why, cap)) return -1;
    } else {
        snprintf(why, cap, "expected a list of {\"input\", \"output\"} cases or a string of test code");
        return -1;
    }
    if (t->n == 0) {
        snprintf(why, cap, "no test cases");
        return -1;
    }
    return 0;
}

/* ---- building the program ---- */

static int random_token(char out[N_TOKEN_HEX + 1]) {
    unsigned char raw[N_TOKEN_HEX / 2];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t r = getrandom(raw + got, sizeof(raw) - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return ERR("getrandom: %s", strerror(errno));
        got += (size_t)r;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[N_TOKEN_HEX] = '\0';
    return 0;
}

/* True if the C test code defines its own main (then it must be int main(void)). */
static int defines_main(const char *s) {
    for (const char *p = strstr(s, "main"); p; p = strstr(p + 1, "main")) {
        if (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) continue;
        const char *q = p + 4;
        while (isspace((unsigned char)*q)) q++;
        if (*q == '(') return 1;
    }
    return 0;
}

/* program + tests + the token print, as one source file (xmalloc'd). */
static char *with_asserts(SandboxLang lang, const char *prog, const char *tests, const char *token) {
    size_t cap = strlen(prog) + strlen(tests) + 1024;
    char *s = xmalloc(cap);
    if (lang == SANDBOX_LANG_PYTHON) {
        snprintf(s, cap,
                 "%s\n\n%s\n\nimport sys as _grpo_sys\n_grpo_sys.stdout.write('\\n%s\\n')\n_grpo_sys.stdout.flush()\n",
                 prog, tests, token);
    } else if (defines_main(tests)) {
        snprintf(s, cap,
                 "#define main grpo_program_main_\n%s\n#undef main\n#include <assert.h>\n#include <stdio.h>\n"
                 "#define main grpo_tests_main_\n%s\n#undef main\n"
                 "int main(void) {\n  int r = grpo_tests_main_();\n  if (r != 0) return r;\n"
                 "  printf(\"\\n%s\\n\");\n  fflush(stdout);\n  return 0;\n}\n",
                 prog, tests, token);
    } else {
        snprintf(s, cap,
                 "#define main grpo_program_main_\n%s\n#undef main\n#include <assert.h>\n#include <stdio.h>\n"
                 "static void grpo_tests_(void) {\n%s\n}\n"
                 "int main(void) {\n  grpo_tests_();\n  printf(\"\\n%s\\n\");\n  fflush(stdout);\n  return 0;\n}\n",
                 prog, tests, token);
    }
    return s;
}

/* ---- judging ---- */

/* Compares outputs line by line after trimming trailing whitespace of each
 * line and dropping trailing blank lines. */
static int same_output(const char *a, const char *b) {
    for (;;) {
        /* End of meaningful content: only whitespace left. */
        const char *ra = a, *rb = b;
        while (*ra && isspace((unsigned char)*ra)) ra++;
        while (*rb && isspace((unsigned char)*rb)) rb++;
        if (!*ra && !*rb) return 1;
        if (!*ra || !*rb) return 0;
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        if (!ea) ea = a + strlen(a);
        if (!eb) eb = b + strlen(b);
        const char *ta = ea, *tb = eb;
        while (ta > a && isspace((unsigned char)ta[-1])) ta--;
        while (tb > b && isspace((unsigned char)tb[-1])) tb--;
        if (ta - a != tb - b || memcmp(a, b, (size_t)(ta - a))) return 0;
        a = *ea ? ea + 1 : ea;
        b = *eb ? eb + 1 : eb;
    }
}

/* The last non-empty line of s (into buf). */
static void last_line(const char *s, char *buf, size_t cap) {
    const char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) e--;
    const char *b = e;
    while (b > s && b[-1] != '\n') b--;
    size_t n = (size_t)(e - b);
    if (n >= cap) n = cap - 1;
    memcpy(buf, b, n);
    buf[n] = '\0';
}

static int python_syntax_error(const SandboxRun *r) {
    char l[256];
    last_line(r->err, l, sizeof(l));
    return !strncmp(l, "SyntaxError", 11) || !strncmp(l, "IndentationError", 16) || !strncmp(l, "TabError", 8);
}

static SandboxVerdict run_verdict(const SandboxRun *r) {
    switch (r->status) {
    case SANDBOX_RUN_OK: return SANDBOX_PASSED;
    case SANDBOX_RUN_EXIT:
    case SANDBOX_RUN_SIGNAL: return SANDBOX_RUNTIME_ERROR;
    case SANDBOX_RUN_TIME: return SANDBOX_TIME_LIMIT;
    case SANDBOX_RUN_MEMORY: return SANDBOX_MEMORY_LIMIT;
    case SANDBOX_RUN_OUTPUT: return SANDBOX_OUTPUT_LIMIT;
    case SANDBOX_RUN_ERROR: break;
    }
    return SANDBOX_ERROR;
}

/* A short, printable excerpt of s for diagnostics. */
static void excerpt(const char *s, size_t n, char *buf, size_t cap) {
    size_t k = 0, len = strlen(s);
    if (n > len) n = len;
    for (size_t i = 0; i < n && k + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') buf[k++] = '\\', buf[k++] = 'n';
        else if (ch < 32 || ch == 127) buf[k++] = '?';
        else buf[k++] = (char)ch;
    }
    if (k + 5 >= cap || len > n) buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k] = '\0';
}

static void describe_run(const SandboxRun *r, char *buf, size_t cap) {
    char tail[256];
    last_line(r->err, tail, sizeof(tail));
    switch (r->status) {
    case SANDBOX_RUN_EXIT: snprintf(buf, cap, "exit code %d: %s", r->exit_code, tail); break;
    case SANDBOX_RUN_SIGNAL: snprintf(buf, cap, "killed by signal %d (%s)", r->signal, strsignal(r->signal)); break;
    case SANDBOX_RUN_TIME: snprintf(buf, cap, "time limit (%.2f s wall)", r->wall_seconds); break;
    case SANDBOX_RUN_MEMORY: snprintf(buf, cap, "memory limit (%ld KiB resident): %s", r->maxrss_kb, tail); break;
    case SANDBOX_RUN_OUTPUT: snprintf(buf, cap, "output limit"); break;
    case SANDBOX_RUN_ERROR: snprintf(buf, cap, "sandbox: %s", r->err); break;
    case SANDBOX_RUN_OK: snprintf(buf, cap, "ok"); break;
    }
}

typedef struct {
    SandboxVerdict verdict;
    size_t passed, total;
    long first_failed; /* case index, -1 */
    char detail[600];
} Judged;

static void judge(const Tests *t, SandboxLang lang, const char *token, const SandboxResult *r, Judged *j) {
    memset(j, 0, sizeof(*j));
    j->first_failed = -1;
    j->total = t->asserts ? 1 : t->n;
    if (r->error) {
        j->verdict = SANDBOX_ERROR;
        snprintf(j->detail, sizeof(j->detail), "%s", r->error);
        return;
    }
    if (r->has_compile && r->compile.status != SANDBOX_RUN_OK) {
        j->verdict = r->compile.status == SANDBOX_RUN_ERROR ? SANDBOX_ERROR : SANDBOX_COMPILE_ERROR;
        char e[400];
        excerpt(r->compile.err, 300, e, sizeof(e));
        if (r->compile.status == SANDBOX_RUN_EXIT) snprintf(j->detail, sizeof(j->detail), "%s", e);
        else describe_run(&r->compile, j->detail, sizeof(j->detail));
        return;
    }
    for (size_t i = 0; i < r->n_runs; i++)
        if (r->runs[i].status == SANDBOX_RUN_ERROR) {
            j->verdict = SANDBOX_ERROR;
            snprintf(j->detail, sizeof(j->detail), "run %zu: %s", i, r->runs[i].err);
            return;
        }
    if (r->n_runs == 0) {
        j->verdict = SANDBOX_ERROR;
        snprintf(j->detail, sizeof(j->detail), "the sandbox ran nothing");
        return;
    }
    if (lang == SANDBOX_LANG_PYTHON && r->runs[0].status == SANDBOX_RUN_EXIT && python_syntax_error(&r->runs[0])) {
        j->verdict = SANDBOX_COMPILE_ERROR;
        last_line(r->runs[0].err, j->detail, sizeof(j->detail));
        return;
    }
    j->verdict = SANDBOX_PASSED;
    if (t->asserts) {
        const SandboxRun *run = &r->runs[0];
        char tail[256];
        last_line(run->err, tail, sizeof(tail));
        char needle[N_TOKEN_HEX + 3];
        snprintf(needle, sizeof(needle), "\n%s\n", token);
        if (run->status == SANDBOX_RUN_OK && strstr(run->out, needle)) {
            j->passed = 1;
            return;
        }
        j->first_failed = 0;
        if (run->status == SANDBOX_RUN_OK) {
            j->verdict = SANDBOX_FAILED;
            snprintf(j->detail, sizeof(j->detail), "exited before the end of the tests");
        } else if ((lang == SANDBOX_LANG_PYTHON && run->status == SANDBOX_RUN_EXIT && !strncmp(tail, "AssertionError", 14)) ||
                   (lang == SANDBOX_LANG_C && run->status == SANDBOX_RUN_SIGNAL && run->signal == SIGABRT &&
                    strstr(run->err, "Assertion"))) {
            j->verdict = SANDBOX_FAILED;
            snprintf(j->detail, sizeof(j->detail), "assertion failed: %s", tail);
        } else {
            j->verdict = run_verdict(run);
            describe_run(run, j->detail, sizeof(j->detail));
        }
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        SandboxVerdict v;
        char d[600] = "not run (an earlier case stopped the tests)";
        if (i >= r->n_runs) {
            v = SANDBOX_FAILED;
        } else if (r->runs[i].status == SANDBOX_RUN_OK) {
            if (same_output(r->runs[i].out, t->out[i])) {
                j->passed++;
                continue;
            }
            v = SANDBOX_FAILED;
            char want[200], got[200];
            excerpt(t->out[i], 120, want, sizeof(want));
            excerpt(r->runs[i].out, 120, got, sizeof(got));
            snprintf(d, sizeof(d), "case %zu: expected \"%s\", got \"%s\"", i, want, got);
        } else {
            v = run_verdict(&r->runs[i]);
            char what[500];
            describe_run(&r->runs[i], what, sizeof(what));
            snprintf(d, sizeof(d), "case %zu: %s", i, what);
        }
        if (j->first_failed < 0) {
            j->first_failed = (long)i;
            j->verdict = v;
            snprintf(j->detail, sizeof(j->detail), "%s", d);
        }
    }
}

/* ---- scoring a batch ---- */

typedef struct {
    int state;         /* 0 no score (no tests), 1 no code, 2 to run */
    SandboxLang lang;
    char *program;     /* the source sent to the sandbox */
    Tests tests;
    char token[N_TOKEN_HEX + 1];
    const char *empty; /* stdin of an assert-style run */
    size_t empty_len;
    char why[256];
} Item;

static int code_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    CodeReward *c = state;
    Item *items = xcalloc(n ? n : 1, sizeof(*items));
    SandboxJob *jobs = xcalloc(n ? n : 1, sizeof(*jobs));
    size_t *job_of = xcalloc(n ? n : 1, sizeof(*job_of));
    size_t n_jobs = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        Item *it = &items[i];
        const cJSON *ex = in[i].example;
        const cJSON *tv = ex ? cJSON_GetObjectItemCaseSensitive(ex, c->tests_key) : NULL;
        if (!tv) {
            snprintf(it->why, sizeof(it->why), "the example has no \"%s\"", c->tests_key);
            continue;
        }
        if (tests_read(tv, &it->tests, it->why, sizeof(it->why), 0)) continue;
        int want = c->language;
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(ex, "language");
        if (want == LANG_AUTO && cJSON_IsString(lv)) {
            int l = label_lang(lv->valuestring, strlen(lv->valuestring));
            if (l < 0) {
                snprintf(it->why, sizeof(it->why), "the example's language '%.40s' is not python or c", lv->valuestring);
                continue;
            }
            want = l;
        }
        char *prog = last_code_block(in[i].completion ? in[i].completion : "", want, &it->lang);
        if (!prog) {
            it->state = 1;
            continue;
        }
        it->state = 2;
        if (it->tests.asserts) {
            if (random_token(it->token)) {
                it->state = 0;
                snprintf(it->why, sizeof(it->why), "%s", err_msg());
                free(prog);
                continue;
            }
            it->program = with_asserts(it->lang, prog, it->tests.asserts, it->token);
            free(prog);
            it->empty = "";
            jobs[n_jobs] = (SandboxJob){it->lang, it->program, strlen(it->program), &it->empty, &it->empty_len, 1, 1};
        } else {
            it->program = prog;
            jobs[n_jobs] = (SandboxJob){it->lang,       it->program,  strlen(it->program),
                                        it->tests.in,   it->tests.in_len, it->tests.n,
                                        c->score_mode == SCORE_ALL};
        }
        job_of[i] = n_jobs++;
    }
    SandboxResult *res = xcalloc(n_jobs ? n_jobs : 1, sizeof(*res));
    if (n_jobs && sandbox_pool_run(c->pool, jobs, n_jobs, res)) rc = -1;
    size_t batch_counts[SANDBOX_N_VERDICTS + 1] = {0};
    for (size_t i = 0; rc == 0 && i < n; i++) {
        Item *it = &items[i];
        out[i].diag = cJSON_CreateObject();
        if (it->state == 0) {
            cJSON_AddStringToObject(out[i].diag, "error", it->why);
            continue;
        }
        if (it->state == 1) {
            out[i].has_score = 1;
            out[i].score = c->no_code_score;
            cJSON_AddStringToObject(out[i].diag, "verdict", "no_code");
            batch_counts[SANDBOX_N_VERDICTS]++;
            continue;
        }
        Judged j;
        judge(&it->tests, it->lang, it->token, &res[job_of[i]], &j);
        batch_counts[j.verdict]++;
        cJSON_AddStringToObject(out[i].diag, "verdict", sandbox_verdict_name(j.verdict));
        cJSON_AddStringToObject(out[i].diag, "language", sandbox_lang_name(it->lang));
        cJSON_AddNumberToObject(out[i].diag, "passed", (double)j.passed);
        cJSON_AddNumberToObject(out[i].diag, "tests", (double)j.total);
        if (j.first_failed >= 0) cJSON_AddNumberToObject(out[i].diag, "first_failed", (double)j.first_failed);
        if (j.detail[0]) cJSON_AddStringToObject(out[i].diag, "detail", j.detail);
        if (j.verdict == SANDBOX_ERROR) continue; /* not the program's fault: no score */
        out[i].has_score = 1;
        if (c->score_mode == SCORE_ALL) out[i].score = j.passed == j.total ? 1.0 : 0.0;
        else out[i].score = j.total ? (double)j.passed / (double)j.total : 0.0;
    }
    if (rc == 0) {
        char line[512] = "";
        size_t off = 0;
        for (int v = 0; v <= SANDBOX_N_VERDICTS; v++) {
            if (batch_counts[v] && off < sizeof(line))
                off += (size_t)snprintf(line + off, sizeof(line) - off, " %s=%zu",
                                        v == SANDBOX_N_VERDICTS ? "no_code" : sandbox_verdict_name((SandboxVerdict)v),
                                        batch_counts[v]);
        }
        log_debug("code reward: %zu completions:%s", n, line);
        if (batch_counts[SANDBOX_ERROR])
            log_warn("code reward: %zu of %zu runs hit a sandbox error (scored as no score); see the "
                     "\"detail\" diagnostics",
                     batch_counts[SANDBOX_ERROR], n);
    }
    for (size_t k = 0; k < n_jobs; k++) sandbox_result_free(&res[k]);
    for (size_t i = 0; i < n; i++) {
        free(items[i].program);
        tests_free(&items[i].tests);
    }
    free(res);
    free(items);
    free(jobs);
    free(job_of);
    return rc;
}

const RewardKind reward_kind_code = {
    .name = "code",
    .pure = 0,
    .create = code_create,
    .score = code_score,
    .destroy = code_destroy,
    .check = code_check,
};
