/*
 * cli.h: the subcommands of the `grpo` binary. Each takes argc/argv after
 * the subcommand name (argv[0] is the subcommand) and returns the process
 * exit code: 0 success, 1 failure (message already printed), 2 usage error.
 * Not for: library code; everything here may print and exit.
 */
#ifndef GRPO_CLI_H
#define GRPO_CLI_H

#include <stdint.h>

#include "model/model.h"
#include "model/tokenizer/tokenizer.h"
#include "trainer/dist.h"
#include "trainer/jobconfig.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} CliCommand;

int cmd_version(int argc, char **argv);
int cmd_reward(int argc, char **argv);
int cmd_sft(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_pipeline(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Shared helpers for subcommands (cli_util.c). */

/* True if argv has -h or --help. */
int cli_wants_help(int argc, char **argv);
/* Prints "grpo <cmd>: <msg>" and the hint to run --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "grpo <cmd>: <err_msg()>"; returns EXIT_FAIL. */
int cli_fail(const char *cmd);
/* Parses `CONFIG.json [--set key.path=value ...]` for the job commands:
 * *config gets the one config path, *sets (caller frees the array, not the
 * strings, which are argv's) the n_sets overrides. Returns EXIT_OK or a
 * usage error (already printed). */
int cli_job_args(const char *cmd, int argc, char **argv, const char **config, const char ***sets, size_t *n_sets);

/* Runs job command cmd ("sft", "train") of the given kind: parses
 * `CONFIG.json [--dry-run] [--set ...]`, starts MPI when launched by
 * mpirun/srun, loads the config for kind and calls run on every rank; prints
 * the error (rank 0) and returns the exit code. With --dry-run it calls no
 * run: it prints (rank 0) the memory a rank of the job would need and
 * whether it fits, without loading weights (sft reads and tokenizes its
 * data: its workspace is sized by the longest example), and returns EXIT_OK
 * if it fits, else EXIT_FAIL with the reason. */
int cli_run_job(const char *cmd, JobKind kind, int (*run)(const JobConfig *, const Dist *), int argc, char **argv);

/* Option values: the whole string must be the number. Return 0, or -1
 * (nothing printed) when s is not a number in range: a decimal integer in
 * [lo, hi]; a non-negative decimal integer (no sign) up to 2^64-1; a
 * finite float. */
int cli_parse_long(const char *s, long lo, long hi, long *out);
int cli_parse_u64(const char *s, uint64_t *out);
int cli_parse_float(const char *s, float *out);

#endif
