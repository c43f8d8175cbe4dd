#!/bin/bash
# grpo report's command line: --help, usage errors (exit 2), a missing
# directory (exit 1), the default output path, --out and --csv.
#   test_report.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
set -u
GRPO=$1; WORK=$3
rm -rf "$WORK"; mkdir -p "$WORK/run"
pass=0; fail=0
check() { if eval "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $2" >&2; fi; }

"$GRPO" report --help > "$WORK/help.txt"; rc=$?
check '[ $rc -eq 0 ] && grep -q "RUN_DIR" "$WORK/help.txt"' "--help exit $rc"
"$GRPO" report > /dev/null 2> "$WORK/e1"; rc=$?
check '[ $rc -eq 2 ] && grep -q "missing RUN_DIR" "$WORK/e1"' "no directory: exit $rc"
"$GRPO" report "$WORK/run" --bogus > /dev/null 2> "$WORK/e2"; rc=$?
check '[ $rc -eq 2 ] && grep -q "unknown option" "$WORK/e2"' "unknown option: exit $rc"
"$GRPO" report "$WORK/run" --out > /dev/null 2> "$WORK/e3"; rc=$?
check '[ $rc -eq 2 ] && grep -q "needs a file name" "$WORK/e3"' "--out without a value: exit $rc"
"$GRPO" report "$WORK/nope" > /dev/null 2> "$WORK/e4"; rc=$?
check '[ $rc -eq 1 ] && grep -q "nope" "$WORK/e4"' "missing directory: exit $rc"

printf '{"step": 1, "loss": 2.5, "learning_rate": 0.001}\n{"step": 2, "loss": 2.0, "note": "a,b"}\n' > "$WORK/run/metrics.jsonl"
"$GRPO" report "$WORK/run" 2> "$WORK/ok.err"; rc=$?
check '[ $rc -eq 0 ] && [ -s "$WORK/run/report.html" ] && grep -q "<figcaption>Loss</figcaption>" "$WORK/run/report.html"' \
  "default output: exit $rc $(cat "$WORK/ok.err")"
"$GRPO" report "$WORK/run" --out "$WORK/r.html" --csv "$WORK/m.csv" 2> /dev/null; rc=$?
check '[ $rc -eq 0 ] && cmp -s "$WORK/r.html" "$WORK/run/report.html"' "--out differs from the default output"
check '[ "$(cat "$WORK/m.csv")" = "$(printf "step,loss,learning_rate,note\n1,2.5,0.001,\n2,2,,\"a,b\"")" ]' \
  "CSV: $(cat "$WORK/m.csv")"
"$GRPO" report "$WORK/run" --out "$WORK/no/dir/r.html" 2> "$WORK/e5"; rc=$?
check '[ $rc -eq 1 ] && grep -q "cannot create" "$WORK/e5"' "unwritable --out: exit $rc"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
