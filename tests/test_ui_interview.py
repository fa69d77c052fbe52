"""The guided interview (Guided questions page): its order, Back, the stop rule, the link.

The screens are driven by their buttons' keys (:mod:`ui.keys`); what the next question
must be is asked of :func:`ui.interview.plan`, which takes it from the model's expected
information gain.
"""

from __future__ import annotations

import pytest

from tests.test_ui_app import RED_FLAGS_NONE, click, open_app, ranking, texts
from toe_twitch import load_model
from toe_twitch.ui import interview, keys


@pytest.fixture(scope="module")
def model():
    return load_model()


def screen(at) -> str:
    """Which screen the interview shows, from the buttons it offers."""
    shown = {b.key for b in at.button}
    if keys.RED_FLAGS_NONE in shown:
        return interview.RED_FLAGS
    if keys.interview_answer_key("age_group", "adult") in shown:
        return interview.AGE
    if "iv_present" in shown:
        return interview.QUESTION
    if keys.INTERVIEW_MORE_BUTTON in shown:
        return interview.DONE
    return interview.EMERGENCY


def question(at) -> str:
    return at.header[-1].value


def plan_for(model, at) -> interview.Plan:
    evidence = dict(at.session_state[keys.ANSWERS])
    d = model.diagnose(evidence)
    return interview.plan(model, evidence, at.session_state[keys.SKIPPED], d)


def test_the_emergency_signs_come_first_on_one_screen(model):
    """The interview opens on the emergency signs, all five on one screen."""
    at = open_app(page="questions")
    assert screen(at) == interview.RED_FLAGS
    boxes = [c.key for c in at.checkbox]
    assert boxes == [keys.red_flag_key(f) for f in model.vocabulary.red_flags]


def test_ticking_an_emergency_sign_shows_the_emergency_at_once():
    """Ticking a sign shows the emergency banner and no cause percentages."""
    at = open_app(page="questions")
    at.checkbox(key=keys.red_flag_key("speech_or_vision_change")).check().run()
    at.run()
    assert screen(at) == interview.EMERGENCY
    assert "Seek emergency care now" in at.error[0].value
    assert ranking(at) == []


def test_none_of_the_signs_then_age_then_the_most_informative_question(model):
    """After "None of these" comes the age, then the question the model finds most
    informative (of those worth asking)."""
    at = open_app(page="questions")
    click(at, keys.RED_FLAGS_NONE)
    assert at.session_state[keys.ANSWERS] == RED_FLAGS_NONE
    assert screen(at) == interview.AGE
    click(at, keys.interview_answer_key("age_group", "adult"))
    assert screen(at) == interview.QUESTION
    assert question(at) == plan_for(model, at).question.label


def test_the_top_three_and_the_urgency_stay_above_the_question(model):
    """Above every question: the urgency so far and the three likeliest causes (and the
    "none of these" row), as the model ranks them."""
    at = open_app(RED_FLAGS_NONE | {"age_group": "adult"}, page="questions")
    assert "So far:" in (at.success or at.warning)[0].value
    d = model.diagnose(dict(at.session_state[keys.ANSWERS]))
    assert len(ranking(at)) == 4
    assert ranking(at)[0].startswith(model.vocabulary.causes[d.top].label.split(" (")[0])


def test_back_undoes_exactly_the_last_screen():
    """Back removes the last answer given (all five signs when that screen was last)."""
    at = open_app(page="questions")
    click(at, keys.RED_FLAGS_NONE)
    click(at, keys.interview_answer_key("age_group", "child"))
    first = question(at)
    click(at, "iv_present")
    click(at, keys.INTERVIEW_BACK)
    assert question(at) == first
    assert at.session_state[keys.ANSWERS] == RED_FLAGS_NONE | {"age_group": "child"}
    click(at, keys.INTERVIEW_BACK)
    assert screen(at) == interview.AGE
    click(at, keys.INTERVIEW_BACK)
    assert screen(at) == interview.RED_FLAGS and at.session_state[keys.ANSWERS] == {}


def test_dont_know_is_not_asked_again_and_is_kept_in_the_link():
    """ "Don't know" moves on, never asks that question again, and the link remembers it."""
    at = open_app(RED_FLAGS_NONE | {"age_group": "adult"}, page="questions")
    first = question(at)
    finding = next(
        f
        for f, label in (
            (f, load_model().vocabulary.findings[f].label) for f in load_model().findings
        )
        if label == first
    )
    click(at, "iv_unknown")
    assert question(at) != first
    assert finding in at.session_state[keys.SKIPPED]
    assert at.query_params[finding] in ("unknown", ["unknown"])


def test_it_stops_by_the_stated_rule_and_shows_the_results(model):
    """Answering No to every question, the interview stops when the plan has no question
    worth asking, states its rule and shows the full results; "Answer more questions"
    goes on past the rule."""
    at = open_app(RED_FLAGS_NONE | {"age_group": "adult"}, page="questions")
    asked = 0
    while screen(at) == interview.QUESTION:
        click(at, "iv_absent")
        asked += 1
        assert asked < len(model.findings)
    assert screen(at) == interview.DONE
    assert plan_for(model, at).step == interview.DONE
    assert interview.STOP_RULE in texts(at)
    assert len(ranking(at)) == len(model.causes) + 1
    click(at, keys.INTERVIEW_MORE_BUTTON)
    assert screen(at) == interview.QUESTION


def test_the_interview_and_the_full_list_share_one_case():
    """Answers given in the interview are the answers of the All questions page."""
    at = open_app(page="questions")
    click(at, keys.RED_FLAGS_NONE)
    click(at, keys.interview_answer_key("age_group", "older_adult"))
    from tests.test_ui_app import go

    go(at, "explore")
    assert at.selectbox(key=keys.question_key("age_group")).value == "older_adult"
    assert at.segmented_control(key=keys.question_key("confusion_or_fainting")).value == "absent"


def test_a_link_resumes_the_interview_where_it_was():
    """Opening a link with answers continues the interview after them, and Back works."""
    at = open_app(RED_FLAGS_NONE | {"age_group": "adult"}, page="questions")
    assert screen(at) == interview.QUESTION
    click(at, keys.INTERVIEW_BACK)
    assert "age_group" not in at.session_state[keys.ANSWERS]


# ---------------------------------------------------------------- the planner itself
def test_a_question_that_can_change_the_urgency_is_always_worth_asking(model):
    """Every question one of whose answers changes the urgency stays a candidate, however
    little it moves the causes (triage questions are never skipped by the stop rule)."""
    evidence = RED_FLAGS_NONE | {"age_group": "adult"}
    d = model.diagnose(evidence)
    found = {c.question.finding for c in interview.candidates(model, evidence, [], d)}
    assert {"persists_2_weeks", "tongue_twitching", "muscle_wasting"} <= found


def test_questions_for_other_ages_are_not_asked(model):
    """Weak feeding (babies only) is not a candidate for an adult, nor without an age."""
    for evidence in (RED_FLAGS_NONE | {"age_group": "adult"}, dict(RED_FLAGS_NONE)):
        d = model.diagnose(evidence)
        found = {
            c.question.finding
            for c in interview.candidates(model, evidence, [], d, everything=True)
        }
        assert "weak_feeding" not in found
