/*
 * maps.c: the tokenizer's hash maps (tokenizer_internal.h): a string -> id
 * map keyed into an arena the caller owns, and the merges' map from a pair
 * of ids to (rank, merged id); both open addressing, linear probing.
 * Not for: the word cache (encode.c keeps its own sharded table) or any
 * use outside model/tokenizer/.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer_internal.h"

uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0x87c37b91114253d5ULL);
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        h = (h ^ mix64(k)) * 0x4cf5ad432745937fULL;
        p += 8;
        n -= 8;
    }
    uint64_t k = 0;
    if (n) memcpy(&k, p, n); /* p may be NULL when n is 0 */
    h ^= mix64(k ^ ((uint64_t)n << 59));
    return mix64(h);
}

void strmap_init(StrMap *m, size_t expect) {
    size_t cap = 16;
    while (cap < expect * 2) cap *= 2;
    m->slot = xmalloc(cap * sizeof(MapSlot));
    for (size_t i = 0; i < cap; i++) m->slot[i].val = -1;
    m->cap = cap;
    m->n = 0;
}

void strmap_free(StrMap *m) {
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
        if (s->hash == h && s->len == len && (len == 0 || !memcmp(base + s->off, key, len))) return i;
        i = (i + 1) & (m->cap - 1);
    }
}

int strmap_get(const StrMap *m, const char *base, const void *key, size_t len) {
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

int strmap_put(StrMap *m, const char *base, uint32_t off, uint32_t len, int val) {
    if ((m->n + 1) * 2 > m->cap) strmap_grow(m);
    const char *key = len ? base + off : ""; /* base is NULL while the arena is empty */
    uint64_t h = hash_bytes((const uint8_t *)key, len);
    size_t i = strmap_find(m, base, key, len, h);
    if (m->slot[i].val >= 0) return m->slot[i].val;
    m->slot[i] = (MapSlot){h, off, len, val};
    m->n++;
    return val;
}

void pairmap_init(PairMap *m, size_t expect) {
    size_t cap = 16;
    while (cap < expect * 2) cap *= 2;
    m->slot = xmalloc(cap * sizeof(PairSlot));
    for (size_t i = 0; i < cap; i++) m->slot[i].key = UINT64_MAX;
    m->cap = cap;
    m->n = 0;
}

void pairmap_put(PairMap *m, uint64_t key, int32_t rank, int32_t id) {
    size_t i = (size_t)mix64(key) & (m->cap - 1);
    while (m->slot[i].key != UINT64_MAX && m->slot[i].key != key) i = (i + 1) & (m->cap - 1);
    if (m->slot[i].key == UINT64_MAX) m->n++;
    m->slot[i] = (PairSlot){key, rank, id};
}
