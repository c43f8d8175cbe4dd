/*
 * test_report.c: the HTML report and the CSV export (trainer/report.h) on
 * synthetic run directories: a GRPO run (every trainer key, eval lines,
 * completions with hostile and invalid text, a cut last line), an SFT run
 * and a pipeline built from both with two evaluations. Checks which plots,
 * cards, tables and sections appear, that nothing from the files can
 * inject markup, that the page is valid UTF-8 and fetches nothing, the CSV
 * cells, and the errors.
 *   test_report [DIR]   builds the fixtures and reports under DIR (kept,
 *                       for tests/cli/test_report_chromium.sh)
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "common/rng.h"
#include "common/utf8.h"
#include "test.h"
#include "trainer/report.h"

static void write_text(const char *dir, const char *name, const char *text) {
    char *p = path_join(dir, name);
    if (file_write_atomic(p, text, strlen(text))) FATAL("%s", err_msg());
    free(p);
}

static FILE *open_w(const char *dir, const char *name) {
    char *p = path_join(dir, name);
    FILE *f = fopen(p, "w");
    if (!f) FATAL("cannot write %s", p);
    free(p);
    return f;
}

static char *read_text(const char *path) {
    char *t = file_read_all(path, NULL);
    if (!t) FATAL("%s", err_msg());
    return t;
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* A GRPO run: rewards rise, thinking and length grow (R1-Zero's curves),
 * with seeded noise. */
