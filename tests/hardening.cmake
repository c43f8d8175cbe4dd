# Hardening (issue 13): crafted files, absurd configs and odd inputs are
# refused with a message naming the file or key, never a crash, a wrap or
# a silent truncation. (Fuzzers: fuzz.cmake; faults and the watchdog:
# faults.cmake.)
grpo_test(NAME test_checkpoint_hostile SOURCES checkpoint/test_checkpoint_hostile.c)
grpo_test(NAME test_encode_max SOURCES tokenizer/test_encode_max.c)
grpo_cli_test(NAME test_hardening_cli SCRIPT cli/test_hardening.sh)
