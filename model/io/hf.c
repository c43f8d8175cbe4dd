/*
 * hf.c: Hugging Face model directories (config.json, generation_config.json,
 * model.safetensors or shards, side files) in and out. See hf.h for the
 * contracts.
 * Not for: the safetensors format itself (safetensors.c), HDF5
 * (checkpoint.c), side files and config texts (modelfiles.c).
 */
#define _GNU_SOURCE
#include "hf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/common.h"
#include "common/json.h"

/* generation_config.json for a model that came without one. */
static char *generation_text(const ModelConfig *cfg) {
    cJSON *j = cJSON_CreateObject();
    if (cfg->bos_token_id >= 0) cJSON_AddNumberToObject(j, "bos_token_id", cfg->bos_token_id);
    if (cfg->n_eos == 1) {
        cJSON_AddNumberToObject(j, "eos_token_id", cfg->eos_token_ids[0]);
    } else if (cfg->n_eos > 1) {
        cJSON *a = cJSON_AddArrayToObject(j, "eos_token_id");
        for (int i = 0; i < cfg->n_eos; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(cfg->eos_token_ids[i]));
    }
    char *out = json_print_text(j);
    cJSON_Delete(j);
    return out;
}

int hf_load_config(const char *dir, ModelConfig *cfg) {
    char *p = path_join(dir, "config.json");
    cJSON *j = json_read_file(p);
    int rc = j ? model_config_from_json(cfg, j, p) : -1;
    cJSON_Delete(j);
    free(p);
    if (rc) return -1;
    p = path_join(dir, "generation_config.json");
    if (is_regular_file(p)) {
        char *text = file_read_all(p, NULL);
        rc = text ? model_config_apply_generation(cfg, text, p) : -1;
        free(text);
    }
    free(p);
    return rc;
}

/* ---- weights ---- */

typedef struct {
    const char *dir;
    Model *m;
    TensorRef *refs;
    size_t n;
    uint8_t *seen;
    float *tied_head; /* an lm_head.weight found for a tied model */
    char unknown[600];
    size_t n_unknown;
} LoadCtx;

static int shape_matches(const StTensor *t, int ndim, const int64_t *shape) {
    if (t->ndim != ndim) return 0;
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] != (uint64_t)shape[d]) return 0;
    return 1;
}

static void st_shape_str(char *buf, size_t cap, const StTensor *t) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < t->ndim && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%llu", d ? ", " : "", (unsigned long long)t->shape[d]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

static void ref_shape_str(char *buf, size_t cap, const TensorRef *r) {
    if (r->ndim == 1)
        snprintf(buf, cap, "[%lld]", (long long)r->shape[0]);
    else
        snprintf(buf, cap, "[%lld, %lld]", (long long)r->shape[0], (long long)r->shape[1]);
}

/* Takes every tensor of one file. With an index, each must be mapped to
 * this file (shard_name) by weight_map. */
static int take_tensors(LoadCtx *c, const SafeTensors *st, const cJSON *weight_map, const char *shard_name) {
    const char *path = safetensors_path(st);
    const ModelConfig *cfg = &c->m->cfg;
    for (size_t i = 0; i < safetensors_count(st); i++) {
        const StTensor *t = safetensors_get(st, i);
        if (weight_map) {
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(weight_map, t->name);
            if (!cJSON_IsString(w))
                return ERR("%s: tensor '%s' is not listed in model.safetensors.index.json", path, t->name);
            if (strcmp(w->valuestring, shard_name))
                return ERR("%s: tensor '%s' is here but model.safetensors.index.json maps it to %s", path, t->name,
                           w->valuestring);
        }
        size_t k = 0;
        while (k < c->n && strcmp(c->refs[k].name, t->name)) k++;
        if (k < c->n) {
            const TensorRef *r = &c->refs[k];
            if (c->seen[k]) return ERR("%s: tensor '%s' appears in more than one file", path, t->name);
            if (!shape_matches(t, r->ndim, r->shape)) {
                char got[128], want[64];
                st_shape_str(got, sizeof(got), t);
                ref_shape_str(want, sizeof(want), r);
                return ERR("%s: tensor '%s' has shape %s but config.json implies %s (config.json and weights "
                           "disagree)",
                           path, t->name, got, want);
            }
            if (safetensors_to_f32(st, t, r->data)) return -1;
            c->seen[k] = 1;
            continue;
        }
        if (str_ends_with(t->name, "rotary_emb.inv_freq")) continue; /* a recomputed buffer */
        if (cfg->tie_word_embeddings && !strcmp(t->name, "lm_head.weight")) {
            int64_t shape[2] = {cfg->vocab_size, cfg->hidden_size};
            if (!shape_matches(t, 2, shape) || c->tied_head)
                return ERR("%s: unexpected lm_head.weight for a model with tied embeddings", path);
            c->tied_head = xmalloc(t->numel * sizeof(float));
            if (safetensors_to_f32(st, t, c->tied_head)) return -1;
            continue;
        }
        if (c->n_unknown++ < 4) {
            size_t len = strlen(c->unknown);
            snprintf(c->unknown + len, sizeof(c->unknown) - len, "%s'%s'", len ? ", " : "", t->name);
        }
    }
    return 0;
}

