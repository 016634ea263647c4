#!/usr/bin/env bash
# Time of `labrunner run scenarios/article/article.yaml` on each container runtime, median of N runs
# (default 5), interleaved (process, containerd, docker, process, ...) so that machine noise hits all alike.
# Usage: bench/runtime-times.sh [N]    (root; containerd and dockerd running; built with ./run-lab.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-5}"
dll=src/LabRunner.Cli/bin/Release/net10.0/labrunner.dll
runtimes=(process containerd docker)
declare -A times
for ((i = 1; i <= n; i++)); do
  for rt in "${runtimes[@]}"; do
    start=$(date +%s.%N)
    dotnet "$dll" run scenarios/article/article.yaml --runtime "$rt" >/dev/null
    end=$(date +%s.%N)
    times[$rt]+="$(echo "$end - $start" | bc) "
  done
done
echo "article.yaml, median of $n runs (wall clock, including .NET start-up):"
for rt in "${runtimes[@]}"; do
  median=$(printf '%s\n' ${times[$rt]} | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  printf '  %-10s %6.2f s   (runs: %s)\n' "$rt" "$median" "${times[$rt]}"
done
