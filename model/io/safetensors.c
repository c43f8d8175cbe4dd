/*
 * safetensors.c: the safetensors reader (mmap + strict header validation)
 * and writer (fp32 / bf16). See safetensors.h for the contracts and the
 * validation rules. Little-endian hosts only (the format is little-endian
 * and we copy bytes straight into floats).
 */
#define _GNU_SOURCE
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/common.h"
#include "common/strbuf.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

struct SafeTensors {
    char *path;
    const uint8_t *buf; /* whole file */
    size_t len;
    int mapped;         /* buf is our mmap */
    const uint8_t *data; /* data region: buf + 8 + N */
    size_t data_len;
    cJSON *header;
    const cJSON *meta;  /* the __metadata__ object or NULL */
    StTensor *t;        /* in offset order */
    size_t n;
    size_t *by_name;    /* indices into t, sorted by name */
};

static const struct {
    const char *name;
    size_t size;
} dtypes[ST_NDTYPES] = {
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1},     [ST_I8] = {"I8", 1},     [ST_F8_E5M2] = {"F8_E5M2", 1},
    [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_I16] = {"I16", 2}, [ST_U16] = {"U16", 2}, [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_I32] = {"I32", 4},   [ST_U32] = {"U32", 4},   [ST_F32] = {"F32", 4},
    [ST_F64] = {"F64", 8},   [ST_I64] = {"I64", 8},   [ST_U64] = {"U64", 8},
};

const char *safetensors_dtype_name(StDtype dt) {
    return (unsigned)dt < ST_NDTYPES ? dtypes[dt].name : "?";
}

size_t safetensors_dtype_size(StDtype dt) { return (unsigned)dt < ST_NDTYPES ? dtypes[dt].size : 0; }

/* ---- scalar conversions ---- */

static float bits_to_f32(uint32_t b) {
    float f;
    memcpy(&f, &b, 4);
    return f;
}

float bf16_to_f32(uint16_t h) { return bits_to_f32((uint32_t)h << 16); }

uint16_t f32_to_bf16(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((b >> 16) | 0x0040u); /* NaN: keep sign, quiet */
    b += 0x7fffu + ((b >> 16) & 1u);                                           /* round to nearest even */
    return (uint16_t)(b >> 16);
}

float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign; /* signed zero */
        } else {         /* subnormal: man * 2^-24, renormalised */
            uint32_t e = 127 - 14;
            while (!(man & 0x400u)) {
                man <<= 1;
                e--;
            }
            bits = sign | (e << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13); /* inf, or NaN with its payload */
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    return bits_to_f32(bits);
}

/* ---- header validation ---- */

static int is_valid_utf8(const uint8_t *s, size_t n, size_t *bad_at) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            *bad_at = i;
            return 0;
        }
        if (i + k >= n) { /* the sequence runs past the end */
            *bad_at = i;
            return 0;
        }
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) {
                *bad_at = i;
                return 0;
            }
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            *bad_at = i;
            return 0;
        }
        i += k + 1;
    }
    return 1;
}

/* A non-negative integer below 2^64. cJSON holds numbers as doubles, so
 * values above 2^53 may be rounded; no real file has such sizes, and the
 * size checks below refuse them either way. */
static int get_u64(const cJSON *it, uint64_t *out) {
    if (!cJSON_IsNumber(it)) return -1;
    double d = it->valuedouble;
    if (!(d >= 0) || d >= 18446744073709551616.0 || d != floor(d)) return -1;
    *out = (uint64_t)d;
    return 0;
}

static int parse_dtype(const char *s, StDtype *out) {
    for (int i = 0; i < ST_NDTYPES; i++)
        if (!strcmp(s, dtypes[i].name)) {
            *out = (StDtype)i;
            return 0;
        }
    return -1;
}

