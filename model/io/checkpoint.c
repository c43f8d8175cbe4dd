/*
 * checkpoint.c: the HDF5 checkpoint (layout and guarantees in checkpoint.h
 * and docs/checkpoints.md). HDF5's own error printing is silenced around
 * every call here and its innermost message is folded into ours.
 * Not for: HF directories (hf.c).
 */
#define _GNU_SOURCE
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <H5PLpublic.h>
#include <hdf5.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/common.h"
#include "common/json.h"

#define SEAL_MAGIC "GRPO-CHECKPOINT "
#define ERR_MSG_KEEP 3000 /* the part of a message kept when adding to it */
#define MAX_TEXT_BYTES ((size_t)256 << 20) /* side files, configs */
#define CHUNK_FLOATS ((size_t)1 << 20)     /* 4 MB chunks */

/* ---- XXH64 ---- */

#define XP1 0x9E3779B185EBCA87ULL
#define XP2 0xC2B2AE3D27D4EB4FULL
#define XP3 0x165667B19E3779F9ULL
#define XP4 0x85EBCA77C2B2AE63ULL
#define XP5 0x27D4EB2F165667C5ULL

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t xround(uint64_t acc, uint64_t in) { return rotl64(acc + in * XP2, 31) * XP1; }
static uint64_t xmerge(uint64_t acc, uint64_t v) { return (acc ^ xround(0, v)) * XP1 + XP4; }

void xxh64_init(Xxh64 *s, uint64_t seed) {
    memset(s, 0, sizeof(*s));
    s->seed = seed;
    s->v[0] = seed + XP1 + XP2;
    s->v[1] = seed + XP2;
    s->v[2] = seed;
    s->v[3] = seed - XP1;
}

static void xstripe(Xxh64 *s, const uint8_t *p) {
    s->v[0] = xround(s->v[0], rd64(p));
    s->v[1] = xround(s->v[1], rd64(p + 8));
    s->v[2] = xround(s->v[2], rd64(p + 16));
    s->v[3] = xround(s->v[3], rd64(p + 24));
}

void xxh64_update(Xxh64 *s, const void *data, size_t n) {
    const uint8_t *p = data, *end = p + n;
    s->total += n;
    if (s->memsize + n < 32) {
        memcpy(s->mem + s->memsize, p, n);
        s->memsize += n;
        return;
    }
    if (s->memsize) {
        size_t fill = 32 - s->memsize;
        memcpy(s->mem + s->memsize, p, fill);
        xstripe(s, s->mem);
        p += fill;
        s->memsize = 0;
    }
    while (end - p >= 32) {
        xstripe(s, p);
        p += 32;
    }
    memcpy(s->mem, p, (size_t)(end - p));
    s->memsize = (size_t)(end - p);
}

uint64_t xxh64_final(const Xxh64 *s) {
    uint64_t h;
    if (s->total >= 32) {
        h = rotl64(s->v[0], 1) + rotl64(s->v[1], 7) + rotl64(s->v[2], 12) + rotl64(s->v[3], 18);
        for (int i = 0; i < 4; i++) h = xmerge(h, s->v[i]);
    } else {
        h = s->seed + XP5;
    }
    h += s->total;
    const uint8_t *p = s->mem, *end = s->mem + s->memsize;
    for (; end - p >= 8; p += 8) h = rotl64(h ^ xround(0, rd64(p)), 27) * XP1 + XP4;
    for (; end - p >= 4; p += 4) h = rotl64(h ^ (uint64_t)rd32(p) * XP1, 23) * XP2 + XP3;
    for (; p < end; p++) h = rotl64(h ^ (uint64_t)*p * XP5, 11) * XP1;
    h ^= h >> 33;
    h *= XP2;
    h ^= h >> 29;
    h *= XP3;
    h ^= h >> 32;
    return h;
}

uint64_t xxh64(const void *data, size_t n, uint64_t seed) {
    Xxh64 s;
    xxh64_init(&s, seed);
    xxh64_update(&s, data, n);
    return xxh64_final(&s);
}

/* ---- HDF5 error handling ---- */

static pthread_once_t h5_once = PTHREAD_ONCE_INIT;
static void h5_init_once(void) {
    /* Before the library starts: no exit handler (see abandon_file), and
     * no filter plugins loaded from HDF5_PLUGIN_PATH on behalf of a file. */
    H5dont_atexit();
    H5PLset_loading_state(0);
}
static void h5_init(void) { pthread_once(&h5_once, h5_init_once); }

typedef struct {
    H5E_auto2_t fn;
    void *data;
} H5Quiet;

static void h5_quiet(H5Quiet *q) {
    H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}
static void h5_restore(const H5Quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->fn, q->data); }

/* The innermost message; an I/O failure's long description ("file write
 * failed: time = ..., errno = 28, error message = '...', ...") is cut to
 * the system's message. */
static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *out) {
    if (n != 0 || !e->desc) return 0;
    const char *sys = strstr(e->desc, "error message = '");
    if (sys) {
        sys += strlen("error message = '");
        snprintf(out, 256, "%.*s", (int)strcspn(sys, "'"), sys);
    } else {
        snprintf(out, 256, "%.*s", (int)strcspn(e->desc, "\n"), e->desc);
    }
    return 0;
}

/* The first failure's reason on the write path, kept because every later
 * HDF5 call (the closes after a failed write) clears the error stack. */
static _Thread_local char h5_first[256];

/* Records the reason of a failure that just happened, unless one is kept. */
static void h5_note(void) {
    if (!h5_first[0]) H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_walk, h5_first);
}

/* The most specific message on HDF5's error stack, or the one h5_note
 * kept ("" if none). */
static const char *h5_reason(char buf[256]) {
    buf[0] = '\0';
    if (h5_first[0]) {
        snprintf(buf, 256, "%s", h5_first);
        h5_first[0] = '\0';
        return buf;
    }
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_walk, buf);
    return buf;
}

