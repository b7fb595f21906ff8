#!/usr/bin/env bash
# The long version of the soak scenario (issue 7, "faults, with nothing lost"): the same test code as CI's
# tests/VipProxy.Scenario.Tests/Faults/SoakScenario.cs, with VIPPROXY_SOAK_SECONDS set so that its fault schedule
# (kill -9 and restart of each real server, SIGHUP weight changes on both nodes, cut and restore lb1's link)
# repeats until that much faulted load has run. Prints the stream counts (completed-intact, failed-visibly,
# silently-truncated-or-corrupted), the daemons' fd and RSS before/after, and the test's verdict.
#
#   bench/soak.sh [--minutes N] [--pcap FILE]
#
# --minutes N   faulted load to run (default 10); one round of the schedule takes about 20 s
# --pcap FILE   also capture the client's TCP headers on port 9100 (and ARP) to FILE, for diagnosing bad streams
#
# Needs root (network namespaces), python3 and the packages of scripts/install-deps.sh. The full log goes to
# bench/results/tmp/soak-<UTC timestamp>.log. Exit code: the test's (0 = every verdict held).
set -uo pipefail
cd "$(dirname "$0")/.."

minutes=10
pcap=""
while (($# > 0)); do
  case $1 in
    --minutes) minutes=${2:?--minutes needs a number}; shift 2 ;;
    --pcap) pcap=${2:?--pcap needs a file}; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if ! [[ $minutes =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "error: --minutes takes a number, not '$minutes'" >&2
  exit 2
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "error: the soak builds network namespaces and needs root" >&2
  exit 2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export VIPPROXY_SOAK_SECONDS
VIPPROXY_SOAK_SECONDS=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
if [[ -n $pcap ]]; then
  export VIPPROXY_SOAK_PCAP
  VIPPROXY_SOAK_PCAP=$(realpath -m "$pcap")
fi

mkdir -p bench/results/tmp
log=bench/results/tmp/soak-$(date -u +%Y%m%d-%H%M%S).log
echo "soak: ${minutes} min of faulted load (VIPPROXY_SOAK_SECONDS=$VIPPROXY_SOAK_SECONDS); log: $log"

# The scenario lock: namespace scenarios never run beside each other (scripts/test.sh and the helpers use it too).
# The test's own bound: the load plus LAN start-up, drain and teardown, with room to spare.
limit=$((VIPPROXY_SOAK_SECONDS + 900))
timeout "$limit" flock /tmp/vipproxy-scenarios.lock \
  dotnet test tests/VipProxy.Scenario.Tests -c Release -nologo \
    --filter "FullyQualifiedName~VipProxy.Scenario.Tests.Faults.SoakScenario" \
    --logger "console;verbosity=detailed" >"$log" 2>&1
status=$?

# The figures: the scenario's summary lines, its fault timeline and any stream that did not end intact.
grep -E '^ +(soak:|\[soak )' "$log" | sed 's/^ *//' | awk '!seen[$0]++'
echo "bad streams (first 40):"
grep -E '^ +(Reset|EarlyEof|ConnectFailed|TimedOut|Corrupted) at ' "$log" | sed 's/^ */  /' | awk '!seen[$0]++' | head -40
grep -E '^ +(Passed|Failed) VipProxy' "$log" | sed 's/^ *//' | head -1
if ((status != 0)); then
  echo "soak FAILED (exit $status); see $log"
fi
exit "$status"
