/*
 * test_checkpoint.c: the HDF5 checkpoint.
 *  - XXH64 against xxhsum's values, streaming == one-shot;
 *  - round trip bit-exact (params, AdamW m/v, step/seed/cursor, RNG bytes,
 *    job config, trainer state, side files) for Qwen2 (bias, tied),
 *    Llama (untied, GQA) and Qwen3 (qk-norm) shapes; same input, same bytes;
 *  - damage: truncation at many offsets, flipped bytes (one inside a
 *    tensor's data, found with H5Dget_chunk_info), each caught by the digest
 *    and, with the digest recomputed, by Fletcher32; wrong shapes, missing
 *    and extra tensors, wrong format version, a config that disagrees with
 *    the tensors, foreign HDF5 files and non-HDF5 files: all refused with a
 *    message naming the file, never a crash (also run under ASan).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "common/rng.h"
#include "model/io/checkpoint.h"
#include "test.h"

#define WORK GRPO_BINARY_DIR "/test_checkpoint.work"

static char *wpath(const char *name) {
    static char buf[8][1024];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 1024, "%s/%s", WORK, name);
    return p;
}

static ModelConfig make_cfg(const char *arch, int tied, int bias, int qk) {
    ModelConfig c;
    memset(&c, 0, sizeof(c));
    snprintf(c.architecture, sizeof(c.architecture), "%s", arch);
    snprintf(c.model_type, sizeof(c.model_type), "%s",
             !strcmp(arch, "Qwen2ForCausalLM") ? "qwen2" : !strcmp(arch, "Qwen3ForCausalLM") ? "qwen3" : "llama");
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
    c.tie_word_embeddings = tied;
    c.attention_bias = bias;
    c.qk_norm = qk;
    c.initializer_range = 0.02;
    c.bos_token_id = 1;
    c.eos_token_ids[0] = 2;
    c.n_eos = 1;
    return c;
}

static float *random_block(size_t n, uint64_t seed) {
    float *b = xalloc_aligned(n * sizeof(float));
    Rng r;
    rng_init(&r, seed, 0, 0, 0);
    for (size_t i = 0; i < n; i++) b[i] = (float)rng_normal(&r);
    return b;
}

static int same_bits(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof(float)) == 0; }

static void test_xxh64(void) {
    uint8_t buf[1000];
    for (int i = 0; i < 1000; i++) buf[i] = (uint8_t)(i * 7 % 251);
    /* Values from `xxhsum -H1`. */
    TEST_CHECK(xxh64("", 0, 0) == 0xef46db3751d8e999ULL, "xxh64('')");
    TEST_CHECK(xxh64("a", 1, 0) == 0xd24ec4f1a98c6e5bULL, "xxh64('a')");
    TEST_CHECK(xxh64("abc", 3, 0) == 0x44bc2cf5ad770999ULL, "xxh64('abc')");
    TEST_CHECK(xxh64(buf, 37, 0) == 0x478890c607390313ULL, "xxh64(37 bytes)");
    TEST_CHECK(xxh64(buf, 1000, 0) == 0x023fd2ed1ff957d5ULL, "xxh64(1000 bytes)");
    int bad = 0;
    for (size_t split = 0; split <= 1000; split += 7) {
        Xxh64 s;
        xxh64_init(&s, 0);
        xxh64_update(&s, buf, split / 3);
        xxh64_update(&s, buf + split / 3, split - split / 3);
        xxh64_update(&s, buf + split, 1000 - split);
        bad += xxh64_final(&s) != 0x023fd2ed1ff957d5ULL;
    }
    TEST_CHECK(bad == 0, "streaming xxh64 differs for %d splits", bad);
}

