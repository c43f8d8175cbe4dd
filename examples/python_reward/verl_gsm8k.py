"""verl_gsm8k.py: a verl-style reward (compute_score, one completion per
call), run by grpo through grpo_reward_adapter.py (docs/rewards.md):

    {"name": "external", "label": "gsm8k",
     "command": ["grpo-reward-adapter", "--verl", "verl_gsm8k.py"]}

It takes the number after the last "####" (GSM8K's layout), else the last
number, compares it with the ground truth and returns a dict: "score" is the
score, the rest becomes the completion's diagnostics.
"""
import re

NUMBER = re.compile(r"-?[\d,]*\.?\d+")


def extract(solution_str):
    tail = solution_str.rsplit("####", 1)[-1] if "####" in solution_str else solution_str
    numbers = NUMBER.findall(tail)
    return numbers[-1].replace(",", "").rstrip(".") if numbers else None


def compute_score(data_source, solution_str, ground_truth, extra_info=None, format_score=0.0, score=1.0):
    if ground_truth is None:
        return None  # no score without a ground truth
    got = extract(solution_str)
    if got is None:
        return {"score": 0.0, "extracted": None}
    try:
        correct = float(got) == float(str(ground_truth).replace(",", ""))
    except ValueError:
        correct = got == str(ground_truth)
    return {"score": score if correct else format_score, "extracted": got}
