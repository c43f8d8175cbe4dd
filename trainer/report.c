/*
 * report.c: the run and pipeline report and the metrics CSV (report.h):
 * reads the run files, decides which plots, summary figures, completions
 * and tables to show, and lays out the page. Plots are drawn by
 * report_plot.c.
 * Not for: drawing (report_plot.c), the file formats' writers (trainer).
 */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "common/config.h"
#include "common/json.h"
#include "report_html.h"

/* ---- metrics.jsonl ---- */

typedef struct {
    double x, y;
} Point;

typedef struct {
    char *key;
    Point *p;
    size_t n, cap;
    int used; /* drawn by a named plot */
} Series;

typedef struct {
    cJSON **lines; /* every well-formed line, in order */
    size_t n_lines, n_bad;
    char **keys;   /* every key seen, first-seen order */
    size_t n_keys;
    Series *s;     /* the numeric keys of lines with a numeric "step" */
    size_t n_s;
    int present;   /* the file exists */
} Metrics;

static Series *series_get(Metrics *m, const char *key, int create) {
    for (size_t i = 0; i < m->n_s; i++)
        if (!strcmp(m->s[i].key, key)) return &m->s[i];
    if (!create) return NULL;
    m->s = xrealloc(m->s, (m->n_s + 1) * sizeof(Series));
    Series *s = &m->s[m->n_s++];
    memset(s, 0, sizeof(*s));
    s->key = xstrdup(key);
    return s;
}

static void note_key(Metrics *m, const char *key) {
    for (size_t i = 0; i < m->n_keys; i++)
        if (!strcmp(m->keys[i], key)) return;
    m->keys = xrealloc(m->keys, (m->n_keys + 1) * sizeof(char *));
    m->keys[m->n_keys++] = xstrdup(key);
}

static int cmp_point(const void *a, const void *b) {
    double x = ((const Point *)a)->x, y = ((const Point *)b)->x;
    return (x > y) - (x < y);
}

/* Calls fn on each non-blank line of path (NUL-terminated, newline cut).
 * Returns 1 when the file does not exist, 0 when read, -1 on a read error. */
static int for_each_line(const char *path, void (*fn)(void *ctx, char *line, size_t len), void *ctx) {
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 1;
        return ERR("cannot open %s: %s", path, strerror(errno));
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&buf, &cap, f)) >= 0) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = '\0';
        size_t i = 0;
        while (i < (size_t)len && (buf[i] == ' ' || buf[i] == '\t')) i++;
        if (i < (size_t)len) fn(ctx, buf, (size_t)len);
    }
    int bad = ferror(f);
    free(buf);
    fclose(f);
    return bad ? ERR("error reading %s", path) : 0;
}

static void metrics_line(void *ctx, char *line, size_t len) {
    Metrics *m = ctx;
    cJSON *o = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        m->n_bad++;
        return;
    }
    m->lines = xrealloc(m->lines, (m->n_lines + 1) * sizeof(cJSON *));
    m->lines[m->n_lines++] = o;
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(o, "step");
    for (const cJSON *it = o->child; it; it = it->next) {
        note_key(m, it->string);
        if (!cJSON_IsNumber(step) || !cJSON_IsNumber(it) || !isfinite(it->valuedouble)) continue;
        Series *s = series_get(m, it->string, 1);
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->p = xrealloc(s->p, s->cap * sizeof(Point));
        }
        s->p[s->n++] = (Point){step->valuedouble, it->valuedouble};
    }
}

static int metrics_load(Metrics *m, const char *dir) {
    memset(m, 0, sizeof(*m));
    char *path = path_join(dir, "metrics.jsonl");
    int rc = for_each_line(path, metrics_line, m);
    free(path);
    if (rc < 0) return -1;
    m->present = rc == 0;
    for (size_t i = 0; i < m->n_s; i++) qsort(m->s[i].p, m->s[i].n, sizeof(Point), cmp_point);
    return 0;
}

static void metrics_free(Metrics *m) {
    for (size_t i = 0; i < m->n_lines; i++) cJSON_Delete(m->lines[i]);
    for (size_t i = 0; i < m->n_keys; i++) free(m->keys[i]);
    for (size_t i = 0; i < m->n_s; i++) {
        free(m->s[i].key);
        free(m->s[i].p);
    }
    free(m->lines);
    free(m->keys);
    free(m->s);
    memset(m, 0, sizeof(*m));
}

/* ---- the named plots ---- */

/* A series of a plot: an exact key, or a pattern with one '*' (the part it
 * matches becomes the label when label is NULL). band names the key (or
 * pattern, '*' filled in the same) of a spread drawn as +- around it. */
typedef struct {
    const char *key, *label, *band;
    int stack;
} SeriesSpec;

typedef struct {
    const char *title, *unit;
    int unit_range;
    SeriesSpec s[8];
} PlotSpec;

