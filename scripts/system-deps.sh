#!/usr/bin/env bash
# Installs the system services the test suite needs when they are missing: the PostgreSQL server
# binaries (the tests start their own throwaway server from them) and, for the browser tests,
# Debian's Chromium. Needs root and apt-get to install; otherwise it says what is missing.
# Under CI (CI=true) a missing piece that cannot be installed is an error, not a warning.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
  || missing+=(postgresql)
if [ -d tests/web ] && ls tests/web/test_*.py >/dev/null 2>&1; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a cluster on install; the tests use throwaway servers of their own.
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for cluster in /etc/postgresql/*/main; do
      [ -d "$cluster" ] || continue
      version=$(basename "$(dirname "$cluster")")
      pg_ctlcluster "$version" main stop >/dev/null 2>&1 || true
    done
  fi
  exit 0
fi

message="system-deps: missing ${missing[*]} and cannot install (need root and apt-get)"
if [ "${CI:-}" = "true" ]; then
  echo "$message" >&2
  exit 1
fi
echo "$message; the tests that need them will skip" >&2
