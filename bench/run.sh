#!/usr/bin/env bash
# Runs the VipProxy benchmark: direct path vs HAProxy 2.6 (with and without splice-auto) vs the published
# vipproxy binary, interleaved in rounds, inside network namespaces. Needs root. Results go to bench/results/.
#
#   bench/run.sh [--quick] [--rounds N] [--only WORKLOAD[,…]] [--contenders NAME[,…]] [--duration S]
#                [--idle-connections N] [--vipproxy PATH] [--publish]
#
# --publish first runs scripts/publish.sh (Native AOT, ~1 min) so the vipproxy contender is the current source;
# every other option is the harness's own (bench/run.sh --help).
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "error: the benchmark builds network namespaces and needs root" >&2
  exit 2
fi

publish=0
args=()
for argument in "$@"; do
  if [[ $argument == --publish ]]; then publish=1; else args+=("$argument"); fi
done

# The tools the harness drives; scripts/install-deps.sh installs them all.
missing=()
for tool in ip haproxy keepalived nginx wrk iperf3 sysbench mariadbd mariadb-install-db mariadb gnuplot ss; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  echo "error: missing tools: ${missing[*]} (run scripts/install-deps.sh; gnuplot: apt-get install gnuplot-nox)" >&2
  exit 2
fi
export PATH="$PATH:/usr/sbin:/sbin"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ((publish)); then
  bash scripts/publish.sh || exit 1
fi

# A vipproxy binary older than the source measures code that no longer exists: say so loudly.
binary=artifacts/bin/vipproxy
if [[ -x $binary ]] && [[ -n $(find src -newer "$binary" \( -name '*.cs' -o -name '*.csproj' \) -print -quit) ]]; then
  echo "warning: $binary is older than src/ — run bench/run.sh --publish to measure the current code" >&2
fi

if ! dotnet build bench/VipProxy.Bench -c Release -nologo -v quiet; then
  echo "error: building bench/VipProxy.Bench failed" >&2
  exit 1
fi

# The harness runs in the background so that this script can forward Ctrl-C and SIGTERM to it as SIGTERM: it
# then tears the namespaces down and writes the figures measured so far.
bench/VipProxy.Bench/bin/Release/net10.0/VipProxy.Bench "${args[@]}" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' INT TERM
status=0
while true; do
  wait "$pid"
  status=$?
  # wait returns early (status > 128) when a trapped signal arrives; keep waiting while the harness cleans up.
  kill -0 "$pid" 2>/dev/null || break
done

# Belt and braces: should the harness have died without its teardown (SIGKILL), remove the namespaces it made.
# They carry its pid in their name ("vpt<pid>xx-host"); the next run's sweep would also catch them.
for namespace in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^vpt${pid}[a-z][a-z]-" || true); do
  echo "removing leftover namespace $namespace" >&2
  for process in $(ip netns pids "$namespace" 2>/dev/null); do kill -KILL "$process" 2>/dev/null; done
  ip netns delete "$namespace" 2>/dev/null || true
done

exit "$status"
