"""The research notebooks: jupytext pairs committed clean, each run top to bottom in a fresh
kernel, each ending with assertions on what it computed.

Every notebook is ``notebooks/NN_name.py`` (percent format, the reviewed source) paired
with ``notebooks/NN_name.ipynb`` (what Jupyter opens); see ``notebooks/README.md``.
Committed clean means what ``nbstripout`` leaves: no outputs, no execution counts, cell
ids numbered 0, 1, 2 ..., and no metadata but the kernel and jupytext's filters. Running
must leave ``notebooks/`` as it was (exports go to a temporary folder).
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

nbformat = pytest.importorskip("nbformat", reason="notebook tests need the dev extra")

NOTEBOOKS = ROOT / "notebooks"
NAMES = [
    "01_tour",
    "02_vignettes",
    "03_sensitivity",
    "04_uncertainty",
    "05_population",
    "06_interop",
    "07_calibration",
    "08_learning",
]
#: Seconds any one cell may take before the notebook fails.
CELL_TIMEOUT = 240
#: Each notebook runs in under a minute, two at a time on a 2-core machine; fail well past that.
NOTEBOOK_LIMIT = 120
#: The modules a notebook may import from the project (the public API).
PUBLIC_MODULES = {"toe_twitch", "toe_twitch.analysis", "toe_twitch.vignettes", "toe_twitch.interop",
                  "toe_twitch.learning"}
#: Notebook metadata a clean notebook may carry.
NOTEBOOK_METADATA = {"kernelspec", "jupytext"}
#: Cell metadata a clean notebook may carry: jupytext's record of the blank lines that
#: ``ruff format`` puts before a function at the start of the next cell.
CELL_METADATA = {"lines_to_next_cell"}
STRIP = "nbstripout notebooks/{name}.ipynb"
REGENERATE = "jupytext --to ipynb notebooks/{name}.py && nbstripout notebooks/{name}.ipynb"


def _read(name: str):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def test_every_notebook_is_a_pair_and_nothing_generates_them():
    """Each notebook is a .py and an .ipynb of the same name; no other script sits beside
    them (the notebooks are the source, not the output of a generator)."""
    scripts = sorted(p.stem for p in NOTEBOOKS.glob("*.py"))
    notebooks = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert scripts == NAMES, f"scripts in notebooks/: {scripts}"
    assert notebooks == NAMES, f"notebooks in notebooks/: {notebooks}"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_clean(name):
    """What nbstripout would leave: results and Jupyter's bookkeeping belong to whoever runs
    the notebook, not to the repository."""
    nb = _read(name)
    nbformat.validate(nb)
    outputs, metadata = [], []
    ran = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    if ran:
        outputs.append(f"cells {ran} have outputs or execution counts")
    if [c.get("id") for c in nb.cells] != [str(i) for i in range(len(nb.cells))]:
        outputs.append("cell ids are not 0, 1, 2 and so on")
    for i, cell in enumerate(nb.cells):
        if set(cell.metadata) - CELL_METADATA:
            metadata.append(f"cell {i} has metadata {sorted(set(cell.metadata) - CELL_METADATA)}")
    extra = set(nb.metadata) - NOTEBOOK_METADATA
    if extra:
        metadata.append(f"notebook metadata {sorted(extra)}")
    if "text_representation" in nb.metadata.get("jupytext", {}):
        metadata.append("jupytext metadata with a version (text_representation)")
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        metadata.append(f"kernel {nb.metadata.get('kernelspec')!r}, expected python3")
    assert not outputs, f"{name}.ipynb: {'; '.join(outputs)}. Run: {STRIP.format(name=name)}"
    assert not metadata, (
        f"{name}.ipynb: {'; '.join(metadata)}; the .py file cannot carry it. "
        f"Run: {REGENERATE.format(name=name)}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_notebook_and_its_script_agree(name):
    """The .py and the .ipynb hold the same cells, text and code alike."""
    jupytext = pytest.importorskip("jupytext", reason="comparing the pairs needs jupytext")
    script = jupytext.read(NOTEBOOKS / f"{name}.py")
    notebook = _read(name)
    cells = [(c.cell_type, c.source) for c in script.cells]
    assert [(c.cell_type, c.source) for c in notebook.cells] == cells, (
        f"notebooks/{name}.py and {name}.ipynb differ; after editing one, run "
        f"jupytext --sync notebooks/{name}.ipynb (the newer file wins)"
    )
    assert notebook.metadata.get("kernelspec") == script.metadata.get("kernelspec")


@pytest.mark.parametrize("name", NAMES)
def test_notebook_ends_with_assertions_on_what_it_computed(name):
    """The last cell checks results (several assertions), announced by a text cell."""
    cells = _read(name).cells
    last, before = cells[-1], cells[-2]
    assert last.cell_type == "code", f"{name}: the last cell is not code"
    asserts = [n for n in ast.walk(ast.parse(last.source)) if isinstance(n, ast.Assert)]
    assert len(asserts) >= 3, f"{name}: the last cell has {len(asserts)} assertions"
    assert 'print("all checks passed")' in last.source
    assert before.cell_type == "markdown" and "## Checks" in before.source, name


@pytest.mark.parametrize("name", NAMES)
def test_notebook_uses_only_the_public_api(name):
    """Notebooks import from the public modules only and touch no private name."""
    tree = ast.parse((NOTEBOOKS / f"{name}.py").read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "toe_twitch":
            if node.module not in PUBLIC_MODULES:
                problems.append(f"line {node.lineno}: from {node.module} import ...")
            problems += [
                f"line {node.lineno}: imports {a.name}"
                for a in node.names
                if a.name.startswith("_")
            ]
        elif isinstance(node, ast.Import):
            problems += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if a.name.split(".")[0] == "toe_twitch" and a.name not in PUBLIC_MODULES
            ]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            problems.append(f"line {node.lineno}: .{node.attr}")
    assert not problems, f"{name}.py reaches past the public API: {problems}"


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


#: Notebooks run two at a time (the machine's two CPUs; each runs in its own kernel).
PARALLEL = 2


@pytest.fixture(scope="module")
def executed(kernel_name) -> dict[str, tuple[object, float]]:
    """Every notebook run in a fresh kernel, two at a time, longest first: for each, the
    executed notebook (or the exception that stopped it) and its seconds. Also checks
    that the runs together wrote nothing into the project's notebooks/ folder."""
    from concurrent.futures import ThreadPoolExecutor

    nbclient = pytest.importorskip("nbclient", reason="running notebooks needs the dev extra")

    def run(name: str) -> tuple[object, float]:
        nb = _read(name)
        client = nbclient.NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name=kernel_name,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        start = time.perf_counter()
        try:
            client.execute()
        except Exception as exc:  # noqa: BLE001 - reported by the notebook's own test
            return exc, time.perf_counter() - start
        return nb, time.perf_counter() - start

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(
            "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        )
        before = _snapshot(NOTEBOOKS)
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            results = dict(zip(reversed(NAMES), pool.map(run, reversed(NAMES)), strict=True))
        after = _snapshot(NOTEBOOKS)
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert not changed, f"the notebooks wrote into notebooks/: {changed}"
    return results


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, executed):
    """The notebook executes in a fresh kernel without error, its final assertions pass,
    and it writes nothing into the project's notebooks/ folder (checked for all of them
    together: they run two at a time)."""
    nb, elapsed = executed[name]
    if isinstance(nb, Exception):
        raise nb
    printed = "".join(
        output.get("text", "") for output in nb.cells[-1].outputs if output.output_type == "stream"
    )
    assert "all checks passed" in printed
    assert elapsed < NOTEBOOK_LIMIT, f"{name} took {elapsed:.0f} s"
    print(f"{name}: {elapsed:.1f} s")
