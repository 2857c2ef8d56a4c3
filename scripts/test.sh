#!/usr/bin/env bash
# `make test`, what CI runs: fmt, clippy and every test in the release profile (the build
# `make light` uses, so it is compiled once). The Debian packages and the Python fixtures
# (scripts/install-test-deps.sh, scripts/install-python-fixtures.sh) install while cargo
# compiles — they wait on the network and the disk, cargo on the CPU — and the tests start once
# both are done; clippy lints while the first tests run, which mostly wait on their runs' clocks.
# Without root, missing packages are said at once, before any compiling.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
TESTS=(--release --locked --workspace --lib --bins --tests)

# The build needs pkg-config and libopus-dev before cargo starts.
scripts/install-build-deps.sh
if [ "$(id -u)" -ne 0 ]; then
  scripts/install-test-deps.sh
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
(scripts/install-test-deps.sh && scripts/install-python-fixtures.sh >/dev/null) >"$log" 2>&1 &
deps=$!

$CARGO fmt --all -- --check
$CARGO test "${TESTS[@]}" --no-run
if ! wait "$deps"; then
  cat "$log" >&2
  echo "make test: installing the test dependencies failed (above)" >&2
  exit 1
fi
cat "$log"
# Clippy checks every crate again (metadata, not code), ~2½ minutes of both cores on a fresh
# machine: here it takes the CPU the unit tests and the first integration tests leave idle,
# at the lowest priority, in its own target directory (a shared one would lock the tests out
# until it is done). Its verdict is waited for before the timing tests, which run alone.
lint_log=$(mktemp)
# `|| true`: under `set -e` a failing command in the trap (clippy long finished, so nothing to
# kill) would turn a passing run's exit status into 1.
trap 'kill "${lint:-}" 2>/dev/null || true; rm -f "$log" "$lint_log"' EXIT
CARGO_TARGET_DIR=target/clippy nice -n 19 $CARGO clippy --release --locked --workspace \
  --all-targets -- -D warnings >"$lint_log" 2>&1 &
lint=$!
# The tests that hold voiceswarm's timings to a bot's own ground truth, turn by turn (every
# `_against_` test and the WebRTC calls), run last and alone: the WebSocket ones stamp at the
# kernel edge, but a read more than a frame late still takes the next frame's stamp, and the
# WebRTC ones stamp in user space, where a busy CPU moves them. The unit tests and the rest run first.
QUIET=(_against_ webrtc::)
$CARGO test --release --locked --workspace --lib --bins
# Four at a time on 2 cores: these tests spend most of their time waiting for their runs'
# clocks (two at a time, 103 of them took 4m20s, the CPU mostly idle).
$CARGO test --release --locked --workspace --test it -- --test-threads 4 \
  --skip "${QUIET[0]}" --skip "${QUIET[1]}"
if ! wait "$lint"; then
  cat "$lint_log" >&2
  echo "make test: cargo clippy found the above" >&2
  exit 1
fi
# --nocapture: each prints its per-turn agreement (min, median, max; any turn beyond 5 ms).
$CARGO test --release --locked --workspace --test it -- --test-threads 1 --nocapture "${QUIET[@]}"
