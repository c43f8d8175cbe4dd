/*
 * language_consistency.c: the `language_consistency` reward (DeepSeek-R1,
 * section 2.3.2): the share of words in the reasoning that are written in
 * the target language. A word is a run of letters; every Han, Hiragana or
 * Katakana character counts as a word of its own. Languages are told apart
 * by script (Unicode code-point blocks), so "en" accepts any Latin-script
 * word: the reward separates English from Chinese or Russian, not English
 * from French.
 * With ignore_math (default on), LaTeX commands (\frac), text between $...$
 * and single Latin letters (variables) are not counted as words.
 * Markup tags (<think>, </answer>) are not words.
 * Scope "think" (default) reads the text up to the last </think> (from the
 * <think> before it, or the start when the template opened the tag);
 * without a </think> the whole completion is read. "no score" when the
 * text has no words.
 * Not for: detecting the language of Latin-script text.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/common.h"
#include "common/json.h"
#include "reward.h"
#include "reward_text.h"

enum { SC_OTHER, SC_LATIN, SC_HAN, SC_KANA, SC_HANGUL, SC_CYRILLIC, SC_GREEK, SC_ARABIC, SC_HEBREW,
       SC_DEVANAGARI, SC_THAI, SC_COUNT };

typedef struct {
    unsigned targets; /* bit mask of SC_* */
    int think_only;
    int ignore_math;
} Lang;

static const struct {
    const char *code;
    unsigned scripts;
} languages[] = {
    {"en", 1u << SC_LATIN},     {"fr", 1u << SC_LATIN},     {"de", 1u << SC_LATIN},
    {"es", 1u << SC_LATIN},     {"it", 1u << SC_LATIN},     {"pt", 1u << SC_LATIN},
    {"nl", 1u << SC_LATIN},     {"latin", 1u << SC_LATIN},  {"zh", 1u << SC_HAN},
    {"han", 1u << SC_HAN},      {"ja", (1u << SC_HAN) | (1u << SC_KANA)},
    {"ko", (1u << SC_HANGUL) | (1u << SC_HAN)},             {"ru", 1u << SC_CYRILLIC},
    {"uk", 1u << SC_CYRILLIC},  {"cyrillic", 1u << SC_CYRILLIC},
    {"el", 1u << SC_GREEK},     {"ar", 1u << SC_ARABIC},    {"he", 1u << SC_HEBREW},
    {"hi", 1u << SC_DEVANAGARI},{"th", 1u << SC_THAI},
};
#define N_LANG (sizeof(languages) / sizeof(languages[0]))

static int script_of(utf8proc_int32_t c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= 0xC0 && c <= 0x24F) || (c >= 0x1E00 && c <= 0x1EFF))
        return SC_LATIN;
    if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2FA1F) ||
        (c >= 0xF900 && c <= 0xFAFF))
        return SC_HAN;
    if (c >= 0x3040 && c <= 0x30FF) return SC_KANA;
    if ((c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F))
        return SC_HANGUL;
    if (c >= 0x0400 && c <= 0x052F) return SC_CYRILLIC;
    if (c >= 0x0370 && c <= 0x03FF) return SC_GREEK;
    if ((c >= 0x0600 && c <= 0x06FF) || (c >= 0x0750 && c <= 0x077F)) return SC_ARABIC;
    if (c >= 0x0590 && c <= 0x05FF) return SC_HEBREW;
    if (c >= 0x0900 && c <= 0x097F) return SC_DEVANAGARI;
    if (c >= 0x0E00 && c <= 0x0E7F) return SC_THAI;
    return SC_OTHER;
}

static int is_letter(utf8proc_int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT ||
           k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_LO || k == UTF8PROC_CATEGORY_MN ||
           k == UTF8PROC_CATEGORY_MC;
}

