/*
 * load.c: a Hugging Face tokenizer.json into a Tokenizer (tokenizer.h,
 * tokenizer_internal.h): the model (vocabulary, merges), the normalizer,
 * the pre-tokenizer steps (their regexes rewritten for PCRE2), the decoder
 * check, the added tokens and their match sets; and tokenizer_free.
 * Every refusal names the file and the key at fault and says what is
 * supported.
 * Not for: finding a model's tokenizer.json (model/io/loader.h hands us the
 * JSON), encoding (encode.c).
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "tokenizer_internal.h"

#define TOK_MAX_ID (1 << 24) /* ids above this are refused as corrupt */

/* The GPT-2 pre-tokenizer pattern ByteLevel uses when use_regex is true. */
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

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

/* ---- freeing ------------------------------------------------------------- */

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
