#!/bin/bash
# test_hardening.sh: the command line refuses what it cannot honour, with a
# message naming the key, file or field, and never crashes (issue 13):
# model sizes that overflow, null for string keys, the rewards array and
# model.init in `grpo config`, JSONL lines with trailing text or a raw NUL,
# real bounds in range errors, dotted/duplicate keys and trailing garbage
# in configs, stale temporary files of a run, resume with a changed config,
# absurd but allowed sizes (estimated before allocating; --dry-run), and a
# 10 MB prompt template.
#   test_hardening.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
set -u
GRPO=$1; SRC=$(cd "$2/.." && pwd); WORK=$3
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$SRC" || exit 1
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
export OMP_NUM_THREADS=1
unset GRPO_MAX_MEMORY
# expect CODE PHRASE CMD...: CMD exits with CODE and its stderr holds PHRASE.
expect() {
  local code=$1 phrase=$2; shift 2
  "$@" > "$WORK/out" 2> "$WORK/err"
  local rc=$?
  if [ $rc -ne "$code" ]; then bad "exit $rc (want $code): $*: $(tail -3 "$WORK/err")"; return; fi
  if [ -n "$phrase" ] && ! grep -qF -- "$phrase" "$WORK/err"; then bad "stderr lacks '$phrase': $*: $(tail -3 "$WORK/err")"; return; fi
  ok
}
SFT=(sft configs/sft-tiny.json --set data.eval_file=null --set train.steps=1 --set log.progress=none
     --set train.batch_size=4 --set train.micro_batch_size=4)

# ---- sizes from a file: an error naming the fields, never a wrap ----
cat > "$WORK/big.json" <<'EOF'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 256, "hidden_size": 65536,
 "num_hidden_layers": 65536, "num_attention_heads": 8, "intermediate_size": 357913938}
EOF
expect 1 "more than a 64-bit machine can address; check num_hidden_layers" "$GRPO" init --arch "$WORK/big.json" --out "$WORK/big.h5"
mkdir -p "$WORK/bighf" && cp "$WORK/big.json" "$WORK/bighf/config.json"
expect 1 "more than a 64-bit machine can address" "$GRPO" convert "$WORK/bighf" "$WORK/bighf.h5"
sed 's/"num_attention_heads": 8/"num_attention_heads": 1048576, "head_dim": 4096/; s/65536/64/g' "$WORK/big.json" > "$WORK/heads.json"
expect 1 "num_attention_heads x head_dim" "$GRPO" init --arch "$WORK/heads.json" --out "$WORK/heads.h5"

# ---- null for a string key ----
for key in data.train_file train.resume train.output_dir; do
  expect 1 "$key" "$GRPO" "${SFT[@]}" --set train.output_dir="$WORK/n" --set "$key=null"
  expect 1 "$key" "$GRPO" config configs/sft-tiny.json --set "$key=null"
done

# ---- grpo config checks the rewards array and model.init ----
cat > "$WORK/grpo.json" <<EOF
{"model": {"init": $(python3 -c "import json; print(json.dumps(json.load(open('configs/sft-tiny.json'))['model']['init']))"),
           "tokenizer": "$SRC/configs/tokenizers/bytes.json"},
 "data": {"generator": {"task": "arith"}, "template": "r1zero", "max_prompt_length": 64},
 "rollout": {"num_generations": 4, "max_completion_length": 16},
 "rewards": [{"name": "format"}],
 "train": {"steps": 1, "prompts_per_step": 2, "micro_batch_size": 4},
 "log": {"progress": "none"}}
EOF
expect 0 "is a valid config for grpo train" "$GRPO" config "$WORK/grpo.json"
expect 1 "rewards[0].name: unknown reward 'formt'" "$GRPO" config "$WORK/grpo.json" --set 'rewards=[{"name": "formt"}]'
expect 1 "rewards" "$GRPO" config "$WORK/grpo.json" --set 'rewards=[{"name": "format", "weight": "x"}]'
expect 1 "model.init: architecture 'Gpt2'" "$GRPO" config "$WORK/grpo.json" --set 'model.init={"architectures": ["Gpt2"]}'
expect 1 "model.init: missing required field 'hidden_size'" "$GRPO" config configs/sft-tiny.json \
  --set 'model.init={"architectures": ["LlamaForCausalLM"], "vocab_size": 10}'

