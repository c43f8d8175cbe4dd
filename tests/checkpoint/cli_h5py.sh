#!/usr/bin/env bash
# cli_h5py.sh: a checkpoint written by grpo reads in h5py (Debian's
# python3-h5py, at /usr/bin/python3) exactly as docs/checkpoints.md shows:
# tensors equal the ones `grpo convert` exports to safetensors, the state
# and config read back, and h5py itself notices a flipped byte in tensor
# data (Fletcher32).
# Args: GRPO_BINARY TESTS_DIR WORK_DIR
set -u
GRPO=$1
TESTS=$2
WORK=$3
ROOT=$(cd "$TESTS/.." && pwd)
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
PY=/usr/bin/python3
if ! $PY -c "import h5py, numpy" 2>/dev/null; then
    echo "FAIL: /usr/bin/python3 lacks h5py or numpy (apt-get install python3-h5py python3-numpy)"
    echo "0 passed, 1 failed"
    exit 1
fi
"$GRPO" init --arch "$ROOT/configs/arch/tiny.json" --out m.h5 --seed 5 \
    --tokenizer "$TESTS/fixtures/hf/qwen2_fp32/tokenizer.json" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
"$GRPO" convert m.h5 m_hf >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

$PY - <<'EOF'
import json, struct, sys
import h5py
import numpy as np

passed = failed = 0
def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)

# The snippet of docs/checkpoints.md.
with h5py.File("m.h5", "r") as f:
    state = f["/state"]
    print(state.attrs["format"], state.attrs["format_version"], state.attrs["step"])
    config = json.loads(f["/state/model_config"][()])
    embed = f["/model/model.embed_tokens.weight"][:]     # numpy float32, HF shape
    print(config["architectures"], embed.shape, embed.dtype)
    tokenizer = f["/files/tokenizer.json"][()].decode()
    names = list(f["/model"].keys())

    check(state.attrs["format"] == b"grpo.c checkpoint", "format attribute")
    check(int(state.attrs["format_version"]) == 1, "format_version")
    check(int(state.attrs["step"]) == 0, "step")
    check(config["vocab_size"] == 260 and config["hidden_size"] == 64, "model_config")
    check(embed.shape == (260, 64) and embed.dtype == np.float32, "embed shape/dtype")
    check(json.loads(tokenizer)["model"]["type"] == "BPE", "tokenizer.json")
    check(f["/model/model.norm.weight"].fletcher32, "Fletcher32 filter on tensors")
    check("optimizer" not in f, "no optimizer group for a fresh model")

# Every tensor equals the safetensors export, read here with plain numpy.
raw = open("m_hf/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
with h5py.File("m.h5", "r") as f:
    tensors = [k for k in header if k != "__metadata__"]
    check(sorted(tensors) == sorted(names), "same tensor names in .h5 and safetensors")
    for name in tensors:
        info = header[name]
        s, e = info["data_offsets"]
        want = np.frombuffer(data[s:e], dtype="<f4").reshape(info["shape"])
        got = f["/model/" + name][:]
        check(got.shape == want.shape and np.array_equal(got.view(np.uint32), want.view(np.uint32)), name)

# A flipped byte in tensor data: h5py refuses the read (Fletcher32).
with h5py.File("m.h5", "r") as f:
    d = f["/model/model.layers.0.mlp.up_proj.weight"]
    info = d.id.get_chunk_info(0)
    offset = info.byte_offset + 512   # chunk addresses are relative to the superblock
blob = bytearray(open("m.h5", "rb").read())
blob[offset + 3] ^= 0x20
open("flipped.h5", "wb").write(bytes(blob))
try:
    with h5py.File("flipped.h5", "r") as f:
        f["/model/model.layers.0.mlp.up_proj.weight"][:]
    check(False, "h5py read a corrupted chunk without complaint")
except OSError as e:
    check("Fletcher32" in str(e) or "filter" in str(e).lower() or "checksum" in str(e).lower(), "h5py error: %s" % e)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
rc=$?
if [ $rc -eq 0 ]; then
    # grpo itself refuses the same file (digest first).
    if "$GRPO" convert flipped.h5 x 2>err.txt; then echo "FAIL: grpo accepted flipped.h5"; exit 1; fi
    grep -q "checkpoint is damaged" err.txt || { echo "FAIL: $(cat err.txt)"; exit 1; }
fi
exit $rc