static int load_shards(LoadCtx *c, const char *index_path) {
    cJSON *idx = json_read_file(index_path);
    if (!idx) return -1;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(idx, "weight_map");
    int rc = 0;
    if (!cJSON_IsObject(wm)) {
        rc = ERR("%s: no 'weight_map' object", index_path);
        goto done;
    }
    /* The distinct shard names, in first-seen order. */
    const char **shards = xmalloc((size_t)(cJSON_GetArraySize(wm) + 1) * sizeof(char *));
    size_t ns = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, wm) {
        if (!cJSON_IsString(e)) {
            rc = ERR("%s: weight_map['%s'] must be a file name", index_path, e->string);
            break;
        }
        const char *f = e->valuestring;
        if (!f[0] || strchr(f, '/') || !strcmp(f, ".") || !strcmp(f, "..")) {
            rc = ERR("%s: weight_map['%s'] = '%s' is not a file name in the model directory", index_path, e->string,
                     f);
            break;
        }
        size_t k = 0;
        while (k < ns && strcmp(shards[k], f)) k++;
        if (k == ns) shards[ns++] = f;
    }
    for (size_t s = 0; s < ns && !rc; s++) {
        char *p = path_join(c->dir, shards[s]);
        SafeTensors *st = NULL;
        rc = safetensors_open(&st, p);
        if (!rc) rc = take_tensors(c, st, wm, shards[s]);
        cJSON_ArrayForEach(e, wm) {
            if (rc) break;
            if (!strcmp(e->valuestring, shards[s]) && !safetensors_find(st, e->string))
                rc = ERR("%s: model.safetensors.index.json maps '%s' to this file but it is not in it", p, e->string);
        }
        safetensors_close(st);
        free(p);
    }
    free(shards);
done:
    cJSON_Delete(idx);
    return rc;
}

