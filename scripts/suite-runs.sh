#!/usr/bin/env bash
# The whole test suite, N times in a row, on a fresh clone, as a newcomer would run it (docs/RELIABILITY.md,
# "The test suite, again and again"). As root, like `./run-lab.sh test`.
#
#   scripts/suite-runs.sh [N] [--hog]     N runs (default 10); --hog: two `yes >/dev/null` beside them the whole time
#
# The clone is of this checkout's HEAD, in a temporary directory removed at the end. Each run prints one line
# (exit code, the count line, minutes); failed tests are listed from the xUnit reports. Exits 1 if any run failed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-10}" hog=""
[[ "${2:-}" == --hog || "${1:-}" == --hog ]] && hog=1
[[ "$runs" == --hog ]] && runs=10
if [[ "$(id -u)" -ne 0 ]]; then echo "suite-runs: run as root (the tests create namespaces)" >&2; exit 3; fi

work="$(mktemp -d /tmp/lr-suite-runs-XXXXXX)"
hogs=()
cleanup() {
  local pid
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$ROOT" "$work/labrunner"
# ../shared beside the clone, as on a fresh machine (the seed article is read from it).
[[ -d "$ROOT/../shared" ]] && ln -s "$(cd "$ROOT/../shared" && pwd)" "$work/shared"
if [[ -n "$hog" ]]; then
  for _ in 1 2; do yes >/dev/null & hogs+=("$!"); done
  echo "suite-runs: CPU hogs running (PIDs ${hogs[*]})"
fi

failed_runs=0
for ((i = 1; i <= runs; i++)); do
  results="$work/results-$i"
  start=$SECONDS
  (cd "$work/labrunner" && LAB_TEST_RESULTS="$results" ./run-lab.sh test </dev/null >"$work/run-$i.log" 2>&1)
  rc=$?
  count="$(bash "$ROOT/scripts/count-results.sh" "$results" 3 2>/dev/null | tail -1)"
  printf 'run %2d: exit %d, %s, %.1f min\n' "$i" "$rc" "$count" "$(awk -v s=$((SECONDS - start)) 'BEGIN { print s / 60 }')"
  if ((rc != 0)); then
    failed_runs=$((failed_runs + 1))
    grep -ho '<test name="[^"]*"[^>]*result="Fail"' "$results"/*.xunit.xml 2>/dev/null | sed 's/<test name="\([^"]*\)".*/    failed: \1/'
    cp "$work/run-$i.log" "/tmp/lr-suite-run-$i-failed.log" && echo "    log: /tmp/lr-suite-run-$i-failed.log"
  fi
done
echo "suite-runs: $((runs - failed_runs)) of $runs green${hog:+ (with two CPU hogs)}"
((failed_runs == 0))
