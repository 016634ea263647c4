#!/usr/bin/env bash
# Sums the xUnit.net v2+ XML reports (*.xunit.xml, written by
# `dotnet test ... --report-xunit-xml`) in a results directory and prints, as
# its last line:
#
#   N passed, N failed, N skipped
#
# Usage: scripts/count-results.sh RESULTS_DIR [EXPECTED_REPORTS]
# EXPECTED_REPORTS: number of test assemblies; each one missing a report
# counts as 1 failed. Errors recorded outside tests also count as failed.
# Exit status: 0 when at least one test ran and nothing failed; 1 otherwise.
set -euo pipefail

dir="${1:?usage: count-results.sh RESULTS_DIR [EXPECTED_REPORTS]}"
expected="${2:-0}"

shopt -s nullglob
reports=("$dir"/*.xunit.xml)

attr() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2"; }

passed=0 failed=0 skipped=0 total=0 notrun=0 errors=0
for f in "${reports[@]}"; do
  # One <assembly ...> start tag per test assembly; its attributes hold the
  # totals. Match attribute by attribute so no '>' inside values can confuse us.
  while IFS= read -r tag; do
    name="$(sed -n 's/.* name="\([^"]*\)".*/\1/p' <<<"$tag")"
    t="$(attr total "$tag")"; p="$(attr passed "$tag")"; fl="$(attr failed "$tag")"
    s="$(attr skipped "$tag")"; n="$(attr not-run "$tag")"; e="$(attr errors "$tag")"
    t=${t:-0} p=${p:-0} fl=${fl:-0} s=${s:-0} n=${n:-0} e=${e:-0}
    total=$((total + t)) passed=$((passed + p)) failed=$((failed + fl))
    skipped=$((skipped + s)) notrun=$((notrun + n)) errors=$((errors + e))
    extra=""
    ((n == 0)) || extra+=", $n not run"
    ((e == 0)) || extra+=", $e errors"
    echo "  $(basename "${name:-$f}"): $p passed, $fl failed, $s skipped$extra" >&2
  done < <(grep -oE '<assembly( [A-Za-z_:-]+="[^"]*")*' "$f" || true)
done

status=0
# A test assembly without a report (its host crashed, timed out or never ran)
# and an error outside any test (fixture/cleanup/catastrophic) each count as
# one failure, so the summary line never looks green when the run was not.
if ((${#reports[@]} < expected)); then
  missing=$((expected - ${#reports[@]}))
  echo "count-results: only ${#reports[@]} of $expected test reports found in $dir (a test host crashed or did not run?); counting $missing as failed" >&2
  failed=$((failed + missing))
fi
if ((errors > 0)); then
  echo "count-results: $errors error(s) outside tests (fixture/cleanup/catastrophic); counting them as failed" >&2
  failed=$((failed + errors))
fi
if ((total - skipped - notrun <= 0)); then
  echo "count-results: no test was executed" >&2
  status=1
fi
((failed == 0)) || status=1

echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
