/*
 * config.c: the schema-driven JSON config binder (config.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"

/* ---- paths ---- */

/* Does field path `p` lie under section `prefix` ("" = root)? On success
 * *next receives the next component (its length in *len). */
static int under(const char *p, const char *prefix, const char **next, size_t *len) {
    size_t pl = strlen(prefix);
    if (pl) {
        if (strncmp(p, prefix, pl) != 0 || p[pl] != '.') return 0;
        p += pl + 1;
    }
    const char *dot = strchr(p, '.');
    *next = p;
    *len = dot ? (size_t)(dot - p) : strlen(p);
    return 1;
}

static const CfgField *find_field(const CfgField *s, size_t n, const char *path) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s[i].path, path)) return &s[i];
    return NULL;
}

/* Distinct names valid directly under `prefix` (caller frees the array, not
 * the strings it points into... they are copies; freed by names_free). */
static size_t names_under(const CfgField *s, size_t n, const char *prefix, char ***out) {
    char **names = xmalloc((n + 1) * sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *nx;
        size_t len;
        if (!under(s[i].path, prefix, &nx, &len)) continue;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++) dup = strlen(names[j]) == len && !strncmp(names[j], nx, len);
        if (dup) continue;
        names[k] = xmalloc(len + 1);
        memcpy(names[k], nx, len);
        names[k][len] = '\0';
        k++;
    }
    *out = names;
    return k;
}

static void names_free(char **names, size_t k) {
    for (size_t i = 0; i < k; i++) free(names[i]);
    free(names);
}

static int is_section(const CfgField *s, size_t n, const char *path) {
    size_t pl = strlen(path);
    for (size_t i = 0; i < n; i++)
        if (!strncmp(s[i].path, path, pl) && s[i].path[pl] == '.') return 1;
    return 0;
}

static int unknown_key(const char *origin, const CfgField *s, size_t n, const char *prefix, const char *key) {
    char **names;
    size_t k = names_under(s, n, prefix, &names);
    char list[1024], hint[256];
    join_words(list, sizeof(list), (const char *const *)names, k);
    did_you_mean(hint, sizeof(hint), key, (const char *const *)names, k);
    err_set("%s: %s%s%s: unknown key; %svalid keys here: %s", origin, prefix, prefix[0] ? "." : "", key, hint, list);
    names_free(names, k);
    return -1;
}

/* Rejects keys that are neither fields nor sections, recursively. */
static int walk(const char *origin, const cJSON *obj, const CfgField *s, size_t n, const char *prefix) {
    for (const cJSON *it = obj->child; it; it = it->next) {
        char full[512];
        snprintf(full, sizeof(full), "%s%s%s", prefix, prefix[0] ? "." : "", it->string);
        if (find_field(s, n, full)) continue;
        if (is_section(s, n, full)) {
            if (!cJSON_IsObject(it)) return ERR("%s: %s: expected an object (a section of the config)", origin, full);
            if (walk(origin, it, s, n, full)) return -1;
            continue;
        }
        return unknown_key(origin, s, n, prefix, it->string);
    }
    return 0;
}

/* The item at a dotted path, or NULL. */
static cJSON *get_path(cJSON *root, const char *path) {
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", path);
    cJSON *cur = root;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
        if (!cJSON_IsObject(cur)) return NULL;
        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    return cur;
}

