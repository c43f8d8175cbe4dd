/*
 * cmd_reward.c: `grpo reward`: scores saved completions offline with the
 * config's "rewards" section, through the same RewardSet the trainer uses,
 * so a reward can be tried on real outputs before a run.
 * Input: JSONL, one object per line with "completion" (required), "prompt",
 * "n_tokens", "finish_reason", "group", "index", "step", "token_ids" (the
 * fields grpo generate and completions.jsonl write) and the dataset's own
 * fields, which the rewards see as the example. Output (input order): one
 * line per scored input, {"reward": r, "rewards": {"label": score, ...},
 * "line": N}; null marks "no score". Each batch's lines are written whole
 * as soon as they are scored, so an interrupted run leaves whole lines and
 * --resume continues it. Summary on stderr (and --summary-json).
 * Not for: reward rules (reward/); this file reads, batches and prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common/common.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "reward/reward.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: grpo reward --config CONFIG.json --input FILE.jsonl [--output OUT.jsonl [--resume]]\n"
            "                   [--on-error fail|skip|null] [--diagnostics] [--batch-size N]\n"
            "                   [--summary-json FILE]\n"
            "\n"
            "Scores each line of FILE.jsonl with the \"rewards\" section of CONFIG.json (any job\n"
            "config works; its other sections are ignored), exactly as training would.\n"
            "\n"
            "input lines:  {\"prompt\": \"...\", \"completion\": \"...\", \"n_tokens\": 123,\n"
            "               \"finish_reason\": \"eos|stop|length\", \"group\": G, \"index\": J, \"step\": S,\n"
            "               \"token_ids\": [...], \"answer\": \"...\", ...any dataset field}\n"
            "              (only \"completion\" is required; blank lines are ignored; grpo generate\n"
            "              --prompts and a run's completions.jsonl write such lines)\n"
            "output lines: {\"reward\": r, \"rewards\": {\"<label>\": score, ...}, \"line\": N}\n"
            "              null means \"no score\"; in input order, each batch written as soon as scored\n"
            "\n"
            "options:\n"
            "  --config PATH       job config with a \"rewards\" array (relative plugin and program\n"
            "                      paths in it start at its folder)\n"
            "  --input PATH        JSONL file to score ('-' for stdin)\n"
            "  --output PATH       write the lines there instead of stdout\n"
            "  --resume            continue an interrupted run: keep OUT's whole lines (a cut last\n"
            "                      line is dropped) and score the input lines after them\n"
            "  --on-error MODE     fail: a malformed line or a failing reward function stops the\n"
            "                      run with exit code 1 (default); skip: malformed lines are\n"
            "                      reported and skipped; null: also a failing function's score\n"
            "                      is null, with the reason under \"errors\", and the run goes on\n"
            "  --diagnostics       add each function's diagnostics (extracted answer, verdicts)\n"
            "  --batch-size N      lines scored together (default 64; a group's lines, same\n"
            "                      \"group\" and \"step\", are never split)\n"
            "  --summary-json PATH write the summary as JSON too\n"
            "\n"
            "A summary (per function and for the weighted total: mean, std, min, max, no-score\n"
            "and failure counts, groups whose scores are all equal, time) goes to stderr.\n");
}

/* Fields grpo writes next to the dataset's own; the example the rewards see
 * is the line without them. */
static const char *const grpo_fields[] = {"completion", "n_tokens", "finish_reason", "group",  "index",
                                          "step",       "token_ids", "reward",       "rewards", "advantage",
                                          "diagnostics", "errors"};
#define N_GRPO_FIELDS (sizeof(grpo_fields) / sizeof(grpo_fields[0]))

typedef struct {
    cJSON *example; /* the input line minus grpo's fields (owns the strings in `in` too) */
    cJSON *grpo;    /* grpo's fields, detached from the line */
    int *ids;       /* token_ids */
    RewardInput in;
    const cJSON *replay; /* --resume: this line's output from the earlier run, or NULL */
} Pending;

/* --resume: the lines of the earlier output. */
typedef struct {
    long line;
    off_t offset; /* where the line starts in the output file */
    cJSON *obj;
} Written;

