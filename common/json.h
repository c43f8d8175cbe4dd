/*
 * json.h: reading JSON files and JSONL lines with cJSON, with errors that name
 * the file, line and key; checking objects for unknown keys with a "did you
 * mean" suggestion. Not for: the typed job config (see config.h).
 */
#ifndef GRPO_JSON_H
#define GRPO_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Parses a whole JSON file. On a syntax error the message names the file,
 * line and column. Caller frees with cJSON_Delete. */
cJSON *json_read_file(const char *path);

/* Parses text that came from `what` (a file name, "line 12 of x.jsonl", ...)
 * and reports a syntax error with line/column relative to the text. The
 * text must be exactly one JSON value: anything but whitespace after it,
 * and a NUL byte anywhere (cJSON would cut a string short there), are
 * errors too. */
cJSON *json_parse_named(const char *text, size_t len, const char *what);

/* Pretty-printed JSON text ending in a newline, as files are written
 * (caller frees with free()). */
char *json_print_text(const cJSON *j);

/* Levenshtein distance (for suggestions). */
size_t edit_distance(const char *a, const char *b);

/* The entry of `choices` (n of them) closest to `word`, or NULL if none is
 * close enough to be a plausible typo. */
const char *nearest_word(const char *word, const char *const *choices, size_t n);

/* Joins n words with ", " into buf (cap bytes, always NUL-terminated; a
 * list too long for buf is cut). */
void join_words(char *buf, size_t cap, const char *const *words, size_t n);

/* "did you mean 'x'? " for the entry of choices nearest to word
 * (nearest_word), or "" when none is close; written to buf (cap bytes). */
void did_you_mean(char *buf, size_t cap, const char *word, const char *const *choices, size_t n);

/* Fails with "PATH.key: unknown key; did you mean 'x'? valid keys: a, b, c"
 * if obj has a key outside `allowed`. path may be "" for the root. */
int json_check_keys(const cJSON *obj, const char *path, const char *const *allowed, size_t n_allowed);

/* Sets root[path] = val for a dotted path ("a.b.c"), creating objects on
 * the way and replacing what was there; takes ownership of val (freed on
 * failure). Fails (-1, no message) when a part of the path is not an
 * object. */
int json_set_path(cJSON *root, const char *path, cJSON *val);

/* Typed getters for optional members. Each returns 0 and leaves *out
 * untouched when the key is absent, fails with a message naming
 * "path.key" and the expected type when present with the wrong type or out
 * of [lo, hi]. */
int json_get_double(const cJSON *obj, const char *path, const char *key, double lo, double hi, double *out);
int json_get_int(const cJSON *obj, const char *path, const char *key, long lo, long hi, long *out);
int json_get_bool(const cJSON *obj, const char *path, const char *key, int *out);
/* *out points into obj (do not free); valid while obj lives. */
int json_get_string(const cJSON *obj, const char *path, const char *key, const char **out);

/* Records defaults, for printing an effective config: until called again
 * with NULL, every typed getter above that finds `key` absent from obj
 * (that very object) adds key: *out, the caller's default, to `into`
 * (unless into has the key; a NULL string or non-finite number is not
 * recorded). One recorder per thread. */
void json_record_defaults(const cJSON *obj, cJSON *into);

#endif
