# The run report (trainer/report.c): synthetic GRPO, SFT and pipeline
# directories checked in C, then rendered by headless Chromium.
grpo_test(NAME test_report SOURCES trainer/test_report.c)
add_test(NAME test_report_chromium COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_report_chromium.sh
  $<TARGET_FILE:grpo_cli> $<TARGET_FILE:test_report> ${CMAKE_CURRENT_BINARY_DIR}/test_report_chromium.work)
set_tests_properties(test_report_chromium PROPERTIES LABELS unit TIMEOUT 300)
grpo_cli_test(NAME test_report_cli SCRIPT cli/test_report.sh)
