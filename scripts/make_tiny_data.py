#!/usr/bin/env python3
"""Writes the built-in tiny datasets under data/tiny/ (deterministic: a fixed
seed; plain python3, no third-party modules).

  arith_sft.jsonl / arith_eval.jsonl: two-number addition and subtraction
  with an R1-style completion ("<think> ... </think> <answer> N </answer>"),
  for the tiny SFT cold-start recipe (configs/sft-tiny.json).
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "tiny")


def example(rng):
    a, b = rng.randint(0, 99), rng.randint(0, 99)
    if rng.random() < 0.5:
        q, r, op = f"What is {a} + {b}?", a + b, "+"
    else:
        q, r, op = f"What is {a} - {b}?", a - b, "-"
    return {"prompt": q, "completion": f" <think> {a} {op} {b} = {r} </think> <answer> {r} </answer>", "answer": str(r)}


def main():
    rng = random.Random(20260101)
    os.makedirs(OUT, exist_ok=True)
    for name, n in (("arith_sft.jsonl", 512), ("arith_eval.jsonl", 64)):
        with open(os.path.join(OUT, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(example(rng)) + "\n")


if __name__ == "__main__":
    main()
