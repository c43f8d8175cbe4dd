/*
 * math_accuracy.c: the `math_accuracy` reward: extracts the completion's
 * final answer (math_extract.h) and the example's gold answer and scores
 * them with the math grader (math_grade.h). Scores: correct_score,
 * wrong_score, or no_answer_score when nothing could be extracted (null:
 * "no score"); "no score" when the example has no answer. The diagnostics
 * explain each verdict.
 * Not for: the rules (math_grade.c), finding answers (math_extract.c).
 */
#include "math_accuracy.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"

/* The extract array of sources (the form older configs use). */
static int parse_sources(const cJSON *ex, const char *path, MathExtractConfig *c) {
    const char *names[MATH_SRC_COUNT];
    for (int i = 0; i < MATH_SRC_COUNT; i++) names[i] = math_source_name((MathSource)i);
    char valid[128];
    join_words(valid, sizeof(valid), names, MATH_SRC_COUNT);
    if (cJSON_GetArraySize(ex) == 0)
        return ERR("%s.extract: expected a mode name (latex_expr, latex, expr, boxed) or a non-empty array of "
                   "sources (%s)",
                   path, valid);
    c->mode = MATH_MODE_SOURCES;
    c->n_order = 0;
    int i = 0;
    for (const cJSON *it = ex->child; it; it = it->next, i++) {
        if (!cJSON_IsString(it)) return ERR("%s.extract[%d]: expected a source name (%s)", path, i, valid);
        int s = math_source_from_name(it->valuestring);
        if (s < 0) {
            char hint[96];
            did_you_mean(hint, sizeof(hint), it->valuestring, names, MATH_SRC_COUNT);
            return ERR("%s.extract[%d]: unknown source '%s'; %svalid sources: %s", path, i, it->valuestring, hint,
                       valid);
        }
        for (int k = 0; k < c->n_order; k++)
            if ((int)c->order[k] == s) return ERR("%s.extract[%d]: '%s' is listed twice", path, i, it->valuestring);
        c->order[c->n_order++] = (MathSource)s;
    }
    return 0;
}

int math_grade_config_parse(const cJSON *params, const char *path, MathGradeConfig *c) {
    memset(c, 0, sizeof(*c));
    snprintf(c->answer_key, sizeof(c->answer_key), "answer");
    math_extract_config_default(&c->extract);
    c->rules.tol = 0;
    c->rules.strict = 1;
    const char *key = NULL;
    if (json_get_string(params, path, "answer_key", &key)) return -1;
    if (key) {
        if (!key[0] || strlen(key) >= sizeof(c->answer_key))
            return ERR("%s.answer_key: must be a non-empty field name shorter than %zu bytes", path,
                       sizeof(c->answer_key));
        snprintf(c->answer_key, sizeof(c->answer_key), "%s", key);
    }
    if (json_get_double(params, path, "tolerance", 0.0, 0.1, &c->rules.tol) ||
        json_get_bool(params, path, "strict", &c->rules.strict) ||
        json_get_bool(params, path, "extract_without_anchor", &c->extract.without_anchor))
        return -1;
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(params, "extract");
    if (cJSON_IsArray(ex)) return parse_sources(ex, path, &c->extract);
    if (ex) {
        const char *modes[MATH_MODE_SOURCES];
        for (int i = 0; i < MATH_MODE_SOURCES; i++) modes[i] = math_mode_name((MathMode)i);
        int m = cJSON_IsString(ex) ? math_mode_from_name(ex->valuestring) : -1;
        if (m < 0) {
            char hint[96] = "";
            if (cJSON_IsString(ex)) did_you_mean(hint, sizeof(hint), ex->valuestring, modes, MATH_MODE_SOURCES);
            return ERR("%s.extract: expected a mode name (latex_expr, latex, expr, boxed) or an array of sources "
                       "(boxed, answer_tag, answer_is, gsm8k, last_number); %s",
                       path, hint[0] ? hint : "see docs/rewards.md");
        }
        c->extract.mode = (MathMode)m;
    }
    return 0;
}

/* The example's ground truths: one string, or several (an array: any may
 * match). Returns the count, 0 if there is none usable. Strings are
 * xmalloc'd into out[]. */