static int lang_create(const cJSON *params, const char *path, void **state) {
    static const char *const keys[] = {"language", "scope", "ignore_math"};
    if (json_check_keys(params, path, keys, sizeof(keys) / sizeof(keys[0]))) return -1;
    const char *code = "en", *scope = "think";
    Lang L = {.ignore_math = 1};
    if (json_get_string(params, path, "language", &code) || json_get_string(params, path, "scope", &scope) ||
        json_get_bool(params, path, "ignore_math", &L.ignore_math))
        return -1;
    const char *codes[N_LANG];
    for (size_t i = 0; i < N_LANG; i++) {
        codes[i] = languages[i].code;
        if (!strcmp(code, codes[i])) L.targets = languages[i].scripts;
    }
    if (!L.targets) {
        const char *near = nearest_word(code, codes, N_LANG);
        return ERR("%s.language: unknown language '%s'%s%s%s; valid: en fr de es it pt nl latin zh han ja ko ru uk "
                   "cyrillic el ar he hi th",
                   path, code, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    }
    if (strcmp(scope, "think") && strcmp(scope, "completion"))
        return ERR("%s.scope: unknown scope '%s'; valid scopes: think, completion", path, scope);
    L.think_only = !strcmp(scope, "think");
    Lang *s = xmalloc(sizeof(*s));
    *s = L;
    *state = s;
    return 0;
}

/* Counts words in s[0..n): total and in the target scripts. */
static void count_words(const Lang *L, const char *s, size_t n, size_t *total, size_t *target) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s, *end = p + n;
    int in_math = 0;
    *total = *target = 0;
    while (p < end) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p, end - p, &c);
        if (k <= 0) { /* invalid byte: not a letter */
            p++;
            continue;
        }
        if (c == '<') { /* markup such as <think> or </answer> is not words */
            const utf8proc_uint8_t *q = p + 1;
            if (q < end && *q == '/') q++;
            const utf8proc_uint8_t *name = q;
            while (q < end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_')) q++;
            if (q > name && q < end && *q == '>') {
                p = q + 1;
                continue;
            }
        }
        if (L->ignore_math && c == '$') {
            in_math = !in_math;
            p += k;
            continue;
        }
        if (L->ignore_math && c == '\\') {
            p += k;
            while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) p++;
            continue;
        }
        if (!is_letter(c)) {
            p += k;
            continue;
        }
        int sc = script_of(c);
        if (sc == SC_HAN || sc == SC_KANA) { /* one character, one word */
            p += k;
            if (in_math) continue;
            (*total)++;
            if (L->targets & (1u << sc)) (*target)++;
            continue;
        }
        size_t letters = 0;
        while (p < end) {
            utf8proc_int32_t d;
            utf8proc_ssize_t m = utf8proc_iterate(p, end - p, &d);
            if (m <= 0 || !is_letter(d)) break;
            int sd = script_of(d);
            if (sd == SC_HAN || sd == SC_KANA) break;
            letters++;
            p += m;
        }
        if (in_math) continue;
        if (L->ignore_math && sc == SC_LATIN && letters == 1) continue; /* a variable */
        (*total)++;
        if (L->targets & (1u << sc)) (*target)++;
    }
}

static int lang_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    const Lang *L = state;
    for (size_t i = 0; i < n; i++) {
        const char *c = in[i].completion, *b = c, *e = c + strlen(c);
        if (L->think_only) {
            const char *close = rtext_rfind(c, "</think>");
            if (close) {
                e = close;
                const char *open = NULL;
                for (const char *q = strstr(c, "<think>"); q && q < close; q = strstr(q + 1, "<think>")) open = q;
                b = open ? open + 7 : c;
            }
        }
        size_t total, target;
        count_words(L, b, (size_t)(e - b), &total, &target);
        out[i].diag = cJSON_CreateObject();
        cJSON_AddNumberToObject(out[i].diag, "words", (double)total);
        if (total == 0) continue; /* nothing to measure: no score */
        out[i].has_score = 1;
        out[i].score = (double)target / (double)total;
    }
    return 0;
}

const RewardKind reward_kind_language_consistency = {
    .name = "language_consistency",
    .pure = 1,
    .create = lang_create,
    .score = lang_score,
    .destroy = free,
};
