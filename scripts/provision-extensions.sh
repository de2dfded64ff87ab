#!/usr/bin/env bash
# Provision the official DuckDB 1.5.5 extension binaries for offline use.
#
# PyPI carries them as wheels `duckdb-extension-<name>==1.5.5`; we download each
# wheel (no dependencies), take its `*.duckdb_extension` file out and lay it out
# the way DuckDB's `extension_directory` expects:
#
#   DIR/v1.5.5/<platform>/<name>.duckdb_extension
#
# Point the executor at DIR (`--extension-dir DIR` / TAVANA_EXTENSION_DIR).
# Idempotent: an extension already present is skipped.
#
# Usage: scripts/provision-extensions.sh [DIR]   (default: $HOME/.cache/tavana/extensions)
set -euo pipefail

DUCKDB_VERSION="1.5.5"
EXTENSIONS=(icu httpfs aws azure delta iceberg avro tpch)

dir="${1:-${TAVANA_EXTENSION_DIR:-$HOME/.cache/tavana/extensions}}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform="linux_amd64" ;;
  Linux-aarch64 | Linux-arm64) platform="linux_arm64" ;;
  *)
    echo "provision-extensions: unsupported platform $(uname -s)-$(uname -m)" >&2
    exit 1
    ;;
esac

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "provision-extensions: $python not found (needed for pip download)" >&2
  exit 1
fi

dest="$dir/v$DUCKDB_VERSION/$platform"
mkdir -p "$dest"

missing=()
for name in "${EXTENSIONS[@]}"; do
  if [[ -s "$dest/$name.duckdb_extension" ]]; then
    continue
  fi
  missing+=("$name")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "provision-extensions: all ${#EXTENSIONS[@]} extensions present in $dest"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for name in "${missing[@]}"; do
  echo "provision-extensions: fetching duckdb-extension-$name==$DUCKDB_VERSION"
  if ! "$python" -m pip download --quiet --no-deps --only-binary=:all: \
      --dest "$work/$name" "duckdb-extension-$name==$DUCKDB_VERSION"; then
    echo "provision-extensions: pip download of duckdb-extension-$name==$DUCKDB_VERSION failed" >&2
    exit 1
  fi
  # Extract the one *.duckdb_extension member; write to a temp name, then rename,
  # so an interrupted run never leaves a truncated extension behind.
  "$python" - "$work/$name" "$name" "$dest/$name.duckdb_extension" <<'PY'
import glob, os, shutil, sys, zipfile

wheel_dir, name, target = sys.argv[1:4]
wheels = glob.glob(os.path.join(wheel_dir, "*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one wheel in {wheel_dir}, found {wheels}")
with zipfile.ZipFile(wheels[0]) as zf:
    members = [m for m in zf.namelist() if m.endswith(f"/{name}.duckdb_extension")]
    if len(members) != 1:
        sys.exit(f"expected one {name}.duckdb_extension in {wheels[0]}, found {members}")
    tmp = target + ".part"
    with zf.open(members[0]) as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.replace(tmp, target)
PY
  echo "provision-extensions: installed $dest/$name.duckdb_extension"
done

echo "provision-extensions: ${#EXTENSIONS[@]} extensions ready in $dest"
