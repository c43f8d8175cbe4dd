/*
 * format.c: the `format` reward: does the completion keep the R1-Zero
 * layout "<think> reasoning </think> <answer> answer </answer>"?
 *   strict:    exactly "<think>\n...\n</think>\n<answer>\n...\n</answer>"
 *              (open-r1's format_reward), trailing whitespace allowed;
 *   lenient:   "<think>...</think>", optional whitespace, "<answer>...</answer>",
 *              whitespace around the whole; both parts non-empty;
 *   tag_count: a quarter of `score` for each of the four tags that appears
 *              exactly once (partial credit while the model learns the layout).
 * In every mode each tag must appear exactly once for full credit. When the
 * prompt itself ends with "<think>" (the R1-Zero template) and the completion
 * does not start with it, the completion is checked as if it did.
 * Not for: answer correctness (math_accuracy, countdown).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "reward.h"
#include "reward_text.h"

enum { MODE_STRICT, MODE_LENIENT, MODE_TAG_COUNT };

typedef struct {
    int mode;
    double score;
    int open_from_prompt;
    char think_open[40], think_close[40], answer_open[40], answer_close[40];
} Format;

static int format_create(const cJSON *params, const char *path, void **state) {
    static const char *const keys[] = {"mode", "score", "think_tag", "answer_tag", "think_opened_by_prompt"};
    if (json_check_keys(params, path, keys, sizeof(keys) / sizeof(keys[0]))) return -1;
    const char *mode = "strict", *think = "think", *answer = "answer";
    Format f = {.mode = MODE_STRICT, .score = 1.0, .open_from_prompt = 1};
    if (json_get_string(params, path, "mode", &mode) || json_get_string(params, path, "think_tag", &think) ||
        json_get_string(params, path, "answer_tag", &answer) ||
        json_get_double(params, path, "score", -1e6, 1e6, &f.score) ||
        json_get_bool(params, path, "think_opened_by_prompt", &f.open_from_prompt))
        return -1;
    static const char *const modes[] = {"strict", "lenient", "tag_count"};
    int m = -1;
    for (int i = 0; i < 3; i++)
        if (!strcmp(mode, modes[i])) m = i;
    if (m < 0) {
        const char *near = nearest_word(mode, modes, 3);
        return ERR("%s.mode: unknown mode '%s'%s%s%s; valid modes: strict, lenient, tag_count", path, mode,
                   near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    }
    f.mode = m;
    const char *tags[2] = {think, answer};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(tags[i]);
        if (n == 0 || n > 30) return ERR("%s.%s: must be 1 to 30 characters", path, i ? "answer_tag" : "think_tag");
        for (size_t k = 0; k < n; k++)
            if (!isalnum((unsigned char)tags[i][k]) && tags[i][k] != '_' && tags[i][k] != '-')
                return ERR("%s.%s: '%s' is not a tag name (letters, digits, '_' and '-')", path,
                           i ? "answer_tag" : "think_tag", tags[i]);
    }
    snprintf(f.think_open, sizeof(f.think_open), "<%s>", think);
    snprintf(f.think_close, sizeof(f.think_close), "</%s>", think);
    snprintf(f.answer_open, sizeof(f.answer_open), "<%s>", answer);
    snprintf(f.answer_close, sizeof(f.answer_close), "</%s>", answer);
    Format *s = xmalloc(sizeof(*s));
    *s = f;
    *state = s;
    return 0;
}

/* Consumes literal lit at *p; 1 if it was there. */
static int eat(const char **p, const char *lit) {
    size_t n = strlen(lit);
    if (strncmp(*p, lit, n)) return 0;
    *p += n;
    return 1;
}

static void eat_space(const char **p) {
    while (isspace((unsigned char)**p)) (*p)++;
}

/* The text between *p and the next `close`, required non-empty (after
 * trimming); advances *p past close. With nl, the body must end in "\n". */
static int body(const char **p, const char *close, int nl) {
    const char *c = strstr(*p, close);
    if (!c) return 0;
    const char *b = *p, *e = c;
    if (nl) {
        if (e == b || e[-1] != '\n') return 0;
        e--;
    }
    rtext_trim(&b, &e);
    if (b == e) return 0;
    *p = c + strlen(close);
    return 1;
}

static int check_strict(const Format *f, const char *s) {
    const char *p = s;
    if (!eat(&p, f->think_open) || !eat(&p, "\n") || !body(&p, f->think_close, 1)) return 0;
    if (!eat(&p, "\n") || !eat(&p, f->answer_open) || !eat(&p, "\n") || !body(&p, f->answer_close, 1)) return 0;
    eat_space(&p);
    return *p == '\0';
}

static int check_lenient(const Format *f, const char *s) {
    const char *p = s;
    eat_space(&p);
    if (!eat(&p, f->think_open) || !body(&p, f->think_close, 0)) return 0;
    eat_space(&p);
    if (!eat(&p, f->answer_open) || !body(&p, f->answer_close, 0)) return 0;
    eat_space(&p);
    return *p == '\0';
}

static int ends_with_open(const char *prompt, const char *tag) {
    if (!prompt) return 0;
    const char *e = prompt + strlen(prompt);
    while (e > prompt && isspace((unsigned char)e[-1])) e--;
    size_t n = strlen(tag);
    return (size_t)(e - prompt) >= n && !strncmp(e - n, tag, n);
}

static int format_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    const Format *f = state;
    for (size_t i = 0; i < n; i++) {
        const char *c = in[i].completion;
        char *joined = NULL;
        if (f->open_from_prompt && ends_with_open(in[i].prompt, f->think_open)) {
            const char *q = c;
            eat_space(&q);
            if (strncmp(q, f->think_open, strlen(f->think_open))) {
                size_t a = strlen(f->think_open), b = strlen(c);
                joined = xmalloc(a + b + 2);
                /* the template's "<think>" is followed by the model's first newline, if any */
                snprintf(joined, a + b + 2, "%s%s", f->think_open, c);
                c = joined;
            }
        }
        const char *tags[4] = {f->think_open, f->think_close, f->answer_open, f->answer_close};
        int once = 0;
        for (int k = 0; k < 4; k++) once += rtext_count(c, tags[k]) == 1;
        out[i].has_score = 1;
        out[i].diag = cJSON_CreateObject();
        cJSON_AddNumberToObject(out[i].diag, "tags_once", once);
        if (f->mode == MODE_TAG_COUNT) {
            out[i].score = f->score * 0.25 * once;
        } else {
            int ok = once == 4 && (f->mode == MODE_STRICT ? check_strict(f, c) : check_lenient(f, c));
            out[i].score = ok ? f->score : 0.0;
            /* tags: a tag is missing or repeated; layout: the tags are there once but out of shape */
            cJSON_AddStringToObject(out[i].diag, "verdict", ok ? "match" : once < 4 ? "tags" : "layout");
        }
        free(joined);
    }
    return 0;
}

const RewardKind reward_kind_format = {
    .name = "format",
    .pure = 1,
    .create = format_create,
    .score = format_score,
    .destroy = free,
};
