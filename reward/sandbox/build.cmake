# reward/sandbox/build.cmake: extra build rules of reward/ (included by the top-level
# CMakeLists.txt after libgrpo is defined).
#
# grpo-sandbox: the helper program that runs the model's code (reward/sandbox/sandbox.h,
# docs/sandbox.md). A small separate executable linking only libc and
# libseccomp, so starting it per job is cheap and the trainer never forks.
# It lands next to `grpo` in the build tree and is installed next to it.
add_executable(grpo-sandbox ${CMAKE_CURRENT_SOURCE_DIR}/reward/sandbox/helper/grpo_sandbox.c)
set_target_properties(grpo-sandbox PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
target_compile_options(grpo-sandbox PRIVATE ${GRPO_WARNINGS})
target_include_directories(grpo-sandbox PRIVATE ${SECCOMP_INCLUDE_DIRS})
target_link_libraries(grpo-sandbox PRIVATE ${SECCOMP_LINK_LIBRARIES})
install(TARGETS grpo-sandbox RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Anything that links libgrpo may run code: build the helper with it.
add_dependencies(grpo grpo-sandbox)
# The last place libgrpo looks for the helper (after $GRPO_SANDBOX_HELPER and
# the directories of the executable and of libgrpo itself).
set_property(SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/reward/sandbox/sandbox.c APPEND PROPERTY COMPILE_DEFINITIONS
  GRPO_SANDBOX_HELPER_INSTALLED="${CMAKE_INSTALL_FULL_BINDIR}/grpo-sandbox")
