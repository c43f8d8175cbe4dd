/*
 * grpo.c: the public API (grpo.h) on top of the library's parts: the
 * loader, the tokenizer, rollout, the RewardSet and the trainer's jobs.
 * Each function translates plain C arguments into the parts' own types and
 * back; no rule of sampling, scoring or training lives here.
 * Not for: anything the `grpo` command needs beyond the API (it links the
 * parts directly).
 */
#include "grpo.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/finish.h"
#include "common/json.h"
#include "data/template.h"
#include "model/io/loader.h"
#include "reward/reward.h"
#include "rollout/rollout.h"
#include "trainer/dist.h"
#include "trainer/grpo.h"
#include "trainer/jobconfig.h"
#include "trainer/sft.h"

/* The plugin ABI's finish reasons are FinishReason's values. */
_Static_assert((int)GRPO_FINISH_EOS == (int)FINISH_EOS && (int)GRPO_FINISH_STOP == (int)FINISH_STOP &&
                   (int)GRPO_FINISH_LENGTH == (int)FINISH_LENGTH,
               "GRPO_FINISH_* must match FinishReason");

/* ---- the library ---- */

const char *grpo_version(void) { return GRPO_VERSION_STRING; }

const char *grpo_last_error(void) { return err_msg(); }

void grpo_set_log_level(int level) {
    log_set_level(level <= GRPO_LOG_QUIET ? LOG_QUIET : level >= GRPO_LOG_DEBUG ? LOG_DEBUG : LOG_INFO);
}

void grpo_free(void *p) { free(p); }

/* ---- models ---- */

struct GrpoModel {
    Model m;
    Tokenizer *tok;
};

int grpo_model_open(GrpoModel **out, const char *path) {
    *out = NULL;
    if (!path) return ERR("grpo_model_open: path is NULL");
    GrpoModel *g = xcalloc(1, sizeof(*g));
    if (model_open(path, &g->m, NULL, &g->tok)) {
        free(g);
        return -1;
    }
    *out = g;
    return 0;
}

void grpo_model_free(GrpoModel *m) {
    if (!m) return;
    tokenizer_free(m->tok);
    model_free(&m->m);
    free(m);
}

int grpo_model_vocab_size(const GrpoModel *m) { return m->m.cfg.vocab_size; }

size_t grpo_model_n_params(const GrpoModel *m) { return m->m.n_params; }

int grpo_model_context_length(const GrpoModel *m) { return m->m.cfg.max_position_embeddings; }

/* ---- tokens ---- */

/* Hands a TokenIds' array to the caller: never NULL, even when empty. */
static int *take_ids(TokenIds *v, size_t *n) {
    *n = v->n;
    if (!v->ids) return xmalloc(sizeof(int));
    int *ids = v->ids;
    memset(v, 0, sizeof(*v));
    return ids;
}

int grpo_tokenize(const GrpoModel *m, const char *text, size_t len, int match_special, int **ids, size_t *n) {
    *ids = NULL, *n = 0;
    if (!text && len) return ERR("grpo_tokenize: text is NULL");
    TokenIds v = {0};
    if (tokenizer_encode(m->tok, text ? text : "", len, match_special != 0, &v)) {
        token_ids_free(&v);
        return -1;
    }
    *ids = take_ids(&v, n);
    return 0;
}

int grpo_detokenize(const GrpoModel *m, const int *ids, size_t n, int skip_special, char **text, size_t *len) {
    *text = NULL;
    if (len) *len = 0;
    if (!ids && n) return ERR("grpo_detokenize: ids is NULL");
    size_t l = 0;
    if (tokenizer_decode(m->tok, ids, n, skip_special != 0, text, &l)) return -1;
    if (len) *len = l;
    return 0;
}

/* The prompt as the model sees it: rendered with template_name, or a copy
 * of prompt. */
static int render_prompt(const char *what, const char *prompt, const char *template_name, char **out) {
    *out = NULL;
    if (!prompt) return ERR("%s: prompt is NULL", what);
    if (!template_name) {
        *out = xstrdup(prompt);
        return 0;
    }
    return template_render(template_name, prompt, out);
}

/* ---- sampling ---- */

/* rollout's defaults (TRL's), but one completion as `grpo generate`. */
void grpo_sampling_defaults(GrpoSamplingOptions *o) {
    RolloutConfig rc;
    rollout_config_default(&rc);
    *o = (GrpoSamplingOptions){.num_generations = 1, .temperature = rc.temperature, .top_p = rc.top_p,
                               .top_k = rc.top_k, .min_p = rc.min_p,
                               .max_completion_length = rc.max_completion_length, .seed = rc.seed};
}

