/*
 * tokenizer_internal.h: what the files of model/tokenizer/ share: the
 * Tokenizer struct, the hash maps, the UTF-8 and Unicode helpers, and the
 * normalizer that loading (normalized added tokens) and encoding both run.
 * Not for: anything outside model/tokenizer/ (include tokenizer.h there);
 * nothing declared here leaves libgrpo (hidden visibility).
 *
 * The files: maps.c (hashing, string and pair maps), text.c (UTF-8, Unicode
 * classes, the byte-level alphabet), load.c (tokenizer.json into a
 * Tokenizer, tokenizer_free), encode.c (normalisation, added tokens,
 * pre-tokenisation, BPE and its word cache), tokenizer.c (lookups, decode).
 *
 * Layout of a loaded Tokenizer: every string lives in one of two arenas
 * (`pieces`: the tokenizer.json spelling of each token; `bytes`: the bytes
 * each token decodes to), and the hash maps hold offsets into them. Merges
 * are a hash map from the pair of ids (left, right) to (rank, merged id);
 * a word is merged with a heap of candidate pairs ordered by (rank,
 * position), as HF does, so long words cost O(n log n).
 */
#ifndef GRPO_TOKENIZER_INTERNAL_H
#define GRPO_TOKENIZER_INTERNAL_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/strbuf.h"
#include "tokenizer.h"

#pragma GCC visibility push(hidden)

#define CACHE_SHARDS 64  /* word cache: shards, each with its mutex */
#define CACHE_SLOTS 4096 /* slots per shard (power of two) */
#define NO_ID UINT32_MAX

/* ---- hashing and maps (maps.c) ---- */

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* A 64-bit hash of n bytes (the maps' and the word cache's). */
uint64_t hash_bytes(const uint8_t *p, size_t n);

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

/* An empty map with room for `expect` keys before it grows. */
void strmap_init(StrMap *m, size_t expect);
void strmap_free(StrMap *m);
/* The id stored for key[0..len), or -1 (also on a map never initialised). */
int strmap_get(const StrMap *m, const char *base, const void *key, size_t len);
/* Inserts key (already stored at base+off) -> val unless present; returns
 * the value now in the map. */
int strmap_put(StrMap *m, const char *base, uint32_t off, uint32_t len, int val);

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

/* An empty map sized for `expect` pairs; it never grows. */
void pairmap_init(PairMap *m, size_t expect);
/* Later duplicates overwrite earlier ones (HF collects merges into a map the
 * same way). The map is sized for all merges up front. */
void pairmap_put(PairMap *m, uint64_t key, int32_t rank, int32_t id);

/* The merge of the pair `key`, or NULL (inline: BPE's inner loop). */
static inline const PairSlot *pairmap_get(const PairMap *m, uint64_t key) {
    size_t i = (size_t)mix64(key) & (m->cap - 1);
    for (;;) {
        const PairSlot *s = &m->slot[i];
        if (s->key == key) return s;
        if (s->key == UINT64_MAX) return NULL;
        i = (i + 1) & (m->cap - 1);
    }
}

/* ---- UTF-8, Unicode classes, the byte-level alphabet (text.c) ---- */

/* Length of the well-formed UTF-8 character at s (1..4), or 0 if the bytes
 * there are not one (overlong forms, surrogates, > U+10FFFF, truncation).
 * Inline: every encoding loop decodes with it. */
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

/* Writes cp (<= U+10FFFF) as UTF-8 to out; returns its length (1..4). */
int utf8_encode(uint32_t cp, char *out);
/* The character that ends just before s+end (within s[0..end)), or -1 if
 * those bytes are not a well-formed character; *clen is its length. */
int32_t utf8_prev(const uint8_t *s, size_t end, size_t *clen);
/* Unicode White_Space (the set Rust's regex \s uses for lstrip/rstrip). */
int is_white_space(uint32_t c);
/* Rust regex \w, for single_word added tokens. */
int is_word_char(uint32_t c);
/* Rust char::is_numeric (categories Nd, Nl, No), for the Digits step. */
int is_numeric(uint32_t c);
/* GPT-2's bytes_to_unicode: byte_cp[b] is the code point standing for b. */
void byte_level_table(uint32_t byte_cp[256]);

/* ---- the Tokenizer ---- */

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
    CacheShard *cache; /* [CACHE_SHARDS], each of CACHE_SLOTS slots */
};

/* Applies t's normalizers to valid UTF-8 (encode.c); returns a new buffer
 * (caller frees) or NULL with *out_len untouched when the text is ASCII
 * (which all four forms leave unchanged) or there is no normalizer. On a
 * utf8proc failure returns NULL with *err = -1 and the error set. */
char *normalize(const Tokenizer *t, const uint8_t *s, size_t n, size_t *out_len, int *err);

#pragma GCC visibility pop

#endif
