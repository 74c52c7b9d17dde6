#!/usr/bin/env bash
# Throughput and latency of POST /api/v1/collect on loopback.
#   bench/collect.sh [sqlite|postgres] [seconds]
# Prints one Markdown table row per scenario (paste into BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
secs="${2:-15}"
port=18181
base="http://127.0.0.1:$port"
command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 1; }
. bench/lib.sh

data="$(mktemp -d)"
export VIBE_ADDR="127.0.0.1:$port" VIBE_DATA_DIR="$data" VIBE_LOG=warn \
  VIBE_ADMIN_EMAIL=bench@example.com VIBE_ADMIN_PASSWORD=bench-password
if [ "$backend" = postgres ]; then
  pg="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  psql "$pg" -qc "DROP SCHEMA IF EXISTS vibe_bench CASCADE; CREATE SCHEMA vibe_bench;"
  export DATABASE_URL="$pg?options[search_path]=vibe_bench"
fi
"$vibe" serve & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
wait_ready "$base"
cookie=$(login_cookie "$base")
key=$(first_write_key "$base" "$cookie")

run() { # name connections batch delay_ms
  out=$(wrk -t2 -c"$2" -d"${secs}s" --latency -s bench/collect.lua "$base/api/v1/collect" -- "$key" "$3" "$4" 2>&1)
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | grep -c "unexpected status" || true)
  eps=$(python3 -c "print(round($rps * $3))")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$backend" "$1" "$2" "$(printf '%.0f' "$rps")" "$eps" "$p50" "$p99" "$errs"
}
echo "| backend | scenario | connections | requests/s | events/s | p50 | p99 | non-202 |"
echo "|---|---|---|---|---|---|---|---|"
run "1 message/request, max load" 64 1 0
run "100 messages/request, max load" 16 100 0
# Paced: each connection waits between requests, for about half the max load.
run "1 message/request, paced" 32 1 "${PACED_DELAY_MS:-3}"
run "100 messages/request, paced" 8 100 "${PACED_BATCH_DELAY_MS:-15}"
events=$(curl -sf -H "cookie: $cookie" "$base/metrics" | awk '/^vibe_ingest_accepted_total/ {print $2}')
echo
echo "accepted messages in total: $events"
