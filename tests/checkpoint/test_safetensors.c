/*
 * test_safetensors.c: the safetensors reader and writer.
 *  - bf16/f16 -> fp32 for all 65536 codes against the IEEE formula computed
 *    in double (an independent reference), fp32 -> bf16 round-to-nearest-even
 *    against a double-precision nearest-value search;
 *  - the hostile files of tests/fixtures/hf/hostile (and every prefix of a
 *    valid file, and hand-made bad headers) are refused with a message that
 *    names the file and the problem, without crashing (run under ASan too);
 *  - writer -> reader round trip: fp32 bit-exact, bf16 = the expected rounding.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "common/rng.h"
#include "model/io/safetensors.h"
#include "test.h"

static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- conversions ---- */

static void test_bf16_to_f32_table(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        int sign = h >> 15, exp = (h >> 7) & 0xff, man = h & 0x7f;
        float got = bf16_to_f32((uint16_t)h);
        if (exp == 255) {
            if (man == 0) bad += !(isinf(got) && (signbit(got) != 0) == sign);
            else bad += !(isnan(got) && f2u(got) == h << 16); /* payload kept */
            continue;
        }
        double v = exp == 0 ? ldexp(man, -133) : ldexp(128 + man, exp - 134);
        float want = (float)(sign ? -v : v);
        bad += f2u(got) != f2u(want);
    }
    TEST_CHECK(bad == 0, "%d of 65536 bf16 codes widen wrongly", bad);
}

static void test_f16_to_f32_table(void) {
    int bad = 0, first = -1;
    for (uint32_t h = 0; h < 65536; h++) {
        int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
        float got = f16_to_f32((uint16_t)h);
        int ok;
        if (exp == 31) {
            if (man == 0) ok = isinf(got) && (signbit(got) != 0) == sign;
            else ok = isnan(got) && (f2u(got) & 0x7fffffu) == (uint32_t)man << 13 && (signbit(got) != 0) == sign;
        } else {
            /* subnormals: man * 2^-24; normals: (1024 + man) * 2^(exp - 25) */
            double v = exp == 0 ? ldexp(man, -24) : ldexp(1024 + man, exp - 25);
            float want = (float)(sign ? -v : v);
            ok = f2u(got) == f2u(want); /* also tells +0 from -0 */
        }
        if (!ok && first < 0) first = (int)h;
        bad += !ok;
    }
    TEST_CHECK(bad == 0, "%d of 65536 f16 codes widen wrongly (first 0x%04x)", bad, first);
    TEST_CHECK(f16_to_f32(0x0001) == (float)ldexp(1, -24), "smallest f16 subnormal");
    TEST_CHECK(f16_to_f32(0x7bff) == 65504.0f, "largest f16");
    TEST_CHECK(f2u(f16_to_f32(0x8000)) == 0x80000000u, "-0");
}

/* The bf16 nearest to x, ties to even mantissa, computed in double. */
static uint16_t ref_f32_to_bf16(float x) {
    uint32_t b = f2u(x);
    uint32_t lo = b & 0xffff0000u;
    int exp = (int)((b >> 23) & 0xff);
    double ulp = ldexp(1.0, (exp ? exp : 1) - 127 - 7); /* bf16 spacing at this binade */
    double ax = fabs((double)x), vlo = fabs((double)u2f(lo)), vhi = vlo + ulp;
    double dlo = ax - vlo, dhi = vhi - ax;
    int up = dhi < dlo || (dhi == dlo && ((lo >> 16) & 1));
    return (uint16_t)((up ? lo + 0x10000u : lo) >> 16);
}

static void test_f32_to_bf16(void) {
    TEST_CHECK(f32_to_bf16(1.0f) == 0x3f80, "1.0");
    TEST_CHECK(f32_to_bf16(u2f(0x3f808000u)) == 0x3f80, "tie rounds to even (down)");
    TEST_CHECK(f32_to_bf16(u2f(0x3f818000u)) == 0x3f82, "tie rounds to even (up)");
    TEST_CHECK(f32_to_bf16(u2f(0x3f808001u)) == 0x3f81, "above the tie rounds up");
    TEST_CHECK(f32_to_bf16(INFINITY) == 0x7f80 && f32_to_bf16(-INFINITY) == 0xff80, "inf");
    TEST_CHECK(f32_to_bf16(u2f(0x7f7fffffu)) == 0x7f80, "FLT_MAX rounds to inf");
    uint16_t qn = f32_to_bf16(NAN), sn = f32_to_bf16(u2f(0x7f800001u));
    TEST_CHECK((qn & 0x7f80) == 0x7f80 && (qn & 0x7f), "NaN stays NaN (0x%04x)", qn);
    TEST_CHECK((sn & 0x7f80) == 0x7f80 && (sn & 0x7f), "signalling NaN with low payload stays NaN (0x%04x)", sn);
    TEST_CHECK(f32_to_bf16(-0.0f) == 0x8000, "-0");
    Rng r;
    rng_init(&r, 1234, 0, 0, 0);
    int bad = 0;
    uint32_t first = 0;
    for (int i = 0; i < 2000000; i++) {
        uint32_t b = rng_u32(&r);
        if (i % 4 == 0) b = (b & 0xffff0000u) | 0x8000u; /* exact ties */
        if (((b >> 23) & 0xff) == 0xff) continue;        /* inf / NaN above */
        float x = u2f(b);
        if (f32_to_bf16(x) != ref_f32_to_bf16(x)) {
            if (!bad) first = b;
            bad++;
        }
    }
    TEST_CHECK(bad == 0, "%d of 2M floats round wrongly (first 0x%08x)", bad, first);
}

