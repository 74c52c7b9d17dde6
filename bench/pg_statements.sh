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
. bench/lib.sh
pg="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
port=18191; base="http://127.0.0.1:$port"
psql "$pg" -Atc "SHOW shared_preload_libraries" | grep -q pg_stat_statements \
  || { echo "pg_stat_statements is not preloaded; see the top of $0" >&2; exit 1; }
psql "$pg" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; DROP SCHEMA IF EXISTS vibe_stmts CASCADE; CREATE SCHEMA vibe_stmts;" 2>/dev/null
data="$(mktemp -d)"
export VIBE_ADDR="127.0.0.1:$port" VIBE_DATA_DIR="$data" VIBE_LOG=error \
  VIBE_ADMIN_EMAIL=bench@example.com VIBE_ADMIN_PASSWORD=bench-password \
  DATABASE_URL="$pg?options[search_path]=vibe_stmts"
"$vibe" serve & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
wait_ready "$base"
cookie=$(login_cookie "$base")
key=$(first_write_key "$base" "$cookie")
psql "$pg" -qc "SELECT pg_stat_statements_reset()" >/dev/null
python3 bench/fixed_load.py "$base" "$key" "$n" "$b"
echo "| calls | rows | total ms | statement |"
echo "|---|---|---|---|"
psql "$pg" -Atc "SELECT '| ' || calls || ' | ' || rows || ' | ' || round(total_exec_time::numeric, 1) || ' | ' || left(regexp_replace(query, '\s+', ' ', 'g'), 100) || ' |'
  FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%' ORDER BY total_exec_time DESC LIMIT 30"
