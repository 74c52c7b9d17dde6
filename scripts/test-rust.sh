#!/usr/bin/env bash
# `make test-rust`: the workspace's Rust tests, then a loud WARNING if any
# PostgreSQL test was skipped. Tests skip only when PostgreSQL is unreachable
# and CI is not set (crates/vibe-store-postgres/src/unreachable.rs); they
# append one line per skip to $VIBE_PG_SKIP_REPORT. cargo hides what passing
# tests print, so without this a skip would look exactly like a pass.
# Extra arguments go to `cargo test`; CARGO may name another cargo (tests).
set -uo pipefail

report="$(mktemp "${TMPDIR:-/tmp}/vibe-pg-skips.XXXXXX")"
trap 'rm -f "$report"' EXIT

VIBE_PG_SKIP_REPORT="$report" "${CARGO:-cargo}" test --workspace --all-targets "$@"
status=$?

if [ -s "$report" ]; then
  skipped="$(wc -l <"$report" | tr -d ' ')"
  {
    echo
    echo "=================================================================="
    echo "WARNING: $skipped PostgreSQL test(s) were SKIPPED, not run:"
    echo "  $(head -n 1 "$report")"
    echo "Only the SQLite half of the suite ran. Start PostgreSQL (or set"
    echo "TEST_DATABASE_URL) and run again; CI=1 makes this an error."
    echo "=================================================================="
  } >&2
fi
exit "$status"
