#!/usr/bin/env bash
# Debian packages the test suite needs beyond the machine image: the pgJDBC driver jar for the
# JDBC tests, openssl for the TLS tests, and the PostgreSQL 15 server the differential tests
# compare the pg-adapter's answers with (Java 17 and psql are already on the image). Idempotent:
# apt runs only when a package is missing.
#
# Usage: scripts/setup-system.sh
set -euo pipefail

packages=(libpostgresql-jdbc-java openssl postgresql-15)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup-system: ${packages[*]} present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup-system: installing ${missing[*]} needs root (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "setup-system: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
