/*
 * eval.c: sampling evaluation (eval.h).
 */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "data/template.h"

int eval_open(Evaluator *ev, const JobConfig *job) {
    memset(ev, 0, sizeof(*ev));
    ev->job = job;
    if (prompts_open(&ev->src, job, 1)) return -1;
    if (template_check(job->template_name)) return err_prefix("data.template");
    ev->temperature = (float)(isnan(job->eval_temperature) ? job->temperature : job->eval_temperature);
    ev->k = ev->temperature > 0 ? (int)job->eval_num_samples : 1;
    if (!cJSON_IsArray(job->stop)) return ERR("rollout.stop: expected an array of strings");
    int n_stop = cJSON_GetArraySize(job->stop);
    ev->stop = xcalloc((size_t)n_stop + 1, sizeof(char *));
    for (int i = 0; i < n_stop; i++) {
        const cJSON *it = cJSON_GetArrayItem(job->stop, i);
        if (!cJSON_IsString(it) || !it->valuestring[0]) return ERR("rollout.stop[%d]: expected a non-empty string", i);
        ev->stop[i] = it->valuestring;
    }
    rollout_config_default(&ev->rc);
    ev->rc.num_generations = ev->k;
    ev->rc.temperature = ev->temperature;
    ev->rc.top_p = (float)job->top_p;
    ev->rc.top_k = (int)job->top_k;
    ev->rc.min_p = (float)job->min_p;
    ev->rc.max_completion_length = (int)job->max_completion_length;
    ev->rc.stop = ev->stop;
    ev->rc.n_stop = n_stop;
    ev->rc.seed = (uint64_t)job->seed;
    if (rollout_config_check(&ev->rc)) return err_prefix("rollout");
    return 0;
}

void eval_close(Evaluator *ev) {
    prompts_close(&ev->src);
    free(ev->stop);
    memset(ev, 0, sizeof(*ev));
}

