#!/usr/bin/env bash
# Counts the proxy's system calls per small message and direction (issue 13's target: 2, a recv and a send).
#
#   bench/syscalls.sh [--vipproxy PATH] [--connections N] [--round-trips N] [--size BYTES] [--threads N] [--log on|off]
#                     [--haproxy]
#
# Runs the published vipproxy (or, with --haproxy, HAProxy 2.6 at its defaults) on loopback in front of a small echo
# server, attaches `strace -c -f` to the proxy while a client makes N request/response round trips of SIZE bytes
# on each of the connections, and divides the proxy's recv/send/splice calls by the messages it relayed (2 per round
# trip: the request upstream, the response downstream). epoll_wait is reported on its own: it is shared by every
# ready descriptor of a wakeup, so under load it costs less than one call per message. Loopback only (127.0.0.1);
# needs strace and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=artifacts/bin/vipproxy
connections=20
round_trips=2000
size=100
threads=1
log=on
haproxy=0
while (($#)); do
  case $1 in
    --vipproxy) binary=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --round-trips) round_trips=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --haproxy) haproxy=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

for tool in strace python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool is needed (apt-get install $tool)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/vipproxy-syscalls.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
echo_port=$(free_port)
proxy_port=$(free_port)

# The echo server: answers every read with the same bytes.
cat >"$work/echo.py" <<'EOF'
import asyncio, sys
async def handle(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    async with server:
        await server.serve_forever()
asyncio.run(main())
EOF

# The client: CONNECTIONS connections, each ROUND_TRIPS round trips of SIZE bytes, one outstanding at a time.
cat >"$work/client.py" <<'EOF'
import asyncio, sys, time
port, conns, trips, size = map(int, sys.argv[1:5])
async def one():
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = b"x" * size
    for _ in range(trips):
        writer.write(payload)
        await writer.drain()
        got = 0
        while got < size:
            chunk = await reader.read(size - got)
            if not chunk:
                raise SystemExit("connection closed early")
            got += len(chunk)
    writer.close()
    await writer.wait_closed()
async def main():
    await asyncio.gather(*(one() for _ in range(conns)))
start = time.monotonic()
asyncio.run(main())
print(f"{conns * trips / (time.monotonic() - start):.0f} round trips/s", file=sys.stderr)
EOF

python3 "$work/echo.py" "$echo_port" & pids+=($!)

if ((haproxy)); then
  cat >"$work/haproxy.cfg" <<EOF
global
    maxconn 4000
defaults
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m
listen echo
    bind 127.0.0.1:$proxy_port
    server rs1 127.0.0.1:$echo_port
EOF
  PATH="$PATH:/usr/sbin" haproxy -db -f "$work/haproxy.cfg" >"$work/proxy.log" 2>&1 & pids+=($!)
  proxy_pid=$!
  name="HAProxy (defaults)"
else
  [[ -x $binary ]] || { echo "error: $binary not found: run scripts/publish.sh" >&2; exit 2; }
  cat >"$work/vipproxy.conf" <<EOF
global_defs {
    forwarder_threads $threads
    log_connections $log
}
virtual_server 127.0.0.1 $proxy_port {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 $echo_port {
        weight 1
    }
}
EOF
  "$binary" run -f "$work/vipproxy.conf" --socket "$work/vipproxy.sock" --node-id syscalls >"$work/proxy.log" 2>&1 & pids+=($!)
  proxy_pid=$!
  name="VipProxy (forwarder_threads $threads, log_connections $log)"
fi

for _ in $(seq 100); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$proxy_port),1).close()" 2>/dev/null && break
  sleep 0.1
done

# Warm up (code paths, pools), then count.
python3 "$work/client.py" "$proxy_port" "$connections" 50 "$size" 2>/dev/null
strace -c -f -q -p "$proxy_pid" -o "$work/strace.txt" & strace_pid=$!
sleep 1
python3 "$work/client.py" "$proxy_port" "$connections" "$round_trips" "$size" 2>"$work/client.txt"
sleep 0.5
kill -INT "$strace_pid"
wait "$strace_pid" 2>/dev/null || true

messages=$((connections * round_trips * 2))
python3 - "$work/strace.txt" "$messages" "$name" "$(cat "$work/client.txt")" "$connections" "$round_trips" "$size" <<'EOF'
import sys, re
path, messages, name, rate, conns, trips, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
calls = {}
for line in open(path):
    parts = line.split()
    if len(parts) >= 5 and parts[-1].isidentifier() and parts[-1] != "total" and parts[0][0].isdigit():
        calls[parts[-1]] = int(parts[3])
data = sum(calls.get(c, 0) for c in ("recvfrom", "recvmsg", "read", "sendto", "sendmsg", "write", "splice"))
print(f"{name}: {conns} connections x {trips} round trips of {size} B = {messages} messages relayed ({rate} under strace)")
print(f"  data syscalls (recv/send/read/write/splice) per message and direction: {data / messages:.2f}")
for c, n in sorted(calls.items(), key=lambda item: -item[1])[:10]:
    print(f"    {c:16} {n:9d}  {n / messages:.3f} per message")
print(f"  all syscalls per message: {sum(calls.values()) / messages:.2f}")
EOF
