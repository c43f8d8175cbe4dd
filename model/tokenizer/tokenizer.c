/*
 * tokenizer.c: byte-level BPE from an HF tokenizer.json (see tokenizer.h for
 * the pipeline and the thread-safety contract).
 * Not for: chat templates (data/template.c), model files (model/io/loader.h
 * finds a model's tokenizer.json and hands us the JSON).
 *
 * Layout of a loaded Tokenizer: every string lives in one of two arenas
 * (`pieces`: the tokenizer.json spelling of each token; `bytes`: the bytes
 * each token decodes to), and the hash maps hold offsets into them. Merges
 * are a hash map from the pair of ids (left, right) to (rank, merged id);
 * a word is merged with a heap of candidate pairs ordered by (rank,
 * position), as HF does, so long words cost O(n log n).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer.h"

#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "common/json.h"

#define TOK_MAX_ID (1 << 24)   /* ids above this are refused as corrupt */
#define CACHE_SHARDS 64        /* word cache: shards, each with its mutex */
#define CACHE_SLOTS 4096       /* slots per shard (power of two) */
#define CACHE_MAX_WORD 64      /* longer words are merged every time */
#define NO_ID UINT32_MAX

/* The GPT-2 pre-tokenizer pattern ByteLevel uses when use_regex is true. */
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

void token_ids_push(TokenIds *v, int id) {
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->ids = xrealloc(v->ids, v->cap * sizeof(int));
    }
    v->ids[v->n++] = id;
}

void token_ids_free(TokenIds *v) {
    free(v->ids);
    v->ids = NULL;
    v->n = v->cap = 0;
}

/* ---- hashing ------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0x87c37b91114253d5ULL);
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        h = (h ^ mix64(k)) * 0x4cf5ad432745937fULL;
        p += 8;
        n -= 8;
    }
    uint64_t k = 0;
    memcpy(&k, p, n);
    h ^= mix64(k ^ ((uint64_t)n << 59));
    return mix64(h);
}

/* String -> id map whose keys are (offset, length) in an arena owned by the
 * caller; lookups pass the arena's base pointer. */
typedef struct {
    uint64_t hash;
    uint32_t off, len;
    int32_t val; /* -1: empty slot */
} MapSlot;

typedef struct {
    MapSlot *slot;
    size_t cap, n; /* cap is a power of two */
} StrMap;

static void strmap_init(StrMap *m, size_t expect) {
    size_t cap = 16;
    while (cap < expect * 2) cap *= 2;
    m->slot = xmalloc(cap * sizeof(MapSlot));
    for (size_t i = 0; i < cap; i++) m->slot[i].val = -1;
    m->cap = cap;
    m->n = 0;
}

static void strmap_free(StrMap *m) {
    free(m->slot);
    memset(m, 0, sizeof(*m));
}

/* Index of key's slot: the slot holding it, or the empty slot where it
 * would go. */
static size_t strmap_find(const StrMap *m, const char *base, const void *key, size_t len, uint64_t h) {
    size_t i = (size_t)h & (m->cap - 1);
    for (;;) {
        const MapSlot *s = &m->slot[i];
        if (s->val < 0) return i;
        if (s->hash == h && s->len == len && !memcmp(base + s->off, key, len)) return i;
        i = (i + 1) & (m->cap - 1);
    }
}

static int strmap_get(const StrMap *m, const char *base, const void *key, size_t len) {
    if (!m->cap) return -1;
    size_t i = strmap_find(m, base, key, len, hash_bytes(key, len));
    return m->slot[i].val;
}

static void strmap_grow(StrMap *m) {
    StrMap g;
    strmap_init(&g, m->cap);
    for (size_t i = 0; i < m->cap; i++) {
        MapSlot *s = &m->slot[i];
        if (s->val < 0) continue;
        size_t j = (size_t)s->hash & (g.cap - 1);
        while (g.slot[j].val >= 0) j = (j + 1) & (g.cap - 1);
        g.slot[j] = *s;
        g.n++;
    }
    free(m->slot);
    *m = g;
}

/* Inserts key (already stored at base+off) -> val unless present; returns
 * the value now in the map. */
static int strmap_put(StrMap *m, const char *base, uint32_t off, uint32_t len, int val) {
    if ((m->n + 1) * 2 > m->cap) strmap_grow(m);
    uint64_t h = hash_bytes((const uint8_t *)base + off, len);
    size_t i = strmap_find(m, base, base + off, len, h);
    if (m->slot[i].val >= 0) return m->slot[i].val;
    m->slot[i] = (MapSlot){h, off, len, val};
    m->n++;
    return val;
}

/* Pair of ids -> (rank, merged id). */
typedef struct {
    uint64_t key; /* (left << 32) | right; UINT64_MAX: empty */
    int32_t rank, id;
} PairSlot;

typedef struct {
    PairSlot *slot;
    size_t cap, n;
} PairMap;

static inline uint64_t pair_key(uint32_t a, uint32_t b) { return ((uint64_t)a << 32) | b; }

static void pairmap_init(PairMap *m, size_t expect) {
    size_t cap = 16;
    while (cap < expect * 2) cap *= 2;
    m->slot = xmalloc(cap * sizeof(PairSlot));
    for (size_t i = 0; i < cap; i++) m->slot[i].key = UINT64_MAX;
    m->cap = cap;
    m->n = 0;
}

/* Later duplicates overwrite earlier ones (HF collects merges into a map the
 * same way). The map is sized for all merges up front. */
static void pairmap_put(PairMap *m, uint64_t key, int32_t rank, int32_t id) {
    size_t i = (size_t)mix64(key) & (m->cap - 1);
    while (m->slot[i].key != UINT64_MAX && m->slot[i].key != key) i = (i + 1) & (m->cap - 1);
    if (m->slot[i].key == UINT64_MAX) m->n++;
    m->slot[i] = (PairSlot){key, rank, id};
}

static inline const PairSlot *pairmap_get(const PairMap *m, uint64_t key) {
    size_t i = (size_t)mix64(key) & (m->cap - 1);
    for (;;) {
        const PairSlot *s = &m->slot[i];
        if (s->key == key) return s;
        if (s->key == UINT64_MAX) return NULL;
        i = (i + 1) & (m->cap - 1);
    }
}

/* ---- UTF-8 and Unicode classes ------------------------------------------ */

/* Length of the well-formed UTF-8 character at s (1..4), or 0 if the bytes
 * there are not one (overlong forms, surrogates, > U+10FFFF, truncation). */
static inline int utf8_char(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) return 0;
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        uint32_t v = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0;
        *cp = v;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        uint32_t v = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                     ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        if (v < 0x10000 || v > 0x10FFFF) return 0;
        *cp = v;
        return 4;
    }
    return 0;
}

static int utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The character that ends just before s+end (within s[0..end)), or -1 if
 * those bytes are not a well-formed character. */