# ---- JSONL: trailing text and raw NUL bytes are errors naming the line ----
printf '{"prompt": "a", "completion": "b"}\n{"prompt": "c", "completion": "d"} junk\n' > "$WORK/junk.jsonl"
expect 1 "junk.jsonl:2" "$GRPO" "${SFT[@]}" --set data.train_file="$WORK/junk.jsonl" --set train.output_dir="$WORK/j"
printf '{"prompt": "a", "completion": "b"}\n{"prompt": "c\0d", "completion": "e"}\n' > "$WORK/nul.jsonl"
expect 1 "nul.jsonl:2" "$GRPO" "${SFT[@]}" --set data.train_file="$WORK/nul.jsonl" --set train.output_dir="$WORK/j"
printf '{"prompt": "1+1", "answer": "2"}\n{"prompt": "2+2", "answer": "4"}{"x": 1}\n' > "$WORK/pjunk.jsonl"
expect 1 "pjunk.jsonl:2" "$GRPO" train "$WORK/grpo.json" --set data.generator=null \
  --set data.train_file="$WORK/pjunk.jsonl" --set train.output_dir="$WORK/j"

# ---- configs: real bounds, dotted and duplicate keys, trailing garbage ----
expect 1 "is out of range [0, 0.999999999]" "$GRPO" "${SFT[@]}" --set optim.adam_beta2=1
echo '{"train.steps": 0}' > "$WORK/dotted.json"
expect 1 "a key with a dot" "$GRPO" config "$WORK/dotted.json"
echo '{"train": {"steps": 3, "steps": 4}}' > "$WORK/dup.json"
expect 1 "train.steps: the key is given twice" "$GRPO" config "$WORK/dup.json"
echo '{"train": {"steps": 3}} }' > "$WORK/trail.json"
expect 1 "unexpected text after the JSON value" "$GRPO" config "$WORK/trail.json"

# ---- a run removes its own stale temporary files; resume checks the config ----
R=(--set train.output_dir="$WORK/r")
expect 0 "" "$GRPO" "${SFT[@]}" "${R[@]}"
touch "$WORK/r/checkpoints/step-9.h5.tmp.4242" "$WORK/r/checkpoints/latest.tmp.4242" "$WORK/r/config.json.tmp.4242"
echo keep > "$WORK/r/checkpoints/notes.txt"
expect 0 "resuming from" "$GRPO" "${SFT[@]}" "${R[@]}" --set train.steps=2
if ls "$WORK/r" "$WORK/r/checkpoints" | grep -q '\.tmp\.'; then bad "stale temporary files were left: $(ls "$WORK/r/checkpoints")"; else ok; fi
[ -f "$WORK/r/checkpoints/notes.txt" ] && ok || bad "a file that is not a temporary was removed"
expect 1 "optim.learning_rate differs" "$GRPO" "${SFT[@]}" "${R[@]}" --set train.steps=3 --set optim.learning_rate=1e-3
expect 1 "optim.learning_rate, train.seed differ" "$GRPO" "${SFT[@]}" "${R[@]}" --set train.steps=3 \
  --set optim.learning_rate=1e-3 --set train.seed=7
expect 0 "resuming from" "$GRPO" "${SFT[@]}" "${R[@]}" --set train.steps=3 --set optim.learning_rate=1e-3 \
  --set 'train.resume_allow_changes=["optim.learning_rate"]'

# ---- absurd but allowed sizes: estimated first, refused naming the key ----
expect 0 "" timeout 120 "$GRPO" "${SFT[@]}" --set train.output_dir="$WORK/m1" --set data.max_length=1048576
expect 1 "train.batch_size" "$GRPO" "${SFT[@]}" --set train.output_dir="$WORK/m2" --set train.batch_size=1e15 \
  --set train.micro_batch_size=1
expect 1 "train.micro_batch_size" "$GRPO" "${SFT[@]}" --set train.output_dir="$WORK/m3" --set train.micro_batch_size=1e15
expect 1 "train.micro_batch_size" "$GRPO" "${SFT[@]}" --set train.output_dir="$WORK/m3" --set train.batch_size=1e15 \
  --set train.micro_batch_size=1e15
expect 1 "data.generator: train.steps x train.batch_size" "$GRPO" "${SFT[@]}" --set train.output_dir="$WORK/m2" \
  --set data.train_file=null --set 'data.generator={"task": "corpus"}' --set train.steps=1e15 --set train.batch_size=1e15
