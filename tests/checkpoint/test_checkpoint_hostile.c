/*
 * test_checkpoint_hostile.c: checkpoints crafted with the HDF5 API (then
 * resealed, as an attacker can) that the reader must refuse with a clear
 * message and without touching memory it does not own (also run under
 * ASan), and a write path that notices every failed HDF5 call:
 *  - /state attributes that are arrays (400 elements) or of the wrong
 *    class, a negative step, a format string that does not fit;
 *  - a dataset whose data lives in an external file (/etc/passwd), a
 *    virtual dataset, a soft link, an external link;
 *  - a model_config whose sizes overflow, or that claims far more tensor
 *    data than the file holds;
 *  - HDF5 plugins stay off: a dataset with an unknown filter fails to read.
 */
#define _GNU_SOURCE
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "model/io/checkpoint.h"
#include "test.h"

#define WORK GRPO_BINARY_DIR "/test_checkpoint_hostile.work"

static char *wpath(const char *name) {
    static char buf[8][1024];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 1024, "%s/%s", WORK, name);
    return p;
}

static ModelConfig tiny_cfg(void) {
    ModelConfig c;
    memset(&c, 0, sizeof(c));
    snprintf(c.architecture, sizeof(c.architecture), "LlamaForCausalLM");
    snprintf(c.model_type, sizeof(c.model_type), "llama");
    c.vocab_size = 37;
    c.hidden_size = 24;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 6;
    c.intermediate_size = 40;
    c.max_position_embeddings = 64;
    c.rope_theta = 10000.0;
    c.rms_norm_eps = 1e-6;
    c.initializer_range = 0.02;
    c.bos_token_id = 1;
    c.eos_token_ids[0] = 2;
    c.n_eos = 1;
    return c;
}

/* A fresh valid checkpoint at name (with optimizer moments). */
static const char *fresh(const char *name) {
    ModelConfig c = tiny_cfg();
    Model m;
    ASSERT(model_init(&m, &c) == 0);
    model_init_random(&m, 7);
    CheckpointState st = {.step = 3, .seed = 1, .data_cursor = 9};
    const char *p = wpath(name);
    ASSERT(checkpoint_save(p, &m, &st, m.params, m.params, NULL) == 0);
    model_free(&m);
    return p;
}

static hid_t open_rw(const char *p) {
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT(f >= 0);
    return f;
}

/* Seals p again and checks that loading it fails with a message holding want. */
static void expect_refused(const char *p, const char *want, const char *what) {
    TEST_CHECK(checkpoint_seal(p) == 0, "%s: reseal: %s", what, err_msg());
    Model m;
    CheckpointState st;
    float *am = NULL, *av = NULL;
    ModelFiles files = {0};
    int rc = checkpoint_load(p, &m, &st, &am, &av, &files);
    TEST_CHECK(rc == -1 && strstr(err_msg(), want), "%s: want '%s', got rc %d '%s'", what, want, rc,
               rc ? err_msg() : "");
    if (rc == 0) {
        model_free(&m);
        checkpoint_state_free(&st);
        free(am);
        free(av);
        model_files_free(&files);
    }
    rc = checkpoint_load_files(p, &files);
    if (strstr(want, "link") || strstr(want, "external") || strstr(want, "virtual"))
        TEST_CHECK(rc == -1 && strstr(err_msg(), want), "%s (files only): got '%s'", what, rc ? err_msg() : "");
    model_files_free(&files);
}

/* Replaces attribute name of /state with one of file type t and nelem
 * elements (0: scalar) holding data of memory type mt. */