static void test_round_trip(const ModelConfig *cfg, const char *name) {
    Model m;
    TEST_CHECK(model_init(&m, cfg) == 0, "%s: %s", name, err_msg());
    model_init_random(&m, 11);
    float *am = random_block(m.n_params, 1), *av = random_block(m.n_params, 2);
    uint8_t rng_bytes[sizeof(Rng)];
    Rng r;
    rng_init(&r, 5, 6, 7, 8);
    rng_u32(&r);
    memcpy(rng_bytes, &r, sizeof(r));
    CheckpointState st = {.step = 1234567890123LL,
                          .seed = 0xfedcba9876543210ULL,
                          .data_cursor = 4242,
                          .rng = rng_bytes,
                          .rng_len = sizeof(rng_bytes),
                          .job_config = "{\"train\": {\"steps\": 10}, \"text\": \"caf\xc3\xa9 \\u0000\"}",
                          .trainer_state = "{\"best\": 0.5}"};
    ModelFiles files = {0};
    const char *tok = "{\"model\": {\"type\": \"BPE\"}}";
    const char *gen = "{\"eos_token_id\": [2, 5], \"temperature\": 0.7}";
    model_files_set(&files, "tokenizer.json", tok, strlen(tok));
    model_files_set(&files, "generation_config.json", gen, strlen(gen));
    model_files_set(&files, "merges.txt", "", 0); /* empty file */
    char *path = wpath(name);
    TEST_CHECK(checkpoint_save(path, &m, &st, am, av, &files) == 0, "%s: save: %s", name, err_msg());
    TEST_CHECK(checkpoint_verify(path) == 0, "%s: verify: %s", name, err_msg());

    Model m2;
    CheckpointState st2;
    float *am2 = NULL, *av2 = NULL;
    ModelFiles files2 = {0};
    TEST_CHECK(checkpoint_load(path, &m2, &st2, &am2, &av2, &files2) == 0, "%s: load: %s", name, err_msg());
    if (!m2.params) goto out;
    ModelConfig want = *cfg;
    want.eos_token_ids[0] = 2, want.eos_token_ids[1] = 5, want.n_eos = 2; /* generation_config applied */
    TEST_CHECK(memcmp(&m2.cfg, &want, sizeof(want)) == 0, "%s: config differs after the round trip", name);
    TEST_CHECK(m2.n_params == m.n_params && same_bits(m.params, m2.params, m.n_params), "%s: params differ", name);
    TEST_CHECK(am2 && same_bits(am, am2, m.n_params), "%s: adam m differs", name);
    TEST_CHECK(av2 && same_bits(av, av2, m.n_params), "%s: adam v differs", name);
    TEST_CHECK(st2.step == st.step && st2.seed == st.seed && st2.data_cursor == st.data_cursor, "%s: state", name);
    TEST_CHECK(st2.rng_len == sizeof(rng_bytes) && st2.rng && !memcmp(st2.rng, rng_bytes, sizeof(rng_bytes)),
               "%s: rng bytes", name);
    TEST_CHECK(st2.job_config && !strcmp(st2.job_config, st.job_config), "%s: job config", name);
    TEST_CHECK(st2.trainer_state && !strcmp(st2.trainer_state, st.trainer_state), "%s: trainer state", name);
    const char *t2 = model_files_get(&files2, "tokenizer.json", NULL);
    const char *g2 = model_files_get(&files2, "generation_config.json", NULL);
    size_t mlen = 99;
    const char *m2txt = model_files_get(&files2, "merges.txt", &mlen);
    TEST_CHECK(t2 && !strcmp(t2, tok) && g2 && !strcmp(g2, gen) && m2txt && mlen == 0, "%s: side files", name);
    TEST_CHECK(model_files_get(&files2, "config.json", NULL) != NULL, "%s: config.json in files", name);

    /* Side files alone. */
    ModelFiles files3 = {0};
    TEST_CHECK(checkpoint_load_files(path, &files3) == 0 && model_files_get(&files3, "tokenizer.json", NULL),
               "%s: checkpoint_load_files: %s", name, err_msg());
    model_files_free(&files3);

    /* Saving again gives the same bytes (no timestamps in the file). */
    char *path2 = wpath("again.h5");
    TEST_CHECK(checkpoint_save(path2, &m, &st, am, av, &files) == 0, "%s", err_msg());
    size_t la, lb;
    char *a = file_read_all(path, &la), *b = file_read_all(path2, &lb);
    TEST_CHECK(a && b && la == lb && !memcmp(a, b, la), "%s: two saves differ", name);
    free(a);
    free(b);
    model_free(&m2);
    checkpoint_state_free(&st2);
out:
    free(am2);
    free(av2);
    model_files_free(&files2);
    model_files_free(&files);
    free(am);
    free(av);
    model_free(&m);
}

