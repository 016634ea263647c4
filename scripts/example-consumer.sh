#!/usr/bin/env bash
# LabRunner as packages, used the way another repository would use them (CI runs this as a check):
#   1. packs the solution into artifacts/packages: the `labrunner` .NET tool, LabRunner.Core, LabRunner.Scripting,
#      LabRunner.Testing, LabRunner.Xunit;
#   2. installs the tool into a temporary tool path and runs `labrunner --version` and `labrunner validate` on the
#      article (a user's `dotnet tool install --global` puts the same command on PATH);
#   3. restores examples/regression-suite (outside the solution; it references LabRunner.Xunit and LabRunner.Testing
#      as packages only) from those packages into a temporary packages folder, so an older package of the same
#      version in ~/.nuget/packages is never used, builds it and runs its tests.
# As root the example's labs run for real (in sandbox namespaces) and none may be skipped; otherwise they skip.
#
#   scripts/example-consumer.sh [--no-run]      # --no-run: pack, install and build only (touches no namespace)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run=1
[[ "${1:-}" == --no-run ]] && run=""
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work="$(mktemp -d /tmp/lr-consumer-XXXXXX)"
trap 'rm -rf "$work"' EXIT
packages="$ROOT/artifacts/packages"
example="$ROOT/examples/regression-suite"

echo "example-consumer: packing into $packages"
rm -rf "$packages"
dotnet pack "$ROOT/LabRunner.sln" -c Release -o "$packages" --nologo -v quiet
ls "$packages"

echo "example-consumer: the labrunner tool"
dotnet tool install labrunner --tool-path "$work/tools" --add-source "$packages" --version 1.0.0 >/dev/null
"$work/tools/labrunner" --version
"$work/tools/labrunner" validate "$ROOT/scenarios/article/article.yaml"

echo "example-consumer: examples/regression-suite from the packages"
dotnet build "$example/RegressionSuite.csproj" -c Release --nologo -v quiet -p:RestorePackagesPath="$work/nuget-packages" \
  -p:BaseOutputPath="$work/bin/" -p:BaseIntermediateOutputPath="$work/obj/" -p:MSBuildProjectExtensionsPath="$work/obj/"
[[ -z "$run" ]] && { echo "example-consumer: built (not run: --no-run)"; exit 0; }

results="$work/results"
mkdir -p "$results"
set +e
(cd "$work/bin/Release/net10.0" && dotnet RegressionSuite.dll -result-xml "$results/example.xunit.xml")
rc=$?
set -e
summary="$(grep -o '<assembly [^>]*' "$results/example.xunit.xml" | grep -o ' \(total\|passed\|failed\|skipped\)="[0-9]*"' | tr -d '\n')"
echo "example-consumer: tests:$summary (exit $rc)"
((rc == 0)) || exit 1
if [[ "$(id -u)" -eq 0 ]] && grep -q 'skipped="[1-9]' <<<"$summary"; then
  echo "example-consumer: as root no lab may be skipped" >&2
  exit 1
fi
grep -q 'passed="[1-9]' <<<"$summary" || { echo "example-consumer: no test passed" >&2; exit 1; }
