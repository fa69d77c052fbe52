"""Safety invariants of the urgency guidance, proven exhaustively or by property tests."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.urgency import RANK, SEE_DOCTOR_FINDINGS, WARNING_SIGNS, load_advice, rule_level
from model.vocabulary import load_vocabulary

VOCAB = load_vocabulary()
RED_FLAGS = VOCAB.red_flags
DOCTOR_TIED = (*SEE_DOCTOR_FINDINGS, *WARNING_SIGNS)
STATES3 = (None, "absent", "present")


def _evidence(assignment: dict[str, str | None]) -> dict[str, str]:
    return {f: s for f, s in assignment.items() if s is not None}


def test_rules_exhaustively_red_flag_means_emergency():
    """All 3^9 answers to the red flags and doctor-tied findings: emergency iff a red flag."""
    keys = (*RED_FLAGS, *DOCTOR_TIED)
    for combo in itertools.product(STATES3, repeat=len(keys)):
        evidence = _evidence(dict(zip(keys, combo, strict=True)))
        level, reasons = rule_level(evidence, VOCAB)
        has_flag = any(evidence.get(f) == "present" for f in RED_FLAGS)
        assert (level == "emergency") == has_flag, evidence
        assert reasons or level == "self_care"


def test_rules_exhaustively_never_lower_when_a_finding_is_added():
    """Setting any red flag or doctor-tied finding to present never lowers the rule level."""
    keys = (*RED_FLAGS, *DOCTOR_TIED)
    for combo in itertools.product(STATES3, repeat=len(keys)):
        evidence = _evidence(dict(zip(keys, combo, strict=True)))
        level, _ = rule_level(evidence, VOCAB)
        for f in keys:
            raised, _ = rule_level({**evidence, f: "present"}, VOCAB)
            assert RANK[raised] >= RANK[level], (evidence, f)


def test_persistence_or_walking_gives_at_least_see_doctor(model):
    """Exhaustive over the other doctor-tied findings and the age groups."""
    cases = []
    for age in (*model.states["age_group"], None):
        for tied in SEE_DOCTOR_FINDINGS:
            for combo in itertools.product(STATES3, repeat=len(WARNING_SIGNS)):
                e = _evidence(dict(zip(WARNING_SIGNS, combo, strict=True)))
                e[tied] = "present"
                if age:
                    e["age_group"] = age
                cases.append(e)
    for d in model.diagnose_batch(cases):
        assert RANK[d.urgency] >= RANK["see_doctor"], d.evidence


@st.composite
def contexts(draw):
    model_findings = [f for f in VOCAB.finding_ids if f not in RED_FLAGS]
    evidence = {}
    for f in model_findings:
        states = VOCAB.findings[f].states
        state = draw(st.sampled_from((None, None, *states)))
        if state is not None:
            evidence[f] = state
    return evidence


def test_full_model_red_flag_always_gives_emergency(model):
    """Any context, any single red flag present: emergency, and the reason names the flag."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(contexts(), st.sampled_from(RED_FLAGS))
    def check(context, flag):
        d = model.diagnose({**context, flag: "present"})
        assert d.urgency == "emergency"
        assert any(VOCAB.findings[flag].label.lower() in r for r in d.reasons)
        assert not d.advice.exercises and not d.advice.home_remedies

    check()


def test_full_model_adding_a_doctor_tied_finding_never_lowers_urgency(model):
    """Property over random contexts: persistence, walking, fever or fatigue never lower it,
    whether the finding was unknown or answered absent before."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(contexts(), st.sampled_from(DOCTOR_TIED))
    def check(context, finding):
        before_unknown = {k: v for k, v in context.items() if k != finding}
        before_absent = {**before_unknown, finding: "absent"}
        after = {**before_unknown, finding: "present"}
        d_unknown, d_absent, d_after = model.diagnose_batch([before_unknown, before_absent, after])
        assert RANK[d_after.urgency] >= RANK[d_unknown.urgency]
        assert RANK[d_after.urgency] >= RANK[d_absent.urgency]

    check()


def test_probabilities_are_finite_and_in_range_for_every_binary_combination(model):
    """Exhaustive over the 2^15 present/absent answers to the 15 symptom findings."""
    implicit = model.vocabulary.implicit_evidence
    symptoms = [f for f in model.structure.findings if f not in RED_FLAGS and f not in implicit]
    assert len(symptoms) == 15
    grid = np.array(list(itertools.product((0, 1), repeat=len(symptoms))))
    columns = {f: grid[:, i] for i, f in enumerate(symptoms)}
    posteriors = model.posterior_indices(columns)
    assert posteriors.shape == (2 ** 15, len(model.causes))
    assert np.isfinite(posteriors).all()
    assert (posteriors >= 0).all() and (posteriors <= 1).all()


def test_serious_cause_above_threshold_raises_to_see_doctor_and_names_it(model):
    evidence = {
        "age_group": "infant",
        "muscle_weakness": "present",
        "family_history_neuromuscular": "present",
    }
    d = model.diagnose(evidence)
    assert d.probabilities["sma"] >= model.thresholds["sma"]
    assert d.urgency == "see_doctor"
    assert any("Spinal muscular atrophy" in r for r in d.reasons)


def test_self_care_reminds_to_check_unanswered_red_flags(model):
    d = model.diagnose({"age_group": "adult", "after_exertion": "present", "persists_2_weeks": "absent"})
    assert d.urgency == "self_care"
    assert any("red-flag" in r for r in d.reasons)
    answered = {f: "absent" for f in RED_FLAGS}
    d2 = model.diagnose({"age_group": "adult", "after_exertion": "present", **answered})
    assert not any("red-flag" in r for r in d2.reasons)


@pytest.mark.parametrize("level", ["self_care", "see_doctor", "emergency"])
def test_each_level_carries_the_articles_advice(level):
    advice = load_advice()[level]
    assert advice.summary
    if level == "emergency":
        assert "emergency services" in advice.summary.lower()
        assert not advice.exercises and not advice.prevention
    else:
        assert [e.title for e in advice.exercises] == ["Toe raise", "Toe flex", "Toe curl"]
        assert all(len(e.steps) >= 3 for e in advice.exercises)
        assert "sand" in advice.walking_on_sand
        assert len(advice.home_remedies) == 3 and advice.prevention
