/*
 * dataset.c: JSONL and plain-text data loading (dataset.h).
 */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"

static int load_stream(Dataset *d) {
    size_t len = 0;
    d->buffer = file_read_all(d->path, &len);
    if (!d->buffer) return -1;
    if (len == 0) return ERR("%s: the file is empty", d->path);
    d->kind = DATA_STREAM;
    d->ex = xcalloc(1, sizeof(Example));
    d->ex[0].text = d->buffer;
    d->ex[0].text_len = len;
    d->n = 1;
    return 0;
}

static int field_string(const cJSON *obj, const char *key, const char **out, size_t *len) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return 1;
    if (!cJSON_IsString(it)) return -1;
    *out = it->valuestring;
    if (len) *len = strlen(it->valuestring);
    return 0;
}

int dataset_load(Dataset *d, const char *path, const char *format, const char *text_field) {
    memset(d, 0, sizeof(*d));
    d->path = xstrdup(path);
    int jsonl = str_ends_with(path, ".jsonl") || str_ends_with(path, ".json");
    if (!strcmp(format, "auto") && !jsonl) return load_stream(d);
    if (!jsonl) return ERR("%s: data.format '%s' needs a .jsonl file (one JSON object per line)", path, format);

    size_t len = 0;
    char *buf = file_read_all(path, &len);
    if (!buf) return -1;
    int kind = !strcmp(format, "text") ? DATA_TEXT : !strcmp(format, "prompt_completion") ? DATA_PAIRS : -1;
    size_t cap = 1024, line = 0;
    d->ex = xmalloc(cap * sizeof(Example));
    char *p = buf;
    int rc = 0;
    while (*p || p < buf + len) {
        if (p >= buf + len) break;
        char *nl = memchr(p, '\n', (size_t)(buf + len - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
        line++;
        char *start = p;
        p = nl ? nl + 1 : buf + len;
        size_t k = 0;
        while (k < ll && (start[k] == ' ' || start[k] == '\t' || start[k] == '\r')) k++;
        if (k == ll) continue;
        char what[600];
        snprintf(what, sizeof(what), "%s:%zu", path, line);
        cJSON *obj = json_parse_named(start, ll, what);
        if (!obj) {
            rc = err_prefix("malformed JSONL line (each line must be one JSON object)");
            break;
        }
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            rc = ERR("%s: expected a JSON object per line", what);
            break;
        }
        if (kind < 0) {
            if (cJSON_GetObjectItemCaseSensitive(obj, "prompt")) {
                kind = DATA_PAIRS;
            } else if (cJSON_GetObjectItemCaseSensitive(obj, text_field)) {
                kind = DATA_TEXT;
            } else {
                cJSON_Delete(obj);
                rc = ERR("%s: cannot tell the format: the line has neither \"prompt\" nor \"%s\"; set data.format "
                         "and data.text_field",
                         what, text_field);
                break;
            }
        }
        Example ex = {0};
        ex.line = line;
        ex.json = obj;
        if (kind == DATA_TEXT) {
            int r = field_string(obj, text_field, &ex.text, &ex.text_len);
            if (r) {
                cJSON_Delete(obj);
                rc = ERR("%s: %s \"%s\" (a string); data.text_field names the field", what,
                         r > 0 ? "missing field" : "expected", text_field);
                break;
            }
        } else {
            int r = field_string(obj, "prompt", &ex.prompt, NULL);
            if (r) {
                cJSON_Delete(obj);
                rc = ERR("%s: %s \"prompt\" (a string)", what, r > 0 ? "missing field" : "expected");
                break;
            }
            r = field_string(obj, "completion", &ex.completion, NULL);
            if (r < 0) {
                cJSON_Delete(obj);
                rc = ERR("%s: \"completion\" must be a string", what);
                break;
            }
        }
        if (d->n == cap) {
            cap *= 2;
            d->ex = xrealloc(d->ex, cap * sizeof(Example));
        }
        d->ex[d->n++] = ex;
    }
    free(buf);
    if (rc) return rc;
    if (d->n == 0) return ERR("%s: no examples (the file has no non-empty lines)", path);
    d->kind = (DataKind)kind;
    return 0;
}

void dataset_free(Dataset *d) {
    for (size_t i = 0; i < d->n; i++) cJSON_Delete(d->ex[i].json);
    free(d->ex);
    free(d->buffer);
    free(d->path);
    memset(d, 0, sizeof(*d));
}

/* The first of names present in obj, or NULL. */
static const char *first_present(const cJSON *obj, const char *const *names, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (cJSON_GetObjectItemCaseSensitive(obj, names[i])) return names[i];
    return NULL;
}

/* Sets obj's "answer" from field `from` (GSM8K's "#### 72" cut out). */
static int normalise_answer(cJSON *obj, const char *from, const char *what) {
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(obj, from);
    if (!src) return 0; /* no gold: rewards that need one give no score */
    if (cJSON_IsNumber(src) && strcmp(from, "answer") != 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "answer");
        cJSON_AddItemToObject(obj, "answer", cJSON_Duplicate(src, 1));
        return 0;
    }
    if (!cJSON_IsString(src)) return cJSON_IsNumber(src) ? 0 : ERR("%s: \"%s\" must be a string or a number", what, from);
    const char *text = src->valuestring, *mark = NULL;
    for (const char *p = strstr(text, "####"); p; p = strstr(p + 4, "####")) mark = p;
    if (!mark && !strcmp(from, "answer")) return 0;
    char *gold;
    if (mark) {
        const char *a = mark + 4;
        while (*a == ' ' || *a == '\t' || *a == '\n') a++;
        size_t n = strlen(a);
        while (n && (a[n - 1] == ' ' || a[n - 1] == '\n' || a[n - 1] == '\r' || a[n - 1] == '\t')) n--;
        gold = xmalloc(n + 1);
        memcpy(gold, a, n);
        gold[n] = '\0';
        if (!cJSON_GetObjectItemCaseSensitive(obj, "solution"))
            cJSON_AddItemToObject(obj, "solution", cJSON_CreateString(text));
    } else {
        gold = xstrdup(text);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "answer");
    cJSON_AddItemToObject(obj, "answer", cJSON_CreateString(gold));
    free(gold);
    return 0;
}

