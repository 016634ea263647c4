#!/usr/bin/env bash
# Startup cost of a C# lab (.csx) against the same lab in YAML: compiled by Roslyn ("cold", a first run) and from
# the compile cache ("cached", any later run of the same script). Prints the median wall-clock time of N runs
# (default 5) of each command. `plan` and `validate` touch nothing; `run` needs root and builds the real lab
# (sandboxed); LAB_BENCH_NO_RUN=1 leaves it out.
#
#   bench/csx-startup.sh [N]          # after a Release build (./run-lab.sh builds one)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-5}"
CLI=(dotnet "$ROOT/src/LabRunner.Cli/bin/Release/net10.0/labrunner.dll")
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

measure() { # label, args...
  local label="$1" times=() start end
  shift
  for _ in $(seq "$N"); do
    start=$(date +%s.%N)
    "${CLI[@]}" "$@" >/dev/null 2>&1 || { echo "failed: labrunner $*" >&2; exit 1; }
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%-28s median %6.2f s   (runs: %s)\n' "$label" "$(printf '%s\n' "${times[@]}" | median)" \
    "$(printf '%.2f ' "${times[@]}")"
}

cd "$ROOT"
# The compile cache (ScriptCache): "cold" compiles every time (as a first run does), "cached" runs from a cache
# warmed once, in a temporary directory of its own (the user's ~/.cache is not touched).
cache="$(mktemp -d /tmp/lr-bench-csx-XXXXXX)"
trap 'rm -rf "$cache"' EXIT
chmod 700 "$cache"
export LABRUNNER_SCRIPT_CACHE=off
measure "validate article.yaml" validate scenarios/article/article.yaml
measure "validate article.csx cold" validate scenarios/article/article.csx
LABRUNNER_SCRIPT_CACHE="$cache" "${CLI[@]}" validate scenarios/article/article.csx >/dev/null
LABRUNNER_SCRIPT_CACHE="$cache" measure "validate article.csx cached" validate scenarios/article/article.csx
measure "plan article.yaml" plan scenarios/article/article.yaml
measure "plan article.csx cold" plan scenarios/article/article.csx
LABRUNNER_SCRIPT_CACHE="$cache" measure "plan article.csx cached" plan scenarios/article/article.csx
if [[ "$(id -u)" == 0 && -z "${LAB_BENCH_NO_RUN:-}" ]]; then
  measure "run article.yaml" run scenarios/article/article.yaml
  measure "run article.csx cold" run scenarios/article/article.csx
  LABRUNNER_SCRIPT_CACHE="$cache" measure "run article.csx cached" run scenarios/article/article.csx
fi