static void write_grpo_run(const char *dir, int steps, int groups, int group_size) {
    if (mkdir_p(dir)) FATAL("%s", err_msg());
    write_text(dir, "config.json",
               "{\"model\": {\"path\": \"runs/base/checkpoints/step-600.h5\"},\n"
               " \"rewards\": [{\"name\": \"math_accuracy\", \"label\": \"accuracy\"}, {\"name\": \"format\"}],\n"
               " \"train\": {\"steps\": 120, \"output_dir\": \"runs/<script>alert('cfg')</script>\"}}\n");
    FILE *f = open_w(dir, "metrics.jsonl");
    Rng r;
    rng_init(&r, 7, 0, 0, 0);
    for (int s = 1; s <= steps; s++) {
        double t = (double)s / steps, noise = 0.06 * (rng_uniform_double(&r) - 0.5);
        double acc = 0.35 + 0.5 * t + noise, fmt = 0.7 + 0.3 * t;
        double te = (double)(s - 1) / (steps - 1); /* evaluations run from exactly 0 to 1 */
        fprintf(f,
                "{\"step\": %d, \"loss\": %.5f, \"reward\": %.5f, \"reward_std\": %.4f, "
                "\"rewards/accuracy/mean\": %.5f, \"rewards/accuracy/std\": 0.3, \"rewards/format/mean\": %.5f, "
                "\"rewards/format/std\": 0.2, \"accuracy\": %.5f, \"completions/mean_length\": %.2f, "
                "\"completions/max_length\": %.0f, \"completions/min_length\": %.0f, \"completions/clipped_ratio\": %.3f, "
                "\"completions/think_rate\": %.4f, \"kl\": %.6f, \"entropy\": %.4f, \"clip_ratio/low_mean\": %.5f, "
                "\"clip_ratio/high_mean\": %.5f, \"clip_ratio/region_mean\": %.5f, \"grad_norm\": %.4f, "
                "\"learning_rate\": %.3g, \"frac_reward_zero_std\": %.3f, \"logprob_gap/max\": 1e-6, "
                "\"logprob_gap/mean\": 2e-7, \"num_tokens\": %d, \"tokens_per_second\": %.1f, \"time/rollout\": %.3f, "
                "\"time/reward\": 0.01, \"time/reference\": 0.2, \"time/train\": %.3f, \"time/comm\": 0.02, "
                "%s\"time/step\": %.3f, \"custom/thing\": %d, \"elapsed_seconds\": %.2f}\n",
                s, 0.01 * noise, acc + 0.2 * fmt, 0.4 - 0.1 * t, acc, fmt, acc, 21 + 13 * t + 10 * noise, 40 + 10 * t,
                8.0, 0.02 * (1 - t), 0.55 + 0.45 * t, 0.002 * t + 0.0001, 0.9 - 0.3 * t, 0.001 * t, 0.002 * t,
                0.003 * t, 0.5 + noise, s < 10 ? 3e-6 * s / 10 : 3e-6, 0.3 * (1 - t), 4000 + 10 * s,
                1500 + 100 * noise, 0.5 + 0.3 * t, 0.4, s % 50 == 0 ? "\"time/checkpoint\": 0.3, " : "",
                1.2 + 0.3 * t, s % 7, 1.3 * s);
        if (s == 1 || s % 20 == 0)
            fprintf(f,
                    "{\"step\": %d, \"eval/pass@1\": %.4f, \"eval/pass@k\": %.4f, \"eval/k\": 8, \"eval/maj@k\": %.4f, "
                    "\"eval/format_rate\": %.4f, \"eval/mean_length\": %.2f, \"eval/think_rate\": %.4f}\n",
                    s, 0.35 + 0.5 * te, 0.6 + 0.35 * te, 0.4 + 0.5 * te, 0.7 + 0.3 * te, 21 + 13 * te,
                    0.55 + 0.45 * te);
    }
    fprintf(f, "{\"step\": %d, \"loss\": 0.0", steps + 1); /* a line cut by a crash */
    fclose(f);

    f = open_w(dir, "completions.jsonl");
    /* raw invalid UTF-8 inside a JSON string (cJSON keeps the bytes) */
    fprintf(f, "{\"step\": 1, \"group\": 9, \"index\": 0, \"prompt\": \"p\", \"completion\": \"x\xff\xfey\", "
               "\"reward\": 0, \"rewards\": {}, \"advantage\": 0, \"n_tokens\": 3, \"finish_reason\": \"eos\"}\n");
    for (int s = 1; s <= steps; s += 10) {
        for (int g = 0; g < groups; g++) {
            for (int j = 0; j < group_size; j++) {
                const char *text = " <think> 3 + 4 = 7 </think> <answer> 7 </answer>";
                if (g == 0 && j == 1) text = "</pre></td></tr></table><script>alert('x')</script><img src=x onerror=alert(1)>";
                if (g == 0 && j == 2) text = "bad bytes \\u0001 and \\\"quotes\\\" & <b>tags</b>";
                fprintf(f,
                        "{\"step\": %d, \"group\": %d, \"index\": %d, \"prompt\": \"What is 3 + 4?<!-- -->\", "
                        "\"completion\": \"%s\", \"answer\": \"7\", \"reward\": %s, \"rewards\": {\"accuracy\": %s, "
                        "\"format\": 1}, \"advantage\": %.3f, \"n_tokens\": %d, \"finish_reason\": \"%s\"}\n",
                        s, g, j, text, j == 3 ? "null" : "1.2", j == 3 ? "null" : "1", 0.5 - 0.25 * j, 20 + j,
                        j == 3 ? "length" : "stop");
            }
        }
    }
    fclose(f);
}

static void write_sft_run(const char *dir) {
    if (mkdir_p(dir)) FATAL("%s", err_msg());
    write_text(dir, "config.json",
               "{\"model\": {\"init\": {\"hidden_size\": 64, \"num_hidden_layers\": 2}}, \"data\": "
               "{\"train_file\": \"corpus.jsonl\"}}\n");
    FILE *f = open_w(dir, "metrics.jsonl");
    for (int s = 10; s <= 300; s += 10) {
        fprintf(f,
                "{\"step\": %d, \"loss\": %.4f, \"grad_norm\": %.3f, \"learning_rate\": 0.003, \"tokens\": 4096, "
                "\"tokens_per_second\": 9000, \"epoch\": %.3f, \"elapsed_seconds\": %.1f}\n",
                s, 2.5 / (1 + 0.05 * s), 1.0 / (1 + 0.01 * s), s / 100.0, 0.1 * s);
        if (s % 100 == 0) fprintf(f, "{\"step\": %d, \"eval_loss\": %.4f}\n", s, 2.7 / (1 + 0.05 * s));
    }
    fclose(f);
}