static void test_model_only(void) {
    ModelConfig cfg = make_cfg("LlamaForCausalLM", 0, 0, 0);
    Model m;
    model_init(&m, &cfg);
    model_init_random(&m, 3);
    char *path = wpath("model_only.h5");
    TEST_CHECK(checkpoint_save(path, &m, NULL, NULL, NULL, NULL) == 0, "%s", err_msg());
    Model m2;
    CheckpointState st;
    float *am = (float *)1, *av = (float *)1;
    ModelFiles files = {0};
    TEST_CHECK(checkpoint_load(path, &m2, &st, &am, &av, &files) == 0, "%s", err_msg());
    TEST_CHECK(am == NULL && av == NULL, "no optimizer state -> NULL moments");
    TEST_CHECK(st.step == 0 && st.rng == NULL && st.job_config == NULL, "empty state");
    TEST_CHECK(files.n == 1 && model_files_get(&files, "config.json", NULL), "only config.json");
    TEST_CHECK(m2.params && same_bits(m.params, m2.params, m.n_params), "params");
    if (m2.params) model_free(&m2);
    checkpoint_state_free(&st);
    model_files_free(&files);
    TEST_CHECK(checkpoint_save(path, &m, NULL, m.params, NULL, NULL) == -1, "one moment without the other");
    model_free(&m);
}

/* Extra parameter-shaped blocks (GRPO's reference policy) round-trip
 * bit-exactly; reserved or odd names are refused. */
static void test_blocks(void) {
    ModelConfig cfg = make_cfg("Qwen2ForCausalLM", 1, 1, 0);
    Model m;
    model_init(&m, &cfg);
    model_init_random(&m, 5);
    float *ref = random_block(m.n_params, 9);
    CheckpointBlock blk = {.name = "reference", .data = ref};
    CheckpointState st = {.step = 7, .blocks = &blk, .n_blocks = 1};
    char *path = wpath("blocks.h5");
    TEST_CHECK(checkpoint_save(path, &m, &st, NULL, NULL, NULL) == 0, "save with a block: %s", err_msg());
    Model m2;
    CheckpointState got;
    TEST_CHECK(checkpoint_load(path, &m2, &got, NULL, NULL, NULL) == 0, "load: %s", err_msg());
    TEST_CHECK(got.n_blocks == 1 && !strcmp(got.blocks[0].name, "reference") &&
                   same_bits(got.blocks[0].data, ref, m.n_params),
               "the reference block comes back bit-exact (%zu blocks)", got.n_blocks);
    TEST_CHECK(checkpoint_verify(path) == 0, "verify reads the block: %s", err_msg());
    checkpoint_state_free(&got);
    model_free(&m2);
    static const char *const bad[] = {"model", "state", "Ref", "a/b", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(blk.name, sizeof(blk.name), "%s", bad[i]);
        TEST_CHECK(checkpoint_save(path, &m, &st, NULL, NULL, NULL) == -1 && strstr(err_msg(), "block"),
                   "block name '%s' refused: %s", bad[i], err_msg());
    }
    free(ref);
    model_free(&m);
}

/* ---- damage ---- */

static void copy_file(const char *from, const char *to) {
    size_t n;
    char *b = file_read_all(from, &n);
    ASSERT(b && file_write_atomic(to, b, n) == 0);
    free(b);
}

static void flip_byte(const char *path, off_t at, uint8_t mask) {
    int fd = open(path, O_RDWR);
    ASSERT(fd >= 0);
    uint8_t c;
    ASSERT(pread(fd, &c, 1, at) == 1);
    c ^= mask;
    ASSERT(pwrite(fd, &c, 1, at) == 1);
    close(fd);
}

