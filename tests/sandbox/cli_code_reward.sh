#!/bin/bash
# cli_code_reward.sh: `grpo reward` with the code reward, end to end: the
# grpo binary finds the grpo-sandbox helper beside it, runs each completion
# in the sandbox and writes one JSON line per input, in order.
# Arguments (from grpo_cli_test): GRPO_BINARY TESTS_DIR WORK_DIR
set -euo pipefail
grpo=$1
work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"
cat > cfg.json <<'JSON'
{"rewards": [{"name": "code", "weight": 2.0, "language": "python", "score": "fraction", "workers": 2,
              "sandbox": {"timeout": 60, "cpu_time": 1}}]}
JSON
cat > in.jsonl <<'JSON'
{"prompt": "add", "completion": "```python\na, b = map(int, input().split())\nprint(a + b)\n```", "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5\n", "output": "10\n"}]}
{"prompt": "add", "completion": "```python\nprint(3)\n```", "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5\n", "output": "10\n"}]}
{"prompt": "sq", "completion": "```python\ndef sq(x):\n    return x * x\n```", "tests": "assert sq(3) == 9\n"}
{"prompt": "sq", "completion": "```python\nimport os\nos._exit(0)\n```", "tests": "assert sq(3) == 9\n"}
{"prompt": "sq", "completion": "```python\nwhile True:\n    pass\n```", "tests": "assert sq(3) == 9\n"}
{"prompt": "sq", "completion": "no code here", "tests": "assert sq(3) == 9\n"}
{"prompt": "x", "completion": "```python\nprint(1)\n```"}
JSON
"$grpo" reward --config cfg.json --input in.jsonl > out.jsonl 2> err.txt
cat > want.jsonl <<'JSON'
{"reward":2,"rewards":{"code":1},"line":1}
{"reward":1,"rewards":{"code":0.5},"line":2}
{"reward":2,"rewards":{"code":1},"line":3}
{"reward":0,"rewards":{"code":0},"line":4}
{"reward":0,"rewards":{"code":0},"line":5}
{"reward":0,"rewards":{"code":0},"line":6}
{"reward":null,"rewards":{"code":null},"line":7}
JSON
if ! diff want.jsonl out.jsonl; then
  echo "FAIL: unexpected scores"; cat err.txt; exit 1
fi
grep -q "sandbox: layers: .*seccomp" err.txt || { echo "FAIL: the start-up layer report is missing"; cat err.txt; exit 1; }
# A config error names the key.
echo '{"rewards": [{"name": "code", "sandbox": {"timout": 1}}]}' > bad.json
if "$grpo" reward --config bad.json --input in.jsonl > /dev/null 2> bad.txt; then
  echo "FAIL: a bad sandbox key was accepted"; exit 1
fi
grep -q "rewards\[0\].sandbox.timout: unknown key; did you mean 'timeout'" bad.txt || { echo "FAIL: message:"; cat bad.txt; exit 1; }
echo "1 passed, 0 failed"
