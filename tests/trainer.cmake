# Trainer: the pieces steps are made of (packing, epoch order, SFT's step
# plan), SFT end to end (resume, 2 MPI ranks, config and data errors).
grpo_test(NAME test_pack SOURCES trainer/test_pack.c)
grpo_cli_test(NAME test_sft_cli SCRIPT cli/test_sft.sh LABELS "unit;mpi")
grpo_cli_test(NAME test_docs_config SCRIPT cli/test_docs.sh)
# Installing: binary, library, headers and the CMake package, used from outside.
grpo_cli_test(NAME test_install SCRIPT cli/test_install.sh)
# The include rule of docs/architecture.md, checked over the source tree.
grpo_cli_test(NAME test_includes SCRIPT cli/test_includes.sh)
