"""A restart of the page needs no package index: ``scripts/start.sh`` installs only when
``.venv`` is older than ``pyproject.toml`` (a stamp of its hash), and otherwise makes no pip
call at all (issue 25: a restart failed offline with "No matching distribution found for
setuptools>=77" and printed setuptools' editable-install warning every time).
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.test_package import free_port, stop_server, wait_for_page

START = ROOT / "scripts" / "start.sh"


def _start(port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        ["bash", str(START), "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def test_a_second_start_works_with_the_package_index_unreachable(tmp_path):
    # The first start installs if .venv is out of date (as a user's first start would).
    port = free_port()
    first = _start(port, dict(os.environ))
    try:
        wait_for_page(first, port, timeout=600)
    finally:
        stop_server(first, port)
    stamps = [ROOT / ".venv" / ".installed-base", ROOT / ".venv" / ".installed-dev"]
    assert any(p.is_file() for p in stamps), "the first start leaves an install stamp in .venv"

    # The second start: pip could find nothing (no index, an empty find-links folder), so
    # any pip install would fail; the page must come up anyway, without pip's output.
    empty = tmp_path / "no-packages"
    empty.mkdir()
    offline = {
        **os.environ,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(empty),
        "PIP_INDEX_URL": "http://127.0.0.1:9/unreachable",
    }
    port = free_port()
    second = _start(port, offline)
    try:
        wait_for_page(second, port, timeout=120)
    finally:
        stop_server(second, port)
    output = second.stdout.read()
    assert "installing the project" not in output, output
    assert "setuptools" not in output and "editable" not in output.lower(), output


def test_the_install_stamp_calls_pip_only_when_pyproject_changes(tmp_path):
    """``install_into_venv`` (scripts/_python.sh) against a .venv whose pip only logs its
    calls: the first start installs and stamps, the next makes no pip call, a changed
    pyproject.toml installs again, and the test command's install serves a start too."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "_python.sh").write_text((ROOT / "scripts" / "_python.sh").read_text())
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    log = tmp_path / "pip.log"
    (venv / "python").write_text(
        "#!/usr/bin/env bash\n"
        f'if [ "$1 $2" = "-m pip" ]; then echo "$*" >> {log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    (venv / "toe-twitch").write_text("#!/bin/sh\n")
    for script in venv.iterdir():
        script.chmod(0o755)

    def install(extra: str) -> list[str]:
        log.write_text("")
        result = subprocess.run(
            ["bash", "-c", f"set -euo pipefail; . scripts/_python.sh; install_into_venv {extra}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
            env={**os.environ, "PYTHON": sys.executable},
        )
        assert result.returncode == 0, result.stderr
        return log.read_text().splitlines()

    first = install("base")
    assert first == ["-m pip install --quiet --upgrade pip", "-m pip install --quiet -e ."]
    assert install("base") == [], "an installed .venv makes no pip call"
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '2'\n")
    assert install("base")[-1] == "-m pip install --quiet -e ."
    assert install("dev")[-1] == "-m pip install --quiet -e .[dev]"
    assert install("dev") == [] and install("base") == [], "the dev install holds the page's"
    assert not (tmp_path / ".venv" / ".installed-base").exists()
