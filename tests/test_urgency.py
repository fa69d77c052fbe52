"""Urgency: red flags and floors decide the level whatever the probabilities say.

The exhaustive tests run the whole model (posteriors, thresholds, notes) on every
combination of ten other yes/no answers in every age group; the property tests draw every
answer of the vocabulary (unknown, no or yes) at random.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toe_twitch.urgency import (
    RANK,
    RULES,
    WARNING_SIGNS,
    all_rules,
    assess,
    rule_level,
    rule_reasons,
    urgency_level,
)
from toe_twitch.vocabulary import load_vocabulary

AGES = ("infant", "child", "adult", "older_adult")
#: The ten other answers the exhaustive tests combine (those a floor could be argued down by).
OTHERS = (
    "fever", "fatigue", "persists_2_weeks", "leg_pain", "numbness_tingling",
    "widespread_twitching", "onset_falling_asleep", "after_exertion", "interferes_with_walking",
    "cramp_stiffness",
)

#: Each floor: the answers that trigger it, the age groups it applies in, the least level.
FLOORS = {
    "new muscle weakness": ({"muscle_weakness": "present"}, AGES, "see_doctor"),
    "weakness getting worse": ({"weakness_getting_worse": "present"}, AGES, "see_doctor"),
    "proximal weakness": ({"proximal_weakness": "present"}, AGES, "see_doctor"),
    "muscle wasting": ({"muscle_wasting": "present"}, AGES, "see_doctor"),
    "floppy or lost milestones": ({"floppy_or_lost_milestones": "present"}, AGES, "see_doctor"),
    "tongue twitching": ({"tongue_twitching": "present"}, AGES, "see_doctor"),
    "raised CK": ({"raised_ck_on_blood_test": "present"}, AGES, "see_doctor"),
    "infant with widespread twitching": ({"widespread_twitching": "present"}, ("infant",), "see_doctor"),
    "weak infant who feeds weakly": ({"muscle_weakness": "present", "weak_feeding": "present"}, ("infant",), "emergency"),
    "floppy infant who feeds weakly": ({"floppy_or_lost_milestones": "present", "weak_feeding": "present"}, ("infant",), "emergency"),
    "cramps with weakness": ({"cramp_stiffness": "present", "muscle_weakness": "present"}, AGES, "see_doctor"),
    "cramps with numbness": ({"cramp_stiffness": "present", "numbness_tingling": "present"}, AGES, "see_doctor"),
    "cramps that disturb sleep": ({"cramps_disturb_sleep": "present"}, AGES, "see_doctor"),
    "cramps with swelling": ({"cramp_stiffness": "present", "leg_swelling": "present"}, AGES, "see_doctor"),
    "persists two weeks": ({"persists_2_weeks": "present"}, AGES, "see_doctor"),
    "interferes with walking": ({"interferes_with_walking": "present"}, AGES, "see_doctor"),
    "fever with a swollen joint": ({"fever": "present", "joint_pain_swelling": "present"}, AGES, "see_doctor"),
    # clinical review §4 (issue 19)
    "a baby's twitching": ({}, ("infant",), "see_doctor"),
    "a baby with a fever": ({"fever": "present"}, ("infant",), "emergency"),
    "a hot swollen joint": ({"hot_swollen_joint": "present"}, AGES, "see_doctor"),
    "statin with muscle pain": ({"statin_or_new_medicine": "present", "leg_pain": "present"}, AGES, "see_doctor"),
    "statin with cramps": ({"statin_or_new_medicine": "present", "cramp_stiffness": "present"}, AGES, "see_doctor"),
    "statin with weakness": ({"statin_or_new_medicine": "present", "muscle_weakness": "present"}, AGES, "see_doctor"),
    "weight loss": ({"weight_loss": "present"}, AGES, "see_doctor"),
    "mouth tingling or hand spasm": ({"mouth_tingling_or_hand_spasm": "present"}, AGES, "see_doctor"),
}


def _combinations(trigger: dict[str, str], age: str) -> list[dict[str, str]]:
    others = [f for f in OTHERS if f not in trigger]
    rows = []
    for states in itertools.product(("absent", "present"), repeat=len(others)):
        rows.append({"age_group": age, **dict(zip(others, states, strict=True)), **trigger})
    return rows


@pytest.mark.parametrize("name", list(FLOORS))
def test_every_floor_holds_for_every_combination_of_other_answers_in_every_age_group(model, name):
    """The floor's level or higher, in each of 2**k combinations of the ten other answers
    (k = 10 less those the trigger uses), in each age group it applies to."""
    trigger, ages, least = FLOORS[name]
    checked = 0
    for age in ages:
        rows = _combinations(trigger, age)
        for d in model.diagnose_batch(rows):
            assert RANK[d.urgency] >= RANK[least], (name, d.evidence, d.urgency)
            checked += 1
    assert checked == len(ages) * 2 ** len([f for f in OTHERS if f not in trigger])


@pytest.mark.parametrize("rule", all_rules(load_vocabulary()), ids=lambda r: r.code)
def test_every_trigger_of_every_rule_holds_its_level_whatever_else_is_answered(model, rule):
    """Derived from the rules table itself, so a new rule is covered the day it is added:
    each smallest set of answers that sets the rule off (one finding of each clause, in
    each age group it names, or all four), with every combination of six other answers."""
    others = OTHERS[:6]
    for trigger in rule.triggers():
        for age in [trigger["age_group"]] if "age_group" in trigger else AGES:
            base = {**trigger, "age_group": age}
            rows = []
            for states in itertools.product(("absent", "present"), repeat=len(others)):
                rows.append({**dict(zip(others, states, strict=True)), **base})
            for d in model.diagnose_batch(rows):
                assert RANK[d.urgency] >= RANK[rule.level], (rule.code, d.evidence)
                assert rule.code in [r.code for r in d.reasons]


@pytest.mark.parametrize("flag", load_vocabulary().red_flags)
def test_a_red_flag_gives_emergency_for_every_combination_of_other_answers(model, flag):
    """1,024 combinations of ten other answers in each of the four age groups: emergency,
    with the reason that the emergency may lie outside the listed causes."""
    for age in AGES:
        for d in model.diagnose_batch(_combinations({flag: "present"}, age)):
            assert d.urgency == "emergency"
            codes = [r.code for r in d.reasons]
            assert f"red_flag.{flag}" in codes
            assert "note.outside_listed_causes" in codes
            assert d.red_flags_present == (flag,)


@st.composite
def any_answers(draw):
    vocab = load_vocabulary()
    evidence = {}
    for f in vocab.findings.values():
        if f.implicit:
            continue
        state = draw(st.sampled_from((None, *f.states)))
        if state is not None:
            evidence[f.id] = state
    return evidence


def test_floors_hold_whatever_else_is_answered(model):
    """Property test over every finding of the vocabulary: the full level is never below
    the floors' level, and a red flag always gives emergency."""

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(any_answers())
    def check(evidence):
        rows = model.query([evidence], impossible="mark")
        if rows.impossible[0]:
            return
        d = model.diagnose(evidence)
        assert RANK[d.urgency] >= RANK[rule_level(d.evidence, model.vocabulary)]
        if any(evidence.get(f) == "present" for f in model.vocabulary.red_flags):
            assert d.urgency == "emergency"

    check()


