/*
 * session.c: the training session shared by SFT and GRPO (session.h).
 * Not for: anything a step computes.
 */
#define _GNU_SOURCE
#include "session.h"

#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "model/io/loader.h"

/* ---- threads ---- */

/* train.threads, else OMP_NUM_THREADS when the user set it, else the
 * cores this rank may run on divided by the ranks on its node (a rank that
 * a launcher bound to a few cores uses those). */
static void set_threads(const JobConfig *job, const Dist *d) {
    int n;
    if (job->threads > 0) {
        n = (int)job->threads;
    } else if (getenv("OMP_NUM_THREADS")) {
        return;
    } else {
        cpu_set_t set;
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        int avail = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : (int)online;
        int local = dist_local_size(d);
        n = avail < online ? avail : avail / (local > 0 ? local : 1);
    }
    omp_set_num_threads(n > 0 ? n : 1);
}

/* ---- the model ---- */

/* model.path, or a fresh model.init; then the tokenizer (model.tokenizer
 * replacing the model's own, and travelling in the run's checkpoints). */
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
        size_t len = 0;
        char *text = file_read_all(job->model_tokenizer, &len);
        if (!text) return err_prefix("model.tokenizer");
        model_files_set(files, "tokenizer.json", text, len);
        free(text);
        what = job->model_tokenizer;
    }
    return model_tokenizer_open(files, what, m->cfg.vocab_size, tok);
}

static int same_shape(const ModelConfig *a, const ModelConfig *b) {
    return a->vocab_size == b->vocab_size && a->hidden_size == b->hidden_size &&
           a->num_hidden_layers == b->num_hidden_layers && a->num_attention_heads == b->num_attention_heads &&
           a->num_key_value_heads == b->num_key_value_heads && a->head_dim == b->head_dim &&
           a->intermediate_size == b->intermediate_size && a->tie_word_embeddings == b->tie_word_embeddings &&
           a->attention_bias == b->attention_bias && a->qk_norm == b->qk_norm;
}

/* ---- resume ---- */

/* Keys a resumed run may change without saying so: they decide how long
 * the run goes on and what it records, not what it computes. */
static const char *const free_keys[] = {
    "train.steps", "train.save_steps", "train.save_total_limit", "train.eval_steps", "train.resume", "train.output_dir",
    "train.threads", "train.watchdog_seconds", "train.checksum_steps", "train.resume_allow_changes",
    "log.", "eval.", "data.eval_file", "data.eval_size", "model.path", "model.init_seed",
};

static int key_allowed(const char *key, const cJSON *allow) {
    for (size_t i = 0; i < sizeof(free_keys) / sizeof(free_keys[0]); i++) {
        size_t n = strlen(free_keys[i]);
        if (free_keys[i][n - 1] == '.' ? !strncmp(key, free_keys[i], n) : !strcmp(key, free_keys[i])) return 1;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, allow) {
        if (cJSON_IsString(it) && (!strcmp(it->valuestring, "*") || !strcmp(it->valuestring, key))) return 1;
    }
    return 0;
}

/* Appends to diff the dotted paths under prefix where a and b differ. */
static void diff_json(const cJSON *a, const cJSON *b, const char *prefix, const cJSON *allow, StrBuf *diff,
                      int *n) {
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, a) {
            StrBuf k = {0};
            if (prefix[0]) {
                strbuf_cat(&k, prefix);
                strbuf_cat(&k, ".");
            }
            strbuf_cat(&k, it->string);
            diff_json(it, cJSON_GetObjectItemCaseSensitive(b, it->string), k.p, allow, diff, n);
            free(k.p);
        }
        cJSON_ArrayForEach(it, b) {
            if (cJSON_GetObjectItemCaseSensitive(a, it->string)) continue;
            StrBuf k = {0};
            if (prefix[0]) {
                strbuf_cat(&k, prefix);
                strbuf_cat(&k, ".");
            }
            strbuf_cat(&k, it->string);
            diff_json(NULL, it, k.p, allow, diff, n);
            free(k.p);
        }
        return;
    }
    if (a && b && cJSON_Compare(a, b, 1)) return;
    if (key_allowed(prefix, allow)) return;
    if (*n < 8) {
        if (diff->n) strbuf_cat(diff, ", ");
        strbuf_cat(diff, prefix);
    }
    ++*n;
}

