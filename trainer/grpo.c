/*
 * grpo.c: `grpo train`: Group Relative Policy Optimization (Shao et al.
 * 2024, DeepSeekMath; the recipe of DeepSeek-R1-Zero) over MPI ranks, with
 * exact resume.
 * Not for: the loss of a token (grpo_loss.c), advantages (advantage.c),
 * what SFT shares (session.c), sampling (rollout/), scoring (reward/).
 *
 * One step (train_step), as docs/architecture.md draws it:
 *   1. prompts   train.prompts_per_step prompts from the seeded epoch order
 *                (or the task generator); rank r takes a contiguous block,
 *                so a group never straddles ranks;
 *   2. rollout   G completions per prompt, keyed (seed, step, prompt, g);
 *   3. rewards   every reward function on every completion; with dynamic
 *                sampling, groups whose rewards are all equal are dropped
 *                and more prompts drawn until the batch is full;
 *   4. reference log-probs of the reference policy (beta > 0);
 *   5. advantages, group-relative (advantage.h);
 *   6. update    num_iterations times: micro-batches of completions,
 *                forward, backward with per-token weights computed inside
 *                the LM head's chunked pass (grpo_loss.h), gradients summed
 *                across ranks as each layer finishes, clip, AdamW;
 *   7. log       metrics.jsonl, completions.jsonl, the progress line;
 *                a checkpoint every save_steps.
 * Every global number (token counts, batch std, metrics) is reduced over
 * the ranks, and the batch's order (round, prompt index, sample) does not
 * depend on the ranks, so 1 and N ranks run the same job.
 */
#include "grpo.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "data/template.h"
#include "model/forward.h"
#include "reward/reward.h"
#include "rollout/rollout.h"
#include "trainer/advantage.h"
#include "trainer/eval.h"
#include "trainer/eval_stats.h"
#include "trainer/grpo_loss.h"
#include "trainer/pack.h"
#include "trainer/prompts.h"
#include "trainer/report.h"
#include "trainer/session.h"

/* ---- the plan: the job's settings, checked once before any work ---- */

typedef struct {
    RolloutConfig rc;
    const char **stop;
    GrpoLossConfig lc;
    LossType loss_type;
    ScaleRewards scale;
    long P;         /* prompts per step, all ranks */
    int G;          /* completions per prompt */
    long mbs;       /* completions per micro-batch */
    int use_ref;    /* a reference policy is kept */
    int same_old;   /* num_iterations == 1: the old policy is the current one */
    int skip_zero;  /* no KL or entropy term: a completion with advantage 0 has no gradient */
    float temperature;
} Plan;

static int plan_make(Plan *p, const JobConfig *job) {
    memset(p, 0, sizeof(*p));
    p->G = (int)job->num_generations;
    if (p->G < 2)
        return ERR("rollout.num_generations: %d; GRPO compares the completions of a group, so it needs at least 2 "
                   "(R1-Zero used 16)",
                   p->G);
    if (job->temperature <= 0)
        return ERR("rollout.temperature: 0 (greedy) makes every completion of a group the same, so there is nothing "
                   "to compare; use a temperature > 0 (R1-Zero used 1.0)");
    p->P = job->prompts_per_step;
    if (job->batch_size > 0) { /* TRL's way: completions per step */
        if (job->batch_size % p->G)
            return ERR("train.batch_size: %ld completions is not a multiple of rollout.num_generations %d (each prompt "
                       "brings a whole group); use %ld or %ld, or set train.prompts_per_step instead",
                       job->batch_size, p->G, job->batch_size / p->G * p->G,
                       (job->batch_size / p->G + 1) * p->G);
        p->P = job->batch_size / p->G;
    }
    const long batch = p->P * p->G;
    if (job->micro_batch_size > batch)
        return ERR("train.micro_batch_size: %ld is larger than the batch (%ld prompts x %d completions = %ld); "
                   "choose 1 to %ld",
                   job->micro_batch_size, p->P, p->G, batch, batch);
    p->mbs = job->micro_batch_size;
    const double eps_hi = isnan(job->epsilon_high) ? job->epsilon : job->epsilon_high;
    if (eps_hi < job->epsilon)
        return ERR("algorithm.epsilon_high: %g is below algorithm.epsilon %g; clip-higher (DAPO) raises the upper "
                   "bound only: use a value >= %g, or null for the same as epsilon",
                   eps_hi, job->epsilon, job->epsilon);
    p->lc = (GrpoLossConfig){.eps_low = job->epsilon,
                             .eps_high = eps_hi,
                             .beta = job->kl_in_reward ? 0.0 : job->beta,
                             .kl = (KlEstimator)kl_estimator_parse(job->kl_estimator),
                             .entropy_coeff = job->entropy_coeff,
                             .sequence_level = !strcmp(job->importance_sampling_level, "sequence")};
    p->loss_type = (LossType)loss_type_parse(job->loss_type);
    p->scale = (ScaleRewards)scale_rewards_parse(job->scale_rewards);
    p->use_ref = job->beta > 0;
    p->same_old = job->num_iterations == 1;
    p->skip_zero = job->skip_zero_advantage && !p->use_ref && job->entropy_coeff == 0.0;
    p->temperature = (float)job->temperature;
    if (!cJSON_IsArray(job->stop)) return ERR("rollout.stop: expected an array of strings");
    int n_stop = cJSON_GetArraySize(job->stop);
    p->stop = xcalloc((size_t)n_stop + 1, sizeof(char *));
    for (int i = 0; i < n_stop; i++) {
        const cJSON *it = cJSON_GetArrayItem(job->stop, i);
        if (!cJSON_IsString(it) || !it->valuestring[0])
            return ERR("rollout.stop[%d]: expected a non-empty string", i);
        p->stop[i] = it->valuestring;
    }
    rollout_config_default(&p->rc);
    p->rc.num_generations = p->G;
    p->rc.temperature = (float)job->temperature;
    p->rc.top_p = (float)job->top_p;
    p->rc.top_k = (int)job->top_k;
    p->rc.min_p = (float)job->min_p;
    p->rc.max_completion_length = (int)job->max_completion_length;
    p->rc.stop = p->stop;
    p->rc.n_stop = n_stop;
    p->rc.seed = (uint64_t)job->seed;
    if (rollout_config_check(&p->rc)) return err_prefix("rollout");
    return 0;
}

/* ---- the trainer ---- */

