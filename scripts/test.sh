#!/usr/bin/env bash
# Install everything the tests use (Python packages into .venv, Debian's chromium for the
# browser tests) and run the whole test suite: lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_python.sh
install_into_venv dev    # only when .venv is older than pyproject.toml (no pip call otherwise)
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium is not installed and installing it needs root and apt-get; the browser tests will skip" >&2
  fi
fi
.venv/bin/ruff check model ui tests benchmarks notebooks
.venv/bin/python -m pytest "$@"
