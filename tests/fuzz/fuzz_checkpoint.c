/*
 * fuzz_checkpoint.c: the HDF5 checkpoint reader on files an attacker could
 * make. The input is not an HDF5 image (the digest would stop every mutated
 * one before HDF5 parses it, and HDF5's own parser is not ours to fuzz) but
 * a program of edits applied with the HDF5 API to a valid checkpoint: links
 * deleted, moved, duplicated (hard), soft or external; attributes of /state
 * replaced with any integer, float or string type, scalar or array;
 * datasets replaced with any type and shape, chunked or not, with external
 * storage or a virtual layout; JSON texts replaced with bytes of the input
 * or with model configs of fuzzed sizes; new groups and attributes. The
 * file is then sealed (as an attacker can) and loaded, its side files
 * read, and verified.
 */
#define _GNU_SOURCE
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "model/io/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char tmpl[256], cur[256];
static uint8_t *tmpl_bytes;
static size_t tmpl_len;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    /* in memory when it can be: every run writes, fsyncs and reads a file */
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : ".";
    snprintf(tmpl, sizeof(tmpl), "%s/fuzz_checkpoint.%ld.template.h5", dir, (long)getpid());
    snprintf(cur, sizeof(cur), "%s/fuzz_checkpoint.%ld.h5", dir, (long)getpid());
    ModelConfig c;
    memset(&c, 0, sizeof(c));
    snprintf(c.architecture, sizeof(c.architecture), "Qwen2ForCausalLM");
    snprintf(c.model_type, sizeof(c.model_type), "qwen2");
    c.vocab_size = 11;
    c.hidden_size = 8;
    c.num_hidden_layers = 1;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 1;
    c.head_dim = 4;
    c.intermediate_size = 12;
    c.max_position_embeddings = 32;
    c.rope_theta = 10000.0;
    c.rms_norm_eps = 1e-6;
    c.tie_word_embeddings = 1;
    c.attention_bias = 1;
    c.initializer_range = 0.02;
    c.bos_token_id = -1;
    Model m;
    if (model_init(&m, &c)) abort();
    model_init_random(&m, 1);
    uint8_t rng[16] = {1, 2, 3};
    CheckpointBlock ref = {.name = "reference", .data = m.params};
    CheckpointState st = {.step = 5, .seed = 7, .data_cursor = 40, .rng = rng, .rng_len = sizeof(rng),
                          .job_config = "{\"train\": {\"steps\": 5}}", .trainer_state = "{\"num_tokens\": 12}",
                          .blocks = &ref, .n_blocks = 1};
    ModelFiles files = {0};
    model_files_set(&files, "tokenizer.json", "{\"model\": {}}", 13);
    model_files_set(&files, "generation_config.json", "{\"eos_token_id\": 3}", 19);
    if (checkpoint_save(tmpl, &m, &st, m.params, m.params, &files)) {
        fprintf(stderr, "fuzz_checkpoint: %s\n", err_msg());
        abort();
    }
    model_files_free(&files);
    model_free(&m);
    FILE *f = fopen(tmpl, "rb");
    fseek(f, 0, SEEK_END);
    tmpl_len = (size_t)ftell(f);
    rewind(f);
    tmpl_bytes = malloc(tmpl_len);
    if (fread(tmpl_bytes, 1, tmpl_len, f) != tmpl_len) abort();
    fclose(f);
    unlink(tmpl);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return 0;
}

/* ---- reading the edit program ---- */

typedef struct {
    const uint8_t *p;
    size_t n, at;
} Prog;

static unsigned byte(Prog *g) { return g->at < g->n ? g->p[g->at++] : 0; }
static int more(const Prog *g) { return g->at < g->n; }

