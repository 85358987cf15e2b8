# Cove: `make run` sets everything up and runs the demo host; `make test`
# runs the whole suite; `make bench` prints the benchmark figures.

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GUESTS := target/guests/wasm32-wasip2/release
SCHEMATHESIS := 4.32.5
GROWTHBOOK := 4.0.0
GBSTATS := 0.8.0
LIFETIMES := 0.11.3
HOLIDAYS := 0.109
CDNOW := cdnow_customers_summary_with_transactions.csv

.PHONY: run test bench bench-abuse bench-widget bench-console bench-import bench-returns bench-experiments bench-rfm bench-messaging bench-signin bench-replay bench-shadow bench-canary bench-floor bench-scale deps deps-test deps-bench deps-widget widget build lint fmt

## Rust targets the plugins (and, later, the widget) are built for.
deps:
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

## wasm-bindgen-cli (the crate's pinned version) and the npm tools
## (wasm-opt, playwright-core) for the widget.
deps-widget: deps
	scripts/deps-widget

## The storefront widget (loader, runtime UI, wasm search) in target/widget.
widget: deps-widget
	scripts/build-widget

## PostgreSQL for the store suite and the two-replica test; Debian's
## Chromium for the widget's and the console's browser tests (and a Chinese
## font, so the console's screenshots are legible); schemathesis (PyPI, in a venv
## under target/) for the API fuzz test; GrowthBook's Python SDK and stats
## engine (PyPI, in a venv under target/), the experiments' oracles;
## `lifetimes` (PyPI, the same venv), the RFM oracle, and its CDNOW data;
## `holidays` (PyPI, the same venv), the source of the return flow's
## holiday table (`scripts/gen-holidays`) and its test oracle.
deps-test: deps deps-widget deps-bench
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql >/dev/null; }
	@command -v psql >/dev/null
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@fc-list :lang=zh | grep -q . || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-wqy-microhei >/dev/null; }
	@[ -x target/schemathesis/bin/schemathesis ] || { python3 -m venv target/schemathesis && target/schemathesis/bin/pip install -q "schemathesis==$(SCHEMATHESIS)"; }
	@target/oracles/bin/python -c "import growthbook, gbstats, lifetimes, holidays" 2>/dev/null || { python3 -m venv target/oracles && target/oracles/bin/pip install -q "growthbook==$(GROWTHBOOK)" "gbstats==$(GBSTATS)" "lifetimes==$(LIFETIMES)" "holidays==$(HOLIDAYS)"; }
	@[ -f target/oracles/CDNOW_sample.txt ] || { d=$$(target/oracles/bin/python -c "import lifetimes, os; print(os.path.join(os.path.dirname(lifetimes.__file__), 'datasets'))") && cp $$d/$(CDNOW) $$d/CDNOW_sample.txt target/oracles/; }

## wrk, the load generator of the HTTP benchmarks (their smoke runs are tests).
deps-bench: deps
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null; }

## Host, CLI, and the plugins (built for wasm32-wasip2 by tests/build.rs).
build: deps
	$(CARGO) build --release --workspace

## Run Cove on 127.0.0.1:8080 with SQLite in .cove/, the reference plugins
## published and bound for the `demo` merchant, and the demo storefront
## (with the widget, articles and an exit survey) at http://127.0.0.1:8080/.
run: build widget
	./target/release/cove serve --seed-demo $(GUESTS) --widget-dir target/widget

## Formatting, lints, then every test (release profile: wasmtime is
## compiled once for tests, benchmarks and the demo). The end-to-end tests
## run the `cove` binary, so it is built first.
test: deps-test
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) build --release --workspace
	scripts/build-widget
	@mkdir -p target; set -o pipefail; { $(CARGO) test --release --workspace && \
	  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	  $(CARGO) test --release -p cove-widget --target wasm32-unknown-unknown; } 2>&1 | tee target/test.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "tests: %d passed, %d failed\n", p, f; exit (p == 0 || f > 0) }' target/test.log

bench: deps-bench build
	./target/release/cove-bench

## Widget figures: sizes, first-search transfer, query p95 in Chromium, typo recall.
bench-widget: deps-test build widget
	./target/release/cove-bench widget

## Customer data: `cove import` of 1M customers and 10M orders (CSV) on
## SQLite and PostgreSQL against each database's bulk path; re-import,
## peak RSS, live events. COVE_BENCH_CUSTOMERS=100000 for a shorter run.
bench-abuse: deps-test build widget
	./target/release/cove-bench abuse

bench-import: deps-test build
	./target/release/cove-bench import

## The return flow: one step in process (beside native), a complete return over HTTP.
bench-returns: deps-test build
	./target/release/cove-bench returns

## Experiments: one assignment in process (beside native), assignments/s
## over HTTP against /healthz, and a 100,000-visitor bandit simulation.
bench-experiments: deps-bench build
	./target/release/cove-bench experiments

## Messaging: one plan in process and over HTTP, and the cap under 200 concurrent plans (SQLite in process; PostgreSQL with two replicas).
bench-messaging: deps-bench deps-test build
	./target/release/cove-bench messaging

## RFM: a full run over the customer-data benchmark's merchant (1M
## customers, 10M orders; COVE_BENCH_CUSTOMERS=100000 for a shorter run),
## and one batch scored through the plugin beside natively.
bench-rfm: deps-test build
	./target/release/cove-bench rfm

## A console sign-in: a member's (Argon2id), an unknown address's (as long), a key's (the baseline).
bench-replay: build
	./target/release/cove-bench replay

bench-shadow: build
	./target/release/cove-bench shadow

## Cove's sandboxed call against bare wasmtime on the same component.
bench-floor: build
	./target/release/cove-bench floor

## A large merchant's cost curves: import, RFM run, overview, returns
## report and experiment results at 100k and 1M customers (10 orders each)
## on SQLite and PostgreSQL. COVE_BENCH_SCALES=20000,100000 for a shorter run.
bench-scale: deps-test build
	./target/release/cove-bench scale

## Canary rollback on two PostgreSQL replicas under load: calls and ms.
bench-canary: build
	./target/release/cove-bench canary

bench-signin: build
	./target/release/cove-bench signin

## The merchant console's first load and time to charts, in Chromium.
bench-console: deps-test build widget
	./target/release/cove-bench console

fmt:
	$(CARGO) fmt --all
