#!/bin/bash
# grpo reward end to end: scores a small JSONL with a job config's rewards,
# checks every number, the null of "no score", input order, both --on-error
# modes on malformed lines, stdin input, diagnostics and usage errors.
#   test_reward.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
set -u
GRPO=$1; T=$2; WORK=$3
rm -rf "$WORK"; mkdir -p "$WORK"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
CFG=$T/reward/cli_config.json; IN=$T/reward/cli_input.jsonl

# Python (stdlib only) checks one output line: line number, total, per-function scores.
expect() { # FILE INDEX LINE TOTAL MATH FORMAT OVERLONG   (None = null)
  python3 - "$@" <<'PY'
import json, sys
f, idx, line, total, m, fm, ol = sys.argv[1:]
rows = [json.loads(l) for l in open(f)]
r = rows[int(idx)]
def same(got, want):
    if want == "None": return got is None
    return got is not None and abs(got - float(want)) < 1e-9
ok = (r["line"] == int(line) and same(r["reward"], total) and same(r["rewards"]["math_accuracy"], m)
      and same(r["rewards"]["format"], fm) and same(r["rewards"]["overlong"], ol))
if not ok: print("row %s: %s" % (idx, r), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

# 1. --on-error skip: malformed lines 3 and 6 reported and skipped
"$GRPO" reward --config "$CFG" --input "$IN" --on-error skip > "$WORK/skip.out" 2> "$WORK/skip.err"
rc=$?
check '[ $rc -eq 0 ]' "skip mode exit $rc: $(cat "$WORK/skip.err")"
check '[ $(wc -l < "$WORK/skip.out") -eq 4 ]' "skip mode wrote $(wc -l < "$WORK/skip.out") lines, want 4"
check 'grep -q "cli_input.jsonl:3: invalid JSON" "$WORK/skip.err"' "line 3 not reported: $(cat "$WORK/skip.err")"
check 'grep -q "cli_input.jsonl:6: missing \"completion\"" "$WORK/skip.err"' "line 6 not reported"
check 'grep -q "4 lines scored, 2 malformed lines skipped" "$WORK/skip.err"' "summary counts"
check 'grep -q "math_accuracy" "$WORK/skip.err" && grep -q "overlong" "$WORK/skip.err"' "summary per function"
# correct and well formed: 1*1 + 0.5*1 + 0
check 'expect "$WORK/skip.out" 0 1 1.5 1 1 0' "line 1 scores"
# wrong answer: 0 + 0.5 + 0
check 'expect "$WORK/skip.out" 1 2 0.5 0 1 0' "line 2 scores"
# no "answer" and no n_tokens: math and overlong are "no score" (null), total from format alone
check 'expect "$WORK/skip.out" 2 4 0.5 None 1 None' "line 4 scores"
# 1.5 = 3/2, format ok, 95 tokens: (80 - 95) / 20 = -0.75; total 1 + 0.5 - 0.75
check 'expect "$WORK/skip.out" 3 7 0.75 1 1 -0.75' "line 7 scores"

# 2. --on-error fail (the default): stop at line 3 with exit 1; lines before it are written
"$GRPO" reward --config "$CFG" --input "$IN" > "$WORK/fail.out" 2> "$WORK/fail.err"
rc=$?
check '[ $rc -eq 1 ]' "fail mode exit $rc"
check 'grep -q "cli_input.jsonl:3: invalid JSON" "$WORK/fail.err"' "fail mode message: $(cat "$WORK/fail.err")"
check 'grep -q -- "--on-error skip" "$WORK/fail.err"' "fail mode hints at --on-error skip"
check '[ $(wc -l < "$WORK/fail.out") -eq 2 ]' "fail mode wrote $(wc -l < "$WORK/fail.out") lines, want 2"
check 'cmp -s <(head -2 "$WORK/skip.out") "$WORK/fail.out"' "fail mode prefix differs from skip mode"

# 3. stdin, batch size 1 (many batches), same results
sed -e 3d -e 6d "$IN" | "$GRPO" reward --config "$CFG" --input - --batch-size 1 > "$WORK/stdin.out" 2> "$WORK/stdin.err"
rc=$?
check '[ $rc -eq 0 ]' "stdin exit $rc: $(cat "$WORK/stdin.err")"
check '[ "$(python3 -c "import json,sys; print([json.loads(l)[\"reward\"] for l in open(sys.argv[1])])" "$WORK/stdin.out")" = "[1.5, 0.5, 0.5, 0.75]" ]' \
  "stdin rewards: $(cat "$WORK/stdin.out")"

# 4. diagnostics carry the extracted answer
"$GRPO" reward --config "$CFG" --input "$IN" --on-error skip --diagnostics > "$WORK/diag.out" 2>/dev/null
check 'head -1 "$WORK/diag.out" | grep -q "\"extracted\":\"4\""' "diagnostics: $(head -1 "$WORK/diag.out")"
# every built-in that explains itself: format's verdict, the length it measured
check 'head -1 "$WORK/diag.out" | grep -q "\"format\":{\"tags_once\":4,\"verdict\":\"match\"},\"overlong\":{\"length\":10}"' \
  "diagnostics of format and length: $(head -1 "$WORK/diag.out")"

# 5. usage and config errors
"$GRPO" reward --help > "$WORK/help.out"; rc=$?
check '[ $rc -eq 0 ] && grep -q -- "--on-error" "$WORK/help.out"' "--help"
"$GRPO" reward --input "$IN" 2> "$WORK/e1.err"; rc=$?
check '[ $rc -eq 2 ] && grep -q "config is required" "$WORK/e1.err"' "missing --config: exit $rc"
"$GRPO" reward --config "$CFG" --input "$IN" --on-error ignore 2> "$WORK/e2.err"; rc=$?
check '[ $rc -eq 2 ]' "bad --on-error: exit $rc"
"$GRPO" reward --config "$CFG" --input "$IN" --frobnicate 2> "$WORK/e3.err"; rc=$?
check '[ $rc -eq 2 ] && grep -q "unknown argument" "$WORK/e3.err"' "unknown argument: exit $rc"
printf '{"rewards": [{"name": "math_accuracy", "wieght": 2}]}\n' > "$WORK/typo.json"
"$GRPO" reward --config "$WORK/typo.json" --input "$IN" 2> "$WORK/e4.err" > /dev/null; rc=$?
check '[ $rc -eq 1 ] && grep -q "rewards\[0\].wieght" "$WORK/e4.err" && grep -q "did you mean .weight." "$WORK/e4.err"' \
  "config typo: exit $rc: $(cat "$WORK/e4.err")"
printf '{"model": {}}\n' > "$WORK/norewards.json"
"$GRPO" reward --config "$WORK/norewards.json" --input "$IN" 2> "$WORK/e5.err" > /dev/null; rc=$?
check '[ $rc -eq 1 ] && grep -q "rewards: missing" "$WORK/e5.err"' "no rewards section: $(cat "$WORK/e5.err")"
"$GRPO" reward --config "$CFG" --input "$WORK/nonexistent.jsonl" 2> "$WORK/e6.err" > /dev/null; rc=$?
check '[ $rc -eq 1 ] && grep -q "nonexistent.jsonl: cannot open" "$WORK/e6.err"' "missing input: $(cat "$WORK/e6.err")"
printf '{"completion": "x", "finish_reason": "timeout"}\n' > "$WORK/badfinish.jsonl"
"$GRPO" reward --config "$CFG" --input "$WORK/badfinish.jsonl" 2> "$WORK/e7.err" > /dev/null; rc=$?
check '[ $rc -eq 1 ] && grep -q "badfinish.jsonl:1.finish_reason" "$WORK/e7.err"' "bad finish_reason: $(cat "$WORK/e7.err")"

# 6. grpo config checks the rewards array with grpo reward's rules, starts
#    nothing, and prints every reward's defaults
printf '{"data": {"train_file": "x.jsonl"}, "rewards": [{"name": "math_acuracy"}]}\n' > "$WORK/typo_train.json"
"$GRPO" config "$WORK/typo_train.json" > /dev/null 2> "$WORK/c1.err"; rc=$?
check '[ $rc -eq 1 ] && grep -q "rewards\[0\].name: unknown reward .math_acuracy.; did you mean .math_accuracy." "$WORK/c1.err"' \
  "grpo config accepts a misspelled reward: $rc $(cat "$WORK/c1.err")"
printf '{"prompt": "1+1", "answer": "2"}\n' > "$WORK/x.jsonl" # (grpo config reads the prompts file too)
cat > "$WORK/ok_train.json" <<EOF
{"data": {"train_file": "$WORK/x.jsonl"},
 "rewards": [{"name": "format", "weight": 0.5},
             {"name": "external", "command": ["sh", "-c", "touch $WORK/spawned"], "label": "ext"}]}
EOF
"$GRPO" config "$WORK/ok_train.json" > "$WORK/c2.out" 2> "$WORK/c2.err"; rc=$?
check '[ $rc -eq 0 ] && ! [ -e "$WORK/spawned" ]' "grpo config on an external reward: rc $rc, spawned: $(ls "$WORK/spawned" 2>&1)"
check 'python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))[\"rewards\"]
ok = r[0][\"mode\"] == \"strict\" and r[0][\"weight\"] == 0.5 and r[0][\"label\"] == \"format\"
ok = ok and r[1][\"timeout_seconds\"] == 30 and r[1][\"working_dir\"] == sys.argv[2]
sys.exit(not ok)" "$WORK/c2.out" "$(cd "$WORK" && pwd)"' "grpo config prints the rewards with defaults: $(tail -25 "$WORK/c2.out")"
"$GRPO" config "$WORK/ok_train.json" --for sft > /dev/null 2> "$WORK/c3.err"; rc=$?
check '[ $rc -eq 1 ] && grep -q "rewards: grpo sft does not use this key" "$WORK/c3.err"' "grpo config --for sft: $(cat "$WORK/c3.err")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
