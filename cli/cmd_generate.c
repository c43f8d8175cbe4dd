/*
 * cmd_generate.c: `grpo generate`: samples completions of one prompt with
 * the rollout engine (the same code the trainer's rollouts run), streaming
 * text to the terminal or printing one JSON object per sample.
 * Not for: sampling logic (rollout/), templates (data/template.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/io/loader.h"
#include "common/common.h"
#include "common/utf8.h"
#include "data/template.h"
#include "rollout/rollout.h"

#define MAX_STOP 32

static void usage(FILE *f) {
    fprintf(f,
            "usage: grpo generate --model M --prompt TEXT [--n N] [--temperature T] [--top-p P]\n"
            "                     [--top-k K] [--min-p P] [--max-new-tokens L] [--seed S]\n"
            "                     [--stop STR]... [--template NAME] [--ignore-eos] [--json]\n"
            "\n"
            "Samples N completions of TEXT with the rollout engine (docs/rollout.md).\n"
            "\n"
            "  --model M           an HF model directory or a grpo .h5 checkpoint (needs tokenizer.json)\n"
            "  --prompt TEXT       the prompt; special tokens written in it (<|im_start|>) are matched\n"
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
        if (strncmp(a, "--", 2)) return cli_usage_error("generate", "unexpected argument '%s'", a);
        if (i + 1 >= argc) return cli_usage_error("generate", "%s needs a value", a);
        const char *v = argv[++i];
        long l;
        if (!strcmp(a, "--model")) {
            model_path = v;
        } else if (!strcmp(a, "--prompt")) {
            prompt = v;
        } else if (!strcmp(a, "--template")) {
            tmpl = v;
        } else if (!strcmp(a, "--n")) {
            if (cli_parse_long(v, 1, 1 << 20, &l))
                return cli_usage_error("generate", "--n must be an integer >= 1, got '%s'", v);
            rc.num_generations = (int)l;
        } else if (!strcmp(a, "--max-new-tokens")) {
            if (cli_parse_long(v, 1, 1 << 24, &l))
                return cli_usage_error("generate", "--max-new-tokens must be an integer >= 1, got '%s'", v);
            rc.max_completion_length = (int)l;
        } else if (!strcmp(a, "--top-k")) {
            if (cli_parse_long(v, 0, 1 << 30, &l))
                return cli_usage_error("generate", "--top-k must be an integer >= 0 (0 = off), got '%s'", v);
            rc.top_k = (int)l;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_u64(v, &rc.seed))
                return cli_usage_error("generate", "--seed must be a non-negative integer, got '%s'", v);
        } else if (!strcmp(a, "--temperature") || !strcmp(a, "--top-p") || !strcmp(a, "--min-p")) {
            float *dst = !strcmp(a, "--temperature") ? &rc.temperature : !strcmp(a, "--top-p") ? &rc.top_p : &rc.min_p;
            if (cli_parse_float(v, dst)) return cli_usage_error("generate", "%s must be a number, got '%s'", a, v);
        } else if (!strcmp(a, "--stop")) {
            if (rc.n_stop >= MAX_STOP) return cli_usage_error("generate", "at most %d --stop strings", MAX_STOP);
            if (!v[0]) return cli_usage_error("generate", "--stop needs a non-empty string");
            stops[rc.n_stop++] = v;
        } else {
            return cli_usage_error("generate", "unknown option '%s'", a);
        }
    }
    if (!model_path) return cli_usage_error("generate", "--model is required");
    if (!prompt) return cli_usage_error("generate", "--prompt is required");
    rc.stop = stops;
    if (rollout_config_check(&rc)) return cli_usage_error("generate", "%s", err_msg());
    if (tmpl && template_check(tmpl)) return cli_usage_error("generate", "--template: %s", err_msg());

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