static const PlotSpec plot_specs[] = {
    {"Reward", "reward", 0, {{"reward", "total", "reward_std", 0}, {"rewards/*/mean", NULL, NULL, 0}}},
    {"Reward spread within groups", "standard deviation", 0,
     {{"reward_std", "total", NULL, 0}, {"rewards/*/std", NULL, NULL, 0}}},
    {"Accuracy and pass@1", "share", 1,
     {{"accuracy", "train accuracy", NULL, 0}, {"eval/pass@1", "eval pass@1", NULL, 0},
      {"eval/pass@k", "eval pass@k", NULL, 0}, {"eval/maj@k", "eval maj@k", NULL, 0}}},
    {"Completion length", "tokens", 0,
     {{"completions/mean_length", "mean", NULL, 0}, {"completions/min_length", "min", NULL, 0},
      {"completions/max_length", "max", NULL, 0}, {"eval/mean_length", "eval mean", NULL, 0}}},
    {"Think, format and truncation rates", "share", 1,
     {{"completions/think_rate", "think rate", NULL, 0}, {"eval/think_rate", "eval think rate", NULL, 0},
      {"eval/format_rate", "eval format rate", NULL, 0}, {"completions/clipped_ratio", "truncated", NULL, 0}}},
    {"Loss", "loss", 0, {{"loss", "train", NULL, 0}, {"eval_loss", "eval", NULL, 0}}},
    {"KL to the reference", "KL", 0, {{"kl", "kl", NULL, 0}}},
    {"Entropy", "nats per token", 0, {{"entropy", "entropy", NULL, 0}}},
    {"Clip fractions", "share of tokens", 0,
     {{"clip_ratio/low_mean", "low", NULL, 0}, {"clip_ratio/high_mean", "high", NULL, 0},
      {"clip_ratio/region_mean", "region", NULL, 0}}},
    {"Gradient norm", "norm", 0, {{"grad_norm", "grad norm", NULL, 0}}},
    {"Learning rate", NULL, 0, {{"learning_rate", "learning rate", NULL, 0}}},
    {"Time per step", "seconds", 0,
     {{"time/rollout", "rollout", NULL, 1}, {"time/reward", "reward", NULL, 1}, {"time/reference", "reference", NULL, 1},
      {"time/train", "train", NULL, 1}, {"time/comm", "comm", NULL, 1}, {"time/checkpoint", "checkpoint", NULL, 1},
      {"time/step", "step total", NULL, 0}}},
    {"Groups with zero reward spread", "share of groups", 1, {{"frac_reward_zero_std", "zero-std groups", NULL, 0}}},
    {"Rollout vs trainer log-prob gap", "nats", 0,
     {{"logprob_gap/mean", "mean", NULL, 0}, {"logprob_gap/max", "max", NULL, 0}}},
    {"Throughput", "tokens per second", 0, {{"tokens_per_second", "tokens/s", NULL, 0}}},
};

/* Keys never plotted on their own. */
static const char *const not_plotted[] = {"step", "eval/k"};

/* If key matches pattern (one '*' standing for a non-empty part without
 * '/'), copies the part into star (cap bytes) and returns 1. */
static int match(const char *pattern, const char *key, char *star, size_t cap) {
    const char *ast = strchr(pattern, '*');
    if (!ast) {
        star[0] = '\0';
        return !strcmp(pattern, key);
    }
    size_t pre = (size_t)(ast - pattern), post = strlen(ast + 1), n = strlen(key);
    if (n <= pre + post || strncmp(key, pattern, pre) || strcmp(key + n - post, ast + 1)) return 0;
    size_t len = n - pre - post;
    if (memchr(key + pre, '/', len) || len >= cap) return 0;
    memcpy(star, key + pre, len);
    star[len] = '\0';
    return 1;
}

/* Arrays a plot draws; owned by the Drawn being built. */
typedef struct {
    PlotSeries ps[24];
    char labels[24][96];
    double *mem[24 * 4];
    size_t n, n_mem;
} Drawn;

static double *drawn_alloc(Drawn *d, size_t n) {
    double *p = xmalloc((n ? n : 1) * sizeof(double));
    d->mem[d->n_mem++] = p;
    return p;
}

static void drawn_free(Drawn *d) {
    for (size_t i = 0; i < d->n_mem; i++) free(d->mem[i]);
    d->n_mem = d->n = 0;
}

/* Adds series s as a line (with a band from band when its steps line up). */
static void add_line(Drawn *d, Series *s, const char *label, Series *band) {
    if (d->n == 24 || d->n_mem + 4 > 24 * 4) return;
    PlotSeries *ps = &d->ps[d->n];
    memset(ps, 0, sizeof(*ps));
    snprintf(d->labels[d->n], sizeof d->labels[0], "%s", label);
    ps->label = d->labels[d->n];
    double *x = drawn_alloc(d, s->n), *y = drawn_alloc(d, s->n);
    for (size_t i = 0; i < s->n; i++) x[i] = s->p[i].x, y[i] = s->p[i].y;
    ps->x = x;
    ps->y = y;
    ps->n = s->n;
    if (band && band->n == s->n) {
        int aligned = 1;
        for (size_t i = 0; i < s->n && aligned; i++) aligned = band->p[i].x == s->p[i].x;
        if (aligned) {
            double *lo = drawn_alloc(d, s->n), *hi = drawn_alloc(d, s->n);
            for (size_t i = 0; i < s->n; i++) lo[i] = y[i] - band->p[i].y, hi[i] = y[i] + band->p[i].y;
            ps->lo = lo;
            ps->hi = hi;
        }
        band->used = 1;
    }
    s->used = 1;
    d->n++;
}

/* Adds the stacked series (their steps united; a missing value counts 0). */
static void add_stack(Drawn *d, Series **st, const char **labels, size_t n_st) {
    size_t total = 0;
    for (size_t k = 0; k < n_st; k++) total += st[k]->n;
    double *xs = drawn_alloc(d, total);
    size_t nx = 0;
    for (size_t k = 0; k < n_st; k++)
        for (size_t i = 0; i < st[k]->n; i++) xs[nx++] = st[k]->p[i].x;
    Point *tmp = xmalloc((nx ? nx : 1) * sizeof(Point));
    for (size_t i = 0; i < nx; i++) tmp[i] = (Point){xs[i], 0};
    qsort(tmp, nx, sizeof(Point), cmp_point);
    size_t u = 0;
    for (size_t i = 0; i < nx; i++)
        if (u == 0 || tmp[i].x != xs[u - 1]) xs[u++] = tmp[i].x;
    free(tmp);
    for (size_t k = 0; k < n_st && d->n < 24; k++) {
        double *y = drawn_alloc(d, u);
        size_t j = 0;
        for (size_t i = 0; i < u; i++) {
            while (j < st[k]->n && st[k]->p[j].x < xs[i]) j++;
            y[i] = j < st[k]->n && st[k]->p[j].x == xs[i] ? st[k]->p[j].y : 0;
        }
        PlotSeries *ps = &d->ps[d->n];
        snprintf(d->labels[d->n], sizeof d->labels[0], "%s", labels[k]);
        *ps = (PlotSeries){.label = d->labels[d->n], .x = xs, .y = y, .n = u, .stack = 1};
        st[k]->used = 1;
        d->n++;
    }
}