int dataset_load_prompts(Dataset *d, const char *path, const char *prompt_field, const char *answer_field) {
    memset(d, 0, sizeof(*d));
    d->path = xstrdup(path);
    size_t len = 0;
    char *buf = file_read_all(path, &len);
    if (!buf) return -1;
    static const char *const prompt_names[] = {"prompt", "question", "problem"};
    static const char *const answer_names[] = {"answer", "solution"};
    const char *pf = strcmp(prompt_field, "auto") ? prompt_field : NULL;
    const char *af = strcmp(answer_field, "auto") ? answer_field : NULL;
    size_t cap = 1024, line = 0;
    d->ex = xmalloc(cap * sizeof(Example));
    d->kind = DATA_PAIRS;
    int rc = 0;
    for (char *p = buf; p < buf + len && rc == 0;) {
        char *nl = memchr(p, '\n', (size_t)(buf + len - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
        char *start = p;
        p = nl ? nl + 1 : buf + len;
        line++;
        size_t k = 0;
        while (k < ll && (start[k] == ' ' || start[k] == '\t' || start[k] == '\r')) k++;
        if (k == ll) continue;
        char what[600];
        snprintf(what, sizeof(what), "%s:%zu", path, line);
        cJSON *obj = json_parse_named(start, ll, what);
        if (!obj) {
            rc = err_prefix("malformed JSONL line (each line must be one JSON object)");
            break;
        }
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            rc = ERR("%s: expected a JSON object per line", what);
            break;
        }
        if (!pf && !(pf = first_present(obj, prompt_names, 3))) {
            cJSON_Delete(obj);
            rc = ERR("%s: no prompt field (looked for prompt, question, problem); set data.prompt_field", what);
            break;
        }
        if (!af) af = first_present(obj, answer_names, 2);
        Example ex = {.line = line, .json = obj};
        int r = field_string(obj, pf, &ex.prompt, NULL);
        if (r == 0 && af && strcmp(af, pf) != 0) r = normalise_answer(obj, af, what) ? -2 : 0;
        if (r) {
            if (r != -2) ERR("%s: %s \"%s\" (a string; data.prompt_field names it)", what,
                             r > 0 ? "missing field" : "expected", pf);
            cJSON_Delete(obj);
            rc = -1;
            break;
        }
        if (d->n == cap) d->ex = xrealloc(d->ex, (cap *= 2) * sizeof(Example));
        d->ex[d->n++] = ex;
    }
    free(buf);
    if (rc == 0 && d->n == 0) rc = ERR("%s: no prompts (the file has no non-empty lines)", path);
    return rc;
}
