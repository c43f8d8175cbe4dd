/*
 * bench_train.c: training throughput of the model core (forward + backward
 * + AdamW) on the two benchmark shapes of DESIGN's issue 2, next to the
 * cblas_sgemm peak measured in the same run. Prints a Markdown table; the
 * PyTorch reference is bench/bench_train_torch.py (bench/run_train_bench.sh
 * runs both and prints them side by side).
 *
 *   bench_train [--steps N] [--warmup N] [--shape small|big|all|qwen2.5-0.5b] [--recompute]
 *
 * Model FLOPs per token (as in the PaLM paper's MFU): 6 x (matmul parameters
 * incl. the LM head) + 6 x L x T x QD for causal attention (fwd + bwd, QK^T
 * and PV, averaged over positions). Embedding lookups are not counted.
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_shapes.h"
#include "common/common.h"
#include "common/rng.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/optim.h"


static double sgemm_peak(void) {
    const int n = 1024;
    float *a = xalloc_aligned((size_t)n * n * 4), *b = xalloc_aligned((size_t)n * n * 4),
          *c = xalloc_aligned((size_t)n * n * 4);
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = 0.001f * (float)(i % 97);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now_seconds();
        for (int k = 0; k < 4; k++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = now_seconds() - t0;
        double gf = 4 * 2.0 * n * (double)n * n / dt / 1e9;
        if (gf > best) best = gf;
    }
    free(a), free(b), free(c);
    return best;
}

int main(int argc, char **argv) {
    int steps = 10, warmup = 2, recompute = 0;
    const char *which = "all";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--shape") && i + 1 < argc) which = argv[++i];
        else if (!strcmp(argv[i], "--recompute")) recompute = 1;
        else {
            fprintf(stderr, "usage: bench_train [--steps N] [--warmup N] [--shape small|big|all|qwen2.5-0.5b] [--recompute]\n");
            return 2;
        }
    }
    const int B = 8, T = 256, N = B * T;
    double peak = sgemm_peak();
    printf("threads: %d (OMP_NUM_THREADS), batch %d x %d tokens, sgemm peak %.1f GFLOP/s (1024^3, same run)\n\n",
           omp_get_max_threads(), B, T, peak);
    printf("| shape | params | tokens/s | GFLOP/s | %% of sgemm peak | ms/step | workspace MiB |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (size_t s = 0; s < N_BENCH_SHAPES; s++) {
        const Shape *sh = &bench_shapes[s];
        if (!bench_shape_selected(sh, which)) continue;
        ModelConfig cfg = bench_shape_config(sh);
        Model m;
        if (model_init(&m, &cfg)) FATAL("%s", err_msg());
        model_init_random(&m, 1);
        model_alloc_grads(&m);
        Acts a;
        if (acts_init(&a, &cfg, N, T, 1, recompute)) FATAL("%s", err_msg());
        AdamWConfig oc = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.0};
        AdamW opt;
        adamw_init(&opt, &m, &oc);
        int *tokens = xmalloc(N * sizeof(int)), *targets = xmalloc(N * sizeof(int)), starts[9];
        float *w = xmalloc(N * sizeof(float));
        Rng r;
        rng_init(&r, 5, 0, 0, 0);
        for (int i = 0; i < N; i++) tokens[i] = (int)rng_below(&r, (uint32_t)sh->V);
        for (int b = 0; b <= B; b++) starts[b] = b * T;
        for (int i = 0; i < N; i++) {
            targets[i] = (i + 1) % T ? tokens[i + 1] : -1;
            w[i] = targets[i] >= 0 ? -1.0f / (float)(N - B) : 0.0f;
        }
        Batch batch = {.n_seqs = B, .n_tokens = N, .tokens = tokens, .seq_start = starts};
        double t0 = 0;
        for (int it = 0; it < warmup + steps; it++) {
            if (it == warmup) t0 = now_seconds();
            model_zero_grads(&m);
            if (model_forward(&m, &a, &batch, NULL)) FATAL("%s", err_msg());
            model_backward(&m, &a, &batch, targets, w, NULL, NULL, NULL);
            grad_clip(m.grads, m.n_params, 1.0);
            adamw_step(&opt, m.params, m.grads, 1e-4);
        }
        double dt = (now_seconds() - t0) / steps;
        const double C = sh->C, F = sh->F, QD = sh->C, KVD = (double)sh->NKV * (sh->C / sh->NH);
        double pm = sh->L * (C * (QD + 2 * KVD) + QD * C + 3 * C * F) + (double)sh->V * C;
        double flops_tok = 6 * pm + 6.0 * sh->L * T * QD;
        double tps = N / dt, gf = tps * flops_tok / 1e9;
        printf("| %s | %.1fM | %.0f | %.1f | %.0f%% | %.1f | %.0f |\n", sh->name, m.n_params / 1e6, tps, gf,
               100 * gf / peak, 1e3 * dt, acts_bytes(&a) / 1048576.0);
        fflush(stdout);
        free(tokens), free(targets), free(w);
        adamw_free(&opt);
        acts_free(&a);
        model_free(&m);
    }
    return 0;
}
