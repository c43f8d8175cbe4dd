#!/usr/bin/env python3
"""grpo_reward_adapter.py: runs a reward function written for TRL or verl as a
grpo external reward (docs/rewards.md, "Rewards written for TRL or verl").
Plain python3, no modules to install. Installed with grpo as
<prefix>/bin/grpo-reward-adapter.

    grpo-reward-adapter --trl my_rewards.py:accuracy
    grpo-reward-adapter --verl my_score.py            (function compute_score)
    grpo-reward-adapter --verl my_score.py:my_fn

in a job config:

    {"name": "external", "command": ["grpo-reward-adapter", "--trl", "my_rewards.py:accuracy"],
     "label": "accuracy"}

TRL style, one call per batch:
    f(prompts, completions, completion_ids, trainer_state, **columns) -> list[float | None]
  every dataset column comes as a keyword argument holding one value per
  completion, as TRL passes them; so do grpo's group_ids, group_indices,
  n_tokens and finish_reasons. completion_ids needs "token_ids": true in the
  config entry (else it holds None per completion). trainer_state.global_step
  is the training step (0 in grpo reward).
verl style, one call per completion:
    compute_score(data_source, solution_str, ground_truth, extra_info) -> float | dict
  data_source, ground_truth (reward_model.ground_truth, else ground_truth,
  else answer) and extra_info come from the dataset line as in verl's
  parquet layout; extra_info also holds "grpo": group, index, step,
  n_tokens, finish_reason and prompt.
Either may return None (no score); a dict's "score" is the score and the rest
are its diagnostics (verl's reward_extra_info). The config entry's other keys
reach the function as keyword arguments (like verl's reward_kwargs). Anything
the function prints goes to stderr, so print() debugging is safe. An
exception fails the batch (TRL style) or that completion (verl style: its
score is null with the reason when grpo runs with --on-error null).
"""
import importlib.util
import inspect
import json
import math
import os
import sys
import traceback

USAGE = "usage: grpo-reward-adapter (--trl FILE.py:FUNCTION | --verl FILE.py[:FUNCTION])"


class TrainerState:
    """What TRL's trainer_state offers that grpo knows: the step."""

    def __init__(self, step):
        self.global_step = step


def load(spec, default_name):
    path, _, name = spec.partition(":")
    name = name or default_name
    if not name:
        sys.exit("grpo-reward-adapter: name the function: %s:FUNCTION" % path)
    if not os.path.isfile(path):
        sys.exit("grpo-reward-adapter: %s: no such file (relative paths start at the config file's folder, "
                 "the program's working directory)" % path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    module_spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        sys.exit("grpo-reward-adapter: %s has no function %s" % (path, name))
    return fn


def call_with(fn, kwargs, missing=None):
    """Calls fn with the keyword arguments it accepts (all of them with
    **kwargs); a parameter it names without a default that is not among them
    (a column no line of the batch has) gets missing."""
    params = inspect.signature(fn).parameters.values()
    for p in params:
        if p.name not in kwargs and p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            kwargs[p.name] = missing
    if not any(p.kind == p.VAR_KEYWORD for p in params):
        names = {p.name for p in params}
        kwargs = {k: v for k, v in kwargs.items() if k in names}
    return fn(**kwargs)


def split_result(value):
    """(score or None, diagnostics or None) from what a function returned."""
    diag = None
    if isinstance(value, dict):
        diag = {k: v for k, v in value.items() if k != "score"} or None
        value = value.get("score")
    if value is None:
        return None, diag
    if isinstance(value, bool):
        value = float(value)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError("a score must be a number, None or a dict with 'score', got %r" % (value,))
    return (value if math.isfinite(value) else None), diag


def score_trl(fn, items, params):
    examples = [it["example"] if isinstance(it["example"], dict) else {} for it in items]
    columns = []
    for ex in examples:
        columns += [k for k in ex if k not in ("prompt", "completion", "completion_ids") and k not in columns]
    kwargs = {k: [ex.get(k) for ex in examples] for k in columns}
    kwargs.update(
        prompts=[it["prompt"] for it in items],
        completions=[it["completion"] for it in items],
        completion_ids=[it.get("token_ids") for it in items],
        trainer_state=TrainerState(items[0].get("step") or 0),
        group_ids=[it.get("group") for it in items],
        group_indices=[it.get("index") for it in items],
        n_tokens=[it.get("n_tokens") for it in items],
        finish_reasons=[it.get("finish_reason") for it in items],
    )
    kwargs.update(params)
    out = call_with(fn, kwargs, [None] * len(items))
    if out is None or len(out) != len(items):
        raise ValueError("the function returned %s results for %d completions; return one per completion"
                         % ("no" if out is None else len(out), len(items)))
    return [split_result(v) + (None,) for v in out]


def score_verl(fn, items, params):
    results = []
    for it in items:
        ex = it["example"] if isinstance(it["example"], dict) else {}
        rm = ex.get("reward_model")
        if isinstance(rm, dict) and "ground_truth" in rm:
            truth = rm["ground_truth"]
        else:
            truth = ex.get("ground_truth", ex.get("answer"))
        extra = dict(ex.get("extra_info") or {})
        extra["grpo"] = {k: it.get(k) for k in ("group", "index", "step", "n_tokens", "finish_reason", "prompt")}
        kwargs = dict(params, data_source=ex.get("data_source", ""), solution_str=it["completion"],
                      ground_truth=truth, extra_info=extra)
        try:
            results.append(split_result(call_with(fn, kwargs)) + (None,))
        except Exception as e:  # this completion fails, the others go on
            traceback.print_exc(file=sys.stderr)
            results.append((None, None, "%s: %s" % (type(e).__name__, e)))
    return results


def main(argv):
    if len(argv) != 3 or argv[1] not in ("--trl", "--verl"):
        print(USAGE, file=sys.stderr if len(argv) != 2 else sys.stdout)
        return 0 if argv[1:] in (["-h"], ["--help"]) else 2
    style = argv[1][2:]
    answers = sys.stdout
    sys.stdout = sys.stderr  # the function's prints must not reach grpo's protocol stream
    fn = load(argv[2], "compute_score" if style == "verl" else None)
    for line in sys.stdin:
        request = json.loads(line)
        items, params = request["items"], request.get("params") or {}
        try:
            results = (score_trl if style == "trl" else score_verl)(fn, items, params)
            answer = {"scores": [r[0] for r in results]}
            if any(r[1] is not None for r in results):
                answer["diagnostics"] = [r[1] for r in results]
            if any(r[2] is not None for r in results):
                answer["errors"] = [r[2] for r in results]
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            answer = {"error": "%s: %s (traceback above)" % (type(e).__name__, e)}
        try:
            text = json.dumps(answer, allow_nan=False, default=str)
        except ValueError:
            text = json.dumps({"error": "the diagnostics hold NaN or Infinity, which are not JSON"})
        answers.write(text + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