GRPO_MAX_MEMORY=0 expect 1 "what a process can address" "$GRPO" "${SFT[@]}" --set train.output_dir="$WORK/m2" \
  --set data.train_file=null --set 'data.generator={"task": "corpus"}' --set train.steps=1e15 --set train.batch_size=1e15
expect 1 "lower train.batch_size" "$GRPO" train "$WORK/grpo.json" --set train.output_dir="$WORK/m4" --set train.batch_size=1e15
expect 1 "train.micro_batch_size" "$GRPO" train "$WORK/grpo.json" --set train.output_dir="$WORK/m4" \
  --set train.micro_batch_size=1e15
expect 1 "train.micro_batch_size: 1000000000000000 is larger than train.batch_size" "$GRPO" config configs/sft-tiny.json \
  --set train.micro_batch_size=1e15
expect 1 "no training prompts" "$GRPO" config "$WORK/grpo.json" --set data.generator=null
expect 1 "pjunk.jsonl:2" "$GRPO" config "$WORK/grpo.json" --set data.generator=null --set data.train_file="$WORK/pjunk.jsonl"
GRPO_MAX_MEMORY=1M expect 1 "but GRPO_MAX_MEMORY is 1.00 MiB" "$GRPO" "${SFT[@]}" --set train.output_dir="$WORK/m5"
[ ! -e "$WORK/m5/checkpoints/step-1.h5" ] && ok || bad "a refused job wrote a checkpoint"
GRPO_MAX_MEMORY=1M expect 1 "lower train.micro_batch_size" "$GRPO" train "$WORK/grpo.json" --set train.output_dir="$WORK/m6" \
  --set train.micro_batch_size=4 --set rollout.max_completion_length=4096
expect 0 "" "$GRPO" train "$WORK/grpo.json" --dry-run
grep -q "memory per rank" "$WORK/out" && grep -q "KV cache of a rollout" "$WORK/out" && grep -q "fits" "$WORK/out" && ok ||
  bad "train --dry-run: $(cat "$WORK/out")"
expect 0 "" "$GRPO" "${SFT[@]}" --dry-run --set data.max_length=1048576
grep -q "from the longest tokenized example" "$WORK/out" && ok || bad "sft --dry-run: $(cat "$WORK/out")"
[ ! -e runs/sft-tiny ] && ok || bad "--dry-run wrote a run directory"
expect 1 "lower train.prompts_per_step" "$GRPO" train "$WORK/grpo.json" --dry-run --set train.prompts_per_step=1000000
grep -q "does NOT fit" "$WORK/out" && ok || bad "--dry-run of a job too large: $(cat "$WORK/out")"
expect 1 "KV-cache rows in one rollout; the rollout holds at most" "$GRPO" train "$WORK/grpo.json" --dry-run \
  --set train.prompts_per_step=100000000

# ---- a 10 MB template: every example tokenized only as far as it is kept ----
python3 - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
cfg = json.load(open("configs/sft-tiny.json"))
cfg["data"] = {"train_file": work + "/three.jsonl", "template": "lorem ipsum dolor sit amet, " * 374491 + "{prompt}",
               "max_length": 256, "completion_only_loss": False}
cfg["train"].update({"steps": 1, "batch_size": 3, "micro_batch_size": 3, "output_dir": work + "/t"})
cfg["log"] = {"progress": "none"}
json.dump(cfg, open(work + "/template.json", "w"))
with open(work + "/three.jsonl", "w") as f:
    for i in range(3):
        f.write(json.dumps({"prompt": "What is %d + 1?" % i, "completion": " %d" % (i + 1)}) + "\n")
EOF
python3 - "$GRPO" "$WORK" <<'EOF' > "$WORK/tmpl.out" 2>&1
import resource, subprocess, sys, time
grpo, work = sys.argv[1], sys.argv[2]
t0 = time.time()
rc = subprocess.run([grpo, "sft", work + "/template.json"], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
print("rc", rc.returncode, "peak_mib %.0f" % peak, "seconds %.1f" % (time.time() - t0))
print(rc.stderr[-600:])
sys.exit(0 if rc.returncode == 0 and peak < 1500 else 1)
EOF
[ $? -eq 0 ] && ok || bad "10 MB template: $(cat "$WORK/tmpl.out")"
head -1 "$WORK/tmpl.out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
