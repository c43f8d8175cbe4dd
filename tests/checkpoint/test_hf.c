/*
 * test_hf.c: HF model directories in and out, and `--model M` resolution.
 *  - the fixtures of tests/fixtures/hf (Qwen2 fp32/bf16, Qwen3, sharded
 *    Llama, made by scripts/make_hf_fixtures.py with PyTorch) load, every
 *    tensor equal to the file's own bytes widened to fp32;
 *    generation_config.json's eos ids replace config.json's;
 *  - HF -> HDF5 -> HF is bit-exact (tensors and safetensors bytes), side
 *    files are carried through unchanged; bf16 export = the expected rounding;
 *  - sharded load == single-file load (fixture shards, and shards made here);
 *  - bad directories: missing/unknown/misshapen tensors, a bad index, an
 *    untied head under tie_word_embeddings, unsupported dtypes: refused with
 *    a message naming the file and the tensor;
 *  - hf_save never clobbers: non-empty targets refused unless forced;
 *    forcing keeps foreign files and removes stale shards.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "common/json.h"
#include "model/io/checkpoint.h"
#include "model/io/hf.h"
#include "model/io/loader.h"
#include "test.h"

#define FIX GRPO_TEST_DATA "/fixtures/hf"
#define WORK GRPO_BINARY_DIR "/test_hf.work"

static char *wp(const char *name) {
    static char buf[8][1024];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 1024, "%s/%s", WORK, name);
    return p;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) { return remove(p); }
static void rm_rf(const char *p) { nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static void write_text(const char *path, const char *text) { ASSERT(file_write_atomic(path, text, strlen(text)) == 0); }

static void copy_file(const char *from, const char *to) {
    size_t n;
    char *b = file_read_all(from, &n);
    ASSERT(b && file_write_atomic(to, b, n) == 0);
    free(b);
}

static int same_file(const char *a, const char *b) {
    size_t la, lb;
    char *x = file_read_all(a, &la), *y = file_read_all(b, &lb);
    int same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

static int same_params(const Model *a, const Model *b) {
    return a->n_params == b->n_params && !memcmp(a->params, b->params, a->n_params * sizeof(float));
}

/* Every tensor of m equals the raw file contents widened to fp32. */
static void check_against_files(const Model *m, const char *dir, const char *const *files, int nfiles) {
    size_t n = model_tensors(&m->cfg, NULL, NULL, 0);
    TensorRef *refs = xmalloc(n * sizeof(TensorRef));
    model_tensors(&m->cfg, m->params, refs, n);
    SafeTensors *st[4] = {0};
    char p[1024];
    for (int i = 0; i < nfiles; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        TEST_CHECK(safetensors_open(&st[i], p) == 0, "%s", err_msg());
    }
    size_t checked = 0;
    for (size_t k = 0; k < n; k++) {
        for (int i = 0; i < nfiles; i++) {
            const StTensor *t = st[i] ? safetensors_find(st[i], refs[k].name) : NULL;
            if (!t) continue;
            float *want = xmalloc(t->numel * sizeof(float));
            safetensors_to_f32(st[i], t, want);
            TEST_CHECK(t->numel == refs[k].numel && !memcmp(want, refs[k].data, t->numel * sizeof(float)),
                       "%s: %s differs from the file", dir, refs[k].name);
            free(want);
            checked++;
        }
    }
    TEST_CHECK(checked == n, "%s: %zu of %zu tensors found in the files", dir, checked, n);
    for (int i = 0; i < nfiles; i++) safetensors_close(st[i]);
    free(refs);
}

