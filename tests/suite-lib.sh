# shellcheck shell=bash disable=SC2034 # the totals are read by the sourcing script
# Sourced by run-all.sh and run-asan.sh: runs doctest binaries, adds their
# "test cases:" lines to the totals, and remembers which cases failed so the
# end of a long run names them (CI shows only the tail of its output).
passed=0
failed=0
skipped=0
status=0
failed_cases=()

# run_suite NAME COMMAND...: runs one doctest binary and counts its cases.
# SANITIZER_CHECK=1 also fails a suite whose output holds a sanitizer report.
run_suite() {
  local name=$1
  shift
  echo "=== $name"
  local log
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
  if [ "${SANITIZER_CHECK:-0}" = 1 ] &&
    grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
    echo "$name: sanitizer report (above)"
    failed_cases+=("$name: sanitizer report")
    rc=1
  fi
  # doctest heads each report with "TEST CASE:"; a failure's lines hold
  # "ERROR:" (a MESSAGE's hold "MESSAGE:", so a passing case is not named).
  local case_name
  while IFS= read -r case_name; do
    failed_cases+=("$name: $case_name")
  done < <(awk '/^TEST CASE:/ { sub(/^TEST CASE: +/, ""); current = $0 }
                / ERROR: / && current != "" { print current; current = "" }' "$log" | sort -u)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "$name: no doctest summary (exit $rc): counted as one failure"
    failed_cases+=("$name: no doctest summary (exit $rc)")
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
    failed_cases+=("$name: exit $rc")
    failed=$((failed + 1))
  fi
  [ "$rc" -ne 0 ] && status=1
}

# print_failed_cases: the names of the failed cases, just above the summary.
print_failed_cases() {
  [ "${#failed_cases[@]}" -eq 0 ] && return
  echo "failed:"
  printf '  %s\n' "${failed_cases[@]}"
}