/* Draws the named plots whose keys exist; returns how many. */
static int named_plots(StrBuf *b, Metrics *m) {
    int drawn = 0;
    for (size_t p = 0; p < sizeof plot_specs / sizeof plot_specs[0]; p++) {
        const PlotSpec *spec = &plot_specs[p];
        Drawn d = {0};
        Series *stack[8];
        const char *stack_labels[8];
        size_t n_stack = 0;
        for (size_t k = 0; k < 8 && spec->s[k].key; k++) {
            const SeriesSpec *ss = &spec->s[k];
            for (size_t i = 0; i < m->n_s; i++) {
                char star[64];
                if (!match(ss->key, m->s[i].key, star, sizeof star)) continue;
                if (ss->stack) {
                    stack_labels[n_stack] = ss->label;
                    stack[n_stack++] = &m->s[i];
                    continue;
                }
                Series *band = NULL;
                if (ss->band) {
                    char bkey[160];
                    const char *ast = strchr(ss->band, '*');
                    if (ast) snprintf(bkey, sizeof bkey, "%.*s%s%s", (int)(ast - ss->band), ss->band, star, ast + 1);
                    else snprintf(bkey, sizeof bkey, "%s", ss->band);
                    band = series_get(m, bkey, 0);
                }
                add_line(&d, &m->s[i], ss->label ? ss->label : star, band);
            }
        }
        if (n_stack) {
            add_stack(&d, stack, stack_labels, n_stack);
            /* the stack first so that the total line is drawn over it */
            PlotSeries tmp[24];
            size_t n_lines = d.n - n_stack, w = 0;
            for (size_t i = n_lines; i < d.n; i++) tmp[w++] = d.ps[i];
            for (size_t i = 0; i < n_lines; i++) tmp[w++] = d.ps[i];
            memcpy(d.ps, tmp, d.n * sizeof(PlotSeries));
        }
        if (d.n) {
            Plot plot = {spec->title, spec->unit, spec->unit_range, d.ps, d.n};
            plot_svg(b, &plot);
            drawn++;
        }
        drawn_free(&d);
    }
    return drawn;
}

/* Every numeric key no named plot drew, one small plot each. */
static void other_plots(StrBuf *b, Metrics *m) {
    int any = 0;
    for (size_t i = 0; i < m->n_s; i++) {
        int skip = m->s[i].used;
        for (size_t k = 0; k < sizeof not_plotted / sizeof not_plotted[0]; k++) skip |= !strcmp(m->s[i].key, not_plotted[k]);
        if (skip || m->s[i].n == 0) continue;
        if (!any) strbuf_cat(b, "<h3>Other metrics</h3>\n<div class=\"grid\">\n");
        any = 1;
        Drawn d = {0};
        add_line(&d, &m->s[i], m->s[i].key, NULL);
        Plot plot = {m->s[i].key, NULL, 0, d.ps, d.n};
        plot_svg(b, &plot);
        drawn_free(&d);
    }
    if (any) strbuf_cat(b, "</div>\n");
}

/* ---- the summary figures ---- */

typedef struct {
    const char *label;
    const char *keys[2]; /* the first present is shown */
    int better;          /* +1 higher is better, -1 lower, 0 neither */
    int percent;
    int exact_ends;      /* first and last point (eval lines) rather than averages of the ends */
} CardSpec;

static const CardSpec card_specs[] = {
    {"Reward", {"reward", NULL}, 1, 0, 0},
    {"Train accuracy", {"accuracy", NULL}, 1, 1, 0},
    {"Eval pass@1", {"eval/pass@1", NULL}, 1, 1, 1},
    {"Eval maj@k", {"eval/maj@k", NULL}, 1, 1, 1},
    {"Think rate", {"eval/think_rate", "completions/think_rate"}, 0, 1, 0},
    {"Mean length", {"eval/mean_length", "completions/mean_length"}, 0, 0, 0},
    {"Loss", {"loss", NULL}, -1, 0, 0},
    {"Eval loss", {"eval_loss", NULL}, -1, 0, 1},
};

/* Mean of the first (or last) tenth of a series, at least one point; the
 * first and last point themselves when exact. */
static double series_end(const Series *s, int last, int exact) {
    size_t w = exact ? 1 : s->n / 10 ? s->n / 10 : 1;
    double sum = 0;
    for (size_t i = 0; i < w; i++) sum += s->p[last ? s->n - 1 - i : i].y;
    return sum / (double)w;
}

static void fmt_value(char *buf, size_t cap, double v, int percent) {
    if (percent) snprintf(buf, cap, "%.1f%%", 100 * v);
    else html_number(buf, cap, v);
}

