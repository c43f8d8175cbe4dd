#!/bin/bash
# grpo data end to end: each generator writes --n JSONL lines with its
# fields; output is deterministic, --start pages through the same sequence,
# --out writes a file, parameters pass as --name value or --params JSON;
# usage errors exit 2 with the key at fault.
#   test_data.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
set -u
GRPO=$1; WORK=$3
rm -rf "$WORK"; mkdir -p "$WORK"
pass=0; fail=0
check() { if eval "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $2" >&2; fi; }

# every line is a JSON object holding the fields (python3, stdlib only)
fields() { # FILE FIELD...
  python3 - "$@" <<'PY'
import json, sys
f, keys = sys.argv[1], sys.argv[2:]
rows = [json.loads(l) for l in open(f)]
bad = [r for r in rows if any(k not in r for k in keys)]
if bad: print("missing fields:", bad[0], file=sys.stderr)
sys.exit(1 if bad or not rows else 0)
PY
}

"$GRPO" data --help > "$WORK/help.txt"; rc=$?
check '[ $rc -eq 0 ] && grep -q "arith|countdown|corpus" "$WORK/help.txt"' "--help exit $rc"

"$GRPO" data arith --n 50 --seed 3 > "$WORK/a.jsonl" 2> "$WORK/a.err"; rc=$?
check '[ $rc -eq 0 ] && [ $(wc -l < "$WORK/a.jsonl") -eq 50 ]' "arith: exit $rc, $(wc -l < "$WORK/a.jsonl") lines"
check 'fields "$WORK/a.jsonl" prompt answer solution' "arith fields"
check 'grep -q "50 train examples of arith (seed 3)" "$WORK/a.err"' "summary on stderr: $(cat "$WORK/a.err")"

"$GRPO" data arith --n 50 --seed 3 --out "$WORK/a2.jsonl" 2> /dev/null
check 'cmp -s "$WORK/a.jsonl" "$WORK/a2.jsonl"' "--out or a second run differs"
"$GRPO" data arith --n 20 --start 30 --seed 3 > "$WORK/a3.jsonl" 2> /dev/null
check 'cmp -s <(tail -20 "$WORK/a.jsonl") "$WORK/a3.jsonl"' "--start 30 is not lines 31..50"
"$GRPO" data arith --n 50 --seed 4 > "$WORK/a4.jsonl" 2> /dev/null
check '! cmp -s "$WORK/a.jsonl" "$WORK/a4.jsonl"' "another seed gives the same lines"

"$GRPO" data countdown --split eval --n 20 --params '{"min_nums": 4, "max_nums": 4}' > "$WORK/c.jsonl" 2> /dev/null; rc=$?
check '[ $rc -eq 0 ] && fields "$WORK/c.jsonl" prompt nums target answer' "countdown exit $rc"
check 'python3 -c "import json,sys; sys.exit(any(len(json.loads(l)[\"nums\"]) != 4 for l in open(\"$WORK/c.jsonl\")))"' \
  "--params min_nums/max_nums 4 not applied"

"$GRPO" data corpus --n 40 --think-fraction 1 --slip_rate 0 > "$WORK/k.jsonl" 2> /dev/null; rc=$?
check '[ $rc -eq 0 ] && fields "$WORK/k.jsonl" prompt completion answer style' "corpus exit $rc"
check '[ $(grep -c "\"style\":\"think\"" "$WORK/k.jsonl") -eq 40 ]' "--think-fraction 1 --slip_rate 0: not all think"

"$GRPO" data arith --n 5 --ops "+-" --order precedence > "$WORK/o.jsonl" 2> /dev/null
check '! grep -q "[*(]" "$WORK/o.jsonl"' "--ops +- still writes * or parentheses"

usage() { # EXPECTED-TEXT ARGS...
  local want=$1; shift
  "$GRPO" data "$@" > /dev/null 2> "$WORK/u.err"; local rc=$?
  check '[ $rc -eq 2 ] && grep -q -- "$want" "$WORK/u.err"' "data $*: exit $rc, stderr: $(cat "$WORK/u.err")"
}
usage "missing the generator"
usage "did you mean 'arith'" arth
usage "did you mean 'max_terms'" arith --max-term 3
usage "'train' or 'eval'" arith --split test
usage "expected an integer" arith --n -3
usage "needs a value" arith --n
usage "expected a JSON object" arith --params '[1]'
usage "min_terms must be <= max_terms" arith --min-terms 5 --max-terms 3

"$GRPO" data arith --n 1 --out "$WORK/no/such/dir/x.jsonl" 2> "$WORK/f.err"; rc=$?
check '[ $rc -eq 1 ] && grep -q "cannot create" "$WORK/f.err"' "unwritable --out: exit $rc"
"$GRPO" data arith --n 1 --min-result 5000 --max-result 5001 > /dev/null 2> "$WORK/f2.err"; rc=$?
check '[ $rc -eq 1 ] && grep -q "too few problems" "$WORK/f2.err"' "impossible bounds: exit $rc $(cat "$WORK/f2.err")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
