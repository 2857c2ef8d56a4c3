#!/usr/bin/env bash
# Creates the project-local virtual environment .venv/ (at the repo root) and installs the pinned
# Python test-fixture requirements (tests/fixtures/requirements.txt: Pipecat, FastAPI, uvicorn,
# websockets, aiortc) into it. Idempotent: a stamp file in .venv records the SHA-256 of the requirements
# file; when it matches and the venv's interpreter runs, the script exits at once (~0.1 s).
#
#   scripts/install-python-fixtures.sh            # install or verify
#   FORCE=1 scripts/install-python-fixtures.sh    # reinstall the requirements
#   PYTHON=python3.12 scripts/install-python-fixtures.sh
#
# When `python3 -m venv` is unavailable (Debian without python3-venv) and we are root, it installs
# python3-venv from Debian's packages (apt-get update once, then apt-get install). Prints the
# venv's python path on its last line.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
req="$root/tests/fixtures/requirements.txt"
stamp="$venv/.fixtures-stamp"
py="${PYTHON:-python3}"

command -v "$py" >/dev/null || { echo "install-python-fixtures: $py not found" >&2; exit 2; }
[ -f "$req" ] || { echo "install-python-fixtures: missing $req" >&2; exit 2; }

want="$(sha256sum "$req" | cut -d' ' -f1)"
# A venv whose interpreter is gone (e.g. the Python it was made from was removed) is rebuilt.
venv_ok=false
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c '' >/dev/null 2>&1; then venv_ok=true; fi
if [ -z "${FORCE:-}" ] && $venv_ok && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi

if ! $venv_ok; then
  rm -rf "$venv"
  # Debian's python3 has the venv module but not ensurepip's wheels without python3-venv, so the
  # test is whether a venv can actually be made.
  if ! "$py" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    if [ "$(id -u)" -ne 0 ]; then
      echo "install-python-fixtures: '$py -m venv' fails. Install venv support with:" >&2
      echo "  sudo apt-get update && sudo apt-get install -y python3-venv" >&2
      exit 2
    fi
    echo "install-python-fixtures: installing python3-venv (Debian package) ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    "$py" -m venv "$venv"
  fi
fi

rm -f "$stamp"
start=$(date +%s)
echo "install-python-fixtures: pip install -r tests/fixtures/requirements.txt into .venv (takes a minute or two) ..." >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
# A quick import check, so a broken install is not stamped as good.
"$venv/bin/python" -c 'import pipecat, fastapi, uvicorn, websockets, onnxruntime
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketTransport
from pipecat.audio.vad.silero import SileroVADAnalyzer
import aiortc, av' >&2
echo "$want" > "$stamp"
echo "install-python-fixtures: done in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1))" >&2
echo "$venv/bin/python"