static int32_t utf8_prev(const uint8_t *s, size_t end, size_t *clen) {
    for (size_t k = 1; k <= 4 && k <= end; k++) {
        uint8_t c = s[end - k];
        if ((c & 0xC0) == 0x80) continue;
        uint32_t cp;
        int l = utf8_char(s + end - k, k, &cp);
        if (l != (int)k) return -1;
        *clen = k;
        return (int32_t)cp;
    }
    return -1;
}

/* Unicode White_Space (the set Rust's regex \s uses for lstrip/rstrip). */
static int is_white_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

/* Rust regex \w (Alphabetic, marks, decimal digits, connector punctuation,
 * joiners), for single_word added tokens. Alphabetic is approximated by the
 * letter and letter-number categories plus the circled/squared letters. */
static int is_word_char(uint32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (c == 0x200C || c == 0x200D) return 1;
    if ((c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
        (c >= 0x1F170 && c <= 0x1F189))
        return 1;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
        return 1;
    default:
        return 0;
    }
}

/* Rust char::is_numeric (categories Nd, Nl, No), for the Digits step. */
static int is_numeric(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

/* ---- the byte-level alphabet (GPT-2's bytes_to_unicode) ------------------ */

/* Printable Latin-1 bytes stand for themselves; the other 68 bytes map to
 * U+0100.. in byte order. */
static void byte_level_table(uint32_t byte_cp[256]) {
    uint32_t next = 256;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        byte_cp[b] = printable ? (uint32_t)b : next++;
    }
}

/* ---- the Tokenizer -------------------------------------------------------- */

enum { NORM_NFC, NORM_NFD, NORM_NFKC, NORM_NFKD };
enum { STEP_SPLIT, STEP_DIGITS, STEP_BYTELEVEL };
enum { BEH_REMOVED, BEH_ISOLATED, BEH_MERGED_PREV, BEH_MERGED_NEXT, BEH_CONTIGUOUS };

typedef struct {
    int kind;
    pcre2_code *re;       /* SPLIT; BYTELEVEL with use_regex (the GPT-2 pattern) */
    int behavior, invert; /* SPLIT */
    int individual;       /* DIGITS */
    int add_prefix_space; /* BYTELEVEL */
} PreStep;

typedef struct {
    uint32_t off, len; /* content in the set's arena */
    int id;
    uint8_t first; /* first byte of the content */
    uint8_t special, lstrip, rstrip, single_word;
} AddedTok;

/* Added tokens matched in one phase, sorted by first byte then length
 * (longest first), so the first hit at a position is the longest. */
typedef struct {
    AddedTok *tok;
    size_t n;
    uint32_t bucket[257]; /* tok[bucket[b] .. bucket[b+1]) start with byte b */
    StrBuf text;             /* contents (normalized for the normalized set) */
} MatchSet;

typedef struct CacheEntry {
    uint64_t hash;
    uint32_t klen, nids;
    int data[]; /* nids ids, then klen key bytes */
} CacheEntry;

typedef struct {
    pthread_mutex_t mu;
    CacheEntry **slot;
    size_t used;
} CacheShard;

struct Tokenizer {
    char *what; /* the source, for messages */
    int n_ids;  /* 1 + largest id */
    uint32_t *piece_off, *piece_len; /* [n_ids] into pieces; len NO_ID: unassigned */
    uint32_t *bytes_off, *bytes_len; /* [n_ids] into bytes */
    uint8_t *special;                /* [n_ids] */
    StrBuf pieces, bytes;
    StrMap vocab;       /* model vocab: piece -> id */
    StrMap added;       /* added tokens: content -> id */
    StrMap vocab_bytes; /* model vocab of byte-level pieces: bytes -> id (ignore_merges) */
    PairMap merges;
    uint32_t byte_id[256];     /* byte -> id of its byte-level symbol */
    int16_t cp_byte[0x144];    /* byte-level symbol (code point) -> byte, or -1 */
    int ignore_merges;
    int norm[8], n_norm;
    PreStep step[8];
    int n_steps;
    MatchSet raw_set, norm_set;
    CacheShard *cache;
};

int tokenizer_vocab_size(const Tokenizer *t) { return t->n_ids; }

int tokenizer_is_special(const Tokenizer *t, int id) { return id >= 0 && id < t->n_ids && t->special[id]; }

const char *tokenizer_id_to_piece(const Tokenizer *t, int id) {
    if (id < 0 || id >= t->n_ids || t->piece_len[id] == NO_ID) return NULL;
    return t->pieces.p + t->piece_off[id];
}

const char *tokenizer_token_bytes(const Tokenizer *t, int id, size_t *len) {
    if (id < 0 || id >= t->n_ids || t->piece_len[id] == NO_ID) return NULL;
    *len = t->bytes_len[id];
    return t->bytes.p + t->bytes_off[id];
}

int tokenizer_token_to_id(const Tokenizer *t, const char *piece) {
    size_t n = strlen(piece);
    int id = strmap_get(&t->added, t->pieces.p, piece, n);
    if (id < 0) id = strmap_get(&t->vocab, t->pieces.p, piece, n);
    return id;
}

static void matchset_free(MatchSet *m) {
    free(m->tok);
    free(m->text.p);
    memset(m, 0, sizeof(*m));
}

void tokenizer_free(Tokenizer *t) {
    if (!t) return;
    free(t->what);
    free(t->piece_off);
    free(t->piece_len);
    free(t->bytes_off);
    free(t->bytes_len);
    free(t->special);
    free(t->pieces.p);
    free(t->bytes.p);
    strmap_free(&t->vocab);
    strmap_free(&t->added);
    strmap_free(&t->vocab_bytes);
    free(t->merges.slot);
    for (int i = 0; i < t->n_steps; i++) pcre2_code_free(t->step[i].re);
    matchset_free(&t->raw_set);
    matchset_free(&t->norm_set);
    if (t->cache) {
        for (int s = 0; s < CACHE_SHARDS; s++) {
            for (size_t i = 0; i < CACHE_SLOTS; i++) free(t->cache[s].slot[i]);
            free(t->cache[s].slot);
            pthread_mutex_destroy(&t->cache[s].mu);
        }
        free(t->cache);
    }
    free(t);
}

/* ---- loading: normalizer ------------------------------------------------- */

typedef int (*LoadFn)(Tokenizer *t, const cJSON *node, const char *path, int depth);

/* A "Sequence" node: loads each element of obj[key] with load at depth 1
 * (sequences do not nest). With nonempty, an empty list is refused. */
static int load_sequence(Tokenizer *t, const cJSON *obj, const char *key, const char *path, int nonempty,
                         LoadFn load) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(list) || (nonempty && cJSON_GetArraySize(list) == 0))
        return ERR("%s: %s.%s must be %s", t->what, path, key, nonempty ? "a non-empty array" : "an array");
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        char sub[112];
        snprintf(sub, sizeof sub, "%s.%s[%d]", path, key, i++);
        if (load(t, e, sub, 1)) return -1;
    }
    return 0;
}

