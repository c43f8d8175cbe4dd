/*
 * bench_grpo_parts.c: the parts of one GRPO step, each timed alone with the
 * engine and the model core (no trainer): what `grpo train`'s step should
 * cost if it added nothing of its own. bench/run_grpo_bench.sh compares the
 * trainer's time split with the sum of these parts, measured in the same
 * run. Not for: rewards, communication, checkpoints (the trainer's alone).
 *
 *   bench_grpo_parts [--prompts P] [--group G] [--prompt-len L] [--new N]
 *                    [--mbs M] [--steps S] [--warmup W]
 *
 * On the big bench shape (bench_shapes.h), per step:
 *   rollout     rollout_generate of P prompts x G samples, N new tokens
 *               each after an L-token prompt (temperature 1, EOS ignored,
 *               so every completion has N tokens), as the trainer calls it;
 *   reference   model_forward + model_logprobs_at of the P*G sequences
 *               (prompt + completion) on a second parameter block, in
 *               micro-batches of M sequences packed as the trainer packs;
 *   train       model_forward + model_backward_with (per-token GRPO
 *               weights from grpo_token_loss inside the LM head's pass, k3
 *               KL to the reference) over the same micro-batches;
 *   optimizer   grad_clip + adamw_step.
 * Each part's median over S steps after W warm-up steps is printed, and
 * a "parts:" line with the same numbers for scripts.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_shapes.h"
#include "common/common.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/optim.h"
#include "rollout/rollout.h"
#include "trainer/grpo_loss.h"
#include "trainer/pack.h"

enum { P_ROLLOUT, P_REFERENCE, P_TRAIN, P_OPTIM, N_PARTS };

/* Per-token inputs of the GRPO weight function (one micro-batch). */
typedef struct {
    GrpoLossConfig lc;
    const float *reflp, *adv, *coef;
} WeightCtx;

