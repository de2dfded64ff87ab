#!/usr/bin/env bash
# Tavana's whole test suite, as CI runs it (.ci/run calls exactly this).
#
# Stages, each timed, stopping at the first failure:
#   extensions  scripts/provision-extensions.sh (DuckDB extension binaries, offline)
#   python      scripts/setup-python.sh (pinned venv for the real-client tests)
#   system      scripts/setup-system.sh (Debian packages: the pgJDBC jar, PostgreSQL 15)
#   emulators   scripts/setup-emulators.sh (Azurite; moto and the GCS emulator come with the venv)
#   fmt         cargo fmt --all --check
#   clippy      cargo clippy --release --workspace --all-targets -- -D warnings
#   build       cargo build --release --bin tavana
#   rust-tests  cargo nextest run --release --workspace (cargo test if nextest is absent)
#   pytest      pytest tests/python, against the built binary
#   bench-quick benchmarks/run.sh --quick: the benchmark harness on tiny data (never judged on speed)
#
# Everything builds in one profile (release) into one target directory outside
# the clone: a second DuckDB build costs 20+ minutes on a 2-core machine.
#
# Environment:
#   CARGO_TARGET_DIR      build cache (default $HOME/.cache/tavana/target)
#   TAVANA_EXTENSION_DIR  extension directory (default $HOME/.cache/tavana/extensions)
#   TAVANA_VENV           Python venv (default $HOME/.cache/tavana/venv)
#   PYTEST_ARGS           extra pytest arguments (e.g. "-k tpch -x")
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tavana/target}"
export TAVANA_EXTENSION_DIR="${TAVANA_EXTENSION_DIR:-$HOME/.cache/tavana/extensions}"
export TAVANA_VENV="${TAVANA_VENV:-$HOME/.cache/tavana/venv}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

suite_start=$SECONDS
timings=()
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
junit="$work/pytest.xml"

# stage NAME CMD...: run CMD, print its duration, stop the suite on failure.
stage() {
  local name="$1"
  shift
  local start=$SECONDS rc=0
  echo
  echo "==> [$name] $*"
  "$@" || rc=$?
  local took=$((SECONDS - start))
  if [[ $rc -ne 0 ]]; then
    echo
    echo "test.sh: stage '$name' FAILED (exit $rc) after ${took}s: $*" >&2
    print_timings
    print_pytest_summary
    exit "$rc"
  fi
  timings+=("$(printf '%-11s %5ss' "$name" "$took")")
  echo "<== [$name] ok in ${took}s"
}

print_timings() {
  echo
  echo "test.sh: stage timings"
  local t
  for t in "${timings[@]}"; do
    echo "  $t"
  done
  echo "  total       $((SECONDS - suite_start))s"
}

# The suite's closing line: pytest's counts, read from its JUnit report.
print_pytest_summary() {
  [[ -s "$junit" ]] || return 0
  "$TAVANA_VENV/bin/python" - "$junit" <<'PY'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"pytest: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
}

# Stage functions run under `||` (see stage), where `set -e` does not apply:
# every step checks its own status.
rust_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --release --workspace --no-fail-fast || return $?
    # nextest does not run doctests.
    cargo test --release --workspace --doc || return $?
  else
    cargo test --release --workspace --no-fail-fast || return $?
  fi
}

run_pytest() {
  local bin="$CARGO_TARGET_DIR/release/tavana"
  if [[ ! -x "$bin" ]]; then
    echo "test.sh: $bin missing after the build stage" >&2
    return 1
  fi
  local rc=0
  # shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose
  PATH="$TAVANA_VENV/bin:$PATH" TAVANA_BIN="$bin" "$TAVANA_VENV/bin/python" -m pytest tests/python \
    --junitxml="$junit" ${PYTEST_ARGS:-} || rc=$?
  if [[ $rc -eq 5 ]]; then
    echo "test.sh: pytest collected no tests (exit 5): treating as a failure" >&2
  fi
  return "$rc"
}

stage extensions ./scripts/provision-extensions.sh "$TAVANA_EXTENSION_DIR"
stage python ./scripts/setup-python.sh
stage system ./scripts/setup-system.sh
stage emulators ./scripts/setup-emulators.sh
stage fmt cargo fmt --all --check
stage clippy cargo clippy --release --workspace --all-targets -- -D warnings
stage build cargo build --release --bin tavana
stage rust-tests rust_tests
stage pytest run_pytest
stage bench-quick ./benchmarks/run.sh --quick --no-build

print_timings
echo "test.sh: all stages passed"
print_pytest_summary
