/*
 * sft.c: supervised next-token training (base pretraining on text, R1's
 * cold start on prompt/completion pairs, distillation from a teacher's
 * completions), data-parallel over MPI ranks.
 * Not for: GRPO (grpo.c), data parsing (data/), the model math (model/).
 *
 * One optimizer step takes train.batch_size sequences from a seeded
 * per-epoch permutation; rank r takes every world-th of them and runs them in
 * micro-batches of train.micro_batch_size packed sequences. The loss is the
 * mean token cross-entropy over all target tokens of the step (every rank
 * knows the count, so per-token weights are -1/count before any reduction);
 * gradients are summed across ranks, clipped, and applied with AdamW.
 */
#include "sft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "data/dataset.h"
#include "data/template.h"
#include "model/io/checkpoint.h"
#include "model/forward.h"
#include "model/io/loader.h"
#include "model/optim.h"
#include "model/tokenizer/tokenizer.h"
#include "rundir.h"

/* Tokenized sequences: seq i is ids[off[i] .. off[i+1]), with loss on the
 * targets of positions >= loss_from[i] - 1 (i.e. predicting tokens at
 * index >= loss_from[i]). */
typedef struct {
    int *ids;
    size_t *off;
    int *loss_from;
    size_t n, n_ids, cap_seqs, cap_ids;
} SeqSet;

static void seqs_add(SeqSet *s, const int *ids, size_t n, int loss_from) {
    if (s->n + 1 >= s->cap_seqs) {
        s->cap_seqs = s->cap_seqs ? 2 * s->cap_seqs : 1024;
        s->off = xrealloc(s->off, (s->cap_seqs + 1) * sizeof(size_t));
        s->loss_from = xrealloc(s->loss_from, s->cap_seqs * sizeof(int));
    }
    if (s->n_ids + n > s->cap_ids) {
        while (s->n_ids + n > s->cap_ids) s->cap_ids = s->cap_ids ? 2 * s->cap_ids : 65536;
        s->ids = xrealloc(s->ids, s->cap_ids * sizeof(int));
    }
    if (s->n == 0) s->off[0] = 0;
    memcpy(s->ids + s->n_ids, ids, n * sizeof(int));
    s->n_ids += n;
    s->loss_from[s->n] = loss_from;
    s->off[++s->n] = s->n_ids;
}

static void seqs_free(SeqSet *s) {
    free(s->ids);
    free(s->off);
    free(s->loss_from);
    memset(s, 0, sizeof(*s));
}

static size_t seq_len(const SeqSet *s, size_t i) { return s->off[i + 1] - s->off[i]; }

/* Target tokens of a sequence (positions whose next token carries loss). */
static size_t seq_targets(const SeqSet *s, size_t i) {
    size_t len = seq_len(s, i);
    size_t from = (size_t)(s->loss_from[i] > 1 ? s->loss_from[i] : 1);
    return len > from ? len - from : 0;
}

/* Tokenizes a dataset into sequences of at most max_len tokens. */
static int build_sequences(const Dataset *d, const Tokenizer *tok, const JobConfig *job, int eos, SeqSet *out,
                           size_t *n_skipped) {
    const size_t max_len = (size_t)job->max_length;
    *n_skipped = 0;
    if (d->kind == DATA_STREAM) {
        TokenIds ids = {0};
        if (tokenizer_encode(tok, d->ex[0].text, d->ex[0].text_len, 1, &ids)) {
            token_ids_free(&ids);
            return err_prefix("%s", d->path);
        }
        for (size_t a = 0; a + 1 < ids.n; a += max_len) {
            size_t n = ids.n - a < max_len ? ids.n - a : max_len;
            if (n >= 2) seqs_add(out, ids.ids + a, n, 1);
        }
        token_ids_free(&ids);
        if (out->n == 0) return ERR("%s: the text has fewer than 2 tokens", d->path);
        return 0;
    }
    TokenIds *per = xcalloc(d->n, sizeof(TokenIds));
    int *from = xcalloc(d->n, sizeof(int));
    int failed = 0;
    size_t failed_at = 0;
    char failed_msg[512] = {0};
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t i = 0; i < d->n; i++) {
        const Example *ex = &d->ex[i];
        int rc = 0;
        if (d->kind == DATA_TEXT) {
            rc = tokenizer_encode(tok, ex->text, ex->text_len, 1, &per[i]);
            from[i] = 1;
        } else {
            char *prompt = NULL;
            rc = template_render(job->template_name, ex->prompt, &prompt);
            if (rc == 0) rc = tokenizer_encode(tok, prompt, strlen(prompt), 1, &per[i]);
            free(prompt);
            from[i] = job->completion_only_loss ? (int)per[i].n : 1;
            if (rc == 0 && ex->completion)
                rc = tokenizer_encode(tok, ex->completion, strlen(ex->completion), 1, &per[i]);
        }
        if (rc == 0 && job->add_eos && eos >= 0) token_ids_push(&per[i], eos);
        if (rc) {
#pragma omp critical
            {
                if (!failed || i < failed_at) {
                    failed = 1;
                    failed_at = i;
                    snprintf(failed_msg, sizeof(failed_msg), "%s", err_msg());
                }
            }
        }
    }
    int rc = 0;
    if (failed) rc = ERR("%s:%zu: %s", d->path, d->ex[failed_at].line, failed_msg);
    for (size_t i = 0; i < d->n && rc == 0; i++) {
        size_t n = per[i].n < max_len ? per[i].n : max_len;
        int f = from[i] < 1 ? 1 : from[i];
        if (n < 2 || (size_t)f >= n) {
            (*n_skipped)++;
            continue;
        }
        seqs_add(out, per[i].ids, n, f);
    }
    for (size_t i = 0; i < d->n; i++) token_ids_free(&per[i]);
    free(per);
    free(from);
    if (rc == 0 && out->n == 0)
        rc = ERR("%s: no example has a token to learn from (all shorter than 2 tokens or with an empty completion)",
                 d->path);
    return rc;
}

