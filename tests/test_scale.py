"""Scale: the engine is exact on synthetic noisy-OR networks and refuses intractable ones."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.scale import synthetic_network
from model.engine import engine_from_pgmpy
from model.errors import EngineError
from model.pruning import PrunedEngine


def test_synthetic_network_posteriors_match_pgmpy():
    """On the 24-cause synthetic network our pruned engine agrees with pgmpy's VE to 1e-9."""
    from pgmpy.inference import VariableElimination

    network, causes, findings = synthetic_network(24, seed=3)
    full, states = engine_from_pgmpy(network)
    engine = PrunedEngine(full.cardinalities, full.factors)
    ve = VariableElimination(network)
    rng = np.random.default_rng(0)
    for _ in range(5):
        observed = rng.choice(findings, size=8, replace=False)
        evidence = {str(f): str(rng.choice(["absent", "present"])) for f in observed}
        columns = {f: np.array([states[f].index(s)]) for f, s in evidence.items()}
        ours = engine.query(columns, causes[:6]).marginals
        reference = ve.query(causes[:6], evidence=evidence, joint=False, show_progress=False)
        for c in causes[:6]:
            expected = reference[c].values[reference[c].state_names[c].index("present")]
            assert ours[c][0, states[c].index("present")] == pytest.approx(expected, abs=1e-9)


def test_intractable_network_is_refused_before_any_table_is_built():
    """96 causes need a 2^28-entry clique: a clear EngineError, not a hang or out-of-memory kill."""
    network, _, _ = synthetic_network(96, seed=0)
    with pytest.raises(EngineError, match=r"clique table of [\d,]+ entries \(limit [\d,]+\)"):
        engine_from_pgmpy(network)
