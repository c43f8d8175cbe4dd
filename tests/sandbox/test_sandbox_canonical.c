/*
 * test_sandbox_canonical.c: canonical-solution checks of the `code` reward.
 * A small problem set of our own (stdin/stdout and assert-style, Python and
 * C): correct programs must pass, subtly wrong ones must fail, and each
 * other verdict (compile error, runtime error, time limit, early exit) must
 * come out as such. Also: fence extraction, output normalisation, the JSON
 * string and APPS forms of tests, fraction vs all-or-nothing scoring.
 * Runs through the public reward interface with 2 sandbox workers.
 */
#include <math.h>

#include "../test.h"
#include "sandbox_test.h"

typedef struct {
    const char *name;
    char *completion; /* owned */
    cJSON *example;   /* owned */
    const char *verdict;
    double score;     /* expected; NAN = "no score" */
} Case;

static Case cases[128];
static size_t n_cases;

static void add(const char *name, char *completion, cJSON *example, const char *verdict, double score) {
    cases[n_cases++] = (Case){name, completion, example, verdict, score};
}

/* ---- problem 1: a + b of two 64-bit integers (stdin/stdout) ---- */
static const char *const sum_in[] = {"1 2\n", "-5 5\n", "3000000000 3000000000\n", "0 0"};
static const char *const sum_out[] = {"3\n", "0\n", "6000000000\n", "0\n"};

/* ---- problem 2: reverse the order of the words of each line ---- */
static const char *const rev_in[] = {"hello world\n", "a b c\nx y\n", "single\n"};
static const char *const rev_out[] = {"world hello\n", "c b a\ny x\n", "single\n"};

static cJSON *sum_tests(void) { return example_cases(sum_in, sum_out, 4); }
static cJSON *rev_tests(void) { return example_cases(rev_in, rev_out, 3); }

/* ---- problem 3: is_prime (assert-style) ---- */
static const char *const prime_py_tests =
    "assert not is_prime(0)\nassert not is_prime(1)\nassert is_prime(2)\nassert is_prime(3)\n"
    "assert not is_prime(9)\nassert not is_prime(25)\nassert is_prime(97)\nassert not is_prime(1000000)\n";
static const char *const prime_c_tests =
    "assert(!is_prime(0)); assert(!is_prime(1)); assert(is_prime(2)); assert(is_prime(3));\n"
    "assert(!is_prime(9)); assert(!is_prime(25)); assert(is_prime(97)); assert(!is_prime(1000000));\n";

