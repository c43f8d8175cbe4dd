/*
 * tokenizer.h: byte-level BPE tokenizers read from a Hugging Face
 * tokenizer.json (the GPT-2, Llama-3, Qwen2/Qwen3 and SmolLM families),
 * producing the same ids as HF `tokenizers` with add_special_tokens=False.
 * Not for: SentencePiece/Unigram/WordPiece models, post-processors (no BOS
 * or EOS is ever added; prompt templates in data/template.h spell them out),
 * truncation or padding, offsets.
 *
 * The pipeline, as HF runs it:
 *   1. added tokens with normalized=false are cut out of the raw text
 *      (leftmost-longest, honouring lstrip/rstrip/single_word);
 *   2. each remaining span is split into valid UTF-8 runs and runs of bytes
 *      that are not valid UTF-8 (grpo's own rule: an invalid run is one
 *      pre-token of its own, so any byte string round-trips);
 *   3. valid runs are normalized (NFC/NFD/NFKC/NFKD via utf8proc), then
 *      added tokens with normalized=true are cut out;
 *   4. the pre-tokenizer steps (Split regex through PCRE2, Digits,
 *      ByteLevel with or without the GPT-2 regex) cut the text into words;
 *   5. each word's bytes are merged by rank (byte-level BPE), through a
 *      shared cache of word -> ids.
 *
 * Thread safety: after tokenizer_load() a Tokenizer is read-only except
 * for its word cache, which is split into shards each guarded by a mutex.
 * Any number of threads may encode and decode with one Tokenizer at once.
 *
 *     Tokenizer *tok;
 *     if (tokenizer_load(&tok, "Qwen3-0.6B/tokenizer.json")) die(err_msg());
 *     TokenIds ids = {0};
 *     tokenizer_encode(tok, text, strlen(text), 1, &ids);
 *     char *s; size_t n;
 *     tokenizer_decode(tok, ids.ids, ids.n, 0, &s, &n);
 *     free(s); token_ids_free(&ids); tokenizer_free(tok);
 */
#ifndef GRPO_TOKENIZER_H
#define GRPO_TOKENIZER_H

#include <stddef.h>

typedef struct Tokenizer Tokenizer;

/* A growable array of token ids. Zero-initialise it ({0}); free with
 * token_ids_free(). */
typedef struct {
    int *ids;
    size_t n;   /* ids in use */
    size_t cap; /* allocated */
} TokenIds;

/* Appends one id (grows the array; out of memory is fatal). */
void token_ids_push(TokenIds *v, int id);

/* Frees the array and zeroes it; safe on a zeroed TokenIds. */
void token_ids_free(TokenIds *v);

/* Reads a tokenizer.json. On success *out owns a new Tokenizer (free with
 * tokenizer_free). On failure returns -1 with an error naming the file and
 * the offending key, e.g. "x/tokenizer.json: model.type 'Unigram' is not
 * supported; supported: BPE (byte-level)"; *out is set to NULL. */
int tokenizer_load(Tokenizer **out, const char *path_json);

/* Same as tokenizer_load() but from JSON text already in memory; `what`
 * names the source in error messages (a path, or "HDF5 /tokenizer"). */
int tokenizer_load_from_string(Tokenizer **out, const char *json, size_t len, const char *what);

/* Frees a tokenizer; NULL is a no-op. */
void tokenizer_free(Tokenizer *t);

/* Encodes len bytes of text (any bytes: embedded NULs and invalid UTF-8 are
 * allowed) and APPENDS the ids to *out. No special tokens are added. Added
 * tokens written literally in the text are matched; if allow_special is 0,
 * tokens marked "special" are not matched and their text is encoded as
 * ordinary text (non-special added tokens such as Qwen's <think> are still
 * matched). Returns 0, or -1 if a regex match fails (PCRE2 resource
 * limits), with *out keeping what was appended before the failure. */
int tokenizer_encode(const Tokenizer *t, const char *text, size_t len, int allow_special, TokenIds *out);

/* tokenizer_encode that stops early once *out holds at least max_ids ids
 * (0: no limit), for callers that keep only the first max_ids of a long
 * text: the ids appended are a prefix of what tokenizer_encode appends (it
 * may append a few past max_ids, the rest of the last word), and the text
 * after them is never pre-tokenized or merged. */
int tokenizer_encode_max(const Tokenizer *t, const char *text, size_t len, int allow_special, size_t max_ids,
                         TokenIds *out);

/* Decodes n ids to bytes: the concatenation of each token's bytes
 * (tokenizer_token_bytes). With skip_special, special added tokens are
 * left out. *out is a new NUL-terminated buffer (caller frees) holding
 * *out_len bytes, which may contain NULs or invalid UTF-8 exactly as
 * encoded. Fails on an id outside [0, vocab size) or an id with no token. */
int tokenizer_decode(const Tokenizer *t, const int *ids, size_t n, int skip_special, char **out, size_t *out_len);

/* The bytes one token stands for (for streaming and stop strings); *len is
 * set. NULL if id is out of range or unassigned. Points into t. */
const char *tokenizer_token_bytes(const Tokenizer *t, int id, size_t *len);

/* The token's string as written in tokenizer.json (e.g. "Ġthe",
 * "<|im_end|>"); NULL if id is out of range or unassigned. Points into t. */
const char *tokenizer_id_to_piece(const Tokenizer *t, int id);

/* The id of a token given its tokenizer.json string (added tokens first,
 * then the model vocabulary), or -1 if there is none. */
int tokenizer_token_to_id(const Tokenizer *t, const char *piece);

/* 1 + the largest id in the vocabulary or added tokens (Qwen3: 151669; the
 * model's embedding matrix may be larger). */
int tokenizer_vocab_size(const Tokenizer *t);

/* 1 if id is an added token marked "special", else 0. */
int tokenizer_is_special(const Tokenizer *t, int id);

#endif
