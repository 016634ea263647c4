#!/usr/bin/env bash
# The star lab: one bridge, N process-runtime containers each with a veth pair and an address, every container
# pings the gateway, full teardown. LabRunner against two shell scripts doing the same kernel work, interleaved in
# one run so that machine noise hits all alike (docs/PERFORMANCE.md, issue 11):
#   shell-ip     one `ip` (or nsenter) per operation, containers started as the process runtime starts them
#                (`unshare --net --uts --ipc -- busybox sleep`), each pings once, a person's teardown: kill the
#                containers, delete the two namespaces
#   shell-batch  the kernel's floor: the same namespaces and links made by `ip -batch`, one per phase (host side:
#                one batch; each container's side: one batch in it, as `ip -batch` has no per-line namespace);
#                named namespaces instead of processes; no pings; teardown one batch of `netns delete`
# LabRunner runs once per driver in LABRUNNER_DRIVERS (default: "netlink iproute2"; the environment variable
# LABRUNNER_DRIVER selects it). Prints, per side, the median wall time, CPU (user+sys), max RSS, LabRunner's
# phases (set-up, build, pings, teardown: from its --format json events) and the ratios to both shells.
#
#   bench/star.sh N [REPS]      (root; build first with ./run-lab.sh; REPS default 3; keeps nothing)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:?usage: bench/star.sh N [REPS]}"
reps="${2:-3}"
drivers="${LABRUNNER_DRIVERS:-netlink iproute2}"
dll=src/LabRunner.Cli/bin/Release/net10.0/labrunner.dll
if [[ "$(id -u)" -ne 0 ]]; then echo "star: run as root (the lab creates namespaces)" >&2; exit 3; fi
[[ -f "$dll" ]] || { echo "star: build first (./run-lab.sh validate scenarios/article/article.yaml)" >&2; exit 3; }
[[ -x /usr/bin/time ]] || { echo "star: needs GNU time: apt-get install -y time" >&2; exit 3; }
work=$(mktemp -d /tmp/lr-star-XXXXXX)
# The neighbour table is one for the machine (gc_thresh3, 1024 by default): N containers pinging need about 2N entries.
# Above the limit both sides' pings fail or wait (LabRunner warns so), which measures the table, not the tools: the
# limits are raised for the run and put back at the end (BENCH_KEEP_NEIGH=1 leaves them as they are).
neigh=/proc/sys/net/ipv4/neigh/default
old_limits=$(cat $neigh/gc_thresh1 $neigh/gc_thresh2 $neigh/gc_thresh3 | tr '\n' ' ')
restore() {
  read -r t1 t2 t3 <<<"$old_limits"
  echo "$t3" >$neigh/gc_thresh3; echo "$t2" >$neigh/gc_thresh2; echo "$t1" >$neigh/gc_thresh1
}
trap 'restore; rm -rf "$work"' EXIT
if ((2 * n + 256 > $(cat $neigh/gc_thresh3))) && [[ -z "${BENCH_KEEP_NEIGH:-}" ]]; then
  limit=$(((2 * n + 256) * 2))
  echo "star: raising the neighbour table's limits to gc_thresh1/2/3 = $((limit / 4)) $((limit / 2)) $limit for the run (were: $old_limits)"
  echo $limit >$neigh/gc_thresh3; echo $((limit / 2)) >$neigh/gc_thresh2; echo $((limit / 4)) >$neigh/gc_thresh1
fi

# Container i's address: 10.0.X.Y/16 beside the gateway 10.0.0.1 on br0.
addr() { echo "10.0.$(($1 / 250 + 1)).$(($1 % 250 + 1))"; }

