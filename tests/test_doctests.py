"""The examples in the package's docstrings run and print what they show (they are the
first code a reader of the API reference tries)."""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests.test_architecture import module_files

WITH_EXAMPLES = sorted(name for name, path in module_files().items() if ">>>" in path.read_text())


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_the_examples_of_a_module_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
