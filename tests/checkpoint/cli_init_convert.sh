#!/usr/bin/env bash
# cli_init_convert.sh: `grpo init` and `grpo convert` end to end: both output
# formats, same seed -> identical files, conversions both ways bit-exact,
# h5dump reads the checkpoint, and the exit codes and messages for bad input
# (2 for usage, 1 for failures, nothing clobbered).
# Args: GRPO_BINARY TESTS_DIR WORK_DIR
set -u
GRPO=$1
TESTS=$2
WORK=$3
ROOT=$(cd "$TESTS/.." && pwd)
ARCH=$ROOT/configs/arch/tiny.json
TOK=$TESTS/fixtures/hf/qwen2_fp32/tokenizer.json
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect CODE PHRASE CMD...: runs CMD, checks its exit code and that stderr has PHRASE.
expect() {
    local code=$1 phrase=$2
    shift 2
    "$@" >out.txt 2>err.txt
    local rc=$?
    if [ "$rc" -ne "$code" ]; then bad "exit $rc (want $code): $*"; cat err.txt; return; fi
    if ! grep -qF -- "$phrase" err.txt; then bad "stderr lacks '$phrase': $*"; cat err.txt; return; fi
    ok
}
run() { if "$@" >out.txt 2>err.txt; then ok; else bad "failed: $*"; cat err.txt; fi; }

# --help
run "$GRPO" init --help
grep -q "usage: grpo init" out.txt && ok || bad "init --help text"
run "$GRPO" convert --help
grep -q "usage: grpo convert" out.txt && ok || bad "convert --help text"

# init, both formats, twice with the same seed
run "$GRPO" init --arch "$ARCH" --out a.h5 --seed 7 --tokenizer "$TOK"
run "$GRPO" init --arch "$ARCH" --out b.h5 --seed 7 --tokenizer "$TOK"
cmp -s a.h5 b.h5 && ok || bad "same seed gave different .h5 files"
run "$GRPO" init --arch "$ARCH" --out other.h5 --seed 8
cmp -s a.h5 other.h5 && bad "different seeds gave the same file" || ok
run "$GRPO" init --arch "$ARCH" --out hf1 --seed 7 --tokenizer "$TOK"
run "$GRPO" init --arch "$ARCH" --out hf2 --seed=7 --tokenizer="$TOK"
cmp -s hf1/model.safetensors hf2/model.safetensors && ok || bad "same seed gave different safetensors"
for f in config.json generation_config.json model.safetensors tokenizer.json; do
    [ -f "hf1/$f" ] && ok || bad "hf1/$f missing"
done
cmp -s hf1/tokenizer.json "$TOK" && ok || bad "tokenizer.json not copied verbatim"

# convert both ways; the same seed through either path gives the same bytes
run "$GRPO" convert a.h5 from_h5
cmp -s from_h5/model.safetensors hf1/model.safetensors && ok || bad "h5 -> HF differs from init's HF dir"
cmp -s from_h5/config.json hf1/config.json && ok || bad "config.json differs between the two paths"
run "$GRPO" convert hf1 c.h5
run "$GRPO" convert c.h5 back
cmp -s back/model.safetensors hf1/model.safetensors && ok || bad "HF -> h5 -> HF not bit-exact"
cmp -s back/tokenizer.json "$TOK" && ok || bad "tokenizer.json lost on the way"
run "$GRPO" convert "$TESTS/fixtures/hf/llama_fp32_sharded" l.h5
run "$GRPO" convert l.h5 l_bf16 --dtype bf16
grep -q '"torch_dtype":[[:space:]]*"bfloat16"' l_bf16/config.json && ok || bad "bf16 export: torch_dtype"
head -c 400 l_bf16/model.safetensors | grep -q '"BF16"' && ok || bad "bf16 export: dtype in header"

# h5dump reads the checkpoint
if command -v h5dump >/dev/null; then
    h5dump -n a.h5 >dump.txt 2>&1 && ok || bad "h5dump -n failed"
    grep -q "dataset    /model/model.embed_tokens.weight" dump.txt && ok || bad "h5dump: no /model/model.embed_tokens.weight"
    grep -q "dataset    /files/tokenizer.json" dump.txt && ok || bad "h5dump: no /files/tokenizer.json"
    h5dump -a /state/format a.h5 | grep -q '"grpo.c checkpoint"' && ok || bad "h5dump: /state/format"
    h5dump -d /model/model.norm.weight a.h5 | grep -q "H5T_IEEE_F32LE" && ok || bad "h5dump: fp32 data"