static void fmt_duration(char *buf, size_t cap, double s) {
    if (s < 60) snprintf(buf, cap, "%.1f s", s);
    else if (s < 3600) snprintf(buf, cap, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, cap, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static double series_max_x(const Metrics *m) {
    double x = -INFINITY;
    for (size_t i = 0; i < m->n_s; i++)
        if (m->s[i].n) x = fmax(x, m->s[i].p[m->s[i].n - 1].x);
    return x;
}

static void card(StrBuf *b, const char *label, const char *value, const char *delta, const char *cls) {
    strbuf_cat(b, "<div class=\"card\"><div class=\"k\">");
    html_escape(b, label);
    strbuf_cat(b, "</div><div class=\"v\">");
    html_escape(b, value);
    strbuf_cat(b, "</div>");
    if (delta) html_printf(b, "<div class=\"d %s\">%s</div>", cls, delta);
    strbuf_cat(b, "</div>\n");
}

static void summary_cards(StrBuf *b, Metrics *m) {
    char v[96], d[64], a[32], z[32];
    strbuf_cat(b, "<div class=\"cards\">\n");
    double last = series_max_x(m);
    if (isfinite(last)) {
        snprintf(v, sizeof v, "%.0f", last);
        card(b, "Steps", v, NULL, "");
    }
    Series *el = series_get(m, "elapsed_seconds", 0);
    if (el && el->n) {
        fmt_duration(v, sizeof v, el->p[el->n - 1].y);
        card(b, "Wall time", v, NULL, "");
    }
    for (size_t c = 0; c < sizeof card_specs / sizeof card_specs[0]; c++) {
        const CardSpec *cs = &card_specs[c];
        Series *s = NULL;
        for (int k = 0; k < 2 && !s && cs->keys[k]; k++) s = series_get(m, cs->keys[k], 0);
        if (!s || !s->n) continue;
        double first = series_end(s, 0, cs->exact_ends), end = series_end(s, 1, cs->exact_ends);
        fmt_value(a, sizeof a, first, cs->percent);
        fmt_value(z, sizeof z, end, cs->percent);
        if (s->n == 1) {
            card(b, cs->label, z, NULL, "");
            continue;
        }
        snprintf(v, sizeof v, "%s \xe2\x86\x92 %s", a, z);
        double delta = end - first;
        if (cs->percent) snprintf(a, sizeof a, "%.1f points", 100 * fabs(delta));
        else html_number(a, sizeof a, fabs(delta));
        snprintf(d, sizeof d, "%s%s", delta > 0 ? "+" : delta < 0 ? "\xe2\x88\x92" : "\xc2\xb1", a);
        const char *cls = cs->better * delta > 0 ? "up" : cs->better * delta < 0 ? "down" : "flat";
        card(b, cs->label, v, d, cls);
    }
    strbuf_cat(b, "</div>\n");
}

/* ---- completions.jsonl ---- */

enum { SHOWN_PER_STEP = 8 };

typedef struct {
    long *steps; /* distinct steps, in file order */
    size_t n_steps;
    size_t n_bad;
    long want[3];
    size_t n_want;
    cJSON **shown[3];    /* up to SHOWN_PER_STEP lines of each wanted step */
    size_t n_shown[3], n_total[3];
} Completions;

/* The "step" of a line: read from its start when it opens with {"step": N
 * (as the trainer writes it), else from the parsed line. 0 if none. */
static int line_step(const char *line, size_t len, long *step) {
    static const char head[] = "{\"step\":";
    if (len > sizeof head && !strncmp(line, head, sizeof head - 1)) {
        char *end;
        double v = strtod(line + sizeof head - 1, &end);
        if (end != line + sizeof head - 1 && (*end == ',' || *end == '}' || *end == ' ')) {
            *step = (long)v;
            return 1;
        }
    }
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "step");
    int ok = cJSON_IsNumber(s);
    if (ok) *step = (long)s->valuedouble;
    cJSON_Delete(o);
    return ok;
}

static void completion_steps(void *ctx, char *line, size_t len) {
    Completions *c = ctx;
    long step;
    if (!line_step(line, len, &step)) {
        c->n_bad++;
        return;
    }
    for (size_t i = c->n_steps; i-- > 0 && i + 8 >= c->n_steps;)
        if (c->steps[i] == step) return; /* steps come in runs; a late repeat is rare */
    c->steps = xrealloc(c->steps, (c->n_steps + 1) * sizeof(long));
    c->steps[c->n_steps++] = step;
}

static void completion_keep(void *ctx, char *line, size_t len) {
    Completions *c = ctx;
    long step;
    if (!line_step(line, len, &step)) return;
    for (size_t w = 0; w < c->n_want; w++) {
        if (c->want[w] != step) continue;
        c->n_total[w]++;
        if (c->n_shown[w] == SHOWN_PER_STEP) return;
        cJSON *o = cJSON_ParseWithLength(line, len);
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            return;
        }
        if (!c->shown[w]) c->shown[w] = xcalloc(SHOWN_PER_STEP, sizeof(cJSON *));
        c->shown[w][c->n_shown[w]++] = o;
        return;
    }
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int completions_load(Completions *c, const char *dir) {
    memset(c, 0, sizeof(*c));
    char *path = path_join(dir, "completions.jsonl");
    int rc = for_each_line(path, completion_steps, c);
    if (rc == 0 && c->n_steps) {
        qsort(c->steps, c->n_steps, sizeof(long), cmp_long);
        size_t u = 0;
        for (size_t i = 0; i < c->n_steps; i++)
            if (u == 0 || c->steps[i] != c->steps[u - 1]) c->steps[u++] = c->steps[i];
        c->n_steps = u;
        long pick[3] = {c->steps[0], c->steps[u / 2], c->steps[u - 1]};
        for (int i = 0; i < 3; i++)
            if (c->n_want == 0 || c->want[c->n_want - 1] != pick[i]) c->want[c->n_want++] = pick[i];
        rc = for_each_line(path, completion_keep, c);
    }
    free(path);
    return rc < 0 ? -1 : rc;
}

static void completions_free(Completions *c) {
    for (size_t w = 0; w < 3; w++) {
        for (size_t i = 0; i < c->n_shown[w]; i++) cJSON_Delete(c->shown[w][i]);
        free(c->shown[w]);
    }
    free(c->steps);
}

static void cell_number(StrBuf *b, const cJSON *v) {
    char n[32];
    if (cJSON_IsNumber(v)) html_number(n, sizeof n, v->valuedouble);
    else snprintf(n, sizeof n, "\xe2\x80\x93"); /* null or absent: an en dash */
    html_printf(b, "<td class=\"num\">%s</td>", n);
}

static const char *get_str(const cJSON *o, const char *key) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static void completion_rows(StrBuf *b, cJSON **lines, size_t n) {
    strbuf_cat(b, "<table class=\"completions\"><thead><tr><th>group&#183;sample</th><th>reward</th><th>per "
                  "function</th><th>advantage</th><th>tokens</th><th>finish</th><th>completion</th></tr></thead>"
                  "<tbody>\n");
    double last_group = NAN;
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = lines[i];
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "group"), *j = cJSON_GetObjectItemCaseSensitive(o, "index");
        double gv = cJSON_IsNumber(g) ? g->valuedouble : -1;
        const char *prompt = get_str(o, "prompt"), *answer = get_str(o, "answer");
        if (gv != last_group && prompt) {
            html_printf(b, "<tr class=\"prompt\"><td colspan=\"7\"><details><summary>Prompt of group %.0f", gv);
            if (answer) {
                strbuf_cat(b, " &#183; answer: <b>");
                html_escape(b, answer);
                strbuf_cat(b, "</b>");
            }
            strbuf_cat(b, "</summary><pre>");
            html_escape(b, prompt);
            strbuf_cat(b, "</pre></details></td></tr>\n");
        }
        last_group = gv;
        html_printf(b, "<tr><td>%.0f&#183;%.0f</td>", gv, cJSON_IsNumber(j) ? j->valuedouble : -1);
        cell_number(b, cJSON_GetObjectItemCaseSensitive(o, "reward"));
        strbuf_cat(b, "<td class=\"per\">");
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "rewards");
        for (const cJSON *it = cJSON_IsObject(rs) ? rs->child : NULL; it; it = it->next) {
            char v[32];
            if (cJSON_IsNumber(it)) html_number(v, sizeof v, it->valuedouble);
            else snprintf(v, sizeof v, "\xe2\x80\x93");
            html_escape(b, it->string);
            html_printf(b, ": %s<br>", v);
        }
        strbuf_cat(b, "</td>");
        cell_number(b, cJSON_GetObjectItemCaseSensitive(o, "advantage"));
        cell_number(b, cJSON_GetObjectItemCaseSensitive(o, "n_tokens"));
        const char *fin = get_str(o, "finish_reason");
        strbuf_cat(b, "<td>");
        html_escape(b, fin ? fin : "");
        strbuf_cat(b, "</td><td><pre>");
        const char *text = get_str(o, "completion");
        html_escape(b, text ? text : "");
        strbuf_cat(b, "</pre></td></tr>\n");
    }
    strbuf_cat(b, "</tbody></table>\n");
}

