/*
 * math_extract.h: finding the final answer in a model's completion or in a
 * gold solution, the way HuggingFace Math-Verify (the grader TRL and open-r1
 * use) finds it, without regular expressions and in time linear in the text.
 * Not for: normalising or comparing answers (math_grade.h), reading the
 * reward's config (math_accuracy.h).
 *
 * Candidates are ranked in tiers; inside a tier the candidate that ends
 * rightmost wins, and a candidate whose text cannot be an answer (empty,
 * unbalanced braces, ...) gives way to the next one:
 *
 *   0    \boxed{} / \fbox{} (boxes close together or separated by ",", "and",
 *        "or" join into one answer) and "final answer is X. I hope"
 *   50   "final answer ... is X" (X right after "is"), <answer>...</answer>
 *        (ours: extraction inside the tag, else its whole content), "#### X"
 *   100  "answer:" followed within 50 characters by X
 *   200  "answer" followed within 50 characters by X
 *   300  any X (only with without_anchor)
 *
 * where X is a LaTeX environment ($...$ and \(...\) on one line, $$...$$ and
 * \[...\] over lines, " [...] ", a bare \frac{1}{2}), up to six of them joined
 * by ",", "and", "or", an optional "%"/"percent" after each; or a plain number
 * ("1,234.5", "1 000", "3,5", "$18", "12%", "28 percent") or expression of
 * digits and + - * / ^ ( ) preceded by a space, "=" or the start. docs/rewards.md
 * lists the rules with examples. All functions are pure and thread-safe.
 */
#ifndef GRPO_MATH_EXTRACT_H
#define GRPO_MATH_EXTRACT_H

#include <stddef.h>

/* What the extractor looks for (Math-Verify's extraction configs). */
typedef enum {
    MATH_MODE_LATEX_EXPR = 0, /* LaTeX and plain numbers/expressions (Math-Verify's default parse) */
    MATH_MODE_LATEX,          /* boxes and LaTeX environments (LatexExtractionConfig) */
    MATH_MODE_EXPR,           /* plain numbers and expressions (ExprExtractionConfig) */
    MATH_MODE_BOXED,          /* \boxed{} and \fbox{} only */
    MATH_MODE_SOURCES,        /* the older ordered list of sources below */
    MATH_MODE_COUNT
} MathMode;

/* The sources of the older `extract` array, tried in the listed order. */
typedef enum {
    MATH_SRC_BOXED = 0,   /* the last \boxed{...} or \fbox{...} (close boxes joined) */
    MATH_SRC_ANSWER_TAG,  /* the last <answer>...</answer> (a \boxed inside wins) */
    MATH_SRC_ANSWER_IS,   /* after the last "answer is" / "answer:", to the end of the sentence */
    MATH_SRC_GSM8K,       /* after the last "####", to the end of the line */
    MATH_SRC_LAST_NUMBER, /* the last number in the text */
    MATH_SRC_COUNT
} MathSource;

typedef struct {
    MathMode mode;
    int without_anchor;              /* tier 300 allowed (Math-Verify's try_extract_without_anchor) */
    MathSource order[MATH_SRC_COUNT]; /* MATH_MODE_SOURCES only */
    int n_order;
} MathExtractConfig;

/* One extracted answer. */
typedef struct {
    char *text;         /* the answer as written (joined pieces separated by ", "), xmalloc'd */
    char *norm;         /* its normal form (math_normalize), xmalloc'd */
    const char *source; /* where it was found: "boxed", "final answer", "answer", "latex",
                           "number", "answer tag", "gsm8k", "whole", ... (static) */
} MathExtracted;

/* Mode names ("latex_expr", "latex", "expr", "boxed") and source names
 * ("boxed", "answer_tag", "answer_is", "gsm8k", "last_number"); -1 if unknown. */
const char *math_mode_name(MathMode m);
int math_mode_from_name(const char *name);
const char *math_source_name(MathSource s);
int math_source_from_name(const char *name);

/* Math-Verify's default: MATH_MODE_LATEX_EXPR with without_anchor. */
void math_extract_config_default(MathExtractConfig *c);

/* Finds the final answer of a completion under c. Returns 1 and fills *out
 * (release with math_extracted_free), or 0 when nothing was found (*out is
 * zeroed). Texts longer than 4 MB are cut to their last 4 MB first. */
int math_extract(const char *text, const MathExtractConfig *c, MathExtracted *out);

/* Finds the answer of a gold solution: the whole text when it has no
 * markers (no box, "$", "\(", "\[", "####", "answer") and reads as an
 * answer ("\frac{1}{2}", "x = 5", "(1, 2)"); otherwise Math-Verify's default
 * extraction, falling back to the whole text. Returns 1 or 0 like
 * math_extract. */
int math_extract_gold(const char *gold, MathExtracted *out);

/* Releases the strings of e and zeroes it (a zeroed e is fine). */
void math_extracted_free(MathExtracted *e);

#endif
