#!/usr/bin/env bash
# Runs every VipProxy test: installs what the tests need, builds, runs each test project in turn
# (scenario projects last and alone, so protocol timers are not disturbed by parallel load), and
# ends with one line "N passed, N failed, N skipped". Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh || exit 1

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"

if ! dotnet build VipProxy.sln -c Release -nologo -v minimal; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# Unit and loopback tests first, then the namespace scenarios.
projects=(
  tests/VipProxy.Core.Tests
  tests/VipProxy.Config.Tests
  tests/VipProxy.Vrrp.Tests
  tests/VipProxy.Forwarding.Tests
  tests/VipProxy.HealthChecks.Tests
  tests/VipProxy.Host.Tests
  tests/VipProxy.Scenario.Tests
)

status=0
for project in "${projects[@]}"; do
  [[ -d $project ]] || continue
  name=$(basename "$project")
  echo "=== $name"
  if ! dotnet test "$project" -c Release --no-build -nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
      --results-directory "$results" --blame-hang-timeout 10m; then
    status=1
  fi
done

passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [[ -e $trx ]] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$(value total); executed=$(value executed); p=$(value passed); f=$(value failed)
  errors=$(value error); timeouts=$(value timeout); aborted=$(value aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${errors:-0} + ${timeouts:-0} + ${aborted:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done

# The benchmark harness in --quick mode, so it never rots: it must complete and write its table, JSON and
# chart. The numbers are not judged here (bench/run.sh without --quick is the measurement).
echo "=== bench/run.sh --quick"
bench_results=artifacts/bench-quick
rm -rf "$bench_results"
if bash bench/run.sh --quick --publish --results "$bench_results" \
    && [[ -s $bench_results/latest.md && -s $bench_results/latest.json && -s $bench_results/latest.png ]]; then
  echo "  Passed bench quick run: $(ls "$bench_results" | tr '\n' ' ')"
  passed=$((passed + 1))
else
  echo "  Failed bench quick run"
  failed=$((failed + 1))
fi

# Name every failed test again at the end, where a CI log's tail shows it (the console logger's report is
# thousands of lines up, above the benchmark).
for trx in "$results"/*.trx; do
  [[ -e $trx ]] || continue
  grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*>' "$trx" \
    | sed -n 's/.* testName="\([^"]*\)".*/  failed: \1/p'
done

# A project that crashed before writing its results still failed.
if ((status != 0 && failed == 0)); then failed=1; fi
if ((files == 0)); then failed=$((failed + 1)); fi
echo "$passed passed, $failed failed, $skipped skipped"
((status == 0 && failed == 0))
