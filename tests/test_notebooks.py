"""The research notebooks: committed without outputs, generated from notebooks/build.py,
and each run top to bottom (its last cell asserts on what it computed).

Each notebook runs in a fresh kernel of the current interpreter, in ``notebooks/`` so its
relative paths work, with a time limit per cell; a notebook that fails an assertion or
raises fails its test. Running must leave ``notebooks/`` as it was (exports go to a
temporary folder).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

nbformat = pytest.importorskip("nbformat", reason="notebook tests need the dev extra")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need the dev extra")

NOTEBOOKS = ROOT / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
#: Seconds any one cell may take before the notebook fails.
CELL_TIMEOUT = 240
#: A notebook is meant to run in under a minute on a 2-core machine; fail well past that.
NOTEBOOK_LIMIT = 180


def test_there_are_six_notebooks():
    assert NAMES == [
        "01_tour.ipynb",
        "02_vignettes.ipynb",
        "03_sensitivity.ipynb",
        "04_uncertainty.ipynb",
        "05_population.ipynb",
        "06_interop.ipynb",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_without_outputs(name):
    """No outputs and no execution counts: results belong to whoever runs the notebook."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name} cell {i} has outputs; clear them before committing"
            assert cell.execution_count is None, f"{name} cell {i} has an execution count"


def _build_module():
    spec = importlib.util.spec_from_file_location("notebook_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_match_their_build_script():
    """Edit notebooks/build.py and run it; a hand edit to a notebook shows up here."""
    built = _build_module().build()
    assert sorted(built) == NAMES
    for name, nb in built.items():
        committed = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert [c.source for c in committed.cells] == [c.source for c in nb.cells], (
            f"{name} differs from notebooks/build.py; run python notebooks/build.py"
        )


def test_every_notebook_ends_with_assertions():
    for name in NAMES:
        last = nbformat.read(NOTEBOOKS / name, as_version=4).cells[-1]
        assert last.cell_type == "code" and "assert " in last.source, name


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory) -> str:
    """``python3`` if registered, else a kernel spec for the interpreter running the tests."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" in KernelSpecManager().find_kernel_specs():
        return "python3"
    folder = tmp_path_factory.mktemp("jupyter") / "kernels" / "toe-twitch-tests"
    folder.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "toe-twitch tests",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(folder.parent.parent), os.environ.get("JUPYTER_PATH")])
    )
    return "toe-twitch-tests"


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts
    }


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, kernel_name, monkeypatch):
    """The notebook executes without error, its final assertions pass, and it writes nothing
    into the project's notebooks/ folder."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    before = _snapshot(NOTEBOOKS)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    assert "all checks passed" in "".join(
        output.get("text", "") for output in nb.cells[-1].outputs if output.output_type == "stream"
    )
    assert _snapshot(NOTEBOOKS) == before, f"{name} wrote into notebooks/"
    assert elapsed < NOTEBOOK_LIMIT, f"{name} took {elapsed:.0f} s"
    print(f"{name}: {elapsed:.1f} s")
