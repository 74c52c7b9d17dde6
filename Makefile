.PHONY: run build test test-rust test-browser bench fmt lint clean

run: build
	./target/release/vibe serve

build:
	cargo build --release --bin vibe

test: test-rust

test-rust:
	cargo test --workspace --all-targets

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
