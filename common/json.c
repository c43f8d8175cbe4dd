/*
 * json.c: JSON reading with located errors and key checking (see json.h).
 */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* 1-based line and column of byte off in text. */
static void line_col(const char *text, size_t off, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/* The text at off up to the end of its line, at most 23 bytes. */
static void near_text(const char *text, size_t len, size_t off, char near[24]) {
    size_t k = 0;
    for (size_t i = off; i < len && k < 23 && text[i] != '\n' && text[i] != '\0'; i++) near[k++] = text[i];
    near[k] = '\0';
}

cJSON *json_parse_named(const char *text, size_t len, const char *what) {
    int line, col;
    char near[24];
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        /* cJSON would stop at it and silently cut a string short. */
        line_col(text, (size_t)(nul - text), &line, &col);
        err_set("%s: a NUL byte at line %d, column %d; JSON text cannot hold one (write \\u0000 inside a string)",
                what, line, col);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root) {
        size_t off = (size_t)(end - text);
        while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' || text[off] == '\r')) off++;
        if (off == len) return root;
        cJSON_Delete(root);
        line_col(text, off, &line, &col);
        near_text(text, len, off, near);
        err_set("%s: unexpected text after the JSON value at line %d, column %d (near \"%s\"); a JSON file or "
                "JSONL line holds exactly one value",
                what, line, col, near);
        return NULL;
    }
    size_t off = end ? (size_t)(end - text) : 0;
    if (off > len) off = len;
    line_col(text, off, &line, &col);
    near_text(text, len, off, near);
    err_set("%s: invalid JSON at line %d, column %d (near \"%s\"); check for a missing comma, quote or brace", what,
            line, col, near);
    return NULL;
}

cJSON *json_read_file(const char *path) {
    size_t len = 0;
    char *text = file_read_all(path, &len);
    if (!text) return NULL;
    cJSON *root = json_parse_named(text, len, path);
    free(text);
    return root;
}

char *json_print_text(const cJSON *j) {
    char *s = cJSON_Print(j);
    size_t n = strlen(s);
    char *out = xmalloc(n + 2);
    memcpy(out, s, n);
    out[n] = '\n';
    out[n + 1] = '\0';
    cJSON_free(s);
    return out;
}

size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = xmalloc((lb + 1) * sizeof(size_t));
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

const char *nearest_word(const char *word, const char *const *choices, size_t n) {
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, choices[i]);
        if (d < best_d) {
            best_d = d;
            best = choices[i];
        }
    }
    size_t len = strlen(word);
    size_t limit = len <= 4 ? 1 : (len <= 8 ? 2 : 3);
    return best_d <= limit ? best : NULL;
}

void join_words(char *buf, size_t cap, const char *const *words, size_t n) {
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && off + 1 < cap; i++) {
        int w = snprintf(buf + off, cap - off, "%s%s", i ? ", " : "", words[i]);
        if (w < 0) break;
        off += (size_t)w;
    }
}

void did_you_mean(char *buf, size_t cap, const char *word, const char *const *choices, size_t n) {
    const char *near = nearest_word(word, choices, n);
    if (near)
        snprintf(buf, cap, "did you mean '%s'? ", near);
    else
        buf[0] = '\0';
}

int json_check_keys(const cJSON *obj, const char *path, const char *const *allowed, size_t n_allowed) {
    if (!cJSON_IsObject(obj)) return ERR("%s: expected a JSON object", path[0] ? path : "(root)");
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (size_t i = 0; i < n_allowed && !ok; i++) ok = strcmp(it->string, allowed[i]) == 0;
        if (ok) continue;
        char list[1024], hint[256];
        join_words(list, sizeof(list), allowed, n_allowed);
        did_you_mean(hint, sizeof(hint), it->string, allowed, n_allowed);
        return ERR("%s%s%s: unknown key; %svalid keys: %s", path, path[0] ? "." : "", it->string, hint, list);
    }
    return 0;
}

static const char *sep(const char *path) { return path[0] ? "." : ""; }

/* ---- the defaults recorder (json_record_defaults) ---- */

static _Thread_local const cJSON *rec_obj;
static _Thread_local cJSON *rec_into;

void json_record_defaults(const cJSON *obj, cJSON *into) {
    rec_obj = into ? obj : NULL;
    rec_into = obj ? into : NULL;
}

static int recording(const cJSON *obj, const char *key) {
    return rec_into && obj == rec_obj && !cJSON_GetObjectItemCaseSensitive(rec_into, key);
}

/* Only reads *out while recording: other callers may leave it unset. */
static void record_number(double v, const char *key) {
    if (isfinite(v)) cJSON_AddNumberToObject(rec_into, key, v);
}

int json_get_double(const cJSON *obj, const char *path, const char *key, double lo, double hi, double *out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        if (recording(obj, key)) record_number(*out, key);
        return 0;
    }
    if (!cJSON_IsNumber(it)) return ERR("%s%s%s: expected a number", path, sep(path), key);
    double v = it->valuedouble;
    if (!(v >= lo && v <= hi)) return ERR("%s%s%s: %g is out of range [%g, %g]", path, sep(path), key, v, lo, hi);
    *out = v;
    return 0;
}

int json_get_int(const cJSON *obj, const char *path, const char *key, long lo, long hi, long *out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        if (recording(obj, key)) record_number((double)*out, key);
        return 0;
    }
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble))
        return ERR("%s%s%s: expected an integer", path, sep(path), key);
    double v = it->valuedouble;
    if (!(v >= (double)lo && v <= (double)hi))
        return ERR("%s%s%s: %g is out of range [%ld, %ld]", path, sep(path), key, v, lo, hi);
    *out = (long)v;
    return 0;
}

int json_get_bool(const cJSON *obj, const char *path, const char *key, int *out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        if (recording(obj, key)) cJSON_AddBoolToObject(rec_into, key, *out);
        return 0;
    }
    if (!cJSON_IsBool(it)) return ERR("%s%s%s: expected true or false", path, sep(path), key);
    *out = cJSON_IsTrue(it);
    return 0;
}

int json_get_string(const cJSON *obj, const char *path, const char *key, const char **out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        if (recording(obj, key) && *out) cJSON_AddStringToObject(rec_into, key, *out);
        return 0;
    }
    if (!cJSON_IsString(it)) return ERR("%s%s%s: expected a string", path, sep(path), key);
    *out = it->valuestring;
    return 0;
}

int json_set_path(cJSON *root, const char *path, cJSON *val) {
    cJSON *cur = root;
    for (const char *p = path;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char *key = xmalloc(len + 1);
        memcpy(key, p, len);
        key[len] = '\0';
        if (!dot) {
            cJSON_DeleteItemFromObjectCaseSensitive(cur, key);
            cJSON_AddItemToObject(cur, key, val);
            free(key);
            return 0;
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(cur, key);
        if (!child) child = cJSON_AddObjectToObject(cur, key);
        free(key);
        if (!cJSON_IsObject(child)) {
            cJSON_Delete(val);
            return -1;
        }
        cur = child;
        p = dot + 1;
    }
}
