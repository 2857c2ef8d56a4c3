#!/usr/bin/env bash
# Installs what the test suite needs and this machine lacks, from Debian's packages:
# redis-server (cache tests), chromium + chromium-driver (web UI test), prometheus and
# prometheus-pushgateway (the monitoring exports are tested against them). What the build itself
# needs (pkg-config, libopus-dev) is scripts/install-build-deps.sh's. As root it installs;
# otherwise it prints the one command to run and fails.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v prometheus >/dev/null || missing+=(prometheus)
command -v prometheus-pushgateway >/dev/null || missing+=(prometheus-pushgateway)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
echo "Installing ${missing[*]} (Debian packages) ..."
export DEBIAN_FRONTEND=noninteractive
# The packages would start their services (prometheus on :9090, …); the tests start their own
# on free ports. policy-rc.d forbids service starts while installing, as Debian's images do.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
