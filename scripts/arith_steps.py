#!/usr/bin/env python3
"""Checks the worked steps of arithmetic completions, for docs/r1zero.md.

Reads `grpo generate --prompts` output (JSONL: prompt "...What is 8+1-9+5+9?...",
completion "<think>8+1=9,9-9=0,...</think><answer>14</answer>", or with
pad_steps "<think>8+1=09,09-9=00,...", answer) of the
compact + and - chains of the tiny recipe and prints:
  - pass@1 and the share of completions that think, and how often those are right;
  - the share of steps "a op b=c" whose arithmetic is right, and the facts
    (a op b) that are wrong more often than right (seen at least 3 times);
  - per step, the share that copies the wrong operator or operand from the
    question;
  - the problems wrong in every sample.

    build/grpo generate --model M --prompts held_out.jsonl --config C --n 8 --output g.jsonl
    scripts/arith_steps.py g.jsonl
"""
import collections
import json
import re
import sys


def main(path):
    rows = [json.loads(line) for line in open(path)]
    right = collections.defaultdict(list)  # problem -> [right?]
    facts = collections.defaultdict(lambda: [0, 0])  # (a, op, b) -> [seen, right]
    copies = collections.Counter()  # step -> wrong copies
    steps_at = collections.Counter()  # step -> steps seen
    think = think_right = 0
    for r in rows:
        expr = re.search(r"What is (.*)\?", r["prompt"]).group(1)
        ans = re.search(r"<answer>(.*?)</answer>", r["completion"])
        ok = bool(ans) and ans.group(1).strip() == r["answer"]
        right[expr].append(ok)
        body = re.search(r"<think>(.*?)</think>", r["completion"])
        if not body:
            continue
        think += 1
        think_right += ok
        toks = re.findall(r"\d+|[+-]", expr)
        for k, step in enumerate(body.group(1).split(",")):
            m = re.fullmatch(r"(-?\d+)([+-])(\d+)=(-?\d+)", step)  # "09+8=17" with pad_steps
            if not m:
                break
            a, op, b, c = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
            fact = facts[(a, op, b)]
            fact[0] += 1
            fact[1] += (a + b if op == "+" else a - b) == c
            if 2 * k + 2 < len(toks):
                steps_at[k] += 1
                copies[k] += op != toks[2 * k + 1] or b != int(toks[2 * k + 2])
    n = len(rows)
    seen = sum(f[0] for f in facts.values())
    bad = sorted((f[1] / f[0], key) for key, f in facts.items() if f[0] >= 3 and f[1] / f[0] < 0.5)
    print("completions %d, pass@1 %.3f, think %.3f, right when thinking %.3f"
          % (n, sum(map(sum, right.values())) / n, think / n, think_right / max(think, 1)))
    print("steps %d, arithmetic right %.3f, facts wrong more often than right: %d %s"
          % (seen, sum(f[1] for f in facts.values()) / max(seen, 1), len(bad),
             " ".join("%d%s%d" % key for _, key in bad[:12])))
    print("wrong operand copied, by step: "
          + ", ".join("%d: %.3f" % (k + 1, copies[k] / steps_at[k]) for k in sorted(steps_at)))
    print("problems wrong in every sample: %d of %d" % (sum(not any(v) for v in right.values()), len(right)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