/* ---- hostile files ---- */

typedef struct {
    const char *file;
    const char *phrase; /* must appear in the message (besides the file name) */
} Hostile;

static const Hostile hostile[] = {
    {"truncated.safetensors", "truncated"},
    {"overlapping_offsets.safetensors", "overlapping"},
    {"huge_header_len.safetensors", "100 MB"},
    {"header_len_beyond_file.safetensors", "runs past the end"},
    {"shape_overflow.safetensors", "overflows"},
    {"shape_bytes_overflow.safetensors", "overflows"},
    {"unknown_dtype.safetensors", "unknown dtype 'F17'"},
    {"duplicate_names.safetensors", "duplicate tensor name 'a'"},
    {"gap_offsets.safetensors", "a gap"},
    {"offsets_beyond_file.safetensors", "truncated"},
    {"shape_dtype_mismatch.safetensors", "needs 16"},
    {"header_not_json.safetensors", "not valid JSON"},
    {"header_too_small.safetensors", "too small"},
    {"negative_offset.safetensors", "data_offsets"},
};

static void test_hostile_fixtures(void) {
    const char *dir = GRPO_TEST_DATA "/fixtures/hf/hostile";
    char path[1024];
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, hostile[i].file);
        SafeTensors *st = (SafeTensors *)1;
        int rc = safetensors_open(&st, path);
        TEST_CHECK(rc == -1 && st == NULL, "%s accepted", hostile[i].file);
        TEST_CHECK(strstr(err_msg(), hostile[i].file) && strstr(err_msg(), hostile[i].phrase),
                   "%s: message '%s' lacks the file name or '%s'", hostile[i].file, err_msg(), hostile[i].phrase);
    }
    /* Any other hostile fixture (added later) must be refused too. */
    DIR *d = opendir(dir);
    TEST_CHECK(d != NULL, "cannot list %s", dir);
    struct dirent *e;
    int n_other = 0;
    while (d && (e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (len < 12 || strcmp(n + len - 12, ".safetensors") || !strncmp(n, "ok_", 3) ||
            !strcmp(n, "unsupported_dtype_i64.safetensors"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, n);
        SafeTensors *st = NULL;
        TEST_CHECK(safetensors_open(&st, path) == -1, "%s accepted", n);
        TEST_CHECK(strstr(err_msg(), n) != NULL, "%s: message '%s' does not name the file", n, err_msg());
        safetensors_close(st);
        n_other++;
    }
    if (d) closedir(d);
    TEST_CHECK(n_other >= 14, "only %d hostile fixtures found", n_other);

    /* Valid format, dtype grpo cannot use as weights: refused at conversion. */
    snprintf(path, sizeof(path), "%s/unsupported_dtype_i64.safetensors", dir);
    SafeTensors *st = NULL;
    TEST_CHECK(safetensors_open(&st, path) == 0, "%s", err_msg());
    if (st) {
        const StTensor *t = safetensors_get(st, 0);
        float buf[64];
        TEST_CHECK(t && t->numel <= 64 && safetensors_to_f32(st, t, buf) == -1 && strstr(err_msg(), "I64"),
                   "I64 conversion: %s", err_msg());
        safetensors_close(st);
    }

    /* The valid mixed-dtype file, with an unaligned F32 tensor. */
    snprintf(path, sizeof(path), "%s/ok_mixed_dtypes.safetensors", dir);
    TEST_CHECK(safetensors_open(&st, path) == 0, "%s", err_msg());
    if (st) {
        static const struct {
            const char *name;
            StDtype dt;
            float v[4];
            int n;
        } want[] = {{"a_f32", ST_F32, {1, -2, 0.5f, 3.25f}, 4},
                    {"b_bf16", ST_BF16, {1, -2, 0.125f}, 3},
                    {"c_f32", ST_F32, {1.5f, -0.75f}, 2},
                    {"d_f16", ST_F16, {1, -0.5f}, 2}};
        TEST_CHECK(safetensors_count(st) == 4, "count %zu", safetensors_count(st));
        for (int i = 0; i < 4; i++) {
            const StTensor *t = safetensors_find(st, want[i].name);
            float got[4] = {0};
            TEST_CHECK(t && t->dtype == want[i].dt && (int)t->numel == want[i].n, "%s", want[i].name);
            if (!t || (int)t->numel != want[i].n) continue;
            TEST_CHECK(safetensors_to_f32(st, t, got) == 0, "%s", err_msg());
            for (int k = 0; k < want[i].n; k++) TEST_CHECK(got[k] == want[i].v[k], "%s[%d] = %g", want[i].name, k, got[k]);
        }
        const StTensor *a = safetensors_find(st, "a_f32");
        TEST_CHECK(a && a->ndim == 2 && a->shape[0] == 2 && a->shape[1] == 2, "a_f32 shape");
        TEST_CHECK(safetensors_find(st, "nope") == NULL, "find of a missing name");
        safetensors_close(st);
    }
}

/* A file image: 8-byte length, header (as given), data bytes. */
static uint8_t *image(const char *header, size_t data_len, size_t *len) {
    size_t h = strlen(header);
    *len = 8 + h + data_len;
    uint8_t *b = xcalloc(*len, 1);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    for (size_t i = 0; i < data_len; i++) b[8 + h + i] = (uint8_t)i;
    return b;
}

static void expect_refused(const char *what, const char *header, size_t data_len, const char *phrase) {
    size_t len;
    uint8_t *b = image(header, data_len, &len);
    SafeTensors *st = NULL;
    int rc = safetensors_open_buffer(&st, b, len, what);
    TEST_CHECK(rc == -1, "%s accepted", what);
    TEST_CHECK(strstr(err_msg(), what) && strstr(err_msg(), phrase), "%s: message '%s' lacks '%s'", what, err_msg(),
               phrase);
    safetensors_close(st);
    free(b);
}

static void test_bad_headers(void) {
    const char *ok = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t len;
    uint8_t *b = image(ok, 8, &len);
    SafeTensors *st = NULL;
    TEST_CHECK(safetensors_open_buffer(&st, b, len, "ok") == 0, "%s", err_msg());
    safetensors_close(st);
    /* Every strict prefix of a valid file is refused. */
    int accepted = 0;
    for (size_t n = 0; n < len; n++) {
        uint8_t *p = xmalloc(n ? n : 1); /* exact-size copy: ASan sees overreads */
        memcpy(p, b, n);
        if (safetensors_open_buffer(&st, p, n, "prefix") == 0) {
            accepted++;
            safetensors_close(st);
        }
        free(p);
    }
    TEST_CHECK(accepted == 0, "%d prefixes of a valid file accepted", accepted);
    /* Every single-byte corruption of the header either parses to a valid
     * file or is refused; never a crash or an overread. */
    Rng r;
    rng_init(&r, 99, 0, 0, 0);
    for (size_t i = 0; i < len - 8; i++) {
        for (int k = 0; k < 4; k++) {
            uint8_t *p = xmalloc(len);
            memcpy(p, b, len);
            p[i] = (uint8_t)rng_u32(&r);
            if (safetensors_open_buffer(&st, p, len, "flip") == 0) safetensors_close(st);
            free(p);
        }
    }
    free(b);

    expect_refused("trailing", ok, 12, "trailing garbage");
    expect_refused("leading-space", " {}", 0, "does not start with '{'");
    expect_refused("utf8", "{\"\xff\":{}}", 0, "UTF-8");
    expect_refused("meta-type", "{\"__metadata__\":{\"format\":1}}", 0, "not a string");
    expect_refused("meta-twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate '__metadata__'");
    expect_refused("extra-field", "{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":1}}", 4,
                   "unknown field 'x'");
    expect_refused("missing-field", "{\"w\":{\"dtype\":\"F32\",\"shape\":[]}}", 4, "needs dtype, shape");
    expect_refused("three-offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4,8]}}", 4,
                   "data_offsets");
    expect_refused("fraction", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape[0]");
    expect_refused("beyond-2^64", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1e300],\"data_offsets\":[0,1]}}", 1,
                   "shape[0]");
    expect_refused("end-before-begin", "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4,
                   "end before they begin");
    expect_refused("not-object", "[1,2]", 0, "does not start with '{'");
    expect_refused("entry-not-object", "{\"w\":3}", 0, "not an object");
    expect_refused("too-many-dims",
                   "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
                   "dimensions");
    expect_refused("junk-after", "{}x", 0, "after the header's JSON");
    /* Allowed: empty file body, metadata, null metadata, zero-size tensors. */
    const char *fine[] = {"{}", "{\"__metadata__\":null}", "{\"__metadata__\":{\"format\":\"pt\"}}  ",
                          "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}}"};
    for (int i = 0; i < 4; i++) {
        b = image(fine[i], 0, &len);
        TEST_CHECK(safetensors_open_buffer(&st, b, len, fine[i]) == 0, "%s refused: %s", fine[i], err_msg());
        safetensors_close(st);
        free(b);
    }
}

