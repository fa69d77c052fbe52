"""Advice checked against who is reading it (clinical review §3, docs/clinical-sources.md).

The safety contract is written out here, apart from the rules in
``model/data/advice.yaml``: for each group of people, the instructions that can harm them.
The exhaustive test shows that no combination of answers, in any age group and at either
level that shows advice, lets one of them through, and that whatever is left out is said.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toe_twitch import load_model
from toe_twitch.advice import advice_for, advice_questions, load_advice_book
from toe_twitch.vocabulary import load_vocabulary

VOCAB = load_vocabulary()
AGES = ("infant", "child", "adult", "older_adult")
HEAT = ("heating pad", "warm, damp towel", "foot bath")
COLD = ("frozen bag", "ice or a")
BAREFOOT = ("walking on sand barefoot",)
EXERCISES = ("stand on your toes", "point your big toe", "bend your toes downward")
POTASSIUM = ("high in potassium", "bananas", "sports drinks to", "drink more electrolytes",
             "electrolyte-infused")
ADULT_ONLY = ("high heels", "seven to eight hours", "meditation", "caffeine, sugar, alcohol")

#: (who, test on the answers, instructions that must never be shown to them): the
#: clinical review's §3, S1-S18.
CONTRACT = (
    ("numb feet or diabetes (S1, S5, S7)",
     lambda e: e.get("numbness_tingling") == "present" or e.get("diabetes") == "present",
     HEAT + COLD + BAREFOOT),
    ("poor circulation or artery disease (S2, S5, S7)",
     lambda e: e.get("cold_pale_feet") == "present" or e.get("vascular_risk") == "present",
     HEAT + COLD + BAREFOOT),
    ("a hot swollen or injured joint (S3)",
     lambda e: e.get("hot_swollen_joint") == "present" or e.get("joint_injury") == "present",
     HEAT + ("massage the toe",)),
    ("kidney disease (S10, S11, S14)", lambda e: e.get("kidney_disease") == "present", POTASSIUM),
    ("a baby (S4, S6, S8, S16, S21)", lambda e: e.get("age_group") == "infant",
     HEAT + COLD + BAREFOOT + EXERCISES + POTASSIUM + ADULT_ONLY),
    ("a child (S6, S15, S18)", lambda e: e.get("age_group") == "child",
     COLD + ("sports drinks to", "drink more electrolytes", "caffeine, sugar, alcohol",
             "seven to eight hours")),
    ("muscle symptoms on a statin or new medicine (S20)",
     lambda e: e.get("statin_or_new_medicine") == "present"
     and any(e.get(f) == "present" for f in ("leg_pain", "cramp_stiffness", "muscle_weakness")),
     EXERCISES + BAREFOOT),
)
#: The answers the contract looks at (each present or absent in the exhaustive test).
ANSWERS = ("numbness_tingling", "diabetes", "cold_pale_feet", "vascular_risk",
           "hot_swollen_joint", "joint_injury", "kidney_disease", "statin_or_new_medicine",
           "cramp_stiffness")


def shown_text(advice) -> str:
    parts = [advice.summary, *advice.next_steps]
    for item in advice.items:
        parts += [item.title, item.text, *item.steps]
    return " ".join(parts).lower()


def violations(evidence: dict[str, str], advice) -> list[str]:
    text = shown_text(advice)
    return [f"{who}: {phrase!r}" for who, applies, phrases in CONTRACT if applies(evidence)
            for phrase in phrases if phrase in text]


def test_every_combination_of_the_withholding_answers_shows_no_withheld_item():
    """2^9 combinations x 4 age groups x the two levels that show advice: nothing the
    contract forbids is shown, and whenever an item is left out, a line says why."""
    others = {f: "absent" for f in load_advice_book().findings if f not in ANSWERS}
    checked = 0
    for age, level in itertools.product(AGES, ("self_care", "see_doctor")):
        for states in itertools.product(("absent", "present"), repeat=len(ANSWERS)):
            evidence = {"age_group": age, **others, **dict(zip(ANSWERS, states, strict=True))}
            advice = advice_for(level, evidence, VOCAB)
            assert violations(evidence, advice) == [], evidence
            assert bool(advice.withheld) == bool(advice.withheld_lines)
            assert not any(i.caution for i in advice.items), "every question was answered"
            checked += 1
    assert checked == 4 * 2 * 2 ** len(ANSWERS)


@settings(max_examples=300, deadline=None)
@given(
    answers=st.dictionaries(st.sampled_from(ANSWERS + ("leg_pain", "muscle_weakness")),
                            st.sampled_from(("absent", "present"))),
    age=st.sampled_from((None, *AGES)),
)
def test_an_unanswered_question_leaves_a_caution_under_every_item_it_could_withhold(answers, age):
    """With some answers unknown, what is shown never breaks the contract for the answers
    given, and each item a still-open rule could withhold says "Skip this if ..."."""
    evidence = {**answers, **({"age_group": age} if age else {})}
    advice = advice_for("self_care", evidence, VOCAB)
    assert violations(evidence, advice) == []
    for rule in load_advice_book().rules:
        if rule.state(evidence) is None and not rule.age_only:
            for item in advice.items:
                if item.id in rule.withhold:
                    assert rule.unless in item.caution
    if age is None:
        assert advice.general_notes, "the age decides what a baby or a child may be given"


def test_no_advice_calls_itself_safe():
    """The tool never calls advice safe that it has not checked for the person."""
    book = load_advice_book()
    texts = [*book.summary.values(), *(s for v in book.next_steps.values() for s in v)]
    texts += [t for i in book.items for t in (i.text, *i.steps)]
    assert not [t for t in texts if re.search(r"\bsafe\b", t, re.IGNORECASE)]


def test_emergency_advice_carries_nothing_but_the_call_for_help():
    advice = advice_for("emergency", {"age_group": "adult"}, VOCAB)
    assert advice.items == () and advice.withheld == ()
    assert any("emergency number" in s for s in advice.next_steps)


def test_the_questions_that_could_change_the_advice_are_listed_until_answered():
    """The interview asks these before it stops (ui/interview.py)."""
    open_now = advice_questions({"age_group": "adult", "numbness_tingling": "absent"}, VOCAB)
    assert {"diabetes", "kidney_disease", "hot_swollen_joint"} <= set(open_now)
    assert "numbness_tingling" not in open_now
    everything = {f: "absent" for f in load_advice_book().findings}
    assert advice_questions({"age_group": "adult", **everything}, VOCAB) == ()
    # a rule that already holds needs no more answers: diabetes decides heat and ice
    with_diabetes = advice_questions({"age_group": "adult", "diabetes": "present"}, VOCAB)
    assert "numbness_tingling" not in with_diabetes


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_the_diagnosis_carries_the_advice_checked_for_its_answers(model):
    evidence = {"age_group": "older_adult", "kidney_disease": "present", "diabetes": "present"}
    d = model.diagnose(evidence)
    assert d.advice == advice_for(d.urgency, d.evidence, model.vocabulary)
    assert {"electrolyte_drinks", "warm_compress"}.isdisjoint(d.advice.item_ids)
    assert {"foot_care", "kidney_diet"} <= set(d.advice.item_ids)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toe_twitch", *args], capture_output=True,
                          text=True, timeout=120)


def test_the_command_line_and_json_show_the_same_advice_as_the_model(model):
    """One function decides the advice; the text and --json outputs both show it whole."""
    answers = ["age_group=adult", "numbness_tingling=yes", "kidney_disease=yes"]
    evidence = {"age_group": "adult", "numbness_tingling": "present", "kidney_disease": "present"}
    expected = model.diagnose(evidence).advice
    data = json.loads(run("diagnose", "--json", *answers).stdout)["advice"]
    assert [i["id"] for i in data["items"]] == list(expected.item_ids)
    assert data["withheld_lines"] == list(expected.withheld_lines)
    text = " ".join(run("diagnose", *answers).stdout.split())
    for item in expected.items:
        assert " ".join((item.text or item.steps[0]).split()) in text
    for line in expected.withheld_lines:
        assert line in text
    assert "Left out for you" in text and "heating pad" not in text