static void replace_attr(const char *p, const char *name, hid_t t, hid_t mt, hsize_t nelem, const void *data) {
    hid_t f = open_rw(p);
    hid_t g = H5Gopen2(f, "state", H5P_DEFAULT);
    H5Adelete(g, name);
    hid_t sp = nelem ? H5Screate_simple(1, &nelem, NULL) : H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT(a >= 0 && H5Awrite(a, mt, data) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(f);
}

static void attrs(void) {
    /* format: 400 strings of 18 bytes (the reported stack overflow of 7,200 bytes) */
    char *many = calloc(400, 18);
    for (int i = 0; i < 400; i++) memcpy(many + 18 * i, "grpo.c checkpoint", 17);
    hid_t t18 = H5Tcopy(H5T_C_S1);
    H5Tset_size(t18, 18);
    const char *p = fresh("fmt400.h5");
    replace_attr(p, "format", t18, t18, 400, many);
    expect_refused(p, "attribute 'format' is not a short fixed-length string", "format[400]");
    /* format too long for the buffer */
    char big[300];
    memset(big, 'x', sizeof(big));
    big[299] = '\0';
    hid_t t300 = H5Tcopy(H5T_C_S1);
    H5Tset_size(t300, 300);
    p = fresh("fmtlong.h5");
    replace_attr(p, "format", t300, t300, 0, big);
    expect_refused(p, "attribute 'format' is not a short fixed-length string", "format of 300 bytes");
    H5Tclose(t18);
    H5Tclose(t300);
    free(many);

    int64_t v400[400];
    for (int i = 0; i < 400; i++) v400[i] = 1;
    const char *ints[] = {"format_version", "step", "seed", "data_cursor"};
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof(name), "int400_%d.h5", i);
        p = fresh(name);
        replace_attr(p, ints[i], H5T_STD_I64LE, H5T_NATIVE_INT64, 400, v400);
        char want[128];
        snprintf(want, sizeof(want), "attribute '%s' is not one integer", ints[i]);
        expect_refused(p, want, ints[i]);
    }
    double d = 1.0;
    p = fresh("stepfloat.h5");
    replace_attr(p, "step", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &d);
    expect_refused(p, "attribute 'step' is not one integer", "step as a float");
    int64_t neg = -5;
    p = fresh("stepneg.h5");
    replace_attr(p, "step", H5T_STD_I64LE, H5T_NATIVE_INT64, 0, &neg);
    expect_refused(p, "step is -5", "negative step");
    /* a one-element array is as good as a scalar; a 16-bit version too */
    int16_t one = 1;
    p = fresh("v16.h5");
    replace_attr(p, "format_version", H5T_STD_I16BE, H5T_NATIVE_INT16, 1, &one);
    TEST_CHECK(checkpoint_seal(p) == 0 && checkpoint_verify(p) == 0, "a 16-bit one-element version reads: %s",
               err_msg());
}

/* Replaces /model/model.norm.weight with a dataset configured by fn. */
static void replace_norm(const char *p, void (*fn)(hid_t f, hid_t g)) {
    hid_t f = open_rw(p);
    hid_t g = H5Gopen2(f, "model", H5P_DEFAULT);
    H5Ldelete(g, "model.norm.weight", H5P_DEFAULT);
    fn(f, g);
    H5Gclose(g);
    H5Fclose(f);
}

/* model.norm.weight (24 floats) in g, created with dcpl (closed here). */
static hid_t norm_dataset(hid_t g, hid_t dcpl) {
    hsize_t dims[1] = {24};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(g, "model.norm.weight", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT(d >= 0);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return d;
}

static void external_storage(hid_t f, hid_t g) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_external(dcpl, "/etc/passwd", 0, 24 * 4);
    H5Dclose(norm_dataset(g, dcpl));
}

static void virtual_dataset(hid_t f, hid_t g) {
    hsize_t dims[1] = {24};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_virtual(dcpl, sp, WORK "/other.h5", "/data", sp);
    H5Sclose(sp);
    H5Dclose(norm_dataset(g, dcpl));
}

static void soft_link(hid_t f, hid_t g) {
    ASSERT(H5Lcreate_soft("/model/model.layers.0.input_layernorm.weight", g, "model.norm.weight", H5P_DEFAULT,
                          H5P_DEFAULT) >= 0);
}

static void external_link(hid_t f, hid_t g) {
    ASSERT(H5Lcreate_external(WORK "/other.h5", "/data", g, "model.norm.weight", H5P_DEFAULT, H5P_DEFAULT) >= 0);
}