typedef struct {
    RewardSet *set;
    const char *name; /* the input, for messages */
    int diagnostics;
    int out_fd;
    const char *out_name; /* NULL: stdout */
    size_t n_scored, n_replayed, n_skipped;
    Written *old;         /* --resume */
    size_t n_old, next_old;
    long last_old;        /* the last input line the earlier run wrote (0: none) */
} Ctx;

/* ---- interruption: what the signal handler may report ---- */

static volatile sig_atomic_t writing, pending_signal;
static volatile long sig_lines_written, sig_last_line, sig_batch_first, sig_batch_last;
static char sig_dest[520];  /* " to FILE" or " to stdout" */
static const char *sig_hint = "";

static void sig_put(char *buf, size_t *n, size_t cap, const char *s) {
    while (*s && *n + 1 < cap) buf[(*n)++] = *s++;
}

static void sig_num(char *buf, size_t *n, size_t cap, long v) {
    char d[24];
    int k = 0;
    if (v < 0) v = 0;
    do d[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 23);
    while (k && *n + 1 < cap) buf[(*n)++] = d[--k];
}

static const char *sig_name(int sig) {
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGSEGV: return "SIGSEGV (a crash, in a plugin?)";
    case SIGBUS: return "SIGBUS (a crash, in a plugin?)";
    case SIGFPE: return "SIGFPE (a crash, in a plugin?)";
    case SIGILL: return "SIGILL (a crash, in a plugin?)";
    case SIGABRT: return "SIGABRT (an abort, in a plugin?)";
    }
    return "a signal";
}

/* Says how far the run got, then ends the process by the signal. Only
 * async-signal-safe calls. A stop signal that arrives while a batch is
 * being written waits for the write to finish (pending_signal). */
static void on_signal(int sig) {
    int crash = sig != SIGTERM && sig != SIGINT && sig != SIGHUP;
    if (!crash && writing) {
        pending_signal = sig;
        return;
    }
    char buf[1400];
    size_t n = 0;
    sig_put(buf, &n, sizeof(buf), "\ngrpo reward: stopped by ");
    sig_put(buf, &n, sizeof(buf), sig_name(sig));
    if (sig_batch_first > 0) {
        sig_put(buf, &n, sizeof(buf), " while scoring input lines ");
        sig_num(buf, &n, sizeof(buf), sig_batch_first);
        sig_put(buf, &n, sizeof(buf), "-");
        sig_num(buf, &n, sizeof(buf), sig_batch_last);
    }
    sig_put(buf, &n, sizeof(buf), "; ");
    sig_num(buf, &n, sizeof(buf), sig_lines_written);
    sig_put(buf, &n, sizeof(buf), " whole lines written");
    sig_put(buf, &n, sizeof(buf), sig_dest);
    sig_put(buf, &n, sizeof(buf), ", up to input line ");
    sig_num(buf, &n, sizeof(buf), sig_last_line);
    sig_put(buf, &n, sizeof(buf), sig_hint);
    sig_put(buf, &n, sizeof(buf), "\n");
    ssize_t w = write(2, buf, n);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_signals(void) {
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) sigaction(sigs[i], &sa, NULL);
}

