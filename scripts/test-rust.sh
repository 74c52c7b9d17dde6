#!/usr/bin/env bash
# `make test-rust`: the workspace's Rust tests, then a loud WARNING if any
# PostgreSQL test was skipped. Tests skip only when PostgreSQL is unreachable
# and CI is not set (crates/vibe-store-postgres/src/unreachable.rs); they
# append one line per skip to $VIBE_PG_SKIP_REPORT. cargo hides what passing
# tests print, so without this a skip would look exactly like a pass.
# Extra arguments go to `cargo test`; CARGO may name another cargo (tests).
set -uo pipefail

report="$(mktemp "${TMPDIR:-/tmp}/vibe-pg-skips.XXXXXX")"
py_report="$(mktemp "${TMPDIR:-/tmp}/vibe-py-skips.XXXXXX")"
trap 'rm -f "$report" "$py_report"' EXIT

VIBE_PG_SKIP_REPORT="$report" VIBE_PY_SKIP_REPORT="$py_report" \
  "${CARGO:-cargo}" test --workspace --all-targets "$@"
status=$?

# The third-party (Python) signature check skips the same way without .venv.
if [ -s "$py_report" ]; then
  {
    echo
    echo "=================================================================="
    echo "WARNING: $(wc -l <"$py_report" | tr -d ' ') third-party Python test(s) were SKIPPED:"
    echo "  $(head -n 1 "$py_report")"
    echo "Run scripts/ensure-python-venv.sh (make test-rust does); CI=1 makes this an error."
    echo "=================================================================="
  } >&2
fi

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