/* A filter the test registers for writing and removes before reading: to
 * the reader an unknown filter id, i.e. a plugin HDF5 would look for in
 * HDF5_PLUGIN_PATH. */
#define TEST_FILTER 32000
static size_t pass_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                          size_t *buf_size, void **buf) {
    return nbytes;
}
static const H5Z_class2_t test_filter = {H5Z_CLASS_T_VERS, TEST_FILTER, 1, 1, "test", NULL, NULL, pass_filter};

static void unknown_filter(hid_t f, hid_t g) {
    ASSERT(H5Zregister(&test_filter) >= 0);
    hsize_t chunk[1] = {24};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    ASSERT(H5Pset_filter(dcpl, TEST_FILTER, H5Z_FLAG_MANDATORY, 0, NULL) >= 0);
    hid_t d = norm_dataset(g, dcpl);
    float x[24] = {0};
    ASSERT(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
    H5Dclose(d);
}

static void links(void) {
    /* the file the links point at */
    hid_t o = H5Fcreate(WORK "/other.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[1] = {24};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(o, "data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = 1.0f;
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(o);

    const char *p = fresh("external.h5");
    replace_norm(p, external_storage);
    expect_refused(p, "keeps its data in an external file", "external storage");
    p = fresh("virtual.h5");
    replace_norm(p, virtual_dataset);
    expect_refused(p, "is a virtual dataset", "virtual dataset");
    p = fresh("soft.h5");
    replace_norm(p, soft_link);
    expect_refused(p, "model.norm.weight is a soft link", "soft link");
    p = fresh("extlink.h5");
    replace_norm(p, external_link);
    expect_refused(p, "model.norm.weight is an external link", "external link");
    /* an external link somewhere grpo would never read is refused too */
    p = fresh("extlink2.h5");
    hid_t f = open_rw(p);
    ASSERT(H5Lcreate_external(WORK "/other.h5", "/data", f, "elsewhere", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_refused(p, "/elsewhere is an external link", "external link at the top");
    p = fresh("filter.h5");
    replace_norm(p, unknown_filter);
    H5Zunregister(TEST_FILTER);
    TEST_CHECK(checkpoint_seal(p) == 0, "reseal");
    TEST_CHECK(checkpoint_verify(p) == -1 && strstr(err_msg(), "model.norm.weight"), "an unknown filter: %s",
               err_msg());
}

/* Replaces /state/model_config with text. */
static void replace_config(const char *p, const char *text) {
    hid_t f = open_rw(p);
    hid_t g = H5Gopen2(f, "state", H5P_DEFAULT);
    H5Ldelete(g, "model_config", H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(text));
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(g, "model_config", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT(d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, text) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(g);
    H5Fclose(f);
}

static void configs(void) {
    const char *p = fresh("overflow.h5");
    replace_config(p, "{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 256, \"hidden_size\": 65536, "
                      "\"num_hidden_layers\": 65536, \"num_attention_heads\": 8, \"intermediate_size\": 357913938}");
    expect_refused(p, "more than a 64-bit machine can address", "overflowing config");
    p = fresh("toobig.h5");
    replace_config(p, "{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 100000, \"hidden_size\": 4096, "
                      "\"num_hidden_layers\": 32, \"num_attention_heads\": 32, \"intermediate_size\": 11008}");
    expect_refused(p, "but the file has only", "a 7B config in a tiny file");
    p = fresh("widths.h5");
    replace_config(p, "{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 256, \"hidden_size\": 64, "
                      "\"num_hidden_layers\": 1, \"num_attention_heads\": 1048576, \"head_dim\": 4096, "
                      "\"intermediate_size\": 64}");
    expect_refused(p, "num_attention_heads x head_dim", "q width beyond an int");
}

int main(void) {
    mkdir(GRPO_BINARY_DIR, 0755);
    mkdir(WORK, 0755);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    attrs();
    links();
    configs();
    return test_summary();
}