typedef struct {
    const JobConfig *job;
    const Dist *d;
    Plan plan;
    Session s;
    SessionBlock ref_block; /* "reference": the frozen policy of the KL term */
    Model ref;              /* a view of ref_block.data */
    RewardSet *rewards;
    size_t F;               /* reward functions */
    int *is_accuracy;       /* [F] the function grades correctness (math_accuracy, countdown, code) */
    PromptSource src;
    EpochOrder order;       /* over a file's prompts */
    Evaluator eval;         /* opened when train.eval_steps > 0 */
    RolloutWorker *worker;
    Acts acts;
    MicroBatch mb;
    int max_prompt, max_tokens;
    /* per-token scratch of one micro-batch */
    int *ids;
    size_t *sel;        /* the items of the micro-batch (of one piece) */
    float *old, *reflp, *adv, *coef, *logw, *logp, *ent;
    double *tok_loss, *tok_kl;
    int *flags;
    uint64_t cursor;    /* prompts of the stream used so far */
    double num_tokens;  /* tokens trained on so far, all ranks */
    int think_in_prompt; /* the template's prompt opens <think> */
} Trainer;

/* This rank's part of a step's batch: the groups it keeps, in the batch's
 * global order, and their completions (item i = group * G + j). */
typedef struct {
    size_t n_groups, cap;
    RolloutGroup *groups;
    cJSON **examples;
    char **prompts;     /* rendered prompt text */
    long *group_pos;    /* position of the group in the step's global batch */
    double *reward;     /* [items] weighted total, 0 when no function scored */
    double *scores;     /* [items * F] */
    unsigned char *has; /* [items * F] */
    cJSON **diag;       /* [items * F] diagnostics (owned), or NULL */
    float *adv;         /* [items] */
    float **ref;        /* [items] reference log-probs per token, or NULL */
    int *n_loss;        /* [items] tokens in the loss (0: masked) */
    double *coef;       /* [items] aggregation weight of each loss token */
    /* step-wide numbers */
    double n_seqs, n_tokens;
    long n_chunks;
    double *chunk_tokens;
    long rounds;
    double groups_generated, groups_flat, gen_tokens;
} StepBatch;

static size_t n_items(const StepBatch *b, int G) { return b->n_groups * (size_t)G; }

static void batch_free(StepBatch *b, size_t F, int G) {
    rollout_groups_free(b->groups, (int)b->n_groups);
    for (size_t g = 0; g < b->n_groups; g++) {
        cJSON_Delete(b->examples[g]);
        free(b->prompts[g]);
    }
    for (size_t i = 0; i < n_items(b, G); i++) {
        if (b->ref) free(b->ref[i]);
        for (size_t f = 0; f < F; f++) cJSON_Delete(b->diag[i * F + f]);
    }
    free(b->groups), free(b->examples), free(b->prompts), free(b->group_pos), free(b->reward), free(b->scores);
    free(b->has), free(b->diag), free(b->adv), free(b->ref), free(b->n_loss), free(b->coef), free(b->chunk_tokens);
    memset(b, 0, sizeof(*b));
}

/* Makes room for `more` groups. */
static void batch_reserve(StepBatch *b, size_t more, size_t F, int G) {
    if (b->n_groups + more <= b->cap) return;
    size_t cap = b->cap ? b->cap : 8;
    while (cap < b->n_groups + more) cap *= 2;
    size_t items = cap * (size_t)G, old = b->cap * (size_t)G;
    b->groups = xrealloc(b->groups, cap * sizeof(RolloutGroup));
    b->examples = xrealloc(b->examples, cap * sizeof(cJSON *));
    b->prompts = xrealloc(b->prompts, cap * sizeof(char *));
    b->group_pos = xrealloc(b->group_pos, cap * sizeof(long));
    b->reward = xrealloc(b->reward, items * sizeof(double));
    b->scores = xrealloc(b->scores, items * F * sizeof(double));
    b->has = xrealloc(b->has, items * F);
    b->diag = xrealloc(b->diag, items * F * sizeof(cJSON *));
    memset(b->diag + old * F, 0, (items - old) * F * sizeof(cJSON *));
    b->cap = cap;
}

/* ---- 1-3: prompts, rollout, rewards ---- */

/* Example `pos` of the prompt stream. */
static int stream_example(Trainer *t, uint64_t pos, cJSON **ex) {
    uint64_t i = t->src.have_file ? epoch_order_at(&t->order, pos) : pos;
    return prompts_get(&t->src, i, ex);
}

/* The rendered prompt of ex and its ids, the last max_prompt of them. */
static int render_prompt(Trainer *t, const cJSON *ex, char **text, TokenIds *ids) {
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(ex, "prompt");
    if (!cJSON_IsString(q)) return ERR("a prompt example has no \"prompt\" string");
    if (template_render(t->job->template_name, q->valuestring, text)) return err_prefix("data.template");
    if (tokenizer_encode(t->s.tok, *text, strlen(*text), 1, ids)) return -1;
    if (ids->n > (size_t)t->max_prompt) { /* keep the end, as TRL truncates from the left */
        size_t cut = ids->n - (size_t)t->max_prompt;
        memmove(ids->ids, ids->ids + cut, (size_t)t->max_prompt * sizeof(int));
        ids->n = (size_t)t->max_prompt;
    }
    if (ids->n == 0) return ERR("a prompt renders to no tokens");
    return 0;
}

/* One round: prompts stream[cursor .. cursor+P) (this rank's block of
 * them) are sampled and scored into b's groups first .. first+n. Returns
 * the number of groups added, or -1. */
