#!/bin/sh
# Rollout throughput: grpo.c's rollout engine and the PyTorch KV-cache
# reference, same shapes, cases and thread count, one after the other.
#   bench/run_rollout_bench.sh [BUILD_DIR]     (default: build)
# The machine's load average is printed before and after each table: run it
# on an otherwise idle machine (memory-bound numbers move with other jobs).
set -e
BUILD=${1:-build}
THREADS=${OMP_NUM_THREADS:-2}
echo "## grpo.c (OMP_NUM_THREADS=$THREADS)"
OMP_NUM_THREADS=$THREADS "$BUILD/bench/bench_rollout" --reps 3
echo
echo "## PyTorch reference (OMP_NUM_THREADS=$THREADS)"
OMP_NUM_THREADS=$THREADS /usr/bin/python3 "$(dirname "$0")/bench_rollout_torch.py" --reps 3
