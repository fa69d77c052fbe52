#!/usr/bin/env bash
# Build the API reference from the docstrings with pdoc (pip install -e '.[dev]' or
# scripts/test.sh installs it): bash scripts/docs.sh [OUT], default docs/api (not committed).
# Every module of the toe_twitch package is documented (the page, toe_twitch.ui, is not API).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/api}"
py="${DOCS_PYTHON:-.venv/bin/python}"
modules=$("$py" -c '
import pkgutil, toe_twitch
print(" ".join(["toe_twitch"] + sorted(
    "toe_twitch." + m.name for m in pkgutil.iter_modules(toe_twitch.__path__)
    if not m.name.startswith("_") and m.name != "ui" and m.name != "priors_files")))')
# shellcheck disable=SC2086
exec "$py" -m pdoc --docformat numpy -o "$out" $modules
