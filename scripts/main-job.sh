#!/usr/bin/env bash
# Sets up a fresh machine (Debian 12, .NET 10 SDK, root) and runs VipProxy's main job:
# installs the Debian packages, publishes the Native AOT binary to artifacts/bin/vipproxy,
# and validates the two-host MyCat hot-standby configuration (conf/lb1.conf, conf/lb2.conf).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/publish.sh

echo "== vipproxy check -f conf/lb1.conf"
artifacts/bin/vipproxy check -f conf/lb1.conf
echo "== vipproxy check -f conf/lb2.conf"
artifacts/bin/vipproxy check -f conf/lb2.conf
