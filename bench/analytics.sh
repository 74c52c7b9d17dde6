#!/usr/bin/env bash
# Latency of the analytics endpoints over a generated history, then again after
# doubling the events, to show which endpoints stay flat.
#   bench/analytics.sh [sqlite|postgres] USERS EVENTS [DAYS]
# For long runs the steps can be taken one at a time on a kept database:
#   DATA=/tmp/big STEPS=generate bench/analytics.sh sqlite 1000000 10000000 90
#   DATA=/tmp/big STEPS=measure  bench/analytics.sh sqlite 1000000 10000000 90
# (on PostgreSQL, DATA names the schema to keep: DATA=vibe_big).
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"; users="${2:-100000}"; events="${3:-1000000}"; days="${4:-90}"
port="${PORT:-18484}"; base="http://127.0.0.1:$port"
. bench/lib.sh
steps="${STEPS:-generate measure generate measure}"
data="${DATA:-}"
if [ "$backend" = sqlite ]; then
  [ -n "$data" ] || { data="$(mktemp -d)"; trap_rm="$data"; }
  mkdir -p "$data"
fi
export VIBE_ADDR="127.0.0.1:$port" VIBE_DATA_DIR="${data:-.}" VIBE_LOG=warn \
  VIBE_ADMIN_EMAIL=bench@example.com VIBE_ADMIN_PASSWORD=bench-password
if [ "$backend" = postgres ]; then
  pg="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  schema="${data:-vibe_bench_analytics}"
  [ -n "$data" ] || psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" 2>/dev/null
  psql "$pg" -qc "CREATE SCHEMA IF NOT EXISTS $schema" 2>/dev/null
  export DATABASE_URL="$pg?options[search_path]=$schema" VIBE_DATA_DIR="$(mktemp -d)"
fi
pid=""; trap_rm="${trap_rm:-}"
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$trap_rm" ] && rm -rf "$trap_rm"' EXIT

measure() { # label
  "$vibe" serve & pid=$!
  wait_ready "$base"
  cookie=$(login_cookie "$base")
  project=$(curl -sf -H "cookie: $cookie" "$base/api/v1/projects" | python3 -c 'import json,sys; print([p["id"] for p in json.load(sys.stdin)["projects"] if p["name"]=="Demo shop"][0])')
  funnel=$(curl -sf -H "cookie: $cookie" "$base/api/v1/projects/$project/funnels" | python3 -c 'import json,sys; print(json.load(sys.stdin)["funnels"][0]["id"])')
  # A funnel's rollup may still be building in the background (status "building").
  for _ in $(seq 1 600); do
    curl -sf -H "cookie: $cookie" "$base/api/v1/projects/$project/funnels/$funnel" \
      | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["status"] != "ready")' && break
    sleep 1
  done
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
  # The CRM reports (issue 11): a quarter of revenue by month, 12 weekly
  # retention cohorts, 30 days of features and AI usage, the overview, a flow's
  # stats (a flow over the demo's intensive_* events is made when none exists)
  # and a three-condition custom segment counted by the builder's preview.
  today=$(date -u +%F); d30=$(date -u -d '-29 days' +%F); d90=$(date -u -d '-89 days' +%F)
  w12=$(date -u -d '-83 days' +%F)
  for path in "$p/revenue?from=$d90&to=$today&interval=month" "$p/retention?cohort=week&from=$w12&to=$today" \
              "$p/features?from=$d30&to=$today" "$p/ai-usage?from=$d30&to=$today" "$p/crm/overview"; do
    echo "| \`${path#"$p"}\` | $(python3 bench/latency.py "$base" "$cookie" "$path" 100) |"
  done
  if flows=$(curl -sf -H "cookie: $cookie" "$base$p/flows"); then
    flow=$(echo "$flows" | python3 -c 'import json,sys; f=json.load(sys.stdin)["flows"]; print(f[0]["id"] if f else "")')
    if [ -z "$flow" ]; then
      flow=$(curl -sf -H "cookie: $cookie" -H 'content-type: application/json' -H "origin: $base" \
        -d '{"name":"Intensive","start":{"match":"event","value":"intensive_started"},"complete":{"match":"event","value":"intensive_completed"}}' \
        "$base$p/flows" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    fi
    echo "| \`/flows/{fid}/stats?days=30\` | $(python3 bench/latency.py "$base" "$cookie" "$p/flows/$flow/stats?days=30" 100) |"
  fi
  criteria='{"criteria":{"all":[{"field":"last_seen","op":"within_days","value":30},{"field":"sessions","op":"gt","value":2},{"field":"event","op":"performed","name":"assessment_completed"}]}}'
  echo "| \`POST /segments/preview\` (3 conditions) | $(python3 bench/latency.py "$base" "$cookie" "$p/segments/preview" 20 "$criteria") |"
  echo
  kill $pid; wait $pid 2>/dev/null || true; pid=""
}

echo "## $backend: $users people, $events events, $days days"
echo
total=0
for step in $steps; do
  case "$step" in
    generate)
      # A second run adds as many events again to the same "Demo shop" (same people).
      /usr/bin/time -f "generated in %e s, peak RSS %M KB" "$vibe" demo --users "$users" --days "$days" --events "$events" | tail -1
      total=$((total + events));;
    measure) measure "after generating (${total} events generated by this invocation)";;
  esac
done
