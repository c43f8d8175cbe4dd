/*
 * test_tokenizer_unit.c: the tokenizer on a tiny hand-made vocabulary
 * (merges by rank, long words, every byte value, NUL bytes, accessors,
 * decode errors, --model resolution) and on hostile tokenizer.json files,
 * each of which must be refused with a message naming the problem, never a
 * crash (this test also runs under ASan/UBSan).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "common/json.h"
#include "model/io/loader.h"
#include "model/tokenizer/tokenizer.h"
#include "test.h"

/* GPT-2's byte -> symbol table, built independently of tokenizer.c. */
static void byte_symbol(int b, char out[8]) {
    static int cp[256];
    static int done;
    if (!done) {
        int n = 0;
        for (int i = 0; i < 256; i++) {
            int keep = (i >= 33 && i <= 126) || (i >= 161 && i <= 172) || (i >= 174);
            cp[i] = keep ? i : 256 + n++;
        }
        done = 1;
    }
    int c = cp[b];
    if (c < 0x80) {
        out[0] = (char)c;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        out[2] = 0;
    }
}

/* A valid tokenizer.json: the 256 byte symbols (ids 0..255), merges
 * a+a, aa+aa, h+e, l+l, he+ll, hell+o, Ġ+w (ids 256..262), ids 263..299
 * unassigned, and <|eos|> (special, id 300), <tool> (not special, 301). */
static cJSON *base_json(void) {
    cJSON *root = cJSON_CreateObject();
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (int b = 0; b < 256; b++) {
        char s[8];
        byte_symbol(b, s);
        cJSON_AddNumberToObject(vocab, s, b);
    }
    static const char *const merged[] = {"aa", "aaaa", "he", "ll", "hell", "hello", "\xc4\xa0w"};
    for (int i = 0; i < 7; i++) cJSON_AddNumberToObject(vocab, merged[i], 256 + i);
    static const char *const merges[] = {"a a", "aa aa", "h e", "l l", "he ll", "hell o", "\xc4\xa0 w"};
    cJSON *m = cJSON_AddArrayToObject(model, "merges");
    for (int i = 0; i < 7; i++) cJSON_AddItemToArray(m, cJSON_CreateString(merges[i]));
    cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "ByteLevel");
    cJSON_AddFalseToObject(pre, "add_prefix_space");
    cJSON_AddTrueToObject(pre, "use_regex");
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "ByteLevel");
    cJSON_AddNullToObject(root, "normalizer");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "id", 300);
    cJSON_AddStringToObject(a, "content", "<|eos|>");
    cJSON_AddTrueToObject(a, "special");
    cJSON_AddFalseToObject(a, "normalized");
    cJSON_AddItemToArray(added, a);
    a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "id", 301);
    cJSON_AddStringToObject(a, "content", "<tool>");
    cJSON_AddFalseToObject(a, "special");
    cJSON_AddItemToArray(added, a);
    return root;
}

static Tokenizer *load_json(const cJSON *j, const char *what) {
    char *s = cJSON_PrintUnformatted(j);
    Tokenizer *t = NULL;
    if (tokenizer_load_from_string(&t, s, strlen(s), what)) t = NULL;
    free(s);
    return t;
}

static int encode_eq(Tokenizer *t, const char *text, size_t len, int allow_special, const int *want, size_t n) {
    TokenIds ids = {0};
    int ok = tokenizer_encode(t, text, len, allow_special, &ids) == 0 && ids.n == n &&
             (n == 0 || !memcmp(ids.ids, want, n * sizeof(int)));
    if (!ok) {
        fprintf(stderr, "  '%.*s': got", (int)(len < 40 ? len : 40), text);
        for (size_t i = 0; i < ids.n && i < 12; i++) fprintf(stderr, " %d", ids.ids[i]);
        fputc('\n', stderr);
    }
    token_ids_free(&ids);
    return ok;
}

