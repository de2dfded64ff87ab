#!/usr/bin/env bash
# Install what the benchmarks need; idempotent and quick when everything is there.
#
# - Debian packages: postgresql (the PostgreSQL 15 peer, and psql), iperf3 (loopback
#   bandwidth). Installed only when missing, with one `apt-get update` first; as
#   non-root a missing package is reported and that peer is skipped by the harness.
# - A Python venv for the harness at $TAVANA_BENCH_VENV (default
#   $HOME/.cache/tavana/bench-venv) with benchmarks/requirements.txt: the same
#   clients as the test suite, plus ROAPI (a peer, shipped as a wheel) and matplotlib.
#   A stamp of the pins and the interpreter skips pip when nothing changed.
#
# Usage: benchmarks/setup.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${TAVANA_BENCH_VENV:-$HOME/.cache/tavana/bench-venv}"
python="${PYTHON:-python3}"
req="$here/requirements.txt"
stamp="$venv/.tavana-bench-requirements.sha256"

# ---- Debian packages
missing=()
[[ -x /usr/lib/postgresql/15/bin/postgres ]] || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v iperf3 >/dev/null 2>&1 || missing+=(iperf3)
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "bench-setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The Debian package starts a cluster of its own on 5432: the harness runs a private one.
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
    fi
  else
    echo "bench-setup: missing ${missing[*]} (not root: install them to measure those peers)" >&2
  fi
fi

# ---- Python venv
want="$(
  {
    "$python" -c 'import sys; print(sys.version)'
    cat "$req"
  } | sha256sum | cut -d' ' -f1
)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "bench-setup: venv up to date at $venv"
  exit 0
fi
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  echo "bench-setup: creating venv at $venv"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
fi
echo "bench-setup: installing pinned requirements into $venv"
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
"$venv/bin/python" - <<'PY'
import adbc_driver_flightsql.dbapi  # noqa: F401
import duckdb
import matplotlib  # noqa: F401
import psycopg  # noqa: F401

assert duckdb.__version__ == "1.5.5", f"duckdb {duckdb.__version__}, need 1.5.5"
PY
[[ -x "$venv/bin/roapi" ]] || { echo "bench-setup: roapi binary missing from the venv" >&2; exit 1; }
echo "$want" >"$stamp"
echo "bench-setup: venv ready at $venv"
