#!/bin/bash
# `cmake --install` puts the grpo command, its sandbox helper, libgrpo, the
# public headers and the CMake package under a prefix, and nothing else:
# only grpo/grpo.h and grpo/reward/reward_plugin.h among the headers, only
# the GRPO_API functions of grpo.h among libgrpo's exported symbols.
# Programs outside the tree build against that prefix alone: the API
# consumer (tests/install_consumer/) with CMake's find_package and with a
# plain cc command, docs/library.md's example, and the example reward plugin
# against the plugin header.
# The consumer then runs a tiny model made by the installed `grpo init`,
# with the plugin and the code reward (whose helper libgrpo finds in
# <prefix>/bin), and jobs (two SFT steps, then one GRPO step); the installed
# `grpo reward` runs the code reward too.
#   test_install.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
set -u
GRPO=$1; SRC=$(cd "$2/.." && pwd); WORK=$3
BUILD=$(dirname "$GRPO")
rm -rf "$WORK"; mkdir -p "$WORK"
pass=0; fail=0
check() { if eval "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $2" >&2; fi; }
P=$WORK/prefix

cmake --install "$BUILD" --prefix "$P" > "$WORK/install.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "cmake --install failed: $(tail -5 "$WORK/install.log")"
check '[ -x "$P/bin/grpo" ] && [ -x "$P/bin/grpo-sandbox" ]' "grpo or grpo-sandbox not installed"
check '"$P/bin/grpo-reward-adapter" --help | grep -q -- "--trl FILE.py:FUNCTION"' "grpo-reward-adapter not installed"
LIB=$(ls "$P"/lib*/libgrpo.so 2>/dev/null | head -1)
check '[ -n "$LIB" ]' "library not installed"
LIBDIR=$(dirname "${LIB:-$P/lib/x}")
check 'ls "$P"/lib*/cmake/grpo/grpoConfig.cmake > /dev/null 2>&1' "CMake package not installed"

# No program or library, installed or in the build tree, has an empty
# RUNPATH/RPATH entry: one makes the loader search the current directory.
empty_runpath() {
  for f in "$@"; do
    [ -f "$f" ] && ! [ -L "$f" ] || continue
    readelf -d "$f" 2>/dev/null | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]$/\2/p' |
      grep -qE '^$|^:|::|:$' && echo "$f"
  done
}
elfs="$P/bin/grpo $P/bin/grpo-sandbox $(ls "$P"/lib*/libgrpo.so* 2>/dev/null) $BUILD/grpo $BUILD/grpo-sandbox
  $(ls "$BUILD"/libgrpo.so* 2>/dev/null)"
check '[ -z "$(empty_runpath $elfs)" ]' "empty RUNPATH entries in: $(empty_runpath $elfs)
$(for f in $(empty_runpath $elfs); do readelf -d "$f" | grep PATH; done)"

# The public headers and nothing else.
headers=$(cd "$P/include" 2>/dev/null && find . -type f | sort | tr '\n' ' ')
check '[ "$headers" = "./grpo/grpo.h ./grpo/reward/reward_plugin.h " ]' \
  "installed headers are '$headers'; want only grpo/grpo.h and grpo/reward/reward_plugin.h"
# libgrpo exports exactly the functions grpo.h declares with GRPO_API.
want=$(sed -n 's/^GRPO_API[^(]*[ *]\(grpo_[a-z0-9_]*\)(.*/\1/p' "$P/include/grpo/grpo.h" | sort)
got=$(nm -D --defined-only "$LIB" 2>/dev/null | awk '{print $NF}' | sort)
n_api=$(grep -c '^GRPO_API' "$P/include/grpo/grpo.h")
check '[ -n "$want" ] && [ "$(echo "$want" | wc -l)" = "$n_api" ] && [ "$want" = "$got" ]' \
  "libgrpo's exports differ from grpo.h's GRPO_API functions (< declared, > exported):
$(diff <(echo "$want") <(echo "$got") | grep '^[<>]')"

"$P/bin/grpo" version > "$WORK/version.log" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "grpo 0.1.0" "$WORK/version.log"' "installed grpo does not run: $(cat "$WORK/version.log")"

# A tiny model with the byte tokenizer, by the installed grpo.
"$P/bin/grpo" init --arch "$SRC/configs/arch/tiny.json" --out "$WORK/tiny" --seed 3 \
  --tokenizer "$SRC/configs/tokenizers/bytes.json" > "$WORK/init.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "grpo init failed: $(tail -3 "$WORK/init.log")"

