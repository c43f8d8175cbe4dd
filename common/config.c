/*
 * config.c: the schema-driven JSON config binder (config.h).
 * Not for: the keys themselves (trainer/jobconfig.c).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "strbuf.h"

/* ---- paths ---- */

static char *path_cat(const char *prefix, const char *key) {
    StrBuf b = {0};
    if (prefix[0]) {
        strbuf_cat(&b, prefix);
        strbuf_cat(&b, ".");
    }
    strbuf_cat(&b, key);
    return b.p ? b.p : xstrdup("");
}

static int uses(const CfgField *f, unsigned user) { return f->users == 0 || (f->users & user) != 0; }
static unsigned accepted(const CfgSchema *s, unsigned user);

static const CfgField *find_field(const CfgSchema *s, const char *path) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->fields[i].path, path)) return &s->fields[i];
    return NULL;
}

/* Does `path` name a section (a proper prefix of some field's path)? With
 * user != 0, only sections holding a field that user reads count. */
static int is_section(const CfgSchema *s, const char *path, unsigned user) {
    size_t pl = strlen(path);
    for (size_t i = 0; i < s->n; i++)
        if (!strncmp(s->fields[i].path, path, pl) && s->fields[i].path[pl] == '.' &&
            (!user || uses(&s->fields[i], user)))
            return 1;
    return 0;
}

/* The component of field path p right under `prefix` ("" = root), or NULL
 * if p is not under it. *len gets its length. */
static const char *component_under(const char *p, const char *prefix, size_t *len) {
    size_t pl = strlen(prefix);
    if (pl) {
        if (strncmp(p, prefix, pl) != 0 || p[pl] != '.') return NULL;
        p += pl + 1;
    }
    const char *dot = strchr(p, '.');
    *len = dot ? (size_t)(dot - p) : strlen(p);
    return p;
}

/* The distinct names user may write directly under `prefix`, as an array
 * of copies (names_free). */
