# Reward functions (reward/): the math grader table, every built-in reward,
# the RewardSet, plugins (dlopen and external process) and `grpo reward`.
# The code reward and the sandbox have their own file (sandbox.cmake).
grpo_test(NAME test_reward_math SOURCES reward/test_math.c)
grpo_test(NAME test_reward_math_verify SOURCES reward/test_math_verify.c)
grpo_test(NAME test_reward_builtins SOURCES reward/test_rewards.c)
grpo_test(NAME test_reward_set SOURCES reward/test_set.c)

# The example plugin (examples/reward_plugin/) and a module of misbehaving
# plugins, both loaded by test_reward_ext with dlopen.
add_library(grpo_example_reward_plugin MODULE ${CMAKE_SOURCE_DIR}/examples/reward_plugin/keyword_reward.c)
target_include_directories(grpo_example_reward_plugin PRIVATE ${CMAKE_SOURCE_DIR}/include ${CJSON_INCLUDE_DIRS})
target_link_libraries(grpo_example_reward_plugin PRIVATE ${CJSON_LINK_LIBRARIES})
target_compile_options(grpo_example_reward_plugin PRIVATE ${GRPO_WARNINGS})
add_library(grpo_test_reward_plugins MODULE reward/test_plugins.c)
target_include_directories(grpo_test_reward_plugins PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_options(grpo_test_reward_plugins PRIVATE ${GRPO_WARNINGS})
grpo_test(NAME test_reward_ext SOURCES reward/test_ext.c TIMEOUT 120)
add_dependencies(test_reward_ext grpo_example_reward_plugin grpo_test_reward_plugins)
target_compile_definitions(test_reward_ext PRIVATE
  GRPO_EXAMPLE_PLUGIN="$<TARGET_FILE:grpo_example_reward_plugin>"
  GRPO_TEST_PLUGIN="$<TARGET_FILE:grpo_test_reward_plugins>")
grpo_test(NAME test_reward_context SOURCES reward/test_context.c TIMEOUT 120)
add_dependencies(test_reward_context grpo_test_reward_plugins)
target_compile_definitions(test_reward_context PRIVATE GRPO_TEST_PLUGIN="$<TARGET_FILE:grpo_test_reward_plugins>")
grpo_cli_test(NAME test_reward_cli SCRIPT cli/test_reward.sh)
grpo_cli_test(NAME test_reward_resume SCRIPT cli/test_reward_resume.sh)
grpo_cli_test(NAME test_reward_python SCRIPT cli/test_reward_python.sh)
