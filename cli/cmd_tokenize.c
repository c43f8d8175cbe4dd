/*
 * cmd_tokenize.c: `grpo tokenize` (text -> JSON array of ids) and
 * `grpo detokenize` (ids -> text), for checking what the model sees.
 * Not for: templates (the text is tokenized as given).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/io/loader.h"
#include "common/common.h"
#include "model/tokenizer/tokenizer.h"

static void tokenize_help(void) {
    printf("usage: grpo tokenize --model M (--text TEXT | --file F) [--no-special]\n"
           "\n"
           "Prints the token ids of TEXT (or of the bytes of file F) as a JSON array.\n"
           "No special tokens are added; special tokens written in the text, such as\n"
           "<|im_start|>, are matched (as HF tokenizers does with add_special_tokens=False).\n"
           "\n"
           "  --model M      an HF model directory (with tokenizer.json) or a tokenizer.json\n"
           "  --text TEXT    the text to encode\n"
           "  --file F       encode the bytes of file F instead ('-' reads stdin)\n"
           "  --no-special   do not match special tokens: encode their text as plain text\n");
}

static void detokenize_help(void) {
    printf("usage: grpo detokenize --model M [--ids '[1,2,3]'] [--skip-special]\n"
           "\n"
           "Prints the bytes the ids decode to, followed by one newline. Without --ids the\n"
           "ids are read from stdin. Ids may be written as a JSON array or separated by\n"
           "spaces or commas.\n"
           "\n"
           "  --model M        an HF model directory (with tokenizer.json) or a tokenizer.json\n"
           "  --ids IDS        the token ids\n"
           "  --skip-special   leave special tokens out of the text\n");
}

static char *read_stream(FILE *f, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) buf = xrealloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int cmd_tokenize(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        tokenize_help();
        return EXIT_OK;
    }
    const char *model = NULL, *text = NULL, *file = NULL;
    int allow_special = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--no-special")) {
            allow_special = 0;
        } else if (!strcmp(a, "--model") || !strcmp(a, "--text") || !strcmp(a, "--file")) {
            if (i + 1 >= argc) return cli_usage_error("tokenize", "%s needs a value", a);
            const char **dst = a[2] == 'm' ? &model : a[2] == 't' ? &text : &file;
            *dst = argv[++i];
        } else {
            return cli_usage_error("tokenize", "unknown argument '%s'", a);
        }
    }
    if (!model) return cli_usage_error("tokenize", "--model is required");
    if (!!text == !!file) return cli_usage_error("tokenize", "give exactly one of --text and --file");
    Tokenizer *tok;
    if (model_open_tokenizer(model, &tok)) {
        err_prefix("--model");
        return cli_fail("tokenize");
    }
    size_t len;
    char *buf = NULL;
    if (file) {
        if (!strcmp(file, "-")) {
            buf = read_stream(stdin, &len);
        } else if (!(buf = file_read_all(file, &len))) {
            tokenizer_free(tok);
            return cli_fail("tokenize");
        }
    } else {
        len = strlen(text);
    }
    TokenIds ids = {0};
    int rc = tokenizer_encode(tok, buf ? buf : text, len, allow_special, &ids);
    if (!rc) {
        putchar('[');
        for (size_t i = 0; i < ids.n; i++) printf(i ? ", %d" : "%d", ids.ids[i]);
        printf("]\n");
    }
    token_ids_free(&ids);
    free(buf);
    tokenizer_free(tok);
    return rc ? cli_fail("tokenize") : EXIT_OK;
}

/* Parses "[1, 2, 3]", "1 2 3" or "1,2,3" into ids. */
static int parse_ids(const char *s, TokenIds *out) {
    const char *p = s;
    while (*p && (isspace((unsigned char)*p))) p++;
    int bracket = *p == '[';
    if (bracket) p++;
    for (;;) {
        while (*p && (isspace((unsigned char)*p) || *p == ',')) p++;
        if (!*p || *p == ']') break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > 0x7fffffff)
            return ERR("--ids: expected a token id at \"%.20s\"; write ids as [1, 2, 3] or 1 2 3", p);
        token_ids_push(out, (int)v);
        p = end;
    }
    if (bracket && *p != ']') return ERR("--ids: missing the closing ']'");
    if (*p == ']') p++;
    while (*p && isspace((unsigned char)*p)) p++;
    if (*p) return ERR("--ids: unexpected \"%.20s\" after the ids", p);
    return 0;
}

int cmd_detokenize(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        detokenize_help();
        return EXIT_OK;
    }
    const char *model = NULL, *ids_arg = NULL;
    int skip_special = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--skip-special")) {
            skip_special = 1;
        } else if (!strcmp(a, "--model") || !strcmp(a, "--ids")) {
            if (i + 1 >= argc) return cli_usage_error("detokenize", "%s needs a value", a);
            if (a[2] == 'm') model = argv[++i];
            else ids_arg = argv[++i];
        } else {
            return cli_usage_error("detokenize", "unknown argument '%s'", a);
        }
    }
    if (!model) return cli_usage_error("detokenize", "--model is required");
    char *stdin_buf = NULL;
    if (!ids_arg) {
        size_t n;
        ids_arg = stdin_buf = read_stream(stdin, &n);
    }
    TokenIds ids = {0};
    if (parse_ids(ids_arg, &ids)) {
        free(stdin_buf);
        token_ids_free(&ids);
        fprintf(stderr, "grpo detokenize: %s\n", err_msg());
        return EXIT_USAGE;
    }
    free(stdin_buf);
    Tokenizer *tok;
    if (model_open_tokenizer(model, &tok)) {
        token_ids_free(&ids);
        err_prefix("--model");
        return cli_fail("detokenize");
    }
    char *text;
    size_t len;
    int rc = tokenizer_decode(tok, ids.ids, ids.n, skip_special, &text, &len);
    if (!rc) {
        fwrite(text, 1, len, stdout);
        putchar('\n');
        free(text);
    }
    token_ids_free(&ids);
    tokenizer_free(tok);
    return rc ? cli_fail("detokenize") : EXIT_OK;
}
