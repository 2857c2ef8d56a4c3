#!/usr/bin/env bash
# Regenerates the speech fixtures in scenarios/audio/ (16 kHz mono 16-bit PCM WAV) with espeak-ng
# and sox from Debian's packages: `apt-get install espeak-ng sox`. The outputs are committed, so
# nothing here runs at load-test time. Output is deterministic for a given espeak-ng version.
set -euo pipefail
cd "$(dirname "$0")/../scenarios/audio"
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "make-audio-fixtures: $tool is missing: apt-get install espeak-ng sox" >&2; exit 2; }
done
# name|transcript
while IFS='|' read -r name text; do
  [ -n "$name" ] || continue
  espeak-ng -v en-us -s 165 -w "/tmp/$name.raw.wav" "$text"
  sox "/tmp/$name.raw.wav" -r 16000 -c 1 -b 16 -e signed-integer "$name.wav"
  rm -f "/tmp/$name.raw.wav"
  printf '%s\n' "$text" > "$name.txt"
  echo "wrote $name.wav ($(soxi -D "$name.wav") s): $text"
done <<'LIST'
opening_hours|What are your opening hours on Saturday?
order_status|Where is my latest order?
reset_password|How do I reset my password?
refund|I would like a refund for my last purchase.
acme_company|Tell me about Acme Corporation.
invoice|When will I get my next invoice?
LIST
