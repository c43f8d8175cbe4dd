#!/bin/bash
# The include rule of docs/architecture.md: a file includes only project
# headers from its own part or from parts below it in the data flow.
#   test_includes.sh GRPO_BIN SOURCE_TESTS_DIR WORK_DIR
SRC=$(cd "$2/.." && pwd)
cd "$SRC" || exit 1
# part: the parts its files may include (besides system headers)
allowed() {
  case "$1" in
    common) echo "common" ;;
    model) echo "common model" ;;
    model/tokenizer) echo "common model model/tokenizer" ;;
    model/io) echo "common model model/tokenizer model/io" ;;
    data) echo "common data" ;;
    reward|reward/sandbox|reward/sandbox/helper) echo "common reward reward/sandbox" ;;
    rollout) echo "common model model/tokenizer rollout" ;;
    trainer) echo "common model model/tokenizer model/io data reward reward/sandbox rollout trainer" ;;
    cli) echo "common model model/tokenizer model/io data reward reward/sandbox rollout trainer cli api" ;;
    api) echo "common model model/tokenizer model/io data reward reward/sandbox rollout trainer api" ;;
    *) echo "" ;;
  esac
}
passed=0; failed=0
for f in $(git ls-files 'common/*.[ch]' 'model/*.[ch]' 'data/*.[ch]' 'reward/*.[ch]' 'rollout/*.[ch]' 'trainer/*.[ch]' 'cli/*.[ch]' 'api/*.[ch]' 2>/dev/null; git ls-files --others --exclude-standard 'common/*.[ch]' 'model/*.[ch]' 'data/*.[ch]' 'reward/*.[ch]' 'rollout/*.[ch]' 'trainer/*.[ch]' 'cli/*.[ch]' 'api/*.[ch]'); do
  part=$(dirname "$f")
  ok_parts=$(allowed "$part")
  if [ -z "$ok_parts" ]; then echo "FAIL: $f: folder $part is not in the include rule (tests/cli/test_includes.sh)"; failed=$((failed+1)); continue; fi
  while IFS= read -r inc; do
    # resolve a relative include against the file's folder, else the root
    if [ -f "$part/$inc" ]; then target=$(realpath --relative-to="$SRC" "$part/$inc"); else target=$inc; fi
    [ -f "$SRC/$target" ] || continue  # a system or dependency header
    tpart=$(dirname "$target")
    if [[ " $ok_parts " == *" $tpart "* ]]; then passed=$((passed+1)); else
      echo "FAIL: $f includes $inc ($tpart is above $part in the data flow; docs/architecture.md)"; failed=$((failed+1)); fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
