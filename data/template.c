/*
 * template.c: the built-in prompt templates and custom {prompt} templates
 * (see template.h).
 * Not for: chat histories with several turns, tool calls, Jinja.
 */
#include "template.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "common/json.h"

const char *const template_builtin_names[] = {"r1zero", "chatml", "llama3", "raw", NULL};

/* The R1-Zero paper's template (DeepSeek-AI 2025, Table 1); the model goes
 * on with " <think> ... </think> <answer> ... </answer>". */
static const char R1ZERO_HEAD[] =
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with "
    "the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> "
    "</answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here "
    "</answer>. User: ";
static const char R1ZERO_TAIL[] = ". Assistant:";

static int builtin_index(const char *spec) {
    for (int i = 0; template_builtin_names[i]; i++)
        if (!strcmp(spec, template_builtin_names[i])) return i;
    return -1;
}

/* Walks a custom template; with out == NULL only validates. */
static int render_custom(const char *spec, const char *prompt, StrBuf *out) {
    static const char PH[] = "{prompt}";
    int n_ph = 0;
    for (size_t i = 0; spec[i];) {
        if (!strncmp(spec + i, PH, sizeof PH - 1)) {
            if (out) strbuf_cat(out, prompt);
            n_ph++;
            i += sizeof PH - 1;
        } else if ((spec[i] == '{' && spec[i + 1] == '{') || (spec[i] == '}' && spec[i + 1] == '}')) {
            if (out) strbuf_add(out, spec + i, 1);
            i += 2;
        } else if (spec[i] == '{' || spec[i] == '}') {
            int near = 0;
            while (near < 16 && spec[i + near] && spec[i + near] != '\n') near++;
            return ERR("template: unexpected '%c' at offset %zu (near \"%.*s\"); the only placeholder is {prompt}, "
                       "write {{ and }} for literal braces",
                       spec[i], i, near, spec + i);
        } else {
            size_t j = i;
            while (spec[j] && spec[j] != '{' && spec[j] != '}') j++;
            if (out) strbuf_add(out, spec + i, j - i);
            i = j;
        }
    }
    if (n_ph == 0) return ERR("template: a custom template needs a {prompt} placeholder");
    return 0;
}

int template_check(const char *spec) {
    if (!spec) return ERR("template: missing (use one of r1zero, chatml, llama3, raw, or a string with {prompt})");
    if (builtin_index(spec) >= 0) return 0;
    if (!strchr(spec, '{')) {
        char lower[64];
        size_t k = 0;
        for (; spec[k] && k < sizeof lower - 1; k++)
            lower[k] = (char)(spec[k] >= 'A' && spec[k] <= 'Z' ? spec[k] + 32 : spec[k]);
        lower[k] = '\0';
        const char *near = nearest_word(lower, template_builtin_names, 4);
        if (near)
            return ERR("template '%s' is unknown; did you mean '%s'? built-ins: r1zero, chatml, llama3, raw; or "
                       "write a custom template containing {prompt}",
                       spec, near);
        return ERR("template '%.60s' is not a built-in (r1zero, chatml, llama3, raw) and has no {prompt} "
                   "placeholder",
                   spec);
    }
    return render_custom(spec, NULL, NULL);
}

int template_render_system(const char *spec, const char *system, const char *prompt, char **out) {
    *out = NULL;
    if (template_check(spec)) return -1;
    if (!prompt) return ERR("template: no prompt given");
    int has_system = system && system[0];
    int b = builtin_index(spec);
    StrBuf s = {0};
    strbuf_add(&s, "", 0);
    switch (b) {
    case 0: /* r1zero */
        if (has_system) goto no_system;
        strbuf_cat(&s, R1ZERO_HEAD);
        strbuf_cat(&s, prompt);
        strbuf_cat(&s, R1ZERO_TAIL);
        break;
    case 1: /* chatml (Qwen instruct) */
        if (has_system) {
            strbuf_cat(&s, "<|im_start|>system\n");
            strbuf_cat(&s, system);
            strbuf_cat(&s, "<|im_end|>\n");
        }
        strbuf_cat(&s, "<|im_start|>user\n");
        strbuf_cat(&s, prompt);
        strbuf_cat(&s, "<|im_end|>\n<|im_start|>assistant\n");
        break;
    case 2: /* llama3 */
        strbuf_cat(&s, "<|begin_of_text|>");
        if (has_system) {
            strbuf_cat(&s, "<|start_header_id|>system<|end_header_id|>\n\n");
            strbuf_cat(&s, system);
            strbuf_cat(&s, "<|eot_id|>");
        }
        strbuf_cat(&s, "<|start_header_id|>user<|end_header_id|>\n\n");
        strbuf_cat(&s, prompt);
        strbuf_cat(&s, "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
        break;
    case 3: /* raw */
        if (has_system) goto no_system;
        strbuf_cat(&s, prompt);
        break;
    default:
        if (has_system) goto no_system;
        render_custom(spec, prompt, &s); /* validated above */
        break;
    }
    *out = s.p;
    return 0;
no_system:
    free(s.p);
    return ERR("template '%.40s' has no system slot; a system message needs chatml or llama3 (or write it into a "
               "custom template)",
               spec);
}

int template_render(const char *spec, const char *prompt, char **out) {
    return template_render_system(spec, NULL, prompt, out);
}