/* Writes the whole buffer; a stop signal meanwhile is held until it is out. */
static int write_all(Ctx *ctx, const char *p, size_t n, long lines, long last_line) {
    writing = 1;
    int rc = 0;
    while (n > 0) {
        ssize_t w = write(ctx->out_fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            rc = ERR("%s: write failed: %s", ctx->out_name ? ctx->out_name : "stdout", strerror(errno));
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    if (rc == 0) {
        sig_lines_written += lines;
        if (last_line) sig_last_line = last_line;
    }
    sig_batch_first = sig_batch_last = 0;
    writing = 0;
    if (pending_signal) on_signal(pending_signal);
    return rc;
}

/* ---- reading lines ---- */

static int is_blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

static void pending_free(Pending *p) {
    cJSON_Delete(p->example);
    cJSON_Delete(p->grpo);
    free(p->ids);
    memset(p, 0, sizeof(*p));
}

/* Checks one input object (takes it) and fills p: the grpo fields are
 * detached into p->grpo, the rest is the example. */
static int input_from_line(cJSON *obj, const char *where, Pending *p) {
    memset(p, 0, sizeof(*p));
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return ERR("%s: expected a JSON object with at least \"completion\"", where);
    }
    p->example = obj;
    p->grpo = cJSON_CreateObject();
    for (size_t k = 0; k < N_GRPO_FIELDS; k++) {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(obj, grpo_fields[k]);
        if (v) cJSON_AddItemToObject(p->grpo, grpo_fields[k], v);
    }
    const cJSON *g = p->grpo;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(g, "completion");
    if (!c) return ERR("%s: missing \"completion\" (the text to score)", where);
    if (!cJSON_IsString(c)) return ERR("%s: \"completion\" must be a string", where);
    RewardInput *in = &p->in;
    in->completion = c->valuestring;
    in->prompt = "";
    in->example = obj;
    in->n_tokens = -1;
    in->finish = FINISH_EOS;
    const char *prompt = NULL, *finish = NULL;
    long n_tokens = -1, group = -1, index = -1, step = 0;
    if (json_get_string(obj, where, "prompt", &prompt) || json_get_string(g, where, "finish_reason", &finish) ||
        json_get_int(g, where, "n_tokens", 0, 1L << 30, &n_tokens) ||
        json_get_int(g, where, "group", 0, 1L << 53, &group) || json_get_int(g, where, "index", 0, 1L << 30, &index) ||
        json_get_int(g, where, "step", 0, 1L << 53, &step))
        return -1;
    if (prompt) in->prompt = prompt;
    in->n_tokens = (int)n_tokens;
    if (finish && finish_reason_parse(finish, &in->finish))
        return ERR("%s.finish_reason: '%s' is not one of eos, stop, length", where, finish);
    in->has_group = group >= 0;
    in->group = group;
    in->index = (int)index;
    in->step = step;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(g, "token_ids");
    if (ids && !cJSON_IsNull(ids)) {
        if (!cJSON_IsArray(ids)) return ERR("%s.token_ids: expected an array of integers", where);
        int n = cJSON_GetArraySize(ids), k = 0;
        p->ids = xmalloc((size_t)(n ? n : 1) * sizeof(int));
        for (const cJSON *t = ids->child; t; t = t->next, k++) {
            if (!cJSON_IsNumber(t) || t->valuedouble != floor(t->valuedouble) || fabs(t->valuedouble) > 2147483647.0)
                return ERR("%s.token_ids[%d]: expected an integer", where, k);
            p->ids[k] = (int)t->valuedouble;
        }
        in->token_ids = p->ids;
        in->n_token_ids = n;
    }
    return 0;
}

/* Do two inputs belong to one group (same step and group id)? */
static int same_group(const RewardInput *a, const RewardInput *b) {
    return a->has_group && b->has_group && a->group == b->group && a->step == b->step;
}

/* ---- --resume: the earlier output ---- */

/* Reads OUT's whole lines into ctx->old and cuts a partial last line off
 * the file. A missing or empty file resumes nothing. */
static int read_earlier(Ctx *ctx, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? 0 : ERR("%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0, n_cap = 0;
    off_t off = 0, whole = 0;
    long lineno = 0;
    int rc = 0;
    for (;;) {
        ssize_t len = getline(&buf, &cap, f);
        if (len < 0) break;
        lineno++;
        if (buf[len - 1] != '\n') break; /* cut mid-line: dropped below */
        char where[600];
        snprintf(where, sizeof(where), "%s:%ld", path, lineno);
        cJSON *o = json_parse_named(buf, (size_t)len, where);
        const cJSON *ln = o ? cJSON_GetObjectItemCaseSensitive(o, "line") : NULL;
        if (!o || !cJSON_IsNumber(ln) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "rewards")) ||
            (ctx->n_old && ln->valuedouble <= (double)ctx->old[ctx->n_old - 1].line)) {
            cJSON_Delete(o);
            rc = ERR("%s: not a line of grpo reward's output (\"line\", \"rewards\", increasing lines); --resume "
                     "continues only a file grpo reward wrote",
                     where);
            break;
        }
        if (ctx->n_old == n_cap) {
            n_cap = n_cap ? 2 * n_cap : 256;
            ctx->old = xrealloc(ctx->old, n_cap * sizeof(Written));
        }
        ctx->old[ctx->n_old++] = (Written){(long)ln->valuedouble, off, o};
        off += len;
        whole = off;
    }
    free(buf);
    fclose(f);
    if (rc) return -1;
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size > whole) {
        if (truncate(path, whole)) return ERR("%s: cannot cut the partial last line: %s", path, strerror(errno));
        fprintf(stderr, "grpo reward: %s: dropped a partial last line (%lld bytes) left by the interruption\n", path,
                (long long)(st.st_size - whole));
    }
    ctx->last_old = ctx->n_old ? ctx->old[ctx->n_old - 1].line : 0;
    return 0;
}

