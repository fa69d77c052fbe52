"""The package installs anywhere: a built wheel runs from outside the checkout.

The wheel is built once (pip's isolated build, as a user's ``pip install .`` would) and
installed into a temporary folder; every command then runs from another folder with that
folder first on the path, so nothing can come from the checkout.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    return next(wheels.glob("toe_twitch-*.whl"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel) -> Path:
    target = tmp_path_factory.mktemp("site")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return target


def _run(installed: Path, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


def test_the_wheel_holds_every_package_and_data_file(installed):
    wheel_root = installed
    for path in ("toe_twitch/data/vocabulary.yaml", "toe_twitch/data/advice.yaml",
                 "toe_twitch/data/vignettes.yaml", "toe_twitch/priors_files/default.yaml",
                 "toe_twitch/ui/app.py"):
        assert (wheel_root / path).is_file(), path
    # every Python package of the checkout is in the wheel
    for folder, package in (("model", "toe_twitch"), ("ui", "toe_twitch/ui"), ("priors", "toe_twitch/priors_files")):
        for init in (ROOT / folder).rglob("*.py"):
            relative = init.relative_to(ROOT / folder)
            if "__pycache__" in relative.parts:
                continue
            assert (wheel_root / package / relative).is_file(), f"{folder}/{relative} is missing from the wheel"


def test_the_wheel_installs_one_import_package_of_the_projects_name(wheel, installed, tmp_path):
    """Only toe_twitch: no top-level ``model`` or ``ui`` to clash with other projects."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"toe_twitch"}, sorted(top)
    record = (installed / dist_info / "RECORD").read_text().splitlines()
    installed_top = {line.split(",")[0].split("/")[0] for line in record}
    # scripts are recorded outside the import folder (../bin/toe-twitch)
    assert installed_top - {dist_info, ".."} == {"toe_twitch"}, sorted(installed_top)
    # a typed package with its licence
    assert "toe_twitch/py.typed" in names
    assert any(n.startswith(f"{dist_info}/licenses/LICENSE") for n in names), names
    imported = _run(installed, tmp_path, "-c", "import toe_twitch; print(toe_twitch.load_model)")
    assert imported.returncode == 0, imported.stderr
    for other in ("model", "ui", "priors"):
        missing = _run(installed, tmp_path, "-c", f"import {other}")
        assert missing.returncode != 0, f"the wheel installs a top-level {other!r}"


def test_diagnose_and_evaluate_run_from_outside_the_checkout(installed, tmp_path):
    where = _run(installed, tmp_path, "-c", "import toe_twitch, toe_twitch.priors_files; print(toe_twitch.__file__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(installed)), "the checkout must not be imported"
    result = _run(installed, tmp_path, "-m", "toe_twitch", "diagnose", "--json", "age_group=adult", "leg_pain=yes")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["ranking"]) == 12
    result = _run(installed, tmp_path, "-m", "toe_twitch", "evaluate")
    assert result.returncode == 0, result.stderr
    assert "vignettes: top-1" in result.stdout
    assert not list(tmp_path.iterdir()), "nothing is written into the working folder"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_page(process: subprocess.Popen, port: int, timeout: float = 120) -> None:
    """Wait until the page on ``port`` answers its health check, then check the page itself
    answers HTTP 200; fail with the server's output if it stopped first."""
    deadline = time.monotonic() + timeout
    healthy = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                healthy = r.status == 200
                break
        except OSError:
            time.sleep(0.5)
    assert healthy, f"the page did not start: {process.stdout.read() if process.poll() is not None else ''}"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
        assert r.status == 200


def stop_server(process: subprocess.Popen, port: int) -> None:
    """Stop the server and check nothing is left on the port."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)
    time.sleep(1)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)


def test_serve_starts_the_page_from_the_installed_package(installed, tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(installed)}
    process = subprocess.Popen(
        [sys.executable, "-m", "toe_twitch", "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_for_page(process, port)
    finally:
        # Stopping `serve` stops the page: no server is left behind on the port.
        stop_server(process, port)


def test_the_wheel_metadata_has_an_spdx_licence(installed):
    metadata = next(installed.glob("toe_twitch-*.dist-info")) / "METADATA"
    text = metadata.read_text()
    assert "License-Expression: MIT" in text


def test_the_sdist_free_wheel_has_no_tests_or_notebooks(installed):
    assert not (installed / "tests").exists() and not (installed / "notebooks").exists()


def test_the_wheel_file_itself_is_small(installed):
    """A wheel, not a copy of the repository (the data files are a few hundred kB)."""
    total = sum(p.stat().st_size for p in installed.rglob("*") if p.is_file())
    assert total < 5 * 2**20