static long run_round(Trainer *t, long step, long round, StepBatch *b, StepTimer *tm) {
    const Plan *p = &t->plan;
    int lo, hi;
    rollout_shard((int)p->P, t->d->rank, t->d->world, &lo, &hi);
    const int n = hi - lo;
    const size_t first = b->n_groups;
    batch_reserve(b, (size_t)n, t->F, p->G);
    RolloutPrompt *rp = xcalloc((size_t)(n > 0 ? n : 1), sizeof(RolloutPrompt));
    TokenIds *ids = xcalloc((size_t)(n > 0 ? n : 1), sizeof(TokenIds));
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        cJSON *ex = NULL;
        char *text = NULL;
        rc = stream_example(t, t->cursor + (uint64_t)(lo + i), &ex);
        if (rc == 0) rc = render_prompt(t, ex, &text, &ids[i]);
        b->examples[first + (size_t)i] = ex;
        b->prompts[first + (size_t)i] = text;
        rp[i] = (RolloutPrompt){.ids = ids[i].ids, .n_ids = (int)ids[i].n, .index = (uint32_t)(round * p->P + lo + i)};
    }
    if (rc == 0 && n > 0)
        rc = rollout_generate(t->worker, &p->rc, (uint32_t)step, rp, n, b->groups + first, NULL);
    if (rc == 0) b->n_groups = first + (size_t)n;
    else
        for (int i = 0; i < n; i++) cJSON_Delete(b->examples[first + (size_t)i]), free(b->prompts[first + (size_t)i]);
    for (int i = 0; i < n; i++) token_ids_free(&ids[i]);
    free(ids);
    free(rp);
    timer_mark(tm, PHASE_ROLLOUT);
    if (rc == 0 && n > 0) {
        /* every reward function on every completion of the round */
        const size_t m = (size_t)n * (size_t)p->G, base = first * (size_t)p->G;
        RewardInput *in = xcalloc(m, sizeof(RewardInput));
        for (size_t k = 0; k < m; k++) {
            size_t g = first + k / (size_t)p->G;
            const RolloutSample *s = &b->groups[g].samples[k % (size_t)p->G];
            /* group: the prompt's position in the step's stream (unique within the step) */
            in[k] = (RewardInput){.prompt = b->prompts[g], .completion = s->text, .example = b->examples[g],
                                  .n_tokens = s->n, .finish = s->finish, .has_group = 1,
                                  .group = round * p->P + lo + (long)(k / (size_t)p->G),
                                  .index = (int)(k % (size_t)p->G), .step = step + 1, .token_ids = s->ids,
                                  .n_token_ids = s->n};
            b->gen_tokens += s->n;
        }
        RewardBatch rb = {0};
        rc = reward_set_score(t->rewards, in, m, &rb);
        for (size_t k = 0; rc == 0 && k < m; k++) {
            b->reward[base + k] = rb.total[k];
            for (size_t f = 0; f < t->F; f++) {
                RewardResult *r = &rb.per[f * m + k];
                b->scores[(base + k) * t->F + f] = r->score;
                b->has[(base + k) * t->F + f] = (unsigned char)r->has_score;
                b->diag[(base + k) * t->F + f] = r->diag;
                r->diag = NULL;
            }
        }
        reward_batch_free(&rb);
        free(in);
        if (rc) err_prefix("step %ld", step + 1);
    }
    timer_mark(tm, PHASE_REWARD);
    if (!dist_all_ok(t->d, rc == 0)) return rc ? -1 : ERR("step %ld: sampling or scoring failed on another rank", step + 1);
    return n;
}

/* Removes group g from the batch (dynamic sampling drops it). */
static void drop_group(StepBatch *b, size_t g, size_t F, int G) {
    rollout_groups_free(&b->groups[g], 1);
    cJSON_Delete(b->examples[g]);
    free(b->prompts[g]);
    for (size_t i = g * (size_t)G; i < (g + 1) * (size_t)G; i++)
        for (size_t f = 0; f < F; f++) cJSON_Delete(b->diag[i * F + f]);
    size_t after = b->n_groups - g - 1, items = after * (size_t)G, at = g * (size_t)G;
    memmove(&b->groups[g], &b->groups[g + 1], after * sizeof(RolloutGroup));
    memmove(&b->examples[g], &b->examples[g + 1], after * sizeof(cJSON *));
    memmove(&b->prompts[g], &b->prompts[g + 1], after * sizeof(char *));
    memmove(&b->group_pos[g], &b->group_pos[g + 1], after * sizeof(long));
    memmove(&b->reward[at], &b->reward[at + (size_t)G], items * sizeof(double));
    memmove(&b->scores[at * F], &b->scores[(at + (size_t)G) * F], items * F * sizeof(double));
    memmove(&b->has[at * F], &b->has[(at + (size_t)G) * F], items * F);
    memmove(&b->diag[at * F], &b->diag[(at + (size_t)G) * F], items * F * sizeof(cJSON *));
    memset(&b->diag[(at + items) * F], 0, (size_t)G * F * sizeof(cJSON *));
    b->n_groups--;
}

/* Steps 1-3 with dynamic sampling: rounds of P prompts until the batch
 * holds P groups whose rewards differ (or max_num_gen_batches rounds);
 * without it, one round kept whole. The kept groups' global positions
 * follow (round, prompt index), whatever the number of ranks. */
static int collect_groups(Trainer *t, long step, StepBatch *b, StepTimer *tm) {
    const Plan *p = &t->plan;
    const int W = t->d->world, dyn = t->job->dynamic_sampling;
    double *kept = xmalloc((size_t)W * sizeof(double));
    long total_kept = 0;
    int rc = 0;
    for (long round = 0; rc == 0 && (round == 0 || (dyn && total_kept < p->P && round < t->job->max_num_gen_batches));
         round++) {
        const size_t first = b->n_groups;
        long n = run_round(t, step, round, b, tm);
        t->cursor += (uint64_t)p->P;
        b->rounds++;
        if (n < 0) {
            rc = -1;
            break;
        }
        /* flat groups: counted always, dropped with dynamic sampling */
        double flat = 0;
        for (size_t g = first; g < b->n_groups;) {
            int is_flat = advantage_group_flat(&b->reward[g * (size_t)p->G], (size_t)p->G);
            flat += is_flat;
            if (dyn && is_flat) drop_group(b, g, t->F, p->G);
            else g++;
        }
        b->groups_generated += (double)n;
        b->groups_flat += flat;
        /* keep the first P - total_kept groups of this round in global order */
        memset(kept, 0, (size_t)W * sizeof(double));
        kept[t->d->rank] = (double)(b->n_groups - first);
        dist_sum_f64(t->d, kept, (size_t)W);
        long before = 0;
        for (int r = 0; r < t->d->rank; r++) before += (long)kept[r];
        long room = p->P - total_kept - before, mine = (long)(b->n_groups - first);
        long keep = room <= 0 ? 0 : mine < room ? mine : room;
        while ((long)(b->n_groups - first) > keep) drop_group(b, b->n_groups - 1, t->F, p->G);
        for (long k = 0; k < keep; k++) b->group_pos[first + (size_t)k] = total_kept + before + k;
        long round_kept = 0;
        for (int r = 0; r < W; r++) round_kept += (long)kept[r];
        total_kept += round_kept < p->P - total_kept ? round_kept : p->P - total_kept;
    }
    free(kept);
    double g[3] = {b->groups_generated, b->groups_flat, b->gen_tokens};
    dist_sum_f64(t->d, g, 3);
    b->groups_generated = g[0], b->groups_flat = g[1], b->gen_tokens = g[2];
    if (rc == 0 && total_kept == 0)
        log_warn("step %ld: every group's rewards were equal in %ld rounds; the step updates nothing but the KL "
                 "term",
                 step + 1, b->rounds);
    return rc;
}

/* ---- 4: reference log-probs ---- */

/* Packs the n items idx[] into the micro-batch: prompt ids then completion
 * ids, targets on the completion tokens (none for masked items). */