static void test_fixtures(void) {
    static const char *single[] = {"model.safetensors"};
    static const char *shards[] = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
    const struct {
        const char *dir, *arch;
        const char *const *files;
        int nfiles;
    } fx[] = {{FIX "/qwen2_fp32", "Qwen2ForCausalLM", single, 1},
              {FIX "/qwen2_bf16", "Qwen2ForCausalLM", single, 1},
              {FIX "/qwen3_fp32", "Qwen3ForCausalLM", single, 1},
              {FIX "/llama_fp32_sharded", "LlamaForCausalLM", shards, 2}};
    for (int i = 0; i < 4; i++) {
        Model m;
        ModelFiles files = {0};
        TEST_CHECK(hf_load(fx[i].dir, &m, &files) == 0, "%s", err_msg());
        if (!m.params) continue;
        TEST_CHECK(!strcmp(m.cfg.architecture, fx[i].arch), "%s: %s", fx[i].dir, m.cfg.architecture);
        check_against_files(&m, fx[i].dir, fx[i].files, fx[i].nfiles);
        TEST_CHECK(model_files_get(&files, "tokenizer.json", NULL) && model_files_get(&files, "config.json", NULL) &&
                       model_files_get(&files, "tokenizer_config.json", NULL) &&
                       model_files_get(&files, "generation_config.json", NULL),
                   "%s: side files", fx[i].dir);
        TEST_CHECK(model_files_get(&files, "reference.json", NULL) == NULL, "only known side files are taken");
        /* eos ids: generation_config.json's list replaces config.json's. */
        char p[1024];
        snprintf(p, sizeof(p), "%s/generation_config.json", fx[i].dir);
        cJSON *g = json_read_file(p);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(g, "eos_token_id");
        int want[8], nw = 0;
        if (cJSON_IsArray(e)) {
            const cJSON *x;
            cJSON_ArrayForEach(x, e) want[nw++] = x->valueint;
        } else if (cJSON_IsNumber(e)) {
            want[nw++] = e->valueint;
        }
        cJSON_Delete(g);
        TEST_CHECK(nw > 0 && m.cfg.n_eos == nw && !memcmp(m.cfg.eos_token_ids, want, (size_t)nw * sizeof(int)),
                   "%s: eos ids from generation_config.json (%d vs %d)", fx[i].dir, m.cfg.n_eos, nw);
        model_files_free(&files);
        model_free(&m);
    }
}

static void test_round_trips(void) {
    const char *src = FIX "/qwen2_fp32";
    Model a, b, c;
    ModelFiles fa = {0}, fb = {0};
    TEST_CHECK(hf_load(src, &a, &fa) == 0, "%s", err_msg());
    TEST_CHECK(checkpoint_save(wp("q.h5"), &a, NULL, NULL, NULL, &fa) == 0, "%s", err_msg());
    TEST_CHECK(checkpoint_load(wp("q.h5"), &b, NULL, NULL, NULL, &fb) == 0, "%s", err_msg());
    TEST_CHECK(b.params && same_params(&a, &b), "HF -> HDF5 changed the tensors");
    TEST_CHECK(memcmp(&a.cfg, &b.cfg, sizeof(a.cfg)) == 0, "HF -> HDF5 changed the config");
    rm_rf(wp("q_out"));
    TEST_CHECK(hf_save(wp("q_out"), &b, &fb, ST_F32, 0) == 0, "%s", err_msg());
    TEST_CHECK(hf_load(wp("q_out"), &c, NULL) == 0, "%s", err_msg());
    TEST_CHECK(c.params && same_params(&a, &c), "HF -> HDF5 -> HF changed the tensors");
    TEST_CHECK(memcmp(&a.cfg, &c.cfg, sizeof(a.cfg)) == 0, "HF -> HDF5 -> HF changed the config");
    if (c.params) model_free(&c);
    /* Tensor bytes in the two safetensors files are identical. */
    SafeTensors *s1 = NULL, *s2 = NULL;
    char p[1024];
    snprintf(p, sizeof(p), "%s/model.safetensors", src);
    safetensors_open(&s1, p);
    snprintf(p, sizeof(p), "%s/model.safetensors", wp("q_out"));
    safetensors_open(&s2, p);
    TEST_CHECK(s1 && s2 && safetensors_count(s1) == safetensors_count(s2), "tensor counts");
    for (size_t i = 0; s1 && s2 && i < safetensors_count(s1); i++) {
        const StTensor *t1 = safetensors_get(s1, i), *t2 = safetensors_find(s2, t1->name);
        TEST_CHECK(t2 && t2->dtype == ST_F32 && t1->end - t1->begin == t2->end - t2->begin &&
                       !memcmp(safetensors_data(s1, t1), safetensors_data(s2, t2), t1->end - t1->begin),
                   "%s: bytes differ", t1->name);
    }
    safetensors_close(s1);
    safetensors_close(s2);
    /* Side files verbatim; config.json keeps the source's extra keys. */
    const char *same[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json"};
    for (int i = 0; i < 3; i++) {
        char x[1024], y[1024];
        snprintf(x, sizeof(x), "%s/%s", src, same[i]);
        snprintf(y, sizeof(y), "%s/%s", wp("q_out"), same[i]);
        TEST_CHECK(same_file(x, y), "%s changed on the way", same[i]);
    }
    snprintf(p, sizeof(p), "%s/config.json", wp("q_out"));
    cJSON *cj = json_read_file(p);
    TEST_CHECK(cj && cJSON_GetObjectItemCaseSensitive(cj, "max_window_layers") &&
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cj, "use_cache")),
               "extra config keys kept");
    cJSON_Delete(cj);

    /* bf16 export: the values are the fp32 ones rounded to nearest even. */
    rm_rf(wp("q_bf16"));
    TEST_CHECK(hf_save(wp("q_bf16"), &b, &fb, ST_BF16, 0) == 0, "%s", err_msg());
    TEST_CHECK(hf_load(wp("q_bf16"), &c, NULL) == 0, "%s", err_msg());
    if (c.params) {
        size_t bad = 0;
        for (size_t i = 0; i < a.n_params; i++) bad += c.params[i] != bf16_to_f32(f32_to_bf16(a.params[i]));
        TEST_CHECK(bad == 0, "bf16 export: %zu values are not the rounded fp32 ones", bad);
        model_free(&c);
    }
    snprintf(p, sizeof(p), "%s/config.json", wp("q_bf16"));
    cj = json_read_file(p);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(cj, "torch_dtype");
    TEST_CHECK(cJSON_IsString(dt) && !strcmp(dt->valuestring, "bfloat16"), "torch_dtype bfloat16");
    cJSON_Delete(cj);

    /* model_load / model_load_files on both kinds. */
    Model d;
    ModelFiles fd = {0};
    TEST_CHECK(model_load(src, &d, NULL) == 0 && same_params(&a, &d), "model_load(HF): %s", err_msg());
    if (d.params) model_free(&d);
    TEST_CHECK(model_load(wp("q.h5"), &d, &fd) == 0 && same_params(&a, &d), "model_load(h5): %s", err_msg());
    TEST_CHECK(model_files_get(&fd, "tokenizer.json", NULL) != NULL, "tokenizer.json inside the checkpoint");
    if (d.params) model_free(&d);
    model_files_free(&fd);
    TEST_CHECK(model_load_files(wp("q.h5"), &fd) == 0 && model_files_get(&fd, "tokenizer.json", NULL),
               "model_load_files(h5): %s", err_msg());
    model_files_free(&fd);
    TEST_CHECK(model_load_files(src, &fd) == 0 && model_files_get(&fd, "tokenizer.json", NULL),
               "model_load_files(HF): %s", err_msg());
    model_files_free(&fd);

    if (b.params) model_free(&b);
    model_free(&a);
    model_files_free(&fa);
    model_files_free(&fb);
}