#define MAX_TRUTHS 16
static int truths_of(const cJSON *example, const char *key, char **out) {
    const cJSON *v = example ? cJSON_GetObjectItemCaseSensitive(example, key) : NULL;
    if (!v) return 0;
    const cJSON *items = cJSON_IsArray(v) ? v->child : v;
    int n = 0;
    for (const cJSON *it = items; it && n < MAX_TRUTHS; it = cJSON_IsArray(v) ? it->next : NULL) {
        char *s = NULL;
        if (cJSON_IsString(it) && it->valuestring[0]) s = xstrdup(it->valuestring);
        else if (cJSON_IsNumber(it)) s = cJSON_PrintUnformatted(it);
        if (s) out[n++] = s;
    }
    return n;
}

static void add_string_or_null(cJSON *o, const char *key, const char *s) {
    if (s) cJSON_AddStringToObject(o, key, s);
    else cJSON_AddNullToObject(o, key);
}

int math_grade_input(const MathGradeConfig *c, const RewardInput *in, cJSON **diag) {
    char *truths[MAX_TRUTHS];
    int nt = truths_of(in->example, c->answer_key, truths);
    MathExtracted gold = {0}, pred = {0};
    int have_gold = 0;
    int result = -1;
    char why[160] = "";
    int found = math_extract(in->completion ? in->completion : "", &c->extract, &pred);
    for (int i = 0; i < nt; i++) {
        if (result != 1) {
            MathExtracted g = {0};
            if (math_extract_gold(truths[i], &g)) {
                math_extracted_free(&gold);
                gold = g;
                have_gold = 1;
                result = found ? math_verify(gold.norm, pred.norm, &c->rules, why, sizeof(why)) : 0;
            }
        }
        free(truths[i]);
    }
    if (diag) {
        *diag = cJSON_CreateObject();
        if (!have_gold) {
            char reason[128];
            snprintf(reason, sizeof(reason),
                     nt ? "no answer found in the example's \"%s\""
                        : "example has no \"%s\" (a string, number or array of them)",
                     c->answer_key);
            cJSON_AddStringToObject(*diag, "reason", reason);
        } else {
            add_string_or_null(*diag, "extracted", found ? pred.text : NULL);
            add_string_or_null(*diag, "source", found ? pred.source : NULL);
            cJSON_AddStringToObject(*diag, "gold", gold.text);
            cJSON_AddStringToObject(*diag, "gold_source", gold.source);
            if (found) cJSON_AddStringToObject(*diag, "extracted_normal", pred.norm);
            cJSON_AddStringToObject(*diag, "gold_normal", gold.norm);
            cJSON_AddStringToObject(*diag, "verdict", !found ? "no answer" : result == 1 ? "correct" : "wrong");
            cJSON_AddStringToObject(*diag, "rule", found ? why : "nothing extracted from the completion");
        }
    }
    math_extracted_free(&gold);
    math_extracted_free(&pred);
    return have_gold ? result : -1;
}

typedef struct {
    MathGradeConfig grade;
    double correct_score, wrong_score, no_answer_score;
    int no_answer_no_score; /* no_answer_score: null */
} MathAccuracy;

static int math_create(const cJSON *params, const char *path, void **state) {
    static const char *const keys[] = {MATH_GRADE_KEYS, "correct_score", "wrong_score", "no_answer_score"};
    if (json_check_keys(params, path, keys, sizeof(keys) / sizeof(keys[0]))) return -1;
    MathAccuracy *m = xcalloc(1, sizeof(*m));
    m->correct_score = 1.0;
    m->wrong_score = 0.0;
    m->no_answer_score = 0.0;
    m->no_answer_no_score = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(params, "no_answer_score"));
    if (math_grade_config_parse(params, path, &m->grade) ||
        json_get_double(params, path, "correct_score", -1e6, 1e6, &m->correct_score) ||
        json_get_double(params, path, "wrong_score", -1e6, 1e6, &m->wrong_score) ||
        (!m->no_answer_no_score &&
         json_get_double(params, path, "no_answer_score", -1e6, 1e6, &m->no_answer_score))) {
        free(m);
        return -1;
    }
    *state = m;
    return 0;
}

static int math_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    const MathAccuracy *m = state;
    for (size_t i = 0; i < n; i++) {
        cJSON *diag = NULL;
        int r = math_grade_input(&m->grade, &in[i], &diag);
        out[i].diag = diag;
        if (r < 0) continue; /* no score */
        int none = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(diag, "extracted"));
        if (none && m->no_answer_no_score) continue;
        out[i].has_score = 1;
        out[i].score = r == 1 ? m->correct_score : none ? m->no_answer_score : m->wrong_score;
    }
    return 0;
}

const RewardKind reward_kind_math_accuracy = {
    .name = "math_accuracy",
    .pure = 1,
    .create = math_create,
    .score = math_score,
    .destroy = free,
};