/* The earlier output's result for input line `line` into p->replay. */
static int match_earlier(Ctx *ctx, Pending *p) {
    while (ctx->next_old < ctx->n_old && ctx->old[ctx->next_old].line < p->in.line) ctx->next_old++;
    if (ctx->next_old >= ctx->n_old || ctx->old[ctx->next_old].line != p->in.line)
        return ERR("%s:%ld: the output of the earlier run has no line for it; resume with the same input and options",
                   ctx->name, p->in.line);
    p->replay = ctx->old[ctx->next_old].obj;
    return 0;
}

/* Adds the earlier run's results of p[0..n) to the statistics. */
static int replay(Ctx *ctx, Pending *p, size_t n) {
    size_t F = reward_set_size(ctx->set);
    RewardBatch b = {0};
    b.n = n, b.n_funcs = F;
    b.total = xcalloc(n, sizeof(double));
    b.has_total = xcalloc(n, sizeof(int));
    b.per = xcalloc(n * F, sizeof(RewardResult));
    RewardInput *in = xcalloc(n, sizeof(*in));
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        in[i] = p[i].in;
        const cJSON *o = p[i].replay, *r = cJSON_GetObjectItemCaseSensitive(o, "rewards");
        const cJSON *errs = cJSON_GetObjectItemCaseSensitive(o, "errors"), *tot = cJSON_GetObjectItemCaseSensitive(o, "reward");
        b.has_total[i] = cJSON_IsNumber(tot);
        b.total[i] = b.has_total[i] ? tot->valuedouble : 0;
        for (size_t f = 0; f < F; f++) {
            const char *label = reward_set_label(ctx->set, f);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, label);
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(errs, label);
            RewardResult *res = &b.per[f * n + i];
            if (!v) {
                rc = ERR("%s:%ld: the earlier output has no score for '%s'; resume with the same config", ctx->name,
                         p[i].in.line, label);
                break;
            }
            res->has_score = cJSON_IsNumber(v);
            res->score = res->has_score ? v->valuedouble : 0;
            if (cJSON_IsString(e)) res->error = xstrdup(e->valuestring);
        }
    }
    if (rc == 0) reward_set_add_stats(ctx->set, in, n, &b);
    ctx->n_replayed += rc == 0 ? n : 0;
    free(in);
    reward_batch_free(&b);
    return rc;
}

/* ---- scoring ---- */

