# Evaluation statistics (trainer/eval_stats.c): pass@k, maj@k, rates,
# against hand-computed values.
grpo_test(NAME test_eval_stats SOURCES trainer/test_eval_stats.c)
