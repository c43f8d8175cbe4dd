#!/bin/sh
# A GRPO step of `grpo train` on the big bench shape (26.7M parameters),
# 8 prompts x 8 samples, 32-token prompts, 128-token completions, a
# reference policy (algorithm.beta 0.04), micro-batches of 8 completions:
#   1. `grpo train` at 1 rank x 2 threads and at 2 ranks x 1 thread
#      (mpirun --oversubscribe -n 2), STEPS steps each; the first step is a
#      warm-up, the table shows the median of the others (metrics.jsonl);
#   2. the same work with the engine and model core alone
#      (bench_grpo_parts): the batch at 2 threads, and two processes at
#      once, each with half the batch at 1 thread (what each rank does);
#   3. the PyTorch GRPO step (bench_grpo_torch.py) at 2 threads;
# and prints the time splits side by side with the load average before
# and after. Nothing here is a test.
#   bench/run_grpo_bench.sh [BUILD_DIR]     (default: build)
# Environment: STEPS (default 4), NEW (completion tokens, default 128; a
# small NEW makes a quick smoke run), WORK (a scratch directory; default a
# new one under /tmp, removed at the end unless WORK is given).
set -e
BUILD=$(cd "${1:-build}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STEPS=${STEPS:-4}
NEW=${NEW:-128}
PY=/usr/bin/python3
if [ -n "$WORK" ]; then KEEP=1; else KEEP=0; WORK=$(mktemp -d /tmp/grpo_bench.XXXXXX); fi
mkdir -p "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD0=$(load)

# the model, 64 prompts of 32 tokens (bytes tokenizer: one id per byte), the job
"$BUILD/grpo" init --arch "$ROOT/configs/arch/big.json" --out "$WORK/big.h5" --seed 1 \
    --tokenizer "$ROOT/configs/tokenizers/bytes.json" --force > /dev/null
i=0
: > "$WORK/prompts.jsonl"
while [ $i -lt 64 ]; do
    printf '{"prompt": "prompt %02d: the quick brown fox j"}\n' $i >> "$WORK/prompts.jsonl"
    i=$((i + 1))
done
cat > "$WORK/train.json" <<EOF
{
  "model": {"path": "$WORK/big.h5"},
  "data": {"train_file": "$WORK/prompts.jsonl", "template": "raw", "max_prompt_length": 32},
  "rollout": {"num_generations": 8, "temperature": 1.0, "max_completion_length": $NEW},
  "algorithm": {"beta": 0.04},
  "rewards": [{"name": "length", "mode": "dapo", "max_length": $NEW, "cache_length": $((NEW / 2))}],
  "optim": {"learning_rate": 1e-6},
  "train": {"steps": $STEPS, "prompts_per_step": 8, "micro_batch_size": 8, "save_steps": 0,
            "watchdog_seconds": 3600},
  "log": {"logging_steps": 1, "progress": "lines"}
}
EOF

echo "load average before: $LOAD0 ($(nproc) cores)"
echo "grpo train, 1 rank x 2 threads ..."
OMP_NUM_THREADS=2 "$BUILD/grpo" train "$WORK/train.json" --set train.threads=2 \
    --set train.output_dir="$WORK/r1" > "$WORK/r1.log" 2>&1
echo "grpo train, 2 ranks x 1 thread (mpirun --oversubscribe -n 2) ..."
mpirun --oversubscribe -n 2 -x OMP_NUM_THREADS=1 "$BUILD/grpo" train "$WORK/train.json" --set train.threads=1 \
    --set train.output_dir="$WORK/r2" > "$WORK/r2.log" 2>&1
echo "parts alone, 2 threads ..."
OMP_NUM_THREADS=2 "$BUILD/bench/bench_grpo_parts" --new "$NEW" > "$WORK/parts2.txt"
echo "parts alone, two processes x 1 thread x half the batch, at once ..."
OMP_NUM_THREADS=1 "$BUILD/bench/bench_grpo_parts" --new "$NEW" --prompts 4 > "$WORK/parts1a.txt" &
OMP_NUM_THREADS=1 "$BUILD/bench/bench_grpo_parts" --new "$NEW" --prompts 4 > "$WORK/parts1b.txt"
wait
echo "PyTorch, 2 threads ..."
OMP_NUM_THREADS=2 $PY "$ROOT/bench/bench_grpo_torch.py" --new "$NEW" > "$WORK/torch.txt"
LOAD1=$(load)
echo

$PY - "$WORK" "$LOAD0" "$LOAD1" <<'EOF'
import json, statistics, sys
work, load0, load1 = sys.argv[1:4]

def train_row(run):
    lines = [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl") if '"time/step"' in l]
    keep = lines[1:] or lines  # the first step warms up
    med = lambda k: statistics.median(d[k] for d in keep)
    wall = [b["elapsed_seconds"] - a["elapsed_seconds"] for a, b in zip(lines, lines[1:])]
    row = {k: med("time/" + k) for k in ("rollout", "reward", "reference", "train", "comm", "checkpoint", "step")}
    row["wall"] = statistics.median(wall) if wall else row["step"]
    row["n"] = len(keep)
    return row

def kv_line(path, tag):
    for l in open(path):
        if l.startswith(tag + ":"):
            return {k: float(v) for k, v in (f.split("=") for f in l.split()[1:])}
    raise SystemExit(f"{path}: no '{tag}:' line")

r1, r2 = train_row("r1"), train_row("r2")
p2 = kv_line(f"{work}/parts2.txt", "parts")
pa, pb = kv_line(f"{work}/parts1a.txt", "parts"), kv_line(f"{work}/parts1b.txt", "parts")
p1 = {k: max(pa[k], pb[k]) for k in pa}
tc = kv_line(f"{work}/torch.txt", "torch")
f = lambda x: f"{x:.2f}"
print("| run | rollout | reward | reference | train | comm | checkpoint | step | step, wall | parts sum | step / parts |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for name, r, p in (("grpo train, 1 rank x 2 threads", r1, p2), ("grpo train, 2 ranks x 1 thread", r2, p1)):
    print(f"| {name} | {f(r['rollout'])} | {f(r['reward'])} | {f(r['reference'])} | {f(r['train'])} | "
          f"{f(r['comm'])} | {f(r['checkpoint'])} | {f(r['step'])} | {f(r['wall'])} | {f(p['sum'])} | "
          f"{r['step'] / p['sum']:.2f}x |")
for name, p in (("parts alone, 2 threads", p2), ("parts alone, 2 x 1 thread, half batch each", p1)):
    print(f"| {name} | {f(p['rollout'])} | | {f(p['reference'])} | {f(p['train'] + p['optim'])} | | | | | "
          f"{f(p['sum'])} | |")
print(f"| PyTorch 1.13, 2 threads | {f(tc['rollout'])} | {f(tc['reward'])} | {f(tc['reference'])} | "
      f"{f(tc['train'])} | | | {f(tc['step'])} | | | |")
print()
print(f"seconds; grpo train: median of {r1['n']} and {r2['n']} steps after a warm-up step (time/* of metrics.jsonl, "
      "rank 0; 'step, wall': between consecutive lines' elapsed_seconds); parts and PyTorch: median of 3 steps "
      "after a warm-up; the 2 x 1 thread parts row is the slower process, part by part; "
      "train.save_steps is 0, so no step but the last writes a checkpoint, and that one after its metrics line.")
print(f"goal step <= 1.3 x parts: 1 rank {r1['step'] / p2['sum']:.2f}x, 2 ranks {r2['step'] / p1['sum']:.2f}x; "
      f"goal comm < 5% of the step at 2 ranks: {100 * r2['comm'] / r2['step']:.1f}%; "
      f"PyTorch step / grpo train 1 rank: {tc['step'] / r1['step']:.2f}x")
print(f"load average before: {load0}; after: {load1}")
EOF
if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi
