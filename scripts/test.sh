#!/bin/sh
# Sets up (scripts/setup.sh), builds with warnings as errors, and runs the
# whole ctest suite on 2 cores. This is exactly what CI runs (.ci/run).
# With GRPO_TEST_ASAN=1 it then builds again with AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/ and runs the suite there too,
# minus the slow label (docs/testing.md: both passes do not fit CI's time).
#   scripts/test.sh [extra ctest args, e.g. -LE slow]
#   GRPO_TEST_ASAN=1 scripts/test.sh
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "${GRPO_TEST_ASAN:-0}" in
  0|1) ;;
  *) echo "test.sh: GRPO_TEST_ASAN must be 0 or 1, not '$GRPO_TEST_ASAN'" >&2; exit 2 ;;
esac
"$ROOT/scripts/setup.sh"
cmake -S "$ROOT" -B "$ROOT/build" -DGRPO_WERROR=ON > /dev/null
cmake --build "$ROOT/build" -j2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "$ROOT/build" --output-on-failure -j2 "$@"
if [ "${GRPO_TEST_ASAN:-0}" = 1 ]; then
  echo "== the suite again under ASan and UBSan (build-asan/)"
  cmake -S "$ROOT" -B "$ROOT/build-asan" -DGRPO_WERROR=ON -DGRPO_SANITIZE=ON -DGRPO_BUILD_BENCH=OFF > /dev/null
  cmake --build "$ROOT/build-asan" -j2
  ctest --test-dir "$ROOT/build-asan" --output-on-failure -j2 -LE slow "$@"
fi