static int load_normalizer(Tokenizer *t, const cJSON *n, const char *path, int depth) {
    if (!n || cJSON_IsNull(n)) return 0;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(n, "type");
    if (!cJSON_IsObject(n) || !cJSON_IsString(type))
        return ERR("%s: %s must be null or an object with a string 'type'", t->what, path);
    const char *ty = type->valuestring;
    if (!strcmp(ty, "Sequence") && depth == 0) return load_sequence(t, n, "normalizers", path, 0, load_normalizer);
    int form = !strcmp(ty, "NFC")    ? NORM_NFC
               : !strcmp(ty, "NFD")  ? NORM_NFD
               : !strcmp(ty, "NFKC") ? NORM_NFKC
               : !strcmp(ty, "NFKD") ? NORM_NFKD
                                     : -1;
    if (form < 0)
        return ERR("%s: %s.type '%s' is not supported; supported normalizers: NFC, NFD, NFKC, NFKD, a Sequence "
                   "of those, or null",
                   t->what, path, ty);
    if (t->n_norm == (int)(sizeof t->norm / sizeof t->norm[0]))
        return ERR("%s: %s: too many normalizers (at most 8)", t->what, path);
    t->norm[t->n_norm++] = form;
    return 0;
}

/* Applies the normalizers to valid UTF-8; returns a new buffer (caller
 * frees) or NULL with *out_len untouched when the text is ASCII (which all
 * four forms leave unchanged). */
static char *normalize(const Tokenizer *t, const uint8_t *s, size_t n, size_t *out_len, int *err) {
    *err = 0;
    size_t i = 0;
    while (i < n && s[i] < 0x80) i++;
    if (i == n || t->n_norm == 0) return NULL;
    uint8_t *cur = NULL;
    const uint8_t *src = s;
    size_t len = n;
    for (int k = 0; k < t->n_norm; k++) {
        int opt = UTF8PROC_STABLE;
        switch (t->norm[k]) {
        case NORM_NFC: opt |= UTF8PROC_COMPOSE; break;
        case NORM_NFD: opt |= UTF8PROC_DECOMPOSE; break;
        case NORM_NFKC: opt |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
        default: opt |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
        }
        utf8proc_uint8_t *dst = NULL;
        utf8proc_ssize_t r = utf8proc_map(src, (utf8proc_ssize_t)len, &dst, (utf8proc_option_t)opt);
        free(cur);
        if (r < 0) {
            free(dst);
            *err = ERR("%s: normalizing text failed: %s", t->what, utf8proc_errmsg(r));
            return NULL;
        }
        cur = dst;
        src = dst;
        len = (size_t)r;
    }
    *out_len = len;
    return (char *)cur;
}

/* ---- loading: pre-tokenizer ---------------------------------------------- */

/* Oniguruma's \s: Unicode White_Space. PCRE2's \s also matches U+180E
 * (MONGOLIAN VOWEL SEPARATOR), so \s and \S are spelled out with this list. */
#define WHITE_SPACE_CLASS "\\x{9}-\\x{d}\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"

/* Rewrites an Oniguruma pattern (what HF compiles) for PCRE2 where the two
 * differ on the patterns tokenizers use:
 *  - \s and \S become explicit classes of Unicode White_Space (above).
 *  - In (?i:...), PCRE2 folds 's' with U+017F and 'k' with U+212A; Oniguruma
 *    does not here. A caseless group made only of ASCII letters, digits, '
 *    and | becomes a plain group with [xX] classes.
 * Returns a new string (caller frees). */
static char *regex_adapt(const char *p) {
    StrBuf o = {0};
    strbuf_add(&o, "", 0);
    int in_class = 0;
    for (size_t i = 0; p[i];) {
        char c = p[i];
        if (c == '\\' && p[i + 1]) {
            char d = p[i + 1];
            if (d == 's') strbuf_cat(&o, in_class ? WHITE_SPACE_CLASS : "[" WHITE_SPACE_CLASS "]");
            else if (d == 'S' && !in_class) strbuf_cat(&o, "[^" WHITE_SPACE_CLASS "]");
            else strbuf_add(&o, p + i, 2);
            i += 2;
            continue;
        }
        if (in_class) {
            if (c == '[' && p[i + 1] == ':') { /* POSIX class inside a class */
                const char *end = strstr(p + i + 2, ":]");
                size_t n = end ? (size_t)(end - (p + i)) + 2 : 1;
                strbuf_add(&o, p + i, n);
                i += n;
                continue;
            }
            if (c == ']') in_class = 0;
            strbuf_add(&o, &c, 1);
            i++;
            continue;
        }
        if (c == '[') {
            in_class = 1;
            strbuf_add(&o, "[", 1);
            i++;
            if (p[i] == '^') strbuf_add(&o, p + i++, 1);
            if (p[i] == ']') strbuf_add(&o, p + i++, 1); /* a literal ] first */
            continue;
        }
        if (!strncmp(p + i, "(?i:", 4)) {
            size_t j = i + 4;
            int ok = 1;
            while (p[j] && p[j] != ')') {
                char e = p[j];
                if (!((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9') || e == '\'' ||
                      e == '|'))
                    ok = 0;
                j++;
            }
            if (ok && p[j] == ')') {
                strbuf_cat(&o, "(?:");
                for (size_t k = i + 4; k < j; k++) {
                    char e = p[k];
                    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
                        char cls[5] = {'[', (char)(e | 0x20), (char)(e & ~0x20), ']', 0};
                        strbuf_cat(&o, cls);
                    } else {
                        strbuf_add(&o, &e, 1);
                    }
                }
                strbuf_add(&o, ")", 1);
                i = j + 1;
                continue;
            }
        }
        strbuf_add(&o, &c, 1);
        i++;
    }
    return o.p;
}

static int compile_regex(Tokenizer *t, pcre2_code **out, const char *pattern, int literal, const char *path) {
    char *adapted = literal ? xstrdup(pattern) : regex_adapt(pattern);
    int errcode;
    PCRE2_SIZE erroff;
    uint32_t opts = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)adapted, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
    free(adapted);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        return ERR("%s: %s: the regex does not compile with PCRE2 (%s, near offset %zu of the rewritten pattern)",
                   t->what, path, (const char *)msg, (size_t)erroff);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* without JIT, pcre2_match interprets */
    *out = re;
    return 0;
}

static int get_bool(const cJSON *obj, const char *key, int dflt, int *out, const Tokenizer *t, const char *path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsBool(v)) return ERR("%s: %s.%s must be true or false", t->what, path, key);
    *out = cJSON_IsTrue(v);
    return 0;
}

