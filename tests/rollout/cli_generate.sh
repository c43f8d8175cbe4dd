#!/usr/bin/env bash
# cli_generate.sh: `grpo generate` and `grpo score` end to end:
#   - score on every case of the HF parity fixtures equals the float64
#     reference log-probs within 1e-4 (ids equal completion_ids);
#   - greedy generate --json gives the fixtures' greedy ids and log-probs;
#   - generate's log-probs equal score's on the same text within 1e-5;
#   - streaming output, --n > 1 headers, --stop, --template;
#   - the same seed gives the same JSON with OMP_NUM_THREADS=1 and 2;
#   - usage errors exit 2, failures exit 1 with a message.
# Usage: cli_generate.sh GRPO TESTS_DIR WORK_DIR
set -u
GRPO=$1
TESTS=$2
WORK=$3
PY=/usr/bin/python3
SRC=$(dirname "$TESTS")
rm -rf "$WORK" && mkdir -p "$WORK"
pass=0
fail=0
check() { # check NAME CONDITION-EXIT-CODE
    if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
FIX="$TESTS/fixtures/hf"

# score and greedy generate against reference.json, every fixture and case
# (one Python process runs grpo with exact argv: prompts end in newlines)
$PY - "$GRPO" "$FIX" <<'EOF'
import json, subprocess, sys
grpo, fix = sys.argv[1], sys.argv[2]
bad = 0
for m in ['qwen2_fp32', 'qwen2_bf16', 'llama_fp32_sharded', 'qwen3_fp32']:
    cases = json.load(open('%s/%s/reference.json' % (fix, m)))['cases']
    for i, c in enumerate(cases):
        out = subprocess.run([grpo, 'score', '--model', fix + '/' + m, '--prompt', c['prompt'],
                              '--completion', c['completion']], capture_output=True, text=True)
        try:
            got = json.loads(out.stdout)
            assert got['prompt_ids'] == c['prompt_ids'], 'prompt ids'
            assert got['completion_ids'] == c['completion_ids'], 'completion ids'
            d = max(abs(a - b) for a, b in zip(got['logprobs'], c['logprobs']))
            assert d <= 1e-4, 'max |score - reference| = %g' % d
            assert abs(got['logprob_sum'] - c['logprob_sum']) <= 1e-3, 'logprob_sum'
        except Exception as e:
            print('FAIL: %s case %d: score: %s %s' % (m, i, e, out.stderr)); bad += 1
        out = subprocess.run([grpo, 'generate', '--model', fix + '/' + m, '--prompt', c['prompt'], '--temperature',
                              '0', '--max-new-tokens', '8', '--ignore-eos', '--json'], capture_output=True, text=True)
        try:
            got = json.loads(out.stdout)
            g = c['greedy']
            assert got['ids'] == g['ids'], 'greedy ids %s vs %s' % (got['ids'], g['ids'])
            d = max(abs(a - b) for a, b in zip(got['logprobs'], g['logprobs']))
            assert d <= 1e-4, 'max |generate - reference| = %g' % d
            assert got['finish_reason'] == 'length' and got['prompt_tokens'] == len(c['prompt_ids'])
        except Exception as e:
            print('FAIL: %s case %d: generate: %s %s' % (m, i, e, out.stderr)); bad += 1
print('fixtures: %d failures in score and greedy generate' % bad)
sys.exit(1 if bad else 0)
EOF
check "score and greedy generate equal the fixtures' references (1e-4)" $?

# generate vs score on the same text: the qwen3 fixture's greedy output for
# "The quick brown fox" is plain ASCII ("xxxxxxxx"), so its text re-tokenizes
# to the same ids.
Q3="$FIX/qwen3_fp32"
"$GRPO" generate --model "$Q3" --prompt "The quick brown fox" --temperature 0 --max-new-tokens 8 --json > "$WORK/g.json"
text=$($PY -c "import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))['text'])" "$WORK/g.json")
"$GRPO" score --model "$Q3" --prompt "The quick brown fox" --completion "$text" > "$WORK/s.json"
$PY - "$WORK/g.json" "$WORK/s.json" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
assert g['ids'] == s['completion_ids'], (g['ids'], s['completion_ids'])
d = max(abs(a - b) for a, b in zip(g['logprobs'], s['logprobs']))
assert d <= 1e-5, 'max |generate - score| = %g' % d
print('generate vs score: max |d logprob| = %.2e over %d tokens' % (d, len(g['ids'])))
EOF
check "generate's log-probs equal score's within 1e-5 (text '$text')" $?

# streaming, stop strings, --n headers, templates
out=$("$GRPO" generate --model "$Q3" --prompt "The quick brown fox" --temperature 0 --max-new-tokens 8)
check "streamed text ('$out')" $([ "$out" = "$text" ]; echo $?)
"$GRPO" generate --model "$Q3" --prompt "The quick brown fox" --temperature 0 --max-new-tokens 8 --stop zz \
    --stop xx --json > "$WORK/stop.json"
$PY -c "
import json,sys; g=json.load(open(sys.argv[1]))
assert g['text']=='xx' and g['ids']==[87,87] and g['finish_reason']=='stop', g" "$WORK/stop.json"
check "--stop ends the sample after the stop string" $?
nh=$("$GRPO" generate --model "$Q3" --prompt "Hi" --n 3 --max-new-tokens 5 --seed 1 | grep -c '^--- sample [0-2] (')
check "--n 3 prints three labelled samples ($nh)" $([ "$nh" -eq 3 ]; echo $?)
"$GRPO" generate --model "$Q3" --prompt "2+3?" --template chatml --max-new-tokens 4 --json > "$WORK/t.json"
pt=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['prompt_tokens'])" "$WORK/t.json")
want=$("$GRPO" tokenize --model "$Q3" --text $'<|im_start|>user\n2+3?<|im_end|>\n<|im_start|>assistant\n' | tr ',' '\n' | wc -l)
check "--template chatml renders the prompt ($pt tokens, want $want)" $([ "$pt" = "$want" ]; echo $?)

