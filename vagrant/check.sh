#!/usr/bin/env bash
# Checks the Vagrantfiles without starting a VM (CI runs it; needs no provider).
#
#   vagrant/check.sh
#
# 1. Ruby syntax of vagrant/Vagrantfile, vagrant/multi/Vagrantfile and
#    vagrant/labrunner.rb (`ruby -c`).
# 2. `vagrant validate --ignore-provider` of the single VM and of the multi-machine
#    variant with 2 and with 3 VMs: Vagrant loads each file and checks every
#    setting (an unknown or misspelt one fails). --ignore-provider because no
#    provider (libvirt, VirtualBox) is installed where CI runs; the provider
#    blocks are then only syntax-checked. Vagrant's state and home go to a
#    temporary directory, so the check leaves nothing behind.
#
# Without vagrant (install it with `vagrant/provision.sh --vagrant`) only step 1
# runs, and it says so. Exit status: 0 all checks passed, 1 otherwise.
set -uo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FILES=("$DIR/Vagrantfile" "$DIR/multi/Vagrantfile" "$DIR/labrunner.rb")

say() { echo "vagrant-check: $*" >&2; }
indent() { local line; while IFS= read -r line; do echo "    $line" >&2; done <<<"$1"; }

failed=0
ruby_bin="$(command -v ruby || true)"
# Debian's vagrant package runs on the system Ruby; anything else ships its own.
if [[ -z "$ruby_bin" && -x /opt/vagrant/embedded/bin/ruby ]]; then ruby_bin=/opt/vagrant/embedded/bin/ruby; fi

if [[ -n "$ruby_bin" ]]; then
  for f in "${FILES[@]}"; do
    if out="$("$ruby_bin" -wc "$f" 2>&1)" && [[ "$out" == "Syntax OK" ]]; then
      say "ruby -wc ${f#"$DIR"/}: ok"
    else
      say "ruby -wc ${f#"$DIR"/}: FAILED"
      indent "$out"
      failed=1
    fi
  done
else
  say "no ruby: Ruby syntax not checked"
  failed=1
fi

if ! command -v vagrant >/dev/null 2>&1; then
  say "vagrant is not installed (vagrant/provision.sh --vagrant installs it): only the Ruby syntax was checked"
  exit "$failed"
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export VAGRANT_HOME="$scratch/home" VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_NO_COLOR=1

# validate NAME DIR [VAR=VALUE...]: vagrant validate in DIR with the environment given.
validate() {
  local name="$1" dir="$2" out
  shift 2
  if out="$(cd "$dir" && env VAGRANT_DOTFILE_PATH="$scratch/dot-${name// /-}" "$@" \
              timeout 300 vagrant validate --ignore-provider --no-tty </dev/null 2>&1)"; then
    say "vagrant validate ($name): ok"
  else
    say "vagrant validate ($name): FAILED"
    indent "$out"
    failed=1
  fi
}

say "$(vagrant --version 2>/dev/null)"
validate "single VM" "$DIR"
validate "multi, 2 VMs" "$DIR/multi" LABRUNNER_VMS=2
validate "multi, 3 VMs" "$DIR/multi" LABRUNNER_VMS=3

exit "$failed"