/* Refuses to resume a run whose effective config changed in a key that
 * changes what the run computes, unless train.resume_allow_changes lists
 * it. */
static int check_same_config(const char *path, const char *stored, const cJSON *now, const cJSON *allow) {
    if (!stored) return 0; /* a checkpoint written by grpo init/convert: nothing to compare */
    cJSON *old = cJSON_Parse(stored);
    if (!old) return ERR("%s: its /state/job_config is not JSON", path);
    StrBuf diff = {0};
    int n = 0;
    diff_json(old, now, "", allow, &diff, &n);
    cJSON_Delete(old);
    int rc = 0;
    if (n)
        rc = ERR("%s was written with another config: %s%s differ%s; resume with the same config, list the keys "
                 "that may change in train.resume_allow_changes (e.g. [\"optim.learning_rate\"]), or start a new run "
                 "(train.resume=\"never\" or another train.output_dir)",
                 path, diff.p, n > 8 ? ", ..." : "", n == 1 ? "s" : "");
    free(diff.p);
    return rc;
}

/* Loads the checkpoint at path into the session: params, moments (to
 * am and av), state and blocks. */
static int resume_from(Session *s, const char *path, SessionBlock *blocks, int n_blocks, float **am, float **av) {
    Model rm;
    CheckpointState st;
    if (checkpoint_load(path, &rm, &st, am, av, NULL)) return -1;
    int rc = 0;
    if (!same_shape(&rm.cfg, &s->model.cfg))
        rc = ERR("%s: the checkpoint's model differs from the config's model; point train.output_dir elsewhere or "
                 "set train.resume to \"never\"",
                 path);
    if (!rc) rc = check_same_config(path, st.job_config, s->effective, s->job->resume_allow_changes);
    if (!rc && st.trainer_state) {
        s->trainer_state = cJSON_Parse(st.trainer_state);
        if (!s->trainer_state) rc = ERR("%s: its /state/trainer_state is not JSON", path);
    }
    for (int b = 0; b < n_blocks && !rc; b++) {
        for (size_t k = 0; k < st.n_blocks; k++)
            if (!strcmp(st.blocks[k].name, blocks[b].name)) {
                memcpy(blocks[b].data, st.blocks[k].data, s->model.n_params * sizeof(float));
                blocks[b].present = 1;
            }
    }
    if (!rc) {
        memcpy(s->model.params, rm.params, s->model.n_params * sizeof(float));
        s->start_step = (long)st.step;
        s->data_cursor = st.data_cursor;
    }
    model_free(&rm);
    checkpoint_state_free(&st);
    return rc;
}

/* The checkpoint train.resume names: the newest valid one (auto), none
 * (never) or a path. */
static int resume_path(const JobConfig *job, char **path) {
    *path = NULL;
    if (!strcmp(job->resume, "auto")) return rundir_find_resume(job->output_dir, path);
    if (strcmp(job->resume, "never") != 0) *path = xstrdup(job->resume);
    return 0;
}

/* ---- the session ---- */

/* Whether the progress bar has a terminal to draw on: stderr is one, or,
 * under mpirun, the launcher's stderr is. mpirun hands its local ranks a
 * pipe for stderr and forwards what they write, carriage returns included,
 * so a rank cannot see the user's terminal itself; its parent, mpirun on
 * the same node, can. (Under srun or a remote daemon the parent's stderr
 * is not a terminal, and the job logs lines.) */
static int progress_terminal(const Dist *d) {
    if (isatty(2)) return 1;
    if (!d->mpi) return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd/2", (long)getppid());
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return 0;
    int tty = isatty(fd);
    close(fd);
    return tty;
}