# ---- the lab ----
{
  echo "lab: star-$n"
  echo "description: one bridge, $n containers on it, each pings the gateway (bench/star.sh)"
  echo "steps:"
  echo "  - title: the bridge"
  echo "    actions:"
  echo "      - bridge-add: br0"
  echo "      - address-add: { dev: br0, address: 10.0.0.1/16 }"
  echo "      - link-up: br0"
  echo "  - title: the containers, $n of them"
  echo "    actions:"
  for ((i = 1; i <= n; i++)); do
    echo "      - container-run: c$i"
    echo "      - veth-add: { name: v$i, peer: e$i, peer-in: c$i }"
    echo "      - bridge-attach: { bridge: br0, link: v$i }"
    echo "      - link-up: v$i"
    echo "      - address-add: { dev: e$i, address: $(addr "$i")/16, in: c$i }"
    echo "      - link-up: { name: e$i, in: c$i }"
  done
  echo "  - title: every container reaches the gateway"
  echo "    expect:"
  for ((i = 1; i <= n; i++)); do echo "      - ping: { from: c$i, to: 10.0.0.1 }"; done
} >"$work/star.yaml"
dotnet "$dll" validate "$work/star.yaml" >/dev/null

# ---- the shells ----
cat >"$work/shell-ip.sh" <<EOF
#!/usr/bin/env bash
# one ip per operation; containers as the process runtime starts them
set -u
h=lrs\$\$ w=lrs\$\$_wan
ip netns add \$h; ip netns add \$w
ip -n \$h link add name ens3 type veth peer name wan0 netns \$w
ip -n \$h addr add 192.168.64.6/24 dev ens3; ip -n \$h link set ens3 up; ip -n \$w link set wan0 up; ip -n \$h link set lo up
ip -n \$h link add name br0 type bridge; ip -n \$h addr add 10.0.0.1/16 dev br0; ip -n \$h link set dev br0 up
pids=()
for ((i = 1; i <= $n; i++)); do
  setsid unshare --net --uts --ipc -- busybox sleep 2147483647 </dev/null >/dev/null 2>&1 &
  pid=\$!; pids+=(\$pid)
  # until unshare has made its namespace (a builtin test: same device and inode), or the veth would land in ours
  while [[ ! -e /proc/\$pid/ns/net || /proc/\$pid/ns/net -ef /proc/self/ns/net ]]; do :; done
  ip -n \$h link add name v\$i type veth peer name e\$i netns \$pid
  ip -n \$h link set dev v\$i master br0
  ip -n \$h link set dev v\$i up
  nsenter -t \$pid -n ip addr add \$(a=\$i; echo "10.0.\$((a / 250 + 1)).\$((a % 250 + 1))")/16 dev e\$i
  nsenter -t \$pid -n ip link set dev e\$i up
done
i=0
for pid in "\${pids[@]}"; do
  i=\$((i + 1))
  nsenter -t \$pid -n busybox ping -c 1 -W 5 10.0.0.1 >/dev/null || echo "shell-ip: c\$i got no answer" >&2
done
kill -KILL "\${pids[@]}"; wait 2>/dev/null
ip netns delete \$w; ip netns delete \$h
EOF

cat >"$work/shell-batch.sh" <<EOF
#!/usr/bin/env bash
# the kernel's floor: ip -batch per phase, named namespaces for containers, no pings
set -u
d=\$(mktemp -d /tmp/lr-star-batch-XXXXXX); trap 'rm -rf "\$d"' EXIT
h=lrb\$\$ w=lrb\$\$_wan
{ echo "netns add \$h"; echo "netns add \$w"; for ((i = 1; i <= $n; i++)); do echo "netns add lrb\$\$-c\$i"; done; } >\$d/ns
ip -batch \$d/ns
{
  echo "link add name ens3 type veth peer name wan0 netns \$w"; echo "addr add 192.168.64.6/24 dev ens3"; echo "link set ens3 up"; echo "link set lo up"
  echo "link add name br0 type bridge"; echo "addr add 10.0.0.1/16 dev br0"; echo "link set dev br0 up"
  for ((i = 1; i <= $n; i++)); do
    echo "link add name v\$i type veth peer name e\$i netns lrb\$\$-c\$i"; echo "link set dev v\$i master br0"; echo "link set dev v\$i up"
  done
} >\$d/host
ip -n \$h -batch \$d/host
for ((i = 1; i <= $n; i++)); do
  printf 'addr add %s/16 dev e%s\nlink set dev e%s up\n' "10.0.\$((i / 250 + 1)).\$((i % 250 + 1))" \$i \$i | ip -n lrb\$\$-c\$i -batch -
