/*
 * reward.c: the registry of reward kinds and the RewardSet that scores a
 * batch with every configured function (see reward.h for the contracts).
 * Not for: any particular reward's rules (one file per kind).
 */
#include "reward.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"

/* The built-in kinds, in the order listings show them. */
static const RewardKind *const kinds[] = {
    &reward_kind_math_accuracy,
    &reward_kind_countdown,
    &reward_kind_format,
    &reward_kind_length,
    &reward_kind_language_consistency,
    &reward_kind_repetition,
    &reward_kind_plugin,
    &reward_kind_external,
    &reward_kind_code,
};
static const size_t n_kinds = sizeof(kinds) / sizeof(kinds[0]);

size_t reward_kind_count(void) { return n_kinds; }

const RewardKind *reward_kind_at(size_t i) { return i < n_kinds ? kinds[i] : NULL; }

const RewardKind *reward_kind_find(const char *name) {
    for (size_t i = 0; i < n_kinds; i++)
        if (!strcmp(kinds[i]->name, name)) return kinds[i];
    return NULL;
}

void reward_results_clear(RewardResult *r, size_t n) {
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(r[i].diag);
        memset(&r[i], 0, sizeof(r[i]));
    }
}

/* ---- the set ---- */

typedef struct {
    const RewardKind *kind;
    void *state;
    char *label;
    double weight;
    RewardStats stats;
} RewardFunc;

struct RewardSet {
    RewardFunc *f;
    size_t n;
    char path[128]; /* config location of the array, e.g. "rewards" */
};

/* Makes one function of the set from its config object (path "rewards[i]"). */
static int func_init(RewardFunc *f, const cJSON *obj, const char *path) {
    if (!cJSON_IsObject(obj))
        return ERR("%s: expected an object like {\"name\": \"math_accuracy\", \"weight\": 1.0}", path);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
    const char *names[sizeof(kinds) / sizeof(kinds[0])];
    for (size_t i = 0; i < n_kinds; i++) names[i] = kinds[i]->name;
    char list[512];
    join_words(list, sizeof(list), names, n_kinds);
    if (!name) return ERR("%s.name: missing; valid names: %s", path, list);
    if (!cJSON_IsString(name)) return ERR("%s.name: expected a string; valid names: %s", path, list);
    const RewardKind *kind = reward_kind_find(name->valuestring);
    if (!kind) {
        char hint[128];
        did_you_mean(hint, sizeof(hint), name->valuestring, names, n_kinds);
        return ERR("%s.name: unknown reward '%s'; %svalid names: %s", path, name->valuestring, hint, list);
    }
    double weight = 1.0;
    if (json_get_double(obj, path, "weight", -1e6, 1e6, &weight)) return -1;
    const char *label = kind->name;
    if (json_get_string(obj, path, "label", &label)) return -1;
    if (!label[0]) return ERR("%s.label: must not be empty", path);

    cJSON *params = cJSON_Duplicate(obj, 1);
    if (!params) FATAL("out of memory duplicating the reward config");
    cJSON_DeleteItemFromObjectCaseSensitive(params, "name");
    cJSON_DeleteItemFromObjectCaseSensitive(params, "weight");
    cJSON_DeleteItemFromObjectCaseSensitive(params, "label");
    void *state = NULL;
    int rc = kind->create(params, path, &state);
    if (rc) {
        /* a typo of a key the set reads ("wieght") reaches the kind as an unknown key */
        static const char *const common[] = {"name", "weight", "label"};
        for (const cJSON *it = params->child; it; it = it->next) {
            const char *near = nearest_word(it->string, common, 3);
            char key[160];
            snprintf(key, sizeof(key), ".%s: unknown key", it->string);
            if (!near || !strstr(err_msg(), key)) continue;
            char saved[2048];
            snprintf(saved, sizeof(saved), "%s", err_msg());
            ERR("%s (did you mean '%s'? every reward also takes name, weight and label)", saved, near);
            break;
        }
        cJSON_Delete(params);
        return -1;
    }
    cJSON_Delete(params);
    f->kind = kind;
    f->state = state;
    f->label = xstrdup(label);
    f->weight = weight;
    return 0;
}

RewardSet *reward_set_new(const cJSON *rewards, const char *path) {
    if (!rewards) {
        ERR("%s: missing; give an array such as [{\"name\": \"math_accuracy\", \"weight\": 1.0}]", path);
        return NULL;
    }
    if (!cJSON_IsArray(rewards)) {
        ERR("%s: expected an array of reward objects such as [{\"name\": \"math_accuracy\"}]", path);
        return NULL;
    }
    int n = cJSON_GetArraySize(rewards);
    if (n == 0) {
        ERR("%s: empty; configure at least one reward function", path);
        return NULL;
    }
    RewardSet *s = xcalloc(1, sizeof(*s));
    snprintf(s->path, sizeof(s->path), "%s", path);
    s->f = xcalloc((size_t)n, sizeof(RewardFunc));
    int i = 0;
    for (const cJSON *it = rewards->child; it; it = it->next, i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s[%d]", path, i);
        if (func_init(&s->f[s->n], it, p)) {
            reward_set_free(s);
            return NULL;
        }
        s->n++;
        for (size_t j = 0; j + 1 < s->n; j++) {
            if (strcmp(s->f[j].label, s->f[s->n - 1].label)) continue;
            ERR("%s: a second reward labelled '%s' (also %s[%zu]); give one of them a distinct \"label\"", p,
                s->f[j].label, path, j);
            reward_set_free(s);
            return NULL;
        }
    }
    return s;
}