static void completions_section(StrBuf *b, const Completions *c) {
    strbuf_cat(b, "<section id=\"completions\"><h2>Sampled completions</h2>\n");
    const char *which[] = {"first", "middle", "last"};
    for (size_t w = 0; w < c->n_want; w++) {
        const char *name = c->n_want == 3 ? which[w] : c->n_want == 2 ? which[w * 2] : "only";
        html_printf(b, "<h3>Step %ld <span class=\"muted\">(%s logged step; %zu of %zu completions shown)</span></h3>\n",
                    c->want[w], name, c->n_shown[w], c->n_total[w]);
        completion_rows(b, c->shown[w], c->n_shown[w]);
    }
    if (c->n_bad) html_printf(b, "<p class=\"muted\">%zu malformed line%s of completions.jsonl skipped.</p>\n", c->n_bad,
                                 c->n_bad == 1 ? "" : "s");
    strbuf_cat(b, "</section>\n");
}

/* ---- the page ---- */

static const char CSS[] =
    ":root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--card:#fff}"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;"
    "color:var(--fg);background:var(--bg)}"
    "main{max-width:1240px;margin:0 auto;padding:24px 28px 48px}"
    "h1{margin:0 0 4px;font-size:26px}h2{margin:34px 0 12px;font-size:19px;border-bottom:1px solid var(--line);"
    "padding-bottom:4px}h3{font-size:15px;margin:20px 0 8px}"
    ".sub,.muted{color:var(--muted);font-weight:normal}"
    "nav{margin:14px 0}nav a{margin-right:16px;color:#2563eb;text-decoration:none}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px;margin:18px 0}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}"
    ".card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}"
    ".card .v{font-size:17px;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".d{font-size:13px}.up{color:#15803d}.down{color:#b91c1c}.flat{color:var(--muted)}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:16px}"
    "figure.plot{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 8px 2px}"
    "figcaption{font-weight:600;margin:0 0 2px 8px}"
    "svg{width:100%;height:auto;display:block}svg text{font-family:inherit}"
    ".tick{font-size:11px;fill:#4b5563}.axis{font-size:12px;fill:#374151}.legend{font-size:12px;fill:#1f2937}"
    ".gl{stroke:#eceef2;stroke-width:1}.frame{fill:none;stroke:#cbd5e1}"
    ".line{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}"
    ".raw{fill:none;stroke-width:1;opacity:.3}"
    "table{border-collapse:collapse;background:var(--card);width:100%;margin:6px 0}"
    "th,td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}"
    "th{background:#f1f5f9;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}td.per{white-space:nowrap;font-size:12.5px}"
    "tr.prompt td{background:#f8fafc}summary{cursor:pointer;color:#374151}"
    "pre{margin:0;white-space:pre-wrap;word-break:break-word;"
    "font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;tab-size:2}"
    "pre.config{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}"
    ".done{background:#dcfce7;color:#166534}.running{background:#dbeafe;color:#1e40af}"
    ".pending{background:#f3f4f6;color:#4b5563}.failed{background:#fee2e2;color:#991b1b}"
    "footer{margin-top:40px;color:var(--muted);font-size:12px}";

static void page_open(StrBuf *b, const char *title, const char *subtitle) {
    strbuf_cat(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    html_escape(b, title);
    strbuf_cat(b, " \xc2\xb7 grpo report</title>\n<style>");
    strbuf_cat(b, CSS);
    strbuf_cat(b, "</style>\n</head>\n<body>\n<main>\n<header><h1>");
    html_escape(b, title);
    strbuf_cat(b, "</h1><p class=\"sub\">");
    html_escape(b, subtitle);
    strbuf_cat(b, "</p></header>\n");
}

static void page_close(StrBuf *b, const char *dir) {
    strbuf_cat(b, "<footer>Written by <code>grpo report</code> from ");
    html_escape(b, dir);
    strbuf_cat(b, ". Self-contained: no scripts, nothing fetched.</footer>\n</main>\n</body>\n</html>\n");
}

/* The run's name: the last component of its directory's real path. */
static void run_name(const char *dir, char *buf, size_t cap) {
    char *real = realpath(dir, NULL);
    const char *p = real ? real : dir;
    const char *slash = strrchr(p, '/');
    snprintf(buf, cap, "%s", slash && slash[1] ? slash + 1 : p);
    free(real);
}

/* "GRPO run · model Qwen/..." from the config and the metrics. */
static void run_subtitle(const cJSON *cfg, Metrics *m, char *buf, size_t cap) {
    const char *kind = series_get(m, "reward", 0) || cJSON_GetObjectItemCaseSensitive(cfg, "rewards") ? "GRPO run"
                       : m->n_lines                                                                   ? "SFT run"
                                                                                                      : "run";
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(cfg, "model");
    const char *path = get_str(model, "path");
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(model, "init");
    if (path) {
        snprintf(buf, cap, "%s \xc2\xb7 model %s", kind, path);
    } else if (cJSON_IsObject(init)) {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(init, "hidden_size");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(init, "num_hidden_layers");
        snprintf(buf, cap, "%s \xc2\xb7 randomly initialised model, %.0f layers of width %.0f", kind,
                 cJSON_IsNumber(l) ? l->valuedouble : 0, cJSON_IsNumber(h) ? h->valuedouble : 0);
    } else {
        snprintf(buf, cap, "%s", kind);
    }
}

/* Summary, plots and (when full) completions and config of one run;
 * cfg_problem says why a config.json that exists could not be read. */
static int run_body(StrBuf *b, const char *dir, const cJSON *cfg, const char *cfg_problem, int full) {
    Metrics m;
    if (metrics_load(&m, dir)) return -1;
    if (!m.present) {
        strbuf_cat(b, "<p class=\"muted\">No metrics.jsonl yet.</p>\n");
    } else {
        summary_cards(b, &m);
        strbuf_cat(b, "<div class=\"grid\">\n");
        int n = named_plots(b, &m);
        strbuf_cat(b, "</div>\n");
        other_plots(b, &m);
        if (!n && !m.n_s) strbuf_cat(b, "<p class=\"muted\">metrics.jsonl has no numeric values yet.</p>\n");
        if (m.n_bad) html_printf(b, "<p class=\"muted\">%zu malformed line%s of metrics.jsonl skipped.</p>\n", m.n_bad,
                                 m.n_bad == 1 ? "" : "s");
    }
    metrics_free(&m);
    if (!full) return 0;
    Completions c;
    int rc = completions_load(&c, dir);
    if (rc == 0 && c.n_want) completions_section(b, &c);
    completions_free(&c);
    if (rc < 0) return -1;
    strbuf_cat(b, "<section id=\"config\"><h2>Config</h2>\n");
    if (cfg) {
        char *text = cJSON_Print(cfg);
        strbuf_cat(b, "<pre class=\"config\">");
        html_escape(b, text);
        strbuf_cat(b, "</pre>\n");
        cJSON_free(text);
    } else if (cfg_problem[0]) {
        strbuf_cat(b, "<p class=\"muted\">config.json could not be read: ");
        html_escape(b, cfg_problem);
        strbuf_cat(b, "</p>\n");
    } else {
        strbuf_cat(b, "<p class=\"muted\">No config.json in the run directory.</p>\n");
    }
    strbuf_cat(b, "</section>\n");
    return 0;
}

/* config.json of dir, or NULL; when it exists but cannot be read, why
 * goes to problem (cap bytes) for the page to say. */
static cJSON *read_config(const char *dir, char *problem, size_t cap) {
    char *path = path_join(dir, "config.json");
    cJSON *cfg = NULL;
    problem[0] = '\0';
    if (is_regular_file(path) && !(cfg = json_read_file(path))) snprintf(problem, cap, "%s", err_msg());
    free(path);
    return cfg;
}

static int run_page(StrBuf *b, const char *dir) {
    char problem[512];
    cJSON *cfg = read_config(dir, problem, sizeof problem);
    Metrics m;
    if (metrics_load(&m, dir)) {
        cJSON_Delete(cfg);
        return -1;
    }
    char name[256], sub[512];
    run_name(dir, name, sizeof name);
    run_subtitle(cfg, &m, sub, sizeof sub);
    metrics_free(&m);
    page_open(b, name, sub);
    strbuf_cat(b, "<nav><a href=\"#training\">Training</a><a href=\"#completions\">Completions</a>"
                  "<a href=\"#config\">Config</a></nav>\n<section id=\"training\">\n");
    int rc = run_body(b, dir, cfg, problem, 1);
    strbuf_cat(b, "</section>\n");
    page_close(b, dir);
    cJSON_Delete(cfg);
    return rc;
}

/* ---- pipelines ---- */

static const char *const eval_cols[] = {"pass@1", "pass@k", "maj@k", "format_rate", "think_rate", "mean_length"};
static const char *const eval_heads[] = {"pass@1", "pass@k", "maj@k", "format", "think rate", "mean length"};
enum { N_EVAL_COLS = 6 };

/* One row of the before/after table; vals get the numbers (NAN if absent). */
static void eval_row(StrBuf *b, const char *stage, const cJSON *ev, double *vals) {
    strbuf_cat(b, "<tr><td>");
    html_escape(b, stage);
    strbuf_cat(b, "</td><td>");
    const char *model = get_str(ev, "model");
    html_escape(b, model ? model : "");
    strbuf_cat(b, "</td>");
    const char *meta[] = {"n_prompts", "samples_per_prompt", "temperature"};
    for (int i = 0; i < 3; i++) cell_number(b, cJSON_GetObjectItemCaseSensitive(ev, meta[i]));
    for (int i = 0; i < N_EVAL_COLS; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, eval_cols[i]);
        vals[i] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        char n[32];
        if (!cJSON_IsNumber(v)) snprintf(n, sizeof n, "\xe2\x80\x93");
        else if (i < 5) snprintf(n, sizeof n, "%.1f%%", 100 * vals[i]);
        else html_number(n, sizeof n, vals[i]);
        if (i == 1 && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(ev, "k")))
            html_printf(b, "<td class=\"num\">%s <span class=\"muted\">(k=%.0f)</span></td>", n,
                        cJSON_GetObjectItemCaseSensitive(ev, "k")->valuedouble);
        else
            html_printf(b, "<td class=\"num\">%s</td>", n);
    }
    strbuf_cat(b, "</tr>\n");
}

