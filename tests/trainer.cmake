# Trainer: the pieces steps are made of (packing, epoch order, SFT's step
# plan), SFT end to end (resume, 2 MPI ranks, config and data errors).
grpo_test(NAME test_pack SOURCES trainer/test_pack.c)
grpo_cli_test(NAME test_sft_cli SCRIPT cli/test_sft.sh LABELS "unit;mpi")
grpo_cli_test(NAME test_docs_config SCRIPT cli/test_docs.sh)
# Installing: binary, library, headers and the CMake package, used from outside.
grpo_cli_test(NAME test_install SCRIPT cli/test_install.sh)
# The include rule of docs/architecture.md, checked over the source tree.
grpo_cli_test(NAME test_includes SCRIPT cli/test_includes.sh)
# The reward plugin of the trainer's learning tests.
add_library(grpo_test_target_reward MODULE trainer/target_reward.c)
target_include_directories(grpo_test_target_reward PRIVATE ${CMAKE_SOURCE_DIR} ${CJSON_INCLUDE_DIRS})
target_link_libraries(grpo_test_target_reward PRIVATE ${CJSON_LINK_LIBRARIES})
target_compile_options(grpo_test_target_reward PRIVATE ${GRPO_WARNINGS})
# GRPO: every loss term and advantage by hand and by finite differences,
# and the trainer's gradient path on a tiny model.
grpo_test(NAME test_grpo_loss SOURCES trainer/test_grpo_loss.c)
# grpo train end to end: it learns (1 and 2 ranks), rank independence,
# exact resume after SIGKILL, bad configs, grpo eval.
grpo_cli_test(NAME test_train_cli SCRIPT cli/test_train.sh LABELS "unit;mpi" TIMEOUT 900)
# One whole GRPO update against a PyTorch float64 reference.
grpo_test(NAME test_grpo_parity SOURCES trainer/test_grpo_parity.c)
# The shipped recipes: real-model recipes one step on shrunk models, the tiny
# pipelines with every stage shortened, restart skips finished stages.
grpo_cli_test(NAME test_recipes_cli SCRIPT cli/test_recipes.sh TIMEOUT 900)
# The tiny recipes still teach: r1zero-tiny's held-out pass@1, think rate and
# length rise; distill-tiny's student beats itself before distillation.
grpo_cli_test(NAME test_recipes_learn SCRIPT cli/test_recipes_learn.sh LABELS "slow;mpi" TIMEOUT 1800)