static void build(void) {
    /* a + b */
    add("sum py correct", fenced("python", "a, b = map(int, input().split())\nprint(a + b)"),
        sum_tests(), "passed", 1.0);
    add("sum py wrong (a - b)", fenced("python", "a, b = map(int, input().split())\nprint(a - b)"),
        sum_tests(), "failed", 0.25);
    add("sum c correct",
        fenced("c", "#include <stdio.h>\nint main(void) { long long a, b; if (scanf(\"%lld %lld\", &a, &b) != 2) "
                    "return 1; printf(\"%lld\\n\", a + b); return 0; }"),
        sum_tests(), "passed", 1.0);
    add("sum c wrong (32-bit overflow)",
        fenced("c", "#include <stdio.h>\nint main(void) { int a, b; if (scanf(\"%d %d\", &a, &b) != 2) return 1; "
                    "printf(\"%d\\n\", a + b); return 0; }"),
        sum_tests(), "failed", 0.75);
    /* reverse words */
    add("rev py correct",
        fenced("python", "import sys\nfor line in sys.stdin.read().splitlines():\n    print(' '.join(reversed(line.split())))"),
        rev_tests(), "passed", 1.0);
    add("rev py wrong (reverses characters)",
        fenced("python", "import sys\nfor line in sys.stdin.read().splitlines():\n    print(line[::-1])"),
        rev_tests(), "failed", 1.0 / 3.0);
    add("rev py trailing spaces and CRLF still pass",
        fenced("python", "import sys\nfor line in sys.stdin.read().splitlines():\n    "
                         "sys.stdout.write(' '.join(reversed(line.split())) + '   \\r\\n')\nprint()\nprint()"),
        rev_tests(), "passed", 1.0);
    add("rev py wrong (leading space is not trimmed)",
        fenced("python", "import sys\nfor line in sys.stdin.read().splitlines():\n    print(' ' + ' '.join(reversed(line.split())))"),
        rev_tests(), "failed", 0.0);
    /* is_prime, assert-style */
    add("prime py correct",
        fenced("python", "def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n"
                         "        if n % i == 0:\n            return False\n        i += 1\n    return True"),
        example_asserts(prime_py_tests), "passed", 1.0);
    add("prime py wrong (i * i < n misses squares)",
        fenced("python", "def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i < n:\n"
                         "        if n % i == 0:\n            return False\n        i += 1\n    return True"),
        example_asserts(prime_py_tests), "failed", 0.0);
    add("prime py wrong (1 is prime)",
        fenced("python", "def is_prime(n):\n    if n < 1:\n        return False\n    return all(n % i for i in range(2, int(n ** 0.5) + 1))"),
        example_asserts(prime_py_tests), "failed", 0.0);
    add("prime c correct",
        fenced("c", "int is_prime(long n) { if (n < 2) return 0; for (long i = 2; i * i <= n; i++) if (n % i == 0) "
                    "return 0; return 1; }"),
        example_asserts(prime_c_tests), "passed", 1.0);
    add("prime c wrong (i * i < n)",
        fenced("c", "int is_prime(long n) { if (n < 2) return 0; for (long i = 2; i * i < n; i++) if (n % i == 0) "
                    "return 0; return 1; }"),
        example_asserts(prime_c_tests), "failed", 0.0);
    add("prime c correct, with its own main (renamed away)",
        fenced("c", "#include <stdio.h>\nint is_prime(long n) { if (n < 2) return 0; for (long i = 2; i * i <= n; i++) "
                    "if (n % i == 0) return 0; return 1; }\nint main(void) { printf(\"%d\\n\", is_prime(7)); return 0; }"),
        example_asserts(prime_c_tests), "passed", 1.0);
    add("prime c, tests with their own main",
        fenced("c", "int is_prime(long n) { if (n < 2) return 0; for (long i = 2; i * i <= n; i++) if (n % i == 0) "
                    "return 0; return 1; }"),
        example_asserts("int main(void) {\n  assert(is_prime(13));\n  assert(!is_prime(15));\n  return 0;\n}\n"), "passed",
        1.0);
    add("prime c, tests main returns non-zero",
        fenced("c", "int is_prime(long n) { return n == 2; }"),
        example_asserts("int main(void) { return is_prime(3) ? 0 : 1; }\n"), "runtime_error", 0.0);
    /* Early exits never pass. */
    add("py os._exit(0) before the tests", fenced("python", "import os\nos._exit(0)\ndef is_prime(n): return True"),
        example_asserts(prime_py_tests), "failed", 0.0);
    add("py sys.exit(0) before the tests", fenced("python", "import sys\nsys.exit(0)"),
        example_asserts(prime_py_tests), "failed", 0.0);
    add("py prints a fake token line then exits",
        fenced("python", "print('\\n' + '0' * 32)\nimport os\nos._exit(0)"), example_asserts(prime_py_tests), "failed",
        0.0);
    add("c exit(0) in a constructor",
        fenced("c", "#include <stdlib.h>\n__attribute__((constructor)) static void leave(void) { exit(0); }\n"
                    "int is_prime(long n) { return 1; }"),
        example_asserts(prime_c_tests), "failed", 0.0);
    add("c _exit(0) inside the function under test",
        fenced("c", "#include <unistd.h>\nint is_prime(long n) { _exit(0); }"), example_asserts(prime_c_tests), "failed",
        0.0);
    /* Other verdicts. */
    add("py syntax error", fenced("python", "def f(:\n  pass"), sum_tests(), "compile_error", 0.0);
    add("py indentation error", fenced("python", "if True:\nprint(1)"), sum_tests(),
        "compile_error", 0.0);
    add("c compile error", fenced("c", "int main(void) { return undefined_name; }"), sum_tests(),
        "compile_error", 0.0);
    add("py runtime error (ZeroDivisionError)", fenced("python", "print(1 // 0)"), sum_tests(),
        "runtime_error", 0.0);
    add("c runtime error (exit 3)", fenced("c", "int main(void) { return 3; }"), sum_tests(),
        "runtime_error", 0.0);
    add("py assert-style exception that is not an assertion",
        fenced("python", "def is_prime(n):\n    raise ValueError('nope')"), example_asserts(prime_py_tests),
        "runtime_error", 0.0);
    add("py time limit", fenced("python", "while True:\n    pass"), sum_tests(), "time_limit", 0.0);
    add("py second case too slow",
        fenced("python", "a, b = map(int, input().split())\nwhile a < 0:\n    pass\nprint(a + b)"),
        sum_tests(), "time_limit", 0.25);
    /* Extraction. */
    add("last block wins",
        xstrdup("First try:\n```python\nprint(0)\n```\nBetter:\n```python\na, b = map(int, input().split())\n"
                "print(a + b)\n```\n"),
        sum_tests(), "passed", 1.0);
    add("a later cpp block is ignored",
        xstrdup("```python\na, b = map(int, input().split())\nprint(a + b)\n```\nAlso in C++:\n```cpp\nint main(){}\n```\n"),
        sum_tests(), "passed", 1.0);
    add("unterminated block is not code", xstrdup("```python\nprint(3)\n"), sum_tests(), "no_code",
        0.0);
    add("no code at all", xstrdup("The answer is 3."), sum_tests(), "no_code", 0.0);
    {
        cJSON *ex = sum_tests();
        cJSON_AddStringToObject(ex, "language", "c");
        add("example says c, completion is python", fenced("python", "print(3)"), ex, "no_code", 0.0);
        ex = sum_tests();
        cJSON_AddStringToObject(ex, "language", "python");
        add("example says python, unlabelled block",
            xstrdup("```\na, b = map(int, input().split())\nprint(a + b)\n```"), ex, "passed", 1.0);
    }
    /* Tests in other shapes. */
    {
        cJSON *ex = cJSON_CreateObject();
        cJSON_AddStringToObject(ex, "tests",
                                "[{\"input\": \"2 2\\n\", \"output\": \"4\\n\"}, {\"input\": \"1 1\", \"output\": \"2\"}]");
        add("tests as a JSON string", fenced("py", "a, b = map(int, input().split())\nprint(a + b)"), ex, "passed", 1.0);
        ex = cJSON_CreateObject();
        cJSON *t = cJSON_AddObjectToObject(ex, "tests");
        const char *ins[] = {"4 5\n", "10 -3\n"}, *outs[] = {"9\n", "7\n"};
        cJSON_AddItemToObject(t, "inputs", cJSON_CreateStringArray(ins, 2));
        cJSON_AddItemToObject(t, "outputs", cJSON_CreateStringArray(outs, 2));
        add("APPS-style inputs/outputs", fenced("Python", "a, b = map(int, input().split())\nprint(a + b)"), ex, "passed",
            1.0);
        add("no tests: no score", fenced("python", "print(1)"), cJSON_CreateObject(), "", NAN);
        ex = cJSON_CreateObject();
        cJSON_AddNumberToObject(ex, "tests", 3);
        add("malformed tests: no score", fenced("python", "print(1)"), ex, "", NAN);
    }
}

