# Sourced by start.sh and test.sh: find a Python 3.11+ with venv, or stop with a clear message;
# then install_into_venv installs the project only when .venv is out of date.
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; install Python 3.11 or newer (or set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "error: $("$PYTHON" --version 2>&1) is too old; this project needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "error: $PYTHON has no venv module; on Debian or Ubuntu install it with: apt-get install python3-venv" >&2
    exit 1
  fi
  "$PYTHON" -m venv .venv
fi

# The install stamps: .venv/.installed-base (what start.sh installs) and .venv/.installed-dev
# (what test.sh installs, which includes the base) each hold the SHA-256 of the pyproject.toml
# they were installed from. The install is editable, so code changes need no reinstall; a
# changed pyproject.toml (dependencies, packages, data files) does.
_pyproject_hash() {
  .venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())'
}

_stamp_is_current() {  # _stamp_is_current base|dev
  [ -f ".venv/.installed-$1" ] && [ -x .venv/bin/toe-twitch ] \
    && [ "$(cat ".venv/.installed-$1")" = "$(_pyproject_hash)" ]
}

# install_into_venv base|dev: pip install -e . (or -e '.[dev]') unless a current stamp says it
# is installed already; then no pip call at all, so a restart needs no package index.
install_into_venv() {
  local extra="$1" spec=.
  if _stamp_is_current dev || { [ "$extra" = base ] && _stamp_is_current base; }; then
    return 0
  fi
  [ "$extra" = dev ] && spec='.[dev]'
  echo "installing the project into .venv (pyproject.toml changed, or the first start) ..." >&2
  rm -f .venv/.installed-base .venv/.installed-dev
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e "$spec"
  _pyproject_hash > ".venv/.installed-$extra"
}
