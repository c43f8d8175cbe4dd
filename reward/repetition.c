/*
 * repetition.c: the `repetition` reward, an n-gram repetition penalty
 * (open-r1's repetition_penalty reward, after Yeo et al. 2025): the
 * completion is split into words at whitespace and lower-cased (ASCII);
 * with T word n-grams of which U are distinct, the score is
 *     max_penalty * (1 - U / T)
 * so a completion without repeats scores 0 and one that repeats a single
 * n-gram throughout approaches max_penalty (<= 0). Completions shorter than
 * ngram_size words score 0.
 * Not for: length shaping (length.c).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "reward.h"

typedef struct {
    long ngram_size;
    double max_penalty;
} Repetition;

static int rep_create(const cJSON *params, const char *path, void **state) {
    static const char *const keys[] = {"ngram_size", "max_penalty"};
    if (json_check_keys(params, path, keys, sizeof(keys) / sizeof(keys[0]))) return -1;
    Repetition r = {.ngram_size = 3, .max_penalty = -1.0};
    if (json_get_int(params, path, "ngram_size", 1, 64, &r.ngram_size) ||
        json_get_double(params, path, "max_penalty", -1e6, 0.0, &r.max_penalty))
        return -1;
    Repetition *s = xmalloc(sizeof(*s));
    *s = r;
    *state = s;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* FNV-1a of the lower-cased word s[0..n), mixed into h. */
static uint64_t hash_word(uint64_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= (uint64_t)(unsigned char)tolower((unsigned char)s[i]);
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff; /* word separator */
    h *= 0x100000001b3ULL;
    return h;
}

static int rep_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    const Repetition *r = state;
    size_t N = (size_t)r->ngram_size;
    for (size_t i = 0; i < n; i++) {
        const char *s = in[i].completion;
        /* word boundaries */
        size_t nw = 0, cap = 64;
        const char **wb = xmalloc(cap * sizeof(*wb));
        size_t *wl = xmalloc(cap * sizeof(*wl));
        for (const char *p = s; *p;) {
            while (*p && isspace((unsigned char)*p)) p++;
            if (!*p) break;
            const char *q = p;
            while (*q && !isspace((unsigned char)*q)) q++;
            if (nw == cap) {
                cap *= 2;
                wb = xrealloc(wb, cap * sizeof(*wb));
                wl = xrealloc(wl, cap * sizeof(*wl));
            }
            wb[nw] = p;
            wl[nw++] = (size_t)(q - p);
            p = q;
        }
        out[i].has_score = 1;
        out[i].score = 0.0;
        out[i].diag = cJSON_CreateObject();
        size_t total_ngrams = nw >= N ? nw - N + 1 : 0, distinct = 0;
        if (nw >= N) {
            size_t total = nw - N + 1;
            uint64_t *h = xmalloc(total * sizeof(uint64_t));
            for (size_t k = 0; k < total; k++) {
                uint64_t x = 0xcbf29ce484222325ULL;
                for (size_t j = 0; j < N; j++) x = hash_word(x, wb[k + j], wl[k + j]);
                h[k] = x;
            }
            qsort(h, total, sizeof(uint64_t), cmp_u64);
            size_t uniq = 1;
            for (size_t k = 1; k < total; k++) uniq += h[k] != h[k - 1];
            if (uniq < total) out[i].score = r->max_penalty * (1.0 - (double)uniq / (double)total);
            distinct = uniq;
            free(h);
        }
        cJSON_AddNumberToObject(out[i].diag, "ngrams", (double)total_ngrams);
        cJSON_AddNumberToObject(out[i].diag, "distinct", (double)distinct);
        free(wb);
        free(wl);
    }
    return 0;
}

const RewardKind reward_kind_repetition = {
    .name = "repetition",
    .pure = 1,
    .create = rep_create,
    .score = rep_score,
    .destroy = free,
};