static void pack_items(Trainer *t, const StepBatch *b, const size_t *idx, size_t n, int all_targets) {
    const int G = t->plan.G;
    micro_reset(&t->mb);
    for (size_t q = 0; q < n; q++) {
        const size_t i = idx[q];
        const RolloutGroup *grp = &b->groups[i / (size_t)G];
        const RolloutSample *s = &grp->samples[i % (size_t)G];
        memcpy(t->ids, grp->prompt_ids, (size_t)grp->n_prompt * sizeof(int));
        memcpy(t->ids + grp->n_prompt, s->ids, (size_t)s->n * sizeof(int));
        const int len = grp->n_prompt + s->n;
        const int from = all_targets || b->n_loss[i] > 0 ? grp->n_prompt : len;
        ASSERT(micro_add(&t->mb, t->ids, len, from, 0.0f) == 0);
    }
}

/* The micro-batches of this rank: runs of consecutive items of one chunk
 * (train.micro_batch_size completions of the global batch) each. Writes
 * the end of the run starting at i0. */
static size_t piece_end(const Trainer *t, const StepBatch *b, size_t i0) {
    const int G = t->plan.G;
    const size_t n = n_items(b, G);
    long chunk = (b->group_pos[i0 / (size_t)G] * G + (long)(i0 % (size_t)G)) / t->plan.mbs;
    size_t i = i0 + 1;
    while (i < n && i - i0 < (size_t)t->plan.mbs &&
           (b->group_pos[i / (size_t)G] * G + (long)(i % (size_t)G)) / t->plan.mbs == chunk)
        i++;
    return i;
}

/* The items of the piece [i0, i1) that the pass computes, into t->sel:
 * all of them, or (train) those with a gradient: with no KL or entropy
 * term in the loss, a completion whose advantage is 0 (a group whose
 * rewards are all equal) or that has no loss tokens adds exactly nothing. */
static size_t select_items(Trainer *t, const StepBatch *b, size_t i0, size_t i1, int train) {
    size_t n = 0;
    for (size_t i = i0; i < i1; i++)
        if (!train || !t->plan.skip_zero || (b->adv[i] != 0.0f && b->n_loss[i] > 0)) t->sel[n++] = i;
    return n;
}

static int reference_logprobs(Trainer *t, StepBatch *b, StepTimer *tm) {
    const size_t n = n_items(b, t->plan.G);
    b->ref = xcalloc(n ? n : 1, sizeof(float *));
    int rc = 0;
    for (size_t i0 = 0; i0 < n && rc == 0;) {
        size_t i1 = piece_end(t, b, i0), ns = select_items(t, b, i0, i1, 0);
        pack_items(t, b, t->sel, ns, 1);
        Batch mb = micro_batch(&t->mb);
        rc = model_forward(&t->ref, &t->acts, &mb, NULL);
        if (rc == 0) model_logprobs_at(&t->ref, &t->acts, t->mb.targets, t->logp, NULL, t->plan.temperature);
        for (size_t q = 0; rc == 0 && q < ns; q++) {
            const size_t i = t->sel[q];
            const int start = t->mb.starts[q];
            const RolloutGroup *grp = &b->groups[i / (size_t)t->plan.G];
            const int nc = grp->samples[i % (size_t)t->plan.G].n;
            b->ref[i] = xmalloc((size_t)nc * sizeof(float));
            for (int k = 0; k < nc; k++) b->ref[i][k] = t->logp[start + grp->n_prompt - 1 + k];
        }
        i0 = i1;
    }
    timer_mark(tm, PHASE_REFERENCE);
    if (!dist_all_ok(t->d, rc == 0)) return rc ? -1 : ERR("the reference forward failed on another rank");
    return 0;
}

/* ---- 5: advantages and the loss's aggregation weights ---- */

static void apply_kl_penalty(Trainer *t, StepBatch *b) {
    const int G = t->plan.G;
    for (size_t i = 0; i < n_items(b, G); i++) {
        const RolloutSample *s = &b->groups[i / (size_t)G].samples[i % (size_t)G];
        double kl = 0, dk;
        for (int k = 0; k < s->n; k++) kl += grpo_kl(t->plan.lc.kl, b->ref[i][k], s->logprobs_t[k], &dk);
        b->reward[i] -= t->job->beta * kl;
    }
}

static void compute_advantages(Trainer *t, StepBatch *b) {
    const Plan *p = &t->plan;
    const size_t n = n_items(b, p->G);
    if (t->job->kl_in_reward && t->job->beta > 0) apply_kl_penalty(t, b);
    double mom[3] = {0, 0, (double)n};
    advantage_batch_moments(b->reward, n, mom);
    dist_sum_f64(t->d, mom, 3);
    double batch_std = advantage_std(mom[0], mom[1], mom[2]);
    b->adv = xmalloc((n ? n : 1) * sizeof(float));
    advantage_compute(b->reward, b->n_groups, (size_t)p->G, p->scale, batch_std, b->adv);
}

static void loss_weights(Trainer *t, StepBatch *b) {
    const Plan *p = &t->plan;
    const int G = p->G;
    const size_t n = n_items(b, G);
    b->n_loss = xmalloc((n ? n : 1) * sizeof(int));
    double tot[2] = {(double)n, 0};
    for (size_t i = 0; i < n; i++) {
        const RolloutSample *s = &b->groups[i / (size_t)G].samples[i % (size_t)G];
        b->n_loss[i] = t->job->mask_truncated_completions && s->finish == FINISH_LENGTH ? 0 : s->n;
        tot[1] += b->n_loss[i];
    }
    dist_sum_f64(t->d, tot, 2);
    b->n_seqs = tot[0];
    b->n_tokens = tot[1];
    b->n_chunks = ((long)b->n_seqs + p->mbs - 1) / p->mbs;
    b->chunk_tokens = xcalloc((size_t)(b->n_chunks > 0 ? b->n_chunks : 1), sizeof(double));
    for (size_t i = 0; i < n; i++)
        b->chunk_tokens[(b->group_pos[i / (size_t)G] * G + (long)(i % (size_t)G)) / p->mbs] += b->n_loss[i];
    if (p->loss_type == LOSS_BNPO) dist_sum_f64(t->d, b->chunk_tokens, (size_t)b->n_chunks);
    b->coef = xmalloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        long chunk = (b->group_pos[i / (size_t)G] * G + (long)(i % (size_t)G)) / p->mbs;
        b->coef[i] = b->n_loss[i] ? grpo_token_coef(p->loss_type, b->n_seqs, b->n_loss[i], b->n_tokens,
                                                    b->chunk_tokens[chunk], (double)b->n_chunks,
                                                    (double)t->job->max_completion_length)
                                  : 0.0;
    }
}

/* ---- 6: the policy update ---- */

/* What the LM head's weight function reads (per token of the micro-batch). */
typedef struct {
    const Trainer *t;
} WeightCtx;

