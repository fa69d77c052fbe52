#!/usr/bin/env bash
# Install what the page needs into .venv and start it on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/streamlit run ui/app.py --server.headless true "$@"