static size_t names_under(const CfgSchema *s, const char *prefix, unsigned user, char ***out) {
    char **names = xmalloc((s->n + 1) * sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t len;
        const char *nx = component_under(s->fields[i].path, prefix, &len);
        if (!nx || !uses(&s->fields[i], user)) continue;
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

/* "grpo train and grpo eval": the users (other than `user`) that read the
 * key or section at path. */
static void readers_of(const CfgSchema *s, const char *path, int section, char *buf, size_t cap) {
    unsigned mask = 0;
    size_t pl = strlen(path);
    for (size_t i = 0; i < s->n; i++) {
        const CfgField *f = &s->fields[i];
        int match = section ? !strncmp(f->path, path, pl) && f->path[pl] == '.' : !strcmp(f->path, path);
        if (match) mask |= f->users ? f->users : ~0u;
    }
    const char *names[32];
    size_t k = 0;
    for (size_t b = 0; b < s->n_users && b < 32; b++)
        if (mask & (1u << b)) names[k++] = s->users[b];
    join_words(buf, cap, names, k);
}

static const char *user_name(const CfgSchema *s, unsigned user) {
    for (size_t b = 0; b < s->n_users; b++)
        if (user == (1u << b)) return s->users[b];
    return "this command";
}

static int unknown_key(const char *origin, const CfgSchema *s, unsigned user, const char *prefix, const char *key) {
    char *full = path_cat(prefix, key);
    int known = find_field(s, full) || is_section(s, full, 0);
    if (known) {
        /* A real key, but not one this command reads: say who reads it. */
        char who[256];
        int section = !find_field(s, full);
        readers_of(s, full, section, who, sizeof(who));
        err_set("%s: %s: %s does not use this %s (it is read by %s); remove it, or run the command it is for",
                origin, full, user_name(s, user), section ? "section" : "key", who);
        free(full);
        return -1;
    }
    free(full);
    char **names;
    size_t k = names_under(s, prefix, user, &names);
    char list[1024], hint[256];
    join_words(list, sizeof(list), (const char *const *)names, k);
    did_you_mean(hint, sizeof(hint), key, (const char *const *)names, k);
    err_set("%s: %s%s%s: unknown key; %svalid keys here: %s", origin, prefix, prefix[0] ? "." : "", key, hint, list);
    names_free(names, k);
    return -1;
}

/* Rejects, recursively, keys that are neither fields nor sections this
 * user reads, dotted keys, and keys given twice in one object. */
static int walk(const char *origin, const cJSON *obj, const CfgSchema *s, unsigned user, const char *prefix) {
    for (const cJSON *it = obj->child; it; it = it->next) {
        const char *key = it->string;
        char *full = path_cat(prefix, key);
        int rc = 0;
        if (strchr(key, '.')) {
            rc = ERR("%s: \"%s\": a key with a dot; nest it as an object instead (dotted paths are for --set)",
                     origin, full);
        } else {
            for (const cJSON *o = obj->child; o != it && rc == 0; o = o->next)
                if (!strcmp(o->string, key))
                    rc = ERR("%s: %s: the key is given twice; keep one", origin, full);
        }
        if (rc == 0) {
            const CfgField *f = find_field(s, full);
            if (f && uses(f, user)) {
                /* a field: bound later */
            } else if (!f && is_section(s, full, user)) {
                if (!cJSON_IsObject(it)) rc = ERR("%s: %s: expected an object (a section of the config)", origin, full);
                else rc = walk(origin, it, s, user, full);
            } else {
                rc = unknown_key(origin, s, user, prefix, key);
            }
        }
        free(full);
        if (rc) return -1;
    }
    return 0;
}

static int prune(cJSON *obj, const CfgSchema *s, unsigned accept, const char *origin, const char *prefix) {
    cJSON *it = obj->child;
    while (it) {
        cJSON *next = it->next;
        char *full = path_cat(prefix, it->string);
        const CfgField *f = find_field(s, full);
        int rc = 0, drop = 0;
        if (f) {
            drop = !uses(f, accept);
        } else if (is_section(s, full, 0)) {
            if (!is_section(s, full, accept)) drop = 1;
            else if (cJSON_IsObject(it)) rc = prune(it, s, accept, origin, full);
        } else {
            rc = unknown_key(origin, s, ~0u, prefix, it->string);
        }
        free(full);
        if (rc) return -1;
        if (drop) cJSON_Delete(cJSON_DetachItemViaPointer(obj, it));
        it = next;
    }
    return 0;
}

int config_prune(cJSON *root, const CfgSchema *schema, unsigned user, const char *origin) {
    if (!cJSON_IsObject(root)) return ERR("%s: expected a JSON object", origin);
    return prune(root, schema, accepted(schema, user), origin, "");
}

/* The item at a dotted path, or NULL. */
static cJSON *get_path(cJSON *root, const char *path) {
    cJSON *cur = root;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!cJSON_IsObject(cur)) return NULL;
        cJSON *next = NULL;
        for (cJSON *it = cur->child; it; it = it->next)
            if (strlen(it->string) == len && !strncmp(it->string, p, len)) {
                next = it;
                break;
            }
        cur = next;
        p += len + (dot ? 1 : 0);
    }
    return cur;
}

/* The CF_JSON field whose value holds `path` (path = field "." more), or
 * NULL. Its owner validates what is inside (e.g. the generator's keys). */
static const CfgField *json_field_holding(const CfgSchema *s, const char *path) {
    for (size_t i = 0; i < s->n; i++) {
        size_t n = strlen(s->fields[i].path);
        if (s->fields[i].type == CF_JSON && !strncmp(s->fields[i].path, path, n) && path[n] == '.' && path[n + 1])
            return &s->fields[i];
    }
    return NULL;
}

static int apply_set(cJSON *root, const CfgSchema *s, unsigned user, const char *set) {
    const char *eq = strchr(set, '=');
    if (!eq || eq == set) return ERR("--set '%s': expected key.path=value", set);
    size_t pl = (size_t)(eq - set);
    char *path = xmalloc(pl + 1);
    memcpy(path, set, pl);
    path[pl] = '\0';
    const CfgField *f = find_field(s, path);
    if (!f) f = json_field_holding(s, path); /* data.generator.slip_rate: inside a JSON value */
    int rc = 0;
    if (!f) {
        const char **all = xmalloc(s->n * sizeof(char *));
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++)
            if (uses(&s->fields[i], user)) all[k++] = s->fields[i].path;
        const char *near = nearest_word(path, all, k);
        free(all);
        rc = near ? ERR("--set %s: unknown key; did you mean '%s'?", path, near)
                  : ERR("--set %s: unknown key (docs/config.md lists every key)", path);
    } else if (!uses(f, user)) {
        char who[256];
        readers_of(s, path, 0, who, sizeof(who));
        rc = ERR("--set %s: %s does not use this key (it is read by %s)", path, user_name(s, user), who);
    } else {
        const char *text = eq + 1;
        cJSON *val = cJSON_Parse(text);
        if (!val) val = cJSON_CreateString(text);
        rc = json_set_path(root, path, val) ? ERR("--set %s: a part of the path is not a section", path) : 0;
    }
    free(path);
    return rc;
}