/* Scores p[0..n) and writes their lines as one write. */
static int score_and_write(Ctx *ctx, Pending *p, size_t n) {
    RewardInput *in = xcalloc(n, sizeof(*in));
    for (size_t i = 0; i < n; i++) in[i] = p[i].in;
    sig_batch_first = in[0].line;
    sig_batch_last = in[n - 1].line;
    RewardBatch b;
    int rc = reward_set_score(ctx->set, in, n, &b);
    if (rc == 0) {
        size_t F = reward_set_size(ctx->set);
        StrBuf text = {0};
        for (size_t i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            if (b.has_total[i]) cJSON_AddNumberToObject(o, "reward", b.total[i]);
            else cJSON_AddNullToObject(o, "reward");
            cJSON *r = cJSON_AddObjectToObject(o, "rewards");
            cJSON *e = NULL, *d = ctx->diagnostics ? cJSON_CreateObject() : NULL;
            for (size_t f = 0; f < F; f++) {
                const RewardResult *res = &b.per[f * n + i];
                const char *label = reward_set_label(ctx->set, f);
                if (res->has_score) cJSON_AddNumberToObject(r, label, res->score);
                else cJSON_AddNullToObject(r, label);
                if (res->error) {
                    if (!e) e = cJSON_AddObjectToObject(o, "errors");
                    cJSON_AddStringToObject(e, label, res->error);
                }
                if (d && res->diag) cJSON_AddItemToObject(d, label, cJSON_Duplicate(res->diag, 1));
            }
            cJSON_AddNumberToObject(o, "line", (double)in[i].line);
            if (d) cJSON_AddItemToObject(o, "diagnostics", d);
            char *s = cJSON_PrintUnformatted(o);
            strbuf_cat(&text, s);
            strbuf_cat(&text, "\n");
            free(s);
            cJSON_Delete(o);
        }
        rc = write_all(ctx, text.p, text.n, (long)n, in[n - 1].line);
        free(text.p);
        if (rc == 0) ctx->n_scored += n;
    }
    reward_batch_free(&b);
    free(in);
    return rc;
}

/* Handles the pending lines: replays the ones the earlier run wrote (the
 * statistics), scores and writes the others. A group the earlier run wrote
 * only in part (the write was cut) is scored again whole: its lines are
 * cut off the output first. Frees the lines. */
static int flush(Ctx *ctx, Pending *p, size_t n) {
    if (n == 0) return 0;
    size_t k = 0;
    while (k < n && p[k].replay) k++;
    if (k > 0 && k < n && same_group(&p[k - 1].in, &p[k].in)) {
        size_t j = k - 1;
        while (j > 0 && same_group(&p[j - 1].in, &p[k].in)) j--;
        const Written *w = &ctx->old[0];
        while (w->line != p[j].in.line) w++;
        if (ftruncate(ctx->out_fd, w->offset) || lseek(ctx->out_fd, 0, SEEK_END) < 0)
            return ERR("%s: cannot cut the partly written group: %s", ctx->out_name, strerror(errno));
        sig_lines_written -= (long)(k - j);
        for (size_t i = j; i < k; i++) p[i].replay = NULL;
        k = j;
    }
    int rc = 0;
    if (k > 0) rc = replay(ctx, p, k);
    if (rc == 0 && k < n) rc = score_and_write(ctx, p + k, n - k);
    for (size_t i = 0; i < n; i++) pending_free(&p[i]);
    return rc;
}

/* ---- the summary ---- */

static double stat_std(const RewardStats *s) {
    if (s->n_scored == 0) return 0;
    double m = s->sum / (double)s->n_scored, v = s->sumsq / (double)s->n_scored - m * m;
    return v > 0 ? sqrt(v) : 0;
}

/* Adds s's numbers to o. */
static cJSON *stats_json(cJSON *o, const RewardStats *s) {
    size_t all = s->n_scored + s->n_no_score + s->n_failed;
    if (s->n_scored) {
        cJSON_AddNumberToObject(o, "mean", s->sum / (double)s->n_scored);
        cJSON_AddNumberToObject(o, "std", stat_std(s));
        cJSON_AddNumberToObject(o, "min", s->min);
        cJSON_AddNumberToObject(o, "max", s->max);
    } else {
        cJSON_AddNullToObject(o, "mean");
        cJSON_AddNullToObject(o, "std");
        cJSON_AddNullToObject(o, "min");
        cJSON_AddNullToObject(o, "max");
    }
    cJSON_AddNumberToObject(o, "scored", (double)s->n_scored);
    cJSON_AddNumberToObject(o, "no_score", (double)s->n_no_score);
    cJSON_AddNumberToObject(o, "failed", (double)s->n_failed);
    cJSON_AddNumberToObject(o, "no_score_share", all ? (double)s->n_no_score / (double)all : 0);
    cJSON_AddNumberToObject(o, "groups", (double)s->n_groups);
    if (s->n_groups) cJSON_AddNumberToObject(o, "groups_all_equal_share", (double)s->n_groups_equal / (double)s->n_groups);
    else cJSON_AddNullToObject(o, "groups_all_equal_share");
    return o;
}

