#!/usr/bin/env bash
# The article (scenarios/article/article.yaml) as a person would script it by hand: the same namespaces, links,
# process-runtime containers, sysctls and iptables policy, one `ip` per operation; the same pings (same argv) and the
# same four captures (tcpdump -w while busybox-2 pings, read back with the same filters). It checks only what it
# must to be a real script: each ping's outcome and each capture's filter (exit 1 and the step if one is wrong).
# No journal, no state checks, no leftover check. The baseline of bench/article-vs-script.sh (docs/PERFORMANCE.md).
#
#   bench/article-script.sh     (root; busybox, iproute2, tcpdump, iptables; keeps nothing)
set -euo pipefail
h="art-$$"            # the lab's "host": a namespace of the script's own, as LabRunner's sandbox
w="${h}_wan"          # the uplink's far side
dir=$(mktemp -d /tmp/lr-article-script-XXXXXX)
pids=()
cleanup() {
  set +e
  ((${#pids[@]})) && kill -KILL "${pids[@]}" 2>/dev/null
  rm -f "/var/run/netns/${pids[0]:-none}" "/var/run/netns/${pids[1]:-none}"
  ip netns delete "$w" 2>/dev/null; ip netns delete "$h" 2>/dev/null; ip netns delete "$h-n1" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "article-script: step $1: $2" >&2; exit 1; }
in_h() { ip netns exec "$h" "$@"; }
# A container as LabRunner's process runtime starts one; its PID once its network namespace exists.
container() {
  ip netns exec "$h" setsid "$@" </dev/null >/dev/null 2>&1 &
  local pid=$! own tries=0; own=$(readlink /proc/self/ns/net)
  until [[ "$(readlink /proc/$pid/exe 2>/dev/null)" == */busybox &&
    "$(readlink /proc/$pid/ns/net 2>/dev/null)" != "$own" ]]; do
    ((++tries < 5000)) || { echo "article-script: container $* did not start" >&2; kill -KILL $pid; exit 1; }
    sleep 0.001
  done
  echo "$pid"
}
ping_ok() { nsenter -t "$1" -n -u -- busybox ping -c 1 -W 1 "$2" >/dev/null || fail "$3" "ping $2 failed"; }
# tcpdump -w on each "PREFIX,WORDS|IFACE|FILE" while the command runs; waits for each to listen first.
capture_while() {
  local specs=$1; shift; local cpids=() spec
  for spec in $specs; do
    IFS='|' read -r prefix iface file <<<"$spec"
    # shellcheck disable=SC2086
    ${prefix//,/ } tcpdump -n -Z root --immediate-mode -U -i "$iface" -w "$dir/$file" 2>"$dir/$file.err" &
    cpids+=($!)
  done
  for spec in $specs; do
    IFS="|" read -r _ iface file <<<"$spec"
    local tries=0
    until grep -q 'listening on' "$dir/$file.err" 2>/dev/null; do
      ((++tries < 5000)) || fail capture "tcpdump on $iface did not start: $(cat "$dir/$file.err")"
      sleep 0.001
    done
  done
  "$@" >/dev/null || true
  kill -INT "${cpids[@]}"; wait "${cpids[@]}" 2>/dev/null || true
}
sees() { [[ -n "$(tcpdump -n -r "$dir/$1" -- "$2" 2>/dev/null)" ]] || fail "$3" "$1 does not show '$2'"; }
never() { [[ -z "$(tcpdump -n -r "$dir/$1" -- "$2" 2>/dev/null)" ]] || fail "$3" "$1 shows '$2'"; }

# 0: the host (sandbox) with its uplink, Docker's FORWARD policy, br_netfilter on
ip netns add "$h"; ip -n "$h" link set lo up; ip netns add "$w"
ip -n "$h" link add name ens3 type veth peer name wan0 netns "$w"
ip -n "$h" addr add 192.168.64.6/24 dev ens3
ip -n "$w" link set wan0 up; ip -n "$h" link set dev ens3 up
in_h iptables -t filter -P FORWARD DROP
in_h sysctl -qw net.bridge.bridge-nf-call-iptables=1
# 1.1-1.6: a namespace, a veth pair, a bridge
ip netns add "$h-n1"
ip -n "$h" link add name veth-1 type veth peer name veth-2
ip -n "$h" link set dev veth-2 up netns "$h-n1"
ip -n "$h" link add name veth-3 type veth peer name veth-1 2>/dev/null && fail 1.3 "a second veth-1 was made"
ip -n "$h" link add name br-0 type bridge
ip -n "$h" link add name veth-3 type veth peer name veth-4
ip -n "$h" link set dev veth-1 master br-0; ip -n "$h" link set dev veth-3 master br-0
ip netns delete "$h-n1"; ip -n "$h" link delete dev veth-3
# 2.1-2.7: busybox-1 on br-0
b1=$(container unshare --net --uts --ipc -- busybox sleep 2147483647); pids+=("$b1")
ip -n "$h" link add name veth-1 type veth peer name veth-2
ip -n "$h" link set dev veth-2 up netns "$b1"
ip -n "$h" link set dev veth-1 master br-0; ip -n "$h" link set dev veth-1 up
ip -n "$h" link set dev br-0 up; ip -n "$h" addr add 172.16.100.1/24 dev br-0
ln -s "/proc/$b1/ns/net" "/var/run/netns/$b1"
in_h ip netns exec "$b1" ip a >/dev/null
in_h ip netns exec "$b1" ip addr add 172.16.100.101/24 dev veth-2
nsenter -t "$b1" -n ip route add default dev veth-2
ping_ok "$b1" 172.16.100.1 2.7; ping_ok "$b1" 192.168.64.6 2.7
# 3.1-3.5: busybox-2 on br-0; br_netfilter and the DROP policy filter bridged ICMP
b2=$(container unshare --net --uts --ipc -- busybox sleep 2147483647); pids+=("$b2")
ip -n "$h" link add name veth-3 type veth peer name veth-4
ip -n "$h" link set dev veth-4 up netns "$b2"; ip -n "$h" link set dev veth-3 up
ln -s "/proc/$b2/ns/net" "/var/run/netns/$b2"
nsenter -t "$b2" -n ip addr add 172.16.100.102/24 dev veth-4
ip -n "$h" link set dev veth-3 master br-0
nsenter -t "$b2" -n -u -- busybox ping -c 2 -W 1 172.16.100.101 >/dev/null && fail 3.2 "the ping answered"
ping_ok "$b2" 172.16.100.1 3.3
capture_while "ip,netns,exec,$h|br-0|c1-br0 nsenter,-t,$b2,-n|veth-4|c1-veth4 nsenter,-t,$b1,-n|veth-2|c1-veth2" \
  nsenter -t "$b2" -n -u -- busybox ping -c 2 -i 0.2 -W 1 172.16.100.101
sees c1-br0 "icmp[icmptype] == icmp-echo and src host 172.16.100.102" 3.5
sees c1-veth4 "icmp[icmptype] == icmp-echo" 3.5
never c1-veth2 icmp 3.5
# 3.7-3.8: br_netfilter off
in_h sysctl -qw net.bridge.bridge-nf-call-arptables=0
in_h sysctl -qw net.bridge.bridge-nf-call-ip6tables=0
in_h sysctl -qw net.bridge.bridge-nf-call-iptables=0
ping_ok "$b2" 172.16.100.101 3.8
capture_while "nsenter,-t,$b1,-n|veth-2|c2-veth2" nsenter -t "$b2" -n -u -- busybox ping -c 2 -i 0.2 -W 1 172.16.100.101
sees c2-veth2 "icmp[icmptype] == icmp-echo" 3.8
sees c2-veth2 "icmp[icmptype] == icmp-echoreply" 3.8
# 4.1-4.2: busybox-3 in busybox-1's network namespace
b3=$(container nsenter -t "$b1" -n -- unshare --uts --ipc -- busybox sleep 2147483647); pids+=("$b3")
ping_ok "$b3" 172.16.100.102 4.2
# teardown: a person's: the containers, their netns links, the namespaces (the kernel takes the links along)
