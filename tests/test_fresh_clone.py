"""A clone holds everything it needs: no folder beside it is read or cited.

The committed HEAD is cloned into a temporary folder (nothing else beside it) and a cheap
but meaningful part of the suite runs there (the vocabulary contract and every README
example), with the clone's own code first on the path; nothing may be skipped. The clone's
files must not point at a folder outside the repository.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: A path into the folder the project was started beside (spelt so this file does not match).
OUTSIDE = re.compile(r"\.\./" + "shared" + r"|\bshared" + "/")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("fresh")
    dest = where / "toe-twitch"
    result = subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in where.iterdir()) == ["toe-twitch"]
    return dest


def _clone_as_package(clone: Path, into: Path) -> Path:
    """The wheel's layout built from the clone's folders (model/ is toe_twitch, ui/ is
    toe_twitch.ui, priors/ is toe_twitch.priors_files), as symlinks, so the clone's own
    code is imported instead of the checkout's editable install."""
    package = into / "toe_twitch"
    package.mkdir(parents=True)
    for entry in (clone / "model").iterdir():
        (package / entry.name).symlink_to(entry)
    (package / "ui").symlink_to(clone / "ui")
    (package / "priors_files").symlink_to(clone / "priors")
    return into


def test_the_contract_and_readme_tests_pass_in_a_clone_with_nothing_skipped(clone, tmp_path):
    site = _clone_as_package(clone, tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{clone}"}
    env.pop("PYTEST_ADDOPTS", None)
    where = subprocess.run([sys.executable, "-c", "import toe_twitch; print(toe_twitch.__file__)"],
                           capture_output=True, text=True, cwd=clone, env=env, timeout=120)
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(site)), "the clone's own code must be imported"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
         "tests/test_vocabulary.py", "tests/test_readme.py"],
        capture_output=True, text=True, cwd=clone, env=env, timeout=900,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in summary and "skipped" not in summary, result.stdout[-4000:]


def test_no_file_of_the_clone_points_outside_the_repository(clone):
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=clone,
                           check=True).stdout.splitlines()
    found = []
    for name in files:
        if name.startswith("tests/data/"):
            continue
        try:
            text = (clone / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files (images) cite nothing
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not found, "files that cite a folder outside the repository:\n" + "\n".join(found)
