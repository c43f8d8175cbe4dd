/*
 * cmd_score.c: `grpo score`: the per-token log-probs of a completion given
 * a prompt under a model, by the training forward (rollout_score), as JSON.
 * Not for: batches of completions (the trainer scores those itself).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/io/loader.h"
#include "common/common.h"
#include "data/template.h"
#include "rollout/rollout.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: grpo score --model M --prompt TEXT --completion TEXT [--template NAME]\n"
            "\n"
            "Prints the completion's token ids and their log-probs under M given the prompt, as\n"
            "one JSON object:\n"
            "  {\"prompt_ids\": [...], \"completion_ids\": [...], \"logprobs\": [...], \"logprob_sum\": x}\n"
            "logprobs[j] is the log-softmax at temperature 1 of completion_ids[j] given the prompt\n"
            "and the completion before it, computed by the same forward pass the trainer uses.\n"
            "\n"
            "The prompt and the completion are tokenized SEPARATELY (special tokens such as\n"
            "<|im_start|> written in them are matched; nothing is added) and their ids\n"
            "concatenated, as the trainer sees a prompt and its sampled completion. This can\n"
            "differ from tokenizing prompt + completion as one string at the seam.\n"
            "\n"
            "  --model M          an HF model directory or a grpo .h5 checkpoint (needs tokenizer.json)\n"
            "  --prompt TEXT      the prompt (non-empty)\n"
            "  --completion TEXT  the completion to score (non-empty)\n"
            "  --template NAME    render the prompt with a template first (r1zero, chatml, llama3,\n"
            "                     raw, or a string with {prompt})\n");
}

static void print_ids(const char *key, const TokenIds *ids) {
    printf("\"%s\": [", key);
    for (size_t i = 0; i < ids->n; i++) printf(i ? ", %d" : "%d", ids->ids[i]);
    printf("]");
}

int cmd_score(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *model_path = NULL, *prompt = NULL, *completion = NULL, *tmpl = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = !strcmp(a, "--model")        ? &model_path
                           : !strcmp(a, "--prompt")     ? &prompt
                           : !strcmp(a, "--completion") ? &completion
                           : !strcmp(a, "--template")   ? &tmpl
                                                        : NULL;
        if (!dst) return cli_usage_error("score", "unknown argument '%s'", a);
        if (i + 1 >= argc) return cli_usage_error("score", "%s needs a value", a);
        *dst = argv[++i];
    }
    if (!model_path) return cli_usage_error("score", "--model is required");
    if (!prompt) return cli_usage_error("score", "--prompt is required");
    if (!completion) return cli_usage_error("score", "--completion is required");
    if (!completion[0]) return cli_usage_error("score", "--completion is empty; give at least one character");
    if (tmpl && template_check(tmpl)) return cli_usage_error("score", "--template: %s", err_msg());

    Model m;
    Tokenizer *tok;
    if (model_open(model_path, &m, NULL, &tok)) return cli_fail("score");
    int rcode = EXIT_FAIL;
    char *text = NULL;
    TokenIds pids = {0}, cids = {0};
    float *lp = NULL;
    if (tmpl && template_render(tmpl, prompt, &text)) goto out;
    const char *pt = text ? text : prompt;
    if (tokenizer_encode(tok, pt, strlen(pt), 1, &pids) ||
        tokenizer_encode(tok, completion, strlen(completion), 1, &cids))
        goto out;
    lp = xmalloc((cids.n ? cids.n : 1) * sizeof(float));
    if (rollout_score(&m, pids.ids, (int)pids.n, cids.ids, (int)cids.n, lp, NULL)) goto out;
    double sum = 0;
    printf("{");
    print_ids("prompt_ids", &pids);
    printf(", ");
    print_ids("completion_ids", &cids);
    printf(", \"logprobs\": [");
    for (size_t i = 0; i < cids.n; i++) {
        sum += lp[i];
        if (i) printf(", ");
        if (isfinite(lp[i]))
            printf("%.9g", (double)lp[i]);
        else
            printf("null");
    }
    if (isfinite(sum))
        printf("], \"logprob_sum\": %.9g}\n", sum);
    else
        printf("], \"logprob_sum\": null}\n");
    rcode = EXIT_OK;
out:
    if (rcode != EXIT_OK) cli_fail("score");
    free(lp);
    token_ids_free(&pids);
    token_ids_free(&cids);
    tokenizer_free(tok);
    free(text);
    model_free(&m);
    return rcode;
}