static const char *const objects[] = {
    "/state", "/model", "/optimizer", "/optimizer/m", "/optimizer/v", "/files", "/reference",
    "/state/model_config", "/state/job_config", "/state/trainer_state", "/state/rng",
    "/files/tokenizer.json", "/files/generation_config.json",
    "/model/model.norm.weight", "/model/model.embed_tokens.weight",
    "/model/model.layers.0.self_attn.q_proj.weight", "/model/model.layers.0.self_attn.q_proj.bias",
    "/optimizer/m/model.norm.weight", "/reference/model.layers.0.mlp.down_proj.weight",
    "/extra", "/files/extra.txt", "/model/extra", "/state/extra", "/files/sub",
};
#define N_OBJECTS (sizeof(objects) / sizeof(objects[0]))
static const char *pick(Prog *g) { return objects[byte(g) % N_OBJECTS]; }

static const char *const state_attrs[] = {"format", "format_version", "step", "seed", "data_cursor", "other"};

/* A datatype chosen by the program (close it). */
static hid_t pick_type(Prog *g) {
    static const hid_t *const fixed[] = {&H5T_STD_I8LE_g, &H5T_STD_U16BE_g, &H5T_STD_I32LE_g, &H5T_STD_I64BE_g,
                                          &H5T_STD_U64LE_g, &H5T_IEEE_F32LE_g, &H5T_IEEE_F64BE_g, &H5T_STD_U8LE_g};
    unsigned k = byte(g) % 11;
    if (k < 8) return H5Tcopy(*fixed[k]);
    hid_t t = H5Tcopy(H5T_C_S1);
    if (k == 8) H5Tset_size(t, H5T_VARIABLE);
    else H5Tset_size(t, 1 + byte(g) % (k == 9 ? 80 : 400));
    if (byte(g) & 1) H5Tset_strpad(t, H5T_STR_NULLPAD);
    return t;
}

/* A dataspace: scalar, or up to 3 small dimensions (400 elements sometimes). */
static hid_t pick_space(Prog *g, hsize_t *n_elems) {
    unsigned rank = byte(g) % 5;
    if (rank == 0) {
        *n_elems = 1;
        return H5Screate(H5S_SCALAR);
    }
    if (rank == 4) {
        hsize_t d = 400;
        *n_elems = d;
        return H5Screate_simple(1, &d, NULL);
    }
    hsize_t dims[3];
    *n_elems = 1;
    for (unsigned i = 0; i < rank; i++) {
        dims[i] = byte(g) % 24;
        *n_elems *= dims[i];
    }
    return H5Screate_simple((int)rank, dims, NULL);
}

/* A buffer of n elements of type t filled from the program (free_buf it). */
static void *fill(Prog *g, hid_t t, hsize_t n, char ***strs) {
    *strs = NULL;
    if (H5Tis_variable_str(t) > 0) {
        char **v = calloc(n ? n : 1, sizeof(char *));
        for (hsize_t i = 0; i < n; i++) {
            size_t len = byte(g) % 24;
            v[i] = calloc(len + 1, 1);
            for (size_t k = 0; k < len; k++) v[i][k] = (char)(byte(g) | 1);
        }
        *strs = v;
        return v;
    }
    size_t sz = H5Tget_size(t), total = (size_t)n * sz;
    uint8_t *b = malloc(total ? total : 1);
    for (size_t i = 0; i < total; i++) b[i] = (uint8_t)(g->at < g->n ? g->p[(g->at + i) % g->n] : i);
    g->at += total < 16 ? total : 16;
    return b;
}

static void free_buf(void *b, char **strs, hsize_t n) {
    for (hsize_t i = 0; strs && i < n; i++) free(strs[i]);
    free(b);
}

/* Splits "/a/b" into the parent group (opened) and the last name. */
static hid_t parent_of(hid_t f, const char *path, const char **name) {
    const char *slash = strrchr(path, '/');
    *name = slash + 1;
    if (slash == path) return H5Gopen2(f, "/", H5P_DEFAULT);
    char dir[128];
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    return H5Gopen2(f, dir, H5P_DEFAULT);
}

