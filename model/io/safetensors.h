/*
 * safetensors.h: reading and writing the safetensors tensor file format of
 * Hugging Face (8-byte little-endian header length N, N bytes of JSON header,
 * then the data region). Reading memory-maps the file and validates the
 * header as strictly as the reference implementation: header at most 100 MB,
 * a UTF-8 JSON object starting with '{', offsets contiguous from 0 without
 * gaps or overlaps, dtype x shape = byte length (overflow-checked), the data
 * region exactly covered (no trailing bytes), no duplicate names, an optional
 * `__metadata__` map of strings. F32, BF16 and F16 tensors convert to fp32.
 * Not for: sharded checkpoints and HF directories (hf.h), model layouts.
 *
 *     SafeTensors *st;
 *     if (safetensors_open(&st, "model.safetensors")) die(err_msg());
 *     const StTensor *t = safetensors_find(st, "model.norm.weight");
 *     safetensors_to_f32(st, t, out);          // out holds t->numel floats
 *     safetensors_close(st);
 */
#ifndef GRPO_SAFETENSORS_H
#define GRPO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

/* The dtypes of the format (sizes in bytes in safetensors_dtype_size). */
typedef enum {
    ST_BOOL,
    ST_U8,
    ST_I8,
    ST_F8_E5M2,
    ST_F8_E4M3,
    ST_I16,
    ST_U16,
    ST_F16,
    ST_BF16,
    ST_I32,
    ST_U32,
    ST_F32,
    ST_F64,
    ST_I64,
    ST_U64,
    ST_NDTYPES
} StDtype;

#define ST_MAX_DIMS 16
#define ST_MAX_HEADER 100000000u /* bytes, as the reference implementation */

/* One tensor of an open file. Offsets are relative to the data region. */
typedef struct {
    const char *name; /* owned by the SafeTensors it came from */
    StDtype dtype;
    int ndim;
    uint64_t shape[ST_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end; /* [begin, end) bytes in the data region */
} StTensor;

typedef struct SafeTensors SafeTensors;

/* Opens and validates path (memory-mapped, read-only). On failure returns -1
 * with a message naming the file and the problem; *out is set to NULL. */
int safetensors_open(SafeTensors **out, const char *path);

/* The same validation over a buffer in memory (not copied: it must outlive
 * the handle). `what` names the buffer in errors. */
int safetensors_open_buffer(SafeTensors **out, const void *buf, size_t len, const char *what);

/* Unmaps and frees (NULL is fine). Pointers obtained from st die with it. */
void safetensors_close(SafeTensors *st);

/* The path (or `what`) the handle was opened with. */
const char *safetensors_path(const SafeTensors *st);

/* Number of tensors, and tensor i in data-offset order (i < count). */
size_t safetensors_count(const SafeTensors *st);
const StTensor *safetensors_get(const SafeTensors *st, size_t i);

/* The tensor called name, or NULL. */
const StTensor *safetensors_find(const SafeTensors *st, const char *name);

/* The `__metadata__` value for key, or NULL (absent key or no metadata). */
const char *safetensors_metadata(const SafeTensors *st, const char *key);

/* The raw little-endian bytes of t (t->end - t->begin of them; may be
 * unaligned). */
const void *safetensors_data(const SafeTensors *st, const StTensor *t);

/* Converts t to fp32 into out (t->numel floats). F32 is copied, BF16 and
 * F16 are widened exactly (subnormals, infinities and NaNs kept). Other
 * dtypes fail with a message naming the tensor and its dtype. */
int safetensors_to_f32(const SafeTensors *st, const StTensor *t, float *out);

/* Writes tensors (the floats each TensorRef points at, with its name and HF
 * shape) to path, in the given order, as dtype ST_F32 (exact) or ST_BF16
 * (rounded to nearest even; NaN stays NaN). The header carries
 * `__metadata__: {"format": "pt"}`, which transformers requires, and is
 * padded with spaces to a multiple of 8 bytes. The file is written to a
 * temporary name in the same directory, fsynced and renamed: nothing at path
 * changes unless the whole write succeeds. Duplicate names are an error. */
int safetensors_write(const char *path, const TensorRef *tensors, size_t n, StDtype dtype);

/* "F32", "BF16", ... (the header spelling); "?" for out-of-range values. */
const char *safetensors_dtype_name(StDtype dt);
/* Bytes per element. */
size_t safetensors_dtype_size(StDtype dt);

/* Scalar conversions (exact widening; narrowing rounds to nearest even). */
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);
float f16_to_f32(uint16_t h);

#endif
