/*
 * math_accuracy.h: the math_accuracy reward's grading of one completion
 * against its example's answer, shared with the length reward's cosine mode
 * (which needs to know whether a completion is correct).
 * Not for: finding answers (math_extract.h) or the rules (math_grade.h).
 */
#ifndef GRPO_MATH_ACCURACY_H
#define GRPO_MATH_ACCURACY_H

#include <cjson/cJSON.h>

#include "math_extract.h"
#include "math_grade.h"
#include "reward.h"

typedef struct {
    char answer_key[64];       /* example field holding the ground truth ("answer") */
    MathExtractConfig extract; /* where the completion's answer is looked for */
    MathRules rules;           /* tolerance and strictness */
} MathGradeConfig;

/* The keys math_grade_config_parse reads, for json_check_keys lists. */
#define MATH_GRADE_KEYS "answer_key", "extract", "extract_without_anchor", "strict", "tolerance"

/* Fills c with the defaults (answer_key "answer", extract "latex_expr" with
 * extract_without_anchor true, strict true, tolerance 1e-6) overridden by
 * params. "extract" is a mode name ("latex_expr", "latex", "expr", "boxed")
 * or, as before, an array of source names tried in order ("boxed",
 * "answer_tag", "answer_is", "gsm8k", "last_number"). Errors name path.key. */
int math_grade_config_parse(const cJSON *params, const char *path, MathGradeConfig *c);

/* Grades in->completion against the example's answer. Returns 1 if it is
 * correct, 0 if it is wrong or has no extractable answer, -1 if the example
 * has no usable answer (so the caller reports "no score"). If diag is not
 * NULL it receives a new object explaining the verdict: "extracted" and
 * "source" (null when nothing was found), "gold" and "gold_source", their
 * normal forms "extracted_normal" and "gold_normal", "verdict" ("correct",
 * "wrong", "no answer", "no gold") and "rule" (the rule that decided), or
 * "reason" for -1. Thread-safe. */
int math_grade_input(const MathGradeConfig *c, const RewardInput *in, cJSON **diag);

#endif
