#!/usr/bin/env python3
"""An example external reward for grpo (protocol 1, docs/rewards.md).

grpo starts this program once and writes one JSON line per batch on its stdin:
    {"protocol": 1, "params": {...}, "items": [{"prompt": ..., "completion": ...,
     "example": {...} or null, "n_tokens": N or null, "finish_reason": "eos"}, ...]}
It must answer each with exactly one JSON line on stdout:
    {"scores": [1.0, 0.0, null, ...]}     (null = "no score")
or  {"error": "what went wrong"}          (the batch fails with this message)
Anything else (logs, tracebacks) belongs on stderr.

This one scores exact match: the text of the last <answer>...</answer> tag
against the example's "answer", after collapsing whitespace; case-insensitive
unless params "case_sensitive" is true. No answer in the example: null.
Config:
    {"name": "external", "command": ["python3", "examples/external_reward/exact_match.py"],
     "timeout_seconds": 30, "case_sensitive": false}
Plain python3, no third-party modules.
"""
import json
import re
import sys

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def normalize(text, case_sensitive):
    text = " ".join(text.split())
    return text if case_sensitive else text.lower()


def score(item, case_sensitive):
    example = item.get("example") or {}
    truth = example.get("answer")
    if truth is None:
        return None
    found = ANSWER.findall(item["completion"])
    if not found:
        return 0.0
    same = normalize(found[-1], case_sensitive) == normalize(str(truth), case_sensitive)
    return 1.0 if same else 0.0


def main():
    for line in sys.stdin:
        try:
            request = json.loads(line)
            params = request.get("params", {})
            unknown = set(params) - {"case_sensitive"}
            if unknown:
                raise ValueError("unknown parameter(s): %s; valid: case_sensitive" % ", ".join(sorted(unknown)))
            case_sensitive = bool(params.get("case_sensitive", False))
            reply = {"scores": [score(item, case_sensitive) for item in request["items"]]}
        except Exception as e:  # report, do not die: grpo shows the message
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
