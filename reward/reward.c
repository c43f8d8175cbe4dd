/*
 * reward.c: the registry of reward kinds and the RewardSet that scores a
 * batch with every configured function (see reward.h for the contracts).
 * Not for: any particular reward's rules (one file per kind).
 */
#include "reward.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        free(r[i].error);
        memset(&r[i], 0, sizeof(r[i]));
    }
}

/* ---- the set ---- */

/* A thread that runs one non-pure function's batches, so that functions
 * which wait (an external process) overlap with each other and with the
 * pure ones. It lives as long as the set: a process a function (re)starts
 * from it is tied to it (PR_SET_PDEATHSIG fires when the forking thread
 * ends). */
typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, quit;
    unsigned long posted, done; /* batches handed over and finished */
    /* the batch */
    const RewardInput *in;
    size_t n;
    RewardResult *out;
    int rc;
    double seconds;
    char msg[2048]; /* the error of a failed batch */
} Worker;

typedef struct {
    const RewardKind *kind;
    void *state;
    char *label;
    double weight;
    cJSON *config; /* the effective config object */
    RewardStats stats;
    Worker *worker; /* a non-pure function's thread, once used (when the set has other functions) */
} RewardFunc;

struct RewardSet {
    RewardFunc *f;
    size_t n;
    int check_only; /* made by reward_set_check: no state, cannot score */
    RewardOnError on_error;
    RewardStats total;
    char path[128]; /* config location of the array, e.g. "rewards" */
};

/* The effective config of a function: name, weight and label first, then
 * the object's own keys and the recorded defaults. */
static cJSON *effective_config(const cJSON *params, const char *name, double weight, const char *label) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "weight", weight);
    cJSON_AddStringToObject(o, "label", label);
    for (const cJSON *it = params->child; it; it = it->next)
        cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
    return o;
}

/* Makes one function of the set from its config object (path "rewards[i]");
 * check_only: validate, start nothing, keep no state. */
static int func_init(RewardFunc *f, const cJSON *obj, const char *path, int check_only) {
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
    const char *label = NULL;
    if (json_get_string(obj, path, "label", &label)) return -1;
    if (label && !label[0]) return ERR("%s.label: must not be empty", path);

    cJSON *params = cJSON_Duplicate(obj, 1);
    if (!params) FATAL("out of memory duplicating the reward config");
    cJSON_DeleteItemFromObjectCaseSensitive(params, "name");
    cJSON_DeleteItemFromObjectCaseSensitive(params, "weight");
    cJSON_DeleteItemFromObjectCaseSensitive(params, "label");
    cJSON *effective = cJSON_Duplicate(params, 1);
    void *state = NULL;
    json_record_defaults(params, effective);
    int rc = check_only && kind->check ? kind->check(params, path) : kind->create(params, path, &state);
    json_record_defaults(NULL, NULL);
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
        cJSON_Delete(effective);
        return -1;
    }
    cJSON_Delete(params);
    if (!label && kind->label && state) label = kind->label(state);
    f->label = xstrdup(label && label[0] ? label : kind->name);
    f->config = effective_config(effective, kind->name, weight, f->label);
    cJSON_Delete(effective);
    if (check_only && !kind->check) kind->destroy(state);
    f->kind = kind;
    f->state = check_only ? NULL : state;
    f->weight = weight;
    return 0;
}

