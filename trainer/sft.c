/*
 * sft.c: supervised next-token training (base pretraining on text, R1's
 * cold start on prompt/completion pairs, distillation from a teacher's
 * completions), data-parallel over MPI ranks.
 * Not for: GRPO (grpo.c), what every trainer shares (session.c), data
 * parsing (data/), the model math (model/).
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
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rng.h"
#include "data/dataset.h"
#include "data/template.h"
#include "model/forward.h"
#include "model/io/loader.h"
#include "model/tokenizer/tokenizer.h"
#include "trainer/memory.h"
#include "trainer/pack.h"
#include "trainer/prompts.h"
#include "trainer/session.h"

/* Keeps the first max_len ids of v and gives back the memory of the rest. */
static void keep_first(TokenIds *v, size_t max_len) {
    if (v->n <= max_len) return;
    v->n = max_len;
    v->ids = xrealloc(v->ids, (max_len ? max_len : 1) * sizeof(int));
    v->cap = max_len ? max_len : 1;
}

/* Tokenizes a dataset into sequences of at most max_len tokens. An example
 * is tokenized only as far as its first max_len tokens reach (a huge text
 * or template costs its rendering, never a full tokenization), so memory
 * stays at max_len ids per example. */
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
            rc = tokenizer_encode_max(tok, ex->text, ex->text_len, 1, max_len, &per[i]);
            from[i] = 1;
        } else {
            char *prompt = NULL;
            rc = template_render(job->template_name, ex->prompt, &prompt);
            if (rc == 0) rc = tokenizer_encode_max(tok, prompt, strlen(prompt), 1, max_len, &per[i]);
            free(prompt);
            from[i] = job->completion_only_loss ? (int)(per[i].n < max_len ? per[i].n : max_len) : 1;
            if (rc == 0 && ex->completion && per[i].n < max_len)
                rc = tokenizer_encode_max(tok, ex->completion, strlen(ex->completion), 1, max_len, &per[i]);
        }
        if (rc == 0 && job->add_eos && eos >= 0 && per[i].n < max_len) token_ids_push(&per[i], eos);
        keep_first(&per[i], max_len);
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

double sft_step_plan(const SeqSet *s, EpochOrder *o, long step, long B, size_t *which, size_t *n_tokens) {
    size_t targets = 0, tokens = 0;
    for (long j = 0; j < B; j++) {
        which[j] = epoch_order_at(o, (uint64_t)step * (uint64_t)B + (uint64_t)j);
        targets += seq_targets(s, which[j]);
        tokens += seq_len(s, which[j]);
    }
    if (n_tokens) *n_tokens = tokens;
    return targets ? -1.0 / (double)targets : 0.0;
}

/* Mean token loss of an eval set, reduced across ranks. */
static int evaluate(Model *m, Acts *a, MicroBatch *mb, const SeqSet *ev, long mbs, const Dist *d, double *loss_out) {
    double acc[2] = {0, 0}; /* sum of -logp, count */
    float *logp = xmalloc((size_t)a->max_tokens * sizeof(float));
    int rc = 0;
    size_t i = (size_t)d->rank;
    while (i < ev->n && rc == 0) {
        micro_reset(mb);
        for (long k = 0; k < mbs && i < ev->n; k++, i += (size_t)d->world)
            ASSERT(micro_add(mb, ev->ids + ev->off[i], (int)seq_len(ev, i), ev->loss_from[i], 1.0f) == 0);
        Batch b = micro_batch(mb);
        rc = model_forward(m, a, &b, NULL);
        if (rc) break;
        model_logprobs(m, a, mb->targets, logp, NULL);
        for (int t = 0; t < mb->n_tokens; t++)
            if (mb->targets[t] >= 0) {
                acc[0] -= logp[t];
                acc[1] += 1;
            }
    }
    free(logp);
    if (!dist_all_ok(d, rc == 0)) return rc ? rc : ERR("evaluation failed on another rank");
    dist_sum_f64(d, acc, 2);
    *loss_out = acc[1] > 0 ? acc[0] / acc[1] : NAN;
    return 0;
}