#define H5ERR(path, fmt, ...)                                                                   \
    do {                                                                                        \
        char r_[256];                                                                           \
        h5_reason(r_);                                                                          \
        err_set("%s: " fmt "%s%s%s", path, ##__VA_ARGS__, r_[0] ? " (HDF5: " : "", r_, r_[0] ? ")" : ""); \
    } while (0)

/* ---- the seal: user block with size and digest ---- */

static int hash_file_from(int fd, const char *path, off_t from, off_t size, uint64_t *out) {
    Xxh64 s;
    xxh64_init(&s, 0);
    const size_t cap = (size_t)4 << 20;
    uint8_t *buf = xmalloc(cap);
    off_t pos = from;
    while (pos < size) {
        size_t want = (size_t)(size - pos) < cap ? (size_t)(size - pos) : cap;
        ssize_t got = pread(fd, buf, want, pos);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            free(buf);
            return ERR("%s: read error at byte %lld: %s", path, (long long)pos,
                       got < 0 ? strerror(errno) : "unexpected end of file");
        }
        xxh64_update(&s, buf, (size_t)got);
        pos += got;
    }
    free(buf);
    *out = xxh64_final(&s);
    return 0;
}

static const uint8_t hdf5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* The whole user block for a file of `size` bytes with `digest`. */
static void seal_text(char head[CHECKPOINT_USERBLOCK], unsigned version, unsigned long long size, uint64_t digest) {
    memset(head, 0, CHECKPOINT_USERBLOCK);
    snprintf(head, CHECKPOINT_USERBLOCK,
             SEAL_MAGIC "%u\nsize %llu\nxxh64 %016" PRIx64
                        "\n\nThis is an HDF5 file (superblock at byte 512), written by grpo.c.\n"
                        "The digest covers every byte after this 512-byte block.\n",
             version, size, digest);
}

/* Checks the user block: magic, version, size and digest. */
static int seal_check(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ERR("cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ERR("%s: not a regular file", path);
    }
    char head[CHECKPOINT_USERBLOCK + 1] = {0};
    ssize_t got = pread(fd, head, CHECKPOINT_USERBLOCK, 0);
    if (got < 0) got = 0;
    if ((size_t)got < strlen(SEAL_MAGIC) || memcmp(head, SEAL_MAGIC, strlen(SEAL_MAGIC)) != 0) {
        close(fd);
        if (got >= 8 && !memcmp(head, hdf5_sig, 8))
            return ERR("%s: an HDF5 file, but not a grpo checkpoint (it has no grpo checkpoint header); "
                       "grpo reads checkpoints it wrote itself or HF model directories",
                       path);
        if (got == 0) return ERR("%s: empty file, not a grpo checkpoint", path);
        return ERR("%s: not a grpo checkpoint (no grpo checkpoint header, not HDF5)", path);
    }
    unsigned version = 0;
    unsigned long long size = 0;
    char digest_hex[17] = {0};
    int fields = sscanf(head, SEAL_MAGIC "%u\nsize %llu\nxxh64 %16[0-9a-f]\n", &version, &size, digest_hex);
    if (fields >= 1 && version != CHECKPOINT_VERSION) {
        close(fd);
        return ERR("%s: checkpoint format version %u; this grpo reads version %d (use the grpo that wrote it, "
                   "or convert it there to an HF directory with 'grpo convert')",
                   path, version, CHECKPOINT_VERSION);
    }
    if (got < CHECKPOINT_USERBLOCK) {
        close(fd);
        return ERR("%s: truncated checkpoint: only %zd bytes", path, got);
    }
    char expect[CHECKPOINT_USERBLOCK];
    seal_text(expect, version, size, strtoull(digest_hex, NULL, 16));
    if (fields != 3 || strlen(digest_hex) != 16 || memcmp(expect, head, CHECKPOINT_USERBLOCK)) {
        close(fd);
        return ERR("%s: damaged grpo checkpoint header (its first %d bytes)", path, CHECKPOINT_USERBLOCK);
    }
    if ((unsigned long long)sb.st_size != size) {
        close(fd);
        if ((unsigned long long)sb.st_size < size)
            return ERR("%s: truncated checkpoint: %lld bytes, the header says %llu (an interrupted copy?)", path,
                       (long long)sb.st_size, size);
        return ERR("%s: %lld bytes but the header says %llu: data was appended or the file is damaged", path,
                   (long long)sb.st_size, size);
    }
    uint64_t want = strtoull(digest_hex, NULL, 16), have = 0;
    int rc = hash_file_from(fd, path, CHECKPOINT_USERBLOCK, sb.st_size, &have);
    close(fd);
    if (rc) return -1;
    if (have != want)
        return ERR("%s: checkpoint is damaged: content digest %016" PRIx64 " does not match the stored %016" PRIx64
                   " (bytes changed after writing; use an earlier checkpoint)",
                   path, have, want);
    return 0;
}

/* Writes the user block of a finished HDF5 file and fsyncs it. */
static int seal_write(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return ERR("cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < CHECKPOINT_USERBLOCK) {
        close(fd);
        return ERR("%s: too small to be an HDF5 checkpoint", path);
    }
    uint8_t sig[8];
    if (pread(fd, sig, 8, CHECKPOINT_USERBLOCK) != 8 || memcmp(sig, hdf5_sig, 8)) {
        close(fd);
        return ERR("%s: no HDF5 superblock after a %d-byte user block; not a grpo checkpoint", path,
                   CHECKPOINT_USERBLOCK);
    }
    uint64_t digest;
    if (hash_file_from(fd, path, CHECKPOINT_USERBLOCK, sb.st_size, &digest)) {
        close(fd);
        return -1;
    }
    char head[CHECKPOINT_USERBLOCK];
    seal_text(head, CHECKPOINT_VERSION, (unsigned long long)sb.st_size, digest);
    ssize_t w = pwrite(fd, head, sizeof(head), 0);
    if (w != (ssize_t)sizeof(head) || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return ERR("%s: cannot write the checkpoint header: %s", path, strerror(e));
    }
    if (close(fd) != 0) return ERR("%s: close: %s", path, strerror(errno));
    return 0;
}

int checkpoint_seal(const char *path) { return seal_write(path); }

