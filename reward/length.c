/*
 * length.c: the `length` reward, three shapings of completion length L:
 *   dapo:       DAPO's soft overlong punishment (Yu et al. 2025, eq. 13):
 *               0 if L <= max_length - cache_length,
 *               (max_length - cache_length - L) / cache_length inside the
 *               cache window, -1 beyond max_length; times penalty_factor.
 *   cosine:     cosine length scaling (Yeo et al. 2025, "Demystifying Long
 *               Chain-of-Thought"; open-r1's cosine_scaled reward): with
 *               p = min(L / max_length, 1) and (lo, hi) = (min_value_correct,
 *               max_value_correct) for a correct answer or (max_value_wrong,
 *               min_value_wrong) for a wrong one, the score is
 *               lo + (hi - lo) * (1 + cos(pi p)) / 2: short correct answers
 *               earn the most, wrong answers are punished less when long.
 *               Correctness comes from the math grader (math_accuracy rules).
 *   truncation: truncated_score when the completion hit the length limit
 *               (finish reason "length"), complete_score otherwise.
 * L counts tokens (unit "tokens", the default; "no score" when the count is
 * unknown) or Unicode characters (unit "chars").
 * Not for: repetition (repetition.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "math_accuracy.h"
#include "reward.h"
#include "reward_text.h"

enum { MODE_DAPO, MODE_COSINE, MODE_TRUNCATION };

typedef struct {
    int mode;
    int chars; /* 1: L in Unicode characters, 0: in tokens */
    long max_length, cache_length;
    double penalty_factor;
    double min_wrong, max_wrong, min_correct, max_correct;
    double truncated_score, complete_score;
    MathGradeConfig grade;
} Length;

static int need_long(const cJSON *params, const char *path, const char *key, const char *mode, long lo, long *out) {
    if (!cJSON_GetObjectItemCaseSensitive(params, key))
        return ERR("%s.%s: required in mode \"%s\" (an integer >= %ld)", path, key, mode, lo);
    return json_get_int(params, path, key, lo, 1L << 30, out);
}

static int length_create(const cJSON *params, const char *path, void **state) {
    static const char *const modes[] = {"dapo", "cosine", "truncation"};
    const char *mode = NULL;
    if (json_get_string(params, path, "mode", &mode)) return -1;
    if (!mode) return ERR("%s.mode: required; valid modes: dapo, cosine, truncation", path);
    int m = -1;
    for (int i = 0; i < 3; i++)
        if (!strcmp(mode, modes[i])) m = i;
    if (m < 0) {
        const char *near = nearest_word(mode, modes, 3);
        return ERR("%s.mode: unknown mode '%s'%s%s%s; valid modes: dapo, cosine, truncation", path, mode,
                   near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    }
    static const char *const dapo_keys[] = {"mode", "unit", "max_length", "cache_length", "penalty_factor"};
    static const char *const cosine_keys[] = {"mode", "unit", "max_length", "min_value_wrong", "max_value_wrong",
                                              "min_value_correct", "max_value_correct", MATH_GRADE_KEYS};
    static const char *const trunc_keys[] = {"mode", "truncated_score", "complete_score"};
    int rc = m == MODE_DAPO     ? json_check_keys(params, path, dapo_keys, sizeof(dapo_keys) / sizeof(dapo_keys[0]))
             : m == MODE_COSINE ? json_check_keys(params, path, cosine_keys, sizeof(cosine_keys) / sizeof(cosine_keys[0]))
                                : json_check_keys(params, path, trunc_keys, sizeof(trunc_keys) / sizeof(trunc_keys[0]));
    if (rc) return -1;
    Length L = {.mode = m, .penalty_factor = 1.0, .min_wrong = -1.0, .max_wrong = -0.5, .min_correct = 0.5,
                .max_correct = 1.0, .truncated_score = -1.0, .complete_score = 0.0};
    const char *unit = "tokens";
    if (json_get_string(params, path, "unit", &unit)) return -1;
    if (strcmp(unit, "tokens") && strcmp(unit, "chars"))
        return ERR("%s.unit: unknown unit '%s'; valid units: tokens, chars", path, unit);
    L.chars = !strcmp(unit, "chars");
    if (m == MODE_DAPO) {
        if (need_long(params, path, "max_length", mode, 1, &L.max_length) ||
            need_long(params, path, "cache_length", mode, 1, &L.cache_length) ||
            json_get_double(params, path, "penalty_factor", 0.0, 1e6, &L.penalty_factor))
            return -1;
        if (L.cache_length > L.max_length)
            return ERR("%s.cache_length: %ld is larger than max_length %ld; the cache window is the last "
                       "cache_length units before max_length",
                       path, L.cache_length, L.max_length);
    } else if (m == MODE_COSINE) {
        if (need_long(params, path, "max_length", mode, 1, &L.max_length) ||
            json_get_double(params, path, "min_value_wrong", -1e6, 1e6, &L.min_wrong) ||
            json_get_double(params, path, "max_value_wrong", -1e6, 1e6, &L.max_wrong) ||
            json_get_double(params, path, "min_value_correct", -1e6, 1e6, &L.min_correct) ||
            json_get_double(params, path, "max_value_correct", -1e6, 1e6, &L.max_correct) ||
            math_grade_config_parse(params, path, &L.grade))
            return -1;
    } else {
        if (json_get_double(params, path, "truncated_score", -1e6, 1e6, &L.truncated_score) ||
            json_get_double(params, path, "complete_score", -1e6, 1e6, &L.complete_score))
            return -1;
    }
    Length *s = xmalloc(sizeof(*s));
    *s = L;
    *state = s;
    return 0;
}

static int length_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    const Length *L = state;
    for (size_t i = 0; i < n; i++) {
        if (L->mode == MODE_TRUNCATION) {
            out[i].has_score = 1;
            out[i].score = in[i].finish == FINISH_LENGTH ? L->truncated_score : L->complete_score;
            out[i].diag = cJSON_CreateObject();
            cJSON_AddBoolToObject(out[i].diag, "truncated", in[i].finish == FINISH_LENGTH);
            continue;
        }
        double len = L->chars ? (double)rtext_codepoints(in[i].completion) : (double)in[i].n_tokens;
        if (len < 0) continue; /* token count unknown: no score */
        if (L->mode == MODE_DAPO) {
            double lmax = (double)L->max_length, lc = (double)L->cache_length;
            double r = 0.0;
            if (len > lmax) r = -1.0;
            else if (len > lmax - lc) r = (lmax - lc - len) / lc;
            out[i].has_score = 1;
            out[i].score = r * L->penalty_factor;
            out[i].diag = cJSON_CreateObject();
            cJSON_AddNumberToObject(out[i].diag, "length", len);
            continue;
        }
        cJSON *diag = NULL;
        int correct = math_grade_input(&L->grade, &in[i], &diag);
        out[i].diag = diag;
        if (correct < 0) continue; /* no ground truth: no score */
        double p = len / (double)L->max_length;
        if (p > 1.0) p = 1.0;
        double lo = correct ? L->min_correct : L->max_wrong;
        double hi = correct ? L->max_correct : L->min_wrong;
        out[i].has_score = 1;
        out[i].score = lo + 0.5 * (hi - lo) * (1.0 + cos(M_PI * p));
        cJSON_AddBoolToObject(diag, "correct", correct);
        cJSON_AddNumberToObject(diag, "length", len);
    }
    return 0;
}

const RewardKind reward_kind_length = {
    .name = "length",
    .pure = 1,
    .create = length_create,
    .score = length_score,
    .destroy = free,
};