static void check_batch(const char *params, int all_mode) {
    CodeRw rw = code_rw_new(params);
    RewardInput *in = xcalloc(n_cases, sizeof(*in));
    RewardResult *out = xcalloc(n_cases, sizeof(*out));
    for (size_t i = 0; i < n_cases; i++)
        in[i] = (RewardInput){.prompt = "", .completion = cases[i].completion, .example = cases[i].example, .n_tokens = 100, .finish = FINISH_EOS};
    double t0 = now_seconds();
    int rc = rw.kind->score(rw.state, in, n_cases, out);
    double dt = now_seconds() - t0;
    TEST_CHECK(rc == 0, "score: %s", err_msg());
    printf("%s: %zu completions in %.2f s\n", all_mode ? "all-or-nothing" : "fraction", n_cases, dt);
    for (size_t i = 0; i < n_cases; i++) {
        const Case *c = &cases[i];
        double want = c->score;
        if (all_mode && !isnan(want)) want = want == 1.0 ? 1.0 : 0.0;
        int ok_v = !strcmp(verdict_of(&out[i]), c->verdict);
        int ok_s = isnan(want) ? !out[i].has_score : (out[i].has_score && fabs(out[i].score - want) < 1e-9);
        TEST_CHECK(ok_v && ok_s, "%s: verdict %s (want %s), score %s%g (want %g); detail: %s", c->name,
                   verdict_of(&out[i]), c->verdict, out[i].has_score ? "" : "none/", out[i].score, want,
                   detail_of(&out[i]));
    }
    /* Diagnostics carry the test counts and the first failing case. */
    for (size_t i = 0; i < n_cases; i++) {
        if (strcmp(cases[i].name, "sum py wrong (a - b)")) continue;
        const cJSON *ff = cJSON_GetObjectItemCaseSensitive(out[i].diag, "first_failed");
        const cJSON *np = cJSON_GetObjectItemCaseSensitive(out[i].diag, "passed");
        TEST_CHECK(cJSON_IsNumber(ff) && ff->valueint == 0, "first_failed of a - b");
        TEST_CHECK(cJSON_IsNumber(np) && np->valueint == 1, "passed of a - b");
        TEST_CHECK(strstr(detail_of(&out[i]), "expected \"3\\n\", got \"-1\\n\"") != NULL, "detail: %s",
                   detail_of(&out[i]));
    }
    reward_results_clear(out, n_cases);
    free(in);
    free(out);
    code_rw_free(&rw);
}