static void token_weights(void *ctx, int n, float logp, float ent, float *wlp, float *went) {
    const WeightCtx *c = ctx;
    int flags = 0;
    double kl = 0;
    grpo_token_loss(&c->lc, logp, ent, logp, c->reflp[n], c->adv[n], c->coef[n], 0.0, c->coef[n], wlp, went, &flags,
                    &kl);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Packs sequences [i0, i1) (prompt i / G, sample i % G) into mb. */
static void pack(MicroBatch *mb, const RolloutGroup *g, int G, int i0, int i1, int *scratch) {
    micro_reset(mb);
    for (int i = i0; i < i1; i++) {
        const RolloutGroup *grp = &g[i / G];
        const RolloutSample *s = &grp->samples[i % G];
        memcpy(scratch, grp->prompt_ids, (size_t)grp->n_prompt * sizeof(int));
        memcpy(scratch + grp->n_prompt, s->ids, (size_t)s->n * sizeof(int));
        ASSERT(micro_add(mb, scratch, grp->n_prompt + s->n, grp->n_prompt, 0.0f) == 0);
    }
}

int main(int argc, char **argv) {
    int P = 8, G = 8, plen = 32, new_tokens = 128, mbs = 8, steps = 3, warmup = 1;
    for (int i = 1; i < argc; i++) {
        int *dst = !strcmp(argv[i], "--prompts")      ? &P
                   : !strcmp(argv[i], "--group")      ? &G
                   : !strcmp(argv[i], "--prompt-len") ? &plen
                   : !strcmp(argv[i], "--new")        ? &new_tokens
                   : !strcmp(argv[i], "--mbs")        ? &mbs
                   : !strcmp(argv[i], "--steps")      ? &steps
                   : !strcmp(argv[i], "--warmup")     ? &warmup
                                                      : NULL;
        if (!dst || i + 1 >= argc) {
            fprintf(stderr, "usage: bench_grpo_parts [--prompts P] [--group G] [--prompt-len L] [--new N] [--mbs M] "
                            "[--steps S] [--warmup W]\n");
            return 2;
        }
        *dst = atoi(argv[++i]);
    }
    if (P < 1 || G < 1 || plen < 1 || new_tokens < 1 || mbs < 1 || steps < 1 || warmup < 0 ||
        plen + new_tokens > 1024) {
        fprintf(stderr, "bench_grpo_parts: counts must be >= 1 (warmup >= 0) and prompt + new <= 1024\n");
        return 2;
    }
    const Shape *sh = &bench_shapes[1];
    ModelConfig cfg = bench_shape_config(sh);
    Model m, ref;
    if (model_init(&m, &cfg) || model_init(&ref, &cfg)) FATAL("%s", err_msg());
    model_init_random(&m, 1);
    memcpy(ref.params, m.params, m.n_params * sizeof(float));
    model_alloc_grads(&m);
    AdamWConfig oc = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.0};
    AdamW opt;
    adamw_init(&opt, &m, &oc);
    RolloutWorker *w;
    if (rollout_worker_init(&w, &m, NULL)) FATAL("%s", err_msg());
    const int n_seq = P * G, max_seq = plen + new_tokens, max_tok = mbs * max_seq;
    Acts a;
    if (acts_init(&a, &cfg, max_tok, max_seq, 1, 0)) FATAL("%s", err_msg());
    MicroBatch mb;
    micro_init(&mb, max_tok, mbs);

    int *prompt_ids, *scratch = xmalloc((size_t)max_seq * sizeof(int));
    RolloutPrompt *rp = bench_random_prompts(sh->V, P, plen, &prompt_ids);
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = G, rc.max_completion_length = new_tokens, rc.ignore_eos = 1, rc.temperature = 1.0f;
    RolloutGroup *groups = xmalloc((size_t)P * sizeof(RolloutGroup));
    /* per-sequence reference log-probs, and one micro-batch's token inputs */
    float *reflp_seq = xmalloc((size_t)n_seq * new_tokens * sizeof(float));
    float *logp = xmalloc((size_t)max_tok * sizeof(float)), *ent = xmalloc((size_t)max_tok * sizeof(float));
    float *reflp = xmalloc((size_t)max_tok * sizeof(float)), *adv = xmalloc((size_t)max_tok * sizeof(float));
    float *coef = xmalloc((size_t)max_tok * sizeof(float));
    WeightCtx wc = {.lc = {.eps_low = 0.2, .eps_high = 0.2, .beta = 0.04, .kl = KL_K3}, reflp, adv, coef};
    double *t[N_PARTS], *sum = xmalloc((size_t)steps * sizeof(double));
    for (int p = 0; p < N_PARTS; p++) t[p] = xmalloc((size_t)steps * sizeof(double));
    long train_tokens = 0;

    printf("bench_grpo_parts: big shape (%.1fM parameters), threads %d (OMP_NUM_THREADS), load average %.2f at "
           "start\n",
           m.n_params / 1e6, omp_get_max_threads(), bench_loadavg());
    printf("%d prompts x %d samples, prompt %d + %d new tokens, micro-batches of %d sequences; median of %d steps "
           "after %d warm-up\n\n",
           P, G, plen, new_tokens, mbs, steps, warmup);
    for (int it = 0; it < warmup + steps; it++) {
        double t0 = now_seconds(), tp[N_PARTS];
        if (rollout_generate(w, &rc, (uint32_t)it, rp, P, groups, NULL)) FATAL("%s", err_msg());
        double t1 = now_seconds();
        tp[P_ROLLOUT] = t1 - t0;
        for (int i0 = 0; i0 < n_seq; i0 += mbs) {
            const int i1 = i0 + mbs < n_seq ? i0 + mbs : n_seq;
            pack(&mb, groups, G, i0, i1, scratch);
            Batch b = micro_batch(&mb);
            if (model_forward(&ref, &a, &b, NULL)) FATAL("%s", err_msg());
            model_logprobs_at(&ref, &a, mb.targets, logp, NULL, 1.0f);
            for (int i = i0; i < i1; i++) {
                const RolloutGroup *grp = &groups[i / G];
                const int at = mb.starts[i - i0] + grp->n_prompt - 1;
                memcpy(reflp_seq + (size_t)i * new_tokens, logp + at, (size_t)new_tokens * sizeof(float));
            }
        }
        double t2 = now_seconds();
        tp[P_REFERENCE] = t2 - t1;
        model_zero_grads(&m);
        train_tokens = 0;
        for (int i0 = 0; i0 < n_seq; i0 += mbs) {
            const int i1 = i0 + mbs < n_seq ? i0 + mbs : n_seq;
            pack(&mb, groups, G, i0, i1, scratch);
            for (int k = 0; k < mb.n_tokens; k++) reflp[k] = adv[k] = coef[k] = 0.0f;
            for (int i = i0; i < i1; i++) {
                const int at = mb.starts[i - i0] + groups[i / G].n_prompt - 1;
                for (int k = 0; k < new_tokens; k++) {
                    reflp[at + k] = reflp_seq[(size_t)i * new_tokens + k];
                    adv[at + k] = i % 2 ? 1.0f : -1.0f;
                    coef[at + k] = 1.0f / ((float)n_seq * (float)new_tokens);
                }
            }
            Batch b = micro_batch(&mb);
            if (model_forward(&m, &a, &b, NULL)) FATAL("%s", err_msg());
            BackwardSpec spec = {.fn = token_weights, .fn_ctx = &wc, .temperature = 1.0f};
            model_backward_with(&m, &a, &b, mb.targets, &spec, logp, ent);
            train_tokens += mb.n_tokens;
        }
        double t3 = now_seconds();
        tp[P_TRAIN] = t3 - t2;
        grad_clip(m.grads, m.n_params, 1.0);
        adamw_step(&opt, m.params, m.grads, 1e-6);
        tp[P_OPTIM] = now_seconds() - t3;
        rollout_groups_free(groups, P);
        if (it < warmup) continue;
        sum[it - warmup] = 0;
        for (int p = 0; p < N_PARTS; p++) t[p][it - warmup] = tp[p], sum[it - warmup] += tp[p];
    }
    double med[N_PARTS], med_sum = median(sum, steps);
    for (int p = 0; p < N_PARTS; p++) med[p] = median(t[p], steps);
    const double gen = (double)n_seq * new_tokens;
    printf("| part | seconds | tokens/s |\n|---|---|---|\n");
    printf("| rollout (%d x %d new tokens) | %.3f | %.0f |\n", n_seq, new_tokens, med[P_ROLLOUT], gen / med[P_ROLLOUT]);
    printf("| reference forward (%ld tokens) | %.3f | %.0f |\n", train_tokens, med[P_REFERENCE],
           train_tokens / med[P_REFERENCE]);
    printf("| policy forward + backward | %.3f | %.0f |\n", med[P_TRAIN], train_tokens / med[P_TRAIN]);
    printf("| clip + AdamW | %.3f | |\n", med[P_OPTIM]);
    printf("| sum of the parts (median of sums) | %.3f | |\n", med_sum);
    printf("\nload average %.2f at end\n", bench_loadavg());
    printf("parts: rollout=%.4f reference=%.4f train=%.4f optim=%.4f sum=%.4f threads=%d\n", med[P_ROLLOUT],
           med[P_REFERENCE], med[P_TRAIN], med[P_OPTIM], med_sum, omp_get_max_threads());

    for (int p = 0; p < N_PARTS; p++) free(t[p]);
    free(sum), free(reflp_seq), free(logp), free(ent), free(reflp), free(adv), free(coef);
    free(groups), free(rp), free(prompt_ids), free(scratch);
    micro_free(&mb);
    acts_free(&a);
    rollout_worker_free(w);
    adamw_free(&opt);
    model_free(&ref);
    model_free(&m);
    return 0;
}