static void test_basic(void) {
    cJSON *j = base_json();
    Tokenizer *t = load_json(j, "base.json");
    cJSON_Delete(j);
    TEST_CHECK(t != NULL, "base tokenizer loads: %s", err_msg());
    if (!t) return;
    TEST_CHECK(tokenizer_vocab_size(t) == 302, "vocab size %d", tokenizer_vocab_size(t));
    TEST_CHECK(tokenizer_token_to_id(t, "<|eos|>") == 300, "token_to_id(<|eos|>)");
    TEST_CHECK(tokenizer_token_to_id(t, "hell") == 260, "token_to_id(hell)");
    TEST_CHECK(tokenizer_token_to_id(t, "nope") == -1, "token_to_id(nope)");
    TEST_CHECK(tokenizer_id_to_piece(t, 262) && !strcmp(tokenizer_id_to_piece(t, 262), "\xc4\xa0w"), "piece 262");
    TEST_CHECK(tokenizer_id_to_piece(t, 280) == NULL && tokenizer_id_to_piece(t, -1) == NULL, "unassigned ids");
    TEST_CHECK(tokenizer_is_special(t, 300) && !tokenizer_is_special(t, 301) && !tokenizer_is_special(t, 5),
               "special flags");
    size_t bl = 0;
    const char *b = tokenizer_token_bytes(t, 262, &bl);
    TEST_CHECK(b && bl == 2 && !memcmp(b, " w", 2), "token 262 decodes to \" w\"");

    int hello[] = {261};
    TEST_CHECK(encode_eq(t, "hello", 5, 1, hello, 1), "hello -> [hello]");
    int hw[] = {261, 262, 'o', 'r', 'l', 'd'}; /* byte b has id b */
    TEST_CHECK(encode_eq(t, "hello world", 11, 1, hw, 6), "hello world");
    TEST_CHECK(encode_eq(t, "", 0, 1, NULL, 0), "empty text -> no ids");
    int aaaaa[] = {257, 'a'};
    TEST_CHECK(encode_eq(t, "aaaaa", 5, 1, aaaaa, 2), "aaaaa -> aaaa a (rank order, leftmost first)");
    int eos[] = {261, 300, 261};
    TEST_CHECK(encode_eq(t, "hello<|eos|>hello", 17, 1, eos, 3), "special token matched");
    int tool[] = {301, 300};
    TEST_CHECK(encode_eq(t, "<tool><|eos|>", 13, 1, tool, 2), "added tokens matched");
    int tool2[] = {301, '<', '|', 'e', 'o', 's', '|', '>'};
    TEST_CHECK(encode_eq(t, "<tool><|eos|>", 13, 0, tool2, 8), "allow_special=0: <|eos|> is text, <tool> still matched");

    /* every byte value and embedded NULs round-trip */
    char all[256 + 6];
    for (int i = 0; i < 256; i++) all[i] = (char)i;
    memcpy(all + 256, "a\0b\0\0c", 6);
    TokenIds ids = {0};
    TEST_CHECK(tokenizer_encode(t, all, sizeof all, 1, &ids) == 0, "encode all bytes");
    char *dec = NULL;
    size_t dl = 0;
    TEST_CHECK(tokenizer_decode(t, ids.ids, ids.n, 0, &dec, &dl) == 0 && dl == sizeof all && !memcmp(dec, all, dl),
               "all 256 byte values and NULs round-trip (%zu bytes back)", dl);
    free(dec);
    token_ids_free(&ids);

    /* a 200001-byte word: BPE by heap, must be quick and exact */
    size_t n = 200001;
    char *longw = xmalloc(n);
    memset(longw, 'a', n);
    double t0 = test_cpu_seconds();
    TEST_CHECK(tokenizer_encode(t, longw, n, 1, &ids) == 0, "encode long word");
    double dt = test_cpu_seconds() - t0;
    int all_aaaa = ids.n == 50001;
    for (size_t i = 0; i + 1 < ids.n && all_aaaa; i++) all_aaaa = ids.ids[i] == 257;
    TEST_CHECK(all_aaaa && ids.ids[ids.n - 1] == 'a', "200001 a's -> 50000 x aaaa + a (got %zu ids)", ids.n);
    TEST_CHECK(dt < 2.0, "200001-byte word encoded in %.3f s of CPU (want < 2 s: no quadratic merging)", dt);
    printf("200001-byte word: %.3f s of CPU\n", dt);
    free(longw);
    token_ids_free(&ids);

    /* decode: specials skipped on request; bad ids refused */
    int seq[] = {261, 300, 262};
    TEST_CHECK(tokenizer_decode(t, seq, 3, 1, &dec, &dl) == 0 && dl == 7 && !memcmp(dec, "hello w", 7),
               "skip_special decode");
    free(dec);
    int bad1[] = {261, 302};
    TEST_CHECK(tokenizer_decode(t, bad1, 2, 0, &dec, &dl) == -1 && strstr(err_msg(), "outside the vocabulary") &&
                   dec == NULL,
               "id 302 refused: %s", err_msg());
    int bad2[] = {280};
    TEST_CHECK(tokenizer_decode(t, bad2, 1, 0, &dec, &dl) == -1 && strstr(err_msg(), "has no token"),
               "unassigned id refused: %s", err_msg());
    int bad3[] = {-4};
    TEST_CHECK(tokenizer_decode(t, bad3, 1, 0, &dec, &dl) == -1, "negative id refused");
    tokenizer_free(t);
}

