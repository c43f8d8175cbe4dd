/*
 * test_template.c: the built-in prompt templates render exactly the text
 * their models were trained on; custom {prompt} templates, brace escapes
 * and the errors for bad templates.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/template.h"
#include "test.h"

static void expect(const char *spec, const char *system, const char *prompt, const char *want) {
    char *out = NULL;
    int rc = template_render_system(spec, system, prompt, &out);
    TEST_CHECK(rc == 0 && out && !strcmp(out, want), "template '%.20s': got\n%s\nwant\n%s\n(%s)", spec,
               out ? out : "(null)", want, rc ? err_msg() : "");
    free(out);
}

static void expect_error(const char *spec, const char *system, const char *want) {
    char *out = (char *)1;
    int rc = template_render_system(spec, system, "x", &out);
    TEST_CHECK(rc == -1 && out == NULL && strstr(err_msg(), want), "template '%s': error '%s' lacks '%s'",
               spec ? spec : "(null)", rc ? err_msg() : "(none)", want);
    if (rc == -1) printf("refused: %s\n", err_msg());
    TEST_CHECK(template_check(spec) == -1 || system, "template_check refuses '%s'", spec ? spec : "(null)");
}

int main(void) {
    expect("r1zero", NULL, "What is 2+3?",
           "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
           "assistant first thinks about the reasoning process in the mind and then provides the user with the "
           "answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> "
           "tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. "
           "User: What is 2+3?. Assistant:");
    expect("chatml", NULL, "Hi", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    expect("chatml", "", "Hi", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    expect("chatml", "Be brief.", "Hi",
           "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    expect("llama3", NULL, "Hi",
           "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant"
           "<|end_header_id|>\n\n");
    expect("llama3", "Be brief.", "Hi",
           "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>"
           "user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    expect("raw", NULL, "just {this}", "just {this}");
    expect("Q: {prompt}\nA:", NULL, "1+1", "Q: 1+1\nA:");
    expect("{prompt} and again {prompt}", NULL, "p", "p and again p");
    expect("Put it in \\boxed{{}}: {prompt} }}{{", NULL, "{x}", "Put it in \\boxed{}: {x} }{");
    expect("{prompt}", NULL, "", "");

    expect_error("r1zer0", NULL, "did you mean 'r1zero'");
    expect_error("ChatML", NULL, "did you mean 'chatml'");
    expect_error("something else", NULL, "has no {prompt} placeholder");
    expect_error("Q: {question}", NULL, "unexpected '{' at offset 3");
    expect_error("Q: {prompt} }", NULL, "unexpected '}' at offset 12");
    expect_error("\\boxed{} {prompt}", NULL, "write {{ and }} for literal braces");
    expect_error("{{prompt}}", NULL, "needs a {prompt} placeholder");
    expect_error(NULL, NULL, "missing");
    expect_error("r1zero", "sys", "has no system slot");
    expect_error("raw", "sys", "has no system slot");
    expect_error("A {prompt}", "sys", "has no system slot");
    TEST_CHECK(template_check("llama3") == 0 && template_check("x {prompt} y") == 0, "valid templates pass");
    return test_summary();
}
