#!/usr/bin/env bash
# Build the Lambda package for a Zappa stage: `make package` (STAGE=production by default;
# ZAPPA_SETTINGS names another settings file). `scripts/package.sh --venv` only makes the
# runtime-only virtualenv (.venv-package), from which `make deploy` and friends run Zappa.
# The zip is built from a virtualenv holding only the run-time requirements, then the
# libraries Lambda lacks (libmariadb.so.3 for mysqlclient, and the authentication plugins it
# loads at run time, under lib/mariadb/plugin) are added under lib/ and the whole zip is
# checked by scripts/lambda_package.py.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=${STAGE:-production}
OUT=${OUT:-build/heroapp-$STAGE.zip}
ZAPPA_SETTINGS=${ZAPPA_SETTINGS:-zappa_settings.json}
VENV=.venv-package
PYTHON=${PYTHON:-$(scripts/find-python.sh)}

scripts/system-deps.sh
if [ ! -f "$VENV/.installed" ] || [ requirements.txt -nt "$VENV/.installed" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
  touch "$VENV/.installed"
fi
[ "${1:-}" = "--venv" ] && exit 0
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
# Zappa packages the active virtualenv; AWS is not contacted to build a package.
VIRTUAL_ENV="$PWD/$VENV" PATH="$PWD/$VENV/bin:$PATH" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" \
  "$VENV/bin/zappa" package "$STAGE" -s "$ZAPPA_SETTINGS" -o "$OUT" >"$OUT.log" 2>&1 || { cat "$OUT.log"; exit 1; }
"$VENV/bin/python" scripts/lambda_package.py vendor "$OUT"
