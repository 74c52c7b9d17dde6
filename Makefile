# The two commands on a fresh machine: `make run` and `make test`.
.PHONY: run build test test-rust test-tracker test-browser bench tracker fmt lint clean-test-schemas

PG_TEST_URL ?= $(or $(TEST_DATABASE_URL),postgres://postgres@127.0.0.1:5432/test)

## Build everything and start vibe on the embedded SQLite database (./data),
## with a "Demo shop" project full of sample data (created on the first run only).
run: build
	./target/release/vibe demo --if-empty
	./target/release/vibe serve

build:
	cargo build --release --bin vibe

## The whole suite: Rust unit, conformance and API tests on SQLite and
## PostgreSQL, the tracker's size/freshness check, and the browser tests.
test: clean-test-schemas test-rust test-tracker test-browser

test-rust:
	cargo test --workspace --all-targets

test-tracker:
	npm --prefix tracker ci --no-audit --no-fund --loglevel=error
	npm --prefix tracker run check

test-browser:
	cargo build --bin vibe
	bash scripts/ensure-chromium.sh
	cd e2e && npm ci --no-audit --no-fund --loglevel=error && VIBE_BIN=../target/debug/vibe node --test

## Rebuild crates/vibe-server/assets/vibe.js from tracker/vibe.js.
tracker:
	npm --prefix tracker ci --no-audit --no-fund --loglevel=error
	npm --prefix tracker run build

## Collector throughput/latency (see BENCHMARKS.md).
bench:
	bash bench/collect.sh sqlite
	bash bench/collect.sh postgres

## Tests create one PostgreSQL schema each (t_*); drop leftovers from earlier runs.
clean-test-schemas:
	@command -v psql >/dev/null && psql "$(PG_TEST_URL)" -qtAc \
	  "SELECT format('DROP SCHEMA %I CASCADE;', nspname) FROM pg_namespace WHERE nspname LIKE 't\_%' OR nspname = 'vibe_probe'" \
	  | psql "$(PG_TEST_URL)" -q >/dev/null 2>&1 || true

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