/* ---- writer ---- */

static void test_write_read(void) {
    const char *dir = GRPO_BINARY_DIR "/test_safetensors.work";
    mkdir_p(dir);
    char path[1024];
    snprintf(path, sizeof(path), "%s/w.safetensors", dir);
    enum { N0 = 7 * 5, N1 = 13, N2 = 3 };
    float *a = xmalloc(N0 * sizeof(float)), *b = xmalloc(N1 * sizeof(float)), c[N2] = {NAN, INFINITY, -0.0f};
    Rng r;
    rng_init(&r, 7, 0, 0, 0);
    for (int i = 0; i < N0; i++) a[i] = (float)rng_normal(&r) * 1e-3f;
    for (int i = 0; i < N1; i++) b[i] = u2f(rng_u32(&r) & 0xbfffffffu); /* finite, any magnitude */
    TensorRef t[3] = {
        {"model.layers.0.mlp.up_proj.weight", a, 2, {7, 5}, N0},
        {"weird \"name\"\\\x01", b, 1, {N1, 0}, N1},
        {"c", c, 1, {N2, 0}, N2},
    };
    for (int pass = 0; pass < 2; pass++) {
        StDtype dt = pass ? ST_BF16 : ST_F32;
        TEST_CHECK(safetensors_write(path, t, 3, dt) == 0, "write: %s", err_msg());
        SafeTensors *st = NULL;
        TEST_CHECK(safetensors_open(&st, path) == 0, "read back: %s", err_msg());
        if (!st) continue;
        TEST_CHECK(safetensors_count(st) == 3, "count");
        TEST_CHECK(safetensors_metadata(st, "format") && !strcmp(safetensors_metadata(st, "format"), "pt"),
                   "format metadata");
        /* Data starts 8-aligned. */
        const StTensor *first = safetensors_get(st, 0);
        TEST_CHECK(first && ((uintptr_t)safetensors_data(st, first) % 8) == 0, "data region alignment");
        for (int k = 0; k < 3; k++) {
            const StTensor *s = safetensors_find(st, t[k].name);
            TEST_CHECK(s && s->dtype == dt && s->ndim == t[k].ndim && s->shape[0] == (uint64_t)t[k].shape[0],
                       "tensor %d header", k);
            if (!s) continue;
            float *got = xmalloc(t[k].numel * sizeof(float));
            TEST_CHECK(safetensors_to_f32(st, s, got) == 0, "%s", err_msg());
            int bad = 0;
            for (size_t i = 0; i < t[k].numel; i++) {
                uint32_t want = pass ? (uint32_t)f32_to_bf16(t[k].data[i]) << 16 : f2u(t[k].data[i]);
                if (isnan(t[k].data[i])) bad += !isnan(got[i]);
                else bad += f2u(got[i]) != want;
            }
            TEST_CHECK(bad == 0, "%s: %d values differ (%s)", t[k].name, bad, pass ? "bf16" : "fp32");
            free(got);
        }
        safetensors_close(st);
    }
    /* Duplicate names and a missing directory are errors; nothing is left behind. */
    TensorRef dup[2] = {t[2], t[2]};
    TEST_CHECK(safetensors_write(path, dup, 2, ST_F32) == -1 && strstr(err_msg(), "twice"), "duplicate: %s", err_msg());
    TEST_CHECK(safetensors_write(GRPO_BINARY_DIR "/no/such/dir/x.safetensors", t, 3, ST_F32) == -1 &&
                   strstr(err_msg(), "no/such/dir"),
               "missing dir: %s", err_msg());
    TEST_CHECK(safetensors_write(path, t, 3, ST_F16) == -1, "F16 writing is not offered");
    free(a);
    free(b);
}

int main(void) {
    test_bf16_to_f32_table();
    test_f16_to_f32_table();
    test_f32_to_bf16();
    test_hostile_fixtures();
    test_bad_headers();
    test_write_read();
    return test_summary();
}