int checkpoint_probe(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char head[32] = {0};
    ssize_t got = pread(fd, head, strlen(SEAL_MAGIC), 0);
    close(fd);
    return got == (ssize_t)strlen(SEAL_MAGIC) && !memcmp(head, SEAL_MAGIC, strlen(SEAL_MAGIC));
}

/* ---- writing ---- */

/* Every HDF5 call on the write path is checked, closes included: a chunk
 * or object header that HDF5 fails to write surfaces only when its
 * dataset or group is closed. ok() folds a status into *rc and returns
 * whether all went well so far. */
static int ok(int *rc, herr_t status) {
    if (status < 0) {
        h5_note();
        *rc = -1;
    }
    return *rc == 0;
}

/* Closes an id (if valid) by its kind, folding a failure into *rc. */
static void close_id(int *rc, hid_t id, herr_t (*close_fn)(hid_t)) {
    if (id >= 0 && close_fn(id) < 0) {
        h5_note();
        *rc = -1;
    }
}

/* Objects are created without HDF5's access/modification timestamps, so
 * the same model and state always give the same bytes (and digest). */
static hid_t new_group(hid_t loc, const char *name) {
    int rc = 0;
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), g = -1;
    if (gcpl >= 0 && ok(&rc, H5Pset_obj_track_times(gcpl, 0))) g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    close_id(&rc, gcpl, H5Pclose);
    if (rc && g >= 0) {
        H5Gclose(g);
        g = -1;
    }
    return g;
}

static hid_t new_dcpl(void) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) < 0) {
        H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

static int put_attr(hid_t obj, const char *name, hid_t file_type, hid_t mem_type, const void *v) {
    int rc = 0;
    hid_t sp = H5Screate(H5S_SCALAR), a = -1;
    if (sp < 0) return -1;
    a = H5Acreate2(obj, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (ok(&rc, a < 0 ? -1 : 0)) ok(&rc, H5Awrite(a, mem_type, v));
    close_id(&rc, a, H5Aclose);
    close_id(&rc, sp, H5Sclose);
    return rc;
}

/* A scalar fixed-length string type of n bytes (n >= 1) with padding pad. */
static hid_t str_type(size_t n, H5T_str_t pad) {
    int rc = 0;
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && ok(&rc, H5Tset_size(t, n)) && ok(&rc, H5Tset_strpad(t, pad))) return t;
    if (t >= 0) H5Tclose(t);
    return -1;
}

static int put_attr_str(hid_t obj, const char *name, const char *s) {
    int rc = 0;
    hid_t t = str_type(strlen(s) + 1, H5T_STR_NULLTERM);
    if (t < 0) return -1;
    ok(&rc, put_attr(obj, name, t, t, s));
    close_id(&rc, t, H5Tclose);
    return rc;
}

/* Creates dataset name (type, space, dcpl), writes buf from mem_type and
 * closes everything it opened; -1 if any of it failed. */
static int put_dataset(hid_t loc, const char *name, hid_t type, hid_t mem_type, hid_t sp, hid_t dcpl, const void *buf) {
    int rc = 0;
    hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ok(&rc, d < 0 ? -1 : 0)) ok(&rc, H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
    close_id(&rc, d, H5Dclose);
    return rc;
}

/* A scalar fixed-length string dataset (NULL-padded) holding text[0..len). */
static int put_text(hid_t loc, const char *name, const char *text, size_t len) {
    int rc = 0;
    hid_t t = str_type(len ? len : 1, H5T_STR_NULLPAD);
    hid_t sp = H5Screate(H5S_SCALAR), dcpl = new_dcpl();
    if (t < 0 || sp < 0 || dcpl < 0) rc = -1;
    else ok(&rc, put_dataset(loc, name, t, t, sp, dcpl, len ? text : ""));
    close_id(&rc, dcpl, H5Pclose);
    close_id(&rc, sp, H5Sclose);
    close_id(&rc, t, H5Tclose);
    return rc;
}

static int put_bytes(hid_t loc, const char *name, const uint8_t *b, size_t n) {
    int rc = 0;
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL), dcpl = new_dcpl();
    if (sp < 0 || dcpl < 0) rc = -1;
    else ok(&rc, put_dataset(loc, name, H5T_STD_U8LE, H5T_NATIVE_UINT8, sp, dcpl, b));
    close_id(&rc, dcpl, H5Pclose);
    close_id(&rc, sp, H5Sclose);
    return rc;
}

/* One tensor: chunked (about 4 MB per chunk, whole rows) with Fletcher32. */
static int put_tensor(hid_t loc, const TensorRef *t, const float *data) {
    hsize_t dims[2] = {(hsize_t)t->shape[0], (hsize_t)(t->ndim == 2 ? t->shape[1] : 1)};
    hsize_t chunk[2];
    if (t->ndim == 2) {
        hsize_t rows = CHUNK_FLOATS / dims[1];
        if (rows < 1) rows = 1;
        chunk[0] = rows < dims[0] ? rows : dims[0];
        chunk[1] = dims[1];
    } else {
        chunk[0] = dims[0] < CHUNK_FLOATS ? dims[0] : CHUNK_FLOATS;
    }
    int rc = 0;
    hid_t sp = H5Screate_simple(t->ndim, dims, NULL), dcpl = new_dcpl();
    if (sp < 0 || dcpl < 0) rc = -1;
    if (ok(&rc, 0) && ok(&rc, H5Pset_chunk(dcpl, t->ndim, chunk)) && ok(&rc, H5Pset_fletcher32(dcpl)))
        ok(&rc, put_dataset(loc, t->name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, sp, dcpl, data));
    close_id(&rc, dcpl, H5Pclose);
    close_id(&rc, sp, H5Sclose);
    return rc;
}

