/*
 * cmd_generate.c: `grpo generate`: samples completions with the rollout
 * engine (the same code the trainer's rollouts run): of one prompt,
 * streaming text to the terminal or printing one JSON object per sample;
 * or of every prompt of a dataset (--prompts, read as the trainer reads
 * data.train_file), writing the lines `grpo reward` scores as they are.
 * Not for: sampling logic (rollout/), templates (data/template.h), reading
 * datasets (trainer/prompts.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/io/loader.h"
#include "common/common.h"
#include "common/utf8.h"
#include "data/template.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "rollout/rollout.h"
#include "trainer/jobconfig.h"
#include "trainer/prompts.h"

#define MAX_STOP 32

static void usage(FILE *f) {
    fprintf(f,
            "usage: grpo generate --model M --prompt TEXT [--n N] [--temperature T] [--top-p P]\n"
            "                     [--top-k K] [--min-p P] [--max-new-tokens L] [--seed S]\n"
            "                     [--stop STR]... [--template NAME] [--ignore-eos] [--json]\n"
            "       grpo generate --model M --prompts FILE.jsonl [--config CONFIG.json] [--template NAME]\n"
            "                     [--prompt-field F] [--answer-field F] [--limit N] [--output OUT.jsonl]\n"
            "                     [--token-ids] [sampling options as above]\n"
            "\n"
            "Samples N completions of TEXT with the rollout engine (docs/rollout.md); with\n"
            "--prompts, N completions of every prompt of a dataset, as lines grpo reward reads:\n"
            "  {\"prompt\": rendered, \"completion\": ..., ...the dataset line's fields,\n"
            "   \"n_tokens\": n, \"finish_reason\": ..., \"group\": prompt number, \"index\": sample}\n"
            "\n"
            "  --model M           an HF model directory or a grpo .h5 checkpoint (needs tokenizer.json);\n"
            "                      with --config, its model.path when not given\n"
            "  --prompt TEXT       the prompt; special tokens written in it (<|im_start|>) are matched\n"
            "  --prompts FILE      a JSONL dataset read as grpo train reads data.train_file (GSM8K's\n"
            "                      and MATH's layouts as they are); one group of N samples per line\n"
            "  --config PATH       take data.train_file, data.template, data.prompt_field,\n"
            "                      data.answer_field and the rollout section (N, temperature, ...)\n"
            "                      from a train config; the options here override them\n"
            "  --prompt-field F    the dataset's prompt field (default auto: prompt, question, problem)\n"
            "  --answer-field F    its answer field (default auto: answer, else solution)\n"
            "  --limit N           only the first N prompts\n"
            "  --output PATH       write the lines there (default stdout), each group as it is done\n"
            "  --token-ids         add each completion's \"token_ids\"\n"
            "  --template NAME     render TEXT with a template first: r1zero, chatml, llama3, raw,\n"
            "                      or a string with {prompt} (default: TEXT as given)\n"
            "  --n N               samples (default 1)\n"
            "  --temperature T     0 = greedy (default 1)\n"
            "  --top-k K           keep the K most likely tokens (default 0 = off)\n"
            "  --top-p P           nucleus: smallest set with probability >= P (default 1 = off)\n"
            "  --min-p P           drop tokens below P x the best one's probability (default 0 = off)\n"
            "                      (applied in this order: temperature, top-k, top-p, min-p)\n"
            "  --max-new-tokens L  completion length limit (default 256)\n"
            "  --seed S            random seed (default 42); same seed, same samples\n"
            "  --stop STR          stop after STR appears (kept in the text); repeatable\n"
            "  --ignore-eos        do not stop at the model's end-of-sequence ids\n"
            "  --json              one JSON object per line per sample: {\"sample\", \"text\",\n"
            "                      \"ids\", \"logprobs\", \"finish_reason\", \"prompt_tokens\"};\n"
            "                      logprobs are log-softmax at temperature 1 of each token;\n"
            "                      bytes that are not UTF-8 show as U+FFFD in \"text\"\n"
            "\n"
            "Without --json, one sample streams to stdout as it is generated; with --n > 1\n"
            "each sample is printed when it finishes, under a header line.\n");
}

/* Prints bytes as a JSON string: escapes, invalid UTF-8 as U+FFFD. */
static void print_json_string(FILE *f, const char *b, size_t n) {
    const unsigned char *s = (const unsigned char *)b;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
            i++;
        } else if (c == '\n') {
            fputs("\\n", f), i++;
        } else if (c == '\t') {
            fputs("\\t", f), i++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(f, "\\u%04x", c), i++;
        } else {
            size_t l = utf8_valid_len(s + i, n - i);
            if (l == 0) {
                fputs("\\ufffd", f);
                i++;
            } else {
                fwrite(s + i, 1, l, f);
                i += l;
            }
        }
    }
    fputc('"', f);
}

