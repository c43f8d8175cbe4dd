#!/bin/bash
# docs/config.md's key table equals `grpo config --reference` (docs stay true).
#   test_docs.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
GRPO=$1; SRC=$(cd "$2/.." && pwd)
if ! want=$("$GRPO" config --reference); then
  echo "grpo config --reference failed" >&2; echo "0 passed, 1 failed"; exit 1
fi
if [ -z "$want" ]; then
  echo "grpo config --reference printed nothing" >&2; echo "0 passed, 1 failed"; exit 1
fi
got=$(sed -n '/<!-- BEGIN REFERENCE -->/,/<!-- END REFERENCE -->/p' "$SRC/docs/config.md" | sed '1d;$d')
if [ "$want" = "$got" ]; then echo "1 passed, 0 failed"; exit 0; fi
echo "docs/config.md is out of date; regenerate the table with: grpo config --reference" >&2
diff <(echo "$want") <(echo "$got") >&2
echo "0 passed, 1 failed"; exit 1