/* The per-epoch shuffled order of n sequences (identity without shuffle). */
typedef struct {
    size_t n;
    long epoch;
    size_t *perm;
    uint64_t seed;
    int shuffle;
} Order;

static size_t order_at(Order *o, uint64_t g) {
    long epoch = (long)(g / o->n);
    if (epoch != o->epoch) {
        o->epoch = epoch;
        for (size_t i = 0; i < o->n; i++) o->perm[i] = i;
        if (o->shuffle) {
            Rng r;
            rng_init(&r, o->seed, (uint32_t)epoch, RNG_PROMPT_SFT_SHUFFLE, 0);
            for (size_t i = o->n - 1; i > 0; i--) {
                size_t j = rng_below(&r, (uint32_t)(i + 1));
                size_t t = o->perm[i];
                o->perm[i] = o->perm[j];
                o->perm[j] = t;
            }
        }
    }
    return o->perm[g % o->n];
}

/* A packed micro-batch of sequences with targets and weights. */
typedef struct {
    int *tokens, *targets, *starts;
    float *wlp;
    int n_tokens, n_seqs;
} Micro;

static void micro_fill(Micro *mb, const SeqSet *s, const size_t *which, int n, float w) {
    mb->n_tokens = 0;
    mb->n_seqs = n;
    mb->starts[0] = 0;
    for (int b = 0; b < n; b++) {
        size_t i = which[b], len = seq_len(s, i);
        const int *ids = s->ids + s->off[i];
        for (size_t t = 0; t < len; t++) {
            int at = mb->n_tokens + (int)t;
            mb->tokens[at] = ids[t];
            int has = t + 1 < len && (int)(t + 1) >= s->loss_from[i];
            mb->targets[at] = has ? ids[t + 1] : -1;
            mb->wlp[at] = has ? w : 0.0f;
        }
        mb->n_tokens += (int)len;
        mb->starts[b + 1] = mb->n_tokens;
    }
}

static int same_shape(const ModelConfig *a, const ModelConfig *b) {
    return a->vocab_size == b->vocab_size && a->hidden_size == b->hidden_size &&
           a->num_hidden_layers == b->num_hidden_layers && a->num_attention_heads == b->num_attention_heads &&
           a->num_key_value_heads == b->num_key_value_heads && a->head_dim == b->head_dim &&
           a->intermediate_size == b->intermediate_size && a->tie_word_embeddings == b->tie_word_embeddings &&
           a->attention_bias == b->attention_bias && a->qk_norm == b->qk_norm;
}

