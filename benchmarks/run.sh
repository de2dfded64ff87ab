#!/usr/bin/env bash
# Tavana benchmarks: one command, everything on loopback, in the same run.
#
#   benchmarks/run.sh            full run (< 30 min on 2 cores; data cached after the first):
#                                writes benchmarks/results/<date>.md, .png and .json
#   benchmarks/run.sh --quick    tiny data, seconds: CI's guard that the harness still works.
#                                Prints the report; exits non-zero only if the harness broke.
#
# Other options go to the harness (benchmarks/tavana_bench): --out FILE, --only
# large-arrow,large-pg,latency,tpch,concurrency, --large-sf N, --keep; --no-build skips cargo.
#
# Steps: install the peers and the harness venv (benchmarks/setup.sh), provision the
# DuckDB extensions (scripts/provision-extensions.sh), build the release binary,
# wait for other compilers to finish (full mode; they skew every figure), then run
# the harness, which generates the data (cached in $HOME/.cache/tavana/bench-data),
# starts Tavana, PostgreSQL 15, ROAPI and iperf3, measures, and stops them all.
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/tavana/target),
# TAVANA_EXTENSION_DIR, TAVANA_BENCH_VENV, TAVANA_BENCH_DATA, TAVANA_BENCH_PG_DIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tavana/target}"
export TAVANA_EXTENSION_DIR="${TAVANA_EXTENSION_DIR:-$HOME/.cache/tavana/extensions}"
export TAVANA_BENCH_VENV="${TAVANA_BENCH_VENV:-$HOME/.cache/tavana/bench-venv}"

quick=0
build=1
args=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1; args+=("$arg") ;;
    --no-build) build=0 ;;
    -h | --help)
      sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) args+=("$arg") ;;
  esac
done

"$here/setup.sh"
"$root/scripts/provision-extensions.sh" "$TAVANA_EXTENSION_DIR"

if [[ $build -eq 1 ]]; then
  echo "bench: cargo build --release --bin tavana"
  cargo build --release --bin tavana
fi
binary="$CARGO_TARGET_DIR/release/tavana"
[[ -x "$binary" ]] || { echo "bench: $binary missing (build it, or drop --no-build)" >&2; exit 1; }

if [[ $quick -eq 0 ]]; then
  waited=0
  while pgrep -x 'rustc|cc1plus' >/dev/null && [[ $waited -lt 900 ]]; do
    [[ $waited -eq 0 ]] && echo "bench: a compiler is running; waiting up to 15 min for clean figures"
    sleep 10
    waited=$((waited + 10))
  done
fi

cd "$here"
exec "$TAVANA_BENCH_VENV/bin/python" -m tavana_bench --binary "$binary" "${args[@]}"
