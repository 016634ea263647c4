#!/usr/bin/env bash
# Faults of a lab across hosts, measured on the local test bed (docs/RELIABILITY.md, "Labs across hosts"). As root.
#
#   scripts/multihost-faults.sh [N] [controller|connection]    N trials of each fault, or of one (default 10, both)
#
# Faults: (1) the controller killed with kill -9 at a random moment of scenarios/multi-host/host-gw.yaml, then
# `labrunner clean --hosts`; (2) host b's ssh session killed at a random moment (the connection gone for the
# controller; the moment is taken after that session started). A trial is good when, afterwards, every host is as before the trial (links, addresses, routes, named
# namespaces, journals, forwarding) and no ssh socket directory of a controller is left in /tmp. Prints k/n per fault.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-10}"
FAULTS="${2:-controller connection}"
if [[ "$(id -u)" -ne 0 ]]; then echo "multihost-faults: run as root" >&2; exit 3; fi
CLI="$ROOT/src/LabRunner.Cli/bin/Release/net10.0/labrunner.dll"
[[ -f "$CLI" ]] || { echo "multihost-faults: build first (dotnet build LabRunner.sln -c Release)" >&2; exit 3; }
DIR="$(mktemp -d /tmp/lr-faults-XXXXXX)"
BED="$DIR/bed"
LAB="$ROOT/scenarios/multi-host/host-gw.yaml"
cleanup() { bash "$ROOT/scripts/ssh-testbed.sh" down --dir "$BED" >/dev/null 2>&1; rm -rf "$DIR"; }
trap cleanup EXIT
bash "$ROOT/scripts/ssh-testbed.sh" up 2 --dir "$BED" >/dev/null || { echo "multihost-faults: the test bed did not come up" >&2; exit 3; }
INV="$BED/inventory.yaml"

state() {
  local h
  for h in a b; do
    ssh -F "$BED/ssh_config" "$h" -- 'ip -br link | sort; ip -br addr | sort; ip route | sort; echo netns: $(ip netns list); echo journals: $(ls -A /run/labrunner); sysctl -n net.ipv4.ip_forward'
  done
  ls -d /tmp/lr-ssh-* 2>/dev/null
}
baseline="$(state)"

# One trial: run the lab, wait DELAY seconds, do FAULT; then clean --hosts; good if the state is the baseline.
trial() {
  local fault="$1" delay pid client
  delay="$(awk -v r="$RANDOM" 'BEGIN { printf "%.1f", 1 + (r % 70) / 10 }')"
  dotnet "$CLI" run "$LAB" --inventory "$INV" >"$DIR/run.log" 2>&1 &
  pid=$!
  if [[ "$fault" == controller ]]; then
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null
  else
    # b's session: the controller's ssh child whose remote command runs the part on b; killed DELAY-1 s after it started.
    client=""
    for _ in $(seq 200); do
      for c in $(pgrep -P "$pid" -x ssh); do
        if cat "/proc/$c/cmdline" 2>/dev/null | tr '\0' ' ' | grep -q -- "-- b .* part "; then client=$c; fi
      done
      [[ -n "$client" ]] && break
      sleep 0.1
    done
    sleep "$(awk -v d="$delay" 'BEGIN { print d - 1 }')"
    if [[ -z "$client" ]] || ! kill -KILL "$client" 2>/dev/null; then
      { wait "$pid"; } 2>/dev/null
      echo "  $fault: b's session was not found or had ended: not a trial"
      return 2
    fi
  fi
  { wait "$pid"; } 2>/dev/null
  local rc=$?
  sleep 1
  dotnet "$CLI" clean --hosts --inventory "$INV" >"$DIR/clean.log" 2>&1
  local crc=$?
  if [[ "$(state)" == "$baseline" && $crc -eq 0 ]]; then
    echo "  $fault at ${delay}s: run exit $rc, clean exit $crc, nothing left"
    return 0
  fi
  echo "  $fault at ${delay}s: run exit $rc, clean exit $crc, LEFT: $(diff <(echo "$baseline") <(state) | tr '\n' ' ')"
  return 1
}

for fault in $FAULTS; do
  good=0 trials=0
  while ((trials < N)); do
    trial "$fault"
    case $? in
      0) good=$((good + 1)) trials=$((trials + 1)) ;;
      1) trials=$((trials + 1)) ;;
    esac
  done
  echo "multihost-faults: $fault: $good/$N left nothing"
done