/* Group `group` of loc (shown as `where`) with a block's tensors. */
static int put_block(hid_t file, const char *group, const char *where, const ModelConfig *cfg, const float *block,
                     const char *path) {
    size_t n = model_tensors(cfg, NULL, NULL, 0);
    TensorRef *refs = xmalloc(n * sizeof(TensorRef));
    model_tensors(cfg, (float *)block, refs, n); /* only read through */
    hid_t g = new_group(file, group);
    int rc = g < 0 ? -1 : 0;
    if (rc) H5ERR(path, "cannot create %s", where);
    for (size_t i = 0; i < n && !rc; i++) {
        if (put_tensor(g, &refs[i], refs[i].data)) {
            H5ERR(path, "cannot write %s/%s", where, refs[i].name);
            rc = -1;
        }
    }
    if (g >= 0 && H5Gclose(g) < 0 && !rc) {
        h5_note();
        H5ERR(path, "cannot finish %s", where);
        rc = -1;
    }
    free(refs);
    return rc;
}

/* An extra block's group name: [a-z0-9_]+, not one of the file's own groups. */
static int block_name_ok(const char *name) {
    static const char *const reserved[] = {"model", "optimizer", "state", "files"};
    if (!name[0] || strlen(name) >= sizeof(((CheckpointBlock *)0)->name)) return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return 0;
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (!strcmp(name, reserved[i])) return 0;
    return 1;
}

/* After H5Fclose has failed, HDF5 1.10 leaves the file's id pointing at
 * freed memory: closing it again, or HDF5's own exit handler doing so,
 * crashes. So the id is never touched again and the handler is turned off
 * before the library starts (h5_init); the file descriptor, which nothing
 * will use any more, is closed here so that a full disk gets the space of
 * the removed temporary file back at once. */
static void abandon_file(int fd) {
    if (fd >= 0) close(fd);
}

static int write_file(const char *tmp, const char *path, const Model *m, const CheckpointState *st,
                      const float *adam_m, const float *adam_v, const ModelFiles *files) {
    int rc = 0;
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
    if (fcpl < 0 || fapl < 0) rc = -1;
    if (ok(&rc, 0) && ok(&rc, H5Pset_userblock(fcpl, CHECKPOINT_USERBLOCK)) &&
        ok(&rc, H5Pset_obj_track_times(fcpl, 0)) && ok(&rc, H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG)))
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    close_id(&rc, fcpl, H5Pclose);
    close_id(&rc, fapl, H5Pclose);
    if (f < 0 || rc) {
        H5ERR(tmp, "cannot create the checkpoint file");
        if (f >= 0) H5Fclose(f);
        return -1;
    }
    int fd = -1;
    void *handle = NULL;
    if (H5Fget_vfd_handle(f, H5P_DEFAULT, &handle) >= 0 && handle) fd = *(int *)handle;
    hid_t sg = new_group(f, "state");
    int version = CHECKPOINT_VERSION;
    int64_t step = st ? st->step : 0;
    uint64_t seed = st ? st->seed : 0, cursor = st ? st->data_cursor : 0;
    const char *orig = files ? model_files_get(files, "config.json", NULL) : NULL;
    char *cfg_text = hf_config_text(&m->cfg, orig, "float32");
    if (!cfg_text) cfg_text = hf_config_text(&m->cfg, NULL, "float32"); /* original not an object */
    if (sg < 0 || put_attr_str(sg, "format", CHECKPOINT_FORMAT) ||
        put_attr(sg, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT, &version) ||
        put_attr(sg, "step", H5T_STD_I64LE, H5T_NATIVE_INT64, &step) ||
        put_attr(sg, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed) ||
        put_attr(sg, "data_cursor", H5T_STD_U64LE, H5T_NATIVE_UINT64, &cursor) ||
        put_text(sg, "model_config", cfg_text, strlen(cfg_text)) ||
        (st && st->job_config && put_text(sg, "job_config", st->job_config, strlen(st->job_config))) ||
        (st && st->trainer_state && put_text(sg, "trainer_state", st->trainer_state, strlen(st->trainer_state))) ||
        (st && st->rng && st->rng_len && put_bytes(sg, "rng", st->rng, st->rng_len))) {
        H5ERR(path, "cannot write /state");
        rc = -1;
    }
    free(cfg_text);
    if (sg >= 0 && H5Gclose(sg) < 0 && !rc) {
        h5_note();
        H5ERR(path, "cannot finish /state");
        rc = -1;
    }
    if (!rc) rc = put_block(f, "model", "/model", &m->cfg, m->params, path);
    if (!rc && adam_m) {
        hid_t og = new_group(f, "optimizer");
        if (og < 0) {
            H5ERR(path, "cannot create /optimizer");
            rc = -1;
        }
        if (!rc) rc = put_block(og, "m", "/optimizer/m", &m->cfg, adam_m, path);
        if (!rc) rc = put_block(og, "v", "/optimizer/v", &m->cfg, adam_v, path);
        if (og >= 0 && H5Gclose(og) < 0 && !rc) {
        h5_note();
            H5ERR(path, "cannot finish /optimizer");
            rc = -1;
        }
    }
    for (size_t b = 0; st && b < st->n_blocks && !rc; b++) {
        char where[40];
        snprintf(where, sizeof(where), "/%s", st->blocks[b].name);
        rc = put_block(f, st->blocks[b].name, where, &m->cfg, st->blocks[b].data, path);
    }
    if (!rc && files) {
        hid_t fg = new_group(f, "files");
        if (fg < 0) {
            H5ERR(path, "cannot create /files");
            rc = -1;
        }
        for (size_t i = 0; files && i < files->n && !rc; i++) {
            if (!strcmp(files->v[i].name, "config.json")) continue; /* it is /state/model_config */
            if (put_text(fg, files->v[i].name, files->v[i].text, files->v[i].len)) {
                H5ERR(path, "cannot write /files/%s", files->v[i].name);
                rc = -1;
            }
        }
        if (fg >= 0 && H5Gclose(fg) < 0 && !rc) {
        h5_note();
            H5ERR(path, "cannot finish /files");
            rc = -1;
        }
    }
    /* Everything written so far reaches the file now, while the file is
     * still open: a failure here leaves a closable file. */
    if (!rc && H5Fflush(f, H5F_SCOPE_LOCAL) < 0) {
        h5_note();
        H5ERR(path, "cannot write the checkpoint file");
        rc = -1;
    }
    if (H5Fclose(f) < 0) {
        h5_note();
        if (!rc) H5ERR(path, "cannot finish the checkpoint file");
        abandon_file(fd);
        rc = -1;
    }
    return rc;
}

