#!/bin/bash
# grpo reward loses nothing it computed: interrupted by SIGTERM during a slow
# external reward, by a crashing plugin, or by a reward process that dies
# (twice: restarted once), it leaves only whole lines, says how far it got,
# and --resume continues to exactly the output (and summary) of an
# uninterrupted run, also when the output was cut mid-line or mid-group.
# --on-error null keeps going with the reason in the line. A group's lines
# always reach a reward in one call.
#   test_reward_resume.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
set -u
GRPO=$1; WORK=$3
PLUGIN=$(dirname "$GRPO")/tests/libgrpo_test_reward_plugins.so
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK" || exit 1
pass=0; fail=0
check() { if eval "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $2" >&2; fi; }

# 300 lines in groups of 3; line 200 is "boom" (the crash), line 150 "die"
python3 - <<'PY'
import json
with open("in.jsonl", "w") as f:
    for i in range(300):
        c = {199: "boom", 149: "die"}.get(i, "<think>x</think><answer>%d</answer>" % i)
        f.write(json.dumps({"prompt": "Q%d" % (i // 3), "completion": c, "answer": str(i),
                            "group": i // 3, "index": i % 3, "n_tokens": 5}) + "\n")
PY
# score = the size of the item's group within the call (3 when groups are
# never split) + len(completion) / 1000
cat > group_count.py <<'PY'
import json, os, sys, time
for line in sys.stdin:
    items = json.loads(line)["items"]
    if os.environ.get("DIE") and any(it["completion"] == "die" for it in items):
        sys.exit(1)
    time.sleep(float(os.environ.get("SLEEP", "0")))
    scores = [sum(o["group"] == it["group"] for o in items) + len(it["completion"]) / 1000 for it in items]
    print(json.dumps({"scores": scores}), flush=True)
PY
cat > ext.json <<'EOF'
{"rewards": [{"name": "external", "command": ["python3", "group_count.py"], "label": "groups"},
             {"name": "format", "mode": "tag_count"}]}
EOF
cat > crash.json <<EOF
{"rewards": [{"name": "plugin", "library": "$PLUGIN", "symbol": "crash_plugin"},
             {"name": "format", "mode": "tag_count"}]}
EOF
# Waits (up to 60 s) until FILE has at least N lines.
wait_lines() { for _ in $(seq 600); do [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return; sleep 0.1; done; }
whole_lines() { # FILE: non-empty, ends with a newline, every line JSON with "line"
  python3 -c '
import json, sys
data = open(sys.argv[1]).read()
assert data and data.endswith("\n"), "not whole lines"
for l in data.splitlines(): assert "line" in json.loads(l)
' "$1"
}
same_summary() { # A.json B.json: equal but for times and the resume count
  python3 -c '
import json, sys
def clean(p):
    j = json.load(open(p))
    for k in ("seconds", "lines_from_earlier_run"): j.pop(k)
    for f in j["functions"]: f.pop("seconds")
    return j
a, b = clean(sys.argv[1]), clean(sys.argv[2])
if a != b: print(a, b, sep="\n", file=sys.stderr)
sys.exit(a != b)
' "$1" "$2"
}

# The uninterrupted references.
SLEEP=0 "$GRPO" reward --config ext.json --input in.jsonl --batch-size 8 --output ref.out --summary-json ref.json 2> ref.err
rc=$?
check '[ $rc -eq 0 ] && [ $(wc -l < ref.out) -eq 300 ]' "reference run: $rc $(tail -3 ref.err)"
check 'python3 -c "import json,sys; sys.exit(any(json.loads(l)[\"rewards\"][\"groups\"] < 3 for l in open(\"ref.out\")))"' \
  "a group was split across calls"
check 'grep -q "all-equal groups" ref.err && grep -q " [0-9]*/100 ([0-9]*%)" ref.err' "group statistics: $(cat ref.err)"
"$GRPO" reward --config crash.json --input in.jsonl --batch-size 8 --output ref_crash.out --summary-json ref_crash.json 2> /dev/null
check '[ $(wc -l < ref_crash.out) -eq 300 ]' "reference run (plugin)"

# 1. SIGTERM during a slow external reward, writing to a file, then --resume.
SLEEP=0.05 "$GRPO" reward --config ext.json --input in.jsonl --batch-size 8 --output term.out \
  --summary-json term.json 2> term.err &
pid=$!; wait_lines term.out 20; kill -TERM $pid; wait $pid; rc=$?
n=$(wc -l < term.out)
check '[ $rc -eq 143 ] && [ $n -gt 0 ] && [ $n -lt 300 ] && whole_lines term.out' "SIGTERM: rc $rc, $n lines"
check 'grep -q "stopped by SIGTERM" term.err && grep -q "whole lines written to term.out, up to input line" term.err &&
  grep -q "with --resume to continue" term.err' "SIGTERM message: $(tail -2 term.err)"
SLEEP=0 "$GRPO" reward --config ext.json --input in.jsonl --batch-size 8 --output term.out --resume \
  --summary-json term.json 2> term2.err
rc=$?
check '[ $rc -eq 0 ] && cmp -s term.out ref.out' "resumed output differs from the uninterrupted one (rc $rc)"
check 'grep -q "300 lines scored ($n by the earlier run)" term2.err' "resume summary: $(head -1 term2.err)"
check 'same_summary term.json ref.json' "resumed summary differs"

# 2. The same on stdout: the message says how to resume.
SLEEP=0.05 "$GRPO" reward --config ext.json --input in.jsonl --batch-size 8 > stdout.out 2> stdout.err &
pid=$!; wait_lines stdout.out 20; kill -TERM $pid; wait $pid; rc=$?
check '[ $rc -eq 143 ] && whole_lines stdout.out && grep -q -- "--output FILE --resume" stdout.err' \
  "SIGTERM on stdout: rc $rc $(tail -1 stdout.err)"
SLEEP=0 "$GRPO" reward --config ext.json --input in.jsonl --batch-size 8 --output stdout.out --resume 2> /dev/null
check 'cmp -s stdout.out ref.out' "resumed stdout differs"

# 3. A plugin crash (SIGSEGV) leaves whole lines and names the lines it was scoring.
(GRPO_TEST_CRASH=1 "$GRPO" reward --config crash.json --input in.jsonl --batch-size 8 --output crash.out 2> crash.err) 2> /dev/null
rc=$?
check '[ $rc -eq 139 ] && whole_lines crash.out && [ $(wc -l < crash.out) -lt 200 ] && [ $(wc -l < crash.out) -gt 150 ]' \
  "crash: rc $rc, $(wc -l < crash.out) lines"
check 'grep -q "stopped by SIGSEGV" crash.err && grep -q "while scoring input lines 19[0-9]-20[0-9]" crash.err' \
  "crash message: $(tail -2 crash.err)"
"$GRPO" reward --config crash.json --input in.jsonl --batch-size 8 --output crash.out --resume \
  --summary-json crash.json.out 2> /dev/null
check 'cmp -s crash.out ref_crash.out && same_summary crash.json.out ref_crash.json' "resume after the crash differs"

# 4. A reward process that dies (again after its restart): exit 1, whole lines, the batch's lines named.
DIE=1 SLEEP=0 "$GRPO" reward --config ext.json --input in.jsonl --batch-size 8 --output die.out 2> die.err
rc=$?
check '[ $rc -eq 1 ] && whole_lines die.out && [ $(wc -l < die.out) -lt 150 ]' "dying process: rc $rc"
check 'grep -q "exited with status 1 before answering a batch, also after a restart" die.err &&
  grep -q "rewards\[0\] (groups): in.jsonl lines 1[45][0-9]-1[5][0-9]:" die.err' "dying process message: $(cat die.err)"
check 'grep -q "starting it again" die.err' "the restart is reported"
SLEEP=0 "$GRPO" reward --config ext.json --input in.jsonl --batch-size 8 --output die.out --resume 2> /dev/null
check 'cmp -s die.out ref.out' "resume after the dying process differs"

# 5. --on-error null: the failing batch's lines carry the reason; the run goes on.
DIE=1 SLEEP=0 "$GRPO" reward --config ext.json --input in.jsonl --batch-size 8 --on-error null \
  --output null.out --summary-json null.json 2> null.err
rc=$?
check '[ $rc -eq 0 ] && [ $(wc -l < null.out) -eq 300 ]' "null mode: rc $rc"
check 'grep "\"line\":150" null.out | grep -q "\"groups\":null" &&
  grep "\"line\":150" null.out | grep -q "\"errors\":{\"groups\":\"external reward .* also after a restart"' \
  "null mode line: $(grep '"line":150' null.out)"
check 'python3 -c "import json; f = json.load(open(\"null.json\"))[\"functions\"][0]; exit(not (f[\"failed\"] > 0 and f[\"scored\"] == 300 - f[\"failed\"]))"' \
  "null mode counts failures: $(head -c 400 null.json)"
check 'python3 -c "
import json
ref = {json.loads(l)[\"line\"]: l for l in open(\"ref.out\")}
ok = [l == ref[json.loads(l)[\"line\"]] for l in open(\"null.out\") if \"errors\" not in l]
exit(not (all(ok) and 280 < len(ok) < 300))"' "null mode: the other lines are as in the reference"

# 6. An output cut mid-line and mid-group: the partial line is dropped and
#    the group scored again whole.
head -c "$(head -10 ref.out | wc -c)" ref.out > cut.out
head -c 25 <(sed -n 11p ref.out) >> cut.out
"$GRPO" reward --config ext.json --input in.jsonl --batch-size 8 --output cut.out --resume 2> cut.err
check 'cmp -s cut.out ref.out' "resume from a cut file differs: $(diff cut.out ref.out | head -4)"
check 'grep -q "dropped a partial last line" cut.err' "partial line reported: $(head -2 cut.err)"

# 7. --resume of a file that grpo reward did not write is refused.
echo '{"x": 1}' > other.out
"$GRPO" reward --config ext.json --input in.jsonl --output other.out --resume 2> other.err
rc=$?
check '[ $rc -eq 1 ] && grep -q "other.out:1: not a line of grpo reward" other.err' "foreign output: $(cat other.err)"
"$GRPO" reward --config ext.json --input in.jsonl --resume 2> usage.err
check '[ $? -eq 2 ] && grep -q -- "--resume needs --output" usage.err' "--resume without --output"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
