#!/usr/bin/env bash
# The long reliability runs of docs/RELIABILITY.md (CI runs a slice of each in the test suites).
# As root, with containerd and dockerd running (scripts/provision.sh / .ci/run start them).
#
#   scripts/reliability.sh faults [lr-reliability faults args]   every k of K, every runtime and signal (~45 min)
#   scripts/reliability.sh kills [N] [RUNTIME]                   N runs per runtime SIGKILLed at a random moment, then clean
#   scripts/reliability.sh parallel [N] [RUNTIME]                N runs of article.yaml at once (default 8, process)
#   scripts/reliability.sh consecutive [N] [RUNTIME]             N runs in a row (default 50, process)
#   scripts/reliability.sh mutate [COUNT] [RUNS] [SEED]          COUNT Bogus mutants through the loader (default 5000),
#                                                                RUNS valid ones run for real (default 20), random seed
#   scripts/reliability.sh hostile [N]                           time and peak memory of `labrunner validate` on each hostile file
#                                                                (YAML and .csx), N times each (default 1): k/N exit 2, no stack trace
#   scripts/reliability.sh hardening [N] [FAULT,...]             N runs of each of issue 9's faults (default 10, all): journal-garble,
#                                                                journal-truncate, journal-unknown-kind, daemon-down-containerd,
#                                                                daemon-down-docker, full-state-dir, disk-fills, stdout-full
#   scripts/reliability.sh sighup [N] [RUNTIME]                  N runs whose terminal is closed at a random moment (default 20, process)
#   scripts/reliability.sh pause-int [N]                         N runs given Ctrl-C at a --pause prompt: exit 130 within 1 s (default 10)
#   scripts/reliability.sh group-int [N] [RUNTIME]               N runs given Ctrl-C to the process group twice (default 10, containerd)
#   scripts/reliability.sh all                                   all of the above
#
# Each prints one line per case and a summary, and exits non-zero if anything leaked, failed or crashed.
# Logs go to $LAB_RELIABILITY_LOGS (default TestResults/reliability/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
LOGS="${LAB_RELIABILITY_LOGS:-$ROOT/TestResults/reliability}"
mkdir -p "$LOGS"
TOOL="$ROOT/tools/LabRunner.Reliability/bin/Release/net10.0/lr-reliability.dll"
CLI="$ROOT/src/LabRunner.Cli/bin/Release/net10.0/labrunner.dll"

case "${1:-}" in
  faults | kills | parallel | consecutive | mutate | hostile | hardening | sighup | pause-int | group-int | all) ;;
  *) sed -n '2,19p' "$0"; exit 2 ;;
esac
if [[ "$(id -u)" -ne 0 ]]; then echo "reliability: run as root (labs create namespaces)" >&2; exit 3; fi
dotnet build "$ROOT/tools/LabRunner.Reliability/LabRunner.Reliability.csproj" -c Release -nologo -v quiet >&2

# `env --default-signal`: started from a non-interactive shell in the background, we would inherit SIGINT ignored.
tool() { env --default-signal=INT,TERM dotnet "$TOOL" "$@"; }

hostile() { # [N]: each file N times (default 1)
  local n="${1:-1}" dir kind path out rc ok i secs kb bad=0
  dir="$(mktemp -d /tmp/lr-hostile-XXXXXX)"
  printf '%-24s %6s %8s %10s  %s\n' kind "exit 2" seconds "peak RSS" "first line of the rejection (last run)"
  while read -r kind path; do
    ok=0
    for ((i = 0; i < n; i++)); do
      out="$(/usr/bin/time -f '%e %M' -o "$dir/time" timeout 60 dotnet "$CLI" validate "$path" --script-timeout 5 2>&1 >/dev/null)" && rc=0 || rc=$?
      read -r secs kb < <(tail -1 "$dir/time") || true
      # exit 2, no runtime stack trace, nothing written (a filter '-w FILE' would write written-by-tcpdump.pcap here)
      if [[ "$rc" == 2 ]] && ! grep -q '^ *at ' <<<"$out" && [[ ! -e "$dir/written-by-tcpdump.pcap" ]]; then ok=$((ok + 1)); fi
    done
    printf '%-24s %6s %8s %7s MB  %s\n' "$kind" "$ok/$n" "$secs" "$((kb / 1024))" "$(head -1 <<<"$out" | cut -c1-110)"
    [[ "$ok" == "$n" ]] || { echo "hostile: $kind: $ok of $n runs exited 2 cleanly (last exit $rc)" >&2; bad=1; }
  done < <(tool hostile --dir "$dir")
  rm -rf "$dir"
  return "$bad"
}

status=0
run() { # name, command...
  local name="$1"; shift
  echo "== $name ($(date -u +%FT%TZ))"
  if "$@" 2>&1 | tee "$LOGS/$name.log"; then :; else status=1; fi
  [[ "${PIPESTATUS[0]}" == 0 ]] || status=1
}

case "${1:-}" in
  faults) shift; run faults tool faults "$@" ;;
  kills) run kills tool kills --runs "${2:-20}" ${3:+--runtime "$3"} ;;
  parallel) run parallel tool parallel --runs "${2:-8}" --runtime "${3:-process}" ;;
  consecutive) run consecutive tool consecutive --runs "${2:-50}" --runtime "${3:-process}" ;;
  mutate) run mutate tool mutate --count "${2:-5000}" --run "${3:-20}" ${4:+--seed "$4"} ;;
  hostile) run hostile hostile "${2:-1}" ;;
  hardening) run hardening tool hardening --runs "${2:-10}" ${3:+--fault "$3"} ;;
  sighup) run sighup tool signals --fault sighup --runs "${2:-20}" --runtime "${3:-process}" ;;
  pause-int) run pause-int tool signals --fault pause-int --runs "${2:-10}" ;;
  group-int) run group-int tool signals --fault group-int --runs "${2:-10}" --runtime "${3:-containerd}" ;;
  all)
    run hostile hostile
    run mutate tool mutate --count 5000 --run 20
    run parallel tool parallel --runs 8
    run consecutive tool consecutive --runs 50
    run kills tool kills --runs 20
    run faults tool faults
    run hardening tool hardening --runs 10
    run sighup tool signals --fault sighup --runs 20
    run pause-int tool signals --fault pause-int --runs 10
    run group-int tool signals --fault group-int --runs 10 --runtime containerd
    ;;
  *) sed -n '2,19p' "$0"; exit 2 ;;
esac
exit "$status"
