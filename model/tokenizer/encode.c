/*
 * encode.c: text to token ids (tokenizer_encode), the pipeline of
 * tokenizer.h: added tokens cut out of the raw text, valid UTF-8 runs
 * normalized and searched for normalized added tokens, the pre-tokenizer
 * steps cutting words, and byte-level BPE of each word through a shared
 * word cache (sharded, one mutex per shard).
 * Not for: reading tokenizer.json (load.c), decoding ids (tokenizer.c).
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/common.h"
#include "tokenizer_internal.h"

#define CACHE_MAX_WORD 64 /* longer words are merged every time */

/* ---- normalisation ------------------------------------------------------- */

char *normalize(const Tokenizer *t, const uint8_t *s, size_t n, size_t *out_len, int *err) {
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
    size_t limit; /* stop once out holds this many ids (0: no limit) */
} Enc;

/* The caller has all the ids it asked for. */
static int enough(const Enc *e) { return e->limit && e->out->n >= e->limit; }

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
    for (size_t i = base; i < end && !rc && !enough(e); i++) {
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
    while (m->n && pos < n && !enough(e)) {
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
        if (enough(e)) return 0; /* the gap may have stopped early: nothing after it */
        token_ids_push(e->out, hit->id);
        start_offset = stop;
        if (pos < stop) pos = stop;
    }
    if (start_offset < n && !enough(e)) return encode_gap(e, phase, s + start_offset, n - start_offset);
    return 0;
}

/* Text between added tokens. Raw phase: cut into valid UTF-8 runs (which
 * are normalized and searched for normalized added tokens) and invalid runs
 * (one word each). Normalized phase: the pre-tokenizer. */
static int encode_gap(Enc *e, int phase, const uint8_t *s, size_t n) {
    if (phase == PHASE_NORMALIZED) return pretok(e, 0, s, n);
    size_t i = 0;
    while (i < n && !enough(e)) {
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
            if (enough(e)) return 0;
        }
        size_t k = j;
        while (k < n && s[k] >= 0x80 && utf8_char(s + k, n - k, &cp) == 0) k++;
        if (k > j) emit_word(e, s + j, k - j);
        i = k;
    }
    return 0;
}

int tokenizer_encode(const Tokenizer *t, const char *text, size_t len, int allow_special, TokenIds *out) {
    return tokenizer_encode_max(t, text, len, allow_special, 0, out);
}

int tokenizer_encode_max(const Tokenizer *t, const char *text, size_t len, int allow_special, size_t max_ids,
                         TokenIds *out) {
    if (len > UINT32_MAX) return ERR("a text of %zu bytes is too long to encode at once (at most 4 GiB)", len);
    Enc e = {0};
    e.t = t;
    e.out = out;
    e.allow_special = allow_special;
    e.limit = max_ids;
    int rc = enough(&e) ? 0 : split_added(&e, PHASE_RAW, (const uint8_t *)text, len);
    pcre2_match_data_free(e.md);
    free(e.span);
    free(e.sym);
    free(e.prev);
    free(e.next);
    free(e.heap);
    return rc;
}