static void on_text(void *ctx, int prompt, int sample, const char *b, size_t n) {
    (void)ctx, (void)prompt, (void)sample;
    fwrite(b, 1, n, stdout);
    fflush(stdout);
}

static void on_done(void *ctx, int prompt, int sample, const RolloutSample *s) {
    (void)ctx, (void)prompt;
    printf("--- sample %d (%s, %d tokens) ---\n", sample, finish_reason_name(s->finish), s->n);
    fwrite(s->text, 1, s->text_len, stdout);
    printf("\n");
    fflush(stdout);
}

static void print_sample_json(int i, int n_prompt, const RolloutSample *s) {
    printf("{\"sample\": %d, \"text\": ", i);
    print_json_string(stdout, s->text, s->text_len);
    printf(", \"ids\": [");
    for (int t = 0; t < s->n; t++) printf(t ? ", %d" : "%d", s->ids[t]);
    printf("], \"logprobs\": [");
    for (int t = 0; t < s->n; t++) {
        if (t) printf(", ");
        if (isfinite(s->logprobs[t]))
            printf("%.9g", (double)s->logprobs[t]);
        else
            printf("null");
    }
    printf("], \"finish_reason\": \"%s\", \"prompt_tokens\": %d}\n", finish_reason_name(s->finish), n_prompt);
}

/* The dataset mode's options. */
typedef struct {
    const char *prompts, *config, *prompt_field, *answer_field, *output;
    long limit;
    int token_ids;
} DataArgs;

/* Sampling options given on the command line (the others may come from --config). */
enum { SET_N = 1, SET_T = 2, SET_TOP_P = 4, SET_TOP_K = 8, SET_MIN_P = 16, SET_MAX = 32, SET_SEED = 64, SET_STOP = 128 };

/* A train config's rollout section for the options not given. */
static void rollout_from_job(RolloutConfig *rc, const JobConfig *job, unsigned given, const char **stops) {
    if (!(given & SET_N)) rc->num_generations = (int)job->num_generations;
    if (!(given & SET_T)) rc->temperature = (float)job->temperature;
    if (!(given & SET_TOP_P)) rc->top_p = (float)job->top_p;
    if (!(given & SET_TOP_K)) rc->top_k = (int)job->top_k;
    if (!(given & SET_MIN_P)) rc->min_p = (float)job->min_p;
    if (!(given & SET_MAX)) rc->max_completion_length = (int)job->max_completion_length;
    if (!(given & SET_SEED)) rc->seed = (uint64_t)job->seed;
    if (!(given & SET_STOP) && cJSON_IsArray(job->stop)) {
        rc->n_stop = 0;
        for (const cJSON *it = job->stop->child; it && rc->n_stop < MAX_STOP; it = it->next)
            if (cJSON_IsString(it) && it->valuestring[0]) stops[rc->n_stop++] = it->valuestring;
    }
}

/* "key=<value as a JSON string>" for jobconfig_load's overrides. */
static char *set_string(const char *key, const char *value) {
    cJSON *v = cJSON_CreateString(value);
    char *j = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    size_t n = strlen(key) + strlen(j) + 2;
    char *out = xmalloc(n);
    snprintf(out, n, "%s=%s", key, j);
    free(j);
    return out;
}