int checkpoint_save(const char *path, const Model *m, const CheckpointState *st, const float *adam_m,
                    const float *adam_v, const ModelFiles *files) {
    if ((adam_m == NULL) != (adam_v == NULL))
        return ERR("%s: checkpoint_save needs both AdamW moments or neither", path);
    if (st && st->rng_len && !st->rng) return ERR("%s: checkpoint state has rng_len but no rng bytes", path);
    for (size_t b = 0; st && b < st->n_blocks; b++)
        if (!block_name_ok(st->blocks[b].name) || !st->blocks[b].data)
            return ERR("%s: '%s' cannot name an extra checkpoint block", path, st->blocks[b].name);
    h5_init();
    char *tmp = atomic_tmp_name(path);
    H5Quiet q;
    h5_quiet(&q);
    h5_first[0] = '\0';
    int rc = write_file(tmp, path, m, st, adam_m, adam_v, files);
    h5_first[0] = '\0';
    h5_restore(&q);
    if (!rc) rc = seal_write(tmp);
    if (!rc && rename(tmp, path) != 0) rc = ERR("cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (!rc) rc = fsync_parent_dir(path);
    if (rc) {
        unlink(tmp);
        char why[ERR_MSG_KEEP];
        snprintf(why, sizeof(why), "%s", err_msg());
        ERR("%s; %s was not saved (no file was replaced: earlier checkpoints are kept)", why, path);
    }
    free(tmp);
    return rc;
}

/* ---- reading ---- */

typedef struct {
    const char *path;
    hid_t f;
    double size; /* bytes of the file */
} Reader;

/* 1 if attribute a holds exactly one element (a scalar, or a simple
 * dataspace of one element). */
static int attr_is_scalar(hid_t a) {
    hid_t sp = H5Aget_space(a);
    if (sp < 0) return 0;
    H5S_class_t c = H5Sget_simple_extent_type(sp);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    return c == H5S_SCALAR || (c == H5S_SIMPLE && n == 1);
}

/* An integer attribute (one element, at most 64 bits) read as int64 (or
 * uint64 when is_unsigned), whatever its stored width and sign: HDF5
 * converts, clamping values that do not fit. */
static int get_attr_int(Reader *r, hid_t obj, const char *where, const char *name, int is_unsigned, void *out) {
    if (H5Aexists(obj, name) <= 0) return ERR("%s: %s has no attribute '%s'", r->path, where, name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    int rc = 0;
    if (t < 0 || H5Tget_class(t) != H5T_INTEGER || H5Tget_size(t) > 8 || !attr_is_scalar(a)) {
        err_set("%s: %s attribute '%s' is not one integer", r->path, where, name);
        rc = -1;
    } else if (H5Aread(a, is_unsigned ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64, out) < 0) {
        H5ERR(r->path, "cannot read %s attribute '%s'", where, name);
        rc = -1;
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return rc;
}

static int get_attr_str(Reader *r, hid_t obj, const char *where, const char *name, char *out, size_t cap) {
    if (H5Aexists(obj, name) <= 0) return ERR("%s: %s has no attribute '%s'", r->path, where, name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    int rc = 0;
    size_t size = t < 0 ? 0 : H5Tget_size(t);
    if (t < 0 || H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0 || size == 0 || size >= cap ||
        !attr_is_scalar(a)) {
        err_set("%s: %s attribute '%s' is not a short fixed-length string", r->path, where, name);
        rc = -1;
    } else {
        memset(out, 0, cap);
        if (H5Aread(a, t, out) < 0) {
            H5ERR(r->path, "cannot read %s attribute '%s'", where, name);
            rc = -1;
        }
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return rc;
}

static int has_link(hid_t loc, const char *name) { return H5Lexists(loc, name, H5P_DEFAULT) > 0; }

/* A scalar string dataset (fixed or variable length) as a malloc'd string. */
static int get_text(Reader *r, hid_t loc, const char *where, const char *name, char **out, size_t *len) {
    *out = NULL;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) {
        H5ERR(r->path, "cannot open %s/%s", where, name);
        return -1;
    }
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    int rc = 0;
    if (t < 0 || sp < 0 || H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_type(sp) != H5S_SCALAR) {
        err_set("%s: %s/%s is not a scalar string", r->path, where, name);
        rc = -1;
    } else if (H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) < 0 || !s) {
            H5ERR(r->path, "cannot read %s/%s", where, name);
            rc = -1;
        } else {
            *out = xstrdup(s);
            H5free_memory(s);
        }
        H5Tclose(mt);
    } else {
        size_t size = H5Tget_size(t);
        if (size > MAX_TEXT_BYTES) {
            err_set("%s: %s/%s is %zu bytes (limit %zu)", r->path, where, name, size, MAX_TEXT_BYTES);
            rc = -1;
        } else {
            char *buf = xmalloc(size + 1);
            if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
                H5ERR(r->path, "cannot read %s/%s", where, name);
                free(buf);
                rc = -1;
            } else {
                buf[size] = '\0';
                *out = buf;
            }
        }
    }
    if (*out && len) *len = strlen(*out);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Dclose(d);
    return rc;
}

static void shape_str(char *buf, size_t cap, int ndim, const hsize_t *d) {
    if (ndim == 1)
        snprintf(buf, cap, "[%llu]", (unsigned long long)d[0]);
    else if (ndim == 2)
        snprintf(buf, cap, "[%llu, %llu]", (unsigned long long)d[0], (unsigned long long)d[1]);
    else
        snprintf(buf, cap, "(%d dimensions)", ndim);
}

static int get_tensor(Reader *r, hid_t g, const char *where, const TensorRef *t, float *dst) {
    if (!has_link(g, t->name))
        return ERR("%s: tensor %s/%s is missing (the stored config needs it)", r->path, where, t->name);
    hid_t d = H5Dopen2(g, t->name, H5P_DEFAULT);
    if (d < 0) {
        H5ERR(r->path, "%s/%s is not a dataset", where, t->name);
        return -1;
    }
    hid_t ty = H5Dget_type(d), sp = H5Dget_space(d);
    int rc = 0;
    hsize_t dims[8] = {0};
    int nd = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    if (ty < 0 || H5Tget_class(ty) != H5T_FLOAT || H5Tget_size(ty) != 4) {
        err_set("%s: %s/%s is not fp32", r->path, where, t->name);
        rc = -1;
    } else if (nd < 0 || nd > 8 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || nd != t->ndim ||
               dims[0] != (hsize_t)t->shape[0] || (nd == 2 && dims[1] != (hsize_t)t->shape[1])) {
        char got[64], want[64];
        hsize_t w[2] = {(hsize_t)t->shape[0], (hsize_t)t->shape[1]};
        shape_str(got, sizeof(got), nd, dims);
        shape_str(want, sizeof(want), t->ndim, w);
        err_set("%s: %s/%s has shape %s but the stored config needs %s", r->path, where, t->name, got, want);
        rc = -1;
    } else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0) {
        H5ERR(r->path, "tensor %s/%s is damaged or unreadable", where, t->name);
        rc = -1;
    }
    if (sp >= 0) H5Sclose(sp);
    if (ty >= 0) H5Tclose(ty);
    H5Dclose(d);
    return rc;
}

