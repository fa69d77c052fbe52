#!/usr/bin/env bash
# Install what the page needs into .venv and start it on http://127.0.0.1:8501 (this
# machine only; pass --address 0.0.0.0 to serve others, --port N for another port).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_python.sh
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/toe-twitch serve "$@"
