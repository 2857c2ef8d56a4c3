#!/usr/bin/env bash
# `make test`, what CI runs: fmt, clippy and every test in the release profile (the build
# `make light` uses, so it is compiled once). The Debian packages and the Python fixtures
# (scripts/install-test-deps.sh, scripts/install-python-fixtures.sh) install while cargo lints
# and compiles — they wait on the network and the disk, cargo on the CPU — and the tests start
# once both are done. Without root, missing packages are said at once, before any compiling.
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
$CARGO clippy --release --locked --workspace --all-targets -- -D warnings
$CARGO test "${TESTS[@]}" --no-run
if ! wait "$deps"; then
  cat "$log" >&2
  echo "make test: installing the test dependencies failed (above)" >&2
  exit 1
fi
cat "$log"
# The tests that hold voiceswarm's timings to a bot's own ground truth, turn by turn (every
# `_against_` test and the WebRTC calls), run last and alone: the WebSocket ones stamp at the
# kernel edge, but a read more than a frame late still takes the next frame's stamp, and the
# WebRTC ones stamp in user space, where a busy CPU moves them. The unit tests and the rest run first.
QUIET=(_against_ webrtc::)
$CARGO test --release --locked --workspace --lib --bins
$CARGO test --release --locked --workspace --test it -- --skip "${QUIET[0]}" --skip "${QUIET[1]}"
# --nocapture: each prints its per-turn agreement (min, median, max; any turn beyond 5 ms).
$CARGO test --release --locked --workspace --test it -- --test-threads 1 --nocapture "${QUIET[@]}"
