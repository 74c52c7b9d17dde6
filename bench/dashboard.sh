#!/usr/bin/env bash
# Dashboard first render and the 5,000-visitor table in Chromium, against the
# release binary with the embedded dashboard and a generated demo history.
#   bench/dashboard.sh [USERS] [EVENTS] [VISITORS]
# DATA=/path/to/data-dir reuses a kept SQLite history instead of generating one
# (e.g. the one from `DATA=… STEPS=generate bench/analytics.sh`).
set -euo pipefail
cd "$(dirname "$0")/.."
users="${1:-20000}"; events="${2:-300000}"; visitors="${3:-5000}"
port=18485; base="http://127.0.0.1:$port"
make -s web >/dev/null
. bench/lib.sh
bash scripts/ensure-chromium.sh >/dev/null
(cd e2e && npm ci --no-audit --no-fund --loglevel=error)
data="${DATA:-$(mktemp -d)}"; keep="${DATA:-}"
export VIBE_ADDR="127.0.0.1:$port" VIBE_DATA_DIR="$data" VIBE_LOG=warn \
  VIBE_ADMIN_EMAIL=bench@example.com VIBE_ADMIN_PASSWORD=bench-password
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$keep" ] || rm -rf "$data"' EXIT
[ -n "$keep" ] || "$vibe" demo --users "$users" --events "$events" --days 90
"$vibe" serve & pid=$!
wait_ready "$base"
echo "SQLite, $users people, $events events, 90 days"
echo
node bench/dashboard.mjs "$base" bench@example.com bench-password "$visitors"
