#!/usr/bin/env bash
# Latency of the analytics endpoints over a generated history, then again after
# doubling the events, to show which endpoints stay flat.
#   bench/analytics.sh [sqlite|postgres] USERS EVENTS [DAYS]
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"; users="${2:-100000}"; events="${3:-1000000}"; days="${4:-90}"
port=18484; base="http://127.0.0.1:$port"
cargo build --release --bin vibe -q
data="$(mktemp -d)"
export VIBE_ADDR="127.0.0.1:$port" VIBE_DATA_DIR="$data" VIBE_LOG=warn \
  VIBE_ADMIN_EMAIL=bench@example.com VIBE_ADMIN_PASSWORD=bench-password
if [ "$backend" = postgres ]; then
  pg="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  psql "$pg" -qc "DROP SCHEMA IF EXISTS vibe_bench_analytics CASCADE; CREATE SCHEMA vibe_bench_analytics;" 2>/dev/null
  export DATABASE_URL="$pg?options[search_path]=vibe_bench_analytics"
fi
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$data"' EXIT

measure() { # label
  ./target/release/vibe serve & pid=$!
  for _ in $(seq 1 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
  cookie=$(curl -sf -D - -o /dev/null -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password"}' "$base/api/v1/auth/login" \
    | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
  project=$(curl -sf -H "cookie: $cookie" "$base/api/v1/projects" | python3 -c 'import json,sys; print([p["id"] for p in json.load(sys.stdin)["projects"] if p["name"]=="Demo shop"][0])')
  funnel=$(curl -sf -H "cookie: $cookie" "$base/api/v1/projects/$project/funnels" | python3 -c 'import json,sys; print(json.load(sys.stdin)["funnels"][0]["id"])')
  user=$(curl -sf -H "cookie: $cookie" "$base/api/v1/projects/$project/users?segment=premium&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["users"][0]["id"])')
  echo "### $1"
  echo
  echo "| endpoint | p50 ms | p95 ms | max ms |"
  echo "|---|---|---|---|"
  p="/api/v1/projects/$project"
  for path in "$p/metrics" "$p/stats/daily" "$p/online" "$p/users?segment=active" "$p/users?segment=premium&q=ada" \
              "$p/users/$user" "$p/users/$user/sessions" "$p/funnels/$funnel/conversion?days=30"; do
    n=100; case "$path" in *conversion*) n=10;; esac
    echo "| \`${path#"$p"}\` | $(python3 bench/latency.py "$base" "$cookie" "$path" "$n") |"
  done
  echo
  kill $pid; wait $pid 2>/dev/null || true; pid=""
}

echo "## $backend: $users people, $events events, $days days"
echo
/usr/bin/time -f "generated in %e s, peak RSS %M KB" ./target/release/vibe demo --users "$users" --days "$days" --events "$events" | tail -1
measure "after $events events"
# A second run adds as many events again to the same "Demo shop" (same people).
/usr/bin/time -f "generated in %e s, peak RSS %M KB" ./target/release/vibe demo --users "$users" --days "$days" --events "$events" | tail -1
measure "after doubling to $((events * 2)) events"
