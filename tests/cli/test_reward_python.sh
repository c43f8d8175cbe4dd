#!/bin/bash
# Python rewards as TRL and verl users write them, through
# examples/python_reward/grpo_reward_adapter.py: a TRL-style partial-credit
# function (dataset columns and config keys as keyword arguments, the step
# in trainer_state), a verl-style compute_score (dict results become
# diagnostics; an exception fails only its completion), a group-relative
# reward that sees its whole group; then "sample a model, score the samples"
# in two commands (grpo generate --prompts, grpo reward), and a short
# grpo train whose external reward sees group, index, step and token ids
# and whose diagnostics land in completions.jsonl.
#   test_reward_python.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
set -u
GRPO=$1; SRC=$(cd "$2/.." && pwd); WORK=$3
ADAPTER=$SRC/examples/python_reward/grpo_reward_adapter.py
rm -rf "$WORK"; mkdir -p "$WORK/exp"; cd "$WORK" || exit 1
pass=0; fail=0
check() { if eval "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $2" >&2; fi; }
export OMP_NUM_THREADS=1
# scores of column LABEL in FILE, as a Python list
scores() { python3 -c "import json,sys; print([json.loads(l)['rewards'][sys.argv[2]] for l in open(sys.argv[1])])" "$1" "$2"; }
# FILE LABEL LIST: the scores equal LIST (None = null) within 1e-9
same() { python3 -c "
import json, sys
got = [json.loads(l)['rewards'][sys.argv[2]] for l in open(sys.argv[1])]
want = eval(sys.argv[3])
sys.exit(not (len(got) == len(want) and all((g is None) == (w is None) and (g is None or abs(g - w) < 1e-9)
                                            for g, w in zip(got, want))))" "$1" "$2" "$3"; }

# The examples sit next to the config: relative names start at its folder.
cp "$SRC"/examples/python_reward/{trl_rewards,verl_gsm8k,group_relative}.py exp/
cat > exp/rewards.json <<EOF
{"rewards": [
  {"name": "external", "label": "partial", "command": ["python3", "$ADAPTER", "--trl", "trl_rewards.py:partial_credit"]},
  {"name": "external", "label": "ramp", "command": ["python3", "$ADAPTER", "--trl", "trl_rewards.py:length_penalty"],
   "max_steps": 10},
  {"name": "external", "label": "gsm8k", "command": ["python3", "$ADAPTER", "--verl", "verl_gsm8k.py"]},
  {"name": "external", "label": "shortest", "command": ["python3", "$ADAPTER", "--trl", "group_relative.py:shortest_correct"]}
]}
EOF
python3 - <<'PY'
import json
rows = [
    # partial credit: exact, contains, other, no tag, no answer (None); verl's
    # ground truth falls back to "answer"
    {"completion": "<answer>42</answer>", "answer": "42"},
    {"completion": "<answer>it is 42</answer>", "answer": "42"},
    {"completion": "<answer>7</answer>", "answer": "42"},
    {"completion": "no tags at all", "answer": "42"},
    {"completion": "<answer>1</answer>"},
]
# verl layout: reward_model.ground_truth
rows += [{"completion": "so 9 * 8 = 72 #### 72", "data_source": "gsm8k", "reward_model": {"ground_truth": "72"}},
         {"completion": "#### 71", "data_source": "gsm8k", "reward_model": {"ground_truth": "72"}}]
# a group of 3 at step 5 (the ramp is half on): the shortest correct gets 1.5
rows += [dict(completion=c, answer="5", group=0, index=i, step=5)
         for i, c in enumerate(["<answer>5</answer> long", "<answer>5</answer>", "<answer>4</answer>"])]
with open("in.jsonl", "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
PY
(cd / && "$GRPO" reward --config "$WORK/exp/rewards.json" --input "$WORK/in.jsonl" --batch-size 2 --diagnostics) \
  > py.out 2> py.err
rc=$?
check '[ $rc -eq 0 ] && [ $(wc -l < py.out) -eq 10 ]' "adapter run: rc $rc $(tail -5 py.err)"
check 'same py.out partial "[1, 0.5, 0.1, 0, None, None, None, 1, 1, 0.1]"' \
  "TRL-style partial credit: $(scores py.out partial)"
check 'same py.out ramp "[0] * 7 + [-0.5 * 23 / 1000, -0.5 * 18 / 1000, -0.5 * 18 / 1000]"' \
  "TRL-style step ramp (config key max_steps, trainer_state.global_step): $(scores py.out ramp)"
check 'same py.out gsm8k "[1, 1, 0, 0, None, 1, 0, 1, 1, 0]"' \
  "verl-style compute_score: $(scores py.out gsm8k)"
check 'sed -n 6p py.out | grep -q "\"gsm8k\":{\"extracted\":\"72\"}"' "verl dict result as diagnostics: $(sed -n 6p py.out)"
check 'same py.out shortest "[1.5, 0, 0, 0, 0, 0, 0, 1, 1.5, 0]"' \
  "group-relative reward (batch size 2 < group of 3): $(scores py.out shortest)"

# A verl function that raises for one completion: that line fails (named),
# or with --on-error null gets the reason and the run goes on. A function's
# print() goes to stderr, not into the protocol.
cat > exp/picky.py <<'EOF'
def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    print("scoring", repr(solution_str))
    if "boom" in solution_str:
        raise ValueError("cannot parse " + solution_str)
    return float(extra_info["grpo"]["index"] or 0)
EOF
cat > exp/picky.json <<EOF
{"rewards": [{"name": "external", "label": "picky", "command": ["python3", "$ADAPTER", "--verl", "picky.py"]}]}
EOF
printf '%s\n' '{"completion": "a", "group": 1, "index": 2}' '{"completion": "boom"}' '{"completion": "c"}' > picky.jsonl
"$GRPO" reward --config exp/picky.json --input picky.jsonl > picky.out 2> picky.err
rc=$?
check '[ $rc -eq 1 ] && grep -q "rewards\[0\] (picky): picky.jsonl:2: ValueError: cannot parse boom" picky.err' \
  "verl exception names the line: $(tail -3 picky.err)"
check 'grep -q "scoring .a." picky.err' "the function's print went to stderr"
"$GRPO" reward --config exp/picky.json --input picky.jsonl --on-error null > picky.out 2> picky.err
rc=$?
check '[ $rc -eq 0 ] && same picky.out picky "[2, None, 0]" && grep -q "\"errors\":{\"picky\":\"ValueError: cannot parse boom\"}" picky.out' \
  "verl exception under --on-error null: $(cat picky.out)"

# ---- sample a model, then score the samples: two commands ----
"$GRPO" init --arch "$SRC/configs/arch/tiny.json" --out tiny --seed 3 --tokenizer "$SRC/configs/tokenizers/bytes.json" \
  > init.log 2>&1
cat > exp/context.py <<'EOF'
import json, sys
# score: how many completions of the item's group came in the same call
for line in sys.stdin:
    items = json.loads(line)["items"]
    print(json.dumps({
        "scores": [sum(o["group"] == it["group"] for o in items) for it in items],
        "diagnostics": [{"group": it["group"], "index": it["index"], "step": it["step"],
                         "n_ids": None if it.get("token_ids") is None else len(it["token_ids"])} for it in items]}),
        flush=True)
EOF
cat > exp/score.json <<'EOF'
{"rewards": [{"name": "external", "command": ["python3", "context.py"], "label": "ctx", "token_ids": true},
             {"name": "math_accuracy"}, {"name": "format", "mode": "tag_count"}]}
EOF
"$GRPO" generate --model tiny --prompts "$SRC/data/tiny/arith_eval.jsonl" --template r1zero --n 4 --limit 3 \
  --max-new-tokens 8 --token-ids --output samples.jsonl 2> gen.err
rc=$?
check '[ $rc -eq 0 ] && [ $(wc -l < samples.jsonl) -eq 12 ] && grep -q "3 prompts x 4 samples = 12 lines" gen.err' \
  "grpo generate --prompts: rc $rc $(cat gen.err)"
check 'python3 -c "
import json
r = [json.loads(l) for l in open(\"samples.jsonl\")]
ok = all(set(x) >= {\"prompt\", \"completion\", \"answer\", \"n_tokens\", \"finish_reason\", \"group\", \"index\", \"token_ids\"} for x in r)
ok = ok and [x[\"group\"] for x in r] == [0]*4 + [1]*4 + [2]*4 and r[0][\"prompt\"].startswith(\"A conversation\")
exit(not ok)"' "generated lines: $(head -1 samples.jsonl)"
"$GRPO" reward --config exp/score.json --input samples.jsonl --batch-size 3 --diagnostics --summary-json sum.json \
  > samples.out 2> samples.err
rc=$?
check '[ $rc -eq 0 ] && same samples.out ctx "[4] * 12"' \
  "grpo reward on grpo generate's lines: rc $rc $(scores samples.out ctx) $(tail -3 samples.err)"
check 'python3 -c "
import json
s = json.load(open(\"sum.json\"))
exit(not (s[\"total\"][\"groups\"] == 3 and s[\"functions\"][1][\"label\"] == \"math_accuracy\" and s[\"functions\"][1][\"scored\"] == 12))"' \
  "summary of the generated samples: $(head -c 300 sum.json)"
check 'head -1 samples.out | grep -q "\"ctx\":{\"group\":0,\"index\":0,\"step\":null,\"n_ids\":"' "token ids reach the reward: $(head -1 samples.out)"

# ---- grpo train: the reward sees group, index, step, token ids; its diagnostics go to completions.jsonl ----
cat > exp/train.json <<EOF
{
  "model": {"init": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 260, "hidden_size": 32,
             "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "intermediate_size": 64,
             "max_position_embeddings": 128, "rope_theta": 10000.0, "rms_norm_eps": 1e-06,
             "tie_word_embeddings": true, "initializer_range": 0.02, "bos_token_id": 256, "eos_token_id": 256},
            "tokenizer": "$SRC/configs/tokenizers/bytes.json"},
  "data": {"generator": {"task": "arith"}, "template": "{prompt} <answer>", "max_prompt_length": 32},
  "rollout": {"num_generations": 4, "max_completion_length": 3},
  "rewards": [{"name": "external", "command": ["python3", "context.py"], "label": "ctx", "token_ids": true},
              {"name": "format", "mode": "tag_count"}],
  "train": {"steps": 2, "prompts_per_step": 2, "micro_batch_size": 8, "save_steps": 0, "threads": 1,
            "output_dir": "$WORK/run"},
  "log": {"log_completions": 2, "progress": "none"}
}
EOF
"$GRPO" train exp/train.json > train.log 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ $(wc -l < run/completions.jsonl) -eq 16 ]' "grpo train: rc $rc $(tail -5 train.log)"
check 'python3 -c "
import json
rows = [json.loads(l) for l in open(\"run/completions.jsonl\")]
ok = all(r[\"rewards\"][\"ctx\"] == 4 for r in rows)
ok = ok and all(r[\"diagnostics\"][\"ctx\"][\"step\"] == r[\"step\"] and r[\"diagnostics\"][\"ctx\"][\"index\"] == r[\"index\"]
                and r[\"diagnostics\"][\"ctx\"][\"n_ids\"] == r[\"n_tokens\"] for r in rows)
ok = ok and sorted({(r[\"step\"], r[\"diagnostics\"][\"ctx\"][\"group\"]) for r in rows}) == [(1, 0), (1, 1), (2, 0), (2, 1)]
exit(not ok)"' "completions.jsonl: $(head -1 run/completions.jsonl)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
