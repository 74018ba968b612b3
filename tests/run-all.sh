#!/usr/bin/env bash
# Runs every test suite and ends with one summary line, "N passed, N failed"
# (", N skipped" when some were), counting every test case that ran.
# Exit status: 0 only when nothing failed.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
status=0

# Runs one doctest binary and adds its "test cases:" line to the totals.
run_doctest() {
  local name=$1
  shift
  echo "=== $name"
  local log
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "$name: no doctest summary (exit $rc): counted as one failure"
    failed=$((failed + 1))
    status=1
    return
  fi
  local p f s
  p=$(echo "$line" | sed -E 's/.*\| *([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.*\| *([0-9]+) failed.*/\1/')
  s=$(echo "$line" | sed -E 's/.*\| *([0-9]+) skipped.*/\1/')
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$name: exited $rc with no failed case: counted as one failure"
    failed=$((failed + 1))
  fi
  [ "$rc" -ne 0 ] && status=1
}

run_doctest unit "$BUILD/tests/unit_tests"
run_doctest bpf "$BUILD/tests/bpf_tests"
run_doctest integration "$BUILD/tests/integration_tests"
# Every committed fuzz corpus once (crashes make fuzz found stay fixed).
for replay in "$BUILD"/tests/replay/fuzz_*; do
  [ -x "$replay" ] || continue
  name=$(basename "$replay")
  run_doctest "replay-$name" "$replay" "tests/fuzz/corpus/$name"
done
# The soak, short: 60 s of traffic under random faults (`make soak` runs 300 s).
SOAK_S=${TEST_SOAK_S:-60} run_doctest soak "$BUILD/tests/soak_tests"
for script in tests/integration/*.sh; do
  [ -e "$script" ] || continue
  run_doctest "$(basename "$script" .sh)" env BUILD="$BUILD" bash "$script"
done

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && exit "$status"
exit 1
