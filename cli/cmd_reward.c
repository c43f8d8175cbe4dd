/*
 * cmd_reward.c: `grpo reward`: scores saved completions offline with the
 * config's "rewards" section, through the same RewardSet the trainer uses,
 * so a reward can be tried on real outputs before a run.
 * Input: JSONL, one object per line with "completion" (required), "prompt",
 * "answer", "tests", "n_tokens", "finish_reason" and any other field the
 * rewards read. Output (stdout, input order): one line per scored input,
 * {"reward": r, "rewards": {"label": score, ...}, "line": N}; null marks
 * "no score". Summary on stderr.
 * Not for: reward rules (reward/); this file only reads, batches and prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "common/json.h"
#include "reward/reward.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: grpo reward --config CONFIG.json --input FILE.jsonl [--on-error skip|fail]\n"
            "                   [--diagnostics] [--batch-size N]\n"
            "\n"
            "Scores each line of FILE.jsonl with the \"rewards\" section of CONFIG.json (any job\n"
            "config works; its other sections are ignored), exactly as training would.\n"
            "\n"
            "input lines:  {\"prompt\": \"...\", \"completion\": \"...\", \"answer\": \"...\",\n"
            "               \"tests\": [...], \"n_tokens\": 123, \"finish_reason\": \"eos|stop|length\"}\n"
            "              (only \"completion\" is required; blank lines are ignored)\n"
            "output lines: {\"reward\": r, \"rewards\": {\"<label>\": score, ...}, \"line\": N}\n"
            "              null means \"no score\"; written in input order to stdout\n"
            "\n"
            "options:\n"
            "  --config PATH      job config with a \"rewards\" array\n"
            "  --input PATH       JSONL file to score ('-' for stdin)\n"
            "  --on-error MODE    malformed input line: 'fail' (default; stop with exit code 1)\n"
            "                     or 'skip' (report it on stderr and go on)\n"
            "  --diagnostics      add each function's diagnostics (extracted answer, verdicts)\n"
            "  --batch-size N     lines scored together (default 64)\n"
            "\n"
            "A summary (lines, per-function mean, no-score count and time) goes to stderr.\n");
}

typedef struct {
    cJSON *line;    /* the parsed input line (owns the strings in `in`) */
    RewardInput in; /* checked when the line was read; points into line */
    long lineno;
} Pending;

typedef struct {
    RewardSet *set;
    int diagnostics;
    size_t n_scored;
} Ctx;

static int is_blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

/* Checks one input object; fills the RewardInput (pointers into obj). */
static int input_from_line(const cJSON *obj, const char *where, RewardInput *in) {
    if (!cJSON_IsObject(obj)) return ERR("%s: expected a JSON object with at least \"completion\"", where);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, "completion");
    if (!c) return ERR("%s: missing \"completion\" (the text to score)", where);
    if (!cJSON_IsString(c)) return ERR("%s: \"completion\" must be a string", where);
    memset(in, 0, sizeof(*in));
    in->completion = c->valuestring;
    in->prompt = "";
    in->example = obj;
    in->n_tokens = -1;
    in->finish = FINISH_EOS;
    const char *prompt = NULL, *finish = NULL;
    long n_tokens = -1;
    if (json_get_string(obj, where, "prompt", &prompt) || json_get_string(obj, where, "finish_reason", &finish) ||
        json_get_int(obj, where, "n_tokens", 0, 1L << 30, &n_tokens))
        return -1;
    if (prompt) in->prompt = prompt;
    in->n_tokens = (int)n_tokens;
    if (finish && finish_reason_parse(finish, &in->finish))
        return ERR("%s.finish_reason: '%s' is not one of eos, stop, length", where, finish);
    return 0;
}

/* Scores and prints the pending lines; frees them. */
static int flush(Ctx *ctx, Pending *p, size_t n) {
    if (n == 0) return 0;
    RewardInput *in = xcalloc(n, sizeof(*in));
    for (size_t i = 0; i < n; i++) in[i] = p[i].in;
    RewardBatch b;
    int rc = reward_set_score(ctx->set, in, n, &b);
    if (rc == 0) {
        size_t F = reward_set_size(ctx->set);
        for (size_t i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            if (b.has_total[i]) cJSON_AddNumberToObject(o, "reward", b.total[i]);
            else cJSON_AddNullToObject(o, "reward");
            cJSON *r = cJSON_AddObjectToObject(o, "rewards");
            cJSON *d = ctx->diagnostics ? cJSON_CreateObject() : NULL;
            for (size_t f = 0; f < F; f++) {
                const RewardResult *res = &b.per[f * n + i];
                const char *label = reward_set_label(ctx->set, f);
                if (res->has_score) cJSON_AddNumberToObject(r, label, res->score);
                else cJSON_AddNullToObject(r, label);
                if (d && res->diag) cJSON_AddItemToObject(d, label, cJSON_Duplicate(res->diag, 1));
            }
            cJSON_AddNumberToObject(o, "line", (double)p[i].lineno);
            if (d) cJSON_AddItemToObject(o, "diagnostics", d);
            char *s = cJSON_PrintUnformatted(o);
            fputs(s, stdout);
            fputc('\n', stdout);
            free(s);
            cJSON_Delete(o);
        }
        ctx->n_scored += n;
    }
    reward_batch_free(&b);
    free(in);
    for (size_t i = 0; i < n; i++) cJSON_Delete(p[i].line);
    return rc;
}

