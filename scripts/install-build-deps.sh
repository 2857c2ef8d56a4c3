#!/usr/bin/env bash
# Installs what building voiceswarm needs besides Rust and this machine lacks, from Debian's
# packages: pkg-config and libopus-dev (the Opus codec of WebRTC calls is linked from Debian's
# libopus; nothing is downloaded at build time). As root it installs; otherwise it prints the
# one command to run and fails. `make light` and `make test` run it before cargo.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
[ -e /usr/include/opus/opus.h ] || missing+=(libopus-dev)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Building voiceswarm needs: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
echo "Installing ${missing[*]} (Debian packages, needed to build) ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
