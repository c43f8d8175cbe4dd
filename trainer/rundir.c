/*
 * rundir.c: run directory files and resume discovery (rundir.h).
 */
#define _GNU_SOURCE
#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/json.h"
#include "model/io/checkpoint.h"

static int keep_metrics_until(const char *path, long step) {
    size_t len = 0;
    FILE *probe = fopen(path, "rb");
    if (!probe) return 0;
    fclose(probe);
    char *text = file_read_all(path, &len);
    if (!text) return -1;
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p + 1) : strlen(p);
        cJSON *j = cJSON_ParseWithLength(p, ll);
        const cJSON *s = j ? cJSON_GetObjectItemCaseSensitive(j, "step") : NULL;
        if (s && cJSON_IsNumber(s) && s->valuedouble <= (double)step) {
            memcpy(out + o, p, ll);
            o += ll;
        }
        cJSON_Delete(j);
        p += ll;
    }
    int rc = file_write_atomic(path, out, o);
    free(out);
    free(text);
    return rc;
}

/* Removes "<name>.tmp.<pid>" files in dir left by writes that were killed
 * (this process has written none yet). */
static void remove_stale_tmp(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *t = strstr(e->d_name, ".tmp.");
        if (!t || t == e->d_name || !t[5] || strspn(t + 5, "0123456789") != strlen(t + 5)) continue;
        char *p = path_join(dir, e->d_name);
        if (unlink(p) == 0) log_warn("removed %s, left by an interrupted write", p);
        free(p);
    }
    closedir(d);
}

/* Opens dir/name for appending, keeping only lines of steps <= resume_step
 * (resume_step >= 0), or empty. */
static FILE *open_log(const char *dir, const char *name, long resume_step) {
    char *path = path_join(dir, name);
    FILE *f = NULL;
    if (resume_step < 0 || keep_metrics_until(path, resume_step) == 0) {
        f = fopen(path, resume_step >= 0 ? "ab" : "wb");
        if (!f) ERR("cannot open %s: %s", path, strerror(errno));
    }
    free(path);
    return f;
}

int rundir_open(RunDir *r, const char *dir, const cJSON *config, int writer, long resume_step) {
    memset(r, 0, sizeof(*r));
    r->dir = xstrdup(dir);
    r->ckpt_dir = path_join(dir, "checkpoints");
    r->writer = writer;
    if (!writer) return 0;
    if (mkdir_p(r->ckpt_dir)) return -1;
    remove_stale_tmp(dir);
    remove_stale_tmp(r->ckpt_dir);
    char *cfg_path = path_join(dir, "config.json");
    char *text = json_print_text(config);
    int rc = file_write_atomic(cfg_path, text, strlen(text));
    free(text);
    free(cfg_path);
    if (rc) return -1;
    r->metrics = open_log(dir, "metrics.jsonl", resume_step);
    if (!r->metrics) return -1;
    /* completions.jsonl: trimmed (or removed) now, opened at its first line,
     * so an SFT run has none */
    char *cpath = path_join(dir, "completions.jsonl");
    rc = resume_step >= 0 ? keep_metrics_until(cpath, resume_step) : (unlink(cpath) == 0 || errno == ENOENT ? 0 : -1);
    if (rc && resume_step < 0) ERR("cannot remove the old %s: %s", cpath, strerror(errno));
    free(cpath);
    return rc;
}

void rundir_close(RunDir *r) {
    if (r->metrics) fclose(r->metrics);
    if (r->completions) fclose(r->completions);
    free(r->dir);
    free(r->ckpt_dir);
    memset(r, 0, sizeof(*r));
}

static int log_line(RunDir *r, FILE *f, const char *name, const cJSON *line) {
    if (!r->writer || !f) return 0;
    char *s = cJSON_PrintUnformatted(line);
    int bad = fprintf(f, "%s\n", s) < 0 || fflush(f) != 0;
    free(s);
    if (bad) return ERR("%s/%s: write failed (disk full?)", r->dir, name);
    return 0;
}

int rundir_log(RunDir *r, const cJSON *line) { return log_line(r, r->metrics, "metrics.jsonl", line); }

int rundir_log_completion(RunDir *r, const cJSON *line) {
    if (r->writer && !r->completions) {
        char *path = path_join(r->dir, "completions.jsonl");
        r->completions = fopen(path, "ab");
        int rc = r->completions ? 0 : ERR("cannot open %s: %s", path, strerror(errno));
        free(path);
        if (rc) return -1;
    }
    return log_line(r, r->completions, "completions.jsonl", line);
}

/* ckpt_dir/step-N.h5 (caller frees). */
static char *step_path(const char *ckpt_dir, long step) {
    size_t n = strlen(ckpt_dir) + 40;
    char *s = xmalloc(n);
    snprintf(s, n, "%s/step-%ld.h5", ckpt_dir, step);
    return s;
}

char *rundir_checkpoint_path(const RunDir *r, long step) { return step_path(r->ckpt_dir, step); }

/* Step numbers of step-N.h5 files in dir, sorted descending. */
static size_t list_steps(const char *dir, long **out) {
    DIR *d = opendir(dir);
    size_t n = 0, cap = 16;
    long *v = xmalloc(cap * sizeof(long));
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            long s;
            char tail[8];
            if (sscanf(e->d_name, "step-%ld.h%7s", &s, tail) == 2 && !strcmp(tail, "5") && s >= 0) {
                if (n == cap) v = xrealloc(v, (cap *= 2) * sizeof(long));
                v[n++] = s;
            }
        }
        closedir(d);
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j] > v[j - 1]; j--) {
            long t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *out = v;
    return n;
}

int rundir_mark_latest(RunDir *r, long step, long keep) {
    if (!r->writer) return 0;
    char name[64];
    int len = snprintf(name, sizeof(name), "step-%ld.h5\n", step);
    char *latest = path_join(r->ckpt_dir, "latest");
    int rc = file_write_atomic(latest, name, (size_t)len);
    free(latest);
    if (rc || keep <= 0) return rc;
    long *steps;
    size_t n = list_steps(r->ckpt_dir, &steps);
    for (size_t i = (size_t)keep; i < n; i++) {
        if (steps[i] == step) continue;
        char *p = rundir_checkpoint_path(r, steps[i]);
        unlink(p);
        free(p);
    }
    free(steps);
    return 0;
}

int rundir_find_resume(const char *dir, char **path) {
    *path = NULL;
    char *ckdir = path_join(dir, "checkpoints");
    char *latest = path_join(ckdir, "latest");
    char *text = NULL;
    FILE *f = fopen(latest, "rb");
    if (f) {
        fclose(f);
        text = file_read_all(latest, NULL);
    }
    free(latest);
    if (text) {
        text[strcspn(text, "\r\n")] = '\0';
        char *p = path_join(ckdir, text);
        free(text);
        if (checkpoint_verify(p) == 0) {
            *path = p;
            free(ckdir);
            return 0;
        }
        fprintf(stderr, "grpo: warning: skipping damaged checkpoint: %s\n", err_msg());
        free(p);
    }
    long *steps;
    size_t n = list_steps(ckdir, &steps);
    for (size_t i = 0; i < n && !*path; i++) {
        char *p = step_path(ckdir, steps[i]);
        if (checkpoint_verify(p) == 0) {
            *path = p;
        } else {
            fprintf(stderr, "grpo: warning: skipping damaged checkpoint: %s\n", err_msg());
            free(p);
        }
    }
    free(steps);
    free(ckdir);
    return 0;
}