/* One line per sample of group g (prompt number i) into b. */
static void group_lines(StrBuf *b, const cJSON *ex, const char *rendered, uint64_t i, const RolloutGroup *g,
                        int token_ids) {
    for (int j = 0; j < g->n_samples; j++) {
        const RolloutSample *s = &g->samples[j];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "prompt", rendered);
        char *text = utf8_sanitize(s->text, s->text_len);
        cJSON_AddStringToObject(o, "completion", text);
        free(text);
        for (const cJSON *it = ex->child; it; it = it->next)
            if (strcmp(it->string, "prompt") && strcmp(it->string, "completion"))
                cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
        cJSON_AddNumberToObject(o, "n_tokens", s->n);
        cJSON_AddStringToObject(o, "finish_reason", finish_reason_name(s->finish));
        cJSON_AddNumberToObject(o, "group", (double)i);
        cJSON_AddNumberToObject(o, "index", j);
        if (token_ids) cJSON_AddItemToObject(o, "token_ids", cJSON_CreateIntArray(s->ids, s->n));
        char *line = cJSON_PrintUnformatted(o);
        strbuf_cat(b, line);
        strbuf_cat(b, "\n");
        free(line);
        cJSON_Delete(o);
    }
}

/* Prompts at a time: enough to batch the rollout, few enough that each
 * chunk's lines are written soon. */
#define CHUNK 8

/* --prompts / --config: every prompt of the dataset, N samples each. */
static int generate_dataset(const char *model_path, RolloutConfig *rc, unsigned given, const char *tmpl,
                            const DataArgs *da) {
    char *sets[4];
    size_t n_sets = 0;
    if (da->prompts) sets[n_sets++] = set_string("data.train_file", da->prompts);
    if (tmpl) sets[n_sets++] = set_string("data.template", tmpl);
    if (da->prompt_field) sets[n_sets++] = set_string("data.prompt_field", da->prompt_field);
    if (da->answer_field) sets[n_sets++] = set_string("data.answer_field", da->answer_field);
    JobConfig job;
    int rc_load = jobconfig_load(&job, JOB_TRAIN, da->config, (const char *const *)sets, n_sets);
    for (size_t i = 0; i < n_sets; i++) free(sets[i]);
    if (rc_load) {
        jobconfig_free(&job);
        return cli_fail("generate");
    }
    const char *stops[MAX_STOP];
    if (da->config) {
        rollout_from_job(rc, &job, given, stops);
        if (!(given & SET_STOP)) rc->stop = stops;
        if (!model_path) model_path = job.model_path;
    }
    if (!model_path) {
        jobconfig_free(&job);
        return cli_usage_error("generate", "--model is required (or a --config with model.path)");
    }
    if (!job.train_file && !(job.generator && da->limit > 0)) {
        jobconfig_free(&job);
        return cli_usage_error("generate", "--prompts FILE.jsonl is required (or a --config with data.train_file, "
                                           "or with data.generator and --limit N)");
    }
    if (rollout_config_check(rc)) {
        jobconfig_free(&job);
        return cli_usage_error("generate", "%s", err_msg());
    }
    PromptSource src;
    if (prompts_open(&src, &job, 0)) {
        jobconfig_free(&job);
        return cli_fail("generate");
    }
    FILE *out = da->output ? fopen(da->output, "w") : stdout;
    if (!out) {
        ERR("%s: cannot write: %s", da->output, strerror(errno));
        prompts_close(&src);
        jobconfig_free(&job);
        return cli_fail("generate");
    }
    Model m;
    Tokenizer *tok = NULL;
    RolloutWorker *w = NULL;
    int status = model_open(model_path, &m, NULL, &tok) ? -1 : 0;
    int have_model = status == 0;
    if (status == 0) status = rollout_worker_init(&w, &m, tok);
    uint64_t n = src.n; /* 0: a generator's endless split, cut by --limit */
    if (da->limit > 0 && (n == 0 || (uint64_t)da->limit < n)) n = (uint64_t)da->limit;
    size_t lines = 0;
    double t0 = now_seconds();
    for (uint64_t first = 0; status == 0 && first < n; first += CHUNK) {
        int k = (int)(n - first < CHUNK ? n - first : CHUNK);
        cJSON *ex[CHUNK] = {0};
        char *text[CHUNK] = {0};
        RolloutPrompt rp[CHUNK];
        for (int i = 0; i < k && status == 0; i++) {
            status = prompts_get(&src, first + (uint64_t)i, &ex[i]);
            const cJSON *q = status ? NULL : cJSON_GetObjectItemCaseSensitive(ex[i], "prompt");
            if (status == 0 && !cJSON_IsString(q))
                status = ERR("%s: prompt %llu has no prompt text", prompts_name(&src), (unsigned long long)(first + i));
            if (status == 0) status = template_render(job.template_name, q->valuestring, &text[i]);
            rp[i] = (RolloutPrompt){.text = text[i], .index = (uint32_t)(first + (uint64_t)i)};
        }
        RolloutGroup g[CHUNK];
        if (status == 0) status = rollout_generate(w, rc, 0, rp, k, g, NULL);
        if (status == 0) {
            StrBuf b = {0};
            for (int i = 0; i < k; i++) group_lines(&b, ex[i], text[i], first + (uint64_t)i, &g[i], da->token_ids);
            lines += (size_t)k * (size_t)rc->num_generations;
            if (fwrite(b.p, 1, b.n, out) != b.n || fflush(out))
                status = ERR("%s: write failed: %s", da->output ? da->output : "stdout", strerror(errno));
            free(b.p);
            rollout_groups_free(g, k);
        }
        for (int i = 0; i < k; i++) cJSON_Delete(ex[i]), free(text[i]);
    }
    if (status == 0)
        fprintf(stderr, "grpo generate: %llu prompts x %d samples = %zu lines from %s in %.1f s\n",
                (unsigned long long)n, rc->num_generations, lines, prompts_name(&src), now_seconds() - t0);
    if (out != stdout && fclose(out) && status == 0) status = ERR("%s: %s", da->output, strerror(errno));
    rollout_worker_free(w);
    tokenizer_free(tok);
    if (have_model) model_free(&m);
    prompts_close(&src);
    jobconfig_free(&job);
    return status ? cli_fail("generate") : EXIT_OK;
}

