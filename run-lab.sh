#!/usr/bin/env bash
# LabRunner entry point.
#
#   ./run-lab.sh test [dotnet-test args...]   build (if needed) and run all tests
#   ./run-lab.sh [labrunner args...]          build (if needed) and run labrunner
#
# On every run it installs missing system packages (vagrant/provision.sh, the
# one provisioning script that CI and the VMs run too; a no-op when all are
# present); for `test`, `image` and `run` on the containerd or Docker runtime
# also containerd and Docker, and it starts their daemons if they do not
# answer; for `test` also graphviz and chromium (--tools). It builds the solution in Release only when a build input (*.cs,
# *.csproj, *.props, *.targets, *.json under src/ tests/ scenarios/, or the root
# build files) is newer than the last successful build.
#
# Environment:
#   LAB_SKIP_PROVISION=1   do not run vagrant/provision.sh
#   LAB_FORCE_BUILD=1      always rebuild
#   LAB_TEST_RESULTS=DIR   where `test` writes xUnit XML reports (default: TestResults/)
#   LAB_TEST_TIMEOUT=T     global timeout per test assembly, e.g. 45m (MTP --timeout)
set -euo pipefail

CALLER_PWD="$PWD" # labrunner's file arguments are relative to where the user stands
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

CONFIG=Release
TFM=net10.0
SLN="$ROOT/LabRunner.sln"
CLI_DLL="$ROOT/src/LabRunner.Cli/bin/$CONFIG/$TFM/labrunner.dll"
STAMP="$ROOT/src/LabRunner.Cli/bin/$CONFIG/.lab-build-stamp"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { echo "run-lab: $*" >&2; }

if ! command -v dotnet >/dev/null 2>&1; then
  cat >&2 <<'MSG'
run-lab: the .NET SDK (dotnet) is not installed or not on PATH.
Install the .NET 10 SDK, e.g. on Debian 12:
  wget https://packages.microsoft.com/config/debian/12/packages-microsoft-prod.deb
  sudo dpkg -i packages-microsoft-prod.deb && sudo apt-get update
  sudo apt-get install -y dotnet-sdk-10.0
(on Ubuntu 24.04+: sudo apt-get install -y dotnet-sdk-10.0), or with the install script:
  curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0
  export PATH="$HOME/.dotnet:$PATH"
or, as root, the way CI and the VMs do it (the SDK global.json names, in /usr/share/dotnet):
  bash vagrant/provision.sh --dotnet
MSG
  exit 3
fi

