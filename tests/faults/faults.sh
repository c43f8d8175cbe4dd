#!/bin/bash
# faults.sh: grpo train under faults it must survive cleanly (issue 13).
#   enospc  the disk fills up during a checkpoint (an LD_PRELOAD library
#           fails write/pwrite with ENOSPC past a byte count): exit 1 with
#           a clear message, the previous checkpoint still loads and resumes,
#           nothing half-written is left; a single failed write anywhere in
#           the file is noticed too (the save fails, or the file is
#           byte-identical to an undisturbed run's).
#   kill    SIGKILL of one of 2 ranks: the job ends within seconds.
#   stop    SIGSTOP of one of 2 ranks: the watchdog ends the job within
#           train.watchdog_seconds (5 here) plus a margin, naming the rank.
#   stopin  rank 1 of 2 stopped while it waits inside a collective that
#           cannot complete without it (tests/faults/watchdog_stop.c): every
#           rank reached the collective, and the watchdog still names rank 1,
#           whose heartbeats stopped.
#   faults.sh MODE GRPO_BIN SOURCE_TESTS_DIR WORK_DIR [FAULT_LIB | WATCHDOG_STOP_BIN]
set -u
MODE=$1; GRPO=$2; SRC=$(cd "$3/.." && pwd); WORK=$4; LIB=${5:-}
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK" || exit 1
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Under ASan the preloaded library comes before the runtime, and MPI's own
# allocations live to exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0

# A tiny GRPO job: the model of configs/sft-tiny.json, arithmetic prompts,
# the format reward, short completions.
python3 - "$SRC" > job.json <<'EOF'
import json, sys
src = sys.argv[1]
sft = json.load(open(src + "/configs/sft-tiny.json"))
model = sft["model"]
model["tokenizer"] = src + "/" + model["tokenizer"]
print(json.dumps({
    "model": model,
    "data": {"generator": {"task": "arith"}, "template": "r1zero", "max_prompt_length": 64},
    "rollout": {"num_generations": 4, "max_completion_length": 16},
    "rewards": [{"name": "format"}],
    "train": {"steps": 4, "prompts_per_step": 2, "micro_batch_size": 4, "save_steps": 2},
    "log": {"progress": "none"}}))
EOF

# Runs grpo train with the fault library preloaded: faulty OUT_DIR PATTERN AFTER ONCE [--set ...]
faulty() {
  local out=$1 pat=$2 after=$3 once=$4; shift 4
  GRPO_FAULT_PATH=$pat GRPO_FAULT_AFTER=$after GRPO_FAULT_ONCE=$once LD_PRELOAD=$LIB \
    "$GRPO" train job.json --set train.output_dir="$out" "$@"
}

# Waits (up to 60 s) until a run's metrics.jsonl has a line: the ranks are
# in the training loop.
wait_training() {
  for _ in $(seq 600); do
    [ -s "$1/metrics.jsonl" ] && return 0
    sleep 0.1
  done
  return 1
}

# The pid of the process of rank $2 under mpirun pid $1.
rank_pid() {
  local p
  for p in $(pgrep -P "$1"); do
    if tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$p"; return; fi
  done
}

# Seconds (integer) until pid $1 ends, at most $2.
wait_end() {
  local t0=$SECONDS
  while kill -0 "$1" 2>/dev/null && [ $((SECONDS - t0)) -lt "$2" ]; do sleep 0.2; done
  echo $((SECONDS - t0))
}

