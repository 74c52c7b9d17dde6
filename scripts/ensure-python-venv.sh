#!/usr/bin/env bash
# Creates (or refreshes) ./.venv from tests/requirements.txt: the Python the
# Rust tests run as a third-party check (the official `twilio` library's
# RequestValidator in crates/vibe-server/tests/api/webhooks.rs; aiosmtpd for
# the SMTP round trip). Reinstalls only when the requirements changed. The
# tests find it at .venv/bin/python (or $VIBE_TEST_PYTHON); without it they
# skip loudly, and fail under CI.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
reqs=tests/requirements.txt
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$reqs" | cut -d' ' -f1)"

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null; then
  echo "ensure-python-venv: $python not found; the third-party signature test will be skipped (and fail under CI)" >&2
  exit 0
fi
echo "ensure-python-venv: installing $reqs into $venv" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs"
echo "$want" >"$stamp"
