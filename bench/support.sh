#!/usr/bin/env bash
# Support analytics (issue 13 item 8): every /support/* endpoint's latency
# and the Support page's first render at CONV conversations / MSG messages /
# AGENTS agents over DAYS days, then the same after the history doubles.
#   VIBE_BIN=target/release/vibe bash bench/support.sh [sqlite|postgres] [CONV] [MSG] [AGENTS] [DAYS]
# (defaults 100000 1000000 50 90). VIBE_BIN is required: the script never
# builds. Build it with the dashboard embedded (`make web` first) for the
# render step. STEPS (default "measure render double") drops steps; N
# (default 100) is the requests per row. DATA_DIR=dir keeps the history
# there (for PostgreSQL, in the schema) and, when it holds one already,
# reuses it: migrate, rebuild, measure, without setup or load (to measure
# another build on the same history), then doubles it if STEPS says so
# (once: a doubled history is remembered and measured as it is).
#
# 1. setup: AGENTS agent accounts (`vibe user create --role agent`), then
#    through the API five teams, three inboxes (WhatsApp, in-app, email), the
#    WhatsApp channel and SLA policies (bench/support.py setup);
# 2. data: written straight into the tables with plain SQL both backends run
#    (bench/support_data.sql: contacts, conversations, messages with delivery
#    statuses, the outbox, the support_events facts, agent status rows),
#    then ANALYZE;
# 3. `vibe support rebuild`: the snapshot job folds the whole history
#    (timed, server stopped);
# 4. measure: 100 sequential requests per endpoint and range as the owner,
#    each section as an agent, agent-activity for a week (bench/support.py
#    measure), and the first render of /support in Chromium
#    (bench/support_render.mjs);
# 5. double: a second copy of the conversations, messages and facts with new
#    ids over the same days (same agents), rebuild, measure again.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"; conv="${2:-100000}"; msg="${3:-1000000}"; agents="${4:-50}"; days="${5:-90}"
steps="${STEPS:-measure render double}"; n="${N:-100}"
port="${PORT:-18486}"; base="http://127.0.0.1:$port"
[ -n "${VIBE_BIN:-}" ] || { echo "bench/support.sh: set VIBE_BIN to a release binary (it does not build)" >&2; exit 1; }
[ "$agents" -ge 5 ] || { echo "bench/support.sh: AGENTS must be at least 5 (five teams)" >&2; exit 1; }
. bench/lib.sh
"$vibe" support rebuild --help >/dev/null 2>&1 ||
  { echo "bench/support.sh: $vibe has no \`support rebuild\` (the snapshot job's CLI, issue 13)" >&2; exit 1; }
data="${DATA_DIR:-$(mktemp -d)}"; mkdir -p "$data"
reuse=""; [ -n "${DATA_DIR:-}" ] && [ -f "$data/bench.env" ] && reuse=1
export VIBE_ADDR="127.0.0.1:$port" VIBE_DATA_DIR="$data" VIBE_LOG=warn \
  VIBE_ADMIN_EMAIL=bench@example.com VIBE_ADMIN_PASSWORD=bench-password
pg="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"; schema=vibe_bench_support
if [ "$backend" = postgres ] && [ -z "$reuse" ]; then
  psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" 2>/dev/null
  psql "$pg" -qc "CREATE SCHEMA $schema"
fi
[ "$backend" = postgres ] && export DATABASE_URL="$pg?options[search_path]=$schema"
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "${DATA_DIR:-}" ] || rm -rf "$data"' EXIT
start() { "$vibe" serve & pid=$!; wait_ready "$base"; }
stop() { kill "$pid"; wait "$pid" || true; pid=""; }
sql() { # runs stdin on the bench database
  if [ "$backend" = postgres ]; then
    { echo "SET search_path = $schema;"; cat; } | psql "$pg" -q -v ON_ERROR_STOP=1
  else
    sqlite3 -bail "$data/vibe.db"
  fi
}
count() { # table -> rows of the bench project
  echo "SELECT COUNT(*) FROM $1 WHERE project_id = '$PROJECT';" | {
    if [ "$backend" = postgres ]; then psql "$pg" -qtA -c "SET search_path = $schema" -f -; else sqlite3 "$data/vibe.db"; fi
  } | tail -1
}

"$vibe" migrate >/dev/null
if [ -z "$reuse" ]; then
  for k in $(seq 0 $((agents - 1))); do
    "$vibe" user create --email "agent$k@example.com" --password bench-password --role agent >/dev/null
  done
  start
  python3 bench/support.py setup "$base" "$agents" "$data/prelude.sql" > "$data/bench.env"
  stop
fi
. "$data/bench.env"
now=$(( $(date +%s) * 1000 ))
d0=$(( (now / 86400000 - days + 1) * 86400000 ))

tables="site_users, conversations, messages, outbound_queue, support_events, agent_activity_logs"
load() { # off moff
  local t0; t0=$(date +%s)
  { cat "$data/prelude.sql"
    sed -e "s/:PROJECT/$PROJECT/g" -e "s/:CONV/$conv/g" -e "s/:MSG/$msg/g" -e "s/:DAYS/$days/g" \
      -e "s/:AGENTS/$agents/g" -e "s/:NOW/$now/g" -e "s/:D0/$d0/g" -e "s/:OFF/$1/g" -e "s/:MOFF/$2/g" \
      -e "s/:INBOX_WA/$INBOX_WA/g" -e "s/:INBOX_APP/$INBOX_APP/g" -e "s/:INBOX_EMAIL/$INBOX_EMAIL/g" \
      bench/support_data.sql
    echo "DROP TABLE bench_agents;"
    # A bare ANALYZE on PostgreSQL walks every schema of the database.
    if [ "$backend" = postgres ]; then echo "ANALYZE $tables;"; else echo "ANALYZE;"; fi
  } | sql
  echo "loaded in $(( $(date +%s) - t0 )) s ($backend): $(count conversations) conversations," \
    "$(count messages) messages, $(count support_events) support_events," \
    "$(count agent_activity_logs) agent status rows"
}

rebuild() {
  local t0; t0=$(date +%s%N)
  "$vibe" support rebuild >/dev/null
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "rebuild of $days days in $((ms / 1000)).$((ms % 1000 / 100)) s: $(count analytics_snapshots) snapshot rows"
}

measure() { # label
  start
  echo
  echo "### $1"
  echo
  if [[ " $steps " == *" measure "* ]]; then
    python3 bench/support.py measure "$base" "$PROJECT" "$n"
    echo
  fi
  if [[ " $steps " == *" render "* ]]; then
    node bench/support_render.mjs "$base" "$PROJECT"
    echo
  fi
  stop
}

if [ -n "$reuse" ]; then
  rebuild
  if [ -n "${DOUBLED:-}" ]; then
    measure "history doubled: $((2 * conv)) conversations / $((2 * msg)) messages ($backend), reused history"
    exit 0
  fi
  measure "$conv conversations / $msg messages / $agents agents / $days days ($backend), reused history"
  if [[ " $steps " == *" double "* ]]; then
    load "$conv" "$msg"
    echo "DOUBLED=1" >> "$data/bench.env"
    rebuild
    measure "history doubled: $((2 * conv)) conversations / $((2 * msg)) messages ($backend)"
  fi
  exit 0
fi
load 0 0
rebuild
measure "$conv conversations / $msg messages / $agents agents / $days days ($backend)"
if [[ " $steps " == *" double "* ]]; then
  load "$conv" "$msg"
  echo "DOUBLED=1" >> "$data/bench.env"
  rebuild
  measure "history doubled: $((2 * conv)) conversations / $((2 * msg)) messages ($backend)"
fi
