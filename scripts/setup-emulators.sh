#!/usr/bin/env bash
# Install the object-store emulators the lake tests (tests/python/lake) start on loopback.
#
#   S3     moto[s3,server]       from the pinned Python venv (scripts/setup-python.sh)
#   GCS    gcp-storage-emulator  from the pinned Python venv
#   Azure  azurite (npm)         installed here, pinned, into $TAVANA_NODE_DIR
#                                (default $HOME/.cache/tavana/node)
#
# Idempotent and fast on re-run: nothing is installed when the pinned Azurite is present.
# The tests themselves start every emulator on port 0 and stop it afterwards; this script
# only makes sure the programs exist.
#
# Usage: scripts/setup-emulators.sh
set -euo pipefail

azurite_version="3.37.0"
node_dir="${TAVANA_NODE_DIR:-$HOME/.cache/tavana/node}"
venv="${TAVANA_VENV:-$HOME/.cache/tavana/venv}"

if ! command -v npm >/dev/null 2>&1; then
  echo "setup-emulators: npm not found (install Node.js 18+; Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

installed="$(
  node -e "console.log(require('$node_dir/node_modules/azurite/package.json').version)" 2>/dev/null || true
)"
if [[ "$installed" == "$azurite_version" && -x "$node_dir/node_modules/.bin/azurite-blob" ]]; then
  echo "setup-emulators: azurite $azurite_version present in $node_dir"
else
  echo "setup-emulators: installing azurite $azurite_version into $node_dir"
  mkdir -p "$node_dir"
  if [[ ! -f "$node_dir/package.json" ]]; then
    echo '{"name": "tavana-test-emulators", "private": true}' >"$node_dir/package.json"
  fi
  npm install --prefix "$node_dir" --no-audit --no-fund --loglevel=error \
    --save-exact "azurite@$azurite_version"
fi

if [[ -x "$venv/bin/python" ]]; then
  if ! "$venv/bin/python" -c 'import moto.server, gcp_storage_emulator.server' 2>/dev/null; then
    echo "setup-emulators: moto or gcp-storage-emulator missing from $venv: run scripts/setup-python.sh" >&2
    exit 1
  fi
  echo "setup-emulators: moto and gcp-storage-emulator present in $venv"
else
  echo "setup-emulators: no venv at $venv yet: run scripts/setup-python.sh" >&2
  exit 1
fi
