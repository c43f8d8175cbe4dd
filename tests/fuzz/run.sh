#!/bin/sh
# run.sh: one short fuzzing run for ctest (label fuzz): a fresh work
# directory (libFuzzer writes the inputs it finds into the first corpus
# directory; the seeds in the repo stay untouched), then the fuzzer for
# SECONDS on the seed directories. Fails if the fuzzer does (a crash, a
# sanitizer report, a leak or a timeout: the input is left in WORK).
#   run.sh FUZZER WORK SECONDS DICT SEED_DIR...
set -u
FUZZER=$1; WORK=$2; SECONDS_=$3; DICT=$4; shift 4
rm -rf "$WORK"; mkdir -p "$WORK/corpus"; cd "$WORK" || exit 1
DICT_ARG=""; [ -f "$DICT" ] && DICT_ARG="-dict=$DICT"
"$FUZZER" -max_total_time="$SECONDS_" -timeout=20 -rss_limit_mb=3000 -print_final_stats=1 $DICT_ARG \
  "$WORK/corpus" "$@" > log.txt 2>&1
rc=$?
grep -E "^fuzz driver: [0-9]|stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY" log.txt
if [ $rc -ne 0 ]; then
  tail -40 log.txt
  echo "FAIL: $FUZZER exited $rc; the failing input is in $WORK (crash-*, timeout-*, leak-*, oom-*)"
  exit 1
fi