static int load_pre_step(Tokenizer *t, const cJSON *p, const char *path, int depth) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
    if (!cJSON_IsObject(p) || !cJSON_IsString(type))
        return ERR("%s: %s must be an object with a string 'type'", t->what, path);
    const char *ty = type->valuestring;
    if (!strcmp(ty, "Sequence") && depth == 0) return load_sequence(t, p, "pretokenizers", path, 0, load_pre_step);
    if (t->n_steps == (int)(sizeof t->step / sizeof t->step[0]))
        return ERR("%s: %s: too many pre-tokenizer steps (at most 8)", t->what, path);
    if (t->n_steps > 0 && t->step[t->n_steps - 1].kind == STEP_BYTELEVEL)
        return ERR("%s: %s: a '%s' step after ByteLevel is not supported; ByteLevel must be the last step",
                   t->what, path, ty);
    PreStep *s = &t->step[t->n_steps];
    memset(s, 0, sizeof *s);
    if (!strcmp(ty, "Split")) {
        s->kind = STEP_SPLIT;
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const cJSON *rx = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
        const cJSON *lit = cJSON_GetObjectItemCaseSensitive(pat, "String");
        if (!cJSON_IsObject(pat) || !(cJSON_IsString(rx) || cJSON_IsString(lit)))
            return ERR("%s: %s.pattern must be {\"Regex\": \"...\"} or {\"String\": \"...\"}", t->what, path);
        const cJSON *beh = cJSON_GetObjectItemCaseSensitive(p, "behavior");
        static const char *const behs[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                           "Contiguous"};
        s->behavior = -1;
        for (int i = 0; i < 5 && cJSON_IsString(beh); i++)
            if (!strcmp(beh->valuestring, behs[i])) s->behavior = i;
        if (s->behavior < 0)
            return ERR("%s: %s.behavior must be one of Removed, Isolated, MergedWithPrevious, MergedWithNext, "
                       "Contiguous",
                       t->what, path);
        if (get_bool(p, "invert", 0, &s->invert, t, path)) return -1;
        char sub[112];
        snprintf(sub, sizeof sub, "%s.pattern", path);
        if (compile_regex(t, &s->re, rx ? rx->valuestring : lit->valuestring, !rx, sub)) return -1;
    } else if (!strcmp(ty, "Digits")) {
        s->kind = STEP_DIGITS;
        if (get_bool(p, "individual_digits", 0, &s->individual, t, path)) return -1;
    } else if (!strcmp(ty, "ByteLevel")) {
        s->kind = STEP_BYTELEVEL;
        int use_regex = 1;
        if (get_bool(p, "add_prefix_space", 1, &s->add_prefix_space, t, path)) return -1;
        if (get_bool(p, "use_regex", 1, &use_regex, t, path)) return -1;
        if (use_regex && compile_regex(t, &s->re, GPT2_PATTERN, 0, path)) return -1;
    } else {
        return ERR("%s: %s.type '%s' is not supported; supported pre-tokenizers: ByteLevel, Split, Digits, and a "
                   "Sequence of those ending in ByteLevel",
                   t->what, path, ty);
    }
    t->n_steps++;
    return 0;
}

static int load_decoder(Tokenizer *t, const cJSON *d, const char *path, int depth) {
    if (!d || cJSON_IsNull(d))
        return ERR("%s: %s is null; a byte-level BPE tokenizer needs the ByteLevel decoder", t->what, path);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(d, "type");
    if (!cJSON_IsObject(d) || !cJSON_IsString(type))
        return ERR("%s: %s must be an object with a string 'type'", t->what, path);
    if (!strcmp(type->valuestring, "ByteLevel")) return 0;
    if (!strcmp(type->valuestring, "Sequence") && depth == 0)
        return load_sequence(t, d, "decoders", path, 1, load_decoder);
    return ERR("%s: %s.type '%s' is not supported; supported decoders: ByteLevel", t->what, path,
               type->valuestring);
}

/* ---- loading: vocabulary, merges, added tokens --------------------------- */

/* Records id's spelling and the bytes it decodes to: through the byte-level
 * alphabet if every character belongs to it, else the spelling's own UTF-8
 * bytes (HF's ByteLevel decoder does the same). Returns 1 in the first case
 * (a byte-level piece), 0 in the second. */
static int set_token(Tokenizer *t, int id, const char *s, size_t n) {
    t->piece_off[id] = (uint32_t)strbuf_add(&t->pieces, s, n);
    t->piece_len[id] = (uint32_t)n;
    strbuf_add(&t->pieces, "", 1); /* each spelling is NUL-terminated for id_to_piece */
    size_t start = t->bytes.n;
    const uint8_t *u = (const uint8_t *)s;
    int all = 1;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = utf8_char(u + i, n - i, &cp);
        if (!l || cp >= 0x144 || t->cp_byte[cp] < 0) {
            all = 0;
            break;
        }
        uint8_t b = (uint8_t)t->cp_byte[cp];
        strbuf_add(&t->bytes, &b, 1);
        i += (size_t)l;
    }
    if (!all) {
        t->bytes.n = start;
        strbuf_add(&t->bytes, s, n);
    }
    t->bytes_off[id] = (uint32_t)start;
    t->bytes_len[id] = (uint32_t)(t->bytes.n - start);
    return all;
}

static int get_id(const cJSON *v, long *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (d < 0 || d >= TOK_MAX_ID || d != (double)(long)d) return -1;
    *out = (long)d;
    return 0;
}

static int cmp_added(const void *a, const void *b) {
    const AddedTok *x = a, *y = b;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->id - y->id;
}

static void matchset_index(MatchSet *m) {
    if (m->n) qsort(m->tok, m->n, sizeof(AddedTok), cmp_added);
    size_t k = 0;
    for (int b = 0; b < 256; b++) {
        m->bucket[b] = (uint32_t)k;
        while (k < m->n && m->tok[k].first == b) k++;
    }
    m->bucket[256] = (uint32_t)k;
}