static RolloutConfig rollout_config_from(const GrpoSamplingOptions *o) {
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = o->num_generations;
    rc.temperature = o->temperature;
    rc.top_p = o->top_p;
    rc.top_k = o->top_k;
    rc.min_p = o->min_p;
    rc.max_completion_length = o->max_completion_length;
    rc.stop = o->stop;
    rc.n_stop = o->n_stop;
    rc.seed = o->seed;
    rc.ignore_eos = o->ignore_eos;
    return rc;
}

int grpo_generate(const GrpoModel *m, const GrpoSamplingOptions *o, const char *prompt, const char *template_name,
                  GrpoCompletion **out) {
    *out = NULL;
    GrpoSamplingOptions defaults;
    if (!o) {
        grpo_sampling_defaults(&defaults);
        o = &defaults;
    }
    const RolloutConfig rc = rollout_config_from(o);
    if (rollout_config_check(&rc)) return -1;
    char *text;
    if (render_prompt("grpo_generate", prompt, template_name, &text)) return -1;
    RolloutWorker *w;
    int status = rollout_worker_init(&w, &m->m, m->tok);
    if (status == 0) {
        RolloutPrompt p = {.text = text, .index = 0};
        RolloutGroup g;
        status = rollout_generate(w, &rc, 0, &p, 1, &g, NULL);
        if (status == 0) {
            GrpoCompletion *c = xcalloc((size_t)g.n_samples, sizeof(*c));
            for (int i = 0; i < g.n_samples; i++) {
                RolloutSample *s = &g.samples[i];
                c[i] = (GrpoCompletion){.text = s->text, .text_len = s->text_len, .ids = s->ids,
                                        .logprobs = s->logprobs, .n_tokens = s->n, .finish_reason = (int)s->finish};
                s->text = NULL, s->ids = NULL, s->logprobs = NULL; /* now the caller's */
            }
            *out = c;
            rollout_groups_free(&g, 1);
        }
        rollout_worker_free(w);
    }
    free(text);
    return status;
}

void grpo_completions_free(GrpoCompletion *c, int n) {
    if (!c) return;
    for (int i = 0; i < n; i++) {
        free(c[i].text);
        free(c[i].ids);
        free(c[i].logprobs);
    }
    free(c);
}

/* ---- scoring ---- */

int grpo_score(const GrpoModel *m, const char *prompt, const char *template_name, const char *completion,
               float **logprobs, int **ids, size_t *n) {
    *logprobs = NULL, *n = 0;
    if (ids) *ids = NULL;
    if (!completion) return ERR("grpo_score: completion is NULL");
    char *text;
    if (render_prompt("grpo_score", prompt, template_name, &text)) return -1;
    TokenIds p = {0}, c = {0};
    int status = -1;
    const size_t ctx = (size_t)m->m.cfg.max_position_embeddings;
    if (tokenizer_encode(m->tok, text, strlen(text), 1, &p) == 0 &&
        tokenizer_encode(m->tok, completion, strlen(completion), 1, &c) == 0) {
        float *lp = xmalloc((c.n ? c.n : 1) * sizeof(float));
        /* rollout_score takes int counts: refuse what cannot fit first. */
        if (p.n + c.n > ctx)
            status = ERR("score: prompt (%zu tokens) + completion (%zu) exceed max_position_embeddings %zu", p.n,
                         c.n, ctx);
        else
            status = rollout_score(&m->m, p.ids, (int)p.n, c.ids, (int)c.n, lp, NULL);
        if (status == 0) {
            *logprobs = lp;
            *n = c.n;
            if (ids) *ids = take_ids(&c, n);
        } else {
            free(lp);
        }
    }
    token_ids_free(&p);
    token_ids_free(&c);
    free(text);
    return status;
}

/* ---- rewards ---- */

struct GrpoRewards {
    RewardSet *set;
};

int grpo_rewards_new(GrpoRewards **out, const char *rewards_json) {
    *out = NULL;
    if (!rewards_json) return ERR("grpo_rewards_new: rewards_json is NULL");
    cJSON *root = json_parse_named(rewards_json, strlen(rewards_json), "rewards_json");
    if (!root) return -1;
    const cJSON *arr = root;
    if (cJSON_IsObject(root)) {
        arr = cJSON_GetObjectItemCaseSensitive(root, "rewards");
        if (!arr) {
            cJSON_Delete(root);
            return ERR("rewards_json: a JSON object without a \"rewards\" array; pass the array, "
                       "e.g. [{\"name\": \"format\"}], or a job config that has one");
        }
    }
    RewardSet *set = reward_set_new(arr, "rewards");
    cJSON_Delete(root);
    if (!set) return -1;
    GrpoRewards *r = xcalloc(1, sizeof(*r));
    r->set = set;
    *out = r;
    return 0;
}

void grpo_rewards_free(GrpoRewards *r) {
    if (!r) return;
    reward_set_free(r->set);
    free(r);
}