# The example plugin, built as docs/rewards.md says, against the installed
# plugin header alone, and against the source tree with the same #include.
cc -O2 -shared -fPIC -I"$P/include" "$SRC/examples/reward_plugin/keyword_reward.c" -lcjson \
  -o "$WORK/libkeyword_reward.so" > "$WORK/plugin.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "the example plugin does not build against the installed header: $(tail -5 "$WORK/plugin.log")"
cc -O2 -shared -fPIC -I"$SRC/include" "$SRC/examples/reward_plugin/keyword_reward.c" -lcjson \
  -o "$WORK/libkeyword_src.so" >> "$WORK/plugin.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "the example plugin does not build against the source tree: $(tail -5 "$WORK/plugin.log")"
# docs/rewards.md's plugin, as printed there, built with both documented
# commands and run by the installed grpo reward (its name is its label).
awk '/^```c$/ {f = 1; b = ""; next} /^```$/ && f {if (b ~ /GRPO_REWARD_PLUGIN_SIZES/) {printf "%s", b; exit} f = 0}
     f {b = b $0 "\n"}' "$SRC/docs/rewards.md" > "$WORK/therefore.c"
cc -O2 -shared -fPIC -I"$P/include" "$WORK/therefore.c" -o "$WORK/libtherefore.so" >> "$WORK/plugin.log" 2>&1 &&
  cc -O2 -shared -fPIC -I"$SRC/include" "$WORK/therefore.c" -o "$WORK/libtherefore_src.so" >> "$WORK/plugin.log" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q score_items "$WORK/therefore.c"' "docs/rewards.md's plugin: $(tail -5 "$WORK/plugin.log")"
echo '{"rewards": [{"name": "plugin", "library": "./libtherefore.so"}]}' > "$WORK/therefore.json"
echo '{"completion": "therefore 4"}' > "$WORK/therefore.jsonl"
(cd / && "$P/bin/grpo" reward --config "$WORK/therefore.json" --input "$WORK/therefore.jsonl" --diagnostics) \
  > "$WORK/therefore.out" 2>> "$WORK/plugin.log"
check 'grep -q "\"therefore\":1" "$WORK/therefore.out" && grep -q "\"length\":11" "$WORK/therefore.out"' \
  "docs/rewards.md's plugin in grpo reward: $(cat "$WORK/therefore.out"; tail -3 "$WORK/plugin.log")"
for doc in "$SRC/docs/rewards.md" "$SRC/reward/reward_plugin.h" "$SRC/examples/reward_plugin/keyword_reward.c"; do
  check 'grep -q "#include <grpo/reward/reward_plugin.h>" "$doc" && ! grep -q "#include <reward/reward_plugin.h>" "$doc"' \
    "$doc does not show #include <grpo/reward/reward_plugin.h>"
done
echo '#include <grpo/reward/reward_plugin.h>' |
  cc -fsyntax-only -Wall -Werror -I"$P/include" -x c - 2>> "$WORK/plugin.log"
rc=$?
check '[ $rc -eq 0 ]' "<grpo/reward/reward_plugin.h> does not compile alone"
if command -v c++ > /dev/null; then
  echo '#include <grpo/grpo.h>' | c++ -fsyntax-only -Wall -Werror -I"$P/include" -x c++ - 2> "$WORK/cxx.log"
  rc=$?
  check '[ $rc -eq 0 ]' "grpo.h does not compile as C++: $(head -5 "$WORK/cxx.log")"
fi

# A sanitizer build of libgrpo needs a sanitizer build of its users.
SAN=""
ldd "$GRPO" 2>/dev/null | grep -q libasan && SAN="-fsanitize=address,undefined"

# The consumer through the CMake package, run from the source tree (the job
# config's paths are relative to it).
cmake -S "$SRC/tests/install_consumer" -B "$WORK/consumer" -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_C_FLAGS="$SAN" > "$WORK/consumer.log" 2>&1 &&
  cmake --build "$WORK/consumer" >> "$WORK/consumer.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "consumer build failed: $(tail -8 "$WORK/consumer.log")"
