#!/usr/bin/env bash
# Runs every test suite and ends with one summary line, "N passed, N failed"
# (", N skipped" when some were), counting every test case that ran.
# Exit status: 0 only when nothing failed.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.." || exit 1

# shellcheck source=tests/suite-lib.sh
source tests/suite-lib.sh

run_suite unit "$BUILD/tests/unit_tests"
run_suite bpf "$BUILD/tests/bpf_tests"
run_suite integration "$BUILD/tests/integration_tests"
# Every committed fuzz corpus once (crashes make fuzz found stay fixed).
for replay in "$BUILD"/tests/replay/fuzz_*; do
  [ -x "$replay" ] || continue
  name=$(basename "$replay")
  run_suite "replay-$name" "$replay" "tests/fuzz/corpus/$name"
done
# The soak, short: 60 s of traffic under random faults (`make soak` runs 300 s).
SOAK_S=${TEST_SOAK_S:-60} run_suite soak "$BUILD/tests/soak_tests"
for script in tests/integration/*.sh; do
  [ -e "$script" ] || continue
  run_suite "$(basename "$script" .sh)" env BUILD="$BUILD" bash "$script"
done

print_failed_cases
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && exit "$status"
exit 1