int cmd_generate(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *model_path = NULL, *prompt = NULL, *tmpl = NULL, *stops[MAX_STOP];
    RolloutConfig rc;
    rollout_config_default(&rc);
    rc.num_generations = 1;
    int json = 0;
    unsigned given = 0;
    DataArgs da = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        if (!strcmp(a, "--ignore-eos")) {
            rc.ignore_eos = 1;
            continue;
        }
        if (!strcmp(a, "--token-ids")) {
            da.token_ids = 1;
            continue;
        }
        if (strncmp(a, "--", 2)) return cli_usage_error("generate", "unexpected argument '%s'", a);
        if (i + 1 >= argc) return cli_usage_error("generate", "%s needs a value", a);
        const char *v = argv[++i];
        long l;
        if (!strcmp(a, "--model")) {
            model_path = v;
        } else if (!strcmp(a, "--prompt")) {
            prompt = v;
        } else if (!strcmp(a, "--prompts")) {
            da.prompts = v;
        } else if (!strcmp(a, "--config")) {
            da.config = v;
        } else if (!strcmp(a, "--prompt-field")) {
            da.prompt_field = v;
        } else if (!strcmp(a, "--answer-field")) {
            da.answer_field = v;
        } else if (!strcmp(a, "--output")) {
            da.output = v;
        } else if (!strcmp(a, "--limit")) {
            if (cli_parse_long(v, 1, 1L << 40, &da.limit))
                return cli_usage_error("generate", "--limit must be an integer >= 1, got '%s'", v);
        } else if (!strcmp(a, "--template")) {
            tmpl = v;
        } else if (!strcmp(a, "--n")) {
            if (cli_parse_long(v, 1, 1 << 20, &l))
                return cli_usage_error("generate", "--n must be an integer >= 1, got '%s'", v);
            rc.num_generations = (int)l;
            given |= SET_N;
        } else if (!strcmp(a, "--max-new-tokens")) {
            if (cli_parse_long(v, 1, 1 << 24, &l))
                return cli_usage_error("generate", "--max-new-tokens must be an integer >= 1, got '%s'", v);
            rc.max_completion_length = (int)l;
            given |= SET_MAX;
        } else if (!strcmp(a, "--top-k")) {
            if (cli_parse_long(v, 0, 1 << 30, &l))
                return cli_usage_error("generate", "--top-k must be an integer >= 0 (0 = off), got '%s'", v);
            rc.top_k = (int)l;
            given |= SET_TOP_K;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_u64(v, &rc.seed))
                return cli_usage_error("generate", "--seed must be a non-negative integer, got '%s'", v);
            given |= SET_SEED;
        } else if (!strcmp(a, "--temperature") || !strcmp(a, "--top-p") || !strcmp(a, "--min-p")) {
            float *dst = !strcmp(a, "--temperature") ? &rc.temperature : !strcmp(a, "--top-p") ? &rc.top_p : &rc.min_p;
            if (cli_parse_float(v, dst)) return cli_usage_error("generate", "%s must be a number, got '%s'", a, v);
            given |= !strcmp(a, "--temperature") ? SET_T : !strcmp(a, "--top-p") ? SET_TOP_P : SET_MIN_P;
        } else if (!strcmp(a, "--stop")) {
            if (rc.n_stop >= MAX_STOP) return cli_usage_error("generate", "at most %d --stop strings", MAX_STOP);
            if (!v[0]) return cli_usage_error("generate", "--stop needs a non-empty string");
            stops[rc.n_stop++] = v;
            given |= SET_STOP;
        } else {
            return cli_usage_error("generate", "unknown option '%s'", a);
        }
    }
    rc.stop = stops;
    if (tmpl && template_check(tmpl)) return cli_usage_error("generate", "--template: %s", err_msg());
    if (da.prompts || da.config) {
        if (prompt) return cli_usage_error("generate", "give --prompt or --prompts/--config, not both");
        if (json) return cli_usage_error("generate", "--json is for --prompt; --prompts always writes JSON lines");
        return generate_dataset(model_path, &rc, given, tmpl, &da);
    }
    if (da.prompt_field || da.answer_field || da.output || da.limit || da.token_ids)
        return cli_usage_error("generate", "--prompt-field, --answer-field, --output, --limit and --token-ids go "
                                           "with --prompts");
    if (!model_path) return cli_usage_error("generate", "--model is required");
    if (!prompt) return cli_usage_error("generate", "--prompt is required (or --prompts FILE.jsonl)");
    if (rollout_config_check(&rc)) return cli_usage_error("generate", "%s", err_msg());

    Model m;
    Tokenizer *tok;
    if (model_open(model_path, &m, NULL, &tok)) return cli_fail("generate");
    int rcode = EXIT_FAIL;
    RolloutWorker *w = NULL;
    char *text = NULL;
    if (tmpl && template_render(tmpl, prompt, &text)) goto out;
    if (rollout_worker_init(&w, &m, tok)) goto out;
    RolloutPrompt p = {text ? text : prompt, NULL, 0, 0};
    RolloutCallbacks cb = {NULL, NULL, NULL};
    if (!json && rc.num_generations == 1) cb.on_text = on_text;
    if (!json && rc.num_generations > 1) cb.on_done = on_done;
    RolloutGroup g;
    if (rollout_generate(w, &rc, 0, &p, 1, &g, &cb)) goto out;
    if (json) {
        for (int i = 0; i < g.n_samples; i++) print_sample_json(i, g.n_prompt, &g.samples[i]);
    } else if (rc.num_generations == 1) {
        printf("\n");
    }
    fflush(stdout);
    rollout_groups_free(&g, 1);
    rcode = EXIT_OK;
out:
    if (rcode != EXIT_OK) cli_fail("generate");
    rollout_worker_free(w);
    tokenizer_free(tok);
    free(text);
    model_free(&m);
    return rcode;
}