static void summary_row(const char *name, const char *kind, const char *weight, const RewardStats *s, int groups,
                        const char *time) {
    char mean[24] = "-", sd[24] = "-", mn[24] = "-", mx[24] = "-", ns[40], eq[40] = "-";
    if (s->n_scored) {
        snprintf(mean, sizeof(mean), "%.4f", s->sum / (double)s->n_scored);
        snprintf(sd, sizeof(sd), "%.4f", stat_std(s));
        snprintf(mn, sizeof(mn), "%.4g", s->min);
        snprintf(mx, sizeof(mx), "%.4g", s->max);
    }
    size_t all = s->n_scored + s->n_no_score + s->n_failed;
    snprintf(ns, sizeof(ns), "%zu (%.0f%%)", s->n_no_score, all ? 100.0 * (double)s->n_no_score / (double)all : 0.0);
    if (s->n_groups)
        snprintf(eq, sizeof(eq), "%zu/%zu (%.0f%%)", s->n_groups_equal, s->n_groups,
                 100.0 * (double)s->n_groups_equal / (double)s->n_groups);
    fprintf(stderr, "  %-22s %-14s %7s %8s %8s %8s %8s %11s %7zu", name, kind, weight, mean, sd, mn, mx, ns,
            s->n_failed);
    if (groups) fprintf(stderr, " %15s", eq);
    fprintf(stderr, " %10s\n", time);
}

static int summary(const Ctx *ctx, double seconds, const char *json_path, int status) {
    const RewardSet *set = ctx->set;
    size_t F = reward_set_size(set), lines = ctx->n_scored + ctx->n_replayed;
    const RewardStats *tot = reward_set_total_stats(set);
    int groups = tot->n_groups > 0;
    fprintf(stderr, "grpo reward: %zu line%s scored", lines, lines == 1 ? "" : "s");
    if (ctx->n_replayed) fprintf(stderr, " (%zu by the earlier run)", ctx->n_replayed);
    fprintf(stderr, ", %zu malformed line%s skipped, %.3f s\n", ctx->n_skipped, ctx->n_skipped == 1 ? "" : "s",
            seconds);
    fprintf(stderr, "  %-22s %-14s %7s %8s %8s %8s %8s %11s %7s", "function", "kind", "weight", "mean", "std", "min",
            "max", "no score", "failed");
    if (groups) fprintf(stderr, " %15s", "all-equal groups");
    fprintf(stderr, " %10s\n", "time");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "lines", (double)lines);
    cJSON_AddNumberToObject(j, "lines_from_earlier_run", (double)ctx->n_replayed);
    cJSON_AddNumberToObject(j, "malformed_lines_skipped", (double)ctx->n_skipped);
    cJSON_AddNumberToObject(j, "seconds", seconds);
    cJSON_AddBoolToObject(j, "complete", status == EXIT_OK);
    cJSON *fa = cJSON_AddArrayToObject(j, "functions");
    for (size_t f = 0; f < F; f++) {
        const RewardStats *s = reward_set_stats(set, f);
        char w[24], t[24];
        snprintf(w, sizeof(w), "%g", reward_set_weight(set, f));
        snprintf(t, sizeof(t), "%.3f s", s->seconds);
        summary_row(reward_set_label(set, f), reward_set_kind(set, f), w, s, groups, t);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "label", reward_set_label(set, f));
        cJSON_AddStringToObject(o, "kind", reward_set_kind(set, f));
        cJSON_AddNumberToObject(o, "weight", reward_set_weight(set, f));
        stats_json(o, s);
        cJSON_AddNumberToObject(o, "seconds", s->seconds);
        cJSON_AddItemToArray(fa, o);
    }
    summary_row("total (weighted)", "", "", tot, groups, "");
    cJSON_AddItemToObject(j, "total", stats_json(cJSON_CreateObject(), tot));
    int rc = 0;
    if (json_path) {
        char *text = json_print_text(j);
        rc = file_write_atomic(json_path, text, strlen(text));
        free(text);
        if (rc) err_prefix("--summary-json %s", json_path);
    }
    cJSON_Delete(j);
    return rc;
}

