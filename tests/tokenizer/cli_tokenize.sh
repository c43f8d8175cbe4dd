#!/usr/bin/env bash
# cli_tokenize.sh: `grpo tokenize` / `grpo detokenize` end to end, on the
# committed smollm_style.json tokenizer (no npm needed): ids equal the HF
# reference's (from the fixture), --model as a directory or a .json, --file
# with invalid UTF-8 round-trips, and usage/failure exit codes.
# Usage: cli_tokenize.sh GRPO TESTS_DIR WORK_DIR
set -u
GRPO=$1
TESTS=$2
WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK/model"
TOK="$TESTS/fixtures/tokenizer/smollm_style.json"
cp "$TOK" "$WORK/model/tokenizer.json"
pass=0
fail=0
check() { # check NAME CONDITION-EXIT-CODE
    if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}

# ids equal the reference's for the fixture's "chatml" case
want=$(grep '"note":"chatml"' "$TESTS/fixtures/tokenizer/smollm_style_expected.jsonl" |
    sed 's/.*"ids":\[\([^]]*\)\].*/[\1]/' | sed 's/,/, /g')
text=$'<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n'
got=$("$GRPO" tokenize --model "$TOK" --text "$text")
check "tokenize ids match the reference ($got vs $want)" $([ "$got" = "$want" ]; echo $?)
got_dir=$("$GRPO" tokenize --model "$WORK/model" --text "$text")
check "--model as a directory" $([ "$got_dir" = "$want" ]; echo $?)

# detokenize: JSON array, plain list, and stdin
out=$("$GRPO" detokenize --model "$TOK" --ids "$got"; echo x)
check "detokenize restores the text" $([ "${out%$'\n'x}" = "$text" ]; echo $?)
out=$(echo "$got" | tr -d '[],' | "$GRPO" detokenize --model "$WORK/model"; echo x)
check "detokenize reads ids from stdin" $([ "${out%$'\n'x}" = "$text" ]; echo $?)
skip=$("$GRPO" detokenize --model "$TOK" --ids "$got" --skip-special)
check "--skip-special drops <|im_start|>" $(case "$skip" in *im_start*) echo 1 ;; *) echo 0 ;; esac)

# --no-special: <|im_start|> becomes several ordinary tokens
n_special=$("$GRPO" tokenize --model "$TOK" --text "<|im_start|>" | tr ',' '\n' | wc -l)
n_plain=$("$GRPO" tokenize --model "$TOK" --text "<|im_start|>" --no-special | tr ',' '\n' | wc -l)
check "--no-special encodes special tokens as text ($n_special vs $n_plain ids)" \
    $([ "$n_special" -eq 1 ] && [ "$n_plain" -gt 1 ]; echo $?)

# --file with invalid UTF-8 and NUL bytes round-trips byte for byte
printf 'caf\xe9 \xff\xfe\x00 ok\n\xe4\xb8' > "$WORK/bytes.bin"
ids=$("$GRPO" tokenize --model "$TOK" --file "$WORK/bytes.bin")
"$GRPO" detokenize --model "$TOK" --ids "$ids" | head -c -1 > "$WORK/back.bin"
check "--file bytes round-trip" $(cmp -s "$WORK/bytes.bin" "$WORK/back.bin"; echo $?)
ids_stdin=$("$GRPO" tokenize --model "$TOK" --file - < "$WORK/bytes.bin")
check "--file - reads stdin" $([ "$ids" = "$ids_stdin" ]; echo $?)

# help, usage errors (exit 2) and failures (exit 1)
"$GRPO" tokenize --help | grep -q -- "--no-special"; check "tokenize --help" $?
"$GRPO" detokenize --help | grep -q -- "--skip-special"; check "detokenize --help" $?
"$GRPO" tokenize --text hi 2>/dev/null; check "missing --model is a usage error" $([ $? -eq 2 ]; echo $?)
"$GRPO" tokenize --model "$TOK" 2>/dev/null; check "missing --text is a usage error" $([ $? -eq 2 ]; echo $?)
"$GRPO" tokenize --model "$TOK" --text a --file b 2>/dev/null; check "--text and --file" $([ $? -eq 2 ]; echo $?)
"$GRPO" tokenize --model "$TOK" --text a --bogus 2>/dev/null; check "unknown flag" $([ $? -eq 2 ]; echo $?)
"$GRPO" detokenize --model "$TOK" --ids '[1, x]' 2>/dev/null; check "bad --ids" $([ $? -eq 2 ]; echo $?)
err=$("$GRPO" detokenize --model "$TOK" --ids '[999999]' 2>&1); rc=$?
check "out-of-range id fails with a message ($err)" $([ $rc -eq 1 ] && [[ "$err" == *outside* ]]; echo $?)
err=$("$GRPO" tokenize --model "$WORK/nope" --text hi 2>&1); rc=$?
check "missing model fails ($err)" $([ $rc -eq 1 ] && [[ "$err" == *"--model: "*"tokenizer.json file"* ]]; echo $?)
touch "$WORK/ckpt.h5"
err=$("$GRPO" tokenize --model "$WORK/ckpt.h5" --text hi 2>&1); rc=$?
check "a file that is not a grpo checkpoint is refused with a message ($err)" $([ $rc -eq 1 ] && [[ "$err" == *checkpoint* ]]; echo $?)
# a real checkpoint carries its tokenizer.json: same ids as the HF directory
"$GRPO" init --arch "$TESTS/../configs/arch/tiny.json" --out "$WORK/real.h5" --tokenizer "$TESTS/../configs/tokenizers/bytes.json" > /dev/null 2>&1
a=$("$GRPO" tokenize --model "$WORK/real.h5" --text "Hello, <|im_start|> world" 2>&1); rc=$?
b=$("$GRPO" tokenize --model "$TESTS/../configs/tokenizers/bytes.json" --text "Hello, <|im_start|> world" 2>&1)
check "a grpo checkpoint's embedded tokenizer is used ($a vs $b)" $([ $rc -eq 0 ] && [ "$a" = "$b" ]; echo $?)
echo '{"model": {"type": "Unigram"}}' > "$WORK/uni.json"
err=$("$GRPO" tokenize --model "$WORK/uni.json" --text hi 2>&1); rc=$?
check "Unigram refused ($err)" $([ $rc -eq 1 ] && [[ "$err" == *"'Unigram' is not supported"* ]]; echo $?)

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
