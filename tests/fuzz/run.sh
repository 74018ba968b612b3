#!/usr/bin/env bash
# Runs the libFuzzer harnesses built in $BUILD/fuzz/ (make fuzz / fuzz-replay).
#   run.sh NAME...           each NAME for $FUZZ_S seconds from tests/fuzz/corpus/NAME
#   run.sh --replay NAME...  each corpus file once (the regression cases)
# Prints one line per harness: time, executions, corpus size; exits 1 when a
# harness crashed (the reproducer is in $BUILD/crashes/NAME/).
set -u
BUILD=${BUILD:-build-fuzz}
FUZZ_S=${FUZZ_S:-60}
cd "$(dirname "$0")/../.."
replay=0
if [ "${1:-}" = "--replay" ]; then
  replay=1
  shift
fi
status=0
for name in "$@"; do
  bin=$BUILD/fuzz/$name
  seeds=tests/fuzz/corpus/$name
  work=$BUILD/fuzz/work/$name
  crashes=$BUILD/crashes/$name
  mkdir -p "$work" "$crashes" "$seeds"
  log=$(mktemp)
  start=$(date +%s%N)
  if [ "$replay" -eq 1 ]; then
    "$bin" -runs=0 -timeout=20 "$seeds" >"$log" 2>&1
  else
    "$bin" -max_total_time="$FUZZ_S" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$crashes/" "$work" "$seeds" >"$log" 2>&1
  fi
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  elapsed=$((ms / 1000)).$(((ms % 1000) / 100))
  execs=$(grep -E '^stat::number_of_executed_units:' "$log" | tail -1 | awk '{print $2}')
  [ -z "$execs" ] && execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  seed_files=$(find "$seeds" -type f | wc -l)
  corpus=$(find "$work" "$seeds" -type f | wc -l)
  if [ "$replay" -eq 1 ]; then
    printf '%-22s replay: %s corpus files, %s s, exit %d\n' "$name" "$seed_files" "$elapsed" "$rc"
  else
    printf '%-22s %5s s, %s execs, corpus %s files (%s seeds), exit %d\n' \
      "$name" "$elapsed" "${execs:-0}" "$corpus" "$seed_files" "$rc"
  fi
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -E 'ERROR|SUMMARY|==[0-9]+==|Test unit written|abort' "$log" | head -20
  fi
  rm -f "$log"
done
exit "$status"
