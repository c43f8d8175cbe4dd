#!/bin/sh
# Regenerates the key table of docs/config.md from the schema
# (`grpo config --reference`); test_docs_config checks they agree.
#   scripts/update_config_docs.sh [path/to/grpo]
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GRPO=${1:-$ROOT/build/grpo}
"$GRPO" config --reference > "$ROOT/build/config_reference.md"
python3 - "$ROOT/docs/config.md" "$ROOT/build/config_reference.md" <<'PY'
import sys
doc, ref = sys.argv[1], open(sys.argv[2]).read()
s = open(doc).read()
a = s.index('<!-- BEGIN REFERENCE -->') + len('<!-- BEGIN REFERENCE -->\n')
b = s.index('<!-- END REFERENCE -->')
open(doc, 'w').write(s[:a] + ref + s[b:])
PY
