"""The public Python API: names and shapes that notebooks and benchmarks rely on."""

from __future__ import annotations

import numpy as np
import pytest
from pgmpy.models import DiscreteBayesianNetwork

from model import EvidenceError, load_model
from model.network import calibrate_baseline
from model.priors import DEFAULT_PRIORS_PATH


def test_load_model_exposes_the_documented_api(model):
    assert isinstance(model.network, DiscreteBayesianNetwork)
    assert model.causes[0] == "benign_cramp" and len(model.causes) == 12
    d = model.diagnose({"age_group": "adult"})
    assert [c for c, _ in d.ranking] and d.urgency in ("self_care", "see_doctor", "emergency")
    assert isinstance(d.reasons, list)
    batch = model.posterior_batch([{}, {"leg_pain": "present"}, {"fever": "absent"}])
    assert batch.shape == (3, 12)


def test_load_model_accepts_a_priors_path():
    m = load_model(DEFAULT_PRIORS_PATH)
    assert m.causes == load_model().causes


def test_ranking_is_sorted_and_matches_the_batch(model):
    evidence = {"age_group": "older_adult", "numbness_tingling": "present", "diabetes": "present"}
    d = model.diagnose(evidence)
    probs = [p for _, p in d.ranking]
    assert probs == sorted(probs, reverse=True)
    row = model.posterior_batch([evidence])[0]
    assert d.probabilities == pytest.approx(dict(zip(model.causes, row, strict=True)), abs=1e-12)


def test_empty_evidence_reproduces_the_prior(model):
    d = model.diagnose({})
    for cause, p in d.ranking:
        assert p == pytest.approx(model.prior[cause], abs=1e-12)
        assert d.relative_to_prior[cause] == pytest.approx(1.0)


def test_cause_prevalence_by_age_is_the_priors_number(model):
    """The logistic CPT is calibrated: P(cause | age) equals the prevalence in the file.

    (Queried on the engine directly: the model itself always conditions on the twitching.)
    """
    for i, age in enumerate(model.states["age_group"]):
        result = model.engine.query({"age_group": [i]}, model.causes)
        for cause in model.causes:
            expected = getattr(model.priors.causes[cause].prevalence, age).value
            assert result.marginals[cause][0, 1] == pytest.approx(expected, rel=1e-9)


def test_every_query_assumes_the_twitching(model):
    """toe_twitching is implicit evidence: present unless stated, never asked."""
    assert "toe_twitching" not in model.findings
    assert model.check_evidence({})["toe_twitching"] == "present"
    assert model.diagnose({}).evidence == {"toe_twitching": "present"}


def test_calibration_solves_the_marginal():
    prevalence = np.array([[0.3]])
    log_or = np.log(np.array([[4.0, 2.0]]))
    rf = np.array([[[0.2], [0.5]]])
    b = calibrate_baseline(prevalence, log_or, rf)[0, 0]
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    marginal = sum(
        (0.2 if r1 else 0.8) * (0.5 if r2 else 0.5) * sig(b + r1 * np.log(4) + r2 * np.log(2))
        for r1 in (0, 1) for r2 in (0, 1)
    )
    assert marginal == pytest.approx(0.3, abs=1e-12)


def test_noisy_or_cpt_matches_the_formula(model):
    """P(leg_pain absent | plmt and neuropathy only) = (1 - leak)(1 - link_plmt)(1 - link_neuro)."""
    f = model.priors.findings["leg_pain"]
    parents = model.structure.finding_parents["leg_pain"]
    index = tuple(1 if c in ("plmt", "neuropathy") else 0 for c in parents)
    expected = (1 - f.leak.value) * (1 - f.links["plmt"].value) * (1 - f.links["neuropathy"].value)
    assert model.tables["leg_pain"][0][(0, *index)] == pytest.approx(expected, abs=1e-15)


def test_every_cpt_column_sums_to_one(model):
    for v, table in model.tables.items():
        assert np.allclose(table.sum(axis=1), 1.0), v


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        ({"leg_pan": "present"}, "Did you mean 'leg_pain'"),
        ({"age_group": "adlut"}, "Did you mean 'adult'"),
        ({"als": "present"}, "a cause, not a finding"),
    ],
)
def test_bad_evidence_gets_a_helpful_error(model, evidence, message):
    with pytest.raises(EvidenceError, match=message):
        model.diagnose(evidence)