/* The last <answer> ... </answer> of text, trimmed (a new string), or NULL. */
static char *answer_tag(const char *text) {
    const char *open = NULL;
    for (const char *p = strstr(text, "<answer>"); p; p = strstr(p + 1, "<answer>")) open = p;
    if (!open) return NULL;
    const char *a = open + 8, *close = strstr(a, "</answer>");
    if (!close) return NULL;
    while (a < close && (*a == ' ' || *a == '\n' || *a == '\t')) a++;
    const char *e = close;
    while (e > a && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t')) e--;
    char *out = xmalloc((size_t)(e - a) + 1);
    memcpy(out, a, (size_t)(e - a));
    out[e - a] = '\0';
    return out;
}

/* Sums over this rank's prompts, to reduce: prompts, pass@1, pass@k, maj@k,
 * then over samples: samples, formatted, thinks, length. */
enum { S_PROMPTS, S_PASS1, S_PASSK, S_MAJ, S_SAMPLES, S_FORMAT, S_THINK, S_LENGTH, S_N };

int eval_run(Evaluator *ev, const Model *m, const Tokenizer *tok, RewardSet *rewards, const Dist *d,
             EvalSummary *out) {
    const JobConfig *job = ev->job;
    const int k = ev->k;
    long acc_f = -1, fmt_f = -1;
    for (size_t f = 0; f < reward_set_size(rewards); f++) {
        const char *kind = reward_set_kind(rewards, f);
        if (acc_f < 0 && (!strcmp(kind, "math_accuracy") || !strcmp(kind, "countdown") || !strcmp(kind, "code")))
            acc_f = (long)f;
        if (fmt_f < 0 && !strcmp(kind, "format")) fmt_f = (long)f;
    }
    if (acc_f < 0) return ERR("rewards: evaluation needs an accuracy reward (math_accuracy, countdown or code)");
    int lo, hi;
    rollout_shard((int)ev->src.n, d->rank, d->world, &lo, &hi);
    const int n = hi - lo;
    cJSON **ex = xcalloc((size_t)(n > 0 ? n : 1), sizeof(cJSON *));
    char **text = xcalloc((size_t)(n > 0 ? n : 1), sizeof(char *));
    RolloutPrompt *rp = xcalloc((size_t)(n > 0 ? n : 1), sizeof(RolloutPrompt));
    RolloutGroup *groups = xcalloc((size_t)(n > 0 ? n : 1), sizeof(RolloutGroup));
    int think_in_prompt = 0, have_groups = 0;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = prompts_get(&ev->src, (uint64_t)(lo + i), &ex[i]);
        const cJSON *q = rc ? NULL : cJSON_GetObjectItemCaseSensitive(ex[i], "prompt");
        if (rc == 0 && !cJSON_IsString(q)) rc = ERR("eval prompt %d has no \"prompt\" string", lo + i);
        if (rc == 0) rc = template_render(job->template_name, q->valuestring, &text[i]);
        rp[i] = (RolloutPrompt){.text = text[i], .index = (uint32_t)(lo + i)};
    }
    if (rc == 0 && n > 0) {
        size_t tl = strlen(text[0]);
        while (tl && (text[0][tl - 1] == ' ' || text[0][tl - 1] == '\n')) tl--;
        think_in_prompt = tl >= 7 && !strncmp(text[0] + tl - 7, "<think>", 7);
    }
    RolloutWorker *w = NULL;
    if (rc == 0 && n > 0) rc = rollout_worker_init(&w, m, tok);
    if (rc == 0 && n > 0) {
        rc = rollout_generate(w, &ev->rc, RNG_STEP_EVAL, rp, n, groups, NULL);
        have_groups = rc == 0;
    }
    rollout_worker_free(w);
    double sums[S_N] = {0};
    const size_t m_items = (size_t)n * (size_t)k;
    if (rc == 0 && n > 0) {
        RewardInput *in = xcalloc(m_items, sizeof(RewardInput));
        for (size_t i = 0; i < m_items; i++) {
            const RolloutSample *s = &groups[i / (size_t)k].samples[i % (size_t)k];
            in[i] = (RewardInput){.prompt = text[i / (size_t)k], .completion = s->text, .example = ex[i / (size_t)k],
                                  .n_tokens = s->n, .finish = s->finish};
        }
        RewardBatch rb = {0};
        rc = reward_set_score(rewards, in, m_items, &rb);
        EvalSample *es = xcalloc(m_items, sizeof(EvalSample));
        char **answers = xcalloc(m_items, sizeof(char *));
        for (size_t i = 0; rc == 0 && i < m_items; i++) {
            const RolloutSample *s = &groups[i / (size_t)k].samples[i % (size_t)k];
            const RewardResult *a = &rb.per[(size_t)acc_f * m_items + i];
            const cJSON *x = a->diag ? cJSON_GetObjectItemCaseSensitive(a->diag, "extracted") : NULL;
            answers[i] = cJSON_IsString(x) ? xstrdup(x->valuestring) : answer_tag(s->text);
            es[i] = (EvalSample){.answer = answers[i],
                                 .correct = a->has_score && a->score >= 1.0,
                                 .formatted = fmt_f < 0 || (rb.per[(size_t)fmt_f * m_items + i].has_score &&
                                                            rb.per[(size_t)fmt_f * m_items + i].score > 0),
                                 .thinks = eval_thinks(s->text, think_in_prompt),
                                 .length = s->n};
        }
        EvalSummary local;
        if (rc == 0) rc = eval_summarize(es, (size_t)n, (size_t)k, (size_t)k, &local);
        if (rc == 0) {
            const double np = (double)n, ns = (double)m_items;
            sums[S_PROMPTS] = np, sums[S_PASS1] = local.pass_at_1 * np, sums[S_PASSK] = local.pass_at_k * np;
            sums[S_MAJ] = local.maj_at_k * np, sums[S_SAMPLES] = ns, sums[S_FORMAT] = local.format_rate * ns;
            sums[S_THINK] = local.think_rate * ns, sums[S_LENGTH] = local.mean_length * ns;
        }
        for (size_t i = 0; i < m_items; i++) free(answers[i]);
        free(answers);
        free(es);
        reward_batch_free(&rb);
        free(in);
    }
    if (have_groups) rollout_groups_free(groups, n);
    for (int i = 0; i < n; i++) cJSON_Delete(ex[i]), free(text[i]);
    free(ex), free(text), free(rp), free(groups);
    if (!dist_all_ok(d, rc == 0)) return rc ? -1 : ERR("evaluation failed on another rank");
    dist_sum_f64(d, sums, S_N);
    const double np = sums[S_PROMPTS] > 0 ? sums[S_PROMPTS] : 1, ns = sums[S_SAMPLES] > 0 ? sums[S_SAMPLES] : 1;
    *out = (EvalSummary){.n_prompts = (size_t)sums[S_PROMPTS],
                         .samples_per_prompt = (size_t)k,
                         .k = (size_t)k,
                         .pass_at_1 = sums[S_PASS1] / np,
                         .pass_at_k = sums[S_PASSK] / np,
                         .maj_at_k = sums[S_MAJ] / np,
                         .format_rate = sums[S_FORMAT] / ns,
                         .mean_length = sums[S_LENGTH] / ns,
                         .think_rate = sums[S_THINK] / ns};
    return 0;
}
