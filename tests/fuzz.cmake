# Fuzzers (label `fuzz`): the config binder, the safetensors header, the
# tokenizer.json loader with encoding, the HDF5 checkpoint reader (files
# built by fuzzed edits), the JSONL readers and the math expression parser,
# each with a seed corpus in tests/fuzz/corpus/ (and fixtures) and a
# dictionary. The suite runs each for GRPO_FUZZ_SECONDS (about a minute in
# all); docs/testing.md shows longer runs (scripts/fuzz.sh).
#
# With Clang the fuzzers are libFuzzer binaries. With GCC they link the
# coverage-guided driver in tests/fuzz/driver.c. Either way the library files
# a fuzzer exercises are compiled into it with coverage instrumentation
# (the rest comes from grpo_core), and the build's sanitizers apply
# (-DGRPO_SANITIZE=ON: ASan + UBSan, which scripts/test.sh runs).
set(GRPO_FUZZ_SECONDS 8 CACHE STRING "Seconds each fuzzer runs in the test suite")
# scripts/fuzz.sh builds the fuzzers with Clang against the GCC build's
# grpo_core (GRPO_FUZZ_CORE: Clang 14 cannot compile model/attention.c's
# 64-byte vectors without AVX-512), so only the files a fuzzer covers are
# compiled by Clang.
set(GRPO_FUZZ_CORE "" CACHE FILEPATH "libgrpo_core.a of a GCC build, for Clang fuzz builds (scripts/fuzz.sh)")
if(GRPO_FUZZ_CORE)
  add_library(grpo_fuzz_core STATIC IMPORTED)
  set_target_properties(grpo_fuzz_core PROPERTIES IMPORTED_LOCATION ${GRPO_FUZZ_CORE})
  target_link_libraries(grpo_fuzz_core INTERFACE OpenMP::OpenMP_C MPI::MPI_C ${CJSON_LINK_LIBRARIES} m
    ${OPENBLAS_LIB} ${HDF5_C_LIBRARIES} ${PCRE2_LINK_LIBRARIES} ${UTF8PROC_LINK_LIBRARIES} ${SECCOMP_LINK_LIBRARIES}
    ${CMAKE_DL_LIBS})
  set(_fuzz_core grpo_fuzz_core)
else()
  set(_fuzz_core grpo_core)
endif()
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  set(_fuzz_cov -fsanitize=fuzzer-no-link)
  set(_fuzz_link -fsanitize=fuzzer)
  set(_fuzz_driver "")
else()
  set(_fuzz_cov -fsanitize-coverage=trace-pc)
  set(_fuzz_link "")
  set(_fuzz_driver fuzz/driver.c)
endif()

function(grpo_fuzz NAME)
  cmake_parse_arguments(F "" "" "COVERED;SEEDS" ${ARGN})
  set(t fuzz_${NAME})
  set(covered "")
  foreach(src ${F_COVERED})
    list(APPEND covered ${CMAKE_SOURCE_DIR}/${src})
  endforeach()
  add_executable(${t} fuzz/fuzz_${NAME}.c ${_fuzz_driver} ${covered})
  # (source properties are per directory: in tests/ only the fuzzers compile these files)
  set_source_files_properties(fuzz/fuzz_${NAME}.c ${covered} PROPERTIES COMPILE_OPTIONS "${_fuzz_cov}")
  target_compile_options(${t} PRIVATE ${GRPO_WARNINGS})
  target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR} ${OPENBLAS_INC} ${HDF5_C_INCLUDE_DIRS}
    ${CJSON_INCLUDE_DIRS} ${PCRE2_INCLUDE_DIRS} ${UTF8PROC_INCLUDE_DIRS})
  target_link_libraries(${t} PRIVATE ${_fuzz_core} ${HDF5_C_LIBRARIES} ${PCRE2_LINK_LIBRARIES} ${UTF8PROC_LINK_LIBRARIES})
  target_link_options(${t} PRIVATE ${_fuzz_link})
  set(seeds ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${NAME})
  foreach(s ${F_SEEDS})
    list(APPEND seeds ${CMAKE_SOURCE_DIR}/${s})
  endforeach()
  add_test(NAME ${t} COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run.sh $<TARGET_FILE:${t}>
    ${CMAKE_CURRENT_BINARY_DIR}/${t}.work ${GRPO_FUZZ_SECONDS} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${NAME}.dict ${seeds})
  set_tests_properties(${t} PROPERTIES LABELS fuzz TIMEOUT 300
    ENVIRONMENT "OMP_NUM_THREADS=1;ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=3000")
endfunction()

file(GLOB _tokenizer_sources RELATIVE ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/model/tokenizer/*.c)
grpo_fuzz(config COVERED common/config.c common/json.c trainer/jobconfig.c model/config.c trainer/memory.c)
grpo_fuzz(safetensors COVERED model/io/safetensors.c SEEDS tests/fixtures/hf/hostile)
grpo_fuzz(tokenizer COVERED ${_tokenizer_sources})
grpo_fuzz(checkpoint COVERED model/io/checkpoint.c model/io/modelfiles.c model/config.c)
grpo_fuzz(jsonl COVERED data/dataset.c common/json.c)
grpo_fuzz(math_expr COVERED reward/math_expr.c)