/* Mean token loss of an eval set, reduced across ranks. */
static int evaluate(Model *m, Acts *a, Micro *mb, const SeqSet *ev, long mbs, const Dist *d, double *loss_out) {
    double acc[2] = {0, 0}; /* sum of -logp, count */
    size_t *which = xmalloc((size_t)mbs * sizeof(size_t));
    float *logp = xmalloc((size_t)a->max_tokens * sizeof(float));
    int rc = 0;
    size_t i = (size_t)d->rank;
    while (i < ev->n && rc == 0) {
        int n = 0;
        while (n < mbs && i < ev->n) {
            which[n++] = i;
            i += (size_t)d->world;
        }
        micro_fill(mb, ev, which, n, 1.0f);
        Batch b = {n, mb->n_tokens, mb->tokens, mb->starts, NULL, NULL, NULL, NULL};
        rc = model_forward(m, a, &b, NULL);
        if (rc) break;
        model_logprobs(m, a, mb->targets, logp, NULL);
        for (int t = 0; t < mb->n_tokens; t++)
            if (mb->targets[t] >= 0) {
                acc[0] -= logp[t];
                acc[1] += 1;
            }
    }
    free(which);
    free(logp);
    if (!dist_all_ok(d, rc == 0)) return rc ? rc : ERR("evaluation failed on another rank");
    dist_sum_f64(d, acc, 2);
    *loss_out = acc[1] > 0 ? acc[0] / acc[1] : NAN;
    return 0;
}

static int load_model(const JobConfig *job, Model *m, ModelFiles *files, Tokenizer **tok) {
    const char *what = job->model_path;
    if (job->model_path) {
        if (model_load(job->model_path, m, files)) return -1;
    } else {
        if (!job->model_init)
            return ERR("config: set model.path (an HF directory or .h5 checkpoint) or model.init (an HF "
                       "config.json object for a new model)");
        ModelConfig cfg;
        if (model_config_from_json(&cfg, job->model_init, "model.init")) return -1;
        if (model_init(m, &cfg)) return -1;
        model_init_random(m, (uint64_t)job->model_init_seed);
        char *text = cJSON_PrintUnformatted(job->model_init);
        model_files_set(files, "config.json", text, strlen(text));
        free(text);
        what = "model.init";
    }
    if (job->model_tokenizer) {
        /* The replacement travels in the run's checkpoints. */
        size_t len = 0;
        char *text = file_read_all(job->model_tokenizer, &len);
        if (!text) return err_prefix("model.tokenizer");
        model_files_set(files, "tokenizer.json", text, len);
        free(text);
        what = job->model_tokenizer;
    }
    if (model_tokenizer_open(files, what, m->cfg.vocab_size, tok)) return -1;
    return 0;
}