/* n examples of a task generator's split as prompt/completion pairs. */
static int generated_dataset(const JobConfig *job, int eval, size_t n, Dataset *d) {
    PromptSource src;
    int rc = prompts_open(&src, job, eval);
    memset(d, 0, sizeof(*d));
    d->path = xstrdup(eval ? "data.generator (held-out split)" : "data.generator");
    d->kind = DATA_PAIRS;
    d->ex = xcalloc(n ? n : 1, sizeof(Example));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cJSON *ex;
        if ((rc = prompts_get(&src, i, &ex))) break;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(ex, "completion");
        if (!cJSON_IsString(c)) {
            cJSON_Delete(ex);
            rc = ERR("data.generator: the %s task makes prompts without completions; grpo sft needs the corpus task",
                     prompts_name(&src));
            break;
        }
        d->ex[d->n++] = (Example){.prompt = cJSON_GetObjectItemCaseSensitive(ex, "prompt")->valuestring,
                                  .completion = c->valuestring, .line = i + 1, .json = ex};
    }
    prompts_close(&src);
    return rc;
}

/* The train (and eval) sequences of the job: files, or, without a
 * train_file, a task generator (train.steps x train.batch_size examples,
 * each seen once; data.eval_size held-out ones). */
static int load_data(const JobConfig *job, const Tokenizer *tok, int eos, SeqSet *seqs, SeqSet *evseqs) {
    Dataset train = {0}, eval = {0};
    int rc = 0;
    size_t skipped = 0;
    if (job->batch_size < 1) rc = ERR("train.batch_size: 0; grpo sft needs at least 1 sequence per step");
    else if (job->train_file) rc = dataset_load(&train, job->train_file, job->data_format, job->text_field) ? err_prefix("data.train_file") : 0;
    else if (job->generator) rc = generated_dataset(job, 0, (size_t)(job->steps * job->batch_size), &train);
    else rc = ERR("data.train_file: required key is missing (the JSONL or text file to train on; or set data.generator)");
    if (!rc && train.kind == DATA_PAIRS && template_check(job->template_name)) rc = err_prefix("data.template");
    if (!rc) rc = build_sequences(&train, tok, job, eos, seqs, &skipped);
    if (!rc && skipped) log_warn("%s: %zu examples have nothing to learn from and were skipped", train.path, skipped);
    if (!rc && job->eval_file) {
        if (dataset_load(&eval, job->eval_file, job->data_format, job->text_field)) rc = err_prefix("data.eval_file");
        else rc = build_sequences(&eval, tok, job, eos, evseqs, &skipped);
    } else if (!rc && !job->train_file && job->generator && job->eval_size > 0) {
        rc = generated_dataset(job, 1, (size_t)job->eval_size, &eval);
        if (!rc) rc = build_sequences(&eval, tok, job, eos, evseqs, &skipped);
    }
    if (!rc) {
        size_t n_targets = 0;
        for (size_t i = 0; i < seqs->n; i++) n_targets += seq_targets(seqs, i);
        log_info("sft: %zu sequences (%zu target tokens) from %s", seqs->n, n_targets, train.path);
    }
    dataset_free(&train);
    dataset_free(&eval);
    return rc;
}

static size_t longest_of(const SeqSet *a, const SeqSet *b) {
    size_t longest = 2;
    for (size_t i = 0; i < a->n; i++) longest = seq_len(a, i) > longest ? seq_len(a, i) : longest;
    for (size_t i = 0; i < b->n; i++) longest = seq_len(b, i) > longest ? seq_len(b, i) : longest;
    return longest;
}

/* What one generated example holds in memory at the peak (its cJSON object,
 * texts and token ids), for refusing a generator run that could never fit
 * before generating: measured with the corpus task, 100000 examples raise
 * grpo sft --dry-run's peak RSS by 456 MB. */
#define GENERATED_EXAMPLE_BYTES 4700.0

int sft_check(const JobConfig *job) {
    if (!job->train_file && !job->generator)
        return ERR("data.train_file: required key is missing (the JSONL or text file to train on; or set "
                   "data.generator)");
    if (job->batch_size < 1) return ERR("train.batch_size: 0; grpo sft needs at least 1 sequence per step");
    if (job->micro_batch_size > job->batch_size)
        return ERR("train.micro_batch_size: %ld is larger than train.batch_size %ld (the sequences of a step, over "
                   "all ranks); choose 1 to %ld",
                   job->micro_batch_size, job->batch_size, job->batch_size);
    if (!job->train_file) { /* a generator makes every example before training starts */
        const double n = (double)job->steps * (double)job->batch_size + (job->eval_file ? 0.0 : (double)job->eval_size);
        const double bytes = n * GENERATED_EXAMPLE_BYTES;
        const char *from;
        const double limit = memory_node_limit(&from);
        /* the second bound holds with the check off (GRPO_MAX_MEMORY=0): the count must fit a size_t */
        const double most = limit > 0 ? limit : 0x1p62;
        if (bytes > most)
            return ERR("data.generator: train.steps x train.batch_size (+ data.eval_size) = %.3g examples are "
                       "generated before training, about %s; %s is %s: lower train.steps or train.batch_size",
                       n, format_bytes(bytes).s, limit > 0 ? from : "what a process can address",
                       format_bytes(most).s);
    }
    return 0;
}