def test_answering_yes_never_lowers_the_floors(model):
    """Face validity: for random answers, turning any unanswered or 'no' finding into 'yes'
    never lowers the level the rules give (the floors only look at 'yes')."""
    vocab = model.vocabulary
    rng = np.random.default_rng(17)
    binary = [f for f in model.findings if model.states[f] == ("absent", "present")]
    for _ in range(400):
        evidence = {"age_group": AGES[rng.integers(4)]}
        for f in binary:
            if rng.random() < 0.3:
                evidence[f] = ("absent", "present")[rng.integers(2)]
        before = RANK[rule_level(evidence, vocab)]
        for f in binary:
            if evidence.get(f) != "present":
                assert RANK[rule_level({**evidence, f: "present"}, vocab)] >= before


def test_rule_level_is_the_level_of_the_rule_reasons(model):
    """The fast level and the reasons agree on every floor trigger."""
    vocab = model.vocabulary
    for trigger, ages, _ in FLOORS.values():
        for age in ages:
            evidence = {"age_group": age, **trigger}
            reasons = rule_reasons(evidence, vocab)
            assert rule_level(evidence, vocab) == max((r.level for r in reasons), key=RANK.__getitem__)


def test_reporting_fever_or_fatigue_never_lowers_the_level(model):
    """The article's warning signs: adding fever or fatigue to any of 300 random answer
    sets never lowers the full level (thresholds included)."""
    rng = np.random.default_rng(23)
    binary = [f for f in model.findings if model.states[f] == ("absent", "present")
              and f not in WARNING_SIGNS and not model.vocabulary.findings[f].red_flag]
    checked = 0
    for _ in range(300):
        evidence = {"age_group": AGES[rng.integers(4)]}
        for f in binary:
            if rng.random() < 0.15:
                evidence[f] = ("absent", "present")[rng.integers(2)]
        if model.query([evidence], impossible="mark").impossible[0]:
            continue
        before = RANK[model.diagnose(evidence).urgency]
        for sign in WARNING_SIGNS:
            assert RANK[model.diagnose({**evidence, sign: "present"}).urgency] >= before
        checked += 1
    assert checked > 250