static void expect_refused(const char *path, const char *phrase, const char *what) {
    Model m;
    CheckpointState st;
    float *am = NULL, *av = NULL;
    ModelFiles files = {0};
    int rc = checkpoint_load(path, &m, &st, &am, &av, &files);
    TEST_CHECK(rc == -1, "%s: accepted", what);
    TEST_CHECK(strstr(err_msg(), path) && strstr(err_msg(), phrase), "%s: message '%s' lacks the path or '%s'", what,
               err_msg(), phrase);
    TEST_CHECK(m.params == NULL && am == NULL && av == NULL && files.n == 0 && st.job_config == NULL,
               "%s: something left allocated", what);
    if (rc == 0) {
        model_free(&m);
        checkpoint_state_free(&st);
        free(am);
        free(av);
    }
    model_files_free(&files);
    TEST_CHECK(checkpoint_verify(path) == -1, "%s: verify accepted", what);
}

/* The absolute file offset of the first chunk of /model/<name>. */
static haddr_t tensor_offset(const char *path, const char *name, hsize_t *size) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    char p[256];
    snprintf(p, sizeof(p), "/model/%s", name);
    hid_t d = H5Dopen2(f, p, H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t off[2];
    unsigned mask;
    haddr_t addr = HADDR_UNDEF;
    H5Dget_chunk_info(d, sp, 0, off, &mask, &addr, size);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    return addr;
}

/* Opens a sealed checkpoint with HDF5 for editing; close + reseal after. */
static hid_t edit_open(const char *path) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT(f >= 0);
    return f;
}

static void edit_close(hid_t f, const char *path) {
    H5Fclose(f);
    TEST_CHECK(checkpoint_seal(path) == 0, "reseal %s: %s", path, err_msg());
}

static void replace_dataset(hid_t f, const char *name, int ndim, const hsize_t *dims) {
    H5Ldelete(f, name, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(ndim, dims, NULL);
    hid_t d = H5Dcreate2(f, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    float *z = xcalloc(n, sizeof(float));
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, z);
    free(z);
    H5Dclose(d);
    H5Sclose(sp);
}

static void replace_text(hid_t f, const char *name, const char *text) {
    H5Ldelete(f, name, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(text));
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, text);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
}

