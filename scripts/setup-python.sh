#!/usr/bin/env bash
# Create (or update) the Python venv for Tavana's real-client test suite.
#
# The venv lives outside the clone, at $TAVANA_VENV (default
# $HOME/.cache/tavana/venv), with every version pinned by
# tests/python/requirements.txt and tests/python/constraints.txt.
# Idempotent and fast on re-run: a stamp file records a hash of the pins and the
# interpreter, and nothing is installed while it matches.
#
# Usage: scripts/setup-python.sh
#
# To move the pins: edit requirements.txt, then in a scratch venv
#   pip install -r tests/python/requirements.txt && pip freeze
# and write that into tests/python/constraints.txt.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TAVANA_VENV:-$HOME/.cache/tavana/venv}"
python="${PYTHON:-python3}"
req="$root/tests/python/requirements.txt"
constraints="$root/tests/python/constraints.txt"
stamp="$venv/.tavana-requirements.sha256"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup-python: $python not found" >&2
  exit 1
fi

want="$(
  {
    "$python" -c 'import sys; print(sys.version)'
    cat "$req" "$constraints"
  } | sha256sum | cut -d' ' -f1
)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "setup-python: venv up to date at $venv"
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  echo "setup-python: creating venv at $venv"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
fi

echo "setup-python: installing pinned requirements into $venv"
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$req" -c "$constraints"

# Fail here, not in the middle of pytest, if the drivers cannot be imported.
"$venv/bin/python" - <<'PY'
import adbc_driver_flightsql.dbapi  # noqa: F401
import duckdb
import pyarrow.flight  # noqa: F401
import pytest  # noqa: F401

assert duckdb.__version__ == "1.5.5", f"duckdb {duckdb.__version__}, need 1.5.5"
PY

echo "$want" >"$stamp"
echo "setup-python: venv ready at $venv"