/* Config errors name the key. */
static void check_params(void) {
    static const char *const bad[][2] = {
        {"{\"score\": \"most\"}", "rewards[0].score"},
        {"{\"language\": \"rust\"}", "rewards[0].language"},
        {"{\"workers\": 0}", "rewards[0].workers"},
        {"{\"sandbox\": {\"timeout\": -1}}", "rewards[0].sandbox.timeout"},
        {"{\"sandbox\": {\"memry_mb\": 100}}", "did you mean 'memory_mb'"},
        {"{\"sandbox\": {\"mode\": \"strict\"}}", "rewards[0].sandbox.mode"},
        {"{\"sandbox\": {\"python\": \"python3\"}}", "absolute path"},
        {"{\"sandbox\": {\"python\": \"/nonexistent/python3\"}}", "start-up probe"},
        {"{\"timeout\": 3}", "valid keys"},
    };
    const RewardKind *k = reward_kind_find("code");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *p = cJSON_Parse(bad[i][0]);
        void *st = NULL;
        err_clear();
        int rc = k->create(p, "rewards[0]", &st);
        TEST_CHECK(rc != 0 && strstr(err_msg(), bad[i][1]), "%s: rc %d, message: %s", bad[i][0], rc, err_msg());
        if (rc == 0) k->destroy(st);
        cJSON_Delete(p);
    }
}

int main(void) {
    if (geteuid() != 0) {
        /* Without root the sandbox runs in userns or minimal mode, which is fine for these checks. */
        printf("note: not root; the sandbox uses user namespaces or the minimal mode\n");
    }
    build();
    check_params();
    /* The time limit cases spin, so the CPU limit ends them; the wall limit
     * is a backstop, long enough that a Python start waiting for a CPU on a
     * loaded machine does not turn a verdict into time_limit. */
    static const char *const limits = "\"sandbox\": {\"timeout\": 60, \"cpu_time\": 1.5, \"compile_timeout\": 120}";
    char params[256];
    snprintf(params, sizeof(params), "{\"workers\": 2, \"score\": \"fraction\", %s}", limits);
    check_batch(params, 0);
    snprintf(params, sizeof(params), "{\"workers\": 2, \"score\": \"all\", %s}", limits);
    check_batch(params, 1);
    for (size_t i = 0; i < n_cases; i++) {
        free(cases[i].completion);
        cJSON_Delete(cases[i].example);
    }
    return test_summary();
}