void reward_set_free(RewardSet *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        s->f[i].kind->destroy(s->f[i].state);
        free(s->f[i].label);
    }
    free(s->f);
    free(s);
}

size_t reward_set_size(const RewardSet *s) { return s->n; }
const char *reward_set_label(const RewardSet *s, size_t f) { return s->f[f].label; }
const char *reward_set_kind(const RewardSet *s, size_t f) { return s->f[f].kind->name; }
double reward_set_weight(const RewardSet *s, size_t f) { return s->f[f].weight; }
const RewardStats *reward_set_stats(const RewardSet *s, size_t f) { return &s->f[f].stats; }

/* Scores the batch with every pure function in ONE parallel region over the
 * (function, input) pairs, one input per call: a single fork/join per batch
 * instead of one per function, which matters when the machine is shared
 * and a barrier waits for a descheduled thread. secs[f] receives the time
 * spent in function f's calls, summed over threads. On failure the error
 * of the lowest failing pair is kept, so the message does not depend on
 * thread timing. */
static int score_pure(RewardSet *s, const RewardInput *in, size_t n, RewardBatch *out) {
    size_t *pure = xmalloc(s->n * sizeof(size_t));
    size_t n_pure = 0;
    for (size_t f = 0; f < s->n; f++)
        if (s->f[f].kind->pure) pure[n_pure++] = f;
    long pairs = (long)(n_pure * n), first_bad = -1;
    char msg[1024] = {0};
    /* about 8 chunks per thread: balances uneven items without a lock per item */
    int chunk = (int)((size_t)pairs / (8 * (size_t)omp_get_max_threads())) + 1;
#pragma omp parallel for schedule(dynamic, chunk) if (pairs > 1)
    for (long k = 0; k < pairs; k++) {
        size_t f = pure[(size_t)k / n], i = (size_t)k % n;
        double t0 = now_seconds();
        int rc = s->f[f].kind->score(s->f[f].state, &in[i], 1, &out->per[f * n + i]);
        double dt = now_seconds() - t0;
#pragma omp atomic
        out->seconds[f] += dt;
        if (rc == 0) continue;
#pragma omp critical(reward_pure_err)
        {
            if (first_bad < 0 || k < first_bad) {
                first_bad = k;
                snprintf(msg, sizeof(msg), "%s", err_msg());
            }
        }
    }
    int rc = 0;
    if (first_bad >= 0) {
        size_t f = pure[(size_t)first_bad / n];
        rc = ERR("%s[%zu] (%s): input %zu: %s", s->path, f, s->f[f].label, (size_t)first_bad % n, msg);
    }
    free(pure);
    return rc;
}

int reward_set_score(RewardSet *s, const RewardInput *in, size_t n, RewardBatch *out) {
    memset(out, 0, sizeof(*out));
    out->n = n;
    out->n_funcs = s->n;
    out->total = xcalloc(n ? n : 1, sizeof(double));
    out->has_total = xcalloc(n ? n : 1, sizeof(int));
    size_t cells;
    if (size_mul(s->n, n, &cells)) FATAL("reward batch size overflow");
    out->per = xcalloc(cells ? cells : 1, sizeof(RewardResult));
    out->seconds = xcalloc(s->n ? s->n : 1, sizeof(double));
    if (n == 0) return 0;
    int rc = score_pure(s, in, n, out);
    for (size_t k = 0; k < s->n && rc == 0; k++) {
        RewardFunc *f = &s->f[k];
        if (f->kind->pure) continue;
        double t0 = now_seconds();
        rc = f->kind->score(f->state, in, n, out->per + k * n);
        out->seconds[k] = now_seconds() - t0;
        if (rc) err_prefix("%s[%zu] (%s)", s->path, k, f->label);
    }
    for (size_t k = 0; k < s->n; k++) s->f[k].stats.seconds += out->seconds[k];
    if (rc) return -1;
    for (size_t k = 0; k < s->n; k++) {
        RewardFunc *f = &s->f[k];
        const RewardResult *r = out->per + k * n;
        for (size_t i = 0; i < n; i++) {
            if (r[i].has_score && !isfinite(r[i].score))
                return ERR("%s[%zu] (%s): input %zu: the function returned a non-finite score (%g)", s->path,
                           k, f->label, i, r[i].score);
        }
    }
    /* totals and statistics only once the whole batch is valid */
    for (size_t k = 0; k < s->n; k++) {
        RewardFunc *f = &s->f[k];
        const RewardResult *r = out->per + k * n;
        for (size_t i = 0; i < n; i++) {
            if (!r[i].has_score) {
                f->stats.n_no_score++;
                continue;
            }
            f->stats.n_scored++;
            f->stats.sum += r[i].score;
            out->total[i] += f->weight * r[i].score;
            out->has_total[i] = 1;
        }
    }
    return 0;
}

void reward_batch_free(RewardBatch *b) {
    if (b->per) reward_results_clear(b->per, b->n * b->n_funcs);
    free(b->total);
    free(b->has_total);
    free(b->per);
    free(b->seconds);
    memset(b, 0, sizeof(*b));
}