/* ---- the command ---- */

typedef struct {
    const char *config, *input, *output, *on_error, *summary_json;
    long batch;
    int diagnostics, resume;
} Args;

static int parse_args(int argc, char **argv, Args *a) {
    *a = (Args){.on_error = "fail", .batch = 64};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(s, "--diagnostics")) a->diagnostics = 1;
        else if (!strcmp(s, "--resume")) a->resume = 1;
        else if (!strcmp(s, "--config") && has_val) a->config = argv[++i];
        else if (!strcmp(s, "--input") && has_val) a->input = argv[++i];
        else if (!strcmp(s, "--output") && has_val) a->output = argv[++i];
        else if (!strcmp(s, "--on-error") && has_val) a->on_error = argv[++i];
        else if (!strcmp(s, "--summary-json") && has_val) a->summary_json = argv[++i];
        else if (!strcmp(s, "--batch-size") && has_val) {
            if (cli_parse_long(argv[++i], 1, 1000000, &a->batch))
                return cli_usage_error("reward", "--batch-size: expected an integer in [1, 1000000], got '%s'",
                                       argv[i]);
        } else if (!strcmp(s, "--config") || !strcmp(s, "--input") || !strcmp(s, "--on-error") ||
                   !strcmp(s, "--batch-size") || !strcmp(s, "--output") || !strcmp(s, "--summary-json"))
            return cli_usage_error("reward", "%s needs a value", s);
        else
            return cli_usage_error("reward", "unknown argument '%s'", s);
    }
    if (!a->config) return cli_usage_error("reward", "--config is required");
    if (!a->input) return cli_usage_error("reward", "--input is required");
    if (strcmp(a->on_error, "skip") && strcmp(a->on_error, "fail") && strcmp(a->on_error, "null"))
        return cli_usage_error("reward", "--on-error: expected 'fail', 'skip' or 'null', got '%s'", a->on_error);
    if (a->resume && !a->output)
        return cli_usage_error("reward", "--resume needs --output FILE (the file the interrupted run wrote)");
    return EXIT_OK;
}

/* The set of CONFIG's rewards, relative paths from its folder. */
static RewardSet *load_set(const char *config) {
    cJSON *cfg = json_read_file(config);
    if (!cfg) return NULL;
    RewardSet *set = NULL;
    if (!cJSON_IsObject(cfg)) {
        ERR("%s: expected a JSON object with a \"rewards\" array", config);
    } else {
        cJSON *rewards = cJSON_GetObjectItemCaseSensitive(cfg, "rewards");
        reward_config_resolve_paths(rewards, config);
        set = reward_set_new(rewards, "rewards");
        if (!set) err_prefix("%s", config);
    }
    cJSON_Delete(cfg);
    return set;
}

