/*
 * main.c: the `grpo` binary: dispatches to a subcommand (cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const CliCommand commands[] = {
    {"pipeline", "run R1's stages as one job; without a config, the tiny R1-Zero recipe", cmd_pipeline},
    {"train", "GRPO reinforcement learning with rule rewards (data-parallel under mpirun)", cmd_train},
    {"sft", "supervised next-token training (pretraining, cold start, distillation)", cmd_sft},
    {"eval", "pass@1, pass@k, maj@k of a model on an eval set, sampled and graded", cmd_eval},
    {"generate", "sample completions of a prompt (the rollout engine)", cmd_generate},
    {"score", "per-token log-probs of a completion given a prompt (JSON)", cmd_score},
    {"reward", "score saved completions (JSONL) with a config's reward functions", cmd_reward},
    {"data", "write examples of a built-in task generator (arith, countdown, corpus) as JSONL", cmd_data},
    {"report", "write a run's or pipeline's HTML report (and its metrics as CSV)", cmd_report},
    {"init", "write a seeded random model (HF directory or .h5 checkpoint)", cmd_init},
    {"convert", "convert between an HF model directory and an HDF5 checkpoint", cmd_convert},
    {"tokenize", "print the token ids of a text (JSON array)", cmd_tokenize},
    {"detokenize", "print the text of token ids", cmd_detokenize},
    {"config", "check a job config and print the effective config", cmd_config},
    {"version", "print the version and the libraries in use", cmd_version},
};
static const size_t n_commands = sizeof(commands) / sizeof(commands[0]);

static void usage(FILE *f) {
    fprintf(f,
            "usage: grpo <command> [options]\n"
            "\n"
            "GRPO reinforcement learning for language models, on CPUs, in C.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < n_commands; i++) fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'grpo <command> --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        return cmd_version(1, argv + 1);
    }
    for (size_t i = 0; i < n_commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "grpo: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
