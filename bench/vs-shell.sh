#!/usr/bin/env bash
# LabRunner against the plainest baseline: the same lab's commands as a shell script, no checks, no journal.
# The script is `labrunner plan`'s own command list (sandbox set-up, actions, teardown) for the same lab, so
# both do the same work on the kernel; what LabRunner adds is .NET start-up, loading and validation, the
# journal (fsync before each action), every expectation checked, and the leftover check after teardown.
# Prints the median of N interleaved runs of each and the ratio LabRunner / shell (the figure to watch).
# Usage: bench/vs-shell.sh [N] [SCENARIO]   (root; built with ./run-lab.sh; default N=5,
#        SCENARIO=scenarios/article/01-veth-bridge.yaml: a lab without containers, whose plan has no placeholders)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-5}"
scenario="${2:-scenarios/article/01-veth-bridge.yaml}"
dll=src/LabRunner.Cli/bin/Release/net10.0/labrunner.dll
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dotnet "$dll" plan "$scenario" >"$work/plan.txt"
if grep -qE '^ *\$ .*<[a-z0-9.-]+>' "$work/plan.txt"; then
  echo "vs-shell: the plan of $scenario has run-time placeholders (PIDs, old values): pick a lab without containers or sysctls" >&2
  exit 2
fi
{
  echo '#!/usr/bin/env bash'
  echo '# generated from `labrunner plan`: every command, in order; failures (the expected one, teardown of what went with its peer) ignored'
  sed -n 's/^ *\$ \(.*\)$/\1 >\/dev\/null 2>\&1 || true/p' "$work/plan.txt"
} >"$work/baseline.sh"
commands=$(grep -c '|| true$' "$work/baseline.sh")
checks=$(grep -c '^ *check: ' "$work/plan.txt" || true)

declare -a shell_times labrunner_times
for ((i = 1; i <= n; i++)); do
  start=$(date +%s.%N); bash "$work/baseline.sh"; end=$(date +%s.%N)
  shell_times+=("$(echo "$end - $start" | bc)")
  start=$(date +%s.%N); dotnet "$dll" run "$scenario" >/dev/null; end=$(date +%s.%N)
  labrunner_times+=("$(echo "$end - $start" | bc)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
shell=$(median "${shell_times[@]}")
labrunner=$(median "${labrunner_times[@]}")
echo "$scenario: $commands commands; LabRunner also checks $checks expectations. Median of $n interleaved runs:"
printf '  shell script (the plan'"'"'s commands)  %6.2f s   (runs: %s)\n' "$shell" "${shell_times[*]}"
printf '  labrunner run                        %6.2f s   (runs: %s)\n' "$labrunner" "${labrunner_times[*]}"
printf '  ratio labrunner / shell              %6.2f\n' "$(echo "$labrunner / $shell" | bc -l)"
