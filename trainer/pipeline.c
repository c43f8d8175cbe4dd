/*
 * pipeline.c: a chain of training stages run as one job (pipeline.h).
 */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "model/io/loader.h"
#include "reward/reward.h"
#include "trainer/distill.h"
#include "trainer/eval.h"
#include "trainer/grpo.h"
#include "trainer/jobconfig.h"
#include "trainer/report.h"
#include "trainer/rundir.h"
#include "trainer/sft.h"

/* ---- --set on the raw pipeline JSON ---- */

int pipeline_apply_sets(cJSON *root, const char *const *sets, size_t n_sets) {
    for (size_t i = 0; i < n_sets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i]) return ERR("--set '%s': expected key.path=value", sets[i]);
        cJSON *val = cJSON_Parse(eq + 1);
        if (!val) val = cJSON_CreateString(eq + 1);
        char *path = xmalloc((size_t)(eq - sets[i]) + 1);
        memcpy(path, sets[i], (size_t)(eq - sets[i]));
        path[eq - sets[i]] = '\0';
        /* stages.<name>.rest addresses the stage called name */
        cJSON *target = root;
        const char *rest = path;
        if (!strncmp(path, "stages.", 7)) {
            const char *name = path + 7, *dot = strchr(name, '.');
            size_t len = dot ? (size_t)(dot - name) : strlen(name);
            const cJSON *o;
            target = NULL;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "stages")) {
                const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
                if (cJSON_IsString(nm) && strlen(nm->valuestring) == len && !strncmp(nm->valuestring, name, len))
                    target = (cJSON *)o;
            }
            rest = dot ? dot + 1 : NULL;
            if (!target || !rest) {
                cJSON_Delete(val);
                int rc = ERR("--set %s: no stage called '%.*s' (stages.NAME.key addresses a stage)", path, (int)len,
                             name);
                free(path);
                return rc;
            }
        }
        int rc = json_set_path(target, rest, val) ? ERR("--set %s: a part of the path is not an object", path) : 0;
        free(path);
        if (rc) return -1;
    }
    return 0;
}

/* ---- the stages ---- */

typedef enum { ST_SFT, ST_TRAIN, ST_EVAL, ST_DISTILL, ST_REPORT } StageKind;
static const char *const kind_names[] = {"sft", "train", "eval", "distill", "report"};

typedef struct {
    const char *name;
    StageKind kind;
    const cJSON *spec;  /* the stage's object */
    char *dir;          /* its run directory */
    char *config_path;  /* its job config, written into dir */
    int input;          /* the stage whose model it starts from, or -1 */
    const char *input_path; /* a literal model path, or NULL */
    char *model_out;    /* the model it produced (sft, train, distill), once done */
    int done;
} Stage;

typedef struct {
    const char *origin;
    const char *name;
    char *dir;
    const cJSON *defaults;
    Stage *st;
    int n;
} Pipeline;

static int produces_model(StageKind k) { return k == ST_SFT || k == ST_TRAIN || k == ST_DISTILL; }

/* a := a merged with b (objects recursively; anything else replaced). */
static void merge_into(cJSON *a, const cJSON *b) {
    for (const cJSON *it = b ? b->child : NULL; it; it = it->next) {
        cJSON *mine = cJSON_GetObjectItemCaseSensitive(a, it->string);
        if (mine && cJSON_IsObject(mine) && cJSON_IsObject(it)) {
            merge_into(mine, it);
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(a, it->string);
            cJSON_AddItemToObject(a, it->string, cJSON_Duplicate(it, 1));
        }
    }
}

/* Sets root.section.key to a string. */
static void set_string(cJSON *root, const char *section, const char *key, const char *value) {
    cJSON *s = cJSON_GetObjectItemCaseSensitive(root, section);
    if (!s) s = cJSON_AddObjectToObject(root, section);
    cJSON_DeleteItemFromObjectCaseSensitive(s, key);
    cJSON_AddStringToObject(s, key, value);
}

static JobKind job_kind(StageKind k) {
    return k == ST_TRAIN ? JOB_TRAIN : k == ST_EVAL ? JOB_EVAL : JOB_SFT;
}

/* The model a stage starts from: an earlier stage's output (known once it
 * ran), a literal path, or NULL (the config's own model). */
