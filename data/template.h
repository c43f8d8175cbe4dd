/*
 * template.h: prompt templates: how a dataset's question becomes the text
 * the model continues. Built-ins (`r1zero`, `chatml`, `llama3`, `raw`) or a
 * custom string with a {prompt} placeholder; no Jinja.
 * Not for: tokenization (the rendered text is tokenized with special tokens
 * matched, so <|im_start|> etc. written by a template become single tokens).
 *
 *     char *text;
 *     if (template_render("chatml", "What is 2+3?", &text)) return -1;
 *     ... free(text);
 *
 * Custom templates: every {prompt} is replaced by the prompt; {{ and }} stand
 * for literal { and }; any other brace is an error (so a typo such as
 * {promt} is caught), e.g. "Q: {prompt}\nPut the answer in \\boxed{{}}.\nA:".
 */
#ifndef GRPO_TEMPLATE_H
#define GRPO_TEMPLATE_H

/* The built-in template names, NULL-terminated. */
extern const char *const template_builtin_names[];

/* Checks that spec is a built-in name or a well-formed custom template, so a
 * config can be refused at load time. The message names the problem and the
 * valid choices (with a "did you mean" for near-miss names). */
int template_check(const char *spec);

/* Renders spec with prompt into *out (a new NUL-terminated string, caller
 * frees). The prompt is inserted as is (braces in it are not special). On
 * failure *out is NULL and the error says why (see template_check). */
int template_render(const char *spec, const char *prompt, char **out);

/* template_render with a system message: chatml and llama3 put it in a
 * system turn; NULL or "" means none. Other templates have no system slot
 * and fail if one is given. */
int template_render_system(const char *spec, const char *system, const char *prompt, char **out);

#endif
