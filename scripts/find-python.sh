#!/usr/bin/env bash
# Print the path of a Python 3.12 interpreter, or explain how to get one.
# Lambda's runtime is python3.12, so the virtualenv is built with the same version.
set -euo pipefail
want=3.12
for candidate in "${PYTHON:-}" "python$want" \
    "$HOME"/.pyenv/versions/$want*/bin/python$want \
    /usr/local/bin/python$want /usr/bin/python$want; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c "import sys; sys.exit(sys.version_info[:2] != (3, 12))" 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
cat >&2 <<MSG
Python $want was not found. Install it, then run make again:
  - with pyenv:   pyenv install $want
  - on Debian 13: apt-get install python$want-full
  - or point the Makefile at one: make PYTHON=/path/to/python$want ...
MSG
exit 1