size_t grpo_rewards_count(const GrpoRewards *r) { return reward_set_size(r->set); }

const char *grpo_rewards_label(const GrpoRewards *r, size_t f) {
    return f < reward_set_size(r->set) ? reward_set_label(r->set, f) : NULL;
}

/* in[i] as a RewardInput; its example (parsed from example_json) is the
 * caller's to delete. */
static int reward_input_from(const GrpoRewardInput *g, size_t i, RewardInput *in) {
    memset(in, 0, sizeof(*in));
    if (!g->completion) return ERR("grpo_rewards_score: in[%zu].completion is NULL", i);
    if (g->finish_reason < GRPO_FINISH_EOS || g->finish_reason > GRPO_FINISH_LENGTH)
        return ERR("grpo_rewards_score: in[%zu].finish_reason is %d; expected GRPO_FINISH_EOS, _STOP or _LENGTH", i,
                   g->finish_reason);
    in->prompt = g->prompt ? g->prompt : "";
    in->completion = g->completion;
    in->n_tokens = g->n_tokens < 0 ? -1 : g->n_tokens;
    in->finish = (FinishReason)g->finish_reason;
    if (g->example_json && strcmp(g->example_json, "null")) {
        char what[64];
        snprintf(what, sizeof(what), "in[%zu].example_json", i);
        in->example = json_parse_named(g->example_json, strlen(g->example_json), what);
        if (!in->example) return err_prefix("grpo_rewards_score");
    }
    return 0;
}

int grpo_rewards_score(GrpoRewards *r, const GrpoRewardInput *in, size_t n, GrpoRewardOutput *total,
                       GrpoRewardOutput *per) {
    if (n == 0) return 0;
    if (!in || !total) return ERR("grpo_rewards_score: in and total are required");
    RewardInput *ri = xcalloc(n, sizeof(*ri));
    int status = 0;
    for (size_t i = 0; i < n && status == 0; i++) status = reward_input_from(&in[i], i, &ri[i]);
    RewardBatch b;
    memset(&b, 0, sizeof(b));
    if (status == 0) status = reward_set_score(r->set, ri, n, &b);
    if (status == 0) {
        for (size_t i = 0; i < n; i++) total[i] = (GrpoRewardOutput){b.total[i], b.has_total[i]};
        for (size_t k = 0; per && k < b.n_funcs * n; k++)
            per[k] = (GrpoRewardOutput){b.per[k].score, b.per[k].has_score};
    }
    reward_batch_free(&b);
    for (size_t i = 0; i < n; i++) cJSON_Delete((cJSON *)ri[i].example);
    free(ri);
    return status;
}

/* ---- jobs ---- */

/* The jobs grpo_run_job knows: a command name, the config schema's user
 * and the trainer that runs it on every rank. */
typedef struct {
    const char *name;
    JobKind kind;
    int (*run)(const JobConfig *job, const Dist *d);
} Job;

static const Job jobs[] = {
    {"sft", JOB_SFT, sft_run},
    {"train", JOB_TRAIN, grpo_run},
};
#define N_JOBS (sizeof(jobs) / sizeof(jobs[0]))

/* Set once a job has run under MPI: MPI cannot be initialised twice. */
static int mpi_finalized;

int grpo_run_job(const char *command, const char *config_path, const char *const *sets, size_t n_sets) {
    const Job *job = NULL;
    const char *names[N_JOBS];
    for (size_t i = 0; i < N_JOBS; i++) {
        names[i] = jobs[i].name;
        if (command && !strcmp(command, jobs[i].name)) job = &jobs[i];
    }
    if (!job) {
        char list[256], hint[128];
        join_words(list, sizeof(list), names, N_JOBS);
        did_you_mean(hint, sizeof(hint), command ? command : "", names, N_JOBS);
        return ERR("grpo_run_job: unknown command '%s'; %scommands: %s", command ? command : "(null)", hint, list);
    }
    if (n_sets && !sets) return ERR("grpo_run_job: %zu overrides but sets is NULL", n_sets);
    if (mpi_finalized)
        return ERR("grpo_run_job: a job already ran under MPI in this process, and MPI cannot start twice; "
                   "run one job per mpirun process");
    Dist d;
    dist_init(&d, NULL, NULL);
    if (d.mpi) mpi_finalized = 1;
    const int level = log_level();
    if (d.rank != 0) log_set_level(LOG_QUIET);
    JobConfig cfg;
    int status = jobconfig_load(&cfg, job->kind, config_path, sets, n_sets);
    if (status == 0) status = job->run(&cfg, &d);
    if (status) err_prefix("%s job", job->name);
    jobconfig_free(&cfg);
    dist_finalize(&d);
    log_set_level(level);
    return status;
}
