#!/usr/bin/env bash
# Installs the system packages LabRunner needs (idempotent).
#
# Only touches apt when something is actually missing; `apt-get update` runs
# at most once, and only when an install is needed. Safe to call on every run.
#
#   scripts/provision.sh            # install what is missing
#   PROVISION_DRY_RUN=1 scripts/provision.sh   # only report what is missing
set -euo pipefail

# package -> a command it provides (empty: check the package only)
declare -A PKG_CMD=(
  [iproute2]=ip
  [iptables]=iptables
  [busybox-static]=busybox
  [util-linux]=unshare
  [tcpdump]=tcpdump
  [bridge-utils]=brctl
)
PKGS=(iproute2 iptables busybox-static util-linux tcpdump bridge-utils)

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

# Commands may live in sbin dirs that are not on a non-root user's PATH.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

missing=()
for pkg in "${PKGS[@]}"; do
  cmd="${PKG_CMD[$pkg]:-}"
  if pkg_installed "$pkg" && { [[ -z "$cmd" ]] || command -v "$cmd" >/dev/null 2>&1; }; then
    continue
  fi
  missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "provision: all system packages present (${PKGS[*]})"
  exit 0
fi

echo "provision: missing packages: ${missing[*]}"

if [[ "${PROVISION_DRY_RUN:-0}" == 1 ]]; then
  echo "provision: dry run, not installing"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "provision: apt-get not found; install manually: ${missing[*]}" >&2
  exit 1
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "provision: not root and sudo not available; install manually: ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
echo "provision: installed ${missing[*]}"