else
    bad "h5dump not found (apt-get install hdf5-tools)"
fi

# usage errors: exit 2
expect 2 "--arch ARCH.json is required" "$GRPO" init --out x.h5
expect 2 "--out PATH is required" "$GRPO" init --arch "$ARCH"
expect 2 "unknown argument '--bogus'" "$GRPO" init --arch "$ARCH" --out x.h5 --bogus
expect 2 "--seed must be a non-negative integer" "$GRPO" init --arch "$ARCH" --out x.h5 --seed abc
expect 2 "--seed must be a non-negative integer" "$GRPO" init --arch "$ARCH" --out x.h5 --seed -3
expect 2 "--dtype must be fp32 or bf16" "$GRPO" init --arch "$ARCH" --out xdir --dtype f16
expect 2 "needs a value" "$GRPO" init --arch
expect 2 ".h5 checkpoints are fp32" "$GRPO" init --arch "$ARCH" --out x.h5 --dtype bf16
expect 2 "expected IN OUT" "$GRPO" convert a.h5
expect 2 "too many arguments" "$GRPO" convert a.h5 x y
expect 2 "unknown option '--bogus'" "$GRPO" convert a.h5 x --bogus
expect 2 "--dtype must be fp32 or bf16" "$GRPO" convert a.h5 x --dtype fp8
expect 2 "checkpoints are fp32" "$GRPO" convert hf1 x.h5 --dtype bf16

# failures: exit 1, message names the file, nothing clobbered
expect 1 "nope.json" "$GRPO" init --arch nope.json --out x.h5
echo '{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}' >gpt2.json
expect 1 "GPT2LMHeadModel" "$GRPO" init --arch gpt2.json --out x.h5
echo '{"vocab_size": 3,' >broken.json
expect 1 "broken.json: invalid JSON at line" "$GRPO" init --arch broken.json --out x.h5
expect 1 "vocab_size" "$GRPO" init --arch "$ROOT/configs/arch/small.json" --out x.h5 --tokenizer "$TOK"
expect 1 "a.h5 exists; pass --force" "$GRPO" init --arch "$ARCH" --out a.h5 --seed 1
cmp -s a.h5 b.h5 && ok || bad "init without --force changed a.h5"
expect 1 "not empty" "$GRPO" init --arch "$ARCH" --out hf1 --seed 1
cmp -s hf1/model.safetensors hf2/model.safetensors && ok || bad "init without --force changed hf1"
run "$GRPO" init --arch "$ARCH" --out a.h5 --seed 1 --force
cmp -s a.h5 b.h5 && bad "--force did not replace a.h5" || ok
expect 1 "missing: No such file" "$GRPO" convert missing out
cp broken.json notamodel.bin
expect 1 "neither an HF model directory nor a grpo HDF5 checkpoint" "$GRPO" convert notamodel.bin out
head -c 100000 b.h5 >trunc.h5
expect 1 "trunc.h5: truncated checkpoint" "$GRPO" convert trunc.h5 out
[ -e out ] && bad "a failed convert left out/" || ok
expect 1 "exists and is not empty" "$GRPO" convert b.h5 hf1
cmp -s hf1/model.safetensors hf2/model.safetensors && ok || bad "convert without --force changed hf1"
expect 1 "c.h5 exists; pass --force" "$GRPO" convert hf1 c.h5
expect 1 "is a directory" "$GRPO" convert hf1 hf2
cp b.h5 keep.h5
expect 1 "truncated" "$GRPO" convert trunc.h5 keep_dir --force
expect 1 "same path" "$GRPO" convert b.h5 b.h5 --force
cmp -s b.h5 keep.h5 && ok || bad "b.h5 changed"
cp "$TESTS/fixtures/hf/hostile/truncated.safetensors" hf2/model.safetensors
expect 1 "hf2/model.safetensors" "$GRPO" convert hf2 d.h5
[ -e d.h5 ] && bad "a failed convert left d.h5" || ok
ls -a | grep -q "\.tmp\." && bad "temporary files left: $(ls -a | grep '\.tmp\.')" || ok

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
