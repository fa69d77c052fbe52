"""Reasoning tools, each checked against a brute-force or rebuilt-model computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toe_twitch import (
    ToeTwitchError,
    UnknownCauseError,
    explain,
    next_questions,
    sensitivity,
    uncertainty,
    what_if,
)
from toe_twitch.analysis import binary_entropy_bits, sample_parameters
from toe_twitch.core import ToeTwitchModel
from toe_twitch.priors import with_values

EVIDENCE = {
    "age_group": "adult",
    "onset_falling_asleep": "present",
    "caffeine_or_stimulants": "present",
    "during_sleep": "absent",
}


def _log_odds(p):
    return math.log(p) - math.log1p(-p)


def test_explanation_sequential_weights_add_up_exactly(model):
    """Chain-rule weights sum to posterior minus prior log-odds."""
    e = explain(model, EVIDENCE, "hypnic_jerk")
    total = sum(c.sequential_weight for c in e.contributions)
    assert total == pytest.approx(_log_odds(e.posterior) - _log_odds(e.prior), abs=1e-9)
    assert e.prior == pytest.approx(model.prior["hypnic_jerk"], abs=1e-12)


def test_explanation_likelihood_ratio_matches_its_definition(model):
    """LR = P(f | cause present, rest) / P(f | cause absent, rest), computed with pgmpy."""
    from pgmpy.inference import VariableElimination

    e = explain(model, EVIDENCE, "hypnic_jerk")
    ve = VariableElimination(model.network)
    c = next(x for x in e.contributions if x.finding == "onset_falling_asleep")
    rest = model.reference_evidence({k: v for k, v in EVIDENCE.items() if k != "onset_falling_asleep"})
    p = []
    for state in ("present", "absent"):
        q = ve.query(["onset_falling_asleep"], evidence={**rest, "hypnic_jerk": state}, show_progress=False)
        p.append(q.get_value(onset_falling_asleep="present"))
    assert c.likelihood_ratio == pytest.approx(p[0] / p[1], rel=1e-9)
    assert c in e.supporting


def test_explanation_splits_supporting_and_opposing(model):
    e = explain(model, {"age_group": "adult", "onset_falling_asleep": "absent"}, "hypnic_jerk")
    assert "onset_falling_asleep" in [c.finding for c in e.opposing]
    assert all(c.weight > 0 for c in e.supporting)


def test_what_if_covers_every_unanswered_finding_and_state(model):
    results = what_if(model, EVIDENCE)
    expected = {(f, s) for f in model.findings if f not in EVIDENCE for s in model.states[f]}
    assert {(r.finding, r.state) for r in results} == expected
    one = next(r for r in results if r.finding == "speech_or_vision_change" and r.state == "present")
    assert one.urgency == "emergency"
    direct = model.diagnose({**EVIDENCE, "leg_pain": "present"})
    leg = next(r for r in results if r.finding == "leg_pain" and r.state == "present")
    assert [c for c, _ in leg.ranking] == [c for c, _ in direct.ranking]
    assert dict(leg.ranking) == pytest.approx(dict(direct.ranking), abs=1e-12)


def test_information_gain_matches_enumeration(model):
    """Gain recomputed from pgmpy: H(now) - sum_s P(s | e) H(e, s)."""
    from pgmpy.inference import VariableElimination

    evidence = {"age_group": "older_adult", "persists_2_weeks": "present", "muscle_weakness": "present"}
    questions = next_questions(model, evidence, k=40)
    ve = VariableElimination(model.network)
    for q in questions[:3]:
        pred = ve.query([q.finding], evidence=model.reference_evidence(evidence), show_progress=False)

        def uncertainty_bits(e):
            # the causes and the no-listed-cause share, each a yes/no variable
            joint = ve.query(model.causes, evidence=model.reference_evidence(e), joint=True,
                             show_progress=False)
            none = joint.get_value(**{c: "absent" for c in model.causes})
            marginals = np.array(list(model.reference_posterior(e).values()) + [none])
            return binary_entropy_bits(marginals).sum()

        expected = uncertainty_bits(evidence)
        for s in model.states[q.finding]:
            ps = pred.get_value(**{q.finding: s})
            expected -= ps * uncertainty_bits({**evidence, q.finding: s})
            assert q.predictive[s] == pytest.approx(ps, abs=1e-9)
        assert q.gain_bits == pytest.approx(expected, abs=1e-9)


def test_answered_findings_are_never_suggested(model):
    questions = next_questions(model, EVIDENCE, k=100)
    assert not {q.finding for q in questions} & set(EVIDENCE)
    assert all(q.reason for q in questions)


def test_red_flags_are_asked_before_self_care(model):
    """While the differential points to self care, unanswered red flags come first."""
    questions = next_questions(model, {"age_group": "adult", "after_exertion": "present"}, k=3)
    flags = model.vocabulary.red_flags
    assert [q.finding for q in questions[: len(flags)]] == [q.finding for q in questions if q.red_flag]
    assert {q.finding for q in questions if q.red_flag} == set(flags)


def test_next_questions_rejects_bad_k(model):
    with pytest.raises(ToeTwitchError, match="k must be a positive"):
        next_questions(model, EVIDENCE, k=0)


def test_sensitivity_range_ends_equal_rebuilt_models(model):
    """The sweep's value at a range end equals a model rebuilt with that one parameter."""
    s = sensitivity(model, EVIDENCE, "hypnic_jerk")
    assert len(s.swings) == len(model.structure.parameters)
    swings = [x.swing for x in s.swings]
    assert swings == sorted(swings, reverse=True)
    assert all(x.posterior_low is not None and x.posterior_high is not None for x in s.swings)
    for swing in s.swings[:3]:
        for end, expected in (("low", swing.posterior_low), ("high", swing.posterior_high)):
            edited = with_values(model.priors, {swing.path: getattr(swing, end)})
            rebuilt = ToeTwitchModel.from_priors(edited)
            assert rebuilt.posterior(EVIDENCE)["hypnic_jerk"] == pytest.approx(expected, abs=1e-9)


