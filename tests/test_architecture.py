"""The layout as a specification: no import cycle (imports inside functions included),
and the model never imports the page.

Modules are read with :mod:`ast`, not imported: an import under ``if TYPE_CHECKING:`` is
for type hints only and is left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from tests.conftest import ROOT

#: Folder -> the import name it installs as (pyproject.toml's package-dir).
PACKAGES = {"model": "toe_twitch", "ui": "toe_twitch.ui"}


def module_files() -> dict[str, Path]:
    found = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if folder == "model" and parts[0] == "ui":
                continue
            name = ".".join((package, *[p for p in parts if p != "__init__"]))
            found[name] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The project's modules that ``path`` imports at any depth, but for type hints only."""
    tree = ast.parse(path.read_text())
    skipped = {id(n) for node in ast.walk(tree) if _type_checking_only(node)
               for body in node.body for n in ast.walk(body)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in modules else node.module)
    return found & modules


def import_graph() -> nx.DiGraph:
    files = module_files()
    graph = nx.DiGraph()
    for name, path in files.items():
        graph.add_node(name)
        for target in imports_of(path, set(files)):
            if target != name and not name.startswith(target + "."):  # a package's own init
                graph.add_edge(name, target)
    return graph


def test_the_import_graph_has_no_cycle():
    """No module imports one that imports it back, even from inside a function."""
    cycles = list(nx.simple_cycles(import_graph()))
    assert cycles == [], "\n".join(" -> ".join(c + c[:1]) for c in cycles[:5])


def test_the_model_never_imports_the_page():
    graph = import_graph()
    model = [n for n in graph if not n.startswith("toe_twitch.ui")]
    offending = [(a, b) for a in model for b in graph.successors(a) if b.startswith("toe_twitch.ui")]
    assert offending == []
    for name, path in module_files().items():
        if not name.startswith("toe_twitch.ui"):
            assert "import streamlit" not in path.read_text(), name
