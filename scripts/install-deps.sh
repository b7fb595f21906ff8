#!/usr/bin/env bash
# Installs the Debian packages that VipProxy's tests, demo and benchmarks drive as real peers:
# iproute2 (namespaces, veth, bridge), keepalived and FRR's vrrpd (VRRP interop), MariaDB with galera-4 and
# rsync (real servers, a Galera cluster),
# HAProxy/wrk/iperf3/sysbench/nginx (benchmark peers), nftables (transparent-mode return path, inside test
# namespaces only), prometheus (promtool checks the shipped alert rules), mandoc and lintian (man page and
# package checks). Only missing packages are installed.
set -euo pipefail

packages=(
  iproute2 iputils-ping procps psmisc util-linux
  keepalived frr
  mariadb-server mariadb-client galera-4 rsync
  haproxy nginx-light wrk iperf3 sysbench
  tcpdump gnuplot-nox
  nftables
  prometheus mandoc lintian
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: installing packages needs root (run as root or with sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the packages' own services (mariadb, haproxy, nginx, keepalived, frr) from starting:
  # tests start private instances inside their namespaces.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if ((created_policy)); then rm -f "$policy"; fi
fi