static void test_model_path(void) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/tests/tokenizer_unit_model", GRPO_BINARY_DIR);
    mkdir_p(dir);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    cJSON *j = base_json();
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    TEST_CHECK(file_write_atomic(path, s, strlen(s)) == 0, "write %s", path);
    free(s);
    Tokenizer *t;
    TEST_CHECK(model_open_tokenizer(dir, &t) == 0, "directory: %s", err_msg());
    tokenizer_free(t);
    TEST_CHECK(model_open_tokenizer(path, &t) == 0, "json file: %s", err_msg());
    tokenizer_free(t);
    char h5[600];
    snprintf(h5, sizeof h5, "%s/model.h5", dir);
    file_write_atomic(h5, "x", 1);
    TEST_CHECK(model_open_tokenizer(h5, &t) == -1 && t == NULL && strstr(err_msg(), "checkpoint"), "h5: %s",
               err_msg());
    TEST_CHECK(model_open_tokenizer("/nonexistent/model", &t) == -1 && strstr(err_msg(), "tokenizer.json file"),
               "missing: %s", err_msg());
    snprintf(path, sizeof path, "%s/empty", dir);
    mkdir_p(path);
    TEST_CHECK(model_open_tokenizer(path, &t) == -1 && strstr(err_msg(), "no tokenizer.json"),
               "dir without tokenizer.json: %s", err_msg());
}

/* ---- hostile files ---- */

typedef struct {
    const char *path;  /* dotted path into the base document; "" = replace it all */
    const char *value; /* JSON text, or NULL to delete the key */
    const char *want;  /* substring of the error message */
} Hostile;

static const Hostile HOSTILE[] = {
    {"", "[]", "top level must be a JSON object"},
    {"", "{\"model\": 3}", "no 'model' object"},
    {"model", NULL, "no 'model' object"},
    {"model.type", "\"Unigram\"", "model.type 'Unigram' is not supported; supported: BPE (byte-level)"},
    {"model.type", "\"WordPiece\"", "model.type 'WordPiece' is not supported"},
    {"model.type", "7", "model.type must be a string"},
    {"model.vocab", "[1, 2]", "model.vocab must be an object"},
    {"model.vocab", "{}", "no token for byte 0x00"},
    {"model.vocab", "{\"a\": 0, \"b\": 1}", "no token for byte 0x00"},
    {"model.vocab.a", "-1", "model.vocab['a'] must be an integer id"},
    {"model.vocab.a", "\"x\"", "model.vocab['a'] must be an integer id"},
    {"model.vocab.a", "1e12", "model.vocab['a'] must be an integer id"},
    {"model.vocab.a", "2.5", "model.vocab['a'] must be an integer id"},
    {"model.merges", "{}", "model.merges must be an array"},
    {"model.merges", NULL, "model.merges must be an array"},
    {"model.merges", "[\"ab\"]", "model.merges[0] 'ab' is not of the form 'left right'"},
    {"model.merges", "[\"a \"]", "is not of the form 'left right'"},
    {"model.merges", "[\"a a\", \"zz a\"]", "model.merges[1] ('zz' + 'a'): the left part 'zz' is not in model.vocab"},
    {"model.merges", "[\"a q\"]", "the merged token 'aq' is not in model.vocab"},
    {"model.merges", "[[\"a\", \"b\", \"c\"]]", "model.merges[0] must be a string"},
    {"model.merges", "[[\"a\", 1]]", "model.merges[0] must be a string"},
    {"model.merges", "[null]", "model.merges[0] must be a string"},
    {"model.dropout", "0.1", "model.dropout must be null"},
    {"model.continuing_subword_prefix", "\"##\"", "subword affixes are not supported"},
    {"model.ignore_merges", "3", "model.ignore_merges must be true or false"},
    {"normalizer", "{\"type\": \"Lowercase\"}", "normalizer.type 'Lowercase' is not supported"},
    {"normalizer", "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFC\"}, {\"type\": \"Strip\"}]}",
     "normalizer.normalizers[1].type 'Strip' is not supported"},
    {"normalizer", "\"NFC\"", "normalizer must be null or an object"},
    {"pre_tokenizer", "null", "pre_tokenizer is null"},
    {"pre_tokenizer", NULL, "pre_tokenizer is null"},
    {"pre_tokenizer", "{\"type\": \"Metaspace\"}", "pre_tokenizer.type 'Metaspace' is not supported"},
    {"pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\"}]}", "has no ByteLevel step"},
    {"pre_tokenizer",
     "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\"}, {\"type\": \"Digits\"}]}",
     "ByteLevel must be the last step"},
    {"pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "
                      "\"(\"}, \"behavior\": \"Isolated\"}, {\"type\": \"ByteLevel\"}]}",
     "pre_tokenizer.pretokenizers[0].pattern: the regex does not compile"},
    {"pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "
                      "\"a\"}, \"behavior\": \"Sideways\"}, {\"type\": \"ByteLevel\"}]}",
     "behavior must be one of"},
    {"pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": 5, "
                      "\"behavior\": \"Isolated\"}, {\"type\": \"ByteLevel\"}]}",
     "pattern must be {\"Regex\""},
    {"pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": 1}", "pretokenizers must be an array"},
    {"pre_tokenizer", "{\"type\": \"ByteLevel\", \"use_regex\": \"yes\"}", "use_regex must be true or false"},
    {"decoder", "null", "decoder is null"},
    {"decoder", "{\"type\": \"WordPiece\"}", "decoder.type 'WordPiece' is not supported"},
    {"decoder", "{\"type\": \"Sequence\", \"decoders\": []}", "decoders must be a non-empty array"},
    {"added_tokens", "{}", "added_tokens must be an array"},
    {"added_tokens", "[{\"id\": 5}]", "added_tokens[0] must be an object with a non-empty string 'content'"},
    {"added_tokens", "[{\"id\": 5, \"content\": \"\"}]", "non-empty string 'content'"},
    {"added_tokens", "[{\"id\": -1, \"content\": \"x\"}]", "added_tokens[0].id must be an integer"},
    {"added_tokens", "[{\"content\": \"x\"}]", "added_tokens[0].id must be an integer"},
    {"added_tokens", "[{\"id\": 1, \"content\": \"x\", \"special\": \"yes\"}]", "added_tokens[0].special must be true"},
    {"added_tokens", "[3]", "added_tokens[0] must be an object"},
};

