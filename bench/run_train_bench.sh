#!/bin/sh
# Training throughput: grpo.c's model core and the PyTorch reference, same
# shapes, batch and thread count, one after the other in the same run.
#   bench/run_train_bench.sh [BUILD_DIR]     (default: build)
# Run it on an otherwise idle machine; both tables go to stdout.
set -e
BUILD=${1:-build}
THREADS=${OMP_NUM_THREADS:-2}
echo "## grpo.c (OMP_NUM_THREADS=$THREADS)"
OMP_NUM_THREADS=$THREADS "$BUILD/bench/bench_train" --steps 10
echo
echo "## PyTorch reference (OMP_NUM_THREADS=$THREADS)"
OMP_NUM_THREADS=$THREADS /usr/bin/python3 "$(dirname "$0")/bench_train_torch.py" --steps 10
