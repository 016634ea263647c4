#!/usr/bin/env bash
# The article lab against bench/article-script.sh, the same lab written by hand as a shell script (same build, same
# pings, same four captures read back with the same filters; no journal, no state checks, no leftover check),
# interleaved in one invocation so that machine noise hits both alike. Prints the medians of wall time and the
# ratio LabRunner / script per driver (LABRUNNER_DRIVERS, default "netlink iproute2"). docs/PERFORMANCE.md, issue 11
# (goal: at most 1.5x).
#
#   bench/article-vs-script.sh [REPS]     (root; build first with ./run-lab.sh; REPS default 5; keeps nothing)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
reps="${1:-5}"
drivers="${LABRUNNER_DRIVERS:-netlink iproute2}"
dll=src/LabRunner.Cli/bin/Release/net10.0/labrunner.dll
scenario=scenarios/article/article.yaml
if [[ "$(id -u)" -ne 0 ]]; then echo "article-vs-script: run as root (both build namespaces)" >&2; exit 3; fi
[[ -f "$dll" ]] || { echo "article-vs-script: build first (./run-lab.sh validate $scenario)" >&2; exit 3; }
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A times
for ((i = 1; i <= reps; i++)); do
  start=$(now); bash bench/article-script.sh || { echo "article-vs-script: the script failed (run $i)" >&2; exit 1; }
  times[script]+="$(echo "$(now) - $start" | bc) "
  for d in $drivers; do
    start=$(now)
    dotnet "$dll" run "$scenario" --driver "$d" >/dev/null || { echo "article-vs-script: labrunner --driver $d failed (run $i)" >&2; exit 1; }
    times[$d]+="$(echo "$(now) - $start" | bc) "
  done
done
# shellcheck disable=SC2086
script=$(median ${times[script]})
echo "$scenario, median of $reps interleaved runs (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
printf '  %-28s %6.2f s   (runs: %s)\n' "hand-written script" "$script" "${times[script]% }"
for d in $drivers; do
  # shellcheck disable=SC2086
  m=$(median ${times[$d]})
  printf '  %-28s %6.2f s   (runs: %s)   ratio %.2f\n' "labrunner run --driver $d" "$m" "${times[$d]% }" "$(echo "$m / $script" | bc -l)"
done
