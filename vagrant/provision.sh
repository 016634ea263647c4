#!/usr/bin/env bash
# LabRunner's one provisioning script. run-lab.sh, .ci/run and the Vagrant VMs all
# call it, so a green CI run on a fresh machine proves what `vagrant up` will do.
#
#   vagrant/provision.sh [GROUP...]
#
#   (always)          what labs run with: iproute2 iptables busybox-static util-linux iputils-ping socat
#                     procps tcpdump bridge-utils containernetworking-plugins (cni-add's
#                     plugins, in /usr/lib/cni, not on PATH)       <- run-lab.sh, every run
#   --dotnet          the .NET SDK that global.json names, with Microsoft's dotnet-install
#                     script, into /usr/share/dotnet; only when no `dotnet` exists at all
#   --runtimes        containerd + runc + docker.io, configured to leave this machine's
#                     network alone, and both daemons started (see start_daemon)
#   --tools           graphviz (draws `labrunner graph --format svg` and the HTML report's
#                     pictures), chromium (the report's browser specs, headless) and
#                     openssh-server (scripts/ssh-testbed.sh's hosts; the machine's own ssh
#                     service is never started, and is left disabled)    <- `run-lab.sh test`
#   --vagrant         Debian's vagrant package (CI validates the Vagrantfiles with it)
#   --article-uplink  the article's uplink in this namespace: ens3 192.168.64.6/24, a veth
#                     whose peer wan0 leads nowhere, so `run --host` finds the article's
#                     host (VMs only: it adds links to the machine's own namespace)
#   --all             --dotnet --runtimes --tools --vagrant        <- .ci/run
#   --check           only report what is missing or not running; change nothing
#                     (PROVISION_DRY_RUN=1 does the same)
#
# Idempotent and safe to re-run, also concurrently (one run at a time holds
# /run/lock/labrunner-provision.lock): it installs only what is missing, runs
# `apt-get update` only when it installs, starts only daemons that do not answer,
# and when everything is in place it changes nothing and says so.
#
# Messages go to stderr, each prefixed "provision:". Exit status 0 when everything
# asked for is in place, 1 otherwise (with what went wrong), 2 on a usage error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Commands live in sbin dirs that are not on a non-root user's PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
# needrestart (if installed) would scan and maybe restart services after each install.
export NEEDRESTART_SUSPEND=1

say() { echo "provision: $*" >&2; }
die() { say "$*"; exit 1; }

usage() { sed -n '5,23s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; }

# ---------------------------------------------------------------- arguments
want_dotnet=0 want_runtimes=0 want_tools=0 want_vagrant=0 want_uplink=0
check_only="${PROVISION_DRY_RUN:-0}"
for arg in "$@"; do
  case "$arg" in
    --dotnet) want_dotnet=1 ;;
    --runtimes) want_runtimes=1 ;;
    --tools) want_tools=1 ;;
    --vagrant) want_vagrant=1 ;;
    --article-uplink) want_uplink=1 ;;
    --all) want_dotnet=1 want_runtimes=1 want_tools=1 want_vagrant=1 ;;
    --check) check_only=1 ;;
    -h | --help) usage; exit 0 ;;
    *) say "unknown option '$arg'"; usage; exit 2 ;;
  esac
done

# ---------------------------------------------------------------- packages
# "package:command": the package counts as present when dpkg says it is
# installed and the command is on PATH (or, given as a path, executable there).
BASE_PKGS=(iproute2:ip iptables:iptables busybox-static:busybox util-linux:unshare iputils-ping:/usr/bin/ping
           procps:sysctl tcpdump:tcpdump bridge-utils:brctl conntrack:conntrack socat:socat
           containernetworking-plugins:/usr/lib/cni/bridge)
RUNTIME_PKGS=(containerd:containerd runc:runc docker.io:dockerd curl:curl)
TOOL_PKGS=(graphviz:dot chromium:chromium openssh-client:ssh openssh-server:/usr/sbin/sshd)
VAGRANT_PKGS=(vagrant:vagrant)
# What the .NET SDK needs on Debian 12 (and curl to fetch it), only when installing it.
DOTNET_PKGS=(ca-certificates:update-ca-certificates curl:curl libicu72:)

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

# Appends the packages of the given "package:command" list that are missing to MISSING.
MISSING=()
collect_missing() {
  local entry pkg cmd
  for entry in "$@"; do
    pkg="${entry%%:*}" cmd="${entry#*:}"
    if pkg_installed "$pkg" && { [[ -z "$cmd" ]] || command -v "$cmd" >/dev/null 2>&1; }; then
      continue
    fi
    [[ " ${MISSING[*]} " == *" $pkg "* ]] || MISSING+=("$pkg")
  done
}