typedef struct {
    const char *name, *kind, *dir, *status, *model;
} Stage;

static int read_stages(const cJSON *pj, const char *path, Stage **out, size_t *n) {
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(pj, "stages");
    if (!cJSON_IsArray(stages)) return ERR("%s: expected \"stages\": [...]", path);
    *n = (size_t)cJSON_GetArraySize(stages);
    *out = xcalloc(*n ? *n : 1, sizeof(Stage));
    size_t i = 0;
    for (const cJSON *st = stages->child; st; st = st->next, i++) {
        Stage *s = &(*out)[i];
        s->name = get_str(st, "name");
        s->kind = get_str(st, "kind");
        s->dir = get_str(st, "dir");
        s->status = get_str(st, "status");
        s->model = get_str(st, "model");
        if (!s->name || !s->kind || !s->dir)
            return ERR("%s: stages[%zu] needs \"name\", \"kind\" and \"dir\" strings", path, i);
        if (strstr(s->dir, "..") || s->dir[0] == '/')
            return ERR("%s: stages[%zu].dir '%s' must be a path inside the pipeline directory", path, i, s->dir);
        if (!s->status) s->status = "pending";
    }
    return 0;
}

static void stage_table(StrBuf *b, const Stage *st, size_t n, const char *dir) {
    strbuf_cat(b, "<table><thead><tr><th>#</th><th>stage</th><th>kind</th><th>status</th><th>directory</th>"
                  "<th>output model</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const char *cls = !strcmp(st[i].status, "done") ? "done" : !strcmp(st[i].status, "running") ? "running"
                          : !strcmp(st[i].status, "failed")                                           ? "failed"
                                                                                                      : "pending";
        html_printf(b, "<tr><td>%zu</td><td><a href=\"#stage-%zu\">", i + 1, i);
        html_escape(b, st[i].name);
        strbuf_cat(b, "</a></td><td>");
        html_escape(b, st[i].kind);
        html_printf(b, "</td><td><span class=\"badge %s\">", cls);
        html_escape(b, st[i].status);
        strbuf_cat(b, "</span></td><td>");
        char *sub = path_join(dir, st[i].dir), *rep = path_join(sub, "report.html");
        if (is_regular_file(rep)) {
            strbuf_cat(b, "<a href=\"");
            html_escape(b, st[i].dir);
            strbuf_cat(b, "/report.html\">");
            html_escape(b, st[i].dir);
            strbuf_cat(b, "/</a>");
        } else {
            html_escape(b, st[i].dir);
            strbuf_cat(b, "/");
        }
        free(sub);
        free(rep);
        strbuf_cat(b, "</td><td>");
        html_escape(b, st[i].model ? st[i].model : "\xe2\x80\x93");
        strbuf_cat(b, "</td></tr>\n");
    }
    strbuf_cat(b, "</tbody></table>\n");
}