static void write_eval(const char *dir, const char *model, double pass1, double think, double len) {
    if (mkdir_p(dir)) FATAL("%s", err_msg());
    char text[512];
    snprintf(text, sizeof text,
             "{\"model\": \"%s\", \"n_prompts\": 200, \"samples_per_prompt\": 8, "
             "\"temperature\": 1.0, \"pass@1\": %g, \"pass@k\": %g, \"k\": 8, \"maj@k\": %g, \"format_rate\": 0.9, "
             "\"mean_length\": %g, \"think_rate\": %g}\n",
             model, pass1, pass1 + 0.1, pass1 + 0.05, len, think);
    write_text(dir, "eval.json", text);
}

static void write_pipeline(const char *dir) {
    char *base = path_join(dir, "base"), *rl = path_join(dir, "rl"), *e0 = path_join(dir, "eval-before"), *e1 = path_join(dir, "eval-after");
    write_sft_run(base);
    write_grpo_run(rl, 60, 2, 4);
    write_eval(e0, "base/m.h5", 0.35, 0.55, 21);
    write_eval(e1, "rl/m.h5", 0.875, 1.0, 34);
    write_text(dir, "pipeline.json",
               "{\"name\": \"r1zero-tiny <seed 1>\", \"stages\": [\n"
               " {\"name\": \"base\", \"kind\": \"sft\", \"dir\": \"base\", \"status\": \"done\", \"model\": \"base/m.h5\"},\n"
               " {\"name\": \"eval-before\", \"kind\": \"eval\", \"dir\": \"eval-before\", \"status\": \"done\", \"model\": null},\n"
               " {\"name\": \"rl\", \"kind\": \"train\", \"dir\": \"rl\", \"status\": \"done\", \"model\": \"rl/m.h5\"},\n"
               " {\"name\": \"eval-after\", \"kind\": \"eval\", \"dir\": \"eval-after\", \"status\": \"done\", \"model\": null},\n"
               " {\"name\": \"distill\", \"kind\": \"distill\", \"dir\": \"distill\", \"status\": \"pending\", \"model\": null},\n"
               " {\"name\": \"report\", \"kind\": \"report\", \"dir\": \"report\", \"status\": \"pending\", \"model\": null}]}\n");
    free(base);
    free(rl);
    free(e0);
    free(e1);
}

/* Nothing in the page can run, load or inject: no script, img, iframe,
 * link, or URL; the whole file is valid UTF-8. */