/* Sets (value) or deletes (NULL) the member at a dotted path. */
static void set_path(cJSON *root, const char *path, const char *value) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *obj = root;
    char *key = buf, *dot;
    while ((dot = strchr(key, '.'))) {
        *dot = 0;
        obj = cJSON_GetObjectItemCaseSensitive(obj, key);
        key = dot + 1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    if (value) cJSON_AddItemToObject(obj, key, cJSON_Parse(value));
}

static void test_hostile(void) {
    cJSON *base = base_json();
    for (size_t i = 0; i < sizeof HOSTILE / sizeof HOSTILE[0]; i++) {
        const Hostile *h = &HOSTILE[i];
        char *text;
        if (!h->path[0]) {
            text = xstrdup(h->value);
        } else {
            cJSON *j = cJSON_Duplicate(base, 1);
            set_path(j, h->path, h->value);
            text = cJSON_PrintUnformatted(j);
            cJSON_Delete(j);
        }
        Tokenizer *t = (Tokenizer *)1;
        int rc = tokenizer_load_from_string(&t, text, strlen(text), "bad/tokenizer.json");
        TEST_CHECK(rc == -1 && t == NULL, "case %zu (%s) is refused", i, h->path);
        TEST_CHECK(strstr(err_msg(), h->want) && strstr(err_msg(), "bad/tokenizer.json"),
                   "case %zu (%s): message '%s' lacks '%s'", i, h->path, err_msg(), h->want);
        printf("refused: %s\n", err_msg());
        if (rc == 0) tokenizer_free(t);
        free(text);
    }
    /* truncated and empty documents */
    char *full = cJSON_PrintUnformatted(base);
    size_t n = strlen(full);
    for (size_t cut = 0; cut < n; cut += n / 7 + 1) {
        Tokenizer *t;
        int rc = tokenizer_load_from_string(&t, full, cut, "cut.json");
        TEST_CHECK(rc == -1 && strstr(err_msg(), "cut.json: invalid JSON"), "truncated at %zu: %s", cut, err_msg());
    }
    free(full);
    cJSON_Delete(base);
    Tokenizer *t;
    TEST_CHECK(tokenizer_load(&t, "/nonexistent/tokenizer.json") == -1 && strstr(err_msg(), "/nonexistent"),
               "missing file: %s", err_msg());
}

int main(void) {
    test_basic();
    test_model_path();
    test_hostile();
    return test_summary();
}