/* Splits a single-file directory into two shards plus an index. */
static void make_sharded(const Model *m, const char *dir, const char *extra_index_entry) {
    rm_rf(dir);
    mkdir_p(dir);
    size_t n = model_tensors(&m->cfg, NULL, NULL, 0);
    TensorRef *refs = xmalloc(n * sizeof(TensorRef));
    model_tensors(&m->cfg, m->params, refs, n);
    size_t half = n / 2;
    char p[1024];
    snprintf(p, sizeof(p), "%s/a.safetensors", dir);
    TEST_CHECK(safetensors_write(p, refs, half, ST_F32) == 0, "%s", err_msg());
    snprintf(p, sizeof(p), "%s/b.safetensors", dir);
    TEST_CHECK(safetensors_write(p, refs + half, n - half, ST_F32) == 0, "%s", err_msg());
    cJSON *idx = cJSON_CreateObject();
    cJSON *wm = cJSON_AddObjectToObject(idx, "weight_map");
    for (size_t i = 0; i < n; i++) cJSON_AddStringToObject(wm, refs[i].name, i < half ? "a.safetensors" : "b.safetensors");
    if (extra_index_entry) cJSON_AddStringToObject(wm, extra_index_entry, "b.safetensors");
    char *text = cJSON_Print(idx);
    snprintf(p, sizeof(p), "%s/model.safetensors.index.json", dir);
    write_text(p, text);
    cJSON_free(text);
    cJSON_Delete(idx);
    char *cfg = hf_config_text(&m->cfg, NULL, "float32");
    snprintf(p, sizeof(p), "%s/config.json", dir);
    write_text(p, cfg);
    free(cfg);
    free(refs);
}