static int parse_tensor(const char *what, const cJSON *e, StTensor *t) {
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return ERR("%s: header entry '%s' is not an object", what, name);
    const cJSON *k;
    cJSON_ArrayForEach(k, e) {
        if (strcmp(k->string, "dtype") && strcmp(k->string, "shape") && strcmp(k->string, "data_offsets"))
            return ERR("%s: tensor '%s': unknown field '%s' (expected dtype, shape, data_offsets)", what, name,
                       k->string);
    }
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!dt || !sh || !off) return ERR("%s: tensor '%s': needs dtype, shape and data_offsets", what, name);
    if (!cJSON_IsString(dt)) return ERR("%s: tensor '%s': dtype must be a string", what, name);
    if (parse_dtype(dt->valuestring, &t->dtype))
        return ERR("%s: tensor '%s': unknown dtype '%s'", what, name, dt->valuestring);
    if (!cJSON_IsArray(sh)) return ERR("%s: tensor '%s': shape must be an array", what, name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > ST_MAX_DIMS) return ERR("%s: tensor '%s': %d dimensions (at most %d)", what, name, nd, ST_MAX_DIMS);
    t->ndim = nd;
    uint64_t numel = 1;
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, sh) {
        if (get_u64(d, &t->shape[i]))
            return ERR("%s: tensor '%s': shape[%d] is not a non-negative integer below 2^64", what, name, i);
        if (t->shape[i] != 0 && numel > UINT64_MAX / t->shape[i])
            return ERR("%s: tensor '%s': shape overflows 64 bits (element count too large)", what, name);
        numel *= t->shape[i];
        i++;
    }
    t->numel = numel;
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || get_u64(cJSON_GetArrayItem(off, 0), &t->begin) ||
        get_u64(cJSON_GetArrayItem(off, 1), &t->end))
        return ERR("%s: tensor '%s': data_offsets must be [begin, end] with non-negative integers", what, name);
    t->name = name;
    return 0;
}

