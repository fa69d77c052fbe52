#!/usr/bin/env bash
# Install what the page needs into .venv (only when pyproject.toml changed since the last
# install) and start it on http://127.0.0.1:8501 (this machine only; pass --address 0.0.0.0
# to serve others, --port N for another port). A restart makes no pip call, so it works
# offline; `.venv/bin/toe-twitch serve` starts the page without any check.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_python.sh
install_into_venv base   # only when .venv is older than pyproject.toml (no pip call otherwise)
exec .venv/bin/toe-twitch serve "$@"
