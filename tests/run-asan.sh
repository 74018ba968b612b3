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
cd "$(dirname "$0")/.." || exit 1
export BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:exitcode=67}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# shellcheck source=tests/suite-lib.sh
source tests/suite-lib.sh
export SANITIZER_CHECK=1
run_suite "asan unit" "$BUILD/tests/unit_tests"
# Not here: the sanitizer storm (it runs the tsan/asan daemons itself), and
# the install, package and real-systemd tests (they install or package the
# build, so under this build they would rebuild it or run ASan binaries in a
# container: packaging, not memory safety, and `make test` runs them).
run_suite "asan integration" "$BUILD/tests/integration_tests" \
  -tce='*sanitizer*,install:*,*make install*,package:*,systemd:*'
print_failed_cases
echo "asan: $passed passed, $failed failed"
exit "$status"
