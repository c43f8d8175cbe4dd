# Sandbox tests (reward/sandbox*, reward/code.c, the grpo-sandbox helper).
# Label `sandbox`: they run untrusted programs. A test exits 77 (shown as
# skipped, with the reason) only where a layer cannot exist: mode full
# without root, mode userns where user namespaces are disabled.
grpo_test(NAME test_sandbox_unit SOURCES sandbox/test_sandbox_unit.c LABELS sandbox TIMEOUT 120)
grpo_test(NAME test_sandbox_canonical SOURCES sandbox/test_sandbox_canonical.c LABELS sandbox TIMEOUT 300)
# The hostile corpus (58 programs, ~10 s per mode): all of it in mode full
# and the fast subset of the other modes in the default run; all of them
# under `slow`. userns-root = root asking for mode userns (what root without
# CAP_SYS_ADMIN gets).
grpo_test(NAME test_sandbox_hostile SOURCES sandbox/test_sandbox_hostile.c LABELS sandbox TIMEOUT 300
  ARGS --mode full --subset all)
add_test(NAME test_sandbox_hostile_userns_fast COMMAND test_sandbox_hostile --mode userns --subset fast)
add_test(NAME test_sandbox_hostile_userns_root_fast COMMAND test_sandbox_hostile --mode userns-root --subset fast)
add_test(NAME test_sandbox_hostile_minimal_fast COMMAND test_sandbox_hostile --mode minimal --subset fast)
add_test(NAME test_sandbox_hostile_userns_root COMMAND test_sandbox_hostile --mode userns-root --subset all)
add_test(NAME test_sandbox_hostile_userns COMMAND test_sandbox_hostile --mode userns --subset all)
add_test(NAME test_sandbox_hostile_minimal COMMAND test_sandbox_hostile --mode minimal --subset all)
set_tests_properties(test_sandbox_hostile_userns_fast test_sandbox_hostile_userns_root_fast
  test_sandbox_hostile_minimal_fast PROPERTIES LABELS sandbox TIMEOUT 300)
set_tests_properties(test_sandbox_hostile_userns test_sandbox_hostile_userns_root test_sandbox_hostile_minimal
  PROPERTIES LABELS "sandbox;slow" TIMEOUT 600)
set_tests_properties(test_sandbox_unit test_sandbox_canonical test_sandbox_hostile
  test_sandbox_hostile_userns_fast test_sandbox_hostile_userns_root_fast test_sandbox_hostile_minimal_fast
  test_sandbox_hostile_userns test_sandbox_hostile_userns_root test_sandbox_hostile_minimal
  PROPERTIES SKIP_RETURN_CODE 77)
# `grpo reward` with the code reward, end to end (the helper found beside grpo).
grpo_cli_test(NAME test_sandbox_cli_reward SCRIPT sandbox/cli_code_reward.sh LABELS sandbox TIMEOUT 120)
