/*
 * dataset.h: training and prompt data read from JSONL (one JSON object per
 * line) or plain text. Every example keeps its source line so errors and
 * logs can point at it.
 * Not for: tokenization (the trainer does it), prompt templates (template.h).
 *
 * Formats:
 *   text               {"text": "..."} per line (field name configurable)
 *   prompt_completion  {"prompt": "...", "completion": "..."} per line;
 *                      other fields (answer, tests, ...) are kept in `json`
 *   stream             a plain text file (not .jsonl/.json): one example
 *                      holding the whole file, for the trainer to cut into
 *                      windows
 * `auto` picks text or prompt_completion from the first non-empty line of a
 * .jsonl/.json file, and stream for anything else.
 */
#ifndef GRPO_DATASET_H
#define GRPO_DATASET_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef enum { DATA_TEXT = 0, DATA_PAIRS = 1, DATA_STREAM = 2 } DataKind;

typedef struct {
    const char *text;       /* DATA_TEXT / DATA_STREAM: points into json or buffer */
    const char *prompt;     /* DATA_PAIRS */
    const char *completion; /* DATA_PAIRS (may be NULL in prompt-only data) */
    size_t text_len;
    size_t line;            /* 1-based source line (0 for a stream) */
    cJSON *json;            /* the parsed line (owned), NULL for a stream */
} Example;

typedef struct {
    char *path;
    DataKind kind;
    Example *ex;
    size_t n;
    char *buffer; /* the whole file for a stream */
} Dataset;

/* Loads a JSONL file of prompts for sampling (grpo train, grpo eval): the
 * prompt is the string field prompt_field ("auto": prompt, question or
 * problem, the first present on the first line), kept in Example.prompt;
 * every field stays in Example.json for the rewards. The gold answer is
 * put in the line's "answer" field from answer_field ("auto": answer, else
 * solution): GSM8K's "reasoning #### 72" becomes "72" (the whole text moves
 * to "solution" when that field is free), and a MATH-style solution is kept
 * whole (the math reward extracts its \boxed{} answer). A line without the
 * prompt field fails with FILE:LINE. */
int dataset_load_prompts(Dataset *d, const char *path, const char *prompt_field, const char *answer_field);

/* Loads path. format is "auto", "text" or "prompt_completion";
 * text_field names the text field. A line that is not a JSON object, lacks
 * the needed field, or has the wrong type fails with "FILE:LINE: ..." and
 * what to do. Empty lines are skipped. An empty dataset is an error. */
int dataset_load(Dataset *d, const char *path, const char *format, const char *text_field);
void dataset_free(Dataset *d);

#endif