done
ip -n \$w link set wan0 up
{ for ((i = 1; i <= $n; i++)); do echo "netns delete lrb\$\$-c\$i"; done; echo "netns delete \$w"; echo "netns delete \$h"; } >\$d/del
ip -batch \$d/del
EOF

# ---- runs, interleaved ----
measure() { # name, argv...: appends "wall cpu rss" to $work/NAME.times
  local name=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$work/t" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
    echo "star: $name failed (exit $?):" >&2; tail -5 "$work/$name.err" "$work/$name.out" >&2; exit 1; }
  awk '{ printf "%s %.2f %d\n", $1, $2 + $3, $4 }' "$work/t" >>"$work/$name.times"
}
phases() { # NDJSON events -> "setup build pings teardown" seconds
  python3 - "$1" <<'PY'
import json, sys
from datetime import datetime
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
t = lambda e: datetime.fromisoformat(e['time'].replace('Z', '+00:00')).timestamp()
start = t(ev[0])
steps = [e for e in ev if e['event'] in ('step-started', 'step-finished')]
down = [e for e in ev if e['event'] in ('teardown-started', 'teardown-finished')]
s = [t(e) for e in steps]
print(f"{s[0] - start:.2f} {s[3] - s[2]:.2f} {s[5] - s[4]:.2f} {t(down[1]) - t(down[0]):.2f}")
PY
}
for ((r = 1; r <= reps; r++)); do
  for driver in $drivers; do
    LABRUNNER_DRIVER=$driver measure "labrunner-$driver" dotnet "$dll" run "$work/star.yaml" --format json
    phases "$work/labrunner-$driver.out" >>"$work/labrunner-$driver.phases"
  done
  measure shell-ip bash "$work/shell-ip.sh"
  measure shell-batch bash "$work/shell-batch.sh"
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$2" '{print $c}' "$work/$1" | median; }
ip_wall=$(col shell-ip.times 1) batch_wall=$(col shell-batch.times 1)
echo "star lab, N=$n, median of $reps interleaved runs ($(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)):"
printf '%-20s %8s %8s %8s %9s %9s   %s\n' side wall cpu "rss MB" "/shell-ip" "/batch" "phases: set-up build pings teardown (s)"
for driver in $drivers; do
  name=labrunner-$driver
  wall=$(col "$name.times" 1)
  printf '%-20s %7.2fs %7.2fs %8d %9.2f %9.1f   %s\n' "$name" "$wall" "$(col "$name.times" 2)" "$(($(col "$name.times" 3) / 1024))" \
    "$(echo "$wall / $ip_wall" | bc -l)" "$(echo "$wall / $batch_wall" | bc -l)" \
    "$(for c in 1 2 3 4; do col "$name.phases" $c; done | tr '\n' ' ')"
done
for name in shell-ip shell-batch; do
  wall=$(col "$name.times" 1)
  printf '%-20s %7.2fs %7.2fs %8d %9.2f %9.1f\n' "$name" "$wall" "$(col "$name.times" 2)" "$(($(col "$name.times" 3) / 1024))" \
    "$(echo "$wall / $ip_wall" | bc -l)" "$(echo "$wall / $batch_wall" | bc -l)"
done
if grep -q 'got no answer' "$work/shell-ip.err"; then echo "(shell-ip: $(grep -c 'got no answer' "$work/shell-ip.err") pings unanswered over all runs)"; fi
