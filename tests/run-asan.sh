#!/usr/bin/env bash
# `make test-asan` (CI, after `make test`): the unit and integration suites
# built with ASan + UBSan in $BUILD (build-asan), starting that build's
# netacctd and tools. A sanitizer report fails the run (halt_on_error; the
# daemons the tests start inherit the options). Left out: the sanitizer
# storm (it runs the TSan and ASan daemons itself in `make test`) and the
# install test (it would rebuild into this tree without sanitizers).
# Last line: "asan: N passed, N failed".
set -u
BUILD=${BUILD:-build-asan}
cd "$(dirname "$0")/.."
export BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:exitcode=67}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
passed=0
failed=0
status=0
run_suite() {
  local name=$1
  shift
  echo "=== asan $name"
  local log
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
    echo "asan $name: sanitizer report (above)"
    rc=1
  fi
  rm -f "$log"
  if [ -z "$line" ]; then
    failed=$((failed + 1))
    status=1
    return
  fi
  passed=$((passed + $(echo "$line" | sed -E 's/.*\| *([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$line" | sed -E 's/.*\| *([0-9]+) failed.*/\1/')))
  [ "$rc" -ne 0 ] && status=1
}
run_suite unit "$BUILD/tests/unit_tests"
# Not here: the sanitizer storm (it runs the tsan/asan daemons itself), and
# the install, package and real-systemd tests (they install or package the
# build, so under this build they would rebuild it or run ASan binaries in a
# container: packaging, not memory safety, and `make test` runs them).
run_suite integration "$BUILD/tests/integration_tests" \
  -tce='*sanitizer*,install:*,*make install*,package:*,systemd:*'
echo "asan: $passed passed, $failed failed"
exit "$status"