/* Sets root[path] = val (taking ownership), creating sections. */
static int set_path(cJSON *root, const char *path, cJSON *val) {
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", path);
    cJSON *cur = root;
    char *save = NULL;
    char *tok = strtok_r(buf, ".", &save);
    while (tok) {
        char *nexttok = strtok_r(NULL, ".", &save);
        if (!nexttok) {
            cJSON_DeleteItemFromObjectCaseSensitive(cur, tok);
            cJSON_AddItemToObject(cur, tok, val);
            return 0;
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(cur, tok);
        if (!child) {
            child = cJSON_AddObjectToObject(cur, tok);
        } else if (!cJSON_IsObject(child)) {
            cJSON_Delete(val);
            return ERR("--set %s: '%s' is not a section", path, tok);
        }
        cur = child;
        tok = nexttok;
    }
    cJSON_Delete(val);
    return ERR("--set: empty key path");
}

static int apply_set(cJSON *root, const CfgField *s, size_t n, const char *set) {
    const char *eq = strchr(set, '=');
    if (!eq || eq == set) return ERR("--set '%s': expected key.path=value", set);
    char path[512];
    size_t pl = (size_t)(eq - set);
    if (pl >= sizeof(path)) return ERR("--set: key path too long");
    memcpy(path, set, pl);
    path[pl] = '\0';
    if (!find_field(s, n, path)) {
        const char **all = xmalloc(n * sizeof(char *));
        for (size_t i = 0; i < n; i++) all[i] = s[i].path;
        const char *near = nearest_word(path, all, n);
        free(all);
        if (near) return ERR("--set %s: unknown key; did you mean '%s'?", path, near);
        return ERR("--set %s: unknown key (see docs/config.md for every key)", path);
    }
    const char *text = eq + 1;
    cJSON *val = cJSON_Parse(text);
    if (!val) val = cJSON_CreateString(text);
    return set_path(root, path, val);
}

static const char *type_name(CfgType t) {
    switch (t) {
    case CF_INT: return "an integer";
    case CF_DOUBLE: return "a number";
    case CF_BOOL: return "true or false";
    case CF_STRING: return "a string";
    case CF_ENUM: return "a string";
    case CF_JSON: return "JSON";
    }
    return "?";
}

static int in_choices(const char *v, const char *choices) {
    size_t vl = strlen(v);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == vl && !strncmp(c, v, len)) return 1;
        if (!bar) break;
        c = bar + 1;
    }
    return 0;
}

static int enum_error(const char *origin, const CfgField *f, const char *v) {
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", f->choices);
    const char *opts[32];
    size_t k = 0;
    for (char *t = strtok(buf, "|"); t && k < 32; t = strtok(NULL, "|")) opts[k++] = t;
    char list[512], hint[256];
    join_words(list, sizeof(list), opts, k);
    did_you_mean(hint, sizeof(hint), v, opts, k);
    return ERR("%s: %s: '%s' is not valid; %schoices: %s", origin, f->path, v, hint, list);
}

static int bind(void *out, const CfgField *f, const cJSON *v, const char *origin) {
    char *base = (char *)out + f->offset;
    switch (f->type) {
    case CF_INT: {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 9e15)
            return ERR("%s: %s: expected an integer (%s)", origin, f->path, f->help);
        double d = v->valuedouble;
        if (d < f->min || d > f->max)
            return ERR("%s: %s: %.0f is out of range [%.0f, %.0f] (%s)", origin, f->path, d, f->min, f->max, f->help);
        *(long *)base = (long)d;
        return 0;
    }
    case CF_DOUBLE: {
        if (!cJSON_IsNumber(v)) return ERR("%s: %s: expected a number (%s)", origin, f->path, f->help);
        double d = v->valuedouble;
        if (!(d >= f->min && d <= f->max))
            return ERR("%s: %s: %g is out of range [%g, %g] (%s)", origin, f->path, d, f->min, f->max, f->help);
        *(double *)base = d;
        return 0;
    }
    case CF_BOOL:
        if (!cJSON_IsBool(v)) return ERR("%s: %s: expected true or false (%s)", origin, f->path, f->help);
        *(int *)base = cJSON_IsTrue(v);
        return 0;
    case CF_STRING:
        if (cJSON_IsNull(v)) {
            *(char **)base = NULL;
            return 0;
        }
        if (!cJSON_IsString(v)) return ERR("%s: %s: expected a string (%s)", origin, f->path, f->help);
        *(char **)base = xstrdup(v->valuestring);
        return 0;
    case CF_ENUM:
        if (!cJSON_IsString(v)) return ERR("%s: %s: expected one of %s", origin, f->path, f->choices);
        if (!in_choices(v->valuestring, f->choices)) return enum_error(origin, f, v->valuestring);
        *(char **)base = xstrdup(v->valuestring);
        return 0;
    case CF_JSON:
        *(cJSON **)base = cJSON_IsNull(v) ? NULL : cJSON_Duplicate(v, 1);
        return 0;
    }
    return ERR("%s: %s: bad schema type", origin, f->path);
}