static void check_safe(const char *html, const char *what) {
    const char *bad[] = {"<script", "<img", "<iframe", "<link", "http://", "https://", "<b>tags"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TEST_CHECK(!strstr(html, bad[i]), "%s: contains '%s'", what, bad[i]);
    const unsigned char *p = (const unsigned char *)html;
    size_t n = strlen(html), i = 0, invalid = 0;
    while (i < n) {
        size_t len = utf8_valid_len(p + i, n - i);
        invalid += len == 0;
        i += len ? len : 1;
    }
    TEST_CHECK(invalid == 0, "%s: %zu invalid UTF-8 bytes", what, invalid);
    TEST_CHECK(!strchr(html, '\x01'), "%s: a raw control character", what);
}

static void check_grpo_report(const char *dir) {
    double t0 = now_seconds();
    TEST_CHECK(report_write(dir, NULL) == 0, "report_write: %s", err_msg());
    printf("report of a 120-step GRPO run: %.1f ms\n", 1e3 * (now_seconds() - t0));
    char *path = path_join(dir, "report.html");
    char *html = read_text(path);
    const char *plots[] = {"Reward", "Reward spread within groups", "Accuracy and pass@1", "Completion length", "Think, format and truncation rates",
                           "Loss", "KL to the reference", "Entropy", "Clip fractions", "Gradient norm", "Learning rate",
                           "Time per step", "Groups with zero reward spread", "Rollout vs trainer log-prob gap",
                           "Throughput"};
    for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++) {
        char cap[128];
        snprintf(cap, sizeof cap, "<figcaption>%s</figcaption>", plots[i]);
        TEST_CHECK(strstr(html, cap) != NULL, "GRPO report lacks the plot '%s'", plots[i]);
    }
    /* named plots + num_tokens + custom/thing + elapsed_seconds as "other" */
    TEST_CHECK(count(html, "<svg") == 18, "GRPO report: %zu plots, want 18", count(html, "<svg"));
    TEST_CHECK(strstr(html, "<figcaption>custom/thing</figcaption>") != NULL, "unknown key not plotted");
    TEST_CHECK(!strstr(html, "<figcaption>eval/k</figcaption>") && !strstr(html, "<figcaption>rewards/accuracy/std"),
               "eval/k or a reward std plotted on its own");
    /* per-function reward lines named by their label, stacked time areas */
    TEST_CHECK(strstr(html, "class=\"legend\">accuracy</text>") && strstr(html, "class=\"legend\">format</text>"),
               "per-function reward legend");
    TEST_CHECK(strstr(html, "class=\"legend\">checkpoint</text>") && count(html, "fill-opacity=\"0.8\"") == 6,
               "time split: %zu stacked areas, want 6", count(html, "fill-opacity=\"0.8\""));
    TEST_CHECK(strstr(html, "class=\"tick\"") && strstr(html, ">step</text>"), "axes without tick labels");
    /* summary */
    TEST_CHECK(strstr(html, "<h1>") && strstr(html, "GRPO run \xc2\xb7 model runs/base/checkpoints/step-600.h5"),
               "title or subtitle");
    TEST_CHECK(strstr(html, ">Eval pass@1<") && strstr(html, "35.0% \xe2\x86\x92 85.0%") &&
                   strstr(html, "+50.0 points"),
               "eval pass@1 card");
    TEST_CHECK(strstr(html, ">Wall time<") && strstr(html, "2 min 36 s"), "wall time card");
    TEST_CHECK(strstr(html, "1 malformed line of metrics.jsonl skipped"), "cut line not counted");
    /* completions at the first, middle and last logged steps */
    TEST_CHECK(strstr(html, "Step 1 <span") && strstr(html, "Step 61 <span") && strstr(html, "Step 111 <span"),
               "completion steps");
    TEST_CHECK(strstr(html, "8 of 16 completions shown"), "shown/total count at the last step");
    TEST_CHECK(strstr(html, "&lt;/pre&gt;&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(&#39;x&#39;)"),
               "hostile completion not escaped as text");
    TEST_CHECK(strstr(html, "What is 3 + 4?&lt;!-- --&gt;"), "prompt not escaped");
    TEST_CHECK(strstr(html, "x\xef\xbf\xbd\xef\xbf\xbdy"), "invalid UTF-8 not replaced by U+FFFD");
    TEST_CHECK(strstr(html, "&lt;script&gt;alert(&#39;cfg&#39;)"), "config not shown escaped");
    TEST_CHECK(strstr(html, "accuracy: \xe2\x80\x93<br>"), "a null per-function reward is not a dash");
    check_safe(html, "GRPO report");
    free(html);

    /* --out elsewhere */
    char *other = path_join(dir, "elsewhere.html");
    TEST_CHECK(report_write(dir, other) == 0, "%s", err_msg());
    char *a = read_text(path), *b = read_text(other);
    TEST_CHECK(!strcmp(a, b), "the report depends on where it is written");
    free(a);
    free(b);
    free(other);
    free(path);
}

static void check_sft_report(const char *dir) {
    TEST_CHECK(report_write(dir, NULL) == 0, "report_write: %s", err_msg());
    char *path = path_join(dir, "report.html");
    char *html = read_text(path);
    TEST_CHECK(strstr(html, "<figcaption>Loss</figcaption>") && strstr(html, "class=\"legend\">eval</text>"),
               "SFT loss plot with eval loss");
    TEST_CHECK(strstr(html, "<figcaption>Throughput</figcaption>") && strstr(html, "<figcaption>epoch</figcaption>"),
               "SFT throughput and epoch");
    TEST_CHECK(!strstr(html, "<figcaption>Reward</figcaption>") && !strstr(html, "id=\"completions\""),
               "SFT report shows GRPO parts");
    /* loss, grad norm, learning rate, throughput; tokens, epoch, elapsed_seconds as "other" */
    TEST_CHECK(count(html, "<svg") == 7, "SFT report: %zu plots, want 7", count(html, "<svg"));
    TEST_CHECK(strstr(html, "SFT run \xc2\xb7 randomly initialised model, 2 layers of width 64"), "SFT subtitle");
    check_safe(html, "SFT report");
    free(html);
    free(path);
}

