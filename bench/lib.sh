# Sourced by the bench scripts: which binary to measure, waiting for it to
# answer, and signing in as the bench admin (VIBE_ADMIN_EMAIL/PASSWORD).

# VIBE_BIN=path measures another binary (e.g. an older commit's) without building.
vibe="${VIBE_BIN:-./target/release/vibe}"
[ -n "${VIBE_BIN:-}" ] || cargo build --release --bin vibe -q

wait_ready() { # base
  for _ in $(seq 1 100); do curl -sf "$1/readyz" >/dev/null && return; sleep 0.1; done
}

login_cookie() { # base
  curl -sf -D - -o /dev/null -H 'content-type: application/json' \
    -d "{\"email\":\"$VIBE_ADMIN_EMAIL\",\"password\":\"$VIBE_ADMIN_PASSWORD\"}" "$1/api/v1/auth/login" \
    | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p'
}

first_write_key() { # base cookie
  curl -sf -H "cookie: $2" "$1/api/v1/projects" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["projects"][0]["write_key"])'
}