static RewardSet *set_make(const cJSON *rewards, const char *path, int check_only) {
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
    s->check_only = check_only;
    s->f = xcalloc((size_t)n, sizeof(RewardFunc));
    int i = 0;
    for (const cJSON *it = rewards->child; it; it = it->next, i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s[%d]", path, i);
        if (func_init(&s->f[s->n], it, p, check_only)) {
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

RewardSet *reward_set_new(const cJSON *rewards, const char *path) { return set_make(rewards, path, 0); }

RewardSet *reward_set_check(const cJSON *rewards, const char *path) { return set_make(rewards, path, 1); }

/* ---- the worker threads of non-pure functions ---- */

typedef struct {
    Worker *w;
    RewardFunc *f;
} WorkerArg;

static void *worker_main(void *arg) {
    WorkerArg a = *(WorkerArg *)arg;
    free(arg);
    Worker *w = a.w;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->quit && w->done == w->posted) pthread_cond_wait(&w->cv, &w->mu);
        if (w->quit) break;
        pthread_mutex_unlock(&w->mu);
        double t0 = now_seconds();
        int rc = a.f->kind->score(a.f->state, w->in, w->n, w->out);
        w->seconds = now_seconds() - t0;
        w->rc = rc;
        if (rc) snprintf(w->msg, sizeof(w->msg), "%s", err_msg());
        pthread_mutex_lock(&w->mu);
        w->done = w->posted;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* f's worker, started on first use; NULL if no thread could be made (the
 * caller then runs the function itself). */
static Worker *worker_get(RewardFunc *f) {
    if (f->worker) return f->worker;
    Worker *w = xcalloc(1, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    WorkerArg *a = xmalloc(sizeof(*a));
    *a = (WorkerArg){w, f};
    if (pthread_create(&w->thread, NULL, worker_main, a)) {
        free(a);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return NULL;
    }
    w->running = 1;
    f->worker = w;
    return w;
}

static void worker_post(Worker *w, const RewardInput *in, size_t n, RewardResult *out) {
    pthread_mutex_lock(&w->mu);
    w->in = in, w->n = n, w->out = out, w->rc = 0, w->msg[0] = '\0';
    w->posted++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void worker_wait(Worker *w) {
    pthread_mutex_lock(&w->mu);
    while (w->done != w->posted) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void worker_stop(Worker *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

void reward_set_free(RewardSet *s) {
    if (!s) return;
    /* the states first: a process started from a worker thread must be
     * stopped before that thread ends */
    for (size_t i = 0; i < s->n; i++) {
        if (!s->check_only) s->f[i].kind->destroy(s->f[i].state);
        worker_stop(s->f[i].worker);
        free(s->f[i].label);
        cJSON_Delete(s->f[i].config);
    }
    free(s->f);
    free(s);
}

size_t reward_set_size(const RewardSet *s) { return s->n; }
const char *reward_set_label(const RewardSet *s, size_t f) { return s->f[f].label; }
const char *reward_set_kind(const RewardSet *s, size_t f) { return s->f[f].kind->name; }
double reward_set_weight(const RewardSet *s, size_t f) { return s->f[f].weight; }
const RewardStats *reward_set_stats(const RewardSet *s, size_t f) { return &s->f[f].stats; }
const RewardStats *reward_set_total_stats(const RewardSet *s) { return &s->total; }
void reward_set_on_error(RewardSet *s, RewardOnError mode) { s->on_error = mode; }

cJSON *reward_set_config(const RewardSet *s) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < s->n; i++) cJSON_AddItemToArray(a, cJSON_Duplicate(s->f[i].config, 1));
    return a;
}

/* ---- scoring ---- */

/* "FILE:LINE", "group G sample J" or "input i": input i for messages. */
static void input_name(const RewardInput *in, size_t i, char *buf, size_t cap) {
    if (in[i].line > 0) snprintf(buf, cap, "%s:%ld", in[i].source ? in[i].source : "line", in[i].line);
    else if (in[i].has_group) snprintf(buf, cap, "group %ld sample %d", in[i].group, in[i].index);
    else snprintf(buf, cap, "input %zu", i);
}

/* "FILE lines A-B: " for a failure of a whole batch, or "" without lines. */
static void batch_name(const RewardInput *in, size_t n, char *buf, size_t cap) {
    buf[0] = '\0';
    if (n == 0 || in[0].line <= 0) return;
    const char *src = in[0].source ? in[0].source : "input";
    if (n == 1) snprintf(buf, cap, "%s:%ld: ", src, in[0].line);
    else snprintf(buf, cap, "%s lines %ld-%ld: ", src, in[0].line, in[n - 1].line);
}

/* Scores the batch with every pure function in ONE parallel region over the
 * (function, input) pairs, one input per call: a single fork/join per batch
 * instead of one per function, which matters when the machine is shared
 * and a barrier waits for a descheduled thread. secs[f] receives the time
 * spent in function f's calls, summed over threads. A failing pair keeps
 * its message in its result's error. */
static void score_pure(RewardSet *s, const RewardInput *in, size_t n, RewardBatch *out) {
    size_t *pure = xmalloc(s->n * sizeof(size_t));
    size_t n_pure = 0;
    for (size_t f = 0; f < s->n; f++)
        if (s->f[f].kind->pure) pure[n_pure++] = f;
    long pairs = (long)(n_pure * n);
    /* about 8 chunks per thread: balances uneven items without a lock per item */
    int chunk = (int)((size_t)pairs / (8 * (size_t)omp_get_max_threads())) + 1;
#pragma omp parallel for schedule(dynamic, chunk) if (pairs > 1)
    for (long k = 0; k < pairs; k++) {
        size_t f = pure[(size_t)k / n], i = (size_t)k % n;
        RewardResult *r = &out->per[f * n + i];
        double t0 = now_seconds();
        int rc = s->f[f].kind->score(s->f[f].state, &in[i], 1, r);
        double dt = now_seconds() - t0;
#pragma omp atomic
        out->seconds[f] += dt;
        if (rc && !r->error) r->error = xstrdup(err_msg());
    }
    free(pure);
}

/* Checks function f's results: a failed batch (batch_msg) or input, a
 * non-finite score. Under REWARD_ON_ERROR_FAIL the first problem is an
 * error (-1); under _NULL the inputs concerned get "no score" and an error
 * message. */
static int settle(RewardSet *s, size_t f, const RewardInput *in, size_t n, RewardResult *r, const char *batch_msg) {
    const char *label = s->f[f].label;
    if (batch_msg) {
        char where[700];
        batch_name(in, n, where, sizeof(where));
        if (s->on_error == REWARD_ON_ERROR_FAIL)
            return ERR("%s[%zu] (%s): %s%s", s->path, f, label, where, batch_msg);
        for (size_t i = 0; i < n; i++) {
            if (r[i].error) continue;
            reward_results_clear(&r[i], 1);
            r[i].error = xstrdup(batch_msg);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (r[i].has_score && !isfinite(r[i].score) && !r[i].error) {
            char m[96];
            snprintf(m, sizeof(m), "the function returned a non-finite score (%g)", r[i].score);
            r[i].error = xstrdup(m);
        }
        if (!r[i].error) continue;
        r[i].has_score = 0;
        r[i].score = 0;
        if (s->on_error == REWARD_ON_ERROR_FAIL) {
            char where[700];
            input_name(in, i, where, sizeof(where));
            return ERR("%s[%zu] (%s): %s: %s", s->path, f, label, where, r[i].error);
        }
    }
    return 0;
}

static void stats_value(RewardStats *st, double v) {
    if (st->n_scored == 0 || v < st->min) st->min = v;
    if (st->n_scored == 0 || v > st->max) st->max = v;
    st->n_scored++;
    st->sum += v;
    st->sumsq += v * v;
}

/* Does every member of the group whose first input is i have the same
 * value? key(j) = (has, value). */
static int group_equal(const RewardInput *in, size_t n, size_t i, const RewardResult *r, const double *total,
                       const int *has_total) {
    for (size_t j = i + 1; j < n; j++) {
        if (!in[j].has_group || in[j].group != in[i].group) continue;
        if (r) {
            if (r[j].has_score != r[i].has_score || (r[i].has_score && r[j].score != r[i].score)) return 0;
        } else {
            double a = has_total[i] ? total[i] : 0.0, b = has_total[j] ? total[j] : 0.0;
            if (a != b) return 0;
        }
    }
    return 1;
}

void reward_set_add_stats(RewardSet *s, const RewardInput *in, size_t n, const RewardBatch *b) {
    for (size_t k = 0; k < s->n; k++) {
        RewardStats *st = &s->f[k].stats;
        const RewardResult *r = b->per + k * n;
        for (size_t i = 0; i < n; i++) {
            if (r[i].error) st->n_failed++;
            else if (!r[i].has_score) st->n_no_score++;
            else stats_value(st, r[i].score);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (b->has_total[i]) stats_value(&s->total, b->total[i]);
        else s->total.n_no_score++;
    }
    /* groups: each counted at its first input in the call */
    for (size_t i = 0; i < n; i++) {
        if (!in[i].has_group) continue;
        int first = !(i > 0 && in[i - 1].has_group && in[i - 1].group == in[i].group);
        for (size_t j = 0; first && j < i; j++) first = !(in[j].has_group && in[j].group == in[i].group);
        if (!first) continue;
        for (size_t k = 0; k < s->n; k++) {
            s->f[k].stats.n_groups++;
            s->f[k].stats.n_groups_equal += (size_t)group_equal(in, n, i, b->per + k * n, NULL, NULL);
        }
        s->total.n_groups++;
        s->total.n_groups_equal += (size_t)group_equal(in, n, i, NULL, b->total, b->has_total);
    }
}

int reward_set_score(RewardSet *s, const RewardInput *in, size_t n, RewardBatch *out) {
    ASSERT(!s->check_only);
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
    /* the non-pure functions on their threads (when there is anything to
     * overlap with), the pure ones here, then the rest of the non-pure ones */
    int *rc = xcalloc(s->n, sizeof(int));
    char **msg = xcalloc(s->n, sizeof(char *));
    size_t n_pure = 0;
    for (size_t k = 0; k < s->n; k++) n_pure += s->f[k].kind->pure != 0;
    const int overlap = s->n >= 2;
    Worker **posted = xcalloc(s->n, sizeof(Worker *));
    for (size_t k = 0; overlap && k < s->n; k++) {
        if (s->f[k].kind->pure) continue;
        posted[k] = worker_get(&s->f[k]);
        if (posted[k]) worker_post(posted[k], in, n, out->per + k * n);
    }
    if (n_pure) score_pure(s, in, n, out);
    for (size_t k = 0; k < s->n; k++) {
        RewardFunc *f = &s->f[k];
        if (f->kind->pure) continue;
        if (posted[k]) {
            worker_wait(posted[k]);
            rc[k] = posted[k]->rc;
            out->seconds[k] = posted[k]->seconds;
            if (rc[k]) msg[k] = xstrdup(posted[k]->msg);
            continue;
        }
        double t0 = now_seconds();
        rc[k] = f->kind->score(f->state, in, n, out->per + k * n);
        out->seconds[k] = now_seconds() - t0;
        if (rc[k]) msg[k] = xstrdup(err_msg());
    }
    free(posted);
    for (size_t k = 0; k < s->n; k++) s->f[k].stats.seconds += out->seconds[k];
    int status = 0;
    for (size_t k = 0; k < s->n && status == 0; k++) status = settle(s, k, in, n, out->per + k * n, msg[k]);
    for (size_t k = 0; k < s->n; k++) free(msg[k]);
    free(msg);
    free(rc);
    if (status) return -1;
    /* totals and statistics only once the whole batch is settled */
    for (size_t k = 0; k < s->n; k++) {
        const RewardResult *r = out->per + k * n;
        for (size_t i = 0; i < n; i++) {
            if (!r[i].has_score) continue;
            out->total[i] += s->f[k].weight * r[i].score;
            out->has_total[i] = 1;
        }
    }
    reward_set_add_stats(s, in, n, out);
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

/* ---- relative paths ---- */

/* obj[key] (a string) made absolute against base when it is relative and,
 * with need_slash, holds a '/' (a bare name is searched for instead). */
static void resolve_key(cJSON *obj, const char *key, const char *base, int need_slash) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v) || !v->valuestring[0] || v->valuestring[0] == '/') return;
    if (need_slash && !strchr(v->valuestring, '/')) return;
    char *abs = path_join(base, v->valuestring);
    cJSON_SetValuestring(v, abs);
    free(abs);
}

/* The absolute folder of path (xmalloc'd), or NULL. */
static char *folder_of(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xstrdup(path) : xstrdup(".");
    if (slash) dir[slash == path ? 1 : slash - path] = '\0';
    if (dir[0] == '/') return dir;
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd))) {
        free(dir);
        return NULL;
    }
    char *abs = strcmp(dir, ".") ? path_join(cwd, dir) : xstrdup(cwd);
    free(dir);
    return abs;
}

void reward_config_resolve_paths(cJSON *rewards, const char *config_path) {
    if (!config_path || !cJSON_IsArray(rewards)) return;
    char *base_dir = folder_of(config_path);
    if (!base_dir) return;
    for (cJSON *o = rewards->child; o; o = o->next) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
        if (!cJSON_IsObject(o) || !cJSON_IsString(name)) continue;
        if (!strcmp(name->valuestring, "plugin")) {
            resolve_key(o, "library", base_dir, 1);
        } else if (!strcmp(name->valuestring, "external")) {
            cJSON *cmd = cJSON_GetObjectItemCaseSensitive(o, "command");
            if (cJSON_IsArray(cmd) && cJSON_IsString(cmd->child)) {
                const char *a0 = cmd->child->valuestring;
                if (a0[0] && a0[0] != '/' && strchr(a0, '/')) {
                    char *abs = path_join(base_dir, a0);
                    cJSON_SetValuestring(cmd->child, abs);
                    free(abs);
                }
            }
            if (!cJSON_GetObjectItemCaseSensitive(o, "working_dir")) cJSON_AddStringToObject(o, "working_dir", base_dir);
            else resolve_key(o, "working_dir", base_dir, 0);
        }
    }
    free(base_dir);
}