# openssh-server starts the machine's own sshd (port 22 in this namespace) when it is installed,
# and enables it for every boot. The test bed runs its own sshds in namespaces; this machine
# gets no ssh service: the install runs under a policy-rc.d that denies every service start
# (one that is already there is kept as it is), and the units are disabled afterwards.
POLICY_RC=/usr/sbin/policy-rc.d
apt_install_no_services() {
  (($#)) || return 0
  local made_policy=0
  if [[ ! -e "$POLICY_RC" ]]; then
    printf '#!/bin/sh\n# vagrant/provision.sh: no service starts while it installs packages\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    made_policy=1
  fi
  local rc=0
  (apt_install "$@") || rc=$?
  if ((made_policy)); then rm -f "$POLICY_RC"; fi
  ((rc == 0)) || exit "$rc"
}

# The machine's ssh service: disabled, and never running because of us (a running one that was
# there before is the machine owner's, and left alone).
ssh_service_enabled() {
  if command -v systemctl >/dev/null 2>&1; then
    systemctl is-enabled --quiet ssh.service 2>/dev/null || systemctl is-enabled --quiet ssh.socket 2>/dev/null
  else
    return 1
  fi
}
disable_ssh_service() {
  ssh_service_enabled || return 0
  systemctl disable ssh.service ssh.socket >&2 {lock_fd}>&- || die "could not disable ssh.service/ssh.socket: systemctl disable ssh.service ssh.socket"
  say "disabled the machine's ssh.service and ssh.socket (the test bed runs its own sshds, in namespaces)"
}

APT_UPDATED=0
apt_install() {
  (($#)) || return 0
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: $*"
  # Wait for a dpkg lock held by someone else instead of failing at once.
  local apt=(apt-get -q -o DPkg::Lock::Timeout=300)
  if ((APT_UPDATED == 0)); then
    say "apt-get update"
    "${apt[@]}" update -qq </dev/null >&2 {lock_fd}>&- || die "apt-get update failed"
    APT_UPDATED=1
  fi
  say "installing $*"
  # (a service a package starts must not inherit our lock: it would hold it for good)
  "${apt[@]}" install -y -qq --no-install-recommends "$@" </dev/null >&2 {lock_fd}>&- || die "apt-get install failed: $*"
  say "installed $*"
}

# ---------------------------------------------------------------- .NET SDK
DOTNET_DIR=/usr/share/dotnet

# The dotnet this machine already has, if any (sudo's secure_path may hide it).
find_dotnet() {
  local candidate
  if command -v dotnet 2>/dev/null; then return 0; fi
  for candidate in /usr/share/dotnet/dotnet /usr/lib/dotnet/dotnet /usr/local/share/dotnet/dotnet \
                   "${HOME:-/root}/.dotnet/dotnet" /root/.dotnet/dotnet; do
    if [[ -x "$candidate" ]]; then echo "$candidate"; return 0; fi
  done
  return 1
}

# Microsoft's apt feed (and Debian's) only carry the 1xx feature band of the SDK, and
# global.json asks for a later band with rollForward latestFeature, which a 1xx SDK
# does not satisfy; dotnet-install.sh --jsonfile installs exactly the SDK global.json
# names. If that version cannot be found, the newest 10.0 SDK is taken instead.
install_dotnet() {
  local script
  script="$(mktemp)"
  say "downloading dotnet-install.sh"
  curl -fsSL --retry 3 https://dot.net/v1/dotnet-install.sh -o "$script" || die "could not download https://dot.net/v1/dotnet-install.sh"
  local common=(--install-dir "$DOTNET_DIR" --no-path)
  if ! { [[ -f "$ROOT/global.json" ]] && bash "$script" --jsonfile "$ROOT/global.json" "${common[@]}" >&2; }; then
    say "the SDK global.json names could not be installed; installing the newest .NET 10 SDK"
    bash "$script" --channel 10.0 "${common[@]}" >&2 || die "dotnet-install.sh failed"
  fi
  rm -f "$script"
  [[ -e /usr/bin/dotnet ]] || ln -s "$DOTNET_DIR/dotnet" /usr/bin/dotnet
  say "installed the .NET SDK $("$DOTNET_DIR/dotnet" --version) in $DOTNET_DIR (/usr/bin/dotnet)"
}

# ---------------------------------------------------------------- daemons
CONTAINERD_SOCK=/run/containerd/containerd.sock
DOCKER_SOCK=/var/run/docker.sock
PID_DIR=/run/labrunner-daemons
START_TIMEOUT="${PROVISION_START_TIMEOUT:-30}" # seconds a daemon may take to answer on its socket

containerd_answers() {
  command -v ctr >/dev/null 2>&1 && [[ -S "$CONTAINERD_SOCK" ]] &&
    timeout 5 ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1
}

dockerd_answers() {
  command -v curl >/dev/null 2>&1 && [[ -S "$DOCKER_SOCK" ]] &&
    [[ "$(curl -fsS --max-time 5 --unix-socket "$DOCKER_SOCK" http://localhost/_ping 2>/dev/null)" == OK ]]
}

systemd_is_init() {
  [[ -d /run/systemd/system && "$(cat /proc/1/comm 2>/dev/null)" == systemd ]]
}

# Docker, left to its defaults, rewrites the network of the machine it runs on: it
# creates docker0 (172.17.0.1/16) with a route, sets net.ipv4.ip_forward=1, adds
# MASQUERADE and DOCKER-* chains and sets the FORWARD policy to DROP. Labs build and
# check their own networking in their own namespaces (the article's host-mode run
# sets FORWARD DROP itself, and expects to find things as the lab left them; a
# docker0 appearing would also show up as a leak in the tests' host snapshots), so
# Docker touches none of it: containers get network "none" and LabRunner wires them.
# These are flags, not /etc/docker/daemon.json: a daemon.json repeating a flag makes
# dockerd refuse to start, and people start dockerd by hand with these flags.
DOCKERD_FLAGS=(--containerd="$CONTAINERD_SOCK" --iptables=false --ip-forward=false --ip-masq=false --bridge=none)
# With systemd, docker.service runs `dockerd -H fd:// --containerd=... $DOCKER_OPTS`
# (Debian's unit); this drop-in sets DOCKER_OPTS (a DOCKER_OPTS set in
# /etc/default/docker still wins). Written before docker.io is installed, because
# on a systemd machine the package starts dockerd at once; inert without systemd.
DOCKER_DROPIN=/etc/systemd/system/docker.service.d/labrunner.conf
DOCKER_DROPIN_TEXT="# Written by LabRunner's vagrant/provision.sh: Docker leaves this machine's network alone.
[Service]
Environment=\"DOCKER_OPTS=${DOCKERD_FLAGS[*]:1}\""

write_docker_dropin() {
  [[ -f "$DOCKER_DROPIN" && "$(cat "$DOCKER_DROPIN")" == "$DOCKER_DROPIN_TEXT" ]] && return 0
  mkdir -p "$(dirname "$DOCKER_DROPIN")"
  printf '%s\n' "$DOCKER_DROPIN_TEXT" >"$DOCKER_DROPIN"
  say "wrote $DOCKER_DROPIN (dockerd ${DOCKERD_FLAGS[*]:1})"
  if systemd_is_init; then systemctl daemon-reload; fi
}

# Running, and not a zombie (a child of ours that died stays one until reaped).
alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ "$state" != Z* ]]
}

# wait_until CHECK [PID]: until CHECK succeeds (0), PID dies (1) or the time is up (2).
wait_until() {
  local check="$1" pid="${2:-}" deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    "$check" && return 0
    if [[ -n "$pid" ]] && ! alive "$pid"; then return 1; fi
    sleep 0.5
  done
  "$check" && return 0
  return 2
}

# start_daemon NAME UNIT CHECK SOCKET COMMAND...: nothing when CHECK says the daemon
# answers on SOCKET. Otherwise with systemd as PID 1, `systemctl enable --now UNIT`;
# without it, COMMAND started detached (setsid + nohup), logging to
# /var/log/labrunner-NAME.log, its PID in /run/labrunner-daemons/NAME.pid. Then it
# waits (START_TIMEOUT) for CHECK. It never stops or kills anything: a daemon that
# runs but does not answer is reported and left alone.
start_daemon() {
  local name="$1" unit="$2" check="$3" socket="$4"
  shift 4
  "$check" && return 0

  if systemd_is_init; then
    systemctl enable --now "$unit" >&2 {lock_fd}>&- || die "systemctl enable --now $unit failed (see: journalctl -u $unit)"
    wait_until "$check" || die "$name did not answer on $socket within ${START_TIMEOUT}s after systemctl start $unit (see: journalctl -u $unit)"
    say "started $name (systemctl enable --now $unit)"
    return 0
  fi

  # One that is already starting (another provisioning run, or a user's) is waited
  # for, not doubled: two daemons on one socket and state directory fight.
  local running
  running="$(pgrep -x "$name" | tr '\n' ' ' || true)"
  if [[ -n "$running" ]]; then
    say "$name is running (PID ${running% }) but does not answer on $socket yet; waiting up to ${START_TIMEOUT}s"
    wait_until "$check" || die "$name (PID ${running% }) runs but does not answer on $socket; it was not started by this run, so it is left alone: check it, or stop it and re-run"
    return 0
  fi

  local log="/var/log/labrunner-$name.log" pid rc=0
  mkdir -p "$PID_DIR"
  # The daemon outlives this script: every descriptor it inherits stays open as long
  # as it runs. Our lock would block the next provisioning run for good, and a
  # caller's pipe (`provision.sh 2>&1 | tee log`) would never see its end. So all but
  # 0-2 are closed, and 0-2 go to /dev/null and the log. The subshell is not a
  # process-group leader (no job control here), so setsid does not fork, and each
  # exec keeps the PID: $! is the daemon itself.
  (
    for fd in /proc/self/fd/*; do
      fd="${fd##*/}"
      if ((fd > 2)); then eval "exec $fd>&-" || true; fi
    done
    exec setsid nohup "$@"
  ) >>"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_DIR/$name.pid"
  wait_until "$check" "$pid" || rc=$?
  case "$rc" in
    0) say "started $name (PID $pid, log $log, pid file $PID_DIR/$name.pid)" ;;
    1) rm -f "$PID_DIR/$name.pid"
       say "$name exited right after starting; the end of $log:"
       tail -n 15 "$log" | sed 's/^/    /' >&2
       die "$name could not be started: $*" ;;
    *) say "$name (PID $pid) runs but did not answer on $socket within ${START_TIMEOUT}s; left running; the end of $log:"
       tail -n 15 "$log" | sed 's/^/    /' >&2
       die "$name is not usable; stop it with: kill $pid" ;;
  esac
}