static int cmp_offsets(const void *a, const void *b) {
    const StTensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

typedef struct {
    const char *name;
    size_t idx;
} NameIdx;

static int cmp_names(const void *a, const void *b) {
    return strcmp(((const NameIdx *)a)->name, ((const NameIdx *)b)->name);
}

static int validate(SafeTensors *st) {
    const char *what = st->path;
    if (st->len < 8)
        return ERR("%s: %zu bytes is too small for a safetensors file (8-byte header length + JSON header)", what,
                   st->len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | st->buf[i];
    if (n > ST_MAX_HEADER)
        return ERR("%s: header length %llu exceeds the 100 MB limit: not a safetensors file, or damaged", what,
                   (unsigned long long)n);
    if (n > st->len - 8)
        return ERR("%s: header length %llu runs past the end of the file (%zu bytes): truncated or not a "
                   "safetensors file",
                   what, (unsigned long long)n, st->len);
    const uint8_t *h = st->buf + 8;
    if (n == 0 || h[0] != '{') return ERR("%s: header does not start with '{': not a safetensors file", what);
    size_t bad = 0;
    if (!is_valid_utf8(h, (size_t)n, &bad))
        return ERR("%s: header is not valid UTF-8 (at header byte %zu)", what, bad);
    const char *end = NULL;
    st->header = cJSON_ParseWithLengthOpts((const char *)h, (size_t)n, &end, 0);
    if (!st->header) {
        size_t at = end ? (size_t)(end - (const char *)h) : 0;
        return ERR("%s: header is not valid JSON (near header byte %zu)", what, at);
    }
    for (const char *p = end; p < (const char *)h + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return ERR("%s: unexpected bytes after the header's JSON object (header byte %zu)", what,
                       (size_t)(p - (const char *)h));
    if (!cJSON_IsObject(st->header)) return ERR("%s: header is not a JSON object", what);

    size_t count = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, st->header) count++;
    st->t = xcalloc(count ? count : 1, sizeof(StTensor));
    size_t nt = 0, n_meta = 0;
    cJSON_ArrayForEach(e, st->header) {
        if (!strcmp(e->string, "__metadata__")) {
            if (++n_meta > 1) return ERR("%s: duplicate '__metadata__' entry in the header", what);
            if (cJSON_IsNull(e)) continue;
            if (!cJSON_IsObject(e)) return ERR("%s: '__metadata__' must be an object of strings", what);
            const cJSON *kv;
            cJSON_ArrayForEach(kv, e) {
                if (!cJSON_IsString(kv))
                    return ERR("%s: '__metadata__' value for '%s' is not a string", what, kv->string);
            }
            st->meta = e;
            continue;
        }
        if (parse_tensor(what, e, &st->t[nt])) return -1;
        nt++;
    }
    st->n = nt;

    /* Sorted by offsets for the tiling check below; then a name index, which
     * also finds duplicates (cJSON keeps every member; the format forbids
     * them). */
    qsort(st->t, nt, sizeof(StTensor), cmp_offsets);
    NameIdx *ni = xmalloc((nt ? nt : 1) * sizeof(NameIdx));
    for (size_t i = 0; i < nt; i++) ni[i] = (NameIdx){st->t[i].name, i};
    qsort(ni, nt, sizeof(NameIdx), cmp_names);
    st->by_name = xmalloc((nt ? nt : 1) * sizeof(size_t));
    for (size_t i = 0; i < nt; i++) st->by_name[i] = ni[i].idx;
    for (size_t i = 1; i < nt; i++)
        if (!strcmp(ni[i].name, ni[i - 1].name)) {
            err_set("%s: duplicate tensor name '%s' in the header", what, ni[i].name);
            free(ni);
            return -1;
        }
    free(ni);

    /* Offsets must tile [0, data_len) exactly. */
    uint64_t pos = 0;
    for (size_t i = 0; i < nt; i++) {
        const StTensor *t = &st->t[i];
        if (t->end < t->begin)
            return ERR("%s: tensor '%s': data_offsets [%llu, %llu] end before they begin", what, t->name,
                       (unsigned long long)t->begin, (unsigned long long)t->end);
        if (t->begin != pos)
            return ERR("%s: tensor '%s': data begins at byte %llu but the previous tensor ends at %llu (%s)", what,
                       t->name, (unsigned long long)t->begin, (unsigned long long)pos,
                       t->begin > pos ? "a gap" : "overlapping tensors");
        uint64_t size = dtypes[t->dtype].size;
        if (t->numel > UINT64_MAX / size)
            return ERR("%s: tensor '%s': byte size overflows 64 bits", what, t->name);
        if (t->end - t->begin != t->numel * size)
            return ERR("%s: tensor '%s': %llu bytes of data but dtype %s x shape needs %llu", what, t->name,
                       (unsigned long long)(t->end - t->begin), dtypes[t->dtype].name,
                       (unsigned long long)(t->numel * size));
        pos = t->end;
    }
    st->data = h + n;
    st->data_len = st->len - 8 - (size_t)n;
    if (pos > st->data_len)
        return ERR("%s: the tensors need %llu bytes of data but the file has %zu after the header: truncated", what,
                   (unsigned long long)pos, st->data_len);
    if (pos < st->data_len)
        return ERR("%s: %zu bytes after the last tensor's data are not covered by any tensor (trailing garbage "
                   "or wrong offsets)",
                   what, st->data_len - (size_t)pos);
    return 0;
}

int safetensors_open_buffer(SafeTensors **out, const void *buf, size_t len, const char *what) {
    *out = NULL;
    SafeTensors *st = xcalloc(1, sizeof(*st));
    st->path = xstrdup(what);
    st->buf = buf;
    st->len = len;
    if (validate(st)) {
        safetensors_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

int safetensors_open(SafeTensors **out, const char *path) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ERR("cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return ERR("cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return ERR("%s: not a regular file", path);
    }
    size_t len = (size_t)sb.st_size;
    void *map = NULL;
    if (len >= 8) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return ERR("cannot map %s (%zu bytes): %s", path, len, strerror(e));
        }
    }
    close(fd);
    SafeTensors *st = xcalloc(1, sizeof(*st));
    st->path = xstrdup(path);
    st->buf = map;
    st->len = len;
    st->mapped = map != NULL;
    if (validate(st)) {
        safetensors_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

void safetensors_close(SafeTensors *st) {
    if (!st) return;
    if (st->mapped) munmap((void *)st->buf, st->len);
    cJSON_Delete(st->header);
    free(st->t);
    free(st->by_name);
    free(st->path);
    free(st);
}

const char *safetensors_path(const SafeTensors *st) { return st->path; }
size_t safetensors_count(const SafeTensors *st) { return st->n; }
const StTensor *safetensors_get(const SafeTensors *st, size_t i) { return i < st->n ? &st->t[i] : NULL; }

const StTensor *safetensors_find(const SafeTensors *st, const char *name) {
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->t[st->by_name[mid]].name, name);
        if (c == 0) return &st->t[st->by_name[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *safetensors_metadata(const SafeTensors *st, const char *key) {
    if (!st->meta) return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(st->meta, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const void *safetensors_data(const SafeTensors *st, const StTensor *t) { return st->data + t->begin; }

int safetensors_to_f32(const SafeTensors *st, const StTensor *t, float *out) {
    const uint8_t *src = st->data + t->begin;
    const size_t n = (size_t)t->numel;
    switch (t->dtype) {
    case ST_F32:
        memcpy(out, src, n * sizeof(float));
        return 0;
    case ST_BF16:
#pragma omp parallel for schedule(static) if (n > (1 << 18))
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            out[i] = bf16_to_f32(h);
        }
        return 0;
    case ST_F16:
#pragma omp parallel for schedule(static) if (n > (1 << 18))
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            out[i] = f16_to_f32(h);
        }
        return 0;
    default:
        return ERR("%s: tensor '%s' has dtype %s; only F32, BF16 and F16 tensors can be loaded as weights",
                   st->path, t->name, dtypes[t->dtype].name);
    }
}

/* ---- writer ---- */

static void put_json_string(StrBuf *b, const char *s) {
    strbuf_cat(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p, esc[2] = '\0';
            strbuf_cat(b, esc);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            strbuf_cat(b, esc);
        } else {
            strbuf_add(b, p, 1);
        }
    }
    strbuf_cat(b, "\"");
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int safetensors_write(const char *path, const TensorRef *tensors, size_t n, StDtype dtype) {
    if (dtype != ST_F32 && dtype != ST_BF16)
        return ERR("%s: can only write F32 or BF16 tensors, not %s", path, safetensors_dtype_name(dtype));
    const char **names = xmalloc((n ? n : 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++) names[i] = tensors[i].name;
    qsort(names, n, sizeof(char *), cmp_str_ptr);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(names[i], names[i - 1])) {
            err_set("%s: tensor name '%s' given twice", path, names[i]);
            free(names);
            return -1;
        }
    free(names);

    const size_t es = safetensors_dtype_size(dtype);
    StrBuf h = {0};
    char num[96];
    strbuf_cat(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const TensorRef *t = &tensors[i];
        size_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= (size_t)t->shape[d];
        if (numel != t->numel) {
            free(h.p);
            return ERR("%s: tensor '%s': shape does not match its %zu elements", path, t->name, t->numel);
        }
        strbuf_cat(&h, ",");
        put_json_string(&h, t->name);
        strbuf_cat(&h, ":{\"dtype\":\"");
        strbuf_cat(&h, safetensors_dtype_name(dtype));
        strbuf_cat(&h, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            snprintf(num, sizeof(num), "%s%lld", d ? "," : "", (long long)t->shape[d]);
            strbuf_cat(&h, num);
        }
        snprintf(num, sizeof(num), "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                 (unsigned long long)(off + t->numel * es));
        strbuf_cat(&h, num);
        off += t->numel * es;
    }
    strbuf_cat(&h, "}");
    while (h.n % 8) strbuf_cat(&h, " ");

    AtomicFile f;
    if (atomic_open(&f, path)) {
        free(h.p);
        return -1;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.n >> (8 * i));
    int rc = atomic_write(&f, len8, 8) || atomic_write(&f, h.p, h.n);
    free(h.p);
    const size_t chunk = 1 << 18;
    uint16_t *tmp = dtype == ST_BF16 ? xmalloc(chunk * sizeof(uint16_t)) : NULL;
    for (size_t i = 0; i < n && !rc; i++) {
        const TensorRef *t = &tensors[i];
        if (dtype == ST_F32) {
            rc = atomic_write(&f, t->data, t->numel * sizeof(float));
            continue;
        }
        for (size_t s = 0; s < t->numel && !rc; s += chunk) {
            size_t m = t->numel - s < chunk ? t->numel - s : chunk;
            for (size_t k = 0; k < m; k++) tmp[k] = f32_to_bf16(t->data[s + k]);
            rc = atomic_write(&f, tmp, m * sizeof(uint16_t));
        }
    }
    free(tmp);
    if (rc) {
        atomic_abort(&f);
        return -1;
    }
    return atomic_commit(&f);
}
