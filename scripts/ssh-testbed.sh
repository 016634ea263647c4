#!/usr/bin/env bash
# The local test bed for multi-host labs (docs/MULTI-HOST.md): N throwaway "hosts" on this
# machine, each reachable over real OpenSSH, as labrunner's controller reaches real hosts.
#
#   scripts/ssh-testbed.sh up N [--dir DIR] [--uplinks NAME,NAME,...]
#                                               N hosts a, b, c, ... (N = 1..8); the last line on
#                                               stdout is DIR/inventory.yaml's absolute path.
#                                               --uplinks names each host's underlay link (default
#                                               eth0 on every host), as real machines differ
#   scripts/ssh-testbed.sh down [--dir DIR]    remove everything `up` made, by its record in DIR
#                                               (idempotent: nothing there is fine)
#   scripts/ssh-testbed.sh status [--dir DIR]  what exists; exit 0 when the test bed is up and whole
#
#   DIR defaults to /run/lr-testbed. Root only (exit 3 otherwise); usage errors and "a test bed
#   exists already" exit 2; a failed `up` removes what it made and exits 1.
#
# What each part is, and why:
#   - ltb-underlay: a network namespace with bridge br0 (10.99.0.1/24), the hosts' shared LAN. Never
#     the machine's own namespace: the machine gets no link, address or route of ours.
#   - ltb-X per host: a network namespace, lo up, eth0 or --uplinks' name (a veth whose peer sits on br0) with
#     10.99.0.(10+i)/24 (a=.11, b=.12, ...). Created from inside ltb-underlay, so even the veth's
#     first moment is not in the machine's namespace.
#   - its own mount namespace per host (`ip netns exec` makes one, slave of the machine's, and
#     remounts /sys for the netns; `unshare --mount --propagation private` then cuts it loose) with
#     tmpfs on /run/labrunner and /run/netns only: a host's journals and named namespaces are its
#     own, as on a real machine, while the rest of the file system (the labrunner build, /usr, the
#     controller's runtime sockets in /run) is shared. A named namespace deleted on the machine is
#     not pinned by the hosts' copies of its mount: unlinking a mount point detaches it in every
#     mount namespace (Linux >= 3.18).
#   - a real sshd (Debian's openssh-server) per host, in the foreground of that process, with
#     throwaway ed25519 host keys and an sshd_config in DIR/hosts/X: it listens only on the host's
#     address, takes only DIR's client key (root, no passwords, no PAM), writes its PID file in DIR
#     and reads nothing of /etc/ssh. `up` waits until each accepts a login (sftp: no shell, fast). The machine's own ssh service is never started.
#   - DIR/ssh_config: Host a, b, ... with the client key, DIR/known_hosts (from the host keys) and
#     StrictHostKeyChecking yes, BatchMode yes; ProxyCommand `nsenter --net=.../ltb-underlay socat`
#     reaches 10.99.0.0/24 from inside the underlay, because the machine's namespace (where the
#     controller runs) has no route there and must not get one.
#   - DIR/inventory.yaml: the hosts for labrunner; every host runs this checkout's Release build
#     of the CLI (the hosts share this machine's file system). This script does not build it.
#   - DIR/testbed.state: the record `down` works from, written before each thing is made, so a
#     failed or interrupted `up` is undone by the same code.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
PROG="ssh-testbed"
SUBNET=10.99.0
UNDERLAY=ltb-underlay
SSHD=/usr/sbin/sshd
LABRUNNER_DLL="$ROOT/src/LabRunner.Cli/bin/Release/net10.0/labrunner.dll"
LOCK=/run/lock/lr-testbed.lock
READY_TIMEOUT="${LTB_READY_TIMEOUT:-15}" # seconds every sshd gets to accept a connection

say() { echo "$PROG: $*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '5,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

# ---------------------------------------------------------------- arguments
cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  -h | --help | help) usage; exit 0 ;;
  up | down | status) ;;
  "") say "missing command"; usage >&2; exit 2 ;;
  *) say "unknown command '$cmd'"; usage >&2; exit 2 ;;