static void check_pipeline_report(const char *dir) {
    TEST_CHECK(report_write(dir, NULL) == 0, "pipeline report_write: %s", err_msg());
    char *path = path_join(dir, "report.html");
    char *html = read_text(path);
    TEST_CHECK(strstr(html, "<h1>r1zero-tiny &lt;seed 1&gt;</h1>"), "pipeline name");
    TEST_CHECK(strstr(html, "<table class=\"evals\">") && strstr(html, "<td>eval-before</td>") &&
                   strstr(html, "<td>eval-after</td>"),
               "before/after rows");
    TEST_CHECK(strstr(html, "<b>+52.5 points</b>"), "pass@1 change 35.0%% -> 87.5%%");
    TEST_CHECK(strstr(html, "<b>+45.0 points</b>") && strstr(html, "<b>+13</b>"), "think rate and length change");
    TEST_CHECK(count(html, "class=\"stage\"") == 6, "%zu stage sections", count(html, "class=\"stage\""));
    TEST_CHECK(strstr(html, "Not started yet"), "pending stage");
    TEST_CHECK(strstr(html, "badge done") && strstr(html, "badge pending"), "status badges");
    /* the SFT stage's and the GRPO stage's plots, without completions */
    TEST_CHECK(count(html, "<figcaption>Loss</figcaption>") == 2 && strstr(html, "<figcaption>Reward</figcaption>"),
               "stage plots");
    TEST_CHECK(!strstr(html, "id=\"completions\""), "completions on the pipeline page");
    check_safe(html, "pipeline report");
    free(html);
    /* a stage's own report is linked once it exists */
    char *rl = path_join(dir, "rl");
    TEST_CHECK(report_write(rl, NULL) == 0, "%s", err_msg());
    TEST_CHECK(report_write(dir, NULL) == 0, "%s", err_msg());
    html = read_text(path);
    TEST_CHECK(strstr(html, "<a href=\"rl/report.html\">rl/</a>"), "link to the stage report");
    free(html);
    free(rl);
    free(path);
}

static void check_csv(const char *dir) {
    char *out = path_join(dir, "metrics.csv");
    TEST_CHECK(report_write_csv(dir, out) == 0, "%s", err_msg());
    char *csv = read_text(out);
    const char *want_head = "step,loss,grad_norm,learning_rate,tokens,tokens_per_second,epoch,elapsed_seconds,"
                            "eval_loss\n";
    TEST_CHECK(!strncmp(csv, want_head, strlen(want_head)), "CSV header: %.120s", csv);
    TEST_CHECK(strstr(csv, "\n10,2.5/1.5") == NULL, "sanity");
    /* line 1: step 10, loss 2.5/1.5 printed with %.4f -> 1.6667, no eval_loss */
    TEST_CHECK(strstr(csv, "\n10,1.6667,0.909,0.003,4096,9000,0.1,1,\n") != NULL, "first row: %.200s", csv);
    /* the eval line: only step and eval_loss */
    TEST_CHECK(strstr(csv, "\n100,,,,,,,,0.4500\n") == NULL && strstr(csv, "\n100,,,,,,,,0.45\n") != NULL,
               "eval row");
    TEST_CHECK(count(csv, "\n") == 34, "CSV rows: %zu lines, want 34 (header + 30 + 3)", count(csv, "\n"));
    free(csv);

    /* strings, bools, null, objects and exact numbers */
    char *odd = path_join(dir, "odd");
    mkdir_p(odd);
    write_text(odd, "metrics.jsonl",
               "{\"note\": \"a, \\\"b\\\"\", \"step\": 1, \"x\": 0.1, \"flag\": true}\n"
               "{\"step\": 2, \"x\": 0.30000000000000004, \"obj\": {\"k\": [1]}, \"note\": null}\n");
    char *out2 = path_join(odd, "m.csv");
    TEST_CHECK(report_write_csv(odd, out2) == 0, "%s", err_msg());
    csv = read_text(out2);
    TEST_CHECK(!strcmp(csv, "step,note,x,flag,obj\n1,\"a, \"\"b\"\"\",0.1,true,\n2,,0.30000000000000004,,"
                            "\"{\"\"k\"\":[1]}\"\n"),
               "odd CSV:\n%s", csv);
    free(csv);
    free(out2);
    free(odd);
    free(out);
}