# ---------------------------------------------------------------- article uplink
UPLINK=ens3 UPLINK_PEER=wan0 UPLINK_ADDR=192.168.64.6/24

uplink_ready() {
  ip -br addr show dev "$UPLINK" 2>/dev/null | grep -qE "^$UPLINK@$UPLINK_PEER +UP .*\b${UPLINK_ADDR//./\\.}\b"
}

setup_uplink() {
  if ip link show dev "$UPLINK" >/dev/null 2>&1 && ! ip link show dev "$UPLINK" | grep -q "^[0-9]*: $UPLINK@$UPLINK_PEER:"; then
    die "$UPLINK exists and is not the article's uplink (a veth with peer $UPLINK_PEER); leaving it alone; run labs with --host --uplink NAME instead"
  fi
  ip link show dev "$UPLINK" >/dev/null 2>&1 || ip link add "$UPLINK" type veth peer name "$UPLINK_PEER"
  ip -br addr show dev "$UPLINK" | grep -q "\b${UPLINK_ADDR//./\\.}\b" || ip addr add "$UPLINK_ADDR" dev "$UPLINK"
  ip link set "$UPLINK_PEER" up
  ip link set "$UPLINK" up
  uplink_ready || die "could not set up $UPLINK $UPLINK_ADDR"
  say "set up the article's uplink $UPLINK $UPLINK_ADDR (veth, peer $UPLINK_PEER)"
}