static void test_sharded(void) {
    /* The fixture's shards vs the same model saved as one file. */
    Model a, b;
    ModelFiles fa = {0};
    TEST_CHECK(hf_load(FIX "/llama_fp32_sharded", &a, &fa) == 0, "%s", err_msg());
    rm_rf(wp("llama_single"));
    TEST_CHECK(hf_save(wp("llama_single"), &a, &fa, ST_F32, 0) == 0, "%s", err_msg());
    TEST_CHECK(hf_load(wp("llama_single"), &b, NULL) == 0 && same_params(&a, &b), "sharded != single: %s", err_msg());
    if (b.params) model_free(&b);
    model_files_free(&fa);
    model_free(&a);
    /* Shards made here from a single-file fixture (tied Qwen2). */
    TEST_CHECK(hf_load(FIX "/qwen2_fp32", &a, NULL) == 0, "%s", err_msg());
    make_sharded(&a, wp("q_sharded"), NULL);
    TEST_CHECK(hf_load(wp("q_sharded"), &b, NULL) == 0 && same_params(&a, &b), "made shards: %s", err_msg());
    if (b.params) model_free(&b);

    /* Bad indexes. */
    char p[1024];
    make_sharded(&a, wp("bad_idx"), "model.layers.9.mlp.up_proj.weight");
    TEST_CHECK(hf_load(wp("bad_idx"), &b, NULL) == -1 && strstr(err_msg(), "b.safetensors") &&
                   strstr(err_msg(), "model.layers.9.mlp.up_proj.weight"),
               "index names a tensor its shard lacks: %s", err_msg());
    make_sharded(&a, wp("bad_idx"), NULL);
    snprintf(p, sizeof(p), "%s/model.safetensors.index.json", wp("bad_idx"));
    write_text(p, "{\"weight_map\": {\"model.norm.weight\": \"../../etc/passwd\"}}");
    TEST_CHECK(hf_load(wp("bad_idx"), &b, NULL) == -1 && strstr(err_msg(), "not a file name"), "path traversal: %s",
               err_msg());
    write_text(p, "{\"weight_map\": {\"model.norm.weight\": \"a.safetensors\"}}");
    TEST_CHECK(hf_load(wp("bad_idx"), &b, NULL) == -1 && strstr(err_msg(), "a.safetensors") &&
                   strstr(err_msg(), "not listed"),
               "shard tensor missing from the index: %s", err_msg());
    write_text(p, "{\"weight_map\": 3}");
    TEST_CHECK(hf_load(wp("bad_idx"), &b, NULL) == -1 && strstr(err_msg(), "weight_map"), "bad index: %s", err_msg());
    model_free(&a);
}

/* A directory with model.safetensors holding `refs` and config for cfg. */
static void make_dir(const char *dir, const ModelConfig *cfg, const TensorRef *refs, size_t n) {
    rm_rf(dir);
    mkdir_p(dir);
    char p[1024];
    snprintf(p, sizeof(p), "%s/model.safetensors", dir);
    TEST_CHECK(safetensors_write(p, refs, n, ST_F32) == 0, "%s", err_msg());
    char *text = hf_config_text(cfg, NULL, "float32");
    snprintf(p, sizeof(p), "%s/config.json", dir);
    write_text(p, text);
    free(text);
}