/* lmhead.h's LMHeadWeightFn: the GRPO derivatives of token n, computed
 * from its current log-prob and entropy inside the chunked pass. */
static void token_weights(void *ctx, int n, float logp, float ent, float *wlp, float *went) {
    const Trainer *t = ((const WeightCtx *)ctx)->t;
    const double old = t->plan.same_old ? logp : t->old[n];
    double *kl = t->plan.use_ref ? &t->tok_kl[n] : NULL;
    t->tok_loss[n] = grpo_token_loss(&t->plan.lc, logp, ent, old, t->reflp[n], t->adv[n], t->coef[n], t->logw[n],
                                     t->coef[n], wlp, went, &t->flags[n], kl);
}

/* Sums over one update, reduced over ranks at the end. */
enum { U_LOSS, U_TOKENS, U_ENT, U_KL, U_LOW, U_HIGH, U_GAP_SUM, U_GAP_N, U_NSUM };

typedef struct {
    double sum[U_NSUM];
    double gap_max;
    double grad_norm, lr;
    int skipped;
} UpdateStats;

/* Fills the per-token inputs of the ns packed items t->sel[]. */
static void token_inputs(Trainer *t, const StepBatch *b, size_t ns) {
    const int G = t->plan.G;
    for (int k = 0; k < t->mb.n_tokens; k++) {
        t->old[k] = t->reflp[k] = t->adv[k] = t->coef[k] = t->logw[k] = 0.0f;
        t->tok_loss[k] = t->tok_kl[k] = 0.0;
        t->flags[k] = 0;
    }
    for (size_t q = 0; q < ns; q++) {
        const size_t i = t->sel[q];
        const RolloutGroup *grp = &b->groups[i / (size_t)G];
        const RolloutSample *s = &grp->samples[i % (size_t)G];
        const int at = t->mb.starts[q] + grp->n_prompt - 1;
        for (int k = 0; k < s->n; k++) {
            t->old[at + k] = s->logprobs_t[k];
            t->reflp[at + k] = b->ref ? b->ref[i][k] : 0.0f;
            t->adv[at + k] = b->adv[i];
            t->coef[at + k] = (float)b->coef[i];
        }
    }
}

/* GSPO with a changed policy: the mean log-ratio of each completion, from
 * a forward pass of the LM head (num_iterations > 1 only). */
static void sequence_log_ratios(Trainer *t, const StepBatch *b, size_t ns) {
    model_logprobs_at(&t->s.model, &t->acts, t->mb.targets, t->logp, NULL, t->plan.temperature);
    for (size_t q = 0; q < ns; q++) {
        const size_t i = t->sel[q];
        const int G = t->plan.G;
        const RolloutGroup *grp = &b->groups[i / (size_t)G];
        const int at = t->mb.starts[q] + grp->n_prompt - 1, nl = b->n_loss[i];
        double sum = 0;
        for (int k = 0; k < nl; k++) sum += t->logp[at + k] - t->old[at + k];
        for (int k = 0; k < nl; k++) t->logw[at + k] = nl ? (float)(sum / nl) : 0.0f;
    }
}

/* The part_done hook of the last micro-batch: sums that part's gradients
 * across ranks while the pass goes on. */
typedef struct {
    Trainer *t;
    DistPending *pend;
} SumCtx;

static void sum_part(void *ctx, int part) {
    SumCtx *c = ctx;
    size_t lo, hi;
    model_part_range(&c->t->s.model.cfg, part, &lo, &hi);
    dist_isum_f32(c->t->d, c->pend, c->t->s.model.grads + lo, hi - lo);
    dist_poll(c->t->d, c->pend);
}

static int policy_update(Trainer *t, StepBatch *b, long step, int it, StepTimer *tm, UpdateStats *u) {
    const size_t n = n_items(b, t->plan.G);
    model_zero_grads(&t->s.model);
    DistPending pend = {0};
    SumCtx sc = {t, &pend};
    WeightCtx wc = {t};
    int rc = 0, summed = 0;
    for (size_t i0 = 0; i0 < n && rc == 0;) {
        size_t i1 = piece_end(t, b, i0), ns = select_items(t, b, i0, i1, 1);
        const int last = i1 == n;
        i0 = i1;
        if (ns == 0) continue; /* nothing here has a gradient */
        pack_items(t, b, t->sel, ns, 0);
        token_inputs(t, b, ns);
        Batch mb = micro_batch(&t->mb);
        rc = model_forward(&t->s.model, &t->acts, &mb, NULL);
        if (rc) break;
        if (t->plan.lc.sequence_level && !t->plan.same_old) sequence_log_ratios(t, b, ns);
        BackwardSpec spec = {.fn = token_weights, .fn_ctx = &wc, .temperature = t->plan.temperature,
                             .part_done = last ? sum_part : NULL, .part_ctx = &sc};
        model_backward_with(&t->s.model, &t->acts, &mb, t->mb.targets, &spec, t->logp, t->ent);
        summed |= last;
        for (int k = 0; k < t->mb.n_tokens; k++) {
            if (t->mb.targets[k] < 0) continue;
            u->sum[U_LOSS] += t->tok_loss[k];
            u->sum[U_TOKENS] += 1;
            u->sum[U_ENT] += t->ent[k];
            u->sum[U_KL] += t->tok_kl[k];
            u->sum[U_LOW] += (t->flags[k] & CLIP_LOW) != 0;
            u->sum[U_HIGH] += (t->flags[k] & CLIP_HIGH) != 0;
            if (it == 0) { /* the sampler's log-prob against the trainer's, same token and temperature */
                double gap = fabs((double)t->logp[k] - t->old[k]);
                u->sum[U_GAP_SUM] += gap;
                u->sum[U_GAP_N] += 1;
                if (gap > u->gap_max) u->gap_max = gap;
            }
        }
    }
    timer_mark(tm, PHASE_TRAIN);
    /* the last micro-batch was skipped (or failed): join the same sums in the
     * same order, before any other collective, as MPI requires */
    if (!summed)
        for (int part = t->s.model.cfg.num_hidden_layers; part >= -1; part--) sum_part(&sc, part);
    const int all_ok = dist_all_ok(t->d, rc == 0);
    dist_wait_all(t->d, &pend);
    dist_pending_free(&pend);
    if (!all_ok) return rc ? -1 : ERR("step %ld: a forward pass failed on another rank", step + 1);
    timer_mark(tm, PHASE_COMM);
    /* a bad step is skipped on every rank: the gradients are equal after the sum */
    double lr, gnorm;
    const long update = step * t->job->num_iterations + it;
    if (session_optimizer_step(&t->s, update, &gnorm, &lr)) {
        log_warn("step %ld: %s; skipping this update (lower optim.learning_rate if it repeats)", step + 1, err_msg());
        u->skipped++;
    }
    u->grad_norm += gnorm / (double)t->job->num_iterations;
    u->lr = lr;
    timer_mark(tm, PHASE_TRAIN);
    return 0;
}