int session_open(Session *s, const JobConfig *job, const Dist *d, SessionBlock *blocks, int n_blocks) {
    memset(s, 0, sizeof(*s));
    s->job = job;
    s->dist = d;
    s->t_open = now_seconds();
    set_threads(job, d);
    int loaded = load_model(job, &s->model, &s->files, &s->tok) == 0;
    if (!dist_all_ok(d, loaded)) return loaded ? ERR("loading the model failed on another rank") : -1;
    s->effective = jobconfig_to_json(job);
    for (int b = 0; b < n_blocks; b++) {
        blocks[b].data = xalloc_aligned(s->model.n_params * sizeof(float));
        memcpy(blocks[b].data, s->model.params, s->model.n_params * sizeof(float));
        blocks[b].present = 0;
    }

    float *am = NULL, *av = NULL;
    int rc = resume_path(job, &s->resume_path);
    if (rc == 0 && s->resume_path) {
        rc = resume_from(s, s->resume_path, blocks, n_blocks, &am, &av);
        if (rc == 0) log_info("resuming from %s at step %ld", s->resume_path, s->start_step);
    }
    if (!dist_all_ok(d, rc == 0)) {
        if (rc == 0) ERR("resuming failed on another rank");
        free(am);
        free(av);
        return -1;
    }
    rc = rundir_open(&s->run, job->output_dir, s->effective, d->rank == 0, s->resume_path ? s->start_step : -1);
    if (!dist_all_ok(d, rc == 0)) {
        if (rc == 0) ERR("opening the run directory failed on rank 0");
        free(am);
        free(av);
        return -1;
    }

    model_alloc_grads(&s->model);
    AdamWConfig oc = {.beta1 = job->adam_beta1, .beta2 = job->adam_beta2, .eps = job->adam_epsilon,
                      .weight_decay = job->weight_decay};
    adamw_init(&s->opt, &s->model, &oc);
    if (am && av) {
        memcpy(s->opt.m, am, s->model.n_params * sizeof(float));
        memcpy(s->opt.v, av, s->model.n_params * sizeof(float));
        s->opt.step = s->start_step;
    }
    free(am);
    free(av);
    s->sched = (LRSchedule){
        .kind = (LRKind)lr_kind_parse(job->lr_scheduler_type),
        .lr = job->learning_rate,
        .warmup_steps = job->warmup_steps > 0 ? job->warmup_steps : (long)ceil(job->warmup_ratio * job->steps),
        .total_steps = job->steps,
        .min_lr_ratio = job->min_lr_ratio,
    };
    const char *mode = job->progress;
    s->progress_bar = d->rank == 0 && (!strcmp(mode, "bar") || (!strcmp(mode, "auto") && progress_terminal(d)));
    s->opened = 1;
    return 0;
}

void session_close(Session *s) {
    if (s->progress_bar && s->opened) fputc('\n', stderr);
    if (s->opened) adamw_free(&s->opt);
    rundir_close(&s->run);
    cJSON_Delete(s->effective);
    cJSON_Delete(s->trainer_state);
    free(s->resume_path);
    tokenizer_free(s->tok);
    model_files_free(&s->files);
    if (s->model.params) model_free(&s->model);
    memset(s, 0, sizeof(*s));
}

int session_optimizer_step(Session *s, long step, double *grad_norm, double *lr) {
    *lr = lr_at(&s->sched, step);
    *grad_norm = grad_clip(s->model.grads, s->model.n_params, s->job->max_grad_norm);
    if (!isfinite(*grad_norm))
        return ERR("step %ld: the gradient norm is %g; the update is not applied", step + 1, *grad_norm);
    adamw_step(&s->opt, s->model.params, s->model.grads, *lr);
    return 0;
}

int session_log(Session *s, const cJSON *line) {
    int rc = rundir_log(&s->run, line);
    if (!dist_all_ok(s->dist, rc == 0)) return rc ? rc : ERR("writing metrics failed on rank 0");
    return 0;
}

