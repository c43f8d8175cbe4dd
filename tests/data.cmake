# Data (data/): the task generators (determinism, the held-out rule, answers
# checked independently, Countdown solvability, the corpus mix) and
# `grpo data`.
grpo_test(NAME test_taskgen SOURCES data/test_taskgen.c)
grpo_cli_test(NAME test_data_cli SCRIPT cli/test_data.sh)