static void test_bad_dirs(void) {
    Model a, b;
    TEST_CHECK(hf_load(FIX "/qwen2_fp32", &a, NULL) == 0, "%s", err_msg()); /* tied, with biases */
    size_t n = model_tensors(&a.cfg, NULL, NULL, 0);
    TensorRef *refs = xmalloc((n + 2) * sizeof(TensorRef));
    model_tensors(&a.cfg, a.params, refs, n);
    char *dir = wp("bad");

    /* Missing tensor. */
    make_dir(dir, &a.cfg, refs + 1, n - 1);
    TEST_CHECK(hf_load(dir, &b, NULL) == -1 && strstr(err_msg(), "missing") &&
                   strstr(err_msg(), "model.embed_tokens.weight") && strstr(err_msg(), "model.safetensors"),
               "missing tensor: %s", err_msg());
    TEST_CHECK(b.params == NULL, "nothing allocated after a failed load");
    /* Unknown tensor; harmless rotary buffers are skipped. */
    float extra[4] = {1, 2, 3, 4};
    memcpy(&refs[n], &refs[0], sizeof(TensorRef));
    snprintf(refs[n].name, sizeof(refs[n].name), "model.layers.0.mlp.experts.0.weight");
    refs[n].data = extra, refs[n].ndim = 1, refs[n].shape[0] = 4, refs[n].numel = 4;
    make_dir(dir, &a.cfg, refs, n + 1);
    TEST_CHECK(hf_load(dir, &b, NULL) == -1 && strstr(err_msg(), "model.layers.0.mlp.experts.0.weight"),
               "unknown tensor: %s", err_msg());
    snprintf(refs[n].name, sizeof(refs[n].name), "model.layers.0.self_attn.rotary_emb.inv_freq");
    make_dir(dir, &a.cfg, refs, n + 1);
    TEST_CHECK(hf_load(dir, &b, NULL) == 0 && same_params(&a, &b), "rotary_emb.inv_freq is ignored: %s", err_msg());
    if (b.params) model_free(&b);
    /* Tied: an lm_head equal to the embedding is fine, a different one is not. */
    memcpy(&refs[n], &refs[0], sizeof(TensorRef));
    snprintf(refs[n].name, sizeof(refs[n].name), "lm_head.weight");
    make_dir(dir, &a.cfg, refs, n + 1);
    TEST_CHECK(hf_load(dir, &b, NULL) == 0 && same_params(&a, &b), "tied lm_head copy: %s", err_msg());
    if (b.params) model_free(&b);
    float *head = xmalloc(refs[0].numel * sizeof(float));
    memcpy(head, refs[0].data, refs[0].numel * sizeof(float));
    head[7] += 1.0f;
    refs[n].data = head;
    make_dir(dir, &a.cfg, refs, n + 1);
    TEST_CHECK(hf_load(dir, &b, NULL) == -1 && strstr(err_msg(), "tie_word_embeddings"), "untied head: %s",
               err_msg());
    free(head);
    /* Wrong shape (config and weights disagree). */
    ModelConfig c2 = a.cfg;
    c2.intermediate_size += 2;
    make_dir(dir, &c2, refs, n);
    TEST_CHECK(hf_load(dir, &b, NULL) == -1 && strstr(err_msg(), "has shape [48, 32] but config.json implies [50, 32]"),
               "wrong shape: %s", err_msg());
    /* A tensor in a dtype that cannot be weights. */
    make_dir(dir, &a.cfg, refs, n);
    char p[1024];
    snprintf(p, sizeof(p), "%s/model.safetensors", dir);
    copy_file(FIX "/hostile/unsupported_dtype_i64.safetensors", p);
    TEST_CHECK(hf_load(dir, &b, NULL) == -1, "I64 file accepted");
    /* Hostile weights file. */
    copy_file(FIX "/hostile/truncated.safetensors", p);
    TEST_CHECK(hf_load(dir, &b, NULL) == -1 && strstr(err_msg(), "model.safetensors") && strstr(err_msg(), "truncated"),
               "truncated weights: %s", err_msg());
    /* No weights; bad config.json; unsupported architecture. */
    unlink(p);
    TEST_CHECK(hf_load(dir, &b, NULL) == -1 && strstr(err_msg(), "no model.safetensors"), "no weights: %s", err_msg());
    snprintf(p, sizeof(p), "%s/config.json", dir);
    write_text(p, "{\"vocab_size\": 10,");
    TEST_CHECK(hf_load(dir, &b, NULL) == -1 && strstr(err_msg(), "config.json") && strstr(err_msg(), "line 1"),
               "broken config.json: %s", err_msg());
    write_text(p, "{\"architectures\": [\"MixtralForCausalLM\"], \"model_type\": \"mixtral\"}");
    TEST_CHECK(hf_load(dir, &b, NULL) == -1 && strstr(err_msg(), "MixtralForCausalLM"), "unsupported arch: %s",
               err_msg());
    /* generation_config.json with an out-of-vocabulary eos id. */
    make_dir(dir, &a.cfg, refs, n);
    snprintf(p, sizeof(p), "%s/generation_config.json", dir);
    write_text(p, "{\"eos_token_id\": [1, 100000]}");
    TEST_CHECK(hf_load(dir, &b, NULL) == -1 && strstr(err_msg(), "generation_config.json") &&
                   strstr(err_msg(), "eos_token_id"),
               "bad generation config: %s", err_msg());
    free(refs);
    model_free(&a);
}

