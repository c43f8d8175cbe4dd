"""trl_rewards.py: reward functions written as for TRL's GRPOTrainer, run by
grpo through grpo_reward_adapter.py (docs/rewards.md):

    {"name": "external", "label": "partial",
     "command": ["grpo-reward-adapter", "--trl", "trl_rewards.py:partial_credit"]}

Each gets the batch's completions and, as keyword arguments, every dataset
column (one value per completion) and returns one score per completion.
"""
import re

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def partial_credit(completions, answer, **kwargs):
    """Partial credit: 1.0 for the exact answer inside <answer>...</answer>,
    0.5 when the tag holds the answer among other text, 0.1 for a tag with
    something else, 0 without a tag; None (no score) when the line has no
    answer."""
    scores = []
    for completion, gold in zip(completions, answer):
        if gold is None:
            scores.append(None)
            continue
        found = ANSWER.findall(completion)
        if not found:
            scores.append(0.0)
        elif found[-1].strip() == str(gold).strip():
            scores.append(1.0)
        elif str(gold).strip() in found[-1]:
            scores.append(0.5)
        else:
            scores.append(0.1)
    return scores


def length_penalty(completions, trainer_state, max_steps=100, **kwargs):
    """A step-scheduled penalty: -len/1000 per character, ramping up from 0
    at step 0 to full strength at max_steps (a config key:
    {"max_steps": 200} in the reward's entry)."""
    ramp = min(trainer_state.global_step / max_steps, 1.0)
    return [-ramp * len(c) / 1000 for c in completions]
