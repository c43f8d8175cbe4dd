/*
 * modelfiles.c: the text files that travel with a model, and the
 * config.json / generation_config.json texts both model formats store
 * (modelfiles.h).
 * Not for: weights (hf.c, checkpoint.c), choosing a format (loader.c).
 */
#include "modelfiles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"

#define MAX_SIDE_FILE ((size_t)256 << 20)

const char *const model_side_files[] = {
    "generation_config.json", "tokenizer.json",      "tokenizer_config.json", "special_tokens_map.json",
    "added_tokens.json",      "vocab.json",          "merges.txt",            "chat_template.jinja",
    "chat_template.json",
};
const size_t model_n_side_files = sizeof(model_side_files) / sizeof(model_side_files[0]);

/* ---- side files ---- */

const char *model_files_get(const ModelFiles *f, const char *name, size_t *len) {
    for (size_t i = 0; f && i < f->n; i++)
        if (!strcmp(f->v[i].name, name)) {
            if (len) *len = f->v[i].len;
            return f->v[i].text;
        }
    return NULL;
}

void model_files_set(ModelFiles *f, const char *name, const char *text, size_t len) {
    char *copy = xmalloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->v[i].name, name)) {
            free(f->v[i].text);
            f->v[i].text = copy;
            f->v[i].len = len;
            return;
        }
    f->v = xrealloc(f->v, (f->n + 1) * sizeof(ModelFile));
    f->v[f->n++] = (ModelFile){xstrdup(name), copy, len};
}

void model_files_free(ModelFiles *f) {
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].text);
    }
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

int model_files_read_dir(const char *dir, ModelFiles *files) {
    for (size_t i = 0; i <= model_n_side_files; i++) {
        const char *name = i < model_n_side_files ? model_side_files[i] : "config.json";
        char *p = path_join(dir, name);
        if (!is_regular_file(p)) {
            free(p);
            continue;
        }
        size_t len = 0;
        char *text = file_read_all(p, &len);
        if (!text) {
            free(p);
            return -1;
        }
        if (len > MAX_SIDE_FILE || strlen(text) != len) {
            free(text);
            int rc = ERR("%s: %s (side files must be text under 256 MB)", p,
                         len > MAX_SIDE_FILE ? "too large" : "contains NUL bytes");
            free(p);
            return rc;
        }
        model_files_set(files, name, text, len);
        free(text);
        free(p);
    }
    return 0;
}

/* ---- config texts ---- */

static int eos_id(const cJSON *e, const ModelConfig *cfg, const char *what, int *out) {
    if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 0 ||
        e->valuedouble >= cfg->vocab_size)
        return ERR("%s: eos_token_id must be integers in [0, %d) (the vocabulary)", what, cfg->vocab_size);
    *out = (int)e->valuedouble;
    return 0;
}

int model_config_apply_generation(ModelConfig *cfg, const char *gen_json, const char *what) {
    cJSON *j = json_parse_named(gen_json, strlen(gen_json), what);
    if (!j) return -1;
    int rc = 0;
    if (!cJSON_IsObject(j)) {
        rc = ERR("%s: expected a JSON object (a generation_config.json)", what);
        goto done;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "eos_token_id");
    if (!e || cJSON_IsNull(e)) goto done;
    int ids[MODEL_MAX_EOS], n = 0;
    if (cJSON_IsArray(e)) {
        const cJSON *x;
        if (cJSON_GetArraySize(e) > MODEL_MAX_EOS) {
            rc = ERR("%s: eos_token_id lists %d ids; at most %d are supported", what, cJSON_GetArraySize(e),
                     MODEL_MAX_EOS);
            goto done;
        }
        cJSON_ArrayForEach(x, e) {
            if (eos_id(x, cfg, what, &ids[n])) {
                rc = -1;
                goto done;
            }
            n++;
        }
    } else if (eos_id(e, cfg, what, &ids[0])) {
        rc = -1;
        goto done;
    } else {
        n = 1;
    }
    if (n > 0) {
        memcpy(cfg->eos_token_ids, ids, (size_t)n * sizeof(int));
        cfg->n_eos = n;
    }
done:
    cJSON_Delete(j);
    return rc;
}

char *hf_config_text(const ModelConfig *cfg, const char *original, const char *torch_dtype) {
    cJSON *base = original ? cJSON_Parse(original) : cJSON_CreateObject();
    if (!cJSON_IsObject(base)) {
        cJSON_Delete(base);
        err_set("the original config.json is not a JSON object");
        return NULL;
    }
    cJSON *ours = model_config_to_json(cfg);
    while (ours->child) {
        cJSON *it = cJSON_DetachItemViaPointer(ours, ours->child);
        int keep_original = original && (!strcmp(it->string, "bos_token_id") || !strcmp(it->string, "eos_token_id")) &&
                            cJSON_GetObjectItemCaseSensitive(base, it->string);
        if (keep_original) {
            cJSON_Delete(it);
            continue;
        }
        /* cJSON's replace frees the replacement's own key before copying the
         * key argument: pass a copy, never it->string itself. */
        char key[128];
        snprintf(key, sizeof(key), "%s", it->string);
        if (cJSON_GetObjectItemCaseSensitive(base, key))
            cJSON_ReplaceItemInObjectCaseSensitive(base, key, it);
        else
            cJSON_AddItemToObject(base, key, it);
    }
    cJSON_Delete(ours);
    cJSON *dt = cJSON_CreateString(torch_dtype);
    if (cJSON_GetObjectItemCaseSensitive(base, "torch_dtype"))
        cJSON_ReplaceItemInObjectCaseSensitive(base, "torch_dtype", dt);
    else
        cJSON_AddItemToObject(base, "torch_dtype", dt);
    /* Newer transformers write "dtype" instead; keep the two in agreement. */
    if (cJSON_GetObjectItemCaseSensitive(base, "dtype"))
        cJSON_ReplaceItemInObjectCaseSensitive(base, "dtype", cJSON_CreateString(torch_dtype));
    char *out = json_print_text(base);
    cJSON_Delete(base);
    return out;
}
