/*
 * bench_tokenizer.c: tokens/s of grpo's encoder next to HF tokenizers' (the
 * numbers bench/tokenizer_ref.mjs measured on the same text). Checks the two
 * produced the same ids (count and FNV-1a hash) before printing the table.
 * Not for: pass/fail testing. Run both sides with bench/bench_tokenizer.sh.
 *
 *   bench_tokenizer --model TOKENIZER.json --text TEXT.txt [--ref REF.json] [--threads N]
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "model/tokenizer/tokenizer.h"

static uint32_t fnv_ids(const int *ids, size_t n) {
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)ids[i];
        h ^= v & 0xffff;
        h *= 0x01000193u;
        h ^= v >> 16;
        h *= 0x01000193u;
    }
    return h;
}

static void row(const char *impl, const char *mode, int threads, double tokens, double bytes, double s) {
    printf("| %-22s | %-28s | %7d | %10.0f | %8.3f | %12.0f | %8.2f |\n", impl, mode, threads, tokens, s,
           tokens / s, bytes / s / 1e6);
}

/* Encodes every line (without its newline) of text; returns tokens. */
static size_t encode_lines(const Tokenizer *tok, const char *text, size_t len, int threads) {
    size_t n_lines = 0;
    for (size_t i = 0; i < len; i++) n_lines += text[i] == '\n';
    size_t *start = xmalloc((n_lines + 1) * sizeof(size_t));
    size_t k = 0, s = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') {
            start[k++] = s;
            s = i + 1;
        }
    start[k] = s;
    size_t total = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : total) num_threads(threads)
    for (size_t i = 0; i < n_lines; i++) {
        size_t b = start[i], e = start[i + 1] - 1;
        if (e <= b) continue;
        TokenIds ids = {0};
        tokenizer_encode(tok, text + b, e - b, 1, &ids);
        total += ids.n;
        token_ids_free(&ids);
    }
    free(start);
    return total;
}

int main(int argc, char **argv) {
    const char *model = NULL, *text_path = NULL, *ref_path = NULL;
    int threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--text")) text_path = argv[i + 1];
        else if (!strcmp(argv[i], "--ref")) ref_path = argv[i + 1];
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    }
    if (!model || !text_path || threads < 1) {
        fprintf(stderr, "usage: bench_tokenizer --model TOKENIZER.json --text TEXT.txt [--ref REF.json] "
                        "[--threads N]\n(bench/bench_tokenizer.sh runs both sides)\n");
        return 2;
    }
    size_t len;
    char *text = file_read_all(text_path, &len);
    if (!text) {
        fprintf(stderr, "bench_tokenizer: %s\n", err_msg());
        return 1;
    }
    double t0 = now_seconds();
    Tokenizer *tok;
    if (tokenizer_load(&tok, model)) {
        fprintf(stderr, "bench_tokenizer: %s\n", err_msg());
        return 1;
    }
    double t_load = now_seconds() - t0;

    TokenIds ids = {0};
    t0 = now_seconds();
    tokenizer_encode(tok, text, len, 1, &ids);
    double t_cold = now_seconds() - t0;
    size_t n_tokens = ids.n;
    uint32_t h = fnv_ids(ids.ids, ids.n);
    double t_warm = 1e30;
    for (int r = 0; r < 2; r++) {
        ids.n = 0;
        t0 = now_seconds();
        tokenizer_encode(tok, text, len, 1, &ids);
        double dt = now_seconds() - t0;
        if (dt < t_warm) t_warm = dt;
    }
    token_ids_free(&ids);
    t0 = now_seconds();
    size_t n_lines_tok = encode_lines(tok, text, len, 1);
    double t_lines = now_seconds() - t0;
    t0 = now_seconds();
    size_t n_par = encode_lines(tok, text, len, threads);
    double t_par = now_seconds() - t0;

    printf("text: %s (%.1f MB); tokenizer: %s (loaded in %.2f s)\n\n", text_path, len / 1e6, model, t_load);
    printf("| %-22s | %-28s | %7s | %10s | %8s | %12s | %8s |\n", "implementation", "input", "threads", "tokens",
           "seconds", "tokens/s", "MB/s");
    printf("|%s|%s|%s|%s|%s|%s|%s|\n", "------------------------", "------------------------------", "---------",
           "------------", "----------", "--------------", "----------");
    row("grpo", "one string, cold cache", 1, (double)n_tokens, (double)len, t_cold);
    row("grpo", "one string, warm cache", 1, (double)n_tokens, (double)len, t_warm);
    row("grpo", "line by line", 1, (double)n_lines_tok, (double)len, t_lines);
    row("grpo", "line by line", threads, (double)n_par, (double)len, t_par);
    int rc = 0;
    if (ref_path) {
        cJSON *ref = json_read_file(ref_path);
        if (!ref) {
            fprintf(stderr, "bench_tokenizer: %s\n", err_msg());
            return 1;
        }
        double rt = cJSON_GetNumberValue(cJSON_GetObjectItem(ref, "tokens"));
        double rbytes = cJSON_GetNumberValue(cJSON_GetObjectItem(ref, "bytes"));
        double rh = cJSON_GetNumberValue(cJSON_GetObjectItem(ref, "ids_fnv"));
        int cores = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(ref, "cores"));
        row("HF tokenizers (Rust)", "one string", 1, rt, rbytes,
            cJSON_GetNumberValue(cJSON_GetObjectItem(ref, "whole_s")));
        row("HF tokenizers (Rust)", "line by line (encode)", 1,
            cJSON_GetNumberValue(cJSON_GetObjectItem(ref, "lines_tokens")), rbytes,
            cJSON_GetNumberValue(cJSON_GetObjectItem(ref, "lines_s")));
        row("HF tokenizers (Rust)", "line by line (encodeBatch)", cores,
            cJSON_GetNumberValue(cJSON_GetObjectItem(ref, "batch_tokens")), rbytes,
            cJSON_GetNumberValue(cJSON_GetObjectItem(ref, "batch_s")));
        int same = rt == (double)n_tokens && rh == (double)h && rbytes == (double)len;
        printf("\nids identical to the reference's: %s (%zu tokens, FNV-1a %08x)\n", same ? "yes" : "NO", n_tokens,
               h);
        if (!same) rc = 1;
        cJSON_Delete(ref);
    }
    tokenizer_free(tok);
    free(text);
    return rc;
}