/* The before/after table of the eval stages' eval.json files. */
static int eval_table(StrBuf *b, const Stage *st, size_t n, const char *dir) {
    double first[N_EVAL_COLS], vals[N_EVAL_COLS];
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(st[i].kind, "eval")) continue;
        char *sub = path_join(dir, st[i].dir), *path = path_join(sub, "eval.json");
        free(sub);
        if (!is_regular_file(path)) {
            free(path);
            continue;
        }
        cJSON *ev = json_read_file(path);
        if (ev && !cJSON_IsObject(ev)) ERR("%s: expected a JSON object", path);
        free(path);
        if (!cJSON_IsObject(ev)) {
            cJSON_Delete(ev);
            return -1;
        }
        if (rows == 0) {
            strbuf_cat(b, "<table class=\"evals\"><thead><tr><th>evaluation</th><th>model</th><th>prompts</th>"
                          "<th>samples</th><th>temperature</th>");
            for (int c = 0; c < N_EVAL_COLS; c++) html_printf(b, "<th>%s</th>", eval_heads[c]);
            strbuf_cat(b, "</tr></thead><tbody>\n");
        }
        eval_row(b, st[i].name, ev, rows == 0 ? first : vals);
        rows++;
        cJSON_Delete(ev);
    }
    if (rows == 0) {
        strbuf_cat(b, "<p class=\"muted\">No evaluation has finished yet.</p>\n");
        return 0;
    }
    if (rows >= 2) {
        strbuf_cat(b, "<tr class=\"change\"><td><b>change</b> (last \xe2\x88\x92 first)</td><td></td><td></td>"
                      "<td></td><td></td>");
        for (int c = 0; c < N_EVAL_COLS; c++) {
            double d = vals[c] - first[c];
            char txt[48];
            if (!isfinite(d)) snprintf(txt, sizeof txt, "\xe2\x80\x93");
            else if (c < 5) snprintf(txt, sizeof txt, "%s%.1f points", d >= 0 ? "+" : "\xe2\x88\x92", 100 * fabs(d));
            else snprintf(txt, sizeof txt, "%s%.4g", d >= 0 ? "+" : "\xe2\x88\x92", fabs(d));
            html_printf(b, "<td class=\"num\"><b>%s</b></td>", txt);
        }
        strbuf_cat(b, "</tr>\n");
    }
    strbuf_cat(b, "</tbody></table>\n");
    return 0;
}