int cmd_reward(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    Args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != EXIT_OK) return rc;
    const int skip = strcmp(a.on_error, "fail") != 0;
    Ctx ctx = {.name = strcmp(a.input, "-") ? a.input : "<stdin>", .diagnostics = a.diagnostics, .out_fd = 1,
               .out_name = a.output};
    if (a.resume && read_earlier(&ctx, a.output)) return cli_fail("reward");
    ctx.set = load_set(a.config);
    if (!ctx.set) return cli_fail("reward");
    if (!strcmp(a.on_error, "null")) reward_set_on_error(ctx.set, REWARD_ON_ERROR_NULL);
    FILE *f = strcmp(a.input, "-") ? fopen(a.input, "r") : stdin;
    if (!f) {
        ERR("%s: cannot open: %s", a.input, strerror(errno));
        reward_set_free(ctx.set);
        return cli_fail("reward");
    }
    if (a.output) {
        ctx.out_fd = open(a.output, O_WRONLY | O_CREAT | O_CLOEXEC | (a.resume ? O_APPEND : O_TRUNC), 0644);
        if (ctx.out_fd < 0) {
            ERR("%s: cannot write: %s", a.output, strerror(errno));
            if (f != stdin) fclose(f);
            reward_set_free(ctx.set);
            return cli_fail("reward");
        }
        snprintf(sig_dest, sizeof(sig_dest), " to %s", a.output);
        sig_hint = a.resume ? "; run the same command again to continue"
                            : "; run the same command with --resume to continue";
    } else {
        snprintf(sig_dest, sizeof(sig_dest), " to stdout");
        sig_hint = "; to continue, run the same command with --output FILE --resume, FILE holding what was written";
    }
    sig_lines_written = (long)ctx.n_old;
    sig_last_line = ctx.last_old;
    catch_signals();

    Pending *pend = xcalloc((size_t)a.batch, sizeof(*pend));
    size_t n_pend = 0, cap_pend = (size_t)a.batch;
    int status = EXIT_OK;
    char *buf = NULL;
    size_t cap = 0;
    long lineno = 0;
    double t0 = now_seconds();
    for (;;) {
        errno = 0;
        ssize_t len = getline(&buf, &cap, f);
        if (len < 0) {
            if (ferror(f)) {
                ERR("%s: read error after line %ld: %s", ctx.name, lineno, strerror(errno));
                status = EXIT_FAIL;
            }
            break;
        }
        lineno++;
        if (is_blank(buf)) continue;
        char where[600];
        snprintf(where, sizeof(where), "%s:%ld", ctx.name, lineno);
        Pending p;
        cJSON *obj = json_parse_named(buf, (size_t)len, where);
        if (!obj || input_from_line(obj, where, &p)) {
            if (obj) pending_free(&p);
            if (!skip) {
                err_prefix("malformed input (use --on-error skip to skip such lines)");
                status = EXIT_FAIL;
                break;
            }
            fprintf(stderr, "grpo reward: %s (skipped)\n", err_msg());
            ctx.n_skipped++;
            continue;
        }
        p.in.source = ctx.name;
        p.in.line = lineno;
        if (lineno <= ctx.last_old && match_earlier(&ctx, &p)) {
            pending_free(&p);
            status = EXIT_FAIL;
            break;
        }
        /* a batch ends at a group's end once full, and always where the step changes */
        const RewardInput *last = n_pend ? &pend[n_pend - 1].in : NULL;
        if (p.in.has_group && p.in.index < 0) /* no "index": the line's place in its group */
            p.in.index = last && same_group(last, &p.in) ? last->index + 1 : 0;
        if (last && ((n_pend >= (size_t)a.batch && !same_group(last, &p.in)) || last->step != p.in.step)) {
            int r = flush(&ctx, pend, n_pend);
            n_pend = 0;
            if (r) {
                pending_free(&p);
                status = EXIT_FAIL;
                break;
            }
        }
        if (n_pend == cap_pend) {
            cap_pend *= 2;
            pend = xrealloc(pend, cap_pend * sizeof(*pend));
        }
        pend[n_pend++] = p;
    }
    /* lines read before a failure are still scored and written */
    char saved[4096] = {0};
    if (status != EXIT_OK) snprintf(saved, sizeof(saved), "%s", err_msg());
    if (flush(&ctx, pend, n_pend) && status == EXIT_OK) {
        status = EXIT_FAIL;
        snprintf(saved, sizeof(saved), "%s", err_msg());
    }
    free(buf);
    free(pend);
    if (f != stdin) fclose(f);
    if (a.output && close(ctx.out_fd) && status == EXIT_OK) {
        status = EXIT_FAIL;
        snprintf(saved, sizeof(saved), "%s: %s", a.output, strerror(errno));
    }
    if (summary(&ctx, now_seconds() - t0, a.summary_json, status) && status == EXIT_OK) {
        status = EXIT_FAIL;
        snprintf(saved, sizeof(saved), "%s", err_msg());
    }
    for (size_t i = 0; i < ctx.n_old; i++) cJSON_Delete(ctx.old[i].obj);
    free(ctx.old);
    reward_set_free(ctx.set);
    if (status != EXIT_OK) {
        fprintf(stderr, "grpo reward: %s\n", saved);
        fprintf(stderr, "grpo reward: %ld whole lines written%s, up to input line %ld%s\n", (long)sig_lines_written,
                sig_dest, (long)sig_last_line, sig_hint);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
