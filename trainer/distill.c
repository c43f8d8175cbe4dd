/*
 * distill.c: rejection sampling from a teacher into an SFT dataset
 * (distill.h).
 */
#include "distill.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "data/template.h"
#include "model/io/loader.h"
#include "reward/reward.h"
#include "rollout/rollout.h"
#include "trainer/prompts.h"

/* The kept completions of this rank's prompts [lo, hi), as JSONL text. */
static int sample_share(const JobConfig *job, const Model *m, const Tokenizer *tok, RewardSet *rewards,
                        const PromptSource *src, int lo, int hi, int keep, StrBuf *out, DistillStats *st) {
    const int n = hi - lo, G = (int)job->num_generations;
    if (n <= 0) return 0;
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = G;
    rc.temperature = (float)job->temperature;
    rc.top_p = (float)job->top_p;
    rc.top_k = (int)job->top_k;
    rc.min_p = (float)job->min_p;
    rc.max_completion_length = (int)job->max_completion_length;
    rc.seed = (uint64_t)job->seed;
    int n_stop = cJSON_GetArraySize(job->stop);
    const char **stop = xcalloc((size_t)n_stop + 1, sizeof(char *));
    for (int i = 0; i < n_stop; i++) stop[i] = cJSON_GetArrayItem(job->stop, i)->valuestring;
    rc.stop = stop, rc.n_stop = n_stop;
    cJSON **ex = xcalloc((size_t)n, sizeof(cJSON *));
    char **text = xcalloc((size_t)n, sizeof(char *));
    RolloutPrompt *rp = xcalloc((size_t)n, sizeof(RolloutPrompt));
    RolloutGroup *groups = xcalloc((size_t)n, sizeof(RolloutGroup));
    int r = rollout_config_check(&rc) ? err_prefix("rollout") : 0, have_groups = 0;
    for (int i = 0; i < n && r == 0; i++) {
        r = prompts_get(src, (uint64_t)(lo + i), &ex[i]);
        if (r == 0) r = template_render(job->template_name, cJSON_GetObjectItemCaseSensitive(ex[i], "prompt")->valuestring,
                                        &text[i]);
        rp[i] = (RolloutPrompt){.text = text[i], .index = (uint32_t)(lo + i)};
    }
    RolloutWorker *w = NULL;
    if (r == 0) r = rollout_worker_init(&w, m, tok);
    if (r == 0) r = rollout_generate(w, &rc, 0, rp, n, groups, NULL);
    have_groups = r == 0;
    rollout_worker_free(w);
    const size_t items = (size_t)n * (size_t)G;
    RewardBatch rb = {0};
    RewardInput *in = xcalloc(items, sizeof(RewardInput));
    for (size_t i = 0; r == 0 && i < items; i++) {
        const RolloutSample *s = &groups[i / (size_t)G].samples[i % (size_t)G];
        in[i] = (RewardInput){.prompt = text[i / (size_t)G], .completion = s->text, .example = ex[i / (size_t)G],
                              .n_tokens = s->n, .finish = s->finish};
    }
    if (r == 0) r = reward_set_score(rewards, in, items, &rb);
    const size_t F = reward_set_size(rewards);
    for (int p = 0; r == 0 && p < n; p++) {
        int kept = 0;
        for (int j = 0; j < G && kept < keep; j++) {
            const size_t i = (size_t)p * (size_t)G + (size_t)j;
            int good = 1;
            for (size_t f = 0; f < F && good; f++) {
                const char *kind = reward_set_kind(rewards, f);
                const RewardResult *res = &rb.per[f * items + i];
                if (!strcmp(kind, "math_accuracy") || !strcmp(kind, "countdown") || !strcmp(kind, "code"))
                    good = res->has_score && res->score >= 1.0;
                else if (!strcmp(kind, "format"))
                    good = res->has_score && res->score > 0;
            }
            if (!good) continue;
            const RolloutSample *s = &groups[p].samples[j];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "prompt", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ex[p], "prompt"), 1));
            char *clean = utf8_sanitize(s->text, s->text_len);
            cJSON_AddStringToObject(o, "completion", clean);
            free(clean);
            const cJSON *ans = cJSON_GetObjectItemCaseSensitive(ex[p], "answer");
            if (ans) cJSON_AddItemToObject(o, "answer", cJSON_Duplicate(ans, 1));
            cJSON_AddNumberToObject(o, "reward", rb.total[i]);
            char *line = cJSON_PrintUnformatted(o);
            strbuf_cat(out, line);
            strbuf_cat(out, "\n");
            free(line);
            cJSON_Delete(o);
            kept++;
        }
        st->kept += (size_t)kept;
        st->prompts_kept += kept > 0;
    }
    st->prompts += (size_t)n;
    st->samples += items;
    reward_batch_free(&rb);
    free(in);
    if (have_groups) rollout_groups_free(groups, n);
    for (int i = 0; i < n; i++) cJSON_Delete(ex[i]), free(text[i]);
    free(ex), free(text), free(rp), free(groups), free(stop);
    return r;
}

