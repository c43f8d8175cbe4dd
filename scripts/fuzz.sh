#!/bin/sh
# Longer fuzzing runs than the test suite's (docs/testing.md): builds the
# fuzzers with Clang's libFuzzer, ASan and UBSan in build-fuzz/ and runs
# each for SECONDS (default 600) on a corpus kept in build-fuzz/corpus/NAME
# (grown run after run; the seeds in tests/fuzz/corpus are read, never
# written). A crash, leak or timeout stops that fuzzer and leaves the input
# in build-fuzz/crashes/NAME/.
#   scripts/fuzz.sh [NAME|all] [SECONDS] [extra libFuzzer flags, e.g. -jobs=2]
# NAME: config safetensors tokenizer checkpoint jsonl math_expr
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NAMES="config safetensors tokenizer checkpoint jsonl math_expr"
WHICH=${1:-all}; SECS=${2:-600}
[ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
[ "$WHICH" = all ] && WHICH=$NAMES
if ! command -v clang > /dev/null 2>&1; then
  echo "fuzz.sh: needs Clang with libFuzzer: apt-get install clang libclang-rt-dev" >&2
  exit 1
fi
# The library comes from a plain GCC build (build/); Clang compiles the
# fuzzers and the files each one covers (tests/fuzz.cmake says why).
cmake -S "$ROOT" -B "$ROOT/build" > /dev/null
cmake --build "$ROOT/build" -j2 --target grpo_core
B=$ROOT/build-fuzz
CC=clang cmake -S "$ROOT" -B "$B" -DGRPO_SANITIZE=ON -DGRPO_BUILD_BENCH=OFF \
  -DGRPO_FUZZ_CORE="$ROOT/build/libgrpo_core.a" > /dev/null
TARGETS=""
for n in $WHICH; do TARGETS="$TARGETS fuzz_$n"; done
cmake --build "$B" -j2 --target $TARGETS
export ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=3000 OMP_NUM_THREADS=1
status=0
for n in $WHICH; do
  mkdir -p "$B/corpus/$n" "$B/crashes/$n"
  extra=""; [ "$n" = safetensors ] && extra="$ROOT/tests/fixtures/hf/hostile"
  dict=""; [ -f "$ROOT/tests/fuzz/$n.dict" ] && dict="-dict=$ROOT/tests/fuzz/$n.dict"
  echo "== fuzz_$n for $SECS s"
  if ! (cd "$B/crashes/$n" && "$B/tests/fuzz_$n" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=3000 \
        -print_final_stats=1 $dict "$@" "$B/corpus/$n" "$ROOT/tests/fuzz/corpus/$n" $extra); then
    echo "fuzz.sh: fuzz_$n failed; the input is in $B/crashes/$n" >&2
    status=1
  fi
done
exit $status