/* ---- 7: metrics, completions, checkpoints ---- */

static void add_mean_std(cJSON *line, const char *name, double n, double sum, double sumsq) {
    char key[200];
    snprintf(key, sizeof(key), "%s/mean", name);
    cJSON_AddNumberToObject(line, key, n > 0 ? sum / n : 0);
    snprintf(key, sizeof(key), "%s/std", name);
    cJSON_AddNumberToObject(line, key, advantage_std(sum, sumsq, n));
}

/* The reward part of the step's metrics (sums over all ranks). */
static void reward_metrics(Trainer *t, const StepBatch *b, cJSON *line) {
    const int G = t->plan.G;
    const size_t n = n_items(b, G), F = t->F, W = 3 + 5 * F;
    double *v = xcalloc(W, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        v[0] += 1, v[1] += b->reward[i], v[2] += b->reward[i] * b->reward[i];
        for (size_t f = 0; f < F; f++) {
            double *x = v + 3 + 5 * f, sc = b->scores[i * F + f];
            if (!b->has[i * F + f]) {
                x[3] += 1;
                continue;
            }
            x[0] += 1, x[1] += sc, x[2] += sc * sc, x[4] += sc >= 1.0;
        }
    }
    dist_sum_f64(t->d, v, W);
    cJSON_AddNumberToObject(line, "reward", v[0] > 0 ? v[1] / v[0] : 0);
    cJSON_AddNumberToObject(line, "reward_std", advantage_std(v[1], v[2], v[0]));
    int have_acc = 0;
    for (size_t f = 0; f < F; f++) {
        const double *x = v + 3 + 5 * f;
        char name[160];
        snprintf(name, sizeof(name), "rewards/%s", reward_set_label(t->rewards, f));
        add_mean_std(line, name, x[0], x[1], x[2]);
        char key[200];
        snprintf(key, sizeof(key), "%s/no_score_frac", name);
        cJSON_AddNumberToObject(line, key, v[0] > 0 ? x[3] / v[0] : 0);
        if (t->is_accuracy[f]) {
            double acc = x[0] > 0 ? x[4] / x[0] : 0;
            snprintf(key, sizeof(key), "%s/accuracy", name);
            cJSON_AddNumberToObject(line, key, acc);
            if (!have_acc++) cJSON_AddNumberToObject(line, "accuracy", acc);
        }
    }
    free(v);
}

/* Completion lengths, truncation and thinking (sums over all ranks). */
static void completion_metrics(Trainer *t, const StepBatch *b, cJSON *line) {
    const int G = t->plan.G;
    double v[4] = {0, 0, 0, 0}, mx[2] = {0, -1e300}; /* n, sum length, truncated, thinks; max, -min */
    for (size_t i = 0; i < n_items(b, G); i++) {
        const RolloutSample *s = &b->groups[i / (size_t)G].samples[i % (size_t)G];
        v[0] += 1, v[1] += s->n, v[2] += s->finish == FINISH_LENGTH;
        v[3] += eval_thinks(s->text, t->think_in_prompt);
        if (s->n > mx[0]) mx[0] = s->n;
        if (-s->n > mx[1]) mx[1] = -s->n;
    }
    dist_sum_f64(t->d, v, 4);
    dist_max_f64(t->d, mx, 2);
    const double n = v[0] > 0 ? v[0] : 1;
    cJSON_AddNumberToObject(line, "completions/mean_length", v[1] / n);
    cJSON_AddNumberToObject(line, "completions/max_length", mx[0]);
    cJSON_AddNumberToObject(line, "completions/min_length", v[0] > 0 ? -mx[1] : 0);
    cJSON_AddNumberToObject(line, "completions/clipped_ratio", v[2] / n);
    cJSON_AddNumberToObject(line, "completions/think_rate", v[3] / n);
}

/* The groups of rank 0's first log.log_completions prompts, one line per
 * completion, to completions.jsonl. */
static int log_completions(Trainer *t, const StepBatch *b, long done) {
    if (t->d->rank != 0) return 0;
    const int G = t->plan.G;
    size_t n_groups = b->n_groups < (size_t)t->job->log_completions ? b->n_groups : (size_t)t->job->log_completions;
    int rc = 0;
    for (size_t g = 0; g < n_groups && rc == 0; g++)
        for (int j = 0; j < G && rc == 0; j++) {
            size_t i = g * (size_t)G + (size_t)j;
            const RolloutSample *s = &b->groups[g].samples[j];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "step", (double)done);
            cJSON_AddNumberToObject(o, "group", (double)b->group_pos[g]);
            cJSON_AddNumberToObject(o, "index", j);
            cJSON_AddStringToObject(o, "prompt", b->prompts[g]);
            char *text = utf8_sanitize(s->text, s->text_len);
            cJSON_AddStringToObject(o, "completion", text);
            free(text);
            const cJSON *ans = cJSON_GetObjectItemCaseSensitive(b->examples[g], "answer");
            if (ans) cJSON_AddItemToObject(o, "answer", cJSON_Duplicate(ans, 1));
            cJSON_AddNumberToObject(o, "reward", b->reward[i]);
            cJSON *per = cJSON_AddObjectToObject(o, "rewards");
            for (size_t f = 0; f < t->F; f++) {
                const char *label = reward_set_label(t->rewards, f);
                if (b->has[i * t->F + f]) cJSON_AddNumberToObject(per, label, b->scores[i * t->F + f]);
                else cJSON_AddNullToObject(per, label);
            }
            cJSON_AddNumberToObject(o, "advantage", b->adv[i]);
            cJSON_AddNumberToObject(o, "n_tokens", s->n);
            cJSON_AddStringToObject(o, "finish_reason", finish_reason_name(s->finish));
            cJSON *diag = NULL; /* each function's diagnostics, when it gave any */
            for (size_t f = 0; f < t->F; f++) {
                const cJSON *d = b->diag[i * t->F + f];
                if (!d) continue;
                if (!diag) diag = cJSON_AddObjectToObject(o, "diagnostics");
                cJSON_AddItemToObject(diag, reward_set_label(t->rewards, f), cJSON_Duplicate(d, 1));
            }
            rc = rundir_log_completion(&t->s.run, o);
            cJSON_Delete(o);
        }
    return rc;
}

