"""The model's public API: building, evidence checking, diagnoses and their tables."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import edited_model
from toe_twitch import (
    DISCLAIMER,
    EvidenceError,
    ImpossibleEvidenceError,
    load_model,
)
from toe_twitch.loading import model_from_network
from toe_twitch.priors import DEFAULT_PRIORS_PATH, load_priors


def test_load_model_exposes_the_documented_api(model):
    d = model.diagnose({"age_group": "adult", "onset_falling_asleep": "present"})
    assert d.top == "hypnic_jerk" and d.urgency == "self_care"
    assert len(model.causes) == 12 and "toe_twitching" not in model.findings
    assert model.findings[0] == "age_group"
    batch = model.posterior_batch([{}, {"leg_pain": "present"}])
    assert batch.shape == (2, 12)
    assert load_model(DEFAULT_PRIORS_PATH).posterior({}) == pytest.approx(model.posterior({}), abs=0)


def test_diagnosis_reports_the_unexplained_share_and_defines_every_ratio(model):
    """``no_listed_cause`` is an attribute and a JSON key; relative-to-prior is defined for
    every cause (every prior is positive)."""
    d = model.diagnose({"age_group": "older_adult", "numbness_tingling": "present"})
    data = d.to_dict()
    assert data["no_listed_cause"] == d.no_listed_cause
    assert 0 < d.prior_no_listed_cause < 1
    assert all(np.isfinite(r["relative_to_prior"]) for r in data["ranking"])
    assert data["disclaimer"] == DISCLAIMER
    assert {r["code"] for r in data["reasons"]} >= {"threshold.neuropathy"} or d.urgency == "self_care"


def test_a_cause_ruled_out_has_probability_zero_and_ratio_zero():
    """A link of 1 for leg pain -> PLMT, then leg pain 'no': PLMT is exactly 0 and its ratio
    to the prior is 0 (not a division error)."""
    m = edited_model({"findings.leg_pain.links.plmt": 1.0})
    d = m.diagnose({"leg_pain": "absent"})
    assert d.probabilities["plmt"] == 0.0
    assert d.relative_to_prior["plmt"] == 0.0
    assert d.to_dict()["ranking"][-1]["relative_to_prior"] == 0.0


def test_the_twitching_cannot_be_answered(model):
    """Every query assumes the twitching; answering it is an error that says why."""
    for state in ("absent", "present"):
        with pytest.raises(EvidenceError, match="every query assumes toe_twitching=present"):
            model.diagnose({"toe_twitching": state})


def test_unknown_ids_and_states_get_suggestions(model):
    with pytest.raises(EvidenceError, match="Did you mean 'leg_pain'"):
        model.diagnose({"leg_pan": "present"})
    with pytest.raises(EvidenceError, match="Did you mean 'older_adult'"):
        model.diagnose({"age_group": "old"})
    with pytest.raises(EvidenceError, match="a cause, not a finding"):
        model.diagnose({"als": "present"})
    with pytest.raises(EvidenceError, match="must be a mapping"):
        model.diagnose([("leg_pain", "present")])


def test_cause_prevalence_by_age_is_the_priors_number(model):
    """Marginal P(cause | age) in the network, with the twitching not yet conditioned on,
    equals the prevalence written in the file (the calibration keeps its meaning)."""
    priors = load_priors()
    tables = model.tables
    structure = model.structure
    for cause in model.causes:
        parents = structure.cause_parents[cause]
        present = tables.cause[cause][0, 1]  # (A, 2**n)
        for a, age in enumerate(structure.age_states):
            weight = np.ones(2 ** len(parents))
            for i, rf in enumerate(parents):
                p = tables.risk_factor[rf][0, 1, a]
                bit = (np.arange(2 ** len(parents)) >> i) & 1
                weight *= np.where(bit == 1, p, 1 - p)
            reached = float(weight @ present[a])
            target = getattr(priors.causes[cause].prevalence, age).value
            assert reached == pytest.approx(target, rel=1e-9), (cause, age)


def test_noisy_or_tables_follow_the_formula(model):
    """P(absent | causes) = (1 - leak) * prod (1 - link) for every parent combination."""
    priors = load_priors()
    structure = model.structure
    for f in ("leg_pain", "fever", "muscle_weakness"):
        parents = structure.finding_parents[f]
        table = model.tables.finding[f][0, 0]  # absent, (A, 2**n)
        for a, age in enumerate(structure.age_states):
            spec = priors.findings[f]
            leak = spec.leak.value if hasattr(spec.leak, "value") else getattr(spec.leak, age).value
            for m in range(2 ** len(parents)):
                expected = 1 - leak
                for i, c in enumerate(parents):
                    if (m >> i) & 1:
                        link = spec.links[c]
                        expected *= 1 - (link.value if hasattr(link, "value") else getattr(link, age).value)
                assert table[a, m] == pytest.approx(expected, rel=1e-12)


def test_every_cpt_column_sums_to_one(model):
    with_age = model.network
    for cpd in with_age.get_cpds():
        values = cpd.get_values()
        assert np.allclose(values.sum(axis=0), 1.0, atol=1e-12), cpd.variable


def test_a_twitching_property_is_a_property_of_the_twitching(model):
    """Persistence of the twitching of a child with only a benign cramp is below that of
    twitching with no listed cause (in children the cause is mostly overuse, which settles
    in days): the property model lets a cause lower a finding, which an independent
    noisy-OR cannot."""
    table = model.tables.finding["persists_2_weeks"][0, 1]  # P(persists | twitching, causes)
    parents = model.structure.finding_parents["persists_2_weeks"]
    child = model.structure.age_states.index("child")
    cramp = 1 << parents.index("benign_cramp")
    plmt = 1 << parents.index("plmt")
    assert table[child, cramp] < table[child, 0] < table[child, plmt]


def test_a_model_from_a_network_has_a_real_constructor(model):
    again = model_from_network(model.network, "in memory")
    evidence = {"age_group": "child", "fever": "present", "persists_2_weeks": "present"}
    assert again.posterior(evidence) == pytest.approx(model.posterior(evidence), abs=1e-12)
    assert not again.has_priors and "no urgency thresholds" in again.thresholds_source


def test_impossible_answers_raise_with_the_answers_named():
    m = edited_model({f"findings.muscle_weakness.leak.{a}": 0.0 for a in ("infant", "child", "adult", "older_adult")}
                     | {f"findings.muscle_weakness.links.{c}": 0.0 for c in ("als", "sma", "myopathy", "neuropathy",
                                                                              "deficiency", "parkinsons",
                                                                              "poor_circulation", "joint_problem")})
    with pytest.raises(ImpossibleEvidenceError, match="muscle_weakness=present"):
        m.diagnose({"age_group": "adult", "muscle_weakness": "present"})
    marked = m.query([{"muscle_weakness": "present"}, {}], impossible="mark")
    assert marked.impossible.tolist() == [True, False]
    assert np.isnan(marked.marginals[0]).all() and np.isfinite(marked.marginals[1]).all()


def test_diagnose_batch_equals_diagnose_one_by_one(model):
    evidences = [{"age_group": "adult", "fever": "present", "persists_2_weeks": "present"},
                 {"age_group": "infant", "muscle_weakness": "present"}, {}]
    batch = model.diagnose_batch(evidences)
    for d, e in zip(batch, evidences, strict=True):
        single = model.diagnose(e)
        assert d.ranking == single.ranking and d.urgency == single.urgency
        assert [r.code for r in d.reasons] == [r.code for r in single.reasons]


def test_model_memory_is_estimated(model):
    assert 1e6 < model.nbytes < 200e6


# ---------------------------------------------------------------- every combination
SWEPT = ("onset_falling_asleep", "diabetes", "leg_pain", "after_exertion", "numbness_tingling",
         "persists_2_weeks", "resting_tremor")


def _by_rows(m, names, base, cases):
    rows = [{**base, **{n: m.states[n][int(x)] for n, x in zip(names, row, strict=True)}} for row in cases]
    return m.query(rows, impossible="mark")


@pytest.mark.parametrize("base", [{"age_group": "older_adult", "fever": "absent"}, {}, {"heavy_alcohol_use": "present"}])
def test_every_combination_equals_one_query_per_combination(model, base):
    names = [n for n in SWEPT if n not in base]
    grid = model.every_combination(names, base)
    assert len(grid) == 2 ** len(names) and grid.cases.shape == (2 ** len(names), len(names))
    # the first question changes slowest, as in itertools.product
    assert grid.cases[: 2 ** (len(names) - 1), 0].tolist() == [0] * 2 ** (len(names) - 1)
    ref = _by_rows(model, names, base, grid.cases)
    assert np.abs(grid.posteriors.marginals - ref.marginals).max() < 1e-12
    assert np.abs(grid.posteriors.no_listed_cause - ref.no_listed_cause).max() < 1e-12
    assert np.abs(grid.posteriors.log_evidence - ref.log_evidence).max() < 1e-10
    frame = grid.frame()
    assert list(frame.columns[: len(names)]) == names and frame["leg_pain"].iloc[0] == "absent"


def test_every_combination_falls_back_to_the_kernel_for_tiny_probabilities(model, monkeypatch):
    import toe_twitch.engine as engine

    names = list(SWEPT[:4])
    plain = model.every_combination(names, {"age_group": "child"})
    monkeypatch.setattr(engine, "PLAIN_PRODUCT_FLOOR", 2.0)  # every combination recomputed
    again = model.every_combination(names, {"age_group": "child"})
    assert np.abs(plain.posteriors.marginals - again.posteriors.marginals).max() < 1e-12


def test_every_combination_marks_impossible_combinations():
    m = edited_model({f"findings.muscle_weakness.leak.{a}": 0.0 for a in ("infant", "child", "adult", "older_adult")}
                     | {f"findings.muscle_weakness.links.{c}": 0.0 for c in ("als", "sma", "myopathy", "neuropathy",
                                                                              "deficiency", "parkinsons",
                                                                              "poor_circulation", "joint_problem")})
    grid = m.every_combination(["muscle_weakness", "fever"], {"age_group": "adult"})
    assert grid.posteriors.impossible.tolist() == [False, False, True, True]
    assert np.isnan(grid.posteriors.marginals[2:]).all() and np.isfinite(grid.posteriors.marginals[:2]).all()


@pytest.mark.parametrize("names, message", [
    (["leg_pan"], "Did you mean 'leg_pain'"),
    (["age_group"], "has 4 states"),
    (["toe_twitching"], "cannot be answered"),
    (["als"], "a cause, not a finding"),
    (["fever", "fever"], "listed twice"),
    (["fever"], "both answered in the evidence and varied"),
    ([], "at least one question"),
])
def test_every_combination_refuses_bad_questions(model, names, message):
    with pytest.raises(EvidenceError, match=message):
        model.every_combination(names, {"fever": "present"} if names == ["fever"] else None)


def test_every_combination_refuses_too_many(model):
    names = [f for f in model.findings if f != "age_group" and len(model.states[f]) == 2][:21]
    with pytest.raises(EvidenceError, match="2,097,152 combinations; the limit is 1,048,576"):
        model.every_combination(names)
