#!/usr/bin/env bash
# Inbox list/thread latency at CONV conversations / MSG messages, then the
# WhatsApp status-callback ingest rate with every signature checked (issue 12).
#   bench/inbox.sh [sqlite|postgres] [CONV] [MSG] [SECONDS]
# The history is written straight into the tables (bench/inbox_data.sql); the
# server runs as a release build (VIBE_BIN=… measures another binary). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"; conv="${2:-100000}"; msg="${3:-1000000}"; secs="${4:-20}"
port="${PORT:-18485}"; base="http://127.0.0.1:$port"
command -v wrk >/dev/null || { echo "bench/inbox.sh needs wrk (apt-get install -y wrk)" >&2; exit 1; }
. bench/lib.sh
data="$(mktemp -d)"
export VIBE_ADDR="127.0.0.1:$port" VIBE_DATA_DIR="$data" VIBE_LOG=warn \
  VIBE_ADMIN_EMAIL=bench@example.com VIBE_ADMIN_PASSWORD=bench-password
pg="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"; schema=vibe_bench_inbox
if [ "$backend" = postgres ]; then
  psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" 2>/dev/null
  psql "$pg" -qc "CREATE SCHEMA $schema"
  export DATABASE_URL="$pg?options[search_path]=$schema"
fi
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$data"' EXIT
start() { "$vibe" serve & pid=$!; wait_ready "$base"; }
stop() { kill "$pid"; wait "$pid" || true; pid=""; }

"$vibe" migrate >/dev/null
"$vibe" user create --email agent@example.com --password bench-password --role agent >/dev/null
start
eval "$(python3 bench/inbox.py setup "$base")"
stop
t0=$(( ($(date +%s) - 3 * 86400) * 1000 ))
sql=$(sed -e "s/:PROJECT/$PROJECT/g" -e "s/:CONV/$conv/g" -e "s/:MSG/$msg/g" -e "s/:T0/$t0/g" \
  -e "s/:TEAM/$TEAM/g" -e "s/:AGENT/$AGENT/g" bench/inbox_data.sql)
load_start=$(date +%s)
if [ "$backend" = postgres ]; then
  printf 'SET search_path = %s;\n%s\nANALYZE;\n' "$schema" "$sql" | psql "$pg" -q -v ON_ERROR_STOP=1
else
  printf '%s\nANALYZE;\n' "$sql" | sqlite3 "$data/vibe.db"
fi
echo "loaded $conv conversations / $msg messages in $(( $(date +%s) - load_start )) s ($backend)"
start
echo
python3 bench/inbox.py measure "$base" "$PROJECT"
echo
python3 bench/inbox.py statuses "$PROJECT" "$conv" "$msg" 20000 bench-app-secret "$data/statuses.txt"
echo "WhatsApp status callbacks (signed), wrk -t2 -c32 -d${secs}s:"
wrk -t2 -c32 -d"${secs}s" --latency -s bench/whatsapp_status.lua \
  "$base/api/v1/webhooks/whatsapp/$PROJECT" -- "$data/statuses.txt" | grep -E 'Requests/sec|Non-2xx|99%|50%|requests in'
