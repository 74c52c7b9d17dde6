# The two commands on a fresh machine: `make run` and `make test`.
.PHONY: run build web test test-rust test-tracker test-web test-browser bench tracker fmt lint clean-test-schemas

PG_TEST_URL ?= $(or $(TEST_DATABASE_URL),postgres://postgres@127.0.0.1:5432/test)

## Build everything and start vibe on the embedded SQLite database (./data),
## with a "Demo shop" project full of sample data (created on the first run only).
run: build
	./target/release/vibe demo --if-empty
	./target/release/vibe serve

## The dashboard (web/) is built first so the binary embeds it (crates/vibe-server/build.rs).
build: web
	cargo build --release --bin vibe

web:
	npm --prefix web ci --no-audit --no-fund --loglevel=error
	npm --prefix web run build

# Built on demand for test-browser when `make web`/`test-web` has not run.
web/dist/index.html:
	$(MAKE) web

## The whole suite: Rust unit, conformance and API tests on SQLite and
## PostgreSQL, the tracker's size/freshness check, the dashboard's component
## tests and build, and the browser tests (which need that build).
test: clean-test-schemas test-rust test-tracker test-web test-browser

## Prints a WARNING at the end when PostgreSQL was unreachable and its tests
## were skipped (with CI set they fail instead); likewise for the Python the
## third-party signature test needs (.venv, made first from tests/requirements.txt).
test-rust:
	bash scripts/ensure-python-venv.sh
	bash scripts/test-rust.sh

test-tracker:
	npm --prefix tracker ci --no-audit --no-fund --loglevel=error
	npm --prefix tracker run check
	npm --prefix tracker test

## Dashboard: type check, component tests (Vitest), production build, size budget.
test-web:
	npm --prefix web ci --no-audit --no-fund --loglevel=error
	npm --prefix web test
	npm --prefix web run build
	npm --prefix web run size

## The binary is built after the dashboard so it embeds it.
test-browser: web/dist/index.html
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