static int log_step(Trainer *t, const StepBatch *b, long done, StepTimer *tm, UpdateStats *u) {
    const int iters = (int)t->job->num_iterations;
    dist_sum_f64(t->d, u->sum, U_NSUM);
    dist_max_f64(t->d, &u->gap_max, 1);
    cJSON *line = cJSON_CreateObject();
    cJSON_AddNumberToObject(line, "step", (double)done);
    cJSON_AddNumberToObject(line, "loss", u->sum[U_LOSS] / iters);
    reward_metrics(t, b, line);
    completion_metrics(t, b, line);
    /* loss tokens of every update of the step, whether the update ran them or not */
    const double toks = b->n_tokens * iters > 0 ? b->n_tokens * iters : 1;
    if (t->plan.use_ref) cJSON_AddNumberToObject(line, "kl", u->sum[U_KL] / toks);
    /* over the tokens the update ran (zero-advantage completions may be skipped) */
    cJSON_AddNumberToObject(line, "entropy", u->sum[U_ENT] / (u->sum[U_TOKENS] > 0 ? u->sum[U_TOKENS] : 1));
    cJSON_AddNumberToObject(line, "clip_ratio/low_mean", u->sum[U_LOW] / toks);
    cJSON_AddNumberToObject(line, "clip_ratio/high_mean", u->sum[U_HIGH] / toks);
    cJSON_AddNumberToObject(line, "clip_ratio/region_mean", (u->sum[U_LOW] + u->sum[U_HIGH]) / toks);
    cJSON_AddNumberToObject(line, "grad_norm", u->grad_norm);
    cJSON_AddNumberToObject(line, "learning_rate", u->lr);
    cJSON_AddNumberToObject(line, "frac_reward_zero_std",
                            b->groups_generated > 0 ? b->groups_flat / b->groups_generated : 0);
    if (t->job->dynamic_sampling) {
        cJSON_AddNumberToObject(line, "dynamic_sampling/rounds", (double)b->rounds);
        cJSON_AddNumberToObject(line, "dynamic_sampling/groups_generated", b->groups_generated);
    }
    cJSON_AddNumberToObject(line, "logprob_gap/max", u->gap_max);
    cJSON_AddNumberToObject(line, "logprob_gap/mean", u->sum[U_GAP_N] > 0 ? u->sum[U_GAP_SUM] / u->sum[U_GAP_N] : 0);
    if (u->skipped) cJSON_AddNumberToObject(line, "skipped_updates", u->skipped);
    t->num_tokens += b->n_tokens;
    cJSON_AddNumberToObject(line, "num_tokens", t->num_tokens);
    double secs = timer_total(tm);
    cJSON_AddNumberToObject(line, "tokens_per_second", secs > 0 ? b->gen_tokens / secs : 0);
    for (int ph = 0; ph < N_PHASES; ph++) cJSON_AddNumberToObject(line, timer_phase_name(ph), tm->seconds[ph]);
    cJSON_AddNumberToObject(line, "time/step", secs);
    cJSON_AddNumberToObject(line, "elapsed_seconds", now_seconds() - t->s.t_open);
    char fields[200];
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(line, "accuracy");
    const double rew = cJSON_GetObjectItemCaseSensitive(line, "reward")->valuedouble;
    const double len = cJSON_GetObjectItemCaseSensitive(line, "completions/mean_length")->valuedouble;
    if (acc)
        snprintf(fields, sizeof(fields), "reward %.3f | acc %.3f | len %.1f | %.0f tok/s", rew, acc->valuedouble, len,
                 secs > 0 ? b->gen_tokens / secs : 0);
    else
        snprintf(fields, sizeof(fields), "reward %.3f | len %.1f | %.0f tok/s", rew, len,
                 secs > 0 ? b->gen_tokens / secs : 0);
    int rc = 0;
    if (done % t->job->logging_steps == 0 || done == t->job->steps) rc = session_log(&t->s, line);
    cJSON_Delete(line);
    if (rc == 0) rc = log_completions(t, b, done);
    if (!dist_all_ok(t->d, rc == 0)) return rc ? -1 : ERR("writing completions failed on rank 0");
    session_progress(&t->s, done, fields);
    return 0;
}

static int save(Trainer *t, long done, StepTimer *tm) {
    dist_set_phase(t->d, done, "checkpoint");
    cJSON *ts = cJSON_CreateObject();
    cJSON_AddNumberToObject(ts, "num_tokens", t->num_tokens);
    char *text = cJSON_PrintUnformatted(ts);
    cJSON_Delete(ts);
    CheckpointState st = {.data_cursor = t->cursor, .trainer_state = text};
    int rc = session_save(&t->s, done, &st, &t->ref_block, 1);
    free(text);
    timer_mark(tm, PHASE_CHECKPOINT);
    return rc;
}

/* Samples the eval set and logs an eval line (train.eval_steps). */
static int evaluate(Trainer *t, long done) {
    dist_set_phase(t->d, done, "eval");
    EvalSummary sum;
    if (eval_run(&t->eval, &t->s.model, t->s.tok, t->rewards, t->d, &sum)) return -1;
    cJSON *line = cJSON_CreateObject();
    cJSON_AddNumberToObject(line, "step", (double)done);
    eval_summary_to_metrics(&sum, line);
    int rc = session_log(&t->s, line);
    cJSON_Delete(line);
    if (!t->s.progress_bar)
        log_info("step %ld | eval pass@1 %.3f | pass@%zu %.3f | maj@%zu %.3f | think %.2f", done, sum.pass_at_1,
                 sum.k, sum.pass_at_k, sum.k, sum.maj_at_k, sum.think_rate);
    return rc;
}

/* ---- the step ---- */

static int train_step(Trainer *t, long step) {
    StepBatch b = {0};
    StepTimer tm;
    UpdateStats u = {0};
    timer_begin(&tm);
    const long done = step + 1;
    dist_set_phase(t->d, done, "rollout");
    int rc = collect_groups(t, step, &b, &tm);                       /* 1-3 prompts, rollout, rewards */
    dist_set_phase(t->d, done, "reference");
    if (rc == 0 && t->plan.use_ref) rc = reference_logprobs(t, &b, &tm); /* 4 */
    if (rc == 0) {
        compute_advantages(t, &b);                                    /* 5 */
        loss_weights(t, &b);
    }
    dist_set_phase(t->d, done, "train");
    for (int it = 0; rc == 0 && it < t->job->num_iterations; it++) rc = policy_update(t, &b, step, it, &tm, &u); /* 6 */
    if (rc == 0) rc = log_step(t, &b, done, &tm, &u);                 /* 7 */
    if (rc == 0 && t->job->ref_model_sync_steps > 0 && done % t->job->ref_model_sync_steps == 0 && t->plan.use_ref) {
        memcpy(t->ref_block.data, t->s.model.params, t->s.model.n_params * sizeof(float));
        t->ref_block.present = 1;
    }
    if (rc == 0 && t->job->checksum_steps > 0 && done % t->job->checksum_steps == 0 &&
        !dist_all_same(t->d, xxh64(t->s.model.params, t->s.model.n_params * sizeof(float), 0)))
        rc = ERR("step %ld: the ranks' parameters differ; a rank computed something else (mixed builds, hardware or "
                 "data?). The last checkpoint is kept.",
                 done);
    if (rc == 0 && t->job->eval_steps > 0 && (done % t->job->eval_steps == 0 || done == t->job->steps))
        rc = evaluate(t, done);
    if (rc == 0 && session_should_save(&t->s, done)) rc = save(t, done, &tm);
    batch_free(&b, t->F, t->plan.G);
    return rc;
}