case $MODE in
enospc)
  [ -f "$LIB" ] || { echo "FAIL: no fault library '$LIB'"; echo "0 passed, 1 failed"; exit 1; }
  # Every run writes to $WORK/run (the path is part of the stored config,
  # so files of different runs compare byte for byte); the undisturbed run
  # is kept as clean/.
  "$GRPO" train job.json --set train.output_dir="$WORK/run" > clean.log 2>&1
  check '[ $? -eq 0 ] && [ -f run/checkpoints/step-4.h5 ]' "the undisturbed run failed: $(tail -3 clean.log)"
  mv run clean
  size=$(stat -c %s clean/checkpoints/step-4.h5)
  # the disk fills up at several points of step-4.h5
  for after in 600 100000 $((size / 2)) $((size - 4096)); do
    rm -rf run
    faulty "$WORK/run" step-4.h5.tmp "$after" 0 > full.log 2>&1
    rc=$?
    check '[ $rc -eq 1 ]' "full disk after $after bytes: exit $rc, want 1: $(tail -3 full.log)"
    check 'grep -q "No space left on device" full.log && grep -q "was not saved" full.log' \
      "full disk after $after bytes: no clear message: $(tail -2 full.log)"
    check '[ ! -e run/checkpoints/step-4.h5 ] && ! ls run/checkpoints | grep -q tmp' \
      "full disk after $after bytes: a partial file was left: $(ls run/checkpoints)"
    check 'grep -q "step-2.h5" run/checkpoints/latest' "latest should still name step-2.h5"
    "$GRPO" score --model run/checkpoints/step-2.h5 --prompt "1+1=" --completion "2" > /dev/null 2> score.err
    check '[ $? -eq 0 ]' "the previous checkpoint does not load: $(cat score.err)"
  done
  # resuming from the kept checkpoint finishes the run exactly
  "$GRPO" train job.json --set train.output_dir="$WORK/run" > resume.log 2>&1
  check '[ $? -eq 0 ] && grep -q "resuming from .*step-2.h5" resume.log' "resume after the full disk: $(tail -3 resume.log)"
  check 'cmp -s clean/checkpoints/step-4.h5 run/checkpoints/step-4.h5' \
    "the resumed run's step-4.h5 differs from the undisturbed run's"
  # one failed write anywhere (a transient error): noticed, or harmless
  for after in 2000 50000 200000 $((size / 3)) $((size * 2 / 3)) $((size - 20000)); do
    rm -rf run
    faulty "$WORK/run" step-4.h5.tmp "$after" 1 > once.log 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
      check 'cmp -s clean/checkpoints/step-4.h5 run/checkpoints/step-4.h5' \
        "one failed write after $after bytes went unnoticed: step-4.h5 differs from the undisturbed run's"
    else
      check '[ $rc -eq 1 ] && [ ! -e run/checkpoints/step-4.h5 ] && grep -q "was not saved" once.log' \
        "one failed write after $after bytes: exit $rc: $(tail -2 once.log)"
    fi
  done
  ;;
kill | stop)
  if ! command -v mpirun > /dev/null; then echo "FAIL: mpirun not found"; echo "0 passed, 1 failed"; exit 1; fi
  extra=(); [ "$MODE" = stop ] && extra=(--set train.watchdog_seconds=5)
  mpirun --oversubscribe -n 2 -x OMP_NUM_THREADS -x ASAN_OPTIONS "$GRPO" train job.json \
    --set train.steps=1000000 --set train.save_steps=0 --set train.output_dir="$WORK/run" "${extra[@]}" > run.log 2>&1 &
  MPI=$!
  if ! wait_training run; then
    bad "the 2-rank job did not start training: $(tail -5 run.log)"
  else
    victim=$(rank_pid $MPI 1)
    check '[ -n "$victim" ]' "rank 1's pid not found under mpirun $MPI"
    if [ -n "$victim" ]; then
      if [ "$MODE" = kill ]; then sig=KILL; limit=15; else sig=STOP; limit=45; fi
      kill -$sig "$victim"
      took=$(wait_end $MPI $limit)
      check '! kill -0 $MPI 2>/dev/null' "the job still runs $took s after SIG$sig of rank 1"
      wait $MPI 2>/dev/null; rc=$?
      check '[ $rc -ne 0 ]' "the job exited 0 after losing a rank"
      if [ "$MODE" = stop ]; then
        check 'grep -q "watchdog: rank 1 (.*pid $victim)" run.log' "the watchdog did not name rank 1: $(grep -v '^$' run.log | tail -5)"
      fi
      echo "SIG$sig of rank 1: the job ended after $took s"
      kill -KILL "$victim" 2>/dev/null
    fi
  fi
  kill -KILL $MPI 2>/dev/null
  ;;
stopin)
  if ! command -v mpirun > /dev/null; then echo "FAIL: mpirun not found"; echo "0 passed, 1 failed"; exit 1; fi
  mpirun --oversubscribe -n 2 -x ASAN_OPTIONS "$LIB" > run.log 2>&1 &
  MPI=$!
  took=$(wait_end $MPI 60)
  check '! kill -0 $MPI 2>/dev/null' "the job still runs $took s after rank 1 stopped inside the sum"
  wait $MPI 2>/dev/null; rc=$?
  check '[ $rc -ne 0 ]' "the job exited 0: the sum completed without rank 1 ($(grep -v '^$' run.log | tail -3))"
  victim=$(sed -n 's/^watchdog_stop: rank 1 (pid \([0-9]*\)) enters the sum$/\1/p' run.log)
  check '[ -n "$victim" ] && grep -q "watchdog: rank 1 (.*pid $victim) reached step 1.s sum but has been silent" run.log' \
    "the watchdog did not name rank 1 as stopped inside the sum: $(grep -v '^$' run.log | tail -5)"
  echo "rank 1 stopped inside a collective: the job ended after $took s"
  [ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null
  kill -KILL $MPI 2>/dev/null
  ;;
*) echo "unknown mode $MODE"; exit 2 ;;
esac
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
