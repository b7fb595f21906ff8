#!/usr/bin/env bash
# Publishes vipproxy as one Native AOT binary: artifacts/bin/vipproxy.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Native AOT links with clang or, as here, gcc; zlib is needed by the runtime's compression support.
if ! command -v clang >/dev/null && ! command -v gcc >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc
fi
dotnet publish src/VipProxy.Cli -c Release -r linux-x64 -p:PublishAot=true -o artifacts/bin -nologo -v minimal
ls -l artifacts/bin/vipproxy