def test_uncertainty_is_reproducible_and_brackets_the_point_estimate(model):
    a = uncertainty(model, EVIDENCE, draws=200, seed=3)
    b = uncertainty(model, EVIDENCE, draws=200, seed=3)
    assert np.array_equal(a.samples, b.samples)
    assert sum(c.first_rank_share for c in a.causes) == pytest.approx(1.0)
    hj = next(c for c in a.causes if c.cause == "hypnic_jerk")
    assert hj.low <= model.posterior(EVIDENCE)["hypnic_jerk"] <= hj.high
    assert a.impossible_draws == 0 and a.no_listed_cause[0] <= a.no_listed_cause[2]


def test_parameter_draws_respect_value_and_range(model):
    theta = sample_parameters(model, 4000, seed=1)
    for i, p in enumerate(model.structure.parameters[:40]):
        inside = np.mean((theta[:, i] >= p.low) & (theta[:, i] <= p.high))
        assert 0.75 <= inside <= 0.99, p.path
        assert np.median(theta[:, i]) == pytest.approx(p.value, abs=(p.high - p.low) * 0.5)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: explain(m, EVIDENCE, "hypnic"), UnknownCauseError),
        (lambda m: sensitivity(m, EVIDENCE, "nope"), UnknownCauseError),
        (lambda m: uncertainty(m, EVIDENCE, draws=0), ToeTwitchError),
        (lambda m: what_if(m, {"leg_pan": "present"}), ToeTwitchError),
    ],
)
def test_bad_arguments_get_clear_errors(model, call, error):
    with pytest.raises(error):
        call(model)


def test_a_range_with_low_above_high_is_rejected(model):
    with pytest.raises(ToeTwitchError, match="low <= value <= high"):
        data = model.priors.model_dump(warnings=False)
        data["causes"]["als"]["prevalence"]["adult"].update(low=0.01, high=0.001)
        from toe_twitch.priors import validate_priors_data

        validate_priors_data(data)