int sft_longest_sequence(const JobConfig *job, int eos, long *longest) {
    if (sft_check(job)) return -1;
    const char *from = job->model_tokenizer ? job->model_tokenizer : job->model_path;
    if (!from) return ERR("model.tokenizer: a model built from model.init needs a tokenizer.json here");
    Tokenizer *tok = NULL;
    if (model_open_tokenizer(from, &tok)) return err_prefix(job->model_tokenizer ? "model.tokenizer" : "model.path");
    SeqSet seqs = {0}, evseqs = {0};
    int rc = load_data(job, tok, eos, &seqs, &evseqs);
    if (rc == 0) *longest = (long)longest_of(&seqs, &evseqs);
    seqs_free(&seqs);
    seqs_free(&evseqs);
    tokenizer_free(tok);
    return rc;
}

/* One optimizer step's forward and backward passes on this rank's share of
 * the step's sequences; adds its summed token loss to *loss_sum. */
static int step_backward(Session *s, Acts *a, MicroBatch *mb, const SeqSet *seqs, const size_t *which, long B,
                         float w, float *logp, double *loss_sum) {
    const Dist *d = s->dist;
    const long mbs = s->job->micro_batch_size;
    micro_reset(mb);
    for (long j = d->rank; j < B; j += d->world) {
        size_t i = which[j];
        ASSERT(micro_add(mb, seqs->ids + seqs->off[i], (int)seq_len(seqs, i), seqs->loss_from[i], w) == 0);
        if (mb->n_seqs == mbs || j + d->world >= B) {
            Batch b = micro_batch(mb);
            if (model_forward(&s->model, a, &b, NULL)) return -1;
            model_backward(&s->model, a, &b, mb->targets, mb->wlp, NULL, logp, NULL);
            for (int t = 0; t < mb->n_tokens; t++)
                if (mb->targets[t] >= 0) *loss_sum -= logp[t];
            micro_reset(mb);
        }
    }
    return 0;
}

/* Writes the step's metrics line (and the eval loss every eval_steps). */
static int log_step(Session *s, long done, double loss, double gnorm, double lr, size_t tokens, double dt,
                    size_t n_seqs, Acts *a, MicroBatch *mb, const SeqSet *evseqs) {
    const JobConfig *job = s->job;
    if (done % job->logging_steps == 0 || done == job->steps) {
        cJSON *line = cJSON_CreateObject();
        cJSON_AddNumberToObject(line, "step", (double)done);
        cJSON_AddNumberToObject(line, "loss", loss);
        cJSON_AddNumberToObject(line, "grad_norm", gnorm);
        cJSON_AddNumberToObject(line, "learning_rate", lr);
        cJSON_AddNumberToObject(line, "tokens", (double)tokens);
        cJSON_AddNumberToObject(line, "tokens_per_second", (double)tokens / dt);
        cJSON_AddNumberToObject(line, "epoch", (double)((uint64_t)done * (uint64_t)job->batch_size) / (double)n_seqs);
        cJSON_AddNumberToObject(line, "elapsed_seconds", now_seconds() - s->t_open);
        int rc = session_log(s, line);
        cJSON_Delete(line);
        if (rc) return -1;
    }
    char fields[160];
    snprintf(fields, sizeof(fields), "loss %.4f | grad_norm %.3f | lr %.3g | %.0f tok/s", loss, gnorm, lr,
             (double)tokens / dt);
    session_progress(s, done, fields);
    if (evseqs->n && job->eval_steps > 0 && (done % job->eval_steps == 0 || done == job->steps)) {
        double el = 0;
        if (evaluate(&s->model, a, mb, evseqs, job->micro_batch_size, s->dist, &el)) return -1;
        cJSON *line = cJSON_CreateObject();
        cJSON_AddNumberToObject(line, "step", (double)done);
        cJSON_AddNumberToObject(line, "eval_loss", el);
        if (!s->progress_bar) log_info("step %ld | eval_loss %.4f", done, el);
        int rc = session_log(s, line);
        cJSON_Delete(line);
        if (rc) return -1;
    }
    return 0;
}

