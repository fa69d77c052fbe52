"""A restart of the page needs no package index: ``scripts/start.sh`` installs only when
``.venv`` is older than ``pyproject.toml`` (a stamp of its hash), and otherwise makes no pip
call at all (issue 25: a restart failed offline with "No matching distribution found for
setuptools>=77" and printed setuptools' editable-install warning every time).
"""

from __future__ import annotations

import os
import subprocess

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