typedef struct {
    const TensorRef *refs;
    size_t n;
    const char *extra; /* first unknown name */
    char extra_buf[MODEL_NAME_MAX + 64];
    size_t n_extra;
} ExtraCheck;

static herr_t extra_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    ExtraCheck *c = data;
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->refs[i].name, name)) return 0;
    if (!c->n_extra++) {
        snprintf(c->extra_buf, sizeof(c->extra_buf), "%s", name);
        c->extra = c->extra_buf;
    }
    return 0;
}

/* Reads group `where` of the file into a parameter-shaped block. */
static int get_block(Reader *r, const char *where, const ModelConfig *cfg, float *block) {
    if (!has_link(r->f, where)) return ERR("%s: group %s is missing", r->path, where);
    hid_t g = H5Gopen2(r->f, where, H5P_DEFAULT);
    if (g < 0) {
        H5ERR(r->path, "%s is not a group", where);
        return -1;
    }
    size_t n = model_tensors(cfg, NULL, NULL, 0);
    TensorRef *refs = xmalloc(n * sizeof(TensorRef));
    model_tensors(cfg, block, refs, n);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = get_tensor(r, g, where, &refs[i], refs[i].data);
    if (!rc) {
        ExtraCheck c = {refs, n, NULL, {0}, 0};
        if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, extra_cb, &c) < 0) {
            H5ERR(r->path, "cannot list %s", where);
            rc = -1;
        } else if (c.n_extra) {
            rc = ERR("%s: %s has %zu tensor(s) the stored config does not have, e.g. '%s' (config and tensors "
                     "disagree)",
                     r->path, where, c.n_extra, c.extra);
        }
    }
    free(refs);
    H5Gclose(g);
    return rc;
}

typedef struct {
    Reader *r;
    hid_t g;
    ModelFiles *files;
    int rc;
} FilesCtx;

static herr_t files_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    FilesCtx *c = data;
    char *text = NULL;
    size_t len = 0;
    if (get_text(c->r, g, "/files", name, &text, &len)) {
        c->rc = -1;
        return 1; /* stop */
    }
    model_files_set(c->files, name, text, len);
    free(text);
    return 0;
}

static int read_files(Reader *r, ModelFiles *files);

typedef struct {
    char (*names)[32];
    size_t n, cap;
    int bad;
    char bad_name[64];
} BlockList;

static herr_t blocks_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    BlockList *l = data;
    static const char *const own[] = {"model", "optimizer", "state", "files"};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (!strcmp(name, own[i])) return 0;
    if (!block_name_ok(name)) {
        l->bad = 1;
        snprintf(l->bad_name, sizeof(l->bad_name), "%s", name);
        return 1;
    }
    if (l->n == l->cap) l->names = xrealloc(l->names, (l->cap = l->cap ? 2 * l->cap : 4) * 32);
    snprintf(l->names[l->n++], 32, "%s", name);
    return 0;
}

/* n_blocks parameter-shaped blocks of cfg are about to be allocated and
 * read: refuse a config whose tensors could not be in a file this size (a
 * damaged or crafted model_config must not make us allocate terabytes). */
static int tensors_fit(Reader *r, const ModelConfig *cfg, size_t n_blocks) {
    size_t n_params;
    if (model_param_count_checked(cfg, r->path, &n_params)) return -1;
    double need = (double)n_params * sizeof(float) * (double)n_blocks;
    if (need > r->size)
        return ERR("%s: /state/model_config describes %zu parameters (%s for %zu block%s) but the file has only %s: "
                   "it is damaged or was not written by grpo",
                   r->path, n_params, format_bytes(need).s, n_blocks, n_blocks > 1 ? "s" : "",
                   format_bytes(r->size).s);
    return 0;
}

/* Reads every extra block of the file into st->blocks. */
static int read_blocks(Reader *r, const ModelConfig *cfg, CheckpointState *st) {
    BlockList l = {0};
    if (H5Literate(r->f, H5_INDEX_NAME, H5_ITER_INC, NULL, blocks_cb, &l) < 0 && !l.bad) {
        free(l.names);
        H5ERR(r->path, "cannot list the file's groups");
        return -1;
    }
    if (l.bad) {
        free(l.names);
        return ERR("%s: unexpected top-level object '%s' (not a grpo checkpoint group)", r->path, l.bad_name);
    }
    int rc = tensors_fit(r, cfg, 1 + l.n);
    size_t n = model_param_count(cfg);
    st->blocks = l.n && !rc ? xcalloc(l.n, sizeof(CheckpointBlock)) : NULL;
    for (size_t i = 0; i < l.n && !rc; i++) {
        CheckpointBlock *b = &st->blocks[st->n_blocks++];
        snprintf(b->name, sizeof(b->name), "%s", l.names[i]);
        b->data = xalloc_aligned(n * sizeof(float));
        rc = get_block(r, b->name, cfg, b->data);
    }
    free(l.names);
    return rc;
}