static void replace_attr(hid_t f, Prog *g) {
    hid_t s = H5Gopen2(f, "/state", H5P_DEFAULT);
    if (s < 0) return;
    const char *name = state_attrs[byte(g) % 6];
    H5Adelete(s, name);
    hid_t t = pick_type(g);
    hsize_t n;
    hid_t sp = pick_space(g, &n);
    char **strs;
    void *buf = fill(g, t, n, &strs);
    hid_t a = H5Acreate2(s, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Awrite(a, t, buf);
        H5Aclose(a);
    }
    free_buf(buf, strs, n);
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(s);
}

static void replace_dataset(hid_t f, Prog *g) {
    const char *name, *path = pick(g);
    hid_t p = parent_of(f, path, &name);
    if (p < 0) return;
    H5Ldelete(p, name, H5P_DEFAULT);
    hid_t t = pick_type(g);
    hsize_t n;
    hid_t sp = pick_space(g, &n);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    unsigned how = byte(g) % 6;
    int rank = H5Sget_simple_extent_ndims(sp);
    if (how == 1 && rank > 0) {
        hsize_t chunk[3] = {1, 1, 1};
        H5Pset_chunk(dcpl, rank, chunk);
        if (byte(g) & 1) H5Pset_fletcher32(dcpl);
        if (byte(g) & 1) H5Pset_deflate(dcpl, 1);
    } else if (how == 2) {
        H5Pset_external(dcpl, byte(g) & 1 ? "/etc/hostname" : "missing.bin", 0, 4096);
    } else if (how == 3 && rank > 0) {
        H5Pset_virtual(dcpl, sp, byte(g) & 1 ? tmpl : "missing.h5", "/model/model.norm.weight", sp);
    }
    char **strs;
    void *buf = fill(g, t, n, &strs);
    hid_t d = H5Dcreate2(p, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0) {
        if (how != 2 && how != 3) H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        H5Dclose(d);
    }
    free_buf(buf, strs, n);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(p);
}

/* A scalar fixed-length string dataset at path holding text. */
static void put_string(hid_t f, const char *path, const char *text, size_t len) {
    const char *name;
    hid_t p = parent_of(f, path, &name);
    if (p < 0) return;
    H5Ldelete(p, name, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len ? len : 1);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(p, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, len ? text : "");
        H5Dclose(d);
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(p);
}

static void replace_text(hid_t f, Prog *g) {
    static const char *const texts[] = {"/state/model_config", "/state/job_config", "/state/trainer_state",
                                        "/files/tokenizer.json", "/files/generation_config.json", "/files/x"};
    const char *path = texts[byte(g) % 6];
    size_t len = byte(g) % 200;
    if (len > g->n - g->at) len = g->n - g->at;
    put_string(f, path, (const char *)g->p + g->at, len);
    g->at += len;
}