static const char *input_model(const Pipeline *p, const Stage *s) {
    if (s->input_path) return s->input_path;
    if (s->input >= 0) return p->st[s->input].model_out ? p->st[s->input].model_out : "(not made yet)";
    return NULL;
}

/* The job config of stage s (defaults, then the stage's config, then its
 * model and run directory), written to s->config_path. `section` names the
 * stage's key holding it ("config", or "sample" for distill's sampling). */
static int write_config(const Pipeline *p, const Stage *s, const char *section, JobKind kind, const char *model,
                        const char *path) {
    /* the stage takes the defaults its command reads */
    cJSON *cfg = p->defaults ? cJSON_Duplicate(p->defaults, 1) : cJSON_CreateObject();
    char origin[600];
    snprintf(origin, sizeof(origin), "%s: defaults", p->origin);
    if (jobconfig_prune(cfg, kind, origin)) {
        cJSON_Delete(cfg);
        return -1;
    }
    merge_into(cfg, cJSON_GetObjectItemCaseSensitive(s->spec, section));
    if (model) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(cfg, "model");
        if (m) cJSON_DeleteItemFromObjectCaseSensitive(m, "init");
        set_string(cfg, "model", "path", model);
    }
    set_string(cfg, "train", "output_dir", s->dir);
    char *text = json_print_text(cfg);
    cJSON_Delete(cfg);
    int rc = mkdir_p(s->dir) || file_write_atomic(path, text, strlen(text));
    free(text);
    return rc ? -1 : 0;
}

/* Loads (and so checks) a stage's job config. */
static int load_stage_config(const Pipeline *p, const Stage *s, const char *section, JobKind kind, const char *model,
                             JobConfig *job) {
    char *path = path_join(s->dir, strcmp(section, "sample") ? "stage-config.json" : "sample-config.json");
    int rc = write_config(p, s, section, kind, model, path);
    memset(job, 0, sizeof(*job));
    if (rc == 0) rc = jobconfig_load(job, kind, path, NULL, 0);
    if (rc) err_prefix("stage '%s' (%s)", s->name, kind_names[s->kind]);
    free(path);
    return rc;
}

/* ---- pipeline.json ---- */

static int write_state(const Pipeline *p, const Dist *d) {
    if (d->rank != 0) return 0;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", p->name);
    cJSON *arr = cJSON_AddArrayToObject(j, "stages");
    for (int i = 0; i < p->n; i++) {
        const Stage *s = &p->st[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->name);
        cJSON_AddStringToObject(o, "kind", kind_names[s->kind]);
        cJSON_AddStringToObject(o, "dir", s->name);
        cJSON_AddStringToObject(o, "status", s->done == 1 ? "done" : s->done == 2 ? "running" : s->done == 3 ? "failed"
                                                                                                           : "pending");
        if (s->model_out) cJSON_AddStringToObject(o, "model", s->model_out);
        else cJSON_AddNullToObject(o, "model");
        cJSON_AddItemToArray(arr, o);
    }
    char *text = json_print_text(j);
    cJSON_Delete(j);
    char *path = path_join(p->dir, "pipeline.json");
    int rc = file_write_atomic(path, text, strlen(text));
    free(path);
    free(text);
    return rc;
}

/* Takes the status and models of an earlier run of this pipeline. */
static void read_state(Pipeline *p) {
    char *path = path_join(p->dir, "pipeline.json");
    cJSON *j = is_regular_file(path) ? json_read_file(path) : NULL;
    free(path);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "stages"), *o;
    cJSON_ArrayForEach(o, arr) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
        for (int i = 0; i < p->n && cJSON_IsString(name); i++) {
            Stage *s = &p->st[i];
            if (strcmp(s->name, name->valuestring) || !cJSON_IsString(status) || strcmp(status->valuestring, "done"))
                continue;
            if (produces_model(s->kind) && !(cJSON_IsString(model) && is_regular_file(model->valuestring))) continue;
            s->done = 1;
            if (cJSON_IsString(model)) s->model_out = xstrdup(model->valuestring);
        }
    }
    cJSON_Delete(j);
}

/* ---- parsing ---- */

