#!/usr/bin/env bash
# Start Tavana locally: one executor, one gateway (and the pg-adapter) on
# loopback, with sample data, printing how to connect. Runs until Ctrl-C.
#
# Provisions the DuckDB extension binaries, builds the `tavana` binary (release
# profile, build cache outside the clone), then hands over to `tavana up`.
# Extra arguments are passed to `tavana up` (for example `--data-dir DIR`).
#
# Environment:
#   CARGO_TARGET_DIR      build cache (default $HOME/.cache/tavana/target)
#   TAVANA_EXTENSION_DIR  extension directory (default $HOME/.cache/tavana/extensions)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tavana/target}"
extension_dir="${TAVANA_EXTENSION_DIR:-$HOME/.cache/tavana/extensions}"

"$root/scripts/provision-extensions.sh" "$extension_dir"

echo "up: building tavana (release; the first build compiles DuckDB and takes ~20 minutes)"
# Every crate of the lock file, test-only ones included: the executor's build script reads the
# whole workspace's metadata (see executor/build.rs).
cargo fetch --locked
cargo build --release --bin tavana

exec "$CARGO_TARGET_DIR/release/tavana" up --extension-dir "$extension_dir" "$@"
