/*
 * fuzz_tokenizer.c: tokenizer.json loading, then encoding and decoding.
 * The input is a tokenizer.json text; after a 0x01 byte, the rest is a
 * text to encode (besides a fixed sample with special tokens, digits,
 * accents and invalid UTF-8). Decoding the ids must give the text back for
 * a tokenizer without normalizers, which the harness cannot tell: it only
 * requires that every id decodes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "model/tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const Tokenizer *tok, const char *text, size_t len) {
    TokenIds ids = {0};
    if (tokenizer_encode(tok, text, len, 1, &ids) == 0) {
        char *out = NULL;
        size_t n = 0;
        if (tokenizer_decode(tok, ids.ids, ids.n, 0, &out, &n) == 0) free(out);
        TokenIds some = {0};
        tokenizer_encode_max(tok, text, len, 0, 3, &some);
        token_ids_free(&some);
    }
    token_ids_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *sep = memchr(data, 1, size);
    size_t json_len = sep ? (size_t)(sep - data) : size;
    Tokenizer *tok = NULL;
    if (tokenizer_load_from_string(&tok, (const char *)data, json_len, "fuzz/tokenizer.json")) return 0;
    static const char sample[] = "<|im_start|>user\nWhat is 12+7? caf\xc3\xa9 \xe2\x80\x94 \xff\xfe ok<|im_end|>\n  x";
    roundtrip(tok, sample, sizeof(sample) - 1);
    if (sep) roundtrip(tok, (const char *)sep + 1, size - json_len - 1);
    for (int id = -1; id < 300; id += 7) {
        size_t n;
        tokenizer_token_bytes(tok, id, &n);
    }
    tokenizer_free(tok);
    return 0;
}