int hf_load(const char *dir, Model *m, ModelFiles *files) {
    memset(m, 0, sizeof(*m));
    ModelConfig cfg;
    if (hf_load_config(dir, &cfg)) return -1;
    if (model_init(m, &cfg)) return err_prefix("%s", dir);
    LoadCtx c = {.dir = dir, .m = m};
    c.n = model_tensors(&m->cfg, NULL, NULL, 0);
    c.refs = xmalloc(c.n * sizeof(TensorRef));
    model_tensors(&m->cfg, m->params, c.refs, c.n);
    c.seen = xcalloc(c.n, 1);

    int rc;
    char *single = path_join(dir, "model.safetensors");
    char *index = path_join(dir, "model.safetensors.index.json");
    if (is_regular_file(single)) {
        SafeTensors *st = NULL;
        rc = safetensors_open(&st, single);
        if (!rc) rc = take_tensors(&c, st, NULL, NULL);
        safetensors_close(st);
    } else if (is_regular_file(index)) {
        rc = load_shards(&c, index);
    } else {
        rc = ERR("%s: no model.safetensors or model.safetensors.index.json (only safetensors weights are "
                 "supported; convert pytorch_model.bin files to safetensors first)",
                 dir);
    }
    const char *src = is_regular_file(single) ? single : index;
    if (!rc && c.n_unknown)
        rc = ERR("%s: %zu tensor(s) that a %s with this config.json does not have: %s%s (config.json and weights "
                 "disagree, or the architecture has parts grpo does not implement)",
                 src, c.n_unknown, m->cfg.architecture, c.unknown, c.n_unknown > 4 ? ", ..." : "");
    if (!rc) {
        size_t missing = 0;
        char list[600] = {0};
        for (size_t k = 0; k < c.n; k++) {
            if (c.seen[k]) continue;
            if (missing++ < 4) {
                size_t len = strlen(list);
                snprintf(list + len, sizeof(list) - len, "%s'%s'", len ? ", " : "", c.refs[k].name);
            }
        }
        if (missing)
            rc = ERR("%s: %zu tensor(s) that config.json needs are missing: %s%s", src, missing, list,
                     missing > 4 ? ", ..." : "");
    }
    if (!rc && c.tied_head &&
        memcmp(c.tied_head, m->p.embed, (size_t)cfg.vocab_size * (size_t)cfg.hidden_size * sizeof(float)))
        rc = ERR("%s: lm_head.weight differs from model.embed_tokens.weight but config.json has "
                 "tie_word_embeddings=true; set it to false if the head is untied",
                 src);
    if (!rc && files) {
        ModelFiles tmp = {0};
        rc = model_files_read_dir(dir, &tmp);
        for (size_t i = 0; !rc && i < tmp.n; i++) model_files_set(files, tmp.v[i].name, tmp.v[i].text, tmp.v[i].len);
        model_files_free(&tmp);
    }
    free(single);
    free(index);
    free(c.tied_head);
    free(c.seen);
    free(c.refs);
    if (rc) model_free(m);
    return rc;
}

/* ---- saving ---- */

static char *strip_slashes(const char *dir) {
    char *d = xstrdup(dir);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/') d[--n] = '\0';
    return d;
}

static int dir_is_empty(const char *dir, int *empty) {
    DIR *d = opendir(dir);
    if (!d) return ERR("cannot open directory %s: %s", dir, strerror(errno));
    struct dirent *e;
    *empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            *empty = 0;
            break;
        }
    closedir(d);
    return 0;
}

/* Removes dir/model.safetensors.index.json and the shard files it lists. */
static void remove_stale_shards(const char *dir) {
    char *index = path_join(dir, "model.safetensors.index.json");
    if (!is_regular_file(index)) {
        free(index);
        return;
    }
    cJSON *j = json_read_file(index);
    const cJSON *wm = j ? cJSON_GetObjectItemCaseSensitive(j, "weight_map") : NULL;
    const cJSON *e;
    if (cJSON_IsObject(wm)) {
        cJSON_ArrayForEach(e, wm) {
            if (!cJSON_IsString(e)) continue;
            const char *f = e->valuestring;
            if (strchr(f, '/') || !str_ends_with(f, ".safetensors") || !strcmp(f, "model.safetensors")) continue;
            char *p = path_join(dir, f);
            if (is_regular_file(p)) unlink(p);
            free(p);
        }
    }
    cJSON_Delete(j);
    unlink(index);
    free(index);
}

typedef struct {
    char *names[64];
    size_t n;
} Written;

static int put_file(const char *tmpdir, Written *w, const char *name, const char *text, size_t len) {
    char *p = path_join(tmpdir, name);
    int rc = file_write_atomic(p, text, len);
    free(p);
    if (!rc && w->n < 64) w->names[w->n++] = xstrdup(name);
    return rc;
}

static int is_side_file(const char *name) {
    for (size_t i = 0; i < model_n_side_files; i++)
        if (!strcmp(model_side_files[i], name)) return 1;
    return 0;
}