int config_load(void *out, const CfgField *schema, size_t n, const char *path, const char *text,
                const char *const *sets, size_t n_sets) {
    cJSON *root = NULL;
    const char *origin = path ? path : "config";
    if (path) {
        root = json_read_file(path);
    } else if (text) {
        root = json_parse_named(text, strlen(text), origin);
    } else {
        root = cJSON_CreateObject();
    }
    if (!root) return -1;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return ERR("%s: the config must be a JSON object", origin);
    }
    int rc = walk(origin, root, schema, n, "");
    for (size_t i = 0; rc == 0 && i < n_sets; i++) rc = apply_set(root, schema, n, sets[i]);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const CfgField *f = &schema[i];
        const char *src = origin;
        char setsrc[600];
        for (size_t k = 0; k < n_sets; k++) {
            size_t pl = strlen(f->path);
            if (!strncmp(sets[k], f->path, pl) && sets[k][pl] == '=') {
                snprintf(setsrc, sizeof(setsrc), "--set %s", sets[k]);
                src = setsrc;
            }
        }
        cJSON *v = get_path(root, f->path);
        cJSON *defv = NULL;
        if (!v) {
            if (!f->def) {
                rc = ERR("%s: %s: required key is missing (%s)", origin, f->path, f->help);
                break;
            }
            defv = cJSON_Parse(f->def);
            if (!defv) FATAL("schema default for %s is not JSON: %s", f->path, f->def);
            v = defv;
            src = "default";
        }
        rc = bind(out, f, v, src);
        cJSON_Delete(defv);
    }
    cJSON_Delete(root);
    return rc;
}

cJSON *config_to_json(const void *in, const CfgField *schema, size_t n) {
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++) {
        const CfgField *f = &schema[i];
        const char *base = (const char *)in + f->offset;
        cJSON *v = NULL;
        switch (f->type) {
        case CF_INT: v = cJSON_CreateNumber((double)*(const long *)base); break;
        case CF_DOUBLE: v = cJSON_CreateNumber(*(const double *)base); break;
        case CF_BOOL: v = cJSON_CreateBool(*(const int *)base); break;
        case CF_STRING:
        case CF_ENUM: {
            const char *s = *(char *const *)base;
            v = s ? cJSON_CreateString(s) : cJSON_CreateNull();
            break;
        }
        case CF_JSON: {
            const cJSON *j = *(cJSON *const *)base;
            v = j ? cJSON_Duplicate(j, 1) : cJSON_CreateNull();
            break;
        }
        }
        set_path(root, f->path, v);
    }
    return root;
}

void config_free(void *out, const CfgField *schema, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char *base = (char *)out + schema[i].offset;
        if (schema[i].type == CF_STRING || schema[i].type == CF_ENUM) {
            free(*(char **)base);
            *(char **)base = NULL;
        } else if (schema[i].type == CF_JSON) {
            cJSON_Delete(*(cJSON **)base);
            *(cJSON **)base = NULL;
        }
    }
}

void config_write_reference(FILE *f, const CfgField *schema, size_t n) {
    fprintf(f, "| key | type | default | accepted | meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const CfgField *s = &schema[i];
        char acc[256] = "";
        if (s->type == CF_INT) snprintf(acc, sizeof(acc), "%.0f to %.0f", s->min, s->max);
        if (s->type == CF_DOUBLE) snprintf(acc, sizeof(acc), "%g to %g", s->min, s->max);
        if (s->type == CF_ENUM) snprintf(acc, sizeof(acc), "%s", s->choices);
        char acc_md[300];
        size_t k = 0;
        for (const char *c = acc; *c && k < sizeof(acc_md) - 3; c++) {
            if (*c == '|') {
                acc_md[k++] = ',';
                acc_md[k++] = ' ';
            } else {
                acc_md[k++] = *c;
            }
        }
        acc_md[k] = '\0';
        fprintf(f, "| `%s` | %s | %s | %s | %s |\n", s->path, type_name(s->type), s->def ? s->def : "(required)",
                acc_md, s->help);
    }
}