int sft_run(const JobConfig *job, const Dist *d) {
    Session s;
    SeqSet seqs = {0}, evseqs = {0};
    Acts a = {0};
    MicroBatch mb = {0};
    EpochOrder order = {0};
    size_t *which = NULL;
    float *logp = NULL;
    int rc = -1, have_acts = 0;

    memset(&s, 0, sizeof(s));
    if (sft_check(job) || session_open(&s, job, d, NULL, 0)) goto done;
    dist_set_watchdog(d, (double)job->watchdog_seconds);
    int eos = s.model.cfg.n_eos > 0 ? s.model.cfg.eos_token_ids[0] : -1;
    if (job->add_eos && eos < 0) log_warn("the model config has no eos_token_id; data.add_eos has no effect");
    if (!dist_all_ok(d, load_data(job, s.tok, eos, &seqs, &evseqs) == 0)) goto done;
    log_info("sft: model %s, %zu parameters; %d rank%s, %d threads each", s.model.cfg.architecture, s.model.n_params,
             d->world, d->world > 1 ? "s" : "", omp_get_max_threads());

    /* The workspace holds micro_batch_size of the longest sequences the
     * data really has (at most data.max_length), once the memory estimate
     * says the job fits. */
    const size_t longest = longest_of(&seqs, &evseqs);
    if (memory_check(job, &s.model.cfg, d, (long)longest)) goto done;
    const long mbs = job->micro_batch_size, B = job->batch_size;
    const int max_tokens = (int)(mbs * (long)longest); /* memory_check bounds it by INT_MAX */
    if (!dist_all_ok(d, acts_init(&a, &s.model.cfg, max_tokens, (int)longest, 1, job->gradient_checkpointing) == 0))
        goto done;
    have_acts = 1;
    micro_init(&mb, max_tokens, (int)mbs);
    epoch_order_init(&order, seqs.n, (uint64_t)job->seed, RNG_PROMPT_SFT_SHUFFLE, job->shuffle);
    which = xmalloc((size_t)B * sizeof(size_t));
    logp = xmalloc((size_t)max_tokens * sizeof(float));

    for (long step = s.start_step; step < job->steps; step++) {
        double t0 = now_seconds();
        dist_set_phase(d, step + 1, "train");
        size_t step_tokens = 0;
        const double wd = sft_step_plan(&seqs, &order, step, B, which, &step_tokens);
        const float w = (float)wd;
        model_zero_grads(&s.model);
        double loss_sum = 0.0;
        int ok = step_backward(&s, &a, &mb, &seqs, which, B, w, logp, &loss_sum) == 0;
        if (!dist_all_ok(d, ok)) {
            if (ok) ERR("step %ld: a forward pass failed on another rank", step + 1);
            goto done;
        }
        dist_set_phase(d, step + 1, "gradient all-reduce");
        dist_sum_f32(d, s.model.grads, s.model.n_params);
        dist_sum_f64(d, &loss_sum, 1);
        double loss = loss_sum * -wd, gnorm, lr;
        if (!isfinite(loss) || session_optimizer_step(&s, step, &gnorm, &lr)) {
            ERR("step %ld: the loss (%g) or gradient norm is not finite; lower optim.learning_rate or check the data. "
                "The last good checkpoint is kept.",
                step + 1, loss);
            goto done;
        }
        const long done_steps = step + 1;
        if (job->checksum_steps > 0 && done_steps % job->checksum_steps == 0 &&
            !dist_all_same(d, xxh64(s.model.params, s.model.n_params * sizeof(float), 0))) {
            ERR("step %ld: the ranks' parameters differ; a rank computed something else (mixed builds, hardware or "
                "data?). The last checkpoint is kept.",
                done_steps);
            goto done;
        }
        if (log_step(&s, done_steps, loss, gnorm, lr, step_tokens, now_seconds() - t0, seqs.n, &a, &mb, &evseqs))
            goto done;
        if (session_should_save(&s, done_steps)) {
            dist_set_phase(d, done_steps, "checkpoint");
            CheckpointState cs = {.data_cursor = (uint64_t)done_steps * (uint64_t)B};
            if (session_save(&s, done_steps, &cs, NULL, 0)) goto done;
        }
    }
    rc = 0;
done:
    if (have_acts) acts_free(&a);
    micro_free(&mb);
    epoch_order_free(&order);
    free(which);
    free(logp);
    seqs_free(&seqs);
    seqs_free(&evseqs);
    session_close(&s);
    return rc;
}
