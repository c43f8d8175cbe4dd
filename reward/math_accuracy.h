/*
 * math_accuracy.h: the math_accuracy reward's grading of one completion
 * against its example's answer, shared with the length reward's cosine mode
 * (which needs to know whether a completion is correct).
 * Not for: the grading rules themselves (math_grade.h).
 */
#ifndef GRPO_MATH_ACCURACY_H
#define GRPO_MATH_ACCURACY_H

#include <cjson/cJSON.h>

#include "math_grade.h"
#include "reward.h"

typedef struct {
    char answer_key[64];            /* example field holding the ground truth ("answer") */
    MathSource order[MATH_SRC_COUNT]; /* extraction order */
    int n_order;
    double tolerance;               /* relative, for numbers and symbolic checks */
} MathGradeConfig;

/* The keys math_grade_config_parse reads, for json_check_keys lists. */
#define MATH_GRADE_KEYS "answer_key", "extract", "tolerance"

/* Fills c with the defaults (answer_key "answer", order boxed, answer_tag,
 * answer_is, gsm8k, tolerance 1e-6) overridden by params' "answer_key",
 * "extract" (array of source names) and "tolerance". Errors name path.key. */
int math_grade_config_parse(const cJSON *params, const char *path, MathGradeConfig *c);

/* Grades in->completion against the example's answer. Returns 1 if it is
 * correct, 0 if it is wrong or has no extractable answer, -1 if the example
 * has no usable answer (so the caller reports "no score"). If diag is not
 * NULL it receives a new object {"extracted": str|null, "source": str|null}
 * (plus "reason" for -1). Thread-safe. */
int math_grade_input(const MathGradeConfig *c, const RewardInput *in, cJSON **diag);

#endif
