#!/usr/bin/env bash
# The benchmark's web row loads the app with wrk (bench/web.py). Install it from Debian's
# packages when it is missing and we may, as scripts/browser.sh does for Chromium;
# otherwise say how, and the web row is skipped.
set -euo pipefail
command -v wrk >/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing wrk from Debian's packages (for the benchmark's web row)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
else
  echo "wrk is not installed, so the benchmark's web row will be skipped. Install it: sudo apt-get install wrk" >&2
fi
