"""group_relative.py: a group-relative reward in TRL style: it needs the
other completions of the same prompt, which grpo gives in one call
(group_ids says which completions belong together; a group is never split).

    {"name": "external", "label": "shortest",
     "command": ["grpo-reward-adapter", "--trl", "group_relative.py:shortest_correct"]}

A correct completion (its <answer> equals the line's "answer") scores 1,
plus 0.5 if it is the shortest correct one of its group; a wrong one 0.
"""
import re

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def is_correct(completion, gold):
    found = ANSWER.findall(completion)
    return gold is not None and bool(found) and found[-1].strip() == str(gold).strip()


def shortest_correct(completions, answer, group_ids, **kwargs):
    correct = [is_correct(c, a) for c, a in zip(completions, answer)]
    # without group ids every completion is a group of its own
    groups = [g if g is not None else ("alone", i) for i, g in enumerate(group_ids)]
    best = {}
    for i, (g, ok) in enumerate(zip(groups, correct)):
        if ok and (g not in best or len(completions[i]) < len(completions[best[g]])):
            best[g] = i
    return [0.0 if not ok else 1.5 if best[g] == i else 1.0 for i, (g, ok) in enumerate(zip(groups, correct))]