esac
DIR=/run/lr-testbed N="" UPLINKS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) [[ $# -ge 2 && -n "$2" ]] || { say "--dir needs a directory"; exit 2; }; DIR="$2"; shift 2 ;;
    --dir=*) DIR="${1#--dir=}"; shift ;;
    --uplinks) [[ $# -ge 2 && -n "$2" ]] || { say "--uplinks needs names, e.g. --uplinks eth0,enp0s8"; exit 2; }; UPLINKS="$2"; shift 2 ;;
    --uplinks=*) UPLINKS="${1#--uplinks=}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) if [[ "$cmd" == up && -z "$N" ]]; then N="$1"; shift; else say "unexpected argument '$1'"; usage >&2; exit 2; fi ;;
  esac
done
if [[ "$cmd" == up ]]; then
  [[ "$N" =~ ^[1-8]$ ]] || { say "up needs a host count from 1 to 8 (got '${N:-nothing}'): scripts/ssh-testbed.sh up 2"; exit 2; }
  IFS=, read -r -a UPLINK_NAMES <<<"$UPLINKS"
  if [[ -n "$UPLINKS" ]]; then
    [[ ${#UPLINK_NAMES[@]} -eq $N ]] || { say "--uplinks names ${#UPLINK_NAMES[@]} links for $N hosts: give one per host, e.g. --uplinks eth0,enp0s8"; exit 2; }
    for u in "${UPLINK_NAMES[@]}"; do
      [[ "$u" =~ ^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$ && "$u" != lo ]] || { say "--uplinks: '$u' is not an interface name (a letter, then up to 14 letters, digits, '_', '.', '-')"; exit 2; }
    done
  fi
fi
[[ "$DIR" == /* ]] || DIR="$PWD/$DIR"
DIR="${DIR%/}"
[[ -n "$DIR" && "$DIR" != / ]] || { say "--dir cannot be /"; exit 2; }
STATE="$DIR/testbed.state"

if [[ "$(id -u)" -ne 0 ]]; then
  say "must run as root (it creates network and mount namespaces and runs sshd): sudo $0 $cmd ${N:+$N }--dir $DIR"
  exit 3
fi

HOSTS=(a b c d e f g h)
address_of() { echo "$SUBNET.$((11 + $1))"; }          # host index -> address
ns_exists() { [[ -e "/run/netns/$1" ]]; }
ns_inode() { stat -L -c %i "/run/netns/$1" 2>/dev/null; } # the namespace a name refers to (nsfs inode)
record() { echo "$*" >>"$STATE"; }

# One up/down at a time: the namespace names are machine-wide.
mkdir -p "$(dirname "$LOCK")"
exec {lock_fd}>"$LOCK"
flock -w 60 "$lock_fd" || die "another ssh-testbed.sh holds $LOCK for over 60 s"

# ---------------------------------------------------------------- down
# PIDs of processes inside any of the given network namespace inodes or mount namespace ids.
processes_in() {
  local netinodes="$1" mntids="$2" path ns pid
  # One stat for all (a readlink per process takes seconds), lines "'/proc/PID/ns/net' -> 'net:[INODE]'".
  while read -r path _ ns; do
    pid="${path#\'/proc/}" pid="${pid%%/*}" ns="${ns//\'/}"
    [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
    case "$ns" in
      net:*) ns="${ns#net:[}" ns="${ns%]}"; [[ " $netinodes " == *" $ns "* ]] && echo "$pid" ;;
      mnt:*) [[ " $mntids " == *" $ns "* ]] && echo "$pid" ;;
    esac
    :
  done < <(stat -c %N /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt 2>/dev/null || true) | sort -un
}

# Removes what the record in DIR says was made, newest first; each step tolerates "already gone".
teardown() {
  # Every step runs, whatever one before it met: a half-made or half-removed test bed is the usual case here.
  local -
  set +e +o pipefail
  local quiet="${1:-}"
  [[ -f "$STATE" ]] || return 0
  local kind name pid config mnt namespaces=() netinodes="" mntids="" pids p
  # 1. the sshds: by recorded PID, and only if that PID is still our sshd (its command line has our config).
  while read -r kind name pid config; do
    [[ "$kind" == sshd ]] || continue
    if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$config"; then
      # Its mount namespace is the host's only once it is sshd (not still setsid or ip netns exec in
      # ours): anything else could be the machine's, whose every process is not ours to stop.
      mnt="$(readlink "/proc/$pid/ns/mnt" 2>/dev/null || true)"
      if [[ "$(readlink "/proc/$pid/exe" 2>/dev/null || true)" == "$SSHD" && -n "$mnt" && "$mnt" != "$(readlink /proc/self/ns/mnt)" \
            && "$mnt" != "$(readlink /proc/1/ns/mnt 2>/dev/null || true)" ]]; then
        mntids+=" $mnt"
      fi
      kill -TERM "$pid" 2>/dev/null || true
      [[ -n "$quiet" ]] || say "stopped sshd of host $name (PID $pid)"
    fi
  done <"$STATE"
  while read -r kind name _; do
    [[ "$kind" == netns ]] || continue
    namespaces=("$name" "${namespaces[@]}")
    if ns_exists "$name"; then netinodes+=" $(ns_inode "$name" || true)"; fi
  done <"$STATE"
  # 2. whatever still runs in a host (an ssh session, a command it started) or in the underlay (a
  #    ProxyCommand's socat): it is there because of us, and keeps a namespace alive after its name is gone.
  local deadline=$((SECONDS + 3)) signal=TERM
  while :; do
    pids="$(processes_in "$netinodes" "$mntids")"
    [[ -n "$pids" ]] || break
    if ((SECONDS >= deadline)); then
      [[ "$signal" == KILL ]] && { say "warning: still running in the test bed's namespaces: PIDs $(echo $pids)"; break; }
      signal=KILL deadline=$((SECONDS + 2))
    fi
    for p in $pids; do kill "-$signal" "$p" 2>/dev/null || true; done
    sleep 0.2
  done
  # 3. the namespaces, hosts before the underlay (reverse order of making).
  for name in "${namespaces[@]}"; do
    if ns_exists "$name"; then
      ip netns delete "$name" 2>/dev/null || say "warning: could not delete network namespace $name"
    fi
  done
  # 4. /run/sshd, if we made it and no other sshd needs it.
  #    (An sshd just stopped may stay a zombie a while, until PID 1 reaps it: those need nothing.)
  if grep -qx 'made /run/sshd' "$STATE" && [[ -d /run/sshd ]] \
      && ! ps -e -o stat=,comm= | awk '$2 == "sshd" && $1 !~ /^Z/ {found = 1} END {exit !found}'; then
    rmdir /run/sshd 2>/dev/null || true
  fi
  # 5. the state dir (only ever one that up made, or found empty: the record says so).
  if grep -qx 'made dir' "$STATE"; then rm -rf -- "$DIR"; else rm -f -- "$STATE"; fi
}

leftover_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^ltb-' | tr '\n' ' ' || true; }

if [[ "$cmd" == down ]]; then
  if [[ ! -f "$STATE" ]]; then
    say "no test bed in $DIR: nothing to do"
    others="$(leftover_namespaces)"
    [[ -z "$others" ]] || say "note: namespaces ${others% } exist; they are not in $DIR's record (another --dir?)"
    exit 0
  fi
  teardown
  others="$(leftover_namespaces)"
  [[ -z "$others" ]] || say "note: namespaces ${others% } remain (not in $DIR's record: another --dir?)"
  say "removed the test bed in $DIR"
  exit 0
fi

# ---------------------------------------------------------------- status
if [[ "$cmd" == status ]]; then
  if [[ ! -f "$STATE" ]]; then
    echo "no test bed in $DIR"
    others="$(leftover_namespaces)"
    [[ -z "$others" ]] || echo "namespaces ${others% } exist (another --dir?)"
    exit 1
  fi
  whole=0
  echo "test bed in $DIR"
  [[ -f "$DIR/inventory.yaml" ]] && echo "  inventory:  $DIR/inventory.yaml" || { echo "  inventory:  missing (up did not finish)"; whole=1; }
  echo "  ssh config: $DIR/ssh_config"
  if ns_exists "$UNDERLAY"; then
    echo "  underlay:   netns $UNDERLAY, $(ip -n "$UNDERLAY" -br addr show dev br0 2>/dev/null | awk '{print $1, $2, $3}')"
  else
    echo "  underlay:   netns $UNDERLAY MISSING"; whole=1
  fi
  while read -r kind name pid config; do
    [[ "$kind" == sshd ]] || continue
    up="$(awk -v h="$name" '$1 == h":" {print $6}' "$DIR/inventory.yaml" 2>/dev/null | tr -d ,)"
    addr="$(ip -n "ltb-$name" -br -4 addr show dev "${up:-eth0}" 2>/dev/null | awk '{print $3}')"
    if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$config"; then
      state="sshd PID $pid running"
    else
      state="sshd PID $pid NOT RUNNING"; whole=1
    fi
    ns_exists "ltb-$name" || { state+=", netns ltb-$name MISSING"; whole=1; }
    echo "  host $name:     netns ltb-$name, ${up:-eth0} ${addr:-(no address)}, $state"
  done <"$STATE"
  exit "$whole"
fi

# ---------------------------------------------------------------- up
if [[ -f "$STATE" ]]; then
  say "a test bed exists in $DIR: run 'scripts/ssh-testbed.sh down --dir $DIR' first"
  exit 2
fi
others="$(leftover_namespaces)"
if [[ -n "$others" ]]; then
  say "namespaces ${others% } exist (a test bed with another --dir?): run 'scripts/ssh-testbed.sh down --dir THAT_DIR' first"
  exit 2
fi
if [[ -e "$DIR" && -n "$(ls -A "$DIR" 2>/dev/null)" ]]; then
  say "$DIR exists and is not a test bed's (no testbed.state): give an empty or new --dir"
  exit 2
fi
missing=()
for c in ip ssh sftp ssh-keygen socat nsenter unshare setsid "$SSHD"; do
  command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if ((${#missing[@]})); then
  say "missing: ${missing[*]}; install them with: vagrant/provision.sh --tools (openssh-server, openssh-client, socat, util-linux)"
  exit 3
fi
[[ -f "$LABRUNNER_DLL" ]] || say "note: $LABRUNNER_DLL is not built yet (the inventory names it): dotnet build LabRunner.sln -c Release"

made_dir=0
[[ -d "$DIR" ]] || made_dir=1
mkdir -p "$DIR"
chmod 700 "$DIR"
: >"$STATE"
((made_dir)) && record "made dir"
record "# ssh-testbed.sh up $N, $(date -u +%FT%TZ): what was made, in order; 'down' undoes it"

finished=0 waiting=()
on_exit() {
  local rc=$?
  if ((finished == 0)); then
    trap - EXIT INT TERM
    # Hosts still being waited for would report on their sshd going away below.
    for p in "${waiting[@]}"; do kill "$p" 2>/dev/null || true; done
    say "up failed (exit $rc); removing what it made"
    teardown quiet || true
    exit $((rc == 0 ? 1 : rc))
  fi
}
trap on_exit EXIT
trap 'say "interrupted"; exit 130' INT TERM

# The client's key, authorized on every host.
ssh-keygen -q -t ed25519 -N "" -C "lr-testbed client" -f "$DIR/id_ed25519" </dev/null || die "ssh-keygen failed for the client key"
cp "$DIR/id_ed25519.pub" "$DIR/authorized_keys"

# sshd's privilege separation directory is compiled in (/run/sshd); the package makes it only when
# its service starts, which it never does here.
if [[ ! -d /run/sshd ]]; then
  record "made /run/sshd"
  mkdir -m 755 /run/sshd
fi
# Mount points for the hosts' private /run/labrunner and /run/netns (empty dirs, harmless).
mkdir -p /run/labrunner /run/netns

# The underlay LAN.
record "netns $UNDERLAY"
ip netns add "$UNDERLAY" || die "could not create network namespace $UNDERLAY"
ip -n "$UNDERLAY" link set lo up
ip -n "$UNDERLAY" link add br0 type bridge || die "could not create bridge br0 in $UNDERLAY"
ip -n "$UNDERLAY" addr add "$SUBNET.1/24" dev br0
ip -n "$UNDERLAY" link set br0 up

: >"$DIR/known_hosts"
: >"$DIR/ssh_config"
{
  echo "# written by scripts/ssh-testbed.sh up $N: N hosts on this machine (network + mount namespaces running sshd)"
  echo "ssh-config: $DIR/ssh_config"
  echo "hosts:"
} >"$DIR/inventory.yaml.tmp"

for ((i = 0; i < N; i++)); do
  h="${HOSTS[$i]}" addr="$(address_of "$i")" ns="ltb-${HOSTS[$i]}" hd="$DIR/hosts/${HOSTS[$i]}" up="${UPLINK_NAMES[$i]:-eth0}"
  mkdir -p "$hd"

  record "netns $ns"
  ip netns add "$ns" || die "could not create network namespace $ns"
  ip -n "$ns" link set lo up
  # Made in the underlay, its peer straight into the host: never a link in the machine's namespace.
  ip -n "$UNDERLAY" link add "$ns" type veth peer name "$up" netns "$ns" || die "could not create the veth of host $h"
  ip -n "$UNDERLAY" link set "$ns" master br0
  ip -n "$UNDERLAY" link set "$ns" up
  ip -n "$ns" addr add "$addr/24" dev "$up"
  ip -n "$ns" link set "$up" up

  ssh-keygen -q -t ed25519 -N "" -C "lr-testbed host $h" -f "$hd/ssh_host_ed25519_key" </dev/null || die "ssh-keygen failed for host $h"
  cat >"$hd/sshd_config" <<EOF
# written by scripts/ssh-testbed.sh: host $h of the test bed in $DIR (nothing from /etc/ssh is read)
ListenAddress $addr
Port 22
HostKey $hd/ssh_host_ed25519_key
PidFile $hd/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# DIR may be under a world-writable directory (/tmp): the key files' path checks would refuse it.
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
# A controller gone without a word (its network dropped) is noticed in ~15 s: the session ends, and a lab part
# running in it sees the end of its input and tears down (docs/MULTI-HOST.md recommends the same on real hosts).
ClientAliveInterval 5
ClientAliveCountMax 3
# in sshd itself, no shell: up's readiness check logs in with sftp, which does not pay for root's dotfiles
Subsystem sftp internal-sftp
EOF
  "$SSHD" -t -f "$hd/sshd_config" 2>"$hd/sshd.log" || die "sshd rejects $hd/sshd_config: $(cat "$hd/sshd.log")"

  # sshd in the foreground, in the host's network namespace and a mount namespace of its own. No fork
  # on the way (a script's subshell is not a group leader, so setsid execs; ip netns exec, unshare
  # without --fork and sh's exec all exec): $! is sshd. Descriptors above 2 (our lock) are closed.
  (
    for fd in /proc/self/fd/*; do
      fd="${fd##*/}"
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid ip netns exec "$ns" unshare --mount --propagation private \
      sh -c 'mount -t tmpfs -o mode=755 lr-testbed /run/labrunner && mount -t tmpfs -o mode=755 lr-testbed /run/netns && exec "$0" -D -e -f "$1"' \
      "$SSHD" "$hd/sshd_config"
  ) >>"$hd/sshd.log" 2>&1 </dev/null &
  record "sshd $h $! $hd/sshd_config"

  echo "$h,$addr $(cut -d' ' -f1,2 "$hd/ssh_host_ed25519_key.pub")" >>"$DIR/known_hosts"
  cat >>"$DIR/ssh_config" <<EOF
Host $h
  HostName $addr
  Port 22
  User root
  IdentityFile $DIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $DIR/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  UpdateHostKeys no
  BatchMode yes
  ConnectTimeout 5
  # the machine's namespace has no route to $SUBNET.0/24: connect from inside the underlay
  ProxyCommand nsenter --net=/run/netns/$UNDERLAY socat STDIO TCP:%h:%p

EOF
  echo "  $h: { ssh: $h, uplink: $up, address: $addr, labrunner: \"dotnet $LABRUNNER_DLL\" }" >>"$DIR/inventory.yaml.tmp"
done

# Every sshd accepts a connection (and so the keys, known_hosts and ProxyCommand all work) or up fails.
# The hosts are tried at once, with an sftp login that runs no shell: `ssh HOST true` runs root's login
# shell, and its startup files can take a second (bash reads ~/.bashrc when sshd starts it).
wait_ready() {
  local h="$1" hd="$DIR/hosts/$1" pid out deadline=$((SECONDS + READY_TIMEOUT))
  pid="$(awk -v h="$h" '$1 == "sshd" && $2 == h {print $3}' "$STATE")"
  until out="$(sftp -F "$DIR/ssh_config" -b /dev/null "$h" 2>&1 </dev/null)"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "sshd of host $h (PID $pid) exited; its log $hd/sshd.log says: $(tail -n 5 "$hd/sshd.log")"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      say "host $h does not accept a login (sftp -F $DIR/ssh_config -b /dev/null $h) within ${READY_TIMEOUT}s: $out; sshd log: $(tail -n 5 "$hd/sshd.log")"
      return 1
    fi
    sleep 0.1
  done
}
for ((i = 0; i < N; i++)); do
  wait_ready "${HOSTS[$i]}" &
  waiting+=($!)
done
not_ready=0
for pid in "${waiting[@]}"; do wait "$pid" || not_ready=1; done
((not_ready == 0)) || die "not every host answers over ssh (above)"

mv "$DIR/inventory.yaml.tmp" "$DIR/inventory.yaml"
finished=1
say "up: $N host(s) ${HOSTS[*]:0:N} on $SUBNET.0/24; try: ssh -F $DIR/ssh_config a -- ip -br addr"
echo "$DIR/inventory.yaml"