static int parse(Pipeline *p, const cJSON *root, const char *origin) {
    memset(p, 0, sizeof(*p));
    p->origin = origin;
    static const char *const top[] = {"pipeline", "defaults", "stages"};
    if (!cJSON_IsObject(root)) return ERR("%s: a pipeline config is a JSON object", origin);
    if (json_check_keys(root, "", top, 3)) return err_prefix("%s", origin);
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(root, "pipeline");
    static const char *const pkeys[] = {"name", "output_dir"};
    const char *name = NULL, *dir = NULL;
    if (!cJSON_IsObject(pl) || json_check_keys(pl, "pipeline", pkeys, 2) ||
        json_get_string(pl, "pipeline", "name", &name) || json_get_string(pl, "pipeline", "output_dir", &dir) || !name ||
        !dir)
        return ERR("%s: pipeline: expected {\"name\": ..., \"output_dir\": ...}%s%s", origin, err_msg()[0] ? "; " : "",
                   err_msg());
    p->name = name;
    p->dir = xstrdup(dir);
    p->defaults = cJSON_GetObjectItemCaseSensitive(root, "defaults");
    if (p->defaults && !cJSON_IsObject(p->defaults)) return ERR("%s: defaults: expected a job config object", origin);
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(root, "stages");
    if (!cJSON_IsArray(stages) || cJSON_GetArraySize(stages) == 0)
        return ERR("%s: stages: expected a non-empty array of stages", origin);
    p->n = cJSON_GetArraySize(stages);
    p->st = xcalloc((size_t)p->n, sizeof(Stage));
    int last_model = -1;
    for (int i = 0; i < p->n; i++) {
        const cJSON *sp = cJSON_GetArrayItem(stages, i);
        Stage *s = &p->st[i];
        char where[64];
        snprintf(where, sizeof(where), "stages[%d]", i);
        static const char *const skeys[] = {"name", "kind", "model", "config", "teacher", "sample", "prompts",
                                            "keep_per_prompt"};
        const char *kind = NULL, *model = NULL;
        if (!cJSON_IsObject(sp) || json_check_keys(sp, where, skeys, 8) ||
            json_get_string(sp, where, "name", &s->name) || json_get_string(sp, where, "kind", &kind) ||
            json_get_string(sp, where, "model", &model))
            return err_prefix("%s", origin);
        if (!s->name || !s->name[0] || strspn(s->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(s->name))
            return ERR("%s: %s.name: a short name of [a-z0-9_-] (it names the stage's folder)", origin, where);
        for (int k = 0; k < i; k++)
            if (!strcmp(p->st[k].name, s->name)) return ERR("%s: %s.name: '%s' is used twice", origin, where, s->name);
        int k = -1;
        for (int c = 0; kind && c < 5; c++)
            if (!strcmp(kind, kind_names[c])) k = c;
        if (k < 0) {
            char hint[128];
            did_you_mean(hint, sizeof(hint), kind ? kind : "", kind_names, 5);
            return ERR("%s: %s.kind: '%s' is not a stage kind; %schoices: sft, train, eval, distill, report", origin,
                       where, kind ? kind : "(missing)", hint);
        }
        s->kind = (StageKind)k;
        s->spec = sp;
        s->dir = path_join(p->dir, s->name);
        s->input = -1;
        if (model) {
            for (int e = 0; e < i; e++)
                if (!strcmp(p->st[e].name, model)) s->input = e;
            if (s->input >= 0 && !produces_model(p->st[s->input].kind))
                return ERR("%s: %s.model: stage '%s' makes no model", origin, where, model);
            if (s->input < 0) s->input_path = model; /* a path */
        } else if (s->kind != ST_REPORT) {
            s->input = last_model;
        }
        if (produces_model(s->kind)) last_model = i;
    }
    return 0;
}

/* The files a stage's job reads that must exist before the pipeline starts
 * (its data, and its model unless an earlier stage makes it). */
static int check_files(const Stage *s, const JobConfig *job) {
    const char *what[] = {"data.train_file", "data.eval_file", "model.tokenizer", "model.path"};
    const char *path[] = {job->train_file, job->eval_file, job->model_tokenizer, s->input < 0 ? job->model_path : NULL};
    for (int k = 0; k < 4; k++) {
        if (!path[k] || access(path[k], R_OK) == 0) continue;
        return ERR("stage '%s': %s: cannot read %s: %s", s->name, what[k], path[k], strerror(errno));
    }
    return 0;
}

/* Checks every stage's job config, and the files they read, before
 * anything runs. */
static int check(const Pipeline *p) {
    for (int i = 0; i < p->n; i++) {
        const Stage *s = &p->st[i];
        if (s->kind == ST_REPORT) continue;
        JobConfig job;
        int rc = load_stage_config(p, s, "config", job_kind(s->kind), input_model(p, s), &job);
        if (rc == 0) rc = check_files(s, &job);
        jobconfig_free(&job);
        if (rc == 0 && s->kind == ST_DISTILL) {
            rc = load_stage_config(p, s, "sample", JOB_TRAIN, "(the teacher)", &job);
            jobconfig_free(&job);
        }
        if (rc) return -1;
    }
    return 0;
}

/* ---- running ---- */

static int run_eval(const Stage *s, const JobConfig *job, const Dist *d) {
    Evaluator ev = {0};
    RewardSet *rewards = NULL;
    Model m = {0};
    Tokenizer *tok = NULL;
    EvalSummary sum;
    int rc = job->model_path ? 0 : ERR("stage '%s': no model to evaluate (set its model)", s->name);
    if (rc == 0 && !(rewards = reward_set_new(job->rewards, "rewards"))) rc = -1;
    if (rc == 0) rc = eval_open(&ev, job);
    if (rc == 0) rc = model_open(job->model_path, &m, NULL, &tok);
    if (!dist_all_ok(d, rc == 0)) rc = rc ? rc : ERR("setting up failed on another rank");
    if (rc == 0) rc = eval_run(&ev, &m, tok, rewards, d, &sum);
    if (rc == 0 && d->rank == 0) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", job->model_path);
        eval_summary_to_json(&sum, j);
        cJSON_AddNumberToObject(j, "temperature", ev.temperature);
        char *text = json_print_text(j), *path = path_join(s->dir, "eval.json");
        rc = file_write_atomic(path, text, strlen(text));
        log_info("stage %s: pass@1 %.3f | pass@%zu %.3f | maj@%zu %.3f | format %.2f | think %.2f | length %.1f",
                 s->name, sum.pass_at_1, sum.k, sum.pass_at_k, sum.k, sum.maj_at_k, sum.format_rate, sum.think_rate,
                 sum.mean_length);
        free(text), free(path);
        cJSON_Delete(j);
    }
    if (!dist_all_ok(d, rc == 0)) rc = rc ? rc : ERR("writing eval.json failed on rank 0");
    eval_close(&ev);
    reward_set_free(rewards);
    tokenizer_free(tok);
    if (m.params) model_free(&m);
    return rc;
}