# Whether this command needs the containerd and Docker daemons: `test` (the
# integration tests run every runtime), `image seed` (containerd by default), and
# `run` with --runtime containerd|docker or a lab whose top-level `runtime:` is one,
# and `replay` of a bundle that was run on one of them.
needs_runtimes() {
  local arg prev=""
  case "${1:-}" in
    test | image) return 0 ;;
    run) ;;
    replay)
      # A bug-report bundle says its runtime in bundle.json.
      for arg in "$@"; do
        if [[ -f "$CALLER_PWD/$arg" || ( "$arg" == /* && -f "$arg" ) ]]; then
          (cd "$CALLER_PWD" && tar -xzOf "$arg" --wildcards '*/bundle.json' 2>/dev/null) |
            grep -qE '"Runtime": *"(containerd|docker)"' && return 0
        fi
      done
      return 1 ;;
    *) return 1 ;;
  esac
  for arg in "$@"; do
    case "$arg" in
      --runtime=containerd | --runtime=docker) return 0 ;;
      containerd | docker) [[ "$prev" == --runtime ]] && return 0 ;;
    esac
    if [[ -f "$CALLER_PWD/$arg" || ( "$arg" == /* && -f "$arg" ) ]]; then
      (cd "$CALLER_PWD" && grep -qE '^runtime:[[:space:]]*"?(containerd|docker)"?[[:space:]]*(#.*)?$' -- "$arg") && return 0
    fi
    prev="$arg"
  done
  return 1
}

if [[ "${LAB_SKIP_PROVISION:-0}" != 1 ]]; then
  provision_args=()
  if needs_runtimes "$@"; then provision_args+=(--runtimes); fi
  # The tests draw with Graphviz and look at the HTML report in Chromium (tests/LabRunner.Tests.Browser).
  if [[ "${1:-}" == test ]]; then provision_args+=(--tools); fi
  bash "$ROOT/vagrant/provision.sh" "${provision_args[@]}" >&2
fi

# The test assemblies `dotnet test --no-build` needs (one per tests/*/*.csproj).
test_dlls() {
  local proj
  for proj in "$ROOT"/tests/*/*.csproj; do
    [[ -e "$proj" ]] || continue
    echo "$(dirname "$proj")/bin/$CONFIG/$TFM/$(basename "$proj" .csproj).dll"
  done
}

# All build inputs, one path a line, sorted: root build files plus *.cs,
# *.csproj, *.props, *.targets, *.json under src/ tests/ scenarios/.
build_inputs() {
  local d dirs=()
  find "$ROOT" -maxdepth 1 -type f \
    \( -name 'Directory.*.props' -o -name 'Directory.*.targets' -o -name '*.sln' -o -name '*.slnx' \
       -o -name 'global.json' -o -iname 'nuget.config' \) -print
  for d in src tests scenarios; do
    if [[ -d "$ROOT/$d" ]]; then dirs+=("$ROOT/$d"); fi
  done
  if ((${#dirs[@]})); then
    find "${dirs[@]}" \( -name bin -o -name obj \) -prune -o -type f \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.json' \) -print
  fi
}

# The stamp holds the input list of the last successful build and has the
# mtime of that build's start. Rebuild when an input is newer than the stamp
# or the list changed (a file added, removed or renamed), or outputs are gone.
needs_build() {
  [[ "${LAB_FORCE_BUILD:-0}" == 1 ]] && return 0
  [[ -f "$STAMP" && -f "$CLI_DLL" ]] || return 0
  local dll
  while IFS= read -r dll; do
    [[ -f "$dll" ]] || return 0
  done < <(test_dlls)
  local inputs files
  inputs="$(build_inputs | LC_ALL=C sort)"
  [[ "$inputs" == "$(cat "$STAMP")" ]] || return 0
  mapfile -t files <<<"$inputs"
  [[ -n "$(find "${files[@]}" -maxdepth 0 -newer "$STAMP" -print -quit)" ]]
}

build_solution() {
  log "building $CONFIG (sources changed or no previous build)..."
  # Stamp with the time the build *started*, so edits made during it count.
  local started inputs
  started="$(date '+%Y-%m-%d %H:%M:%S.%N')"
  inputs="$(build_inputs | LC_ALL=C sort)"
  if ! dotnet build "$SLN" -c "$CONFIG" -nologo -v minimal </dev/null >&2; then
    log "build failed"
    exit 1
  fi
  mkdir -p "$(dirname "$STAMP")"
  printf '%s\n' "$inputs" >"$STAMP"
  touch -d "$started" "$STAMP"
}

if needs_build; then
  build_solution
fi

if [[ "${1:-}" == test ]]; then
  shift
  RESULTS="${LAB_TEST_RESULTS:-$ROOT/TestResults}"
  mkdir -p "$RESULTS"
  # Stale reports would be counted again by scripts/count-results.sh.
  find "$RESULTS" -maxdepth 1 -type f \( -name '*.xunit.xml' -o -name '*.trx' \) -delete
  extra=()
  if [[ ! -t 1 ]]; then extra+=(--no-progress --no-ansi); fi
  if [[ -n "${LAB_TEST_TIMEOUT:-}" ]]; then extra+=(--timeout "$LAB_TEST_TIMEOUT"); fi
  exec dotnet test --solution "$SLN" -c "$CONFIG" --no-build \
    --results-directory "$RESULTS" --report-xunit-xml \
    "${extra[@]}" "$@" </dev/null
fi

cd "$CALLER_PWD"
exec dotnet "$CLI_DLL" "$@"