/* A model config whose sizes come from the program. */
static void fuzzed_config(hid_t f, Prog *g) {
    static const char *const fields[] = {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                         "num_key_value_heads", "head_dim", "intermediate_size",
                                         "max_position_embeddings", "eos_token_id", "bos_token_id"};
    static const char *const values[] = {"0", "1", "2", "4", "8", "11", "12", "-1", "65536", "1073741824",
                                         "357913938", "1e9", "2.5", "null", "\"x\"", "[3, 99]"};
    int v[10] = {11, 8, 1, 2, 1, 4, 12, 32, 3, 0};
    char text[1024];
    size_t k = (size_t)snprintf(text, sizeof(text), "{\"architectures\": [\"%s\"], \"tie_word_embeddings\": true",
                                byte(g) & 1 ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM");
    unsigned changes = byte(g) % 4;
    unsigned which[4] = {99, 99, 99, 99}, what[4] = {0};
    for (unsigned c = 0; c < changes; c++) which[c] = byte(g) % 10, what[c] = byte(g) % 16;
    for (unsigned i = 0; i < 10 && k < sizeof(text); i++) {
        const char *val = NULL;
        for (unsigned c = 0; c < changes; c++)
            if (which[c] == i) val = values[what[c]];
        char num[16];
        if (!val) snprintf(num, sizeof(num), "%d", v[i]), val = num;
        k += (size_t)snprintf(text + k, sizeof(text) - k, ", \"%s\": %s", fields[i], val);
    }
    if (k < sizeof(text)) snprintf(text + k, sizeof(text) - k, "}");
    put_string(f, "/state/model_config", text, strlen(text));
}

static void add_link(hid_t f, Prog *g) {
    const char *name, *path = pick(g), *target = pick(g);
    hid_t p = parent_of(f, path, &name);
    if (p < 0) return;
    unsigned kind = byte(g) % 4;
    if (byte(g) & 1) H5Ldelete(p, name, H5P_DEFAULT);
    if (kind == 0) H5Lcreate_soft(target, p, name, H5P_DEFAULT, H5P_DEFAULT);
    else if (kind == 1) H5Lcreate_external(byte(g) & 1 ? tmpl : "/etc/hostname", target, p, name, H5P_DEFAULT, H5P_DEFAULT);
    else if (kind == 2) H5Lcreate_hard(f, target, p, name, H5P_DEFAULT, H5P_DEFAULT);
    else H5Lmove(f, target, p, name, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(p);
}

static void add_group_or_attr(hid_t f, Prog *g) {
    const char *name, *path = pick(g);
    if (byte(g) & 1) {
        hid_t p = parent_of(f, path, &name);
        if (p < 0) return;
        hid_t gr = H5Gcreate2(p, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (gr >= 0) H5Gclose(gr);
        H5Gclose(p);
        return;
    }
    hid_t o = H5Oopen(f, path, H5P_DEFAULT);
    if (o < 0) return;
    hid_t t = pick_type(g);
    hsize_t n;
    hid_t sp = pick_space(g, &n);
    char **strs;
    void *buf = fill(g, t, n, &strs);
    hid_t a = H5Acreate2(o, "x", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Awrite(a, t, buf);
        H5Aclose(a);
    }
    free_buf(buf, strs, n);
    H5Sclose(sp);
    H5Tclose(t);
    H5Oclose(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *out = fopen(cur, "wb");
    if (!out) return 0;
    fwrite(tmpl_bytes, 1, tmpl_len, out);
    fclose(out);
    /* the template (for links and virtual datasets that name it) */
    out = fopen(tmpl, "wb");
    if (out) {
        fwrite(tmpl_bytes, 1, tmpl_len, out);
        fclose(out);
    }
    hid_t f = H5Fopen(cur, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) abort();
    Prog g = {data, size, 0};
    for (int ops = 0; more(&g) && ops < 16; ops++) {
        switch (byte(&g) % 8) {
        case 0: {
            const char *name, *path = pick(&g);
            hid_t p = parent_of(f, path, &name);
            if (p >= 0) H5Ldelete(p, name, H5P_DEFAULT), H5Gclose(p);
            break;
        }
        case 1: replace_attr(f, &g); break;
        case 2: replace_dataset(f, &g); break;
        case 3: replace_text(f, &g); break;
        case 4: fuzzed_config(f, &g); break;
        case 5: add_link(f, &g); break;
        default: add_group_or_attr(f, &g); break;
        }
    }
    H5Fclose(f);
    if (checkpoint_seal(cur) == 0) {
        Model m;
        CheckpointState st;
        float *am = NULL, *av = NULL;
        ModelFiles files = {0};
        if (checkpoint_load(cur, &m, &st, &am, &av, &files) == 0) {
            model_free(&m);
            checkpoint_state_free(&st);
            free(am);
            free(av);
        }
        model_files_free(&files);
        ModelFiles side = {0};
        checkpoint_load_files(cur, &side);
        model_files_free(&side);
    }
    unlink(cur);
    unlink(tmpl);
    return 0;
}