static int load_added(Tokenizer *t, const cJSON *list) {
    if (!list || cJSON_IsNull(list)) return 0;
    if (!cJSON_IsArray(list)) return ERR("%s: added_tokens must be an array", t->what);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        char path[48];
        snprintf(path, sizeof path, "added_tokens[%d]", i++);
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        long id;
        if (!cJSON_IsObject(e) || !cJSON_IsString(content) || content->valuestring[0] == '\0')
            return ERR("%s: %s must be an object with a non-empty string 'content'", t->what, path);
        if (get_id(cJSON_GetObjectItemCaseSensitive(e, "id"), &id))
            return ERR("%s: %s.id must be an integer in [0, %d)", t->what, path, TOK_MAX_ID);
        int special = 0, lstrip = 0, rstrip = 0, single_word = 0, normalized = 0;
        if (get_bool(e, "special", 0, &special, t, path) || get_bool(e, "lstrip", 0, &lstrip, t, path) ||
            get_bool(e, "rstrip", 0, &rstrip, t, path) || get_bool(e, "single_word", 0, &single_word, t, path) ||
            get_bool(e, "normalized", !special, &normalized, t, path))
            return -1;
        const char *s = content->valuestring;
        size_t n = strlen(s);
        if (strmap_get(&t->added, t->pieces.p, s, n) >= 0) continue; /* a repeated content: the first wins */
        if (t->piece_len[id] != NO_ID && (t->piece_len[id] != n || memcmp(t->pieces.p + t->piece_off[id], s, n)))
            log_debug("%s: %s: id %ld also names vocab token '%s'; the added token wins", t->what, path, id,
                      t->pieces.p + t->piece_off[id]);
        set_token(t, (int)id, s, n); /* the id's spelling and bytes are the added token's */
        strmap_put(&t->added, t->pieces.p, t->piece_off[id], (uint32_t)n, (int)id);
        if (special) t->special[id] = 1;
        MatchSet *m = normalized ? &t->norm_set : &t->raw_set;
        AddedTok a = {0, 0, (int)id, 0, (uint8_t)special, (uint8_t)lstrip, (uint8_t)rstrip, (uint8_t)single_word};
        size_t nl = n;
        int nerr = 0;
        char *norm = normalized ? normalize(t, (const uint8_t *)s, n, &nl, &nerr) : NULL;
        if (nerr) return -1;
        a.off = (uint32_t)strbuf_add(&m->text, norm ? norm : s, nl);
        a.len = (uint32_t)nl;
        a.first = nl ? (uint8_t)m->text.p[a.off] : 0;
        free(norm);
        if (a.len == 0) continue;
        m->tok = xrealloc(m->tok, (m->n + 1) * sizeof(AddedTok));
        m->tok[m->n++] = a;
    }
    matchset_index(&t->raw_set);
    matchset_index(&t->norm_set);
    return 0;
}

/* One merge "left right" (or ["left", "right"]) -> rank. */
static int load_merge(Tokenizer *t, const cJSON *e, int rank, StrBuf *tmp) {
    const char *a, *b;
    size_t na, nb;
    if (cJSON_IsString(e)) {
        const char *s = e->valuestring, *sp = strchr(s, ' ');
        if (!sp || sp == s || sp[1] == '\0')
            return ERR("%s: model.merges[%d] '%s' is not of the form 'left right'", t->what, rank, s);
        a = s;
        na = (size_t)(sp - s);
        b = sp + 1;
        nb = strlen(b);
    } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(cJSON_GetArrayItem(e, 0)) &&
               cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
        a = cJSON_GetArrayItem(e, 0)->valuestring;
        b = cJSON_GetArrayItem(e, 1)->valuestring;
        na = strlen(a);
        nb = strlen(b);
    } else {
        return ERR("%s: model.merges[%d] must be a string \"left right\" or an array [\"left\", \"right\"]", t->what,
                   rank);
    }
    int ia = strmap_get(&t->vocab, t->pieces.p, a, na);
    int ib = strmap_get(&t->vocab, t->pieces.p, b, nb);
    tmp->n = 0;
    strbuf_add(tmp, a, na);
    strbuf_add(tmp, b, nb);
    int im = strmap_get(&t->vocab, t->pieces.p, tmp->p, tmp->n);
    if (ia < 0 || ib < 0 || im < 0) {
        const char *missing = ia < 0 ? "left part" : ib < 0 ? "right part" : "merged token";
        return ERR("%s: model.merges[%d] ('%.*s' + '%.*s'): the %s '%.*s' is not in model.vocab", t->what, rank,
                   (int)na, a, (int)nb, b, missing, ia < 0 ? (int)na : ib < 0 ? (int)nb : (int)tmp->n,
                   ia < 0 ? a : ib < 0 ? b : tmp->p);
    }
    pairmap_put(&t->merges, pair_key((uint32_t)ia, (uint32_t)ib), rank, im);
    return 0;
}

static int load_model(Tokenizer *t, const cJSON *model, const cJSON *added) {
    if (!cJSON_IsObject(model))
        return ERR("%s: no 'model' object; is this a Hugging Face tokenizer.json?", t->what);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (type && !cJSON_IsString(type)) return ERR("%s: model.type must be a string", t->what);
    if (type && strcmp(type->valuestring, "BPE"))
        return ERR("%s: model.type '%s' is not supported; supported: BPE (byte-level)", t->what,
                   type->valuestring);
    if (!type && !merges)
        return ERR("%s: model has no 'type' and no 'merges'; supported: BPE (byte-level)", t->what);
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (dropout && !cJSON_IsNull(dropout) && !(cJSON_IsNumber(dropout) && dropout->valuedouble == 0.0))
        return ERR("%s: model.dropout must be null: BPE dropout makes encoding random and is not supported",
                   t->what);
    static const char *const affixes[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, affixes[i]);
        if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && v->valuestring[0] == '\0'))
            return ERR("%s: model.%s must be null or \"\"; subword affixes are not supported by byte-level BPE",
                       t->what, affixes[i]);
    }
    if (get_bool(model, "ignore_merges", 0, &t->ignore_merges, t, "model")) return -1;
    if (!cJSON_IsObject(vocab)) return ERR("%s: model.vocab must be an object {\"token\": id, ...}", t->what);
    if (!cJSON_IsArray(merges)) return ERR("%s: model.merges must be an array", t->what);

    /* ids: the largest of vocab and added tokens */
    long max_id = -1, id = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (get_id(e, &id))
            return ERR("%s: model.vocab['%s'] must be an integer id in [0, %d)", t->what, e->string, TOK_MAX_ID);
        if (id > max_id) max_id = id;
    }
    if (cJSON_IsArray(added)) {
        cJSON_ArrayForEach(e, added) {
            if (!get_id(cJSON_GetObjectItemCaseSensitive(e, "id"), &id) && id > max_id) max_id = id;
        }
    }
    if (max_id < 0) return ERR("%s: model.vocab is empty", t->what);
    t->n_ids = (int)max_id + 1;
    size_t n = (size_t)t->n_ids;
    t->piece_off = xmalloc(n * sizeof(uint32_t));
    t->piece_len = xmalloc(n * sizeof(uint32_t));
    t->bytes_off = xmalloc(n * sizeof(uint32_t));
    t->bytes_len = xmalloc(n * sizeof(uint32_t));
    t->special = xcalloc(n, 1);
    for (size_t i = 0; i < n; i++) t->piece_len[i] = NO_ID;

    uint32_t byte_cp[256];
    byte_level_table(byte_cp);
    for (int c = 0; c < 0x144; c++) t->cp_byte[c] = -1;
    for (int b = 0; b < 256; b++) t->cp_byte[byte_cp[b]] = (int16_t)b;

    int n_vocab = cJSON_GetArraySize(vocab);
    strmap_init(&t->vocab, (size_t)n_vocab);
    strmap_init(&t->vocab_bytes, t->ignore_merges ? (size_t)n_vocab : 1);
    cJSON_ArrayForEach(e, vocab) {
        get_id(e, &id);
        size_t len = strlen(e->string);
        if (t->piece_len[id] != NO_ID) {
            log_debug("%s: model.vocab: id %ld is given to both '%s' and '%s'; keeping the first", t->what, id,
                      t->pieces.p + t->piece_off[id], e->string);
            uint32_t off = (uint32_t)strbuf_add(&t->pieces, e->string, len);
            strmap_put(&t->vocab, t->pieces.p, off, (uint32_t)len, (int)id);
            continue;
        }
        int byte_level = set_token(t, (int)id, e->string, len);
        strmap_put(&t->vocab, t->pieces.p, t->piece_off[id], (uint32_t)len, (int)id);
        /* ignore_merges: pieces made only of byte-level characters, keyed by their bytes */
        if (byte_level && t->ignore_merges)
            strmap_put(&t->vocab_bytes, t->bytes.p, t->bytes_off[id], t->bytes_len[id], (int)id);
    }
    for (int b = 0; b < 256; b++) {
        char u[4];
        int l = utf8_encode(byte_cp[b], u);
        int bid = strmap_get(&t->vocab, t->pieces.p, u, (size_t)l);
        if (bid < 0)
            return ERR("%s: model.vocab has no token for byte 0x%02X ('%.*s'); only byte-level BPE vocabularies "
                       "(all 256 byte symbols present) are supported",
                       t->what, b, l, u);
        t->byte_id[b] = (uint32_t)bid;
    }
    pairmap_init(&t->merges, (size_t)cJSON_GetArraySize(merges));
    StrBuf tmp = {0};
    int rank = 0, rc = 0;
    cJSON_ArrayForEach(e, merges) {
        if ((rc = load_merge(t, e, rank++, &tmp))) break;
    }
    free(tmp.p);
    return rc;
}

