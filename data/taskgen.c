/*
 * taskgen.c: the generator front: parameters, the held-out rule, the
 * per-example streams and dispatch to the generators (see taskgen.h).
 * Not for: building problems (task_arith.c, task_countdown.c).
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "taskgen_impl.h"

const char *const taskgen_kind_names[] = {"arith", "countdown", "corpus", NULL};

static const char *const split_names[] = {"train", "eval"};

/* ---- parameters ---- */

static const char *const common_keys[] = {"seed", "eval_fraction"};
static const char *const arith_keys[] = {"min_terms",  "max_terms",  "min_operand", "max_operand",
                                         "min_result", "max_result", "ops",         "order",
                                         "compact",    "pad_steps"};
static const char *const countdown_keys[] = {"min_nums",   "max_nums",   "min_number",
                                             "max_number", "min_target", "max_target"};
static const char *const corpus_keys[] = {"think_fraction", "slip_rate"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void set_defaults(TaskGen *g, TaskKind kind) {
    memset(g, 0, sizeof(*g));
    g->kind = kind;
    g->seed = 1;
    g->eval_fraction = 0.1;
    g->arith = (ArithParams){.min_terms = 2, .max_terms = 5, .min_operand = 1, .max_operand = 9,
                             .min_result = -99, .max_result = 99, .ops = "+-*", .precedence = 0};
    g->countdown = (CountdownParams){.min_nums = 3, .max_nums = 4, .min_number = 1, .max_number = 99,
                                     .min_target = 1, .max_target = 100};
    g->corpus = (CorpusParams){.think_fraction = 0.5, .slip_rate = 0.25};
}

/* Reads "min_<what>" and "max_<what>" as integers in [lo, hi] with min <= max. */
static int get_range(const cJSON *p, const char *path, const char *what, long lo, long hi, long *mn, long *mx) {
    char kmin[32], kmax[32];
    snprintf(kmin, sizeof kmin, "min_%s", what);
    snprintf(kmax, sizeof kmax, "max_%s", what);
    if (json_get_int(p, path, kmin, lo, hi, mn) || json_get_int(p, path, kmax, lo, hi, mx)) return -1;
    if (*mn > *mx)
        return ERR("%s%s%s: %ld is above %s (%ld); min_%s must be <= max_%s", path, path[0] ? "." : "", kmin, *mn,
                   kmax, *mx, what, what);
    return 0;
}

static int get_int_range(const cJSON *p, const char *path, const char *what, long lo, long hi, int *mn, int *mx) {
    long a = *mn, b = *mx;
    if (get_range(p, path, what, lo, hi, &a, &b)) return -1;
    *mn = (int)a;
    *mx = (int)b;
    return 0;
}

static int read_arith(ArithParams *a, const cJSON *p, const char *path) {
    const char *ops = NULL, *order = NULL;
    if (get_int_range(p, path, "terms", 2, TASKGEN_MAX_TERMS, &a->min_terms, &a->max_terms) ||
        get_range(p, path, "operand", 0, 1000000, &a->min_operand, &a->max_operand) ||
        get_range(p, path, "result", -1000000000L, 1000000000L, &a->min_result, &a->max_result) ||
        json_get_string(p, path, "ops", &ops) || json_get_string(p, path, "order", &order) ||
        json_get_bool(p, path, "compact", &a->compact) || json_get_bool(p, path, "pad_steps", &a->pad_steps))
        return -1;
    if (ops) {
        int seen[3] = {0};
        size_t n = 0;
        for (const char *s = ops; *s; s++) {
            const char *at = strchr("+-*", *s);
            if (!at || seen[at - "+-*"]++)
                return ERR("%s.ops: '%s' is not a set of operators; use some of + - * each once, e.g. \"+-*\"", path,
                           ops);
            a->ops[n++] = *s;
        }
        if (n == 0) return ERR("%s.ops: empty; use some of + - *, e.g. \"+-\"", path);
        a->ops[n] = '\0';
    }
    if (order) {
        if (!strcmp(order, "left")) a->precedence = 0;
        else if (!strcmp(order, "precedence")) a->precedence = 1;
        else return ERR("%s.order: '%s' is unknown; valid: left (left to right), precedence (* first)", path, order);
    }
    return 0;
}

static int read_countdown(CountdownParams *c, const cJSON *p, const char *path) {
    if (get_int_range(p, path, "nums", 2, TASKGEN_MAX_NUMS, &c->min_nums, &c->max_nums) ||
        get_range(p, path, "number", 1, 1000, &c->min_number, &c->max_number) ||
        get_range(p, path, "target", 1, 1000000, &c->min_target, &c->max_target))
        return -1;
    if (c->max_target - c->min_target >= 100000)
        return ERR("%s: the target range [%ld, %ld] is wider than 100000; narrow min_target/max_target", path,
                   c->min_target, c->max_target);
    return 0;
}

int taskgen_init(TaskGen *g, const char *kind, const cJSON *params, const char *path) {
    int k = -1;
    for (int i = 0; taskgen_kind_names[i]; i++)
        if (!strcmp(kind, taskgen_kind_names[i])) k = i;
    if (k < 0) {
        char hint[128];
        did_you_mean(hint, sizeof hint, kind, taskgen_kind_names, 3);
        return ERR("unknown generator '%s'; %svalid: arith, countdown, corpus", kind, hint);
    }
    set_defaults(g, (TaskKind)k);
    if (!params) return 0;
    const char *allowed[COUNT(common_keys) + COUNT(arith_keys) + COUNT(corpus_keys)];
    size_t n = 0;
    for (size_t i = 0; i < COUNT(common_keys); i++) allowed[n++] = common_keys[i];
    if (k == TASK_COUNTDOWN)
        for (size_t i = 0; i < COUNT(countdown_keys); i++) allowed[n++] = countdown_keys[i];
    else
        for (size_t i = 0; i < COUNT(arith_keys); i++) allowed[n++] = arith_keys[i];
    if (k == TASK_CORPUS)
        for (size_t i = 0; i < COUNT(corpus_keys); i++) allowed[n++] = corpus_keys[i];
    if (json_check_keys(params, path, allowed, n)) return -1;

    double seed = 1;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(params, "seed");
    if (s && (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 9007199254740992.0 ||
              s->valuedouble != floor(s->valuedouble)))
        return ERR("%s.seed: expected an integer in [0, 2^53]", path);
    if (s) seed = s->valuedouble;
    g->seed = (uint64_t)seed;
    if (json_get_double(params, path, "eval_fraction", 1e-6, 0.999999, &g->eval_fraction)) return -1;
    if (k == TASK_COUNTDOWN) return read_countdown(&g->countdown, params, path);
    if (read_arith(&g->arith, params, path)) return -1;
    if (k == TASK_CORPUS &&
        (json_get_double(params, path, "think_fraction", 0, 1, &g->corpus.think_fraction) ||
         json_get_double(params, path, "slip_rate", 0, 1, &g->corpus.slip_rate)))
        return -1;
    return 0;
}

/* The integer parameters of each kind, by name, for taskgen_params_json. */
typedef struct {
    const char *key;
    size_t off; /* of a long in TaskGen */
} LongField;
static const LongField arith_fields[] = {
    {"min_operand", offsetof(TaskGen, arith.min_operand)}, {"max_operand", offsetof(TaskGen, arith.max_operand)},
    {"min_result", offsetof(TaskGen, arith.min_result)},   {"max_result", offsetof(TaskGen, arith.max_result)},
};
static const LongField countdown_fields[] = {
    {"min_number", offsetof(TaskGen, countdown.min_number)}, {"max_number", offsetof(TaskGen, countdown.max_number)},
    {"min_target", offsetof(TaskGen, countdown.min_target)}, {"max_target", offsetof(TaskGen, countdown.max_target)},
};

static void add_fields(cJSON *o, const TaskGen *g, const LongField *f, size_t n) {
    for (size_t i = 0; i < n; i++) cJSON_AddNumberToObject(o, f[i].key, (double)*(const long *)((const char *)g + f[i].off));
}

cJSON *taskgen_params_json(const TaskGen *g) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seed", (double)g->seed);
    cJSON_AddNumberToObject(o, "eval_fraction", g->eval_fraction);
    if (g->kind == TASK_COUNTDOWN) {
        cJSON_AddNumberToObject(o, "min_nums", g->countdown.min_nums);
        cJSON_AddNumberToObject(o, "max_nums", g->countdown.max_nums);
        add_fields(o, g, countdown_fields, COUNT(countdown_fields));
        return o;
    }
    cJSON_AddNumberToObject(o, "min_terms", g->arith.min_terms);
    cJSON_AddNumberToObject(o, "max_terms", g->arith.max_terms);
    add_fields(o, g, arith_fields, COUNT(arith_fields));
    cJSON_AddStringToObject(o, "ops", g->arith.ops);
    cJSON_AddStringToObject(o, "order", g->arith.precedence ? "precedence" : "left");
    cJSON_AddBoolToObject(o, "compact", g->arith.compact);
    cJSON_AddBoolToObject(o, "pad_steps", g->arith.pad_steps);
    if (g->kind == TASK_CORPUS) {
        cJSON_AddNumberToObject(o, "think_fraction", g->corpus.think_fraction);
        cJSON_AddNumberToObject(o, "slip_rate", g->corpus.slip_rate);
    }
    return o;
}