static int run_distill(const Pipeline *p, const Stage *s, const JobConfig *student, const Dist *d) {
    const cJSON *teacher = cJSON_GetObjectItemCaseSensitive(s->spec, "teacher");
    const char *tpath = NULL;
    for (int e = 0; cJSON_IsString(teacher) && e < (int)(s - p->st); e++)
        if (!strcmp(p->st[e].name, teacher->valuestring)) tpath = p->st[e].model_out;
    if (!tpath && cJSON_IsString(teacher)) tpath = teacher->valuestring;
    if (!tpath) return ERR("stage '%s': teacher: name an earlier stage or a model path", s->name);
    long n_prompts = 256, keep = 1;
    if (json_get_int(s->spec, s->name, "prompts", 1, 100000000, &n_prompts) ||
        json_get_int(s->spec, s->name, "keep_per_prompt", 1, 1 << 16, &keep))
        return -1;
    JobConfig sj;
    int rc = load_stage_config(p, s, "sample", JOB_TRAIN, tpath, &sj);
    char *data = path_join(s->dir, "distill.jsonl");
    DistillStats ds;
    if (rc == 0 && is_regular_file(data)) {
        log_info("stage %s: %s exists; training on it", s->name, data);
    } else if (rc == 0) {
        rc = distill_generate(&sj, n_prompts, (int)keep, data, d, &ds);
        if (rc == 0)
            log_info("stage %s: the teacher's %zu samples of %zu prompts gave %zu kept (%zu prompts with one)", s->name,
                     ds.samples, ds.prompts, ds.kept, ds.prompts_kept);
        if (rc == 0 && ds.kept == 0)
            rc = ERR("stage '%s': no teacher sample passed the rewards; nothing to distill", s->name);
    }
    jobconfig_free(&sj);
    if (rc == 0) {
        /* the student learns from the kept samples */
        JobConfig job = *student;
        char *prev = job.train_file;
        job.train_file = data;
        rc = sft_run(&job, d);
        job.train_file = prev;
    }
    free(data);
    return rc;
}

