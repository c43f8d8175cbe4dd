/*
 * test_encode_max.c: tokenizer_encode_max, the early stop that lets SFT
 * keep the first data.max_length tokens of a huge example without
 * tokenizing all of it: for every text of the tokenizer corpus, two
 * tokenizers and limits from 1 to past the end, the ids are a prefix of
 * tokenizer_encode's and at least the limit (or all of them); appending to
 * ids already there counts them against the limit.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "model/tokenizer/tokenizer.h"
#include "test.h"

static void check_text(const Tokenizer *tok, const char *name, const char *text, size_t line) {
    TokenIds full = {0};
    if (tokenizer_encode(tok, text, strlen(text), 1, &full)) {
        TEST_CHECK(0, "%s line %zu: %s", name, line, err_msg());
        return;
    }
    size_t limits[] = {1, 2, 3, 5, full.n / 2, full.n - (full.n > 0), full.n, full.n + 7};
    for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
        size_t lim = limits[k] ? limits[k] : 1;
        TokenIds got = {0};
        token_ids_push(&got, 42); /* ids already there count */
        int rc = tokenizer_encode_max(tok, text, strlen(text), 1, lim + 1, &got);
        size_t want_min = full.n < lim ? full.n : lim;
        /* (full.ids is NULL for a text without ids: no memcmp then) */
        int prefix = rc == 0 && got.n - 1 >= want_min && got.n - 1 <= full.n &&
                     (got.n == 1 || !memcmp(got.ids + 1, full.ids, (got.n - 1) * sizeof(int)));
        TEST_CHECK(prefix, "%s line %zu limit %zu: %zu ids of %zu, not a prefix of at least the limit", name, line,
                   lim, got.n - 1, full.n);
        token_ids_free(&got);
    }
    token_ids_free(&full);
}

int main(void) {
    const char *toks[] = {"tests/fixtures/tokenizer/mixed.json", "tests/fixtures/tokenizer/smollm_style.json",
                          "configs/tokenizers/bytes.json"};
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/fixtures/tokenizer/corpus.jsonl", GRPO_SOURCE_DIR);
    size_t len = 0;
    char *corpus = file_read_all(path, &len);
    TEST_CHECK(corpus != NULL, "%s", err_msg());
    for (size_t t = 0; corpus && t < sizeof(toks) / sizeof(toks[0]); t++) {
        snprintf(path, sizeof(path), "%s/%s", GRPO_SOURCE_DIR, toks[t]);
        Tokenizer *tok = NULL;
        if (tokenizer_load(&tok, path)) {
            TEST_CHECK(0, "%s", err_msg());
            continue;
        }
        size_t line = 0;
        for (char *p = corpus, *nl; p < corpus + len; p = nl + 1) {
            nl = strchr(p, '\n');
            if (!nl) nl = corpus + len;
            line++;
            cJSON *j = json_parse_named(p, (size_t)(nl - p), "corpus");
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
            if (cJSON_IsString(text)) check_text(tok, toks[t], text->valuestring, line);
            cJSON_Delete(j);
        }
        tokenizer_free(tok);
    }
    free(corpus);
    return test_summary();
}
