# Rollout engine (docs/rollout.md): samplers against known distributions,
# generation against the training forward on tiny random models and the HF
# parity fixtures, determinism across batches/threads/ranks, stop handling,
# and the generate/score command line.
grpo_test(NAME test_sampler SOURCES rollout/test_sampler.c)
grpo_test(NAME test_rollout SOURCES rollout/test_rollout.c)
grpo_test(NAME test_rollout_hf SOURCES rollout/test_rollout_hf.c)
grpo_test(NAME test_rollout_mpi SOURCES rollout/test_rollout_mpi.c LABELS mpi MPI_RANKS 2)
grpo_test(NAME test_rowstable SOURCES rollout/test_rowstable.c)
grpo_cli_test(NAME cli_generate SCRIPT rollout/cli_generate.sh)