static void test_damage(void) {
    ModelConfig cfg = make_cfg("Qwen2ForCausalLM", 1, 1, 0);
    Model m;
    model_init(&m, &cfg);
    model_init_random(&m, 4);
    float *am = random_block(m.n_params, 1), *av = random_block(m.n_params, 2);
    CheckpointState st = {.step = 3, .job_config = "{}"};
    char *good = wpath("good.h5"), *bad = wpath("bad.h5");
    TEST_CHECK(checkpoint_save(good, &m, &st, am, av, NULL) == 0, "%s", err_msg());
    struct stat sb;
    stat(good, &sb);
    const off_t size = sb.st_size;

    /* Truncation. */
    const off_t cuts[] = {0, 1, 17, 100, 511, 512, 513, 520, 1000, 2048, size / 3, size / 2, size - 100, size - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        copy_file(good, bad);
        TEST_CHECK(truncate(bad, cuts[i]) == 0, "truncate");
        char what[64];
        snprintf(what, sizeof(what), "truncated to %lld", (long long)cuts[i]);
        expect_refused(bad, cuts[i] == 0 ? "empty" : cuts[i] < 16 ? "not a grpo checkpoint" : "truncated", what);
    }
    /* Appended bytes. */
    copy_file(good, bad);
    FILE *f = fopen(bad, "ab");
    fputs("junk", f);
    fclose(f);
    expect_refused(bad, "appended", "appended bytes");

    /* A flipped byte inside tensor data: the digest catches it ... */
    const size_t C = (size_t)cfg.hidden_size;
    hsize_t csize = 0;
    haddr_t addr = tensor_offset(good, "model.norm.weight", &csize);
    TEST_CHECK(addr != HADDR_UNDEF && csize == C * sizeof(float) + 4, "chunk of model.norm.weight (+ Fletcher32 sum): %llu", (unsigned long long)csize);
    /* H5Dget_chunk_info's address is relative to the superblock (after the
     * 512-byte user block); find where the values really are. */
    float probe[2];
    int fd = open(good, O_RDONLY);
    off_t at = (off_t)addr + CHECKPOINT_USERBLOCK;
    ASSERT(pread(fd, probe, sizeof(probe), at) == sizeof(probe));
    close(fd);
    TEST_CHECK(probe[0] == m.p.lnf[0] && probe[1] == m.p.lnf[1], "tensor bytes at the chunk address");
    copy_file(good, bad);
    flip_byte(bad, at + 5, 0x10);
    expect_refused(bad, "digest", "flipped tensor byte");
    /* ... and with the digest recomputed, Fletcher32 still does. */
    TEST_CHECK(checkpoint_seal(bad) == 0, "reseal: %s", err_msg());
    expect_refused(bad, "model.norm.weight", "flipped tensor byte, resealed");
    TEST_CHECK(strstr(err_msg(), "Fletcher32") != NULL, "the message names Fletcher32: %s", err_msg());

    /* Flipped bytes anywhere (header, metadata, data) are refused. */
    for (off_t pos = 3; pos < size; pos += size / 23) {
        copy_file(good, bad);
        flip_byte(bad, pos, 0x01);
        char what[64];
        snprintf(what, sizeof(what), "flip at %lld", (long long)pos);
        expect_refused(bad, pos < 512 ? "" : "digest", what);
    }
    /* Bytes changed in HDF5 metadata with the digest recomputed: HDF5's
     * own checks must refuse them or the load succeeds with the right data;
     * never a crash. (Flips outside the superblock's checksummed area may be
     * harmless padding.) */
    for (off_t pos = 512; pos < 512 + 2048 && pos < size; pos += 61) {
        copy_file(good, bad);
        flip_byte(bad, pos, 0x40);
        checkpoint_seal(bad);
        Model mm;
        if (checkpoint_load(bad, &mm, NULL, NULL, NULL, NULL) == 0) model_free(&mm);
    }

    /* Wrong shape. */
    copy_file(good, bad);
    hid_t h = edit_open(bad);
    hsize_t d1[1] = {C + 1};
    replace_dataset(h, "/model/model.norm.weight", 1, d1);
    edit_close(h, bad);
    expect_refused(bad, "has shape [25] but the stored config needs [24]", "wrong shape");
    /* Missing tensor. */
    copy_file(good, bad);
    h = edit_open(bad);
    H5Ldelete(h, "/model/model.layers.1.mlp.up_proj.weight", H5P_DEFAULT);
    edit_close(h, bad);
    expect_refused(bad, "model.layers.1.mlp.up_proj.weight is missing", "missing tensor");
    /* Missing optimizer tensor. */
    copy_file(good, bad);
    h = edit_open(bad);
    H5Ldelete(h, "/optimizer/v/model.norm.weight", H5P_DEFAULT);
    edit_close(h, bad);
    expect_refused(bad, "optimizer/v/model.norm.weight is missing", "missing moment");
    /* Extra tensor (e.g. an untied head for a tied config). */
    copy_file(good, bad);
    h = edit_open(bad);
    hsize_t d2[2] = {(hsize_t)cfg.vocab_size, C};
    replace_dataset(h, "/model/lm_head.weight", 2, d2);
    edit_close(h, bad);
    expect_refused(bad, "lm_head.weight", "extra tensor");
    /* Wrong format version (attribute) and wrong header version. */
    copy_file(good, bad);
    h = edit_open(bad);
    /* (Rewriting the attribute in place fails in HDF5 1.10 here; replace it.) */
    H5Adelete_by_name(h, "/state", "format_version", H5P_DEFAULT);
    hid_t asp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(h, "/state", "format_version", H5T_STD_I32LE, asp, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT);
    int v2 = 2;
    TEST_CHECK(H5Awrite(a, H5T_NATIVE_INT, &v2) >= 0, "rewrite format_version");
    H5Aclose(a);
    H5Sclose(asp);
    edit_close(h, bad);
    expect_refused(bad, "format version 2", "format_version attribute");
    copy_file(good, bad);
    flip_byte(bad, 16, '1' ^ '9');
    expect_refused(bad, "format version 9", "header version");
    /* A config that disagrees with the tensors. */
    copy_file(good, bad);
    h = edit_open(bad);
    ModelConfig c2 = cfg;
    c2.intermediate_size = 44;
    cJSON *cj = model_config_to_json(&c2);
    char *text = cJSON_PrintUnformatted(cj);
    replace_text(h, "/state/model_config", text);
    cJSON_free(text);
    cJSON_Delete(cj);
    edit_close(h, bad);
    expect_refused(bad, "the stored config needs [44, 24]", "config mismatch");
    /* A config that is not JSON / not supported. */
    copy_file(good, bad);
    h = edit_open(bad);
    replace_text(h, "/state/model_config", "{\"architectures\": [\"GPT2LMHeadModel\"], ");
    edit_close(h, bad);
    expect_refused(bad, "/state/model_config", "broken config");
    /* A tensor stored as fp64. */
    copy_file(good, bad);
    h = edit_open(bad);
    H5Ldelete(h, "/model/model.norm.weight", H5P_DEFAULT);
    hid_t sp = H5Screate_simple(1, (hsize_t[]){C}, NULL);
    hid_t ds = H5Dcreate2(h, "/model/model.norm.weight", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds);
    H5Sclose(sp);
    edit_close(h, bad);
    expect_refused(bad, "is not fp32", "fp64 tensor");

    /* Not a checkpoint at all. */
    f = fopen(bad, "wb");
    for (int i = 0; i < 4096; i++) fputc((i * 31) & 0xff, f);
    fclose(f);
    expect_refused(bad, "not a grpo checkpoint", "random bytes");
    hid_t plain = H5Fcreate(bad, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(plain);
    expect_refused(bad, "not a grpo checkpoint", "plain HDF5");
    TEST_CHECK(checkpoint_probe(bad) == 0 && checkpoint_probe(good) == 1, "probe");
    expect_refused(wpath("does-not-exist.h5"), "cannot open", "missing file");

    /* A failed save leaves the old file untouched and no temporary behind. */
    TEST_CHECK(checkpoint_save(wpath("no/such/dir/x.h5"), &m, NULL, NULL, NULL, NULL) == -1, "save into a missing dir");
    size_t before_len, after_len;
    char *before = file_read_all(good, &before_len);
    ModelFiles bad_files = {0};
    model_files_set(&bad_files, "a/b", "x", 1); /* '/' makes a nested HDF5 path that does not exist */
    TEST_CHECK(checkpoint_save(good, &m, NULL, NULL, NULL, &bad_files) == -1, "save with a bad side file name");
    model_files_free(&bad_files);
    char *after = file_read_all(good, &after_len);
    TEST_CHECK(before && after && before_len == after_len && !memcmp(before, after, after_len),
               "a failed save changed the existing file");
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", good, (long)getpid());
    TEST_CHECK(access(tmp, F_OK) != 0, "temporary file left behind");
    free(before);
    free(after);
    free(am);
    free(av);
    model_free(&m);
}

int main(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the test's own HDF5 edits */
    mkdir_p(WORK);
    test_xxh64();
    ModelConfig q2 = make_cfg("Qwen2ForCausalLM", 1, 1, 0);
    ModelConfig ll = make_cfg("LlamaForCausalLM", 0, 0, 0);
    ModelConfig q3 = make_cfg("Qwen3ForCausalLM", 0, 0, 1);
    test_round_trip(&q2, "qwen2.h5");
    test_round_trip(&ll, "llama.h5");
    test_round_trip(&q3, "qwen3.h5");
    test_model_only();
    test_blocks();
    test_damage();
    return test_summary();
}