int session_should_save(const Session *s, long done_steps) {
    return done_steps == s->job->steps || (s->job->save_steps > 0 && done_steps % s->job->save_steps == 0);
}

int session_save(Session *s, long done_steps, CheckpointState *st, const SessionBlock *blocks, int n_blocks) {
    int rc = 0;
    if (s->dist->rank == 0) {
        char *path = rundir_checkpoint_path(&s->run, done_steps);
        char *cfgtext = cJSON_PrintUnformatted(s->effective);
        CheckpointBlock *cb = n_blocks ? xcalloc((size_t)n_blocks, sizeof(CheckpointBlock)) : NULL;
        size_t n_cb = 0;
        for (int b = 0; b < n_blocks; b++)
            if (blocks[b].present) {
                snprintf(cb[n_cb].name, sizeof(cb[n_cb].name), "%s", blocks[b].name);
                cb[n_cb++].data = blocks[b].data;
            }
        st->step = done_steps;
        st->seed = (uint64_t)s->job->seed;
        st->job_config = cfgtext;
        st->blocks = cb;
        st->n_blocks = n_cb;
        rc = checkpoint_save(path, &s->model, st, s->opt.m, s->opt.v, &s->files);
        st->job_config = NULL;
        st->blocks = NULL;
        st->n_blocks = 0;
        if (rc == 0) rc = rundir_mark_latest(&s->run, done_steps, s->job->save_total_limit);
        if (rc == 0 && !s->progress_bar) log_info("saved %s", path);
        free(cb);
        free(cfgtext);
        free(path);
    }
    if (!dist_all_ok(s->dist, rc == 0)) return rc ? rc : ERR("saving the checkpoint failed on rank 0");
    return 0;
}

void session_progress(Session *s, long done_steps, const char *fields) {
    if (s->dist->rank != 0 || !strcmp(s->job->progress, "none")) return;
    const long total = s->job->steps;
    double elapsed = now_seconds() - s->t_open;
    long done_here = done_steps - s->start_step;
    double left = done_here > 0 ? elapsed / (double)done_here * (double)(total - done_steps) : 0;
    char eta[32];
    if (left >= 3600) snprintf(eta, sizeof(eta), "%ldh%02ldm", (long)left / 3600, ((long)left % 3600) / 60);
    else snprintf(eta, sizeof(eta), "%ldm%02lds", (long)left / 60, (long)left % 60);
    if (s->progress_bar) {
        enum { W = 24 };
        char bar[W + 1];
        int filled = total > 0 ? (int)((double)W * (double)done_steps / (double)total) : W;
        for (int i = 0; i < W; i++) bar[i] = i < filled ? '#' : '.';
        bar[W] = '\0';
        fprintf(stderr, "\r[%s] step %ld/%ld | %s | %s left\033[K", bar, done_steps, total, fields, eta);
        fflush(stderr);
        return;
    }
    if (done_steps % s->job->logging_steps == 0 || done_steps == total)
        log_info("step %ld/%ld | %s | %s left", done_steps, total, fields, eta);
}

/* ---- the step timer ---- */

void timer_begin(StepTimer *t) {
    memset(t, 0, sizeof(*t));
    t->t_last = now_seconds();
}

void timer_mark(StepTimer *t, int phase) {
    double now = now_seconds();
    t->seconds[phase] += now - t->t_last;
    t->t_last = now;
}

const char *timer_phase_name(int phase) {
    static const char *const names[N_PHASES] = {"time/rollout", "time/reward", "time/reference", "time/train",
                                                "time/comm",    "time/checkpoint", "time/other"};
    return phase >= 0 && phase < N_PHASES ? names[phase] : "time/?";
}

double timer_total(const StepTimer *t) {
    double sum = 0;
    for (int i = 0; i < N_PHASES; i++) sum += t->seconds[i];
    return sum;
}
