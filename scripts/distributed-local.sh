#!/usr/bin/env bash
# `make distributed-local WORKERS=4`: the Kubernetes flow on this machine. One reference backend,
# WORKERS voiceswarm processes each running its share of USERS from a common start time, then
# `voiceswarm report` merging their folders into one exact result.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${WORKERS:-4}
USERS=${USERS:-40}
SPAWN_RATE=${SPAWN_RATE:-8}
RUN_TIME=${RUN_TIME:-30s}
BIN=${BIN:-target/release/voiceswarm}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" serve --port "$port" >/dev/null 2>&1 &
backend=$!
trap 'kill $backend 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
run_id="local-$(date -u +%Y%m%dT%H%M%SZ)"
root="reports/$run_id"
mkdir -p "$root"
start_at=$(( $(date +%s) + 3 ))
echo "Run $run_id: $WORKERS workers, $USERS users in all, against http://127.0.0.1:$port; logs in $root/"
pids=()
for i in $(seq 0 $((WORKERS - 1))); do
  "$BIN" run -H "http://127.0.0.1:$port" -u "$USERS" --spawn-rate "$SPAWN_RATE" -t "$RUN_TIME" \
    --workers "$WORKERS" --worker-index "$i" --run-id "$run_id" --start-at "$start_at" \
    --out "$root/worker-$i" >"$root/worker-$i.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do
  wait "$p" || [ $? -eq 1 ]   # 1 is a missed target: still a result to merge
done
"$BIN" report "$root"/worker-*/ --out "$root/merged"