CfgNumber config_format_number(double v) {
    CfgNumber n;
    if (v == floor(v) && fabs(v) < 1e16) {
        snprintf(n.s, sizeof(n.s), "%.0f", v);
        return n;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(n.s, sizeof(n.s), "%.*g", prec, v);
        if (strtod(n.s, NULL) == v) break;
    }
    return n;
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
    char *copy = xstrdup(f->choices);
    size_t cap = 1;
    for (const char *c = f->choices; *c; c++) cap += *c == '|';
    const char **opts = xmalloc(cap * sizeof(char *));
    size_t k = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, "|", &save); t; t = strtok_r(NULL, "|", &save)) opts[k++] = t;
    char list[1024], hint[256];
    join_words(list, sizeof(list), opts, k);
    did_you_mean(hint, sizeof(hint), v, opts, k);
    int rc = ERR("%s: %s: '%s' is not valid; %schoices: %s", origin, f->path, v, hint, list);
    free(opts);
    free(copy);
    return rc;
}

/* The default that applies to user (def_alt for alt_users). */
static const char *default_for(const CfgField *f, unsigned user) {
    return f->def_alt && (f->alt_users & user) ? f->def_alt : f->def;
}

static int bind(void *out, const CfgField *f, const cJSON *v, const char *origin, unsigned user) {
    char *base = (char *)out + f->offset;
    const char *def = default_for(f, user);
    int nullable = def && !strcmp(def, "null");
    switch (f->type) {
    case CF_INT: {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 9e15)
            return ERR("%s: %s: expected an integer (%s)", origin, f->path, f->help);
        double d = v->valuedouble;
        if (d < f->min || d > f->max)
            return ERR("%s: %s: %.0f is out of range [%s, %s] (%s)", origin, f->path, d,
                       config_format_number(f->min).s, config_format_number(f->max).s, f->help);
        *(long *)base = (long)d;
        return 0;
    }
    case CF_DOUBLE: {
        if (nullable && cJSON_IsNull(v)) {
            *(double *)base = NAN;
            return 0;
        }
        if (!cJSON_IsNumber(v))
            return ERR("%s: %s: expected a number%s (%s)", origin, f->path, nullable ? " or null" : "", f->help);
        double d = v->valuedouble;
        if (!(d >= f->min && d <= f->max))
            return ERR("%s: %s: %s is out of range [%s, %s] (%s)", origin, f->path, config_format_number(d).s,
                       config_format_number(f->min).s, config_format_number(f->max).s, f->help);
        *(double *)base = d;
        return 0;
    }
    case CF_BOOL:
        if (!cJSON_IsBool(v)) return ERR("%s: %s: expected true or false (%s)", origin, f->path, f->help);
        *(int *)base = cJSON_IsTrue(v);
        return 0;
    case CF_STRING:
        if (cJSON_IsNull(v) && nullable) {
            *(char **)base = NULL;
            return 0;
        }
        if (!cJSON_IsString(v))
            return ERR("%s: %s: expected a string%s (%s)", origin, f->path, nullable ? " or null" : "", f->help);
        *(char **)base = xstrdup(v->valuestring);
        return 0;
    case CF_ENUM:
        if (!cJSON_IsString(v)) return ERR("%s: %s: expected one of %s", origin, f->path, f->choices);
        if (!in_choices(v->valuestring, f->choices)) return enum_error(origin, f, v->valuestring);
        *(char **)base = xstrdup(v->valuestring);
        return 0;
    case CF_JSON:
        if (cJSON_IsNull(v) && !nullable)
            return ERR("%s: %s: null is not accepted here (%s)", origin, f->path, f->help);
        *(cJSON **)base = cJSON_IsNull(v) ? NULL : cJSON_Duplicate(v, 1);
        return 0;
    }
    return ERR("%s: %s: bad schema type", origin, f->path);
}

/* Where field f's value came from, for messages: the last --set of its
 * path, else the file. Caller frees. */
static char *source_of(const CfgField *f, const char *origin, const char *const *sets, size_t n_sets) {
    size_t pl = strlen(f->path);
    for (size_t k = n_sets; k-- > 0;)
        if (!strncmp(sets[k], f->path, pl) && sets[k][pl] == '=') {
            StrBuf b = {0};
            strbuf_cat(&b, "--set ");
            strbuf_cat(&b, sets[k]);
            return b.p;
        }
    return xstrdup(origin);
}