int sft_run(const JobConfig *job, const Dist *d) {
    Model m = {0};
    ModelFiles files = {0};
    Tokenizer *tok = NULL;
    Dataset train = {0}, eval = {0};
    SeqSet seqs = {0}, evseqs = {0};
    Acts a = {0};
    AdamW opt = {0};
    RunDir run = {0};
    Micro mb = {0};
    Order order = {0};
    cJSON *effective = NULL;
    char *resume_path = NULL;
    size_t *which = NULL, *mine = NULL;
    float *logp = NULL;
    int rc = -1, have_acts = 0, have_opt = 0;
    long start_step = 0;

    if (load_model(job, &m, &files, &tok)) goto done;
    int eos = m.cfg.n_eos > 0 ? m.cfg.eos_token_ids[0] : -1;
    if (job->add_eos && eos < 0) log_warn("the model config has no eos_token_id; data.add_eos has no effect");
    if (!job->train_file) {
        ERR("data.train_file: required key is missing (the JSONL or text file to train on)");
        goto done;
    }
    if (dataset_load(&train, job->train_file, job->data_format, job->text_field)) {
        err_prefix("data.train_file");
        goto done;
    }
    if (train.kind == DATA_PAIRS && template_check(job->template_name)) {
        err_prefix("data.template");
        goto done;
    }
    size_t skipped = 0;
    if (build_sequences(&train, tok, job, eos, &seqs, &skipped)) goto done;
    if (skipped) log_warn("%s: %zu examples have nothing to learn from and were skipped", train.path, skipped);
    if (job->eval_file) {
        if (dataset_load(&eval, job->eval_file, job->data_format, job->text_field)) {
            err_prefix("data.eval_file");
            goto done;
        }
        if (build_sequences(&eval, tok, job, eos, &evseqs, &skipped)) goto done;
    }
    size_t n_targets_all = 0;
    for (size_t i = 0; i < seqs.n; i++) n_targets_all += seq_targets(&seqs, i);
    log_info("sft: %zu sequences (%zu target tokens) from %s; model %s, %zu parameters; %d rank%s", seqs.n,
             n_targets_all, train.path, m.cfg.architecture, m.n_params, d->world, d->world > 1 ? "s" : "");

    /* resume */
    CheckpointState st = {0};
    if (!strcmp(job->resume, "auto")) {
        if (rundir_find_resume(job->output_dir, &resume_path)) goto done;
    } else if (strcmp(job->resume, "never") != 0) {
        resume_path = xstrdup(job->resume);
    }
    float *am = NULL, *av = NULL;
    if (resume_path) {
        Model rm;
        ModelFiles rf = {0};
        if (checkpoint_load(resume_path, &rm, &st, &am, &av, &rf)) {
            model_files_free(&rf);
            goto done;
        }
        model_files_free(&rf);
        if (!same_shape(&rm.cfg, &m.cfg)) {
            model_free(&rm);
            free(am);
            free(av);
            checkpoint_state_free(&st);
            ERR("%s: the checkpoint's model differs from the config's model; point train.output_dir elsewhere or "
                "set train.resume to \"never\"",
                resume_path);
            goto done;
        }
        memcpy(m.params, rm.params, m.n_params * sizeof(float));
        model_free(&rm);
        start_step = (long)st.step;
        log_info("sft: resuming from %s at step %ld", resume_path, start_step);
    }

    effective = jobconfig_to_json(job);
    if (!dist_all_ok(d, rundir_open(&run, job->output_dir, effective, d->rank == 0, resume_path ? start_step : -1) == 0))
        goto done;

    const long mbs = job->micro_batch_size;
    const int max_tokens = (int)(mbs * job->max_length);
    if (acts_init(&a, &m.cfg, max_tokens, (int)job->max_length, 1, job->gradient_checkpointing)) goto done;
    have_acts = 1;
    model_alloc_grads(&m);
    AdamWConfig oc = {job->adam_beta1, job->adam_beta2, job->adam_epsilon, job->weight_decay};
    adamw_init(&opt, &m, &oc);
    have_opt = 1;
    if (am && av) {
        memcpy(opt.m, am, m.n_params * sizeof(float));
        memcpy(opt.v, av, m.n_params * sizeof(float));
        opt.step = start_step;
    }
    free(am);
    free(av);
    checkpoint_state_free(&st);
    LRSchedule sched = {(LRKind)lr_kind_parse(job->lr_scheduler_type), job->learning_rate,
                        job->warmup_steps > 0 ? job->warmup_steps : (long)ceil(job->warmup_ratio * job->steps),
                        job->steps, job->min_lr_ratio};
    mb.tokens = xmalloc((size_t)max_tokens * sizeof(int));
    mb.targets = xmalloc((size_t)max_tokens * sizeof(int));
    mb.wlp = xmalloc((size_t)max_tokens * sizeof(float));
    mb.starts = xmalloc((size_t)(mbs + 1) * sizeof(int));
    which = xmalloc((size_t)job->batch_size * sizeof(size_t));
    mine = xmalloc((size_t)mbs * sizeof(size_t));
    logp = xmalloc((size_t)max_tokens * sizeof(float));
    order.n = seqs.n;
    order.epoch = -1;
    order.perm = xmalloc(seqs.n * sizeof(size_t));
    order.seed = (uint64_t)job->seed;
    order.shuffle = job->shuffle;

    const long B = job->batch_size;
    double t_run = now_seconds();
    for (long step = start_step; step < job->steps; step++) {
        double t0 = now_seconds();
        /* the step's sequences, and the global target count that scales the loss */
        size_t step_targets = 0, step_tokens = 0;
        for (long j = 0; j < B; j++) {
            which[j] = order_at(&order, (uint64_t)step * (uint64_t)B + (uint64_t)j);
            step_targets += seq_targets(&seqs, which[j]);
            step_tokens += seq_len(&seqs, which[j]);
        }
        const float w = -1.0f / (float)step_targets;
        model_zero_grads(&m);
        double loss_sum = 0.0;
        int ok = 1;
        long n_mine = 0;
        for (long j = d->rank; j < B; j += d->world) {
            mine[n_mine++] = which[j];
            if (n_mine == mbs || j + d->world >= B) {
                micro_fill(&mb, &seqs, mine, (int)n_mine, w);
                Batch b = {(int)n_mine, mb.n_tokens, mb.tokens, mb.starts, NULL, NULL, NULL, NULL};
                if (model_forward(&m, &a, &b, NULL)) {
                    ok = 0;
                    break;
                }
                model_backward(&m, &a, &b, mb.targets, mb.wlp, NULL, logp, NULL);
                for (int t = 0; t < mb.n_tokens; t++)
                    if (mb.targets[t] >= 0) loss_sum -= logp[t];
                n_mine = 0;
            }
        }
        if (!dist_all_ok(d, ok)) {
            if (ok) ERR("step %ld: a forward pass failed on another rank", step + 1);
            goto done;
        }
        dist_sum_f32(d, m.grads, m.n_params);
        dist_sum_f64(d, &loss_sum, 1);
        double loss = loss_sum / (double)step_targets;
        double gnorm = grad_clip(m.grads, m.n_params, job->max_grad_norm);
        if (!isfinite(loss) || !isfinite(gnorm)) {
            ERR("step %ld: the loss (%g) or gradient norm (%g) is not finite; lower optim.learning_rate or check the "
                "data. The last good checkpoint is kept.",
                step + 1, loss, gnorm);
            goto done;
        }
        double lr = lr_at(&sched, step);
        adamw_step(&opt, m.params, m.grads, lr);
        double dt = now_seconds() - t0;
        long done_steps = step + 1;
        if (done_steps % job->logging_steps == 0 || done_steps == job->steps) {
            cJSON *line = cJSON_CreateObject();
            cJSON_AddNumberToObject(line, "step", (double)done_steps);
            cJSON_AddNumberToObject(line, "loss", loss);
            cJSON_AddNumberToObject(line, "grad_norm", gnorm);
            cJSON_AddNumberToObject(line, "learning_rate", lr);
            cJSON_AddNumberToObject(line, "tokens", (double)step_tokens);
            cJSON_AddNumberToObject(line, "tokens_per_second", (double)step_tokens / dt);
            cJSON_AddNumberToObject(line, "epoch", (double)((uint64_t)done_steps * (uint64_t)B) / (double)seqs.n);
            cJSON_AddNumberToObject(line, "elapsed_seconds", now_seconds() - t_run);
            if (d->rank == 0)
                log_info("step %ld/%ld | loss %.4f | grad_norm %.3f | lr %.3g | %.0f tok/s", done_steps, job->steps,
                         loss, gnorm, lr, (double)step_tokens / dt);
            int lrc = rundir_log(&run, line);
            cJSON_Delete(line);
            if (!dist_all_ok(d, lrc == 0)) goto done;
        }
        if (evseqs.n && job->eval_steps > 0 && (done_steps % job->eval_steps == 0 || done_steps == job->steps)) {
            double el = 0;
            if (evaluate(&m, &a, &mb, &evseqs, mbs, d, &el)) goto done;
            cJSON *line = cJSON_CreateObject();
            cJSON_AddNumberToObject(line, "step", (double)done_steps);
            cJSON_AddNumberToObject(line, "eval_loss", el);
            if (d->rank == 0) log_info("step %ld | eval_loss %.4f", done_steps, el);
            int lrc = rundir_log(&run, line);
            cJSON_Delete(line);
            if (!dist_all_ok(d, lrc == 0)) goto done;
        }
        int save = done_steps == job->steps || (job->save_steps > 0 && done_steps % job->save_steps == 0);
        if (save) {
            int src = 0;
            if (d->rank == 0) {
                char *path = rundir_checkpoint_path(&run, done_steps);
                char *cfgtext = cJSON_PrintUnformatted(effective);
                CheckpointState cs = {0};
                cs.step = done_steps;
                cs.seed = (uint64_t)job->seed;
                cs.data_cursor = (uint64_t)done_steps * (uint64_t)B;
                cs.job_config = cfgtext;
                src = checkpoint_save(path, &m, &cs, opt.m, opt.v, &files);
                if (src == 0) src = rundir_mark_latest(&run, done_steps, job->save_total_limit);
                if (src == 0) log_info("saved %s", path);
                free(cfgtext);
                free(path);
            }
            if (!dist_all_ok(d, src == 0)) {
                if (src == 0) ERR("saving the checkpoint failed on rank 0");
                goto done;
            }
        }
    }
    rc = 0;
done:
    if (have_opt) adamw_free(&opt);
    if (have_acts) acts_free(&a);
    rundir_close(&run);
    cJSON_Delete(effective);
    free(resume_path);
    free(which);
    free(mine);
    free(logp);
    free(order.perm);
    free(mb.tokens), free(mb.targets), free(mb.wlp), free(mb.starts);
    seqs_free(&seqs);
    seqs_free(&evseqs);
    dataset_free(&train);
    dataset_free(&eval);
    tokenizer_free(tok);
    model_files_free(&files);
    if (m.params) model_free(&m);
    return rc;
}