static int load_open(Reader *r, Model *m, CheckpointState *st, float **adam_m, float **adam_v, ModelFiles *files) {
    char fmt[64];
    int64_t version = 0;
    hid_t sg = H5Gopen2(r->f, "state", H5P_DEFAULT);
    if (sg < 0) return ERR("%s: no /state group: not a grpo checkpoint", r->path);
    int rc = get_attr_str(r, sg, "/state", "format", fmt, sizeof(fmt));
    if (!rc && strcmp(fmt, CHECKPOINT_FORMAT))
        rc = ERR("%s: /state format is '%s', expected '%s'", r->path, fmt, CHECKPOINT_FORMAT);
    if (!rc) rc = get_attr_int(r, sg, "/state", "format_version", 0, &version);
    if (!rc && version != CHECKPOINT_VERSION)
        rc = ERR("%s: checkpoint format version %lld; this grpo reads version %d (use the grpo that wrote it)",
                 r->path, (long long)version, CHECKPOINT_VERSION);

    /* The model: config, generation eos ids, tensors. */
    char *cfg_text = NULL, *gen_text = NULL;
    if (!rc && !has_link(sg, "model_config")) rc = ERR("%s: /state/model_config is missing", r->path);
    if (!rc) rc = get_text(r, sg, "/state", "model_config", &cfg_text, NULL);
    ModelConfig cfg;
    if (!rc) {
        char what[512];
        snprintf(what, sizeof(what), "%s: /state/model_config", r->path);
        cJSON *j = json_parse_named(cfg_text, strlen(cfg_text), what);
        rc = j ? model_config_from_json(&cfg, j, what) : -1;
        cJSON_Delete(j);
    }
    if (!rc && has_link(r->f, "files") && H5Lexists(r->f, "files/generation_config.json", H5P_DEFAULT) > 0) {
        hid_t fg = H5Gopen2(r->f, "files", H5P_DEFAULT);
        rc = get_text(r, fg, "/files", "generation_config.json", &gen_text, NULL);
        H5Gclose(fg);
        if (!rc) {
            char what[512];
            snprintf(what, sizeof(what), "%s: /files/generation_config.json", r->path);
            rc = model_config_apply_generation(&cfg, gen_text, what);
        }
    }
    free(gen_text);
    if (!rc) rc = tensors_fit(r, &cfg, 1);
    if (!rc) rc = model_init(m, &cfg) ? err_prefix("%s", r->path) : 0;
    int have_model = !rc;
    if (!rc) rc = get_block(r, "model", &m->cfg, m->params);

    if (!rc && st) {
        memset(st, 0, sizeof(*st));
        rc = get_attr_int(r, sg, "/state", "step", 0, &st->step) || get_attr_int(r, sg, "/state", "seed", 1, &st->seed) ||
                     get_attr_int(r, sg, "/state", "data_cursor", 1, &st->data_cursor)
                 ? -1
                 : 0;
        if (!rc && st->step < 0) rc = ERR("%s: /state step is %lld, not a step count", r->path, (long long)st->step);
        if (!rc && has_link(sg, "job_config")) rc = get_text(r, sg, "/state", "job_config", &st->job_config, NULL);
        if (!rc && has_link(sg, "trainer_state"))
            rc = get_text(r, sg, "/state", "trainer_state", &st->trainer_state, NULL);
        if (!rc && has_link(sg, "rng")) {
            hid_t d = H5Dopen2(sg, "rng", H5P_DEFAULT);
            hid_t sp = d < 0 ? -1 : H5Dget_space(d);
            hsize_t n = 0;
            if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, &n, NULL) < 0 ||
                n > MAX_TEXT_BYTES) {
                rc = ERR("%s: /state/rng is not a 1-D byte array", r->path);
            } else {
                st->rng = xmalloc(n ? n : 1);
                st->rng_len = n;
                if (n && H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, st->rng) < 0) {
                    H5ERR(r->path, "cannot read /state/rng");
                    rc = -1;
                }
            }
            if (sp >= 0) H5Sclose(sp);
            if (d >= 0) H5Dclose(d);
        }
    }
    H5Gclose(sg);

    if (adam_m) *adam_m = NULL;
    if (adam_v) *adam_v = NULL;
    if (!rc && (adam_m || adam_v) && has_link(r->f, "optimizer")) rc = tensors_fit(r, &m->cfg, 3);
    if (!rc && (adam_m || adam_v) && has_link(r->f, "optimizer")) {
        float *am = xalloc_aligned(m->n_params * sizeof(float));
        float *av = xalloc_aligned(m->n_params * sizeof(float));
        rc = get_block(r, "optimizer/m", &m->cfg, am);
        if (!rc) rc = get_block(r, "optimizer/v", &m->cfg, av);
        if (!rc && adam_m) *adam_m = am;
        else free(am);
        if (!rc && adam_v) *adam_v = av;
        else free(av);
    }

    if (!rc && st) rc = read_blocks(r, &m->cfg, st);
    if (!rc && files) rc = read_files(r, files);
    free(cfg_text);
    if (rc) {
        if (have_model) model_free(m);
        if (st) checkpoint_state_free(st);
        if (adam_m && *adam_m) free(*adam_m), *adam_m = NULL;
        if (adam_v && *adam_v) free(*adam_v), *adam_v = NULL;
    }
    return rc;
}

/* Opens path for reading after the digest check, with HDF5's own error
 * printing silenced (restored by reader_close). */
/* Every link of the file: only hard links, and no dataset whose data lives
 * outside the file. A soft or external link, an external-storage dataset
 * or a virtual dataset would make grpo read (and copy into its outputs)
 * whatever other file it names. */
typedef struct {
    char bad[400];
    size_t n_links;
} Scan;

#define MAX_LINKS 1000000

