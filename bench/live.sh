#!/usr/bin/env bash
# Live feed latency: POST /api/v1/collect answered → WebSocket `event` message.
#   bench/live.sh sqlite   [rate] [secs] [clients]   one node on SQLite
#   bench/live.sh postgres [rate] [secs] [clients]   two nodes on one PostgreSQL
#                                                     schema: WebSockets on node A,
#                                                     collects on node B
# Prints one JSON line of figures (see examples/live_bench.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
rate="${2:-1000}"
secs="${3:-10}"
clients="${4:-1}"
batch="${BATCH:-10}"
port_a=18191
port_b=18192
cargo build --release --bin vibe --example live_bench -q

data_a="$(mktemp -d)"
data_b="$(mktemp -d)"
export VIBE_LOG=warn VIBE_ADMIN_EMAIL=bench@example.com VIBE_ADMIN_PASSWORD=bench-password
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$data_a" "$data_b"' EXIT
if [ "$backend" = postgres ]; then
  pg="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  psql "$pg" -qc "DROP SCHEMA IF EXISTS vibe_live_bench CASCADE; CREATE SCHEMA vibe_live_bench;"
  export DATABASE_URL="$pg?options[search_path]=vibe_live_bench"
fi
VIBE_ADDR="127.0.0.1:$port_a" VIBE_DATA_DIR="$data_a" ./target/release/vibe serve & pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port_a/readyz" >/dev/null && break; sleep 0.1; done
collect_port=$port_a
if [ "$backend" = postgres ]; then
  VIBE_ADDR="127.0.0.1:$port_b" VIBE_DATA_DIR="$data_b" ./target/release/vibe serve & pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port_b/readyz" >/dev/null && break; sleep 0.1; done
  collect_port=$port_b
fi
base="http://127.0.0.1:$port_a"
cookie=$(curl -sf -D - -o /dev/null -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password"}' "$base/api/v1/auth/login" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
read -r project key < <(curl -sf -H "cookie: $cookie" "$base/api/v1/projects" \
  | python3 -c 'import json,sys; p=json.load(sys.stdin)["projects"][0]; print(p["id"], p["write_key"])')
ulimit -n 65536 2>/dev/null || true
./target/release/examples/live_bench --ws "ws://127.0.0.1:$port_a" \
  --collect "http://127.0.0.1:$collect_port" --project "$project" --key "$key" \
  --cookie "$cookie" --rate "$rate" --secs "$secs" --clients "$clients" --batch "$batch"