cat > "$WORK/train.json" <<'EOF'
{"data": {"train_file": "data/tiny/arith_eval.jsonl", "template": "r1zero", "max_prompt_length": 64},
 "rollout": {"num_generations": 2, "max_completion_length": 8},
 "rewards": [{"name": "math_accuracy"}, {"name": "format", "mode": "tag_count"}],
 "train": {"prompts_per_step": 2, "micro_batch_size": 4}}
EOF
(cd "$SRC" && OMP_NUM_THREADS=2 "$WORK/consumer/consumer" "$WORK/tiny" "$WORK/libkeyword_reward.so" \
  configs/sft-tiny.json "$WORK/train.json" "$WORK/run") > "$WORK/run.log" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "^params " "$WORK/run.log"' \
  "consumer failed: $(grep -v '^step' "$WORK/run.log" | tail -20)"
check 'grep -q "helper $LIBDIR/../bin/grpo-sandbox" "$WORK/run.log"' \
  "libgrpo did not find the installed helper beside itself: $(grep 'sandbox:' "$WORK/run.log")"

# The same program with a plain cc command line (docs/library.md).
cc $SAN -std=c99 -Wall -Wextra -Werror "$SRC/tests/install_consumer/consumer.c" -I"$P/include" \
  -L"$LIBDIR" -lgrpo -lm -Wl,-rpath,"$LIBDIR" -o "$WORK/consumer_cc" > "$WORK/consumer_cc.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "plain cc build failed: $(tail -8 "$WORK/consumer_cc.log")"
OMP_NUM_THREADS=2 "$WORK/consumer_cc" "$WORK/tiny" "$WORK/libkeyword_reward.so" > "$WORK/run_cc.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "consumer (plain cc) failed: $(tail -20 "$WORK/run_cc.log")"

# docs/library.md's example, as printed there, with the documented command.
awk '/^```c$/ {f = 1; next} /^```$/ && f {exit} f' "$SRC/docs/library.md" > "$WORK/hello_grpo.c"
cc $SAN "$WORK/hello_grpo.c" -I"$P/include" -L"$LIBDIR" -lgrpo -Wl,-rpath,"$LIBDIR" -o "$WORK/hello_grpo" \
  > "$WORK/hello.log" 2>&1 && OMP_NUM_THREADS=2 "$WORK/hello_grpo" "$WORK/tiny" >> "$WORK/hello.log" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ "$(grep -c "tokens, reward 0, first log-prob -" "$WORK/hello.log")" = 3 ]' \
  "the example of docs/library.md: $(tail -5 "$WORK/hello.log")"

# The installed grpo finds its helper beside itself for the code reward.
echo '{"rewards": [{"name": "code", "language": "python", "sandbox": {"timeout": 60}}]}' > "$WORK/code.json"
echo '{"completion": "```python\nprint(int(input()) + 1)\n```", "tests": [{"input": "1\n", "output": "2\n"}]}' \
  > "$WORK/code.jsonl"
"$P/bin/grpo" reward --config "$WORK/code.json" --input "$WORK/code.jsonl" > "$WORK/reward.out" 2> "$WORK/reward.log"
rc=$?
check '[ $rc -eq 0 ] && grep -q "\"code\":1" "$WORK/reward.out"' \
  "installed grpo reward with the code reward: $(cat "$WORK/reward.out" "$WORK/reward.log")"
check 'grep -q "helper $P/bin/grpo-sandbox" "$WORK/reward.log"' \
  "installed grpo used another helper: $(grep 'sandbox:' "$WORK/reward.log")"

# The installed adapter, found on PATH, runs a TRL-style function that
# sits next to the config (docs/rewards.md).
mkdir -p "$WORK/py" && cp "$SRC/examples/python_reward/trl_rewards.py" "$WORK/py/"
echo '{"rewards": [{"name": "external", "label": "partial",
  "command": ["grpo-reward-adapter", "--trl", "trl_rewards.py:partial_credit"]}]}' > "$WORK/py/rewards.json"
echo '{"completion": "<answer>7</answer>", "answer": "7"}' > "$WORK/py/in.jsonl"
(cd / && PATH="$P/bin:$PATH" grpo reward --config "$WORK/py/rewards.json" --input "$WORK/py/in.jsonl") \
  > "$WORK/py/out" 2>&1
check 'grep -q "\"partial\":1" "$WORK/py/out"' "the installed grpo-reward-adapter: $(cat "$WORK/py/out")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
