"""Scale: the engine is exact on synthetic noisy-OR networks and refuses what it cannot hold."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.scale import _encode, _evidence, synthetic
from toe_twitch.engine import CauseSpace
from toe_twitch.errors import EngineError
from toe_twitch.network import pgmpy_network


@pytest.mark.parametrize("causes", [12, 16])
def test_synthetic_network_posteriors_match_pgmpy(causes):
    """Risk factors, causes and noisy-OR findings built by the benchmark: the engine agrees
    with pgmpy's VariableElimination to 1e-9 on every cause."""
    from pgmpy.inference import VariableElimination

    structure, tables = synthetic(causes, seed=3)
    engine = CauseSpace(structure, tables)
    ve = VariableElimination(pgmpy_network(structure, tables))
    rng = np.random.default_rng(0)
    for _ in range(4):
        evidence = _evidence(structure, rng)
        ours = engine.query(_encode(structure, [evidence])).marginals[0]
        reference = ve.query(list(structure.causes), evidence=evidence, joint=False, show_progress=False)
        for i, c in enumerate(structure.causes):
            expected = reference[c].values[reference[c].state_names[c].index("present")]
            assert ours[i] == pytest.approx(expected, abs=1e-9)


def test_too_many_causes_are_refused_before_anything_is_allocated():
    structure, tables = synthetic(24, seed=0)
    with pytest.raises(EngineError, match=r"24 causes.*at most 22"):
        CauseSpace(structure, tables)


def test_a_network_beyond_the_memory_budget_is_refused_with_the_limit(monkeypatch):
    """The limit is checked before the arrays are made (here lowered to 8 MiB)."""
    from toe_twitch import engine

    monkeypatch.setattr(engine, "BANK_BUDGET_BYTES", 8 * 2**20)
    structure, tables = synthetic(18, seed=0)
    with pytest.raises(EngineError, match=r"18 causes need \d+ MiB for the cause states alone; the limit is 8 MiB"):
        CauseSpace(structure, tables)