static void check_errors(const char *dir) {
    char *missing = path_join(dir, "no-such-run");
    TEST_CHECK(report_write(missing, NULL) == -1 && strstr(err_msg(), "No such file"), "missing dir: %s", err_msg());
    TEST_CHECK(report_write_csv(missing, "/tmp/x.csv") == -1, "CSV of a missing run");
    free(missing);
    char *file = path_join(dir, "pipe/pipeline.json");
    TEST_CHECK(report_write(file, NULL) == -1 && strstr(err_msg(), "not a directory"), "a file: %s", err_msg());
    free(file);
    char *bad = path_join(dir, "badpipe");
    mkdir_p(bad);
    write_text(bad, "pipeline.json", "{\"stages\": [{\"name\": \"x\", \"kind\": \"sft\", \"dir\": \"../../etc\"}]}");
    TEST_CHECK(report_write(bad, NULL) == -1 && strstr(err_msg(), "inside the pipeline directory"), "escape: %s",
               err_msg());
    write_text(bad, "pipeline.json", "{\"stages\": [");
    TEST_CHECK(report_write(bad, NULL) == -1 && strstr(err_msg(), "invalid JSON"), "malformed: %s", err_msg());
    free(bad);
    /* an empty run directory still gets a page */
    char *empty = path_join(dir, "empty");
    mkdir_p(empty);
    TEST_CHECK(report_write(empty, NULL) == 0, "empty run: %s", err_msg());
    char *p = path_join(empty, "report.html"), *html = read_text(p);
    TEST_CHECK(strstr(html, "No metrics.jsonl yet") && strstr(html, "No config.json"), "empty run page");
    free(html);
    /* a damaged config.json is reported on the page, escaped */
    write_text(empty, "config.json", "{\"a\": <b>");
    TEST_CHECK(report_write(empty, NULL) == 0, "damaged config: %s", err_msg());
    html = read_text(p);
    TEST_CHECK(strstr(html, "config.json could not be read: ") && strstr(html, "invalid JSON at line 1") &&
                   !strstr(html, "<b>"),
               "damaged config not reported");
    free(html);
    free(p);
    free(empty);
}

/* A longer run for timing: 2000 steps, 64 completions per logged step. */
static void time_big_run(const char *dir) {
    char *big = path_join(dir, "big");
    write_grpo_run(big, 2000, 8, 8);
    double t0 = test_cpu_seconds();
    TEST_CHECK(report_write(big, NULL) == 0, "%s", err_msg());
    double dt = test_cpu_seconds() - t0;
    struct stat st;
    char *p = path_join(big, "report.html");
    stat(p, &st);
    printf("report of a 2000-step GRPO run (12,800 completions): %.1f ms of CPU, %lld KiB\n", 1e3 * dt,
           (long long)st.st_size / 1024);
    TEST_CHECK(dt < 10, "report took %.1f s of CPU", dt);
    free(p);
    free(big);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : GRPO_BINARY_DIR "/test_report.work";
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0 || mkdir_p(dir)) FATAL("cannot make %s", dir);
    char *run = path_join(dir, "run"), *sft = path_join(dir, "sft"), *pipe = path_join(dir, "pipe");
    write_grpo_run(run, 120, 4, 4);
    write_sft_run(sft);
    write_pipeline(pipe);
    check_grpo_report(run);
    check_sft_report(sft);
    check_pipeline_report(pipe);
    check_csv(sft);
    check_errors(dir);
    time_big_run(dir);
    free(run);
    free(sft);
    free(pipe);
    return test_summary();
}
