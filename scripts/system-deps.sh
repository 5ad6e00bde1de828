#!/usr/bin/env bash
# mysqlclient compiles against the MariaDB client headers, found through pkg-config.
# Install them from Debian's packages when they are missing.
set -euo pipefail
if command -v pkg-config >/dev/null && { pkg-config --exists mariadb || pkg-config --exists mysqlclient; }; then
  exit 0
fi
packages="libmariadb-dev pkg-config"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing $packages (needed to build mysqlclient)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
else
  echo "mysqlclient needs the MariaDB client headers and pkg-config. Install them, then run make again:" >&2
  echo "  sudo apt-get install $packages      (Debian/Ubuntu)" >&2
  echo "  brew install mariadb-connector-c pkg-config   (macOS)" >&2
  exit 1
fi