def test_a_serious_cause_above_its_threshold_sends_to_a_doctor(model):
    """Thresholds come from the priors file; a cause at or above its own threshold gives
    'see a doctor' with a reason naming it."""
    vocab = model.vocabulary
    for cause, threshold in model.thresholds.items():
        probabilities = dict.fromkeys(model.causes, 0.0)
        probabilities[cause] = threshold
        u = assess({"age_group": "adult"}, [probabilities], model.thresholds, vocab)
        assert u.level == "see_doctor"
        assert f"threshold.{cause}" in [r.code for r in u.reasons]
        probabilities[cause] = threshold * 0.99
        u = assess({"age_group": "adult"}, [probabilities], model.thresholds, vocab)
        assert u.level == "self_care"


def test_every_reason_is_a_record_with_a_code_and_a_source(model):
    d = model.diagnose({"age_group": "infant", "muscle_weakness": "present", "weak_feeding": "present",
                        "persists_2_weeks": "present", "fever": "present"})
    assert d.urgency == "emergency"
    codes = [r.code for r in d.reasons]
    assert "floor.infant_weak_feeding" in codes and "floor.new_weakness" in codes
    assert len(codes) == len(set(codes))
    for r in d.reasons:
        assert r.text and len(r.source) > 5 and r.level in RANK


def test_self_care_reminds_about_unanswered_red_flags(model):
    d = model.diagnose({"age_group": "adult", "after_exertion": "present"})
    assert d.urgency == "self_care"
    assert "note.unanswered_red_flags" in [r.code for r in d.reasons]
    assert set(d.unanswered_red_flags) == set(model.vocabulary.red_flags)


def test_each_rule_has_a_unique_code_and_a_source():
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes))
    assert all(len(r.source) > 10 for r in RULES)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_fast_level_is_the_level_assess_gives(data):
    """What-if's urgency_level never differs from assess().level: any answers, any
    posteriors (main and variants), any thresholds."""
    vocab = load_vocabulary()
    findings = [f for f in vocab.findings if f != "toe_twitching"]
    evidence = {}
    for f in findings:
        state = data.draw(st.sampled_from([None, *vocab.findings[f].states]), label=f)
        if state is not None:
            evidence[f] = state
    causes = list(vocab.causes)
    prob = st.floats(0.0, 1.0)
    posteriors = [
        {c: data.draw(prob) for c in causes}
        for _ in range(data.draw(st.integers(0, 3), label="posteriors"))
    ]
    thresholds = {c: data.draw(st.floats(0.01, 1.0)) for c in ("als", "sma", "myopathy", "neuropathy")}
    assert urgency_level(evidence, posteriors, thresholds, vocab) == assess(evidence, posteriors, thresholds, vocab).level
