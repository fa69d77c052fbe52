"""The API reference is built from the docstrings by pdoc on every test run, so it cannot
rot: ``scripts/docs.sh`` (what a contributor runs) must build a page for every module
without a warning, and the pages must hold the public API."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_the_api_reference_builds_a_page_for_every_module_without_warnings(tmp_path):
    out = tmp_path / "api"
    env = {**os.environ, "DOCS_PYTHON": sys.executable}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "docs.sh"), str(out)],
                            capture_output=True, text=True, env=env, timeout=600)
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed[-3000:]
    # pdoc reports a module it cannot import or find as "Warn: ..." and still exits 0
    assert "Warn" not in printed and "Traceback" not in printed, printed[-3000:]
    assert (out / "index.html").is_file() and (out / "toe_twitch.html").is_file()
    # every module and subpackage of model/ (installed as toe_twitch) has its page
    modules = sorted(
        {p.stem for p in (ROOT / "model").glob("*.py") if not p.stem.startswith("_")}
        | {p.parent.name for p in (ROOT / "model").glob("*/__init__.py")}
    )
    assert {"core", "analysis", "vignettes", "interop", "cli", "priors"} <= set(modules)
    for name in modules:
        assert (out / "toe_twitch" / f"{name}.html").is_file(), f"no API page for toe_twitch.{name}"
    package = (out / "toe_twitch.html").read_text()
    core = (out / "toe_twitch" / "core.html").read_text()
    for name in ("load_model", "next_questions", "uncertainty"):
        assert name in package, f"{name} is missing from the package's page"
    assert "ToeTwitchModel" in core and "check_evidence" in core
