#!/usr/bin/env bash
# Installs Debian's Chromium for the browser end-to-end test (e2e/) unless it is
# already there. Runs as root (CI and dev machines); playwright-core drives it.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
