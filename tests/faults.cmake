# Fault injection (label `faults`; the MPI ones also `mpi`): a disk that
# fills up during a checkpoint (an LD_PRELOAD library failing write/pwrite
# with ENOSPC), one of two ranks killed (SIGKILL) or stopped (SIGSTOP, the
# watchdog's case). tests/faults/faults.sh says what each one checks.
add_library(grpo_fault_enospc MODULE faults/enospc.c)
target_compile_options(grpo_fault_enospc PRIVATE ${GRPO_WARNINGS} -fno-sanitize=all)
target_link_options(grpo_fault_enospc PRIVATE -fno-sanitize=all)
target_link_libraries(grpo_fault_enospc PRIVATE ${CMAKE_DL_LIBS})

foreach(mode enospc kill stop)
  set(name test_fault_${mode})
  add_test(NAME ${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/faults/faults.sh ${mode}
    $<TARGET_FILE:grpo_cli> ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/${name}.work
    $<TARGET_FILE:grpo_fault_enospc>)
  set_tests_properties(${name} PROPERTIES LABELS faults TIMEOUT 300)
endforeach()
set_tests_properties(test_fault_kill test_fault_stop PROPERTIES LABELS "faults;mpi")