static void test_save_rules(void) {
    Model a, b;
    ModelFiles fa = {0};
    TEST_CHECK(hf_load(FIX "/qwen3_fp32", &a, &fa) == 0, "%s", err_msg());
    char *dir = wp("save");
    rm_rf(dir);
    /* Into an empty directory: fine. */
    mkdir_p(dir);
    TEST_CHECK(hf_save(dir, &a, &fa, ST_F32, 0) == 0, "empty dir: %s", err_msg());
    /* Non-empty without force: refused, nothing changed. */
    char p[1024], q[1024];
    snprintf(p, sizeof(p), "%s/model.safetensors", dir);
    struct stat before, after;
    stat(p, &before);
    TEST_CHECK(hf_save(dir, &a, &fa, ST_BF16, 0) == -1 && strstr(err_msg(), "not empty"), "non-empty: %s", err_msg());
    stat(p, &after);
    TEST_CHECK(before.st_ino == after.st_ino && before.st_size == after.st_size, "refused save changed the weights");
    /* Forced over a sharded layout: stale index and shards go, foreign files stay. */
    snprintf(q, sizeof(q), "%s/README.md", dir);
    write_text(q, "mine");
    snprintf(q, sizeof(q), "%s/model-00001-of-00002.safetensors", dir);
    write_text(q, "old");
    snprintf(q, sizeof(q), "%s/model.safetensors.index.json", dir);
    write_text(q, "{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\", \"y\": \"../README.md\"}}");
    TEST_CHECK(hf_save(dir, &a, &fa, ST_BF16, 1) == 0, "forced: %s", err_msg());
    snprintf(q, sizeof(q), "%s/README.md", dir);
    TEST_CHECK(access(q, F_OK) == 0, "foreign file removed");
    snprintf(q, sizeof(q), "%s/model-00001-of-00002.safetensors", dir);
    TEST_CHECK(access(q, F_OK) != 0, "stale shard kept");
    snprintf(q, sizeof(q), "%s/model.safetensors.index.json", dir);
    TEST_CHECK(access(q, F_OK) != 0, "stale index kept");
    TEST_CHECK(hf_load(dir, &b, NULL) == 0, "%s", err_msg());
    if (b.params) model_free(&b);
    /* A file in the way; a trailing slash is fine. */
    snprintf(q, sizeof(q), "%s/file", WORK);
    write_text(q, "x");
    TEST_CHECK(hf_save(q, &a, &fa, ST_F32, 1) == -1 && strstr(err_msg(), "not a directory"), "file in the way: %s",
               err_msg());
    rm_rf(wp("slash"));
    TEST_CHECK(hf_save(WORK "/slash/", &a, NULL, ST_F32, 0) == 0, "trailing slash: %s", err_msg());
    /* No temporary directories left behind. */
    snprintf(q, sizeof(q), "%s.tmp.%ld", dir, (long)getpid());
    TEST_CHECK(access(q, F_OK) != 0, "temporary directory left");
    model_files_free(&fa);
    model_free(&a);
}

static void test_path_kinds(void) {
    ModelPathKind k;
    TEST_CHECK(model_path_kind(FIX "/qwen2_fp32", &k) == 0 && k == MODEL_PATH_HF, "HF dir");
    TEST_CHECK(model_path_kind(wp("q.h5"), &k) == 0 && k == MODEL_PATH_CHECKPOINT, "checkpoint");
    struct {
        const char *path, *phrase;
    } bad[] = {
        {FIX "/qwen2_fp32/model.safetensors", "lone safetensors"},
        {FIX "/qwen2_fp32/config.json", "JSON file"},
        {FIX "/hostile", "without config.json"},
        {WORK "/nope", "No such file"},
        {WORK "/file", "neither an HF model directory nor"},
    };
    for (int i = 0; i < 5; i++) {
        Model m;
        TEST_CHECK(model_load(bad[i].path, &m, NULL) == -1 && strstr(err_msg(), bad[i].path) &&
                       strstr(err_msg(), bad[i].phrase),
                   "%s: %s", bad[i].path, err_msg());
    }
}

int main(void) {
    rm_rf(WORK);
    mkdir_p(WORK);
    test_fixtures();
    test_round_trips();
    test_sharded();
    test_bad_dirs();
    test_save_rules();
    test_path_kinds();
    return test_summary();
}
