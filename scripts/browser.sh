#!/usr/bin/env bash
# The end-to-end tests drive Debian's Chromium (Playwright never downloads a browser here).
# Install it when it is missing and we may; otherwise say how, and the browser tests skip.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Chromium from Debian's packages (for the end-to-end tests)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Chromium is not installed, so the browser tests will be skipped. Install it: sudo apt-get install chromium" >&2
fi
