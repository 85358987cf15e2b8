# Cove: `make run` sets everything up and runs the demo host; `make test`
# runs the whole suite; `make bench` prints the benchmark figures.

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GUESTS := target/guests/wasm32-wasip2/release

.PHONY: run test bench deps deps-test deps-bench build lint fmt

## Rust targets the plugins (and, later, the widget) are built for.
deps:
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

## PostgreSQL for the store suite and the two-replica test.
deps-test: deps
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql >/dev/null; }
	@command -v psql >/dev/null

## wrk, the load generator of the HTTP benchmark.
deps-bench: deps
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null; }

## Host, CLI, and the plugins (built for wasm32-wasip2 by tests/build.rs).
build: deps
	$(CARGO) build --release --workspace

## Run Cove on 127.0.0.1:8080 with SQLite in .cove/, the reference plugins
## published and bound for the `demo` merchant.
run: build
	./target/release/cove serve --seed-demo $(GUESTS)

## Formatting, lints, then every test (release profile: wasmtime is
## compiled once for tests, benchmarks and the demo). The end-to-end tests
## run the `cove` binary, so it is built first.
test: deps-test
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) build --release --workspace
	@mkdir -p target; set -o pipefail; $(CARGO) test --release --workspace 2>&1 | tee target/test.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "tests: %d passed, %d failed\n", p, f; exit (p == 0 || f > 0) }' target/test.log

bench: deps-bench build
	./target/release/cove-bench

fmt:
	$(CARGO) fmt --all
