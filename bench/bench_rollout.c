/*
 * bench_rollout.c: rollout throughput of the engine (rollout/rollout.h) on
 * the two benchmark shapes of bench_train.c, with the memory-bandwidth
 * bound of batch-1 decode measured in the same run. Prints a Markdown
 * table; bench/bench_rollout_torch.py is the PyTorch KV-cache reference and
 * bench/run_rollout_bench.sh runs both.
 *
 *   bench_rollout [--shape small|big|all] [--new N] [--reps R] [--only b1|g16|8x16|prefill]
 *
 * Cases (temperature 1 sampling, EOS ignored so every sequence runs N new
 * tokens; prompt 32 tokens):
 *   decode b1     one prompt, one sample
 *   decode g16    one prompt, a group of 16 samples sharing its KV prefix
 *   decode 8x16   8 prompts x 16 samples
 *   prefill       8 prompts x 128 tokens
 * Decode tokens/s = tokens produced by decode steps / decode time (logits
 * and sampling included, prefill excluded). Each case runs --reps times
 * after one warm-up; the best run is reported (the machine is shared).
 * Bandwidth: the best of 5 streaming sums over 1 GiB with all threads;
 * batch-1 bound = bandwidth / weight bytes (every parameter read once per
 * token, fp32).
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_shapes.h"
#include "common/common.h"
#include "model/kernels.h"
#include "model/model.h"
#include "rollout/rollout.h"


/* Read bandwidth in GB/s: the best of 8 parallel sums over 1 GiB. Each
 * thread keeps 64 independent partial sums, so the loop is bound by
 * memory, not by the latency of one add chain. */
static double stream_bandwidth(void) {
    const size_t n = (size_t)1 << 28;
    float *x = xalloc_aligned(n * sizeof(float));
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) x[i] = (float)(i & 7);
    double best = 0, sink = 0;
    for (int r = 0; r < 8; r++) {
        double t0 = now_seconds(), s = 0;
#pragma omp parallel reduction(+ : s)
        {
            float acc[64] = {0};
#pragma omp for schedule(static)
            for (size_t i = 0; i < n; i += 64)
                for (int j = 0; j < 64; j++) acc[j] += x[i + j];
            for (int j = 0; j < 64; j++) s += acc[j];
        }
        double dt = now_seconds() - t0, gb = n * sizeof(float) / dt / 1e9;
        sink += s;
        if (gb > best) best = gb;
    }
    free(x);
    return sink < 0 ? 0 : best;
}

typedef struct {
    double decode_tps, prefill_tps;
    double kv_mib;
} Result;

/* Runs P prompts x G samples of `new` tokens, reps times after a warm-up. */
static Result run_case(RolloutWorker *w, int V, int P, int G, int plen, int new_tokens, int reps) {
    int *ids;
    RolloutPrompt *p = bench_random_prompts(V, P, plen, &ids);
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = G, rc.max_completion_length = new_tokens, rc.ignore_eos = 1, rc.temperature = 1.0f;
    RolloutGroup *g = xmalloc((size_t)P * sizeof(RolloutGroup));
    Result best = {0, 0, 0};
    for (int it = 0; it <= reps; it++) {
        if (rollout_generate(w, &rc, (uint32_t)it, p, P, g, NULL)) FATAL("%s", err_msg());
        RolloutStats st;
        rollout_stats(w, &st);
        rollout_groups_free(g, P);
        if (it == 0) continue;
        double dt = st.decode_tokens / st.decode_seconds, pt = st.prefill_tokens / st.prefill_seconds;
        if (dt > best.decode_tps) best.decode_tps = dt;
        if (pt > best.prefill_tps) best.prefill_tps = pt;
        best.kv_mib = st.kv_bytes / 1048576.0;
    }
    free(ids), free(p), free(g);
    return best;
}

int main(int argc, char **argv) {
    const char *which = "all", *only = NULL;
    int new_tokens = 128, reps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--shape") && i + 1 < argc) which = argv[++i];
        else if (!strcmp(argv[i], "--new") && i + 1 < argc) new_tokens = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else {
            fprintf(stderr, "usage: bench_rollout [--shape small|big|all] [--new N] [--reps R] "
                            "[--only b1|g16|8x16|prefill]\n");
            return 2;
        }
    }
    if (new_tokens < 2 || reps < 1) {
        fprintf(stderr, "bench_rollout: --new must be >= 2 and --reps >= 1\n");
        return 2;
    }
    const char *isa[3] = {"plain C", "AVX2", "AVX-512"};
    double bw = stream_bandwidth(), bw_end;
    printf("threads: %d (OMP_NUM_THREADS), matmul: %s, read bandwidth %.1f GB/s (1 GiB streaming sum, same run), "
           "load average %.2f at start\n",
           omp_get_max_threads(), isa[matmul_rowstable_isa()], bw, bench_loadavg());
    printf("prompt 32 tokens, %d new tokens per sample, temperature 1, best of %d runs\n\n", new_tokens, reps);
    printf("| shape | params | weights MiB | b1 bound tok/s | decode b1 tok/s | %% of bound | decode g16 tok/s | "
           "g16 / b1 | decode 8x16 tok/s | prefill tok/s (8x128) | KV MiB (8x16) |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t s = 0; s < N_BENCH_SHAPES; s++) {
        const Shape *sh = &bench_shapes[s];
        if (strcmp(which, "all") && strcmp(which, sh->name)) continue;
        ModelConfig cfg = bench_shape_config(sh);
        Model m;
        if (model_init(&m, &cfg)) FATAL("%s", err_msg());
        model_init_random(&m, 1);
        RolloutWorker *w;
        if (rollout_worker_init(&w, &m, NULL)) FATAL("%s", err_msg());
        double wbytes = (double)m.n_params * sizeof(float), bound = bw * 1e9 / wbytes;
        Result none = {0, 0, 0};
#define RUN(name, P, G, L, NEW) (!only || !strcmp(only, name) ? run_case(w, sh->V, P, G, L, NEW, reps) : none)
        Result b1 = RUN("b1", 1, 1, 32, new_tokens), g16 = RUN("g16", 1, 16, 32, new_tokens);
        Result p8 = RUN("8x16", 8, 16, 32, new_tokens), pf = RUN("prefill", 8, 1, 128, 2);
#undef RUN
        printf("| %s | %.1fM | %.0f | %.0f | %.0f | %.0f%% | %.0f | %.1fx | %.0f | %.0f | %.1f |\n", sh->name,
               m.n_params / 1e6, wbytes / 1048576.0, bound, b1.decode_tps, 100 * b1.decode_tps / bound, g16.decode_tps,
               g16.decode_tps / b1.decode_tps, p8.decode_tps, pf.prefill_tps, p8.kv_mib);
        fflush(stdout);
        rollout_worker_free(w);
        model_free(&m);
    }
    bw_end = stream_bandwidth();
    printf("\nload average %.2f at end; read bandwidth %.1f GB/s at end (the bound column uses the start's)\n",
           bench_loadavg(), bw_end);
    return 0;
}
