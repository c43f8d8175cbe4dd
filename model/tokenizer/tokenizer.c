/*
 * tokenizer.c: what a loaded Tokenizer answers (tokenizer.h): the lookups
 * between ids, tokenizer.json spellings and bytes, decoding ids to bytes,
 * and the TokenIds array.
 * Not for: loading (load.c) or encoding (encode.c); tokenizer_internal.h
 * says which file holds what.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer_internal.h"

/* ---- TokenIds ------------------------------------------------------------ */

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

/* ---- lookups ------------------------------------------------------------- */

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