# same seed, same samples, with 1 and 2 threads; another seed differs
"$GRPO" init --arch "$SRC/configs/arch/tiny.json" --out "$WORK/tiny.h5" --tokenizer "$SRC/configs/tokenizers/bytes.json" \
    > /dev/null
check "grpo init of a tiny model" $?
args=(--model "$WORK/tiny.h5" --prompt "Question: what is 7*6? Answer:" --n 4 --temperature 1 --top-p 0.95
    --max-new-tokens 32 --seed 5 --json)
OMP_NUM_THREADS=1 "$GRPO" generate "${args[@]}" > "$WORK/t1.json"
OMP_NUM_THREADS=2 "$GRPO" generate "${args[@]}" > "$WORK/t2.json"
check "4 samples printed" $([ "$(wc -l < "$WORK/t1.json")" -eq 4 ]; echo $?)
check "OMP_NUM_THREADS 1 and 2 give the same samples" $(cmp -s "$WORK/t1.json" "$WORK/t2.json"; echo $?)
"$GRPO" generate "${args[@]}" --seed 6 > "$WORK/t3.json"
check "another seed gives other samples" $(! cmp -s "$WORK/t1.json" "$WORK/t3.json"; echo $?)
$PY -c "
import json,sys
for l in open(sys.argv[1]):
    g=json.loads(l); assert len(g['ids'])==len(g['logprobs'])>=1 and g['finish_reason'] in ('eos','stop','length')
    assert all(x<=0 for x in g['logprobs'])" "$WORK/t1.json"
check "JSON lines have ids, logprobs and a finish reason" $?

# help, usage errors (exit 2), failures (exit 1)
"$GRPO" generate --help | grep -q -- "--top-p"; check "generate --help" $?
"$GRPO" score --help | grep -q "tokenized SEPARATELY"; check "score --help says how text is tokenized" $?
usage() { "$GRPO" "$@" > /dev/null 2> "$WORK/err"; [ $? -eq 2 ] && grep -q "grpo" "$WORK/err"; }
usage generate --prompt hi; check "generate without --model" $?
usage generate --model "$Q3"; check "generate without --prompt" $?
usage generate --model "$Q3" --prompt hi --n 0; check "--n 0" $?
usage generate --model "$Q3" --prompt hi --n two; check "--n two" $?
usage generate --model "$Q3" --prompt hi --temperature -1; check "negative temperature" $?
usage generate --model "$Q3" --prompt hi --top-p 1.5; check "--top-p 1.5" $?
usage generate --model "$Q3" --prompt hi --min-p x; check "--min-p x" $?
usage generate --model "$Q3" --prompt hi --max-new-tokens 0; check "--max-new-tokens 0" $?
usage generate --model "$Q3" --prompt hi --stop ""; check "empty --stop" $?
usage generate --model "$Q3" --prompt hi --template nonsense; check "unknown template" $?
usage generate --model "$Q3" --prompt hi --bogus 1; check "unknown option" $?
usage generate --model "$Q3" --prompt; check "option without a value" $?
usage score --model "$Q3" --prompt hi; check "score without --completion" $?
usage score --model "$Q3" --prompt hi --completion ""; check "score with an empty completion" $?
"$GRPO" generate --model "$WORK/missing" --prompt hi > /dev/null 2> "$WORK/err"
check "missing model: exit 1 with a message" $([ $? -eq 1 ] && grep -q missing "$WORK/err"; echo $?)
"$GRPO" init --arch "$SRC/configs/arch/tiny.json" --out "$WORK/notok.h5" > /dev/null
"$GRPO" generate --model "$WORK/notok.h5" --prompt hi > /dev/null 2> "$WORK/err"
check "model without tokenizer.json: exit 1 with a message" $([ $? -eq 1 ] && grep -q tokenizer "$WORK/err"; echo $?)
"$GRPO" score --model "$Q3" --prompt "" --completion x > /dev/null 2> "$WORK/err"
check "score with an empty prompt: exit 1 with a message" $([ $? -eq 1 ] && grep -q "prompt is empty" "$WORK/err"; echo $?)

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