/* The users whose keys `user` accepts (itself and its also_accepts). */
static unsigned accepted(const CfgSchema *s, unsigned user) {
    unsigned mask = user;
    for (size_t b = 0; s->also_accepts && b < s->n_users; b++)
        if (user == (1u << b)) mask |= s->also_accepts[b];
    return mask;
}

int config_load(void *out, const CfgSchema *schema, unsigned user, const char *path, const char *text,
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
    const unsigned accept = accepted(schema, user);
    int rc = walk(origin, root, schema, accept, "");
    for (size_t i = 0; rc == 0 && i < n_sets; i++) rc = apply_set(root, schema, accept, sets[i]);
    for (size_t i = 0; rc == 0 && i < schema->n; i++) {
        const CfgField *f = &schema->fields[i];
        if (!uses(f, user)) continue;
        cJSON *v = get_path(root, f->path);
        cJSON *defv = NULL;
        char *src = NULL;
        if (!v) {
            const char *def = default_for(f, user);
            if (!def) {
                rc = ERR("%s: %s: required key is missing (%s)", origin, f->path, f->help);
                break;
            }
            defv = cJSON_Parse(def);
            if (!defv) FATAL("schema default for %s is not JSON: %s", f->path, def);
            v = defv;
            src = xstrdup("default");
        } else {
            src = source_of(f, origin, sets, n_sets);
        }
        rc = bind(out, f, v, src, user);
        free(src);
        cJSON_Delete(defv);
    }
    cJSON_Delete(root);
    return rc;
}

cJSON *config_to_json(const void *in, const CfgSchema *schema, unsigned user) {
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; i < schema->n; i++) {
        const CfgField *f = &schema->fields[i];
        if (!uses(f, user)) continue;
        const char *base = (const char *)in + f->offset;
        cJSON *v = NULL;
        switch (f->type) {
        case CF_INT: v = cJSON_CreateNumber((double)*(const long *)base); break;
        case CF_DOUBLE: {
            double d = *(const double *)base;
            v = isnan(d) ? cJSON_CreateNull() : cJSON_CreateNumber(d);
            break;
        }
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
        json_set_path(root, f->path, v);
    }
    return root;
}

void config_free(void *out, const CfgSchema *schema) {
    for (size_t i = 0; i < schema->n; i++) {
        char *base = (char *)out + schema->fields[i].offset;
        if (schema->fields[i].type == CF_STRING || schema->fields[i].type == CF_ENUM) {
            free(*(char **)base);
            *(char **)base = NULL;
        } else if (schema->fields[i].type == CF_JSON) {
            cJSON_Delete(*(cJSON **)base);
            *(cJSON **)base = NULL;
        }
    }
}

/* Appends text to b with every '|' written as ", " (Markdown tables). */
static void cat_md(StrBuf *b, const char *text) {
    for (const char *c = text; *c; c++) {
        if (*c == '|') strbuf_cat(b, ", ");
        else strbuf_add(b, c, 1);
    }
}

void config_write_reference(FILE *f, const CfgSchema *schema) {
    fprintf(f, "| key | type | default | accepted | used by | meaning |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < schema->n; i++) {
        const CfgField *s = &schema->fields[i];
        StrBuf acc = {0}, who = {0}, def = {0};
        if (s->type == CF_INT || s->type == CF_DOUBLE) {
            strbuf_cat(&acc, config_format_number(s->min).s);
            strbuf_cat(&acc, " to ");
            strbuf_cat(&acc, config_format_number(s->max).s);
        }
        if (s->type == CF_ENUM) cat_md(&acc, s->choices);
        for (size_t b = 0; b < schema->n_users; b++)
            if (!s->users || (s->users & (1u << b))) {
                if (who.n) strbuf_cat(&who, ", ");
                strbuf_cat(&who, schema->users[b]);
            }
        strbuf_cat(&def, s->def ? s->def : "(required)");
        if (s->def_alt) {
            strbuf_cat(&def, " (");
            for (size_t b = 0; b < schema->n_users; b++)
                if (s->alt_users & (1u << b)) {
                    strbuf_cat(&def, schema->users[b]);
                    strbuf_cat(&def, ": ");
                }
            strbuf_cat(&def, s->def_alt);
            strbuf_cat(&def, ")");
        }
        fprintf(f, "| `%s` | %s | %s | %s | %s | %s |\n", s->path, type_name(s->type), def.p, acc.p ? acc.p : "",
                who.p ? who.p : "", s->help);
        free(acc.p);
        free(who.p);
        free(def.p);
    }
}