static int pipeline_page(StrBuf *b, const char *dir, const char *pj_path) {
    cJSON *pj = json_read_file(pj_path);
    if (!pj) return -1;
    Stage *st = NULL;
    size_t n = 0;
    if (!cJSON_IsObject(pj) || read_stages(pj, pj_path, &st, &n)) {
        if (!cJSON_IsObject(pj)) ERR("%s: expected a JSON object", pj_path);
        free(st);
        cJSON_Delete(pj);
        return -1;
    }
    char name[256], sub[128];
    const char *pname = get_str(pj, "name");
    if (pname) snprintf(name, sizeof name, "%s", pname);
    else run_name(dir, name, sizeof name);
    size_t done = 0;
    for (size_t i = 0; i < n; i++) done += !strcmp(st[i].status, "done");
    snprintf(sub, sizeof sub, "pipeline \xc2\xb7 %zu stages, %zu done", n, done);
    page_open(b, name, sub);
    strbuf_cat(b, "<nav><a href=\"#evaluation\">Before and after</a><a href=\"#stages\">Stages</a></nav>\n"
                  "<section id=\"evaluation\"><h2>Before and after</h2>\n");
    int rc = eval_table(b, st, n, dir);
    strbuf_cat(b, "</section>\n<section id=\"stages\"><h2>Stages</h2>\n");
    stage_table(b, st, n, dir);
    strbuf_cat(b, "</section>\n");
    for (size_t i = 0; i < n && rc == 0; i++) {
        html_printf(b, "<section id=\"stage-%zu\" class=\"stage\"><h2>%zu. ", i, i + 1);
        html_escape(b, st[i].name);
        strbuf_cat(b, " <span class=\"muted\">");
        html_escape(b, st[i].kind);
        strbuf_cat(b, " \xc2\xb7 ");
        html_escape(b, st[i].status);
        strbuf_cat(b, "</span></h2>\n");
        char *sub_dir = path_join(dir, st[i].dir);
        struct stat sb;
        if (stat(sub_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            strbuf_cat(b, "<p class=\"muted\">Not started yet.</p>\n");
        } else if (!strcmp(st[i].kind, "eval") || !strcmp(st[i].kind, "report")) {
            strbuf_cat(b, "<p class=\"muted\">See the table above.</p>\n");
        } else {
            rc = run_body(b, sub_dir, NULL, "", 0);
        }
        free(sub_dir);
        strbuf_cat(b, "</section>\n");
    }
    page_close(b, dir);
    free(st);
    cJSON_Delete(pj);
    if (rc) err_prefix("%s", dir);
    return rc;
}

int report_write(const char *dir, const char *out_path) {
    struct stat st;
    if (stat(dir, &st) != 0) return ERR("%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return ERR("%s is not a directory (give a run or pipeline directory)", dir);
    StrBuf b = {0};
    char *pj = path_join(dir, "pipeline.json");
    int rc = is_regular_file(pj) ? pipeline_page(&b, dir, pj) : run_page(&b, dir);
    free(pj);
    char *out = out_path ? xstrdup(out_path) : path_join(dir, "report.html");
    if (rc == 0) rc = file_write_atomic(out, b.p, b.n);
    free(out);
    free(b.p);
    return rc;
}

/* ---- CSV ---- */

static void csv_text(StrBuf *b, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        strbuf_cat(b, s);
        return;
    }
    strbuf_cat(b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"') strbuf_cat(b, "\"");
        strbuf_add(b, p, 1);
    }
    strbuf_cat(b, "\"");
}

static void csv_cell(StrBuf *b, const cJSON *v) {
    if (!v || cJSON_IsNull(v)) return;
    if (cJSON_IsNumber(v)) strbuf_cat(b, config_format_number(v->valuedouble).s);
    else if (cJSON_IsBool(v)) strbuf_cat(b, cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsString(v)) csv_text(b, v->valuestring);
    else {
        char *s = cJSON_PrintUnformatted(v);
        csv_text(b, s);
        cJSON_free(s);
    }
}

int report_write_csv(const char *dir, const char *out_path) {
    Metrics m;
    if (metrics_load(&m, dir)) return -1;
    if (!m.present) {
        metrics_free(&m);
        return ERR("%s/metrics.jsonl: no such file", dir);
    }
    /* "step" first, then the other keys as first seen */
    const char **cols = xmalloc((m.n_keys ? m.n_keys : 1) * sizeof(char *));
    size_t nc = 0;
    for (size_t i = 0; i < m.n_keys; i++)
        if (!strcmp(m.keys[i], "step")) cols[nc++] = m.keys[i];
    for (size_t i = 0; i < m.n_keys; i++)
        if (strcmp(m.keys[i], "step")) cols[nc++] = m.keys[i];
    StrBuf b = {0};
    for (size_t c = 0; c < nc; c++) {
        if (c) strbuf_cat(&b, ",");
        csv_text(&b, cols[c]);
    }
    strbuf_cat(&b, "\n");
    for (size_t l = 0; l < m.n_lines; l++) {
        for (size_t c = 0; c < nc; c++) {
            if (c) strbuf_cat(&b, ",");
            csv_cell(&b, cJSON_GetObjectItemCaseSensitive(m.lines[l], cols[c]));
        }
        strbuf_cat(&b, "\n");
    }
    int rc = file_write_atomic(out_path, b.p, b.n);
    free(b.p);
    free(cols);
    metrics_free(&m);
    return rc;
}
