/*
 * fuzz_jsonl.c: the JSONL readers of data/dataset.c: the training reader
 * (format auto, text or prompt_completion, chosen by the first byte) and
 * the prompt reader (fields found automatically; GSM8K's "####" and MATH's
 * solutions), on the input as a file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/common.h"
#include "data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) snprintf(path, sizeof(path), "fuzz_jsonl.%ld.jsonl", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    static const char *const formats[] = {"auto", "text", "prompt_completion"};
    Dataset d;
    dataset_load(&d, path, formats[size ? data[0] % 3 : 0], "text");
    dataset_free(&d);
    dataset_load_prompts(&d, path, "auto", "auto");
    dataset_free(&d);
    dataset_load_prompts(&d, path, "question", "solution");
    dataset_free(&d);
    unlink(path);
    return 0;
}
