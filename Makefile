# voiceswarm: `make light` runs the light profile against the built-in backend; `make test` runs
# everything CI runs. HOST=https://your-backend points any profile at your own backend.

CARGO ?= cargo
BIN := target/release/voiceswarm
HOST ?=
ARGS ?=
HOST_FLAG := $(if $(HOST),--host $(HOST),)

.PHONY: calls fuzz schemas distributed-local all build light medium heavy stress web latency serve test deps lint ci bench soak fixtures clean-reports

all: build

build: $(BIN)

$(BIN): Cargo.toml Cargo.lock $(shell find src crates -name '*.rs' -o -name Cargo.toml) $(wildcard scenarios/audio/*)
	@echo "Building voiceswarm (release): the first build compiles ~400 crates, about 8 minutes on 2 cores and 1.5 GB in target/; later builds take seconds."
	@scripts/install-build-deps.sh
	@$(CARGO) build --release --locked --quiet
	@touch $(BIN)

light medium heavy stress: $(BIN)
	@$(BIN) run --profile $@ $(HOST_FLAG) $(ARGS)

# Calls per second: open arrivals at RATE (5/s, 120/m, 7200/h) for TIME, the default journeys.
RATE ?= 2/s
TIME ?= 5m
calls: $(BIN)
	$(BIN) run --arrival-rate $(RATE) -t $(TIME) $(HOST_FLAG) $(ARGS)

web: $(BIN)
	$(BIN) run --web $(HOST_FLAG) $(ARGS)

latency: $(BIN)
	$(BIN) probe $(HOST_FLAG) $(ARGS)

serve: $(BIN)
	$(BIN) serve --port 8000 $(ARGS)

# Test dependencies: redis-server, Chromium, … and the Python venv (.venv) with Pipecat for the
# protocol tests' bot fixture (tests/fixtures/pipecat_bot).
deps:
	@scripts/install-test-deps.sh
	@scripts/install-python-fixtures.sh >/dev/null

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings

# fmt, clippy and every test, in the release profile `make light` builds; the dependencies above
# install while cargo compiles (scripts/test.sh).
test:
	@CARGO=$(CARGO) scripts/test.sh

ci: test

bench: $(BIN)
	scripts/bench.py

soak: $(BIN)
	BENCH_ONLY=soak scripts/bench.py

fixtures:
	scripts/make-audio-fixtures.sh

# Every input parser's property tests with a million cases in all (8 properties x 125,000);
# CI runs 2,000 per property. FUZZ_CASES sets the cases per property.
FUZZ_CASES ?= 125000
fuzz:
	@n=$$($(CARGO) test --release --locked --test it fuzz:: -- --list 2>/dev/null | grep -c ': test$$'); \
	start=$$(date +%s); \
	VOICESWARM_FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test --release --locked --test it fuzz:: -- --test-threads 2 || exit 1; \
	echo "fuzz: $$n properties x $(FUZZ_CASES) cases = $$((n * $(FUZZ_CASES))) cases in $$(( $$(date +%s) - start )) s"

# The JSON Schemas in schemas/ are generated from the types; this writes them again.
schemas:
	VOICESWARM_WRITE_SCHEMAS=1 $(CARGO) test --release --locked --test it schemas_are_generated_from_the_types

clean-reports:
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +

WORKERS ?= 4
distributed-local: $(BIN)
	WORKERS=$(WORKERS) scripts/distributed-local.sh