int distill_generate(const JobConfig *job, long n_prompts, int keep_per_prompt, const char *out_jsonl,
                     const Dist *d, DistillStats *st) {
    memset(st, 0, sizeof(*st));
    PromptSource src = {0};
    RewardSet *rewards = NULL;
    Model m = {0};
    Tokenizer *tok = NULL;
    StrBuf out = {0};
    int rc = job->model_path ? 0 : ERR("distill: no teacher model (the stage's teacher, or model.path)");
    if (rc == 0) rc = prompts_open(&src, job, 0);
    if (rc == 0 && src.n && (size_t)n_prompts > src.n) n_prompts = (long)src.n;
    if (rc == 0 && !(rewards = reward_set_new(job->rewards, "rewards"))) rc = -1;
    if (rc == 0) rc = model_open(job->model_path, &m, NULL, &tok);
    if (!dist_all_ok(d, rc == 0)) rc = rc ? rc : ERR("setting up failed on another rank");
    int lo = 0, hi = 0;
    rollout_shard((int)n_prompts, d->rank, d->world, &lo, &hi);
    if (rc == 0) rc = sample_share(job, &m, tok, rewards, &src, lo, hi, keep_per_prompt, &out, st);
    /* this rank's lines to a part file, then rank 0 joins them in rank order */
    char part[4200];
    snprintf(part, sizeof(part), "%s.part-%d", out_jsonl, d->rank);
    if (rc == 0) rc = file_write_atomic(part, out.p ? out.p : "", out.n);
    if (!dist_all_ok(d, rc == 0)) rc = rc ? rc : ERR("sampling failed on another rank");
    if (rc == 0 && d->rank == 0) {
        StrBuf all = {0};
        for (int r = 0; r < d->world && rc == 0; r++) {
            snprintf(part, sizeof(part), "%s.part-%d", out_jsonl, r);
            size_t len = 0;
            char *text = file_read_all(part, &len);
            if (!text) rc = -1;
            else strbuf_add(&all, text, len);
            free(text);
        }
        if (rc == 0) rc = file_write_atomic(out_jsonl, all.p ? all.p : "", all.n);
        free(all.p);
    }
    if (!dist_all_ok(d, rc == 0)) rc = rc ? rc : ERR("writing %s failed on rank 0", out_jsonl);
    snprintf(part, sizeof(part), "%s.part-%d", out_jsonl, d->rank);
    unlink(part);
    double v[4] = {(double)st->prompts, (double)st->samples, (double)st->kept, (double)st->prompts_kept};
    dist_sum_f64(d, v, 4);
    *st = (DistillStats){(size_t)v[0], (size_t)v[1], (size_t)v[2], (size_t)v[3]};
    free(out.p);
    tokenizer_free(tok);
    if (m.params) model_free(&m);
    reward_set_free(rewards);
    prompts_close(&src);
    return rc;
}
