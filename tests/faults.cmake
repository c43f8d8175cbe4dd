# Fault injection (label `faults`; the MPI ones also `mpi`): a disk that
# fills up during a checkpoint (an LD_PRELOAD library failing write/pwrite
# with ENOSPC), one of two ranks killed (SIGKILL) or stopped (SIGSTOP, the
# watchdog's case; stopin: inside a collective). tests/faults/faults.sh says
# what each one checks.
add_library(grpo_fault_enospc MODULE faults/enospc.c)
target_compile_options(grpo_fault_enospc PRIVATE ${GRPO_WARNINGS} -fno-sanitize=all)
target_link_options(grpo_fault_enospc PRIVATE -fno-sanitize=all)
target_link_libraries(grpo_fault_enospc PRIVATE ${CMAKE_DL_LIBS})

add_executable(watchdog_stop faults/watchdog_stop.c)
target_compile_options(watchdog_stop PRIVATE ${GRPO_WARNINGS})
target_link_libraries(watchdog_stop PRIVATE grpo_core)

foreach(mode enospc kill stop stopin)
  set(name test_fault_${mode})
  if(mode STREQUAL stopin)
    set(extra $<TARGET_FILE:watchdog_stop>)
  else()
    set(extra $<TARGET_FILE:grpo_fault_enospc>)
  endif()
  add_test(NAME ${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/faults/faults.sh ${mode}
    $<TARGET_FILE:grpo_cli> ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/${name}.work ${extra})
  set_tests_properties(${name} PROPERTIES LABELS faults TIMEOUT 300)
endforeach()
set_tests_properties(test_fault_kill test_fault_stop test_fault_stopin PROPERTIES LABELS "faults;mpi")