static void summary(const Ctx *ctx, size_t skipped, double seconds) {
    fprintf(stderr, "grpo reward: %zu line%s scored, %zu malformed line%s skipped, %.3f s\n", ctx->n_scored,
            ctx->n_scored == 1 ? "" : "s", skipped, skipped == 1 ? "" : "s", seconds);
    fprintf(stderr, "  %-24s %-20s %8s %10s %8s %8s %10s\n", "function", "kind", "weight", "mean", "scored",
            "no score", "time");
    for (size_t f = 0; f < reward_set_size(ctx->set); f++) {
        const RewardStats *s = reward_set_stats(ctx->set, f);
        char mean[32];
        if (s->n_scored) snprintf(mean, sizeof(mean), "%.4f", s->sum / (double)s->n_scored);
        else snprintf(mean, sizeof(mean), "-");
        fprintf(stderr, "  %-24s %-20s %8g %10s %8zu %8zu %8.3f s\n", reward_set_label(ctx->set, f),
                reward_set_kind(ctx->set, f), reward_set_weight(ctx->set, f), mean, s->n_scored, s->n_no_score,
                s->seconds);
    }
}

int cmd_reward(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *config = NULL, *input = NULL, *on_error = "fail";
    long batch = 64;
    int diagnostics = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--config") && has_val) config = argv[++i];
        else if (!strcmp(a, "--input") && has_val) input = argv[++i];
        else if (!strcmp(a, "--on-error") && has_val) on_error = argv[++i];
        else if (!strcmp(a, "--diagnostics")) diagnostics = 1;
        else if (!strcmp(a, "--batch-size") && has_val) {
            if (cli_parse_long(argv[++i], 1, 1000000, &batch))
                return cli_usage_error("reward", "--batch-size: expected an integer in [1, 1000000], got '%s'",
                                       argv[i]);
        } else if (!strcmp(a, "--config") || !strcmp(a, "--input") || !strcmp(a, "--on-error") ||
                   !strcmp(a, "--batch-size"))
            return cli_usage_error("reward", "%s needs a value", a);
        else
            return cli_usage_error("reward", "unknown argument '%s'", a);
    }
    if (!config) return cli_usage_error("reward", "--config is required");
    if (!input) return cli_usage_error("reward", "--input is required");
    if (strcmp(on_error, "skip") && strcmp(on_error, "fail"))
        return cli_usage_error("reward", "--on-error: expected 'skip' or 'fail', got '%s'", on_error);
    int skip = !strcmp(on_error, "skip");

    cJSON *cfg = json_read_file(config);
    if (!cfg) return cli_fail("reward");
    if (!cJSON_IsObject(cfg)) {
        cJSON_Delete(cfg);
        ERR("%s: expected a JSON object with a \"rewards\" array", config);
        return cli_fail("reward");
    }
    RewardSet *set = reward_set_new(cJSON_GetObjectItemCaseSensitive(cfg, "rewards"), "rewards");
    cJSON_Delete(cfg);
    if (!set) {
        err_prefix("%s", config);
        return cli_fail("reward");
    }
    FILE *f = strcmp(input, "-") ? fopen(input, "r") : stdin;
    if (!f) {
        ERR("%s: cannot open: %s", input, strerror(errno));
        reward_set_free(set);
        return cli_fail("reward");
    }
    const char *name = strcmp(input, "-") ? input : "<stdin>";
    Ctx ctx = {.set = set, .diagnostics = diagnostics};
    Pending *pend = xcalloc((size_t)batch, sizeof(*pend));
    size_t n_pend = 0, skipped = 0;
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
                ERR("%s: read error after line %ld: %s", name, lineno, strerror(errno));
                status = EXIT_FAIL;
            }
            break;
        }
        lineno++;
        if (is_blank(buf)) continue;
        char where[600];
        snprintf(where, sizeof(where), "%s:%ld", name, lineno);
        cJSON *obj = json_parse_named(buf, (size_t)len, where);
        if (!obj || input_from_line(obj, where, &pend[n_pend].in)) {
            cJSON_Delete(obj);
            if (!skip) {
                err_prefix("malformed input (use --on-error skip to skip such lines)");
                status = EXIT_FAIL;
                break;
            }
            fprintf(stderr, "grpo reward: %s (skipped)\n", err_msg());
            skipped++;
            continue;
        }
        pend[n_pend].line = obj;
        pend[n_pend].lineno = lineno;
        if (++n_pend == (size_t)batch) {
            int rc = flush(&ctx, pend, n_pend);
            n_pend = 0;
            if (rc) {
                status = EXIT_FAIL;
                break;
            }
        }
    }
    /* lines read before a failure are still scored and written */
    char saved[4096] = {0};
    if (status != EXIT_OK) snprintf(saved, sizeof(saved), "%s", err_msg());
    if (n_pend && flush(&ctx, pend, n_pend) && status == EXIT_OK) {
        status = EXIT_FAIL;
        snprintf(saved, sizeof(saved), "%s", err_msg());
    }
    fflush(stdout);
    free(buf);
    free(pend);
    if (f != stdin) fclose(f);
    summary(&ctx, skipped, now_seconds() - t0);
    reward_set_free(set);
    if (status != EXIT_OK) {
        fprintf(stderr, "grpo reward: %s\n", saved);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
