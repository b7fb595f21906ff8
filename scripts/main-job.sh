#!/usr/bin/env bash
# Sets up a fresh machine (Debian 12, .NET 10 SDK, root) and runs VipProxy's main job:
# installs the Debian packages, publishes the Native AOT binary to artifacts/bin/vipproxy, validates the
# two-host MyCat configuration (conf/lb1.conf, conf/lb2.conf), and runs `vipproxy demo`: the MyCat hot-standby
# pair built in network namespaces, with queries through the VIP, a failover, a failback and a real server
# taken out by its health check, printed as a timeline. Nothing outside its namespaces is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/publish.sh

echo "== vipproxy check -f conf/lb1.conf"
artifacts/bin/vipproxy check -f conf/lb1.conf
echo "== vipproxy check -f conf/lb2.conf"
artifacts/bin/vipproxy check -f conf/lb2.conf
echo "== vipproxy demo"
artifacts/bin/vipproxy demo
