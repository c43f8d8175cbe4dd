/*
 * math_accuracy.c: the `math_accuracy` reward: extracts the completion's
 * final answer and scores it against the example's ground truth with the
 * math grader (math_grade.h). Scores: correct_score, wrong_score, or
 * no_answer_score when nothing could be extracted; "no score" when the
 * example has no answer.
 * Not for: the rules (math_grade.c), parsing expressions (math_expr.c).
 */
#include "math_accuracy.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"

int math_grade_config_parse(const cJSON *params, const char *path, MathGradeConfig *c) {
    memset(c, 0, sizeof(*c));
    snprintf(c->answer_key, sizeof(c->answer_key), "answer");
    static const MathSource defaults[] = {MATH_SRC_BOXED, MATH_SRC_ANSWER_TAG, MATH_SRC_ANSWER_IS, MATH_SRC_GSM8K};
    c->n_order = 4;
    memcpy(c->order, defaults, sizeof(defaults));
    c->tolerance = 1e-6;
    const char *key = NULL;
    if (json_get_string(params, path, "answer_key", &key)) return -1;
    if (key) {
        if (!key[0] || strlen(key) >= sizeof(c->answer_key))
            return ERR("%s.answer_key: must be a non-empty field name shorter than %zu bytes", path,
                       sizeof(c->answer_key));
        snprintf(c->answer_key, sizeof(c->answer_key), "%s", key);
    }
    if (json_get_double(params, path, "tolerance", 0.0, 0.1, &c->tolerance)) return -1;
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(params, "extract");
    if (ex) {
        const char *names[MATH_SRC_COUNT];
        for (int i = 0; i < MATH_SRC_COUNT; i++) names[i] = math_source_name((MathSource)i);
        if (!cJSON_IsArray(ex) || cJSON_GetArraySize(ex) == 0)
            return ERR("%s.extract: expected a non-empty array of sources, e.g. [\"boxed\", \"answer_tag\"]; "
                       "valid sources: boxed, answer_tag, answer_is, gsm8k, last_number",
                       path);
        c->n_order = 0;
        int i = 0;
        for (const cJSON *it = ex->child; it; it = it->next, i++) {
            if (!cJSON_IsString(it))
                return ERR("%s.extract[%d]: expected a source name (boxed, answer_tag, answer_is, gsm8k, "
                           "last_number)",
                           path, i);
            int s = math_source_from_name(it->valuestring);
            if (s < 0) {
                const char *near = nearest_word(it->valuestring, names, MATH_SRC_COUNT);
                return ERR("%s.extract[%d]: unknown source '%s'%s%s%s; valid sources: boxed, answer_tag, "
                           "answer_is, gsm8k, last_number",
                           path, i, it->valuestring, near ? "; did you mean '" : "", near ? near : "",
                           near ? "'?" : "");
            }
            for (int k = 0; k < c->n_order; k++)
                if ((int)c->order[k] == s) return ERR("%s.extract[%d]: '%s' is listed twice", path, i, it->valuestring);
            c->order[c->n_order++] = (MathSource)s;
        }
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

int math_grade_input(const MathGradeConfig *c, const RewardInput *in, cJSON **diag) {
    char *truths[MAX_TRUTHS];
    int nt = truths_of(in->example, c->answer_key, truths);
    if (nt == 0) {
        if (diag) {
            *diag = cJSON_CreateObject();
            char reason[128];
            snprintf(reason, sizeof(reason), "example has no \"%s\" (a string, number or array of them)",
                     c->answer_key);
            cJSON_AddStringToObject(*diag, "reason", reason);
        }
        return -1;
    }
    MathSource used = MATH_SRC_BOXED;
    char *ans = math_extract(in->completion ? in->completion : "", c->order, (size_t)c->n_order, &used);
    int correct = 0;
    for (int i = 0; i < nt; i++) {
        if (ans && !correct) {
            char *t = math_truth(truths[i]);
            correct = math_equal(ans, t, c->tolerance);
            free(t);
        }
        free(truths[i]);
    }
    if (diag) {
        *diag = cJSON_CreateObject();
        if (ans) {
            cJSON_AddStringToObject(*diag, "extracted", ans);
            cJSON_AddStringToObject(*diag, "source", math_source_name(used));
        } else {
            cJSON_AddNullToObject(*diag, "extracted");
            cJSON_AddNullToObject(*diag, "source");
        }
    }
    free(ans);
    return correct;
}

typedef struct {
    MathGradeConfig grade;
    double correct_score, wrong_score, no_answer_score;
} MathAccuracy;

static int math_create(const cJSON *params, const char *path, void **state) {
    static const char *const keys[] = {MATH_GRADE_KEYS, "correct_score", "wrong_score", "no_answer_score"};
    if (json_check_keys(params, path, keys, sizeof(keys) / sizeof(keys[0]))) return -1;
    MathAccuracy *m = xcalloc(1, sizeof(*m));
    m->correct_score = 1.0;
    m->wrong_score = 0.0;
    m->no_answer_score = 0.0;
    if (math_grade_config_parse(params, path, &m->grade) ||
        json_get_double(params, path, "correct_score", -1e6, 1e6, &m->correct_score) ||
        json_get_double(params, path, "wrong_score", -1e6, 1e6, &m->wrong_score) ||
        json_get_double(params, path, "no_answer_score", -1e6, 1e6, &m->no_answer_score)) {
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
        out[i].has_score = 1;
        if (r == 1) out[i].score = m->correct_score;
        else if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(diag, "extracted"))) out[i].score = m->no_answer_score;
        else out[i].score = m->wrong_score;
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