static int run_stage(Pipeline *p, Stage *s, const Dist *d) {
    if (s->kind == ST_REPORT) return d->rank == 0 ? report_write(p->dir, NULL) : 0;
    JobConfig job;
    int rc = load_stage_config(p, s, "config", job_kind(s->kind), input_model(p, s), &job);
    if (rc == 0) {
        switch (s->kind) {
        case ST_SFT: rc = sft_run(&job, d); break;
        case ST_TRAIN: rc = grpo_run(&job, d); break;
        case ST_EVAL: rc = run_eval(s, &job, d); break;
        case ST_DISTILL: rc = run_distill(p, s, &job, d); break;
        case ST_REPORT: break;
        }
    }
    jobconfig_free(&job);
    if (rc == 0 && produces_model(s->kind)) {
        char *out = NULL;
        rc = rundir_find_resume(s->dir, &out);
        if (rc == 0 && !out) rc = ERR("stage '%s' finished without a checkpoint in %s", s->name, s->dir);
        s->model_out = out;
    }
    return rc;
}

/* The evaluation stages side by side. */
static void print_table(const Pipeline *p, const Dist *d) {
    if (d->rank != 0) return;
    int any = 0;
    for (int i = 0; i < p->n; i++) {
        if (p->st[i].kind != ST_EVAL) continue;
        char *path = path_join(p->st[i].dir, "eval.json");
        cJSON *j = is_regular_file(path) ? json_read_file(path) : NULL;
        free(path);
        if (!j) continue;
        if (!any++)
            fprintf(stderr, "\n%-16s %8s %8s %8s %8s %8s %8s\n", "evaluation", "pass@1", "pass@k", "maj@k", "format",
                    "think", "length");
#define NUM(k) (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, k)) ? cJSON_GetObjectItemCaseSensitive(j, k)->valuedouble : 0)
        fprintf(stderr, "%-16s %8.3f %8.3f %8.3f %8.3f %8.3f %8.1f\n", p->st[i].name, NUM("pass@1"), NUM("pass@k"),
                NUM("maj@k"), NUM("format_rate"), NUM("think_rate"), NUM("mean_length"));
#undef NUM
        cJSON_Delete(j);
    }
    char *report = path_join(p->dir, "report.html");
    if (is_regular_file(report)) fprintf(stderr, "\nreport: %s\n", report);
    free(report);
}

static void pipeline_free(Pipeline *p) {
    for (int i = 0; i < p->n; i++) {
        free(p->st[i].dir);
        free(p->st[i].model_out);
    }
    free(p->st);
    free(p->dir);
}

int pipeline_run(const cJSON *root, const char *origin, const Dist *d) {
    Pipeline p;
    int rc = parse(&p, root, origin);
    if (rc == 0) rc = check(&p);
    if (!dist_all_ok(d, rc == 0)) rc = rc ? rc : ERR("the pipeline check failed on another rank");
    if (rc == 0) {
        read_state(&p);
        rc = dist_all_ok(d, write_state(&p, d) == 0) ? 0 : ERR("cannot write %s/pipeline.json", p.dir);
    }
    for (int i = 0; rc == 0 && i < p.n; i++) {
        Stage *s = &p.st[i];
        if (s->done == 1) {
            log_info("pipeline %s: stage %s (%s) is done%s%s", p.name, s->name, kind_names[s->kind],
                     s->model_out ? ": " : "", s->model_out ? s->model_out : "");
            continue;
        }
        log_info("pipeline %s: stage %d/%d: %s (%s)", p.name, i + 1, p.n, s->name, kind_names[s->kind]);
        s->done = 2;
        rc = dist_all_ok(d, write_state(&p, d) == 0) ? 0 : ERR("cannot write %s/pipeline.json", p.dir);
        if (rc == 0) rc = run_stage(&p, s, d);
        s->done = rc == 0 ? 1 : 3;
        char saved[1024];
        snprintf(saved, sizeof(saved), "%s", err_msg());
        int wrc = dist_all_ok(d, write_state(&p, d) == 0) ? 0 : ERR("cannot write %s/pipeline.json", p.dir);
        if (rc) ERR("%s", saved);
        else rc = wrc;
        if (rc) err_prefix("pipeline %s, stage %s", p.name, s->name);
    }
    if (rc == 0) print_table(&p, d);
    pipeline_free(&p);
    return rc;
}