static int load_root(Tokenizer *t, const cJSON *root) {
    if (!cJSON_IsObject(root)) return ERR("%s: the top level must be a JSON object", t->what);
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (load_model(t, cJSON_GetObjectItemCaseSensitive(root, "model"), added)) return -1;
    if (load_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), "normalizer", 0)) return -1;
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    if (!pre || cJSON_IsNull(pre))
        return ERR("%s: pre_tokenizer is null; byte-level BPE needs a ByteLevel pre-tokenizer", t->what);
    if (load_pre_step(t, pre, "pre_tokenizer", 0)) return -1;
    if (t->n_steps == 0 || t->step[t->n_steps - 1].kind != STEP_BYTELEVEL)
        return ERR("%s: pre_tokenizer has no ByteLevel step; only byte-level BPE is supported (Metaspace/"
                   "SentencePiece-style tokenizers are not)",
                   t->what);
    if (load_decoder(t, cJSON_GetObjectItemCaseSensitive(root, "decoder"), "decoder", 0)) return -1;
    strmap_init(&t->added, 16);
    if (load_added(t, added)) return -1;
    t->cache = xcalloc(CACHE_SHARDS, sizeof(CacheShard));
    for (int s = 0; s < CACHE_SHARDS; s++) {
        pthread_mutex_init(&t->cache[s].mu, NULL);
        t->cache[s].slot = xcalloc(CACHE_SLOTS, sizeof(CacheEntry *));
    }
    return 0;
}