/* ---- opening and closing ---- */

/* Checks everything a config can get wrong, before any work. */
static int trainer_check(Trainer *t, const JobConfig *job, const Dist *d) {
    memset(t, 0, sizeof(*t));
    t->job = job;
    t->d = d;
    /* everything a config can get wrong, before any work */
    if (plan_make(&t->plan, job)) return -1;
    t->rewards = reward_set_new(job->rewards, "rewards");
    if (!t->rewards) return -1;
    t->F = reward_set_size(t->rewards);
    t->is_accuracy = xcalloc(t->F, sizeof(int));
    for (size_t f = 0; f < t->F; f++) {
        const char *kind = reward_set_kind(t->rewards, f);
        t->is_accuracy[f] = !strcmp(kind, "math_accuracy") || !strcmp(kind, "countdown") || !strcmp(kind, "code");
    }
    if (template_check(job->template_name)) return err_prefix("data.template");
    if (prompts_open(&t->src, job, 0)) return -1;
    if (job->eval_steps > 0 && eval_open(&t->eval, job)) return err_prefix("train.eval_steps");

    return 0;
}

/* The parts of trainer_open that every rank runs together. */
static int trainer_start(Trainer *t, const JobConfig *job, const Dist *d) {
    t->ref_block.name = "reference";
    if (session_open(&t->s, job, d, &t->ref_block, t->plan.use_ref ? 1 : 0)) return -1;
    /* a GRPO step makes num_iterations optimizer updates */
    t->s.sched.total_steps *= job->num_iterations;
    t->s.sched.warmup_steps *= job->num_iterations;
    dist_set_watchdog(d, (double)job->watchdog_seconds);
    const ModelConfig *cfg = &t->s.model.cfg;
    if (t->plan.use_ref) {
        t->ref.cfg = *cfg;
        t->ref.n_params = t->s.model.n_params;
        t->ref.params = t->ref_block.data;
        model_bind(cfg, t->ref.params, &t->ref.p);
    }
    t->cursor = 0;
    if (t->s.resume_path) {
        const cJSON *nt = cJSON_GetObjectItemCaseSensitive(t->s.trainer_state, "num_tokens");
        t->num_tokens = cJSON_IsNumber(nt) ? nt->valuedouble : 0;
        t->cursor = t->s.data_cursor;
        t->s.opt.step = t->s.start_step * job->num_iterations;
    }
    if (t->src.have_file) epoch_order_init(&t->order, t->src.n, (uint64_t)job->seed, RNG_PROMPT_GRPO_SHUFFLE, job->shuffle);

    t->max_prompt = (int)job->max_prompt_length;
    const int max_seq = t->max_prompt + (int)job->max_completion_length;
    t->max_tokens = (int)t->plan.mbs * max_seq;
    if (!dist_all_ok(d, acts_init(&t->acts, cfg, t->max_tokens, max_seq, 1, job->gradient_checkpointing) == 0))
        return -1;
    micro_init(&t->mb, t->max_tokens, (int)t->plan.mbs);
    const size_t T = (size_t)t->max_tokens;
    t->ids = xmalloc((size_t)max_seq * sizeof(int));
    t->sel = xmalloc((size_t)t->plan.mbs * sizeof(size_t));
    t->old = xmalloc(T * sizeof(float)), t->reflp = xmalloc(T * sizeof(float)), t->adv = xmalloc(T * sizeof(float));
    t->coef = xmalloc(T * sizeof(float)), t->logw = xmalloc(T * sizeof(float)), t->logp = xmalloc(T * sizeof(float));
    t->ent = xmalloc(T * sizeof(float)), t->tok_loss = xmalloc(T * sizeof(double));
    t->tok_kl = xmalloc(T * sizeof(double)), t->flags = xmalloc(T * sizeof(int));
    if (rollout_worker_init(&t->worker, &t->s.model, t->s.tok)) return -1;
    char *probe = NULL;
    if (template_render(job->template_name, "x", &probe) == 0) {
        size_t n = strlen(probe);
        while (n && (probe[n - 1] == ' ' || probe[n - 1] == '\n')) n--;
        t->think_in_prompt = n >= 7 && !strncmp(probe + n - 7, "<think>", 7);
    }
    free(probe);
    log_info("train: %s, %zu parameters; prompts from %s; %ld prompts x %d completions per step; %d rank%s, %d "
             "threads each",
             cfg->architecture, t->s.model.n_params, prompts_name(&t->src), t->plan.P, t->plan.G, d->world,
             d->world > 1 ? "s" : "", omp_get_max_threads());
    return 0;
}

static void trainer_close(Trainer *t) {
    rollout_worker_free(t->worker);
    if (t->acts.bytes) acts_free(&t->acts);
    micro_free(&t->mb);
    free(t->ids), free(t->sel), free(t->old), free(t->reflp), free(t->adv), free(t->coef), free(t->logw), free(t->logp);
    free(t->ent), free(t->tok_loss), free(t->tok_kl), free(t->flags);
    if (t->ref.p.layers) model_unbind(&t->ref.p);
    free(t->ref_block.data);
    session_close(&t->s);
    if (t->order.perm) epoch_order_free(&t->order);
    prompts_close(&t->src);
    eval_close(&t->eval);
    reward_set_free(t->rewards);
    free(t->is_accuracy);
    free(t->plan.stop);
    memset(t, 0, sizeof(*t));
}

int grpo_run(const JobConfig *job, const Dist *d) {
    Trainer t;
    int rc = trainer_check(&t, job, d);
    if (!dist_all_ok(d, rc == 0)) rc = rc ? rc : ERR("the config check failed on another rank");
    if (rc == 0) rc = trainer_start(&t, job, d);
    if (!dist_all_ok(d, rc == 0)) rc = rc ? rc : ERR("setting up failed on another rank");
    for (long step = t.s.start_step; rc == 0 && step < job->steps; step++) rc = train_step(&t, step);
    if (rc == 0 && d->rank == 0 && report_write(job->output_dir, NULL))
        log_warn("the report was not written: %s", err_msg());
    trainer_close(&t);
    return rc;
}
