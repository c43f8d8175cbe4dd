/*
 * fuzz_safetensors.c: the safetensors reader on a whole file image (header
 * length, JSON header, offsets, data): every tensor it accepts is looked up
 * by name and converted to fp32.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/common.h"
#include "model/io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    SafeTensors *st = NULL;
    if (safetensors_open_buffer(&st, data, size, "fuzz.safetensors")) return 0;
    for (size_t i = 0; i < safetensors_count(st); i++) {
        const StTensor *t = safetensors_get(st, i);
        if (safetensors_find(st, t->name) != t) abort();
        if (t->numel > ((size_t)1 << 20)) continue;
        float *out = malloc((t->numel ? t->numel : 1) * sizeof(float));
        safetensors_to_f32(st, t, out);
        free(out);
    }
    safetensors_metadata(st, "format");
    safetensors_close(st);
    return 0;
}