int tokenizer_load_from_string(Tokenizer **out, const char *json, size_t len, const char *what) {
    *out = NULL;
    cJSON *root = json_parse_named(json, len, what);
    if (!root) return -1;
    Tokenizer *t = xcalloc(1, sizeof(Tokenizer));
    t->what = xstrdup(what);
    int rc = load_root(t, root);
    cJSON_Delete(root);
    if (rc) {
        tokenizer_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

int tokenizer_load(Tokenizer **out, const char *path_json) {
    *out = NULL;
    size_t len;
    char *text = file_read_all(path_json, &len);
    if (!text) return -1;
    int rc = tokenizer_load_from_string(out, text, len, path_json);
    free(text);
    return rc;
}

/* ---- encoding ------------------------------------------------------------ */

typedef struct {
    uint32_t start, end;
    uint8_t is_match;
} Span;

typedef struct {
    int32_t rank;
    uint32_t pos;
} HeapEnt;

/* Per-call scratch: nothing in here is shared between threads. */
typedef struct {
    const Tokenizer *t;
    TokenIds *out;
    int allow_special;
    pcre2_match_data *md;
    Span *span;
    size_t n_span, cap_span;
    int32_t *sym;
    uint32_t *prev, *next;
    HeapEnt *heap;
    size_t cap_sym, cap_heap;
} Enc;

static void span_push(Enc *e, size_t start, size_t end, int is_match) {
    if (e->n_span == e->cap_span) {
        e->cap_span = e->cap_span ? e->cap_span * 2 : 256;
        e->span = xrealloc(e->span, e->cap_span * sizeof(Span));
    }
    e->span[e->n_span++] = (Span){(uint32_t)start, (uint32_t)end, (uint8_t)is_match};
}

static inline int heap_less(HeapEnt a, HeapEnt b) { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos); }

static void heap_push(HeapEnt *h, size_t *n, HeapEnt x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(x, h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static HeapEnt heap_pop(HeapEnt *h, size_t *n) {
    HeapEnt top = h[0], x = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && heap_less(h[c + 1], h[c])) c++;
        if (!heap_less(h[c], x)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
    return top;
}

/* Byte-level BPE of one word: start from one symbol per byte, repeatedly
 * apply the lowest-ranked merge (leftmost first among equal ranks). */
static void bpe_word(Enc *e, const uint8_t *s, size_t n, TokenIds *out) {
    const Tokenizer *t = e->t;
    if (n == 1) {
        token_ids_push(out, (int)t->byte_id[s[0]]);
        return;
    }
    if (n > e->cap_sym) {
        e->cap_sym = n;
        e->sym = xrealloc(e->sym, n * sizeof(int32_t));
        e->prev = xrealloc(e->prev, n * sizeof(uint32_t));
        e->next = xrealloc(e->next, n * sizeof(uint32_t));
    }
    if (3 * n > e->cap_heap) {
        e->cap_heap = 3 * n; /* n - 1 initial pairs + at most 2 per merge */
        e->heap = xrealloc(e->heap, e->cap_heap * sizeof(HeapEnt));
    }
    int32_t *sym = e->sym;
    uint32_t *prev = e->prev, *next = e->next;
    HeapEnt *heap = e->heap;
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        sym[i] = (int32_t)t->byte_id[s[i]];
        prev[i] = i ? (uint32_t)(i - 1) : NO_ID;
        next[i] = i + 1 < n ? (uint32_t)(i + 1) : NO_ID;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        const PairSlot *m = pairmap_get(&t->merges, pair_key((uint32_t)sym[i], (uint32_t)sym[i + 1]));
        if (m) heap_push(heap, &nh, (HeapEnt){m->rank, (uint32_t)i});
    }
    while (nh) {
        HeapEnt top = heap_pop(heap, &nh);
        uint32_t pos = top.pos, nx = next[pos];
        if (sym[pos] < 0 || nx == NO_ID) continue;
        const PairSlot *m = pairmap_get(&t->merges, pair_key((uint32_t)sym[pos], (uint32_t)sym[nx]));
        if (!m || m->rank != top.rank) continue; /* stale: a neighbour changed */
        sym[pos] = m->id;
        sym[nx] = -1;
        next[pos] = next[nx];
        if (next[nx] != NO_ID) prev[next[nx]] = pos;
        if (prev[pos] != NO_ID) {
            const PairSlot *l = pairmap_get(&t->merges, pair_key((uint32_t)sym[prev[pos]], (uint32_t)sym[pos]));
            if (l) heap_push(heap, &nh, (HeapEnt){l->rank, prev[pos]});
        }
        if (next[pos] != NO_ID) {
            const PairSlot *r = pairmap_get(&t->merges, pair_key((uint32_t)sym[pos], (uint32_t)sym[next[pos]]));
            if (r) heap_push(heap, &nh, (HeapEnt){r->rank, pos});
        }
    }
    for (uint32_t i = 0; i != NO_ID; i = next[i]) token_ids_push(out, sym[i]);
}

/* One pre-token: whole-word lookup (ignore_merges), the cache, or BPE. */
static void emit_word(Enc *e, const uint8_t *s, size_t n) {
    const Tokenizer *t = e->t;
    if (n == 0) return;
    if (t->ignore_merges) {
        int id = strmap_get(&t->vocab_bytes, t->bytes.p, s, n);
        if (id >= 0) {
            token_ids_push(e->out, id);
            return;
        }
    }
    if (n > CACHE_MAX_WORD) {
        bpe_word(e, s, n, e->out);
        return;
    }
    uint64_t h = hash_bytes(s, n);
    CacheShard *sh = &t->cache[h >> 58];
    size_t mask = CACHE_SLOTS - 1;
    pthread_mutex_lock(&sh->mu);
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        CacheEntry *c = sh->slot[i];
        if (!c) break;
        if (c->hash == h && c->klen == n && !memcmp(c->data + c->nids, s, n)) {
            for (uint32_t k = 0; k < c->nids; k++) token_ids_push(e->out, c->data[k]);
            pthread_mutex_unlock(&sh->mu);
            return;
        }
    }
    pthread_mutex_unlock(&sh->mu);
    size_t before = e->out->n;
    bpe_word(e, s, n, e->out);
    size_t nids = e->out->n - before;
    CacheEntry *c = xmalloc(sizeof(CacheEntry) + nids * sizeof(int) + n);
    c->hash = h;
    c->klen = (uint32_t)n;
    c->nids = (uint32_t)nids;
    memcpy(c->data, e->out->ids + before, nids * sizeof(int));
    memcpy(c->data + nids, s, n);
    pthread_mutex_lock(&sh->mu);
    if (sh->used * 4 >= CACHE_SLOTS * 3) { /* full: start the shard over */
        for (size_t i = 0; i < CACHE_SLOTS; i++) {
            free(sh->slot[i]);
            sh->slot[i] = NULL;
        }
        sh->used = 0;
    }
    size_t i = (size_t)h & mask;
    for (;; i = (i + 1) & mask) {
        CacheEntry *o = sh->slot[i];
        if (!o) break;
        if (o->hash == h && o->klen == n && !memcmp(o->data + o->nids, s, n)) break; /* another thread won */
    }
    if (sh->slot[i]) {
        free(c);
    } else {
        sh->slot[i] = c;
        sh->used++;
    }
    pthread_mutex_unlock(&sh->mu);
}

/* Appends the spans of s[0..n) cut by regex re: (gap, false) and (match,
 * true) in order, covering s. Empty matches cut too, as HF's do. */
static int regex_spans(Enc *e, const pcre2_code *re, const uint8_t *s, size_t n) {
    if (!e->md) e->md = pcre2_match_data_create(1, NULL);
    size_t prev = 0, off = 0;
    uint32_t opts = PCRE2_NO_UTF_CHECK;
    while (off <= n) {
        int rc = pcre2_match(re, s, n, off, opts, e->md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !(opts & PCRE2_NO_JIT)) {
            opts |= PCRE2_NO_JIT;
            continue;
        }
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return ERR("%s: pre-tokenizer regex failed on a %zu-byte span: %s", e->t->what, n, (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
        size_t ms = ov[0], me = ov[1];
        if (ms > prev) span_push(e, prev, ms, 0);
        span_push(e, ms, me, 1);
        prev = me;
        if (me == ms) {
            if (me >= n) break;
            uint32_t cp;
            int l = utf8_char(s + me, n - me, &cp);
            off = me + (size_t)(l ? l : 1);
        } else {
            off = me;
        }
    }
    if (prev < n) span_push(e, prev, n, 0);
    return 0;
}

/* Applies the delimiter behaviour to spans [base, e->n_span) in place
 * (HF NormalizedString::split). */
static void apply_behavior(Enc *e, size_t base, int behavior, int invert) {
    Span *sp = e->span + base;
    size_t n = e->n_span - base, k = 0;
    if (invert)
        for (size_t i = 0; i < n; i++) sp[i].is_match = !sp[i].is_match;
    int prev_match = 0;
    switch (behavior) {
    case BEH_ISOLATED:
        for (size_t i = 0; i < n; i++) sp[i].is_match = 0;
        k = n;
        break;
    case BEH_REMOVED:
        for (size_t i = 0; i < n; i++)
            if (!sp[i].is_match) sp[k++] = sp[i];
        break;
    case BEH_CONTIGUOUS:
        for (size_t i = 0; i < n; i++) {
            int m = sp[i].is_match;
            if (k > 0 && m == prev_match) sp[k - 1].end = sp[i].end;
            else sp[k++] = (Span){sp[i].start, sp[i].end, 0};
            prev_match = m;
        }
        break;
    case BEH_MERGED_PREV:
        for (size_t i = 0; i < n; i++) {
            int m = sp[i].is_match;
            if (k > 0 && m && !prev_match) sp[k - 1].end = sp[i].end;
            else sp[k++] = (Span){sp[i].start, sp[i].end, 0};
            prev_match = m;
        }
        break;
    case BEH_MERGED_NEXT: {
        /* walk backwards, writing from the end, then slide down */
        size_t w = n;
        for (size_t i = n; i-- > 0;) {
            int m = sp[i].is_match;
            if (w < n && m && !prev_match) sp[w].start = sp[i].start;
            else sp[--w] = (Span){sp[i].start, sp[i].end, 0};
            prev_match = m;
        }
        k = n - w;
        memmove(sp, sp + w, k * sizeof(Span));
        break;
    }
    }
    e->n_span = base + k;
}

/* Runs pre-tokenizer step `step` on s and passes each piece to the next. */
static int pretok(Enc *e, int step, const uint8_t *s, size_t n) {
    const Tokenizer *t = e->t;
    if (n == 0) return 0;
    if (step == t->n_steps) {
        emit_word(e, s, n);
        return 0;
    }
    const PreStep *st = &t->step[step];
    uint8_t *prefixed = NULL;
    size_t base = e->n_span;
    int rc = 0;
    switch (st->kind) {
    case STEP_SPLIT:
        if (regex_spans(e, st->re, s, n)) return -1;
        apply_behavior(e, base, st->behavior, st->invert);
        break;
    case STEP_DIGITS: {
        size_t gap = 0;
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            int l = utf8_char(s + i, n - i, &cp);
            if (!l) l = 1, cp = 0xFFFD;
            if (is_numeric(cp)) {
                if (gap < i) span_push(e, gap, i, 0);
                span_push(e, i, i + (size_t)l, 1);
                gap = i + (size_t)l;
            }
            i += (size_t)l;
        }
        if (gap < n) span_push(e, gap, n, 0);
        apply_behavior(e, base, st->individual ? BEH_ISOLATED : BEH_CONTIGUOUS, 0);
        break;
    }
    default: /* STEP_BYTELEVEL: the last step */
        if (st->add_prefix_space && s[0] != ' ') {
            prefixed = xmalloc(n + 1);
            prefixed[0] = ' ';
            memcpy(prefixed + 1, s, n);
            s = prefixed;
            n++;
        }
        if (!st->re) {
            emit_word(e, s, n);
            free(prefixed);
            return 0;
        }
        if (regex_spans(e, st->re, s, n)) {
            free(prefixed);
            return -1;
        }
        break;
    }
    size_t end = e->n_span;
    for (size_t i = base; i < end && !rc; i++) {
        Span sp = e->span[i]; /* copy: recursion may move e->span */
        if (sp.end > sp.start) rc = pretok(e, step + 1, s + sp.start, sp.end - sp.start);
    }
    e->n_span = base;
    free(prefixed);
    return rc;
}

enum { PHASE_RAW, PHASE_NORMALIZED };

static int encode_gap(Enc *e, int phase, const uint8_t *s, size_t n);

/* Cuts the added tokens of one phase out of s (HF AddedVocabulary::
 * find_matches: leftmost-longest, single_word, lstrip, rstrip) and passes
 * the text between them on. */
static int split_added(Enc *e, int phase, const uint8_t *s, size_t n) {
    const MatchSet *m = phase == PHASE_RAW ? &e->t->raw_set : &e->t->norm_set;
    size_t start_offset = 0, pos = 0;
    while (m->n && pos < n) {
        /* leftmost-longest: the first position with a match, its longest token */
        const AddedTok *hit = NULL;
        size_t start = pos;
        for (; start < n; start++) {
            uint32_t lo = m->bucket[s[start]], hi = m->bucket[s[start] + 1];
            for (uint32_t k = lo; k < hi && !hit; k++) {
                const AddedTok *a = &m->tok[k];
                if (!e->allow_special && a->special) continue;
                if (a->len <= n - start && !memcmp(m->text.p + a->off, s + start, a->len)) hit = a;
            }
            if (hit) break;
        }
        if (!hit) break;
        size_t stop = start + hit->len;
        pos = stop;
        if (hit->single_word) {
            size_t cl;
            uint32_t cp;
            int32_t before = start ? utf8_prev(s, start, &cl) : -1;
            int l = stop < n ? utf8_char(s + stop, n - stop, &cp) : 0;
            int word_before = before >= 0 && is_word_char((uint32_t)before);
            int word_after = l > 0 && is_word_char(cp);
            if (word_before || word_after) continue;
        }
        if (hit->lstrip) {
            size_t ns = start, cl;
            int32_t c;
            while (ns > 0 && (c = utf8_prev(s, ns, &cl)) >= 0 && is_white_space((uint32_t)c)) ns -= cl;
            start = ns > start_offset ? ns : start_offset;
        }
        if (hit->rstrip) {
            uint32_t cp;
            int l;
            while (stop < n && (l = utf8_char(s + stop, n - stop, &cp)) > 0 && is_white_space(cp)) stop += (size_t)l;
        }
        if (start < start_offset) continue; /* overlaps what a previous rstrip took */
        if (start > start_offset && encode_gap(e, phase, s + start_offset, start - start_offset)) return -1;
        token_ids_push(e->out, hit->id);
        start_offset = stop;
        if (pos < stop) pos = stop;
    }
    if (start_offset < n) return encode_gap(e, phase, s + start_offset, n - start_offset);
    return 0;
}

/* Text between added tokens. Raw phase: cut into valid UTF-8 runs (which
 * are normalized and searched for normalized added tokens) and invalid runs
 * (one word each). Normalized phase: the pre-tokenizer. */
static int encode_gap(Enc *e, int phase, const uint8_t *s, size_t n) {
    if (phase == PHASE_NORMALIZED) return pretok(e, 0, s, n);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        uint32_t cp;
        while (j < n) {
            int l = s[j] < 0x80 ? 1 : utf8_char(s + j, n - j, &cp);
            if (!l) break;
            j += (size_t)l;
        }
        if (j > i) {
            size_t nl = 0;
            int err;
            char *norm = normalize(e->t, s + i, j - i, &nl, &err);
            if (err) return -1;
            int rc = norm ? split_added(e, PHASE_NORMALIZED, (const uint8_t *)norm, nl)
                          : split_added(e, PHASE_NORMALIZED, s + i, j - i);
            free(norm);
            if (rc) return -1;
        }
        size_t k = j;
        while (k < n && s[k] >= 0x80 && utf8_char(s + k, n - k, &cp) == 0) k++;
        if (k > j) emit_word(e, s + j, k - j);
        i = k;
    }
    return 0;
}

int tokenizer_encode(const Tokenizer *t, const char *text, size_t len, int allow_special, TokenIds *out) {
    if (len > UINT32_MAX) return ERR("a text of %zu bytes is too long to encode at once (at most 4 GiB)", len);
    Enc e = {0};
    e.t = t;
    e.out = out;
    e.allow_special = allow_special;
    int rc = split_added(&e, PHASE_RAW, (const uint8_t *)text, len);
    pcre2_match_data_free(e.md);
    free(e.span);
    free(e.sym);
    free(e.prev);
    free(e.next);
    free(e.heap);
    return rc;
}

/* ---- decoding ------------------------------------------------------------ */

int tokenizer_decode(const Tokenizer *t, const int *ids, size_t n, int skip_special, char **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int id = ids[i];
        if (id < 0 || id >= t->n_ids)
            return ERR("token id %d (position %zu) is outside the vocabulary [0, %d)", id, i, t->n_ids);
        if (t->piece_len[id] == NO_ID) return ERR("token id %d (position %zu) has no token in %s", id, i, t->what);
        if (!(skip_special && t->special[id])) total += t->bytes_len[id];
    }
    char *buf = xmalloc(total + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int id = ids[i];
        if (skip_special && t->special[id]) continue;
        memcpy(buf + k, t->bytes.p + t->bytes_off[id], t->bytes_len[id]);
        k += t->bytes_len[id];
    }
    buf[k] = '\0';
    *out = buf;
    *out_len = k;
    return 0;
}