static herr_t scan_cb(hid_t root, const char *name, const H5L_info_t *info, void *data) {
    Scan *sc = data;
    if (++sc->n_links > MAX_LINKS) {
        snprintf(sc->bad, sizeof(sc->bad), "more than %d objects (not a grpo checkpoint)", MAX_LINKS);
        return 1;
    }
    if (info->type != H5L_TYPE_HARD) {
        snprintf(sc->bad, sizeof(sc->bad), "/%s is a%s link; grpo checkpoints hold no links to other objects or files",
                 name, info->type == H5L_TYPE_SOFT ? " soft" : info->type == H5L_TYPE_EXTERNAL ? "n external" : " user-defined");
        return 1;
    }
    hid_t o = H5Oopen(root, name, H5P_DEFAULT);
    if (o < 0) {
        snprintf(sc->bad, sizeof(sc->bad), "/%s cannot be opened", name);
        return 1;
    }
    if (H5Iget_type(o) == H5I_DATASET) {
        hid_t dcpl = H5Dget_create_plist(o);
        int external = dcpl < 0 ? 1 : H5Pget_external_count(dcpl);
        H5D_layout_t layout = dcpl < 0 ? H5D_LAYOUT_ERROR : H5Pget_layout(dcpl);
        if (dcpl >= 0) H5Pclose(dcpl);
        if (external != 0)
            snprintf(sc->bad, sizeof(sc->bad), "dataset /%s keeps its data in an external file", name);
        else if (layout == H5D_VIRTUAL || layout == H5D_LAYOUT_ERROR)
            snprintf(sc->bad, sizeof(sc->bad), "dataset /%s is a virtual dataset (its data comes from other files)",
                     name);
    }
    H5Oclose(o);
    return sc->bad[0] ? 1 : 0;
}

static int scan_file(Reader *r) {
    Scan sc = {{0}, 0};
    herr_t st = H5Lvisit(r->f, H5_INDEX_NAME, H5_ITER_INC, scan_cb, &sc);
    if (sc.bad[0]) return ERR("%s: %s; refusing it", r->path, sc.bad);
    if (st < 0) {
        H5ERR(r->path, "cannot list the file's objects");
        return -1;
    }
    return 0;
}

static int reader_open(Reader *r, const char *path, H5Quiet *q) {
    h5_init();
    r->path = path;
    r->f = -1;
    if (seal_check(path)) return -1;
    struct stat sb;
    r->size = stat(path, &sb) == 0 ? (double)sb.st_size : 0;
    h5_quiet(q);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    r->f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (r->f < 0) {
        H5ERR(path, "cannot open as HDF5");
        h5_restore(q);
        return -1;
    }
    if (scan_file(r)) {
        H5Fclose(r->f);
        h5_restore(q);
        return -1;
    }
    return 0;
}

static void reader_close(Reader *r, H5Quiet *q) {
    H5Fclose(r->f);
    h5_restore(q);
}

/* Copies tmp's files into files (when the read succeeded) and frees tmp. */
static void files_move(ModelFiles *files, ModelFiles *tmp, int ok) {
    for (size_t i = 0; ok && files && i < tmp->n; i++)
        model_files_set(files, tmp->v[i].name, tmp->v[i].text, tmp->v[i].len);
    model_files_free(tmp);
}

int checkpoint_load(const char *path, Model *m, CheckpointState *st, float **adam_m, float **adam_v,
                    ModelFiles *files) {
    memset(m, 0, sizeof(*m));
    if (st) memset(st, 0, sizeof(*st));
    if (adam_m) *adam_m = NULL;
    if (adam_v) *adam_v = NULL;
    Reader r;
    H5Quiet q;
    if (reader_open(&r, path, &q)) return -1;
    ModelFiles tmp = {0};
    int rc = load_open(&r, m, st, adam_m, adam_v, files ? &tmp : NULL);
    files_move(files, &tmp, rc == 0);
    reader_close(&r, &q);
    return rc;
}

static int read_files(Reader *r, ModelFiles *files) {
    hid_t sg = H5Gopen2(r->f, "state", H5P_DEFAULT);
    if (sg < 0) return ERR("%s: no /state group: not a grpo checkpoint", r->path);
    char *cfg_text = NULL;
    int rc = has_link(sg, "model_config") ? get_text(r, sg, "/state", "model_config", &cfg_text, NULL)
                                          : ERR("%s: /state/model_config is missing", r->path);
    H5Gclose(sg);
    if (rc) return -1;
    model_files_set(files, "config.json", cfg_text, strlen(cfg_text));
    free(cfg_text);
    if (!has_link(r->f, "files")) return 0;
    hid_t fg = H5Gopen2(r->f, "files", H5P_DEFAULT);
    FilesCtx c = {r, fg, files, 0};
    if (fg < 0 || H5Literate(fg, H5_INDEX_NAME, H5_ITER_INC, NULL, files_cb, &c) < 0 || c.rc) {
        if (!c.rc) H5ERR(r->path, "cannot list /files");
        rc = -1;
    }
    if (fg >= 0) H5Gclose(fg);
    return rc;
}

int checkpoint_load_files(const char *path, ModelFiles *files) {
    Reader r;
    H5Quiet q;
    if (reader_open(&r, path, &q)) return -1;
    ModelFiles tmp = {0};
    int rc = read_files(&r, &tmp);
    files_move(files, &tmp, rc == 0);
    reader_close(&r, &q);
    return rc;
}

int checkpoint_verify(const char *path) {
    Model m;
    CheckpointState st;
    float *am = NULL, *av = NULL;
    ModelFiles files = {0};
    if (checkpoint_load(path, &m, &st, &am, &av, &files)) return -1;
    model_free(&m);
    checkpoint_state_free(&st);
    free(am);
    free(av);
    model_files_free(&files);
    return 0;
}

void checkpoint_state_free(CheckpointState *st) {
    for (size_t i = 0; i < st->n_blocks; i++) free(st->blocks[i].data);
    free(st->blocks);
    free(st->rng);
    free(st->job_config);
    free(st->trainer_state);
    memset(st, 0, sizeof(*st));
}