def test_vignette_sensitivity_flags_a_flip_that_a_rebuilt_model_confirms(model):
    """A reported flip is real: rebuilding the model with that one parameter moved flips it."""
    from toe_twitch.analysis import vignette_sensitivity
    from toe_twitch.vignettes import load_vignettes
    vignettes = [v for v in load_vignettes() if v.id.startswith(("plmt_", "als_"))][:4]
    flips = vignette_sensitivity(model, vignettes)
    assert flips, "some range end should change a close call"
    flip = next(f for f in flips if f.top1_before != f.top1_after)
    ref = next(p for p in model.structure.parameters if p.path == flip.path)
    edited = ToeTwitchModel.from_priors(with_values(model.priors, {flip.path: getattr(ref, flip.end)}))
    vignette = next(v for v in vignettes if v.id == flip.vignette)
    assert edited.diagnose(dict(vignette.findings)).top == flip.top1_after


def test_what_if_posteriors_equal_direct_queries_for_every_answer(model):
    """Each what-if posterior (a product with the current posterior for a symptom, one more
    engine row for age and risk factors) equals querying the extended evidence directly."""
    evidence = {"persists_2_weeks": "present", "leg_pain": "absent"}  # age unanswered
    ahead = model.look_ahead(evidence)
    direct = model.query([{**evidence, f: s} for f, s in ahead.options], impossible="mark")
    ok = ~direct.impossible
    assert np.max(np.abs(ahead.marginals[ok] - direct.marginals[ok])) < 1e-12
    assert np.max(np.abs(ahead.no_listed_cause[ok] - direct.no_listed_cause[ok])) < 1e-12
    now = model.query([evidence]).log_evidence[0]
    assert np.max(np.abs(ahead.predictive[ok] - np.exp(direct.log_evidence[ok] - now))) < 1e-12
    for f in {f for f, _ in ahead.options}:
        assert sum(ahead.predictive_of(f).values()) == pytest.approx(1.0, abs=1e-12)


def test_what_if_says_impossible_instead_of_nan():
    """Weakness with no leak and no links: answering it 'yes' is impossible; what-if says so."""
    from tests.conftest import edited_model

    changes = {f"findings.muscle_weakness.leak.{a}": 0.0 for a in ("infant", "child", "adult", "older_adult")}
    changes |= {f"findings.muscle_weakness.links.{c}": 0.0 for c in
                ("als", "sma", "myopathy", "neuropathy", "deficiency", "parkinsons", "poor_circulation", "joint_problem")}
    m = edited_model(changes)
    results = what_if(m, {"age_group": "adult"})
    weak = next(r for r in results if (r.finding, r.state) == ("muscle_weakness", "present"))
    assert not weak.possible and weak.ranking == [] and weak.urgency is None
    assert all(r.possible for r in results if r.finding != "muscle_weakness")


def test_explanation_of_a_ruled_out_cause_is_defined():
    """A cause that the answers rule out (probability 0) has an explanation: the answer that
    rules it out is reported as such, and nothing is NaN."""
    from tests.conftest import edited_model

    m = edited_model({"findings.leg_pain.links.plmt": 1.0})
    e = explain(m, {"age_group": "adult", "leg_pain": "absent", "fever": "present"}, "plmt")
    assert e.posterior == 0.0
    leg = next(c for c in e.contributions if c.finding == "leg_pain")
    assert leg.rules_out and leg.likelihood_ratio == 0.0
    fever = next(c for c in e.contributions if c.finding == "fever")
    assert fever.weight is None  # no longer defined once PLMT is ruled out
    assert e.log_odds_change == -math.inf


def test_next_questions_explain_themselves_in_plain_words(model):
    questions = next_questions(model, {"age_group": "adult", "persists_2_weeks": "present"}, k=5)
    assert all(q.reason and "bits" not in q.reason for q in questions)
    assert any(q.reason.startswith("helps tell ") for q in questions)
