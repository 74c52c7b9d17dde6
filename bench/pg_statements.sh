#!/usr/bin/env bash
# What the database does for a fixed collector load: every statement the binary
# ran on PostgreSQL, with calls, rows and total time (pg_stat_statements).
#   VIBE_BIN=path bash bench/pg_statements.sh [REQUESTS] [MESSAGES_PER_REQUEST]
# Needs pg_stat_statements preloaded, for the measurement only:
#   psql "$PG" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
#   pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart
# (undo: psql -c "DROP EXTENSION pg_stat_statements", then psql -c "ALTER SYSTEM
# RESET shared_preload_libraries" — a separate call: ALTER SYSTEM refuses to run
# in the transaction several -c statements share — and restart again).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200}"; b="${2:-100}"
vibe="${VIBE_BIN:-./target/release/vibe}"
[ -n "${VIBE_BIN:-}" ] || cargo build --release --bin vibe -q
pg="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
port=18191; base="http://127.0.0.1:$port"
psql "$pg" -Atc "SHOW shared_preload_libraries" | grep -q pg_stat_statements \
  || { echo "pg_stat_statements is not preloaded; see the top of $0" >&2; exit 1; }
psql "$pg" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; DROP SCHEMA IF EXISTS vibe_stmts CASCADE; CREATE SCHEMA vibe_stmts;" 2>/dev/null
data="$(mktemp -d)"
VIBE_ADDR="127.0.0.1:$port" VIBE_DATA_DIR="$data" VIBE_LOG=error \
  VIBE_ADMIN_EMAIL=bench@example.com VIBE_ADMIN_PASSWORD=bench-password \
  DATABASE_URL="$pg?options[search_path]=vibe_stmts" "$vibe" serve & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
cookie=$(curl -sf -D - -o /dev/null -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password"}' "$base/api/v1/auth/login" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
key=$(curl -sf -H "cookie: $cookie" "$base/api/v1/projects" | python3 -c 'import json,sys; print(json.load(sys.stdin)["projects"][0]["write_key"])')
psql "$pg" -qc "SELECT pg_stat_statements_reset()" >/dev/null
python3 bench/fixed_load.py "$base" "$key" "$n" "$b"
echo "| calls | rows | total ms | statement |"
echo "|---|---|---|---|"
psql "$pg" -Atc "SELECT '| ' || calls || ' | ' || rows || ' | ' || round(total_exec_time::numeric, 1) || ' | ' || left(regexp_replace(query, '\s+', ' ', 'g'), 100) || ' |'
  FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%' ORDER BY total_exec_time DESC LIMIT 30"