/* ---- the held-out rule ---- */

/* FNV-1a over the bytes, then the splitmix64 finaliser so that every output
 * bit depends on every input bit. Fixed forever: changing it would move
 * problems between the splits of existing datasets. */
static uint64_t canonical_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

TaskSplit taskgen_split_of(const TaskGen *g, const char *canonical) {
    double u = (double)(canonical_hash(canonical) >> 11) * 0x1p-53;
    return u < g->eval_fraction ? TASK_EVAL : TASK_TRAIN;
}

int taskgen_canonical(const TaskGen *g, const cJSON *ex, char *buf, size_t cap) {
    if (g->kind == TASK_COUNTDOWN) {
        const cJSON *nums = cJSON_GetObjectItemCaseSensitive(ex, "nums");
        const cJSON *target = cJSON_GetObjectItemCaseSensitive(ex, "target");
        long v[TASKGEN_MAX_NUMS];
        int n = 0;
        if (!cJSON_IsArray(nums) || !cJSON_IsNumber(target))
            return ERR("a Countdown example needs \"nums\" (an array) and \"target\" (a number)");
        for (const cJSON *it = nums->child; it; it = it->next) {
            if (!cJSON_IsNumber(it) || n == TASKGEN_MAX_NUMS)
                return ERR("\"nums\" must hold at most %d numbers", TASKGEN_MAX_NUMS);
            v[n++] = (long)it->valuedouble;
        }
        return task_countdown_key(v, n, (long)target->valuedouble, buf, cap);
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(ex, "prompt");
    static const char head[] = "What is ";
    if (!cJSON_IsString(p) || strncmp(p->valuestring, head, sizeof head - 1))
        return ERR("an arithmetic example needs a \"prompt\" of the form \"What is <expression>?\"");
    const char *e = p->valuestring + sizeof head - 1;
    size_t len = strlen(e);
    if (len < 2 || e[len - 1] != '?') return ERR("the prompt \"%s\" does not end with '?'", p->valuestring);
    if (len >= cap) return ERR("canonical text longer than %zu bytes", cap);
    memcpy(buf, e, len - 1);
    buf[len - 1] = '\0';
    return 0;
}

/* ---- examples ---- */

long task_draw_range(Rng *r, long lo, long hi) { return lo + (long)rng_below(r, (uint32_t)(hi - lo + 1)); }

int task_too_few(const TaskGen *g, TaskSplit split, const char *widen) {
    return ERR("%s generator: no %s problem found in %d draws; the parameters admit too few problems (%s, or "
               "change eval_fraction, now %g)",
               taskgen_kind_names[g->kind], split_names[split], TASKGEN_MAX_DRAWS, widen, g->eval_fraction);
}

int taskgen_example(const TaskGen *g, TaskSplit split, uint64_t index, cJSON **out) {
    *out = NULL;
    if (index > UINT32_MAX) return ERR("example index %llu is beyond 2^32 - 1", (unsigned long long)index);
    if (split != TASK_TRAIN && split != TASK_EVAL) return ERR("unknown split %d", (int)split);
    static const uint32_t streams[] = {RNG_STEP_TASK_ARITH, RNG_STEP_TASK_COUNTDOWN, RNG_STEP_TASK_CORPUS};
    Rng r;
    rng_init(&r, g->seed, streams[g->kind], (uint32_t)index, (uint32_t)split);
    switch (g->kind) {
    case TASK_ARITH: return task_arith_example(g, split, &r, out);
    case TASK_COUNTDOWN: return task_countdown_example(g, split, &r, out);
    case TASK_CORPUS: return task_corpus_example(g, split, &r, out);
    }
    return ERR("unknown generator kind %d", (int)g->kind);
}