# ---------------------------------------------------------------- what is to do
groups="base"
((want_dotnet)) && groups+=", dotnet"
((want_runtimes)) && groups+=", runtimes"
((want_tools)) && groups+=", tools"
((want_vagrant)) && groups+=", vagrant"
((want_uplink)) && groups+=", article-uplink"

# Sets MISSING, NEED_DOTNET, NEED_DOCKER_DROPIN, NEED_DAEMONS, NEED_UPLINK, NEED_SSH_DISABLE and TODO.
survey() {
  MISSING=() NEED_DOTNET=0 NEED_DOCKER_DROPIN=0 NEED_DAEMONS=() NEED_UPLINK=0 TODO=()
  collect_missing "${BASE_PKGS[@]}"
  if ((want_runtimes)); then collect_missing "${RUNTIME_PKGS[@]}"; fi
  if ((want_tools)); then collect_missing "${TOOL_PKGS[@]}"; fi
  if ((want_vagrant)); then collect_missing "${VAGRANT_PKGS[@]}"; fi
  if ((want_dotnet)) && ! find_dotnet >/dev/null; then
    NEED_DOTNET=1
    collect_missing "${DOTNET_PKGS[@]}"
  fi
  if ((want_runtimes)); then
    [[ -f "$DOCKER_DROPIN" && "$(cat "$DOCKER_DROPIN")" == "$DOCKER_DROPIN_TEXT" ]] || NEED_DOCKER_DROPIN=1
    containerd_answers || NEED_DAEMONS+=(containerd)
    dockerd_answers || NEED_DAEMONS+=(dockerd)
  fi
  if ((want_uplink)) && ! uplink_ready; then NEED_UPLINK=1; fi
  NEED_SSH_DISABLE=0
  if ((want_tools)) && pkg_installed openssh-server && ssh_service_enabled; then NEED_SSH_DISABLE=1; fi

  if ((${#MISSING[@]})); then TODO+=("install packages: ${MISSING[*]}"); fi
  if ((NEED_DOTNET)); then TODO+=("install the .NET SDK (no dotnet found)"); fi
  if ((NEED_DOCKER_DROPIN)); then TODO+=("write $DOCKER_DROPIN"); fi
  if ((${#NEED_DAEMONS[@]})); then TODO+=("start ${NEED_DAEMONS[*]}"); fi
  if ((NEED_UPLINK)); then TODO+=("set up the article's uplink $UPLINK $UPLINK_ADDR"); fi
  if ((NEED_SSH_DISABLE)); then TODO+=("disable the machine's ssh.service/ssh.socket"); fi
  return 0
}

todo_list() {
  local IFS=';' text
  text="${TODO[*]}"
  echo "${text//;/; }"
}

report_nothing_to_do() {
  local extra=""
  ((want_dotnet)) && extra+="; dotnet: $(find_dotnet)"
  ((want_runtimes)) && extra+="; containerd and dockerd answer"
  ((want_uplink)) && extra+="; $UPLINK $UPLINK_ADDR is up"
  say "nothing to do: all present ($groups)$extra"
}

# A dotnet that is there is used as it is: nothing is downloaded next to it.
if ((want_dotnet)) && dotnet_bin="$(find_dotnet)" && ! (cd "$ROOT" && "$dotnet_bin" --version >/dev/null 2>&1); then
  say "note: $dotnet_bin has no SDK that $ROOT/global.json accepts ($("$dotnet_bin" --list-sdks 2>/dev/null | tr '\n' ' ')); not installing one next to it"
fi

survey
if ((${#TODO[@]} == 0)); then
  report_nothing_to_do
  exit 0
fi
if [[ "$check_only" == 1 ]]; then
  say "would: $(todo_list)"
  say "check only: nothing changed"
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo; as root, run: bash $0 $*"
  say "not root: re-running with sudo"
  exec sudo -- bash "$0" "$@"
fi

# One provisioning run at a time: apt, daemon starts and the uplink are not safe to
# do twice at once. Whatever the run before us did is re-surveyed under the lock.
mkdir -p /run/lock
exec {lock_fd}>/run/lock/labrunner-provision.lock
flock -w 900 "$lock_fd" || die "another provisioning run holds /run/lock/labrunner-provision.lock for more than 15 minutes"
survey
if ((${#TODO[@]} == 0)); then
  report_nothing_to_do
  exit 0
fi

# ---------------------------------------------------------------- doing it
if ((NEED_DOCKER_DROPIN)); then write_docker_dropin; fi
# openssh-server (and whatever else would start a service) under the policy-rc.d guard.
if [[ " ${MISSING[*]} " == *" openssh-server "* ]]; then apt_install_no_services "${MISSING[@]}"; else apt_install "${MISSING[@]}"; fi
if ((want_tools)) && pkg_installed openssh-server; then disable_ssh_service; fi
if ((NEED_DOTNET)); then install_dotnet; fi
if ((want_runtimes)); then
  start_daemon containerd containerd.service containerd_answers "$CONTAINERD_SOCK" containerd
  start_daemon dockerd docker.service dockerd_answers "$DOCKER_SOCK" dockerd "${DOCKERD_FLAGS[@]}"
fi
if ((want_uplink)) && ! uplink_ready; then setup_uplink; fi

survey
if ((${#TODO[@]})); then
  die "still to do after provisioning: $(todo_list)"
fi
say "done ($groups)"
