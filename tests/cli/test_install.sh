#!/bin/bash
# `cmake --install` puts the binary, libgrpo, the public headers and the CMake
# package under a prefix, and a program outside the tree builds against them.
#   test_install.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
set -u
GRPO=$1; SRC=$(cd "$2/.." && pwd); WORK=$3
BUILD=$(dirname "$GRPO")
rm -rf "$WORK"; mkdir -p "$WORK"
pass=0; fail=0
check() { if eval "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $2" >&2; fi; }
cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "cmake --install failed: $(tail -5 "$WORK/install.log")"
check '[ -x "$WORK/prefix/bin/grpo" ]' "binary not installed"
check 'ls "$WORK"/prefix/lib*/libgrpo.so* > /dev/null 2>&1' "library not installed"
check '[ -f "$WORK/prefix/include/grpo/model/model.h" ] && [ -f "$WORK/prefix/include/grpo/common/common.h" ]' "headers not installed"
check 'ls "$WORK"/prefix/lib*/cmake/grpo/grpoConfig.cmake > /dev/null 2>&1' "CMake package not installed"
"$WORK/prefix/bin/grpo" version > "$WORK/version.log" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "grpo 0.1.0" "$WORK/version.log"' "installed grpo does not run: $(cat "$WORK/version.log")"
# A sanitizer build of libgrpo needs a sanitizer build of its users.
SAN=""
ldd "$GRPO" 2>/dev/null | grep -q libasan && SAN="-fsanitize=address,undefined"
cmake -S "$SRC/tests/install_consumer" -B "$WORK/consumer" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
    -DCMAKE_C_FLAGS="$SAN" > "$WORK/consumer.log" 2>&1 &&
  cmake --build "$WORK/consumer" >> "$WORK/consumer.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "consumer build failed: $(tail -8 "$WORK/consumer.log")"
LD_LIBRARY_PATH=$(dirname "$(ls "$WORK"/prefix/lib*/libgrpo.so | head -1)") "$WORK/consumer/consumer" > "$WORK/run.log" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "^params " "$WORK/run.log"' "consumer failed: $(cat "$WORK/run.log")"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
