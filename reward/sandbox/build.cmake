# reward/sandbox/build.cmake: extra build rules of reward/sandbox/ (included by
# the top-level CMakeLists.txt after grpo_core and libgrpo are defined).
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
# Anything that links the library may run code: build the helper with it.
add_dependencies(grpo_core grpo-sandbox)
# Programs outside the top build directory that link grpo_core statically
# (tests, benchmarks) find the helper beside themselves, the first place
# sandbox_find_helper looks: a link to it in their directory.
function(grpo_sandbox_helper_beside dir)
  file(MAKE_DIRECTORY ${dir})
  file(CREATE_LINK ${CMAKE_BINARY_DIR}/grpo-sandbox ${dir}/grpo-sandbox SYMBOLIC)
endfunction()
# The last place libgrpo looks for the helper (after $GRPO_SANDBOX_HELPER and
# the directories of the executable and of libgrpo itself).
set_property(SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/reward/sandbox/sandbox.c APPEND PROPERTY COMPILE_DEFINITIONS
  GRPO_SANDBOX_HELPER_INSTALLED="${CMAKE_INSTALL_FULL_BINDIR}/grpo-sandbox")
