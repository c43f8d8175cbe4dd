#!/bin/sh
# Sets up (scripts/setup.sh), builds with warnings as errors, and runs the
# whole ctest suite on 2 cores. This is exactly what CI runs (.ci/run).
#   scripts/test.sh [extra ctest args, e.g. -LE slow]
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
cmake -S "$ROOT" -B "$ROOT/build" -DGRPO_WERROR=ON > /dev/null
cmake --build "$ROOT/build" -j2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "$ROOT/build" --output-on-failure -j2 "$@"