int hf_save(const char *dir_in, const Model *m, const ModelFiles *files, StDtype dtype, int force) {
    if (dtype != ST_F32 && dtype != ST_BF16)
        return ERR("%s: HF export writes F32 or BF16 weights, not %s", dir_in, safetensors_dtype_name(dtype));
    char *dir = strip_slashes(dir_in);
    enum { NEW, EMPTY, MERGE } mode = NEW;
    struct stat sb;
    int rc = 0;
    if (stat(dir, &sb) == 0) {
        int empty = 0;
        if (!S_ISDIR(sb.st_mode))
            rc = ERR("%s exists and is not a directory", dir);
        else if (dir_is_empty(dir, &empty))
            rc = -1;
        else if (empty)
            mode = EMPTY;
        else if (force)
            mode = MERGE;
        else
            rc = ERR("%s exists and is not empty; choose a new directory or force the overwrite", dir);
    } else if (errno != ENOENT) {
        rc = ERR("cannot use %s: %s", dir, strerror(errno));
    }
    if (rc) {
        free(dir);
        return -1;
    }
    char *tmp = atomic_tmp_name(dir);
    if (mkdir(tmp, 0755) != 0) {
        rc = ERR("cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        free(dir);
        return rc;
    }
    Written w = {{0}, 0};
    const char *orig = model_files_get(files, "config.json", NULL);
    char *cfg_text = hf_config_text(&m->cfg, orig, dtype == ST_BF16 ? "bfloat16" : "float32");
    if (!cfg_text) {
        err_prefix("%s: config.json from the source", dir);
        rc = -1;
    }
    if (!rc) rc = put_file(tmp, &w, "config.json", cfg_text, strlen(cfg_text));
    free(cfg_text);
    size_t glen = 0;
    const char *gen = model_files_get(files, "generation_config.json", &glen);
    if (!rc && gen) {
        rc = put_file(tmp, &w, "generation_config.json", gen, glen);
    } else if (!rc) {
        char *g = generation_text(&m->cfg);
        rc = put_file(tmp, &w, "generation_config.json", g, strlen(g));
        free(g);
    }
    if (!rc) {
        size_t n = model_tensors(&m->cfg, NULL, NULL, 0);
        TensorRef *refs = xmalloc(n * sizeof(TensorRef));
        model_tensors(&m->cfg, m->params, refs, n);
        char *p = path_join(tmp, "model.safetensors");
        rc = safetensors_write(p, refs, n, dtype);
        if (!rc) w.names[w.n++] = xstrdup("model.safetensors");
        free(p);
        free(refs);
    }
    for (size_t i = 0; files && i < files->n && !rc; i++) {
        const ModelFile *f = &files->v[i];
        if (!strcmp(f->name, "config.json") || !strcmp(f->name, "generation_config.json")) continue;
        if (!is_side_file(f->name)) continue;
        rc = put_file(tmp, &w, f->name, f->text, f->len);
    }

    /* Install. */
    if (!rc && mode == EMPTY && rmdir(dir) != 0) rc = ERR("cannot replace empty directory %s: %s", dir, strerror(errno));
    int moved = 0; /* the temporary directory became dir */
    if (!rc && mode != MERGE) {
        if (rename(tmp, dir) != 0)
            rc = ERR("cannot rename %s to %s: %s", tmp, dir, strerror(errno));
        else
            moved = 1, rc = fsync_parent_dir(dir);
    }
    if (!rc && mode == MERGE) {
        for (size_t i = 0; i < w.n && !rc; i++) {
            char *from = path_join(tmp, w.names[i]), *to = path_join(dir, w.names[i]);
            if (rename(from, to) != 0) rc = ERR("cannot move %s to %s: %s", from, to, strerror(errno));
            free(from);
            free(to);
        }
        if (!rc) {
            remove_stale_shards(dir);
            char *probe = path_join(dir, "x");
            rc = fsync_parent_dir(probe);
            free(probe);
        }
    }
    /* Clean up whatever is still in the temporary directory. */
    for (size_t i = 0; i < w.n; i++) {
        if (!moved) {
            char *p = path_join(tmp, w.names[i]);
            unlink(p);
            free(p);
        }
        free(w.names[i]);
    }
    if (!moved) rmdir(tmp);
    free(tmp);
    free(dir);
    return rc;
}
