/*
 * report.h: a run's report: one self-contained HTML file (inline CSS and
 * SVG plots, no JavaScript, nothing fetched) built from a run directory's
 * config.json, metrics.jsonl and completions.jsonl, or from a pipeline
 * directory (one with pipeline.json) with every stage and a before/after
 * evaluation table; and metrics.jsonl as CSV. docs/report.md shows what is
 * on the page.
 * Not for: writing the run files (rundir.h, the trainer) or computing
 * evaluation statistics (eval_stats.h).
 *
 *     if (report_write(run_dir, NULL)) log_warn("report: %s", err_msg());
 */
#ifndef GRPO_REPORT_H
#define GRPO_REPORT_H

/* Writes the HTML report of dir to out_path (NULL: dir/report.html),
 * atomically. Plots are drawn only for the metrics present, so a run that
 * has just started, an SFT run and a GRPO run all get a report; missing
 * files are shown as missing, and malformed lines of metrics.jsonl and
 * completions.jsonl (e.g. a last line cut by a crash) are skipped and
 * counted on the page. Fails (-1 with ERR) when dir is not a readable
 * directory, pipeline.json or eval.json is malformed, or the file cannot be
 * written. */
int report_write(const char *dir, const char *out_path);

/* Writes dir/metrics.jsonl as CSV to out_path: a header row of every key
 * seen ("step" first, then in the order first seen), one row per line,
 * empty cells where a line lacks a key. Numbers print in the shortest form
 * that reads back exactly (config_format_number); strings are quoted as
 * RFC 4180 says. Fails (-1 with ERR) when metrics.jsonl is missing or
 * out_path cannot be written. */
int report_write_csv(const char *dir, const char *out_path);

#endif
