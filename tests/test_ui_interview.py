"""The guided interview (Guided questions page): its order, Back, the stop rule, the link.

The screens are driven by their buttons' keys (:mod:`ui.keys`); what the next question
must be is asked of :func:`toe_twitch.interview.plan`, which takes it from the model's expected
information gain.
"""

from __future__ import annotations

import pytest

from tests.test_ui_app import RED_FLAGS_NONE, click, open_app, ranking, rerun, texts
from toe_twitch import interview, load_model
from toe_twitch.ui import keys


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
    if keys.HISTORY_NONE in shown or keys.HISTORY_CONTINUE in shown:
        return interview.HISTORY
    if "iv_present" in shown:
        return interview.QUESTION
    if keys.INTERVIEW_MORE_BUTTON in shown:
        return interview.DONE
    return interview.EMERGENCY


def question(at) -> str:
    return at.header[-1].value


def history_none(age: str) -> dict[str, str]:
    """The emergency signs, the age and the health screen all answered No."""
    m = load_model()
    evidence = RED_FLAGS_NONE | {"age_group": age}
    return evidence | {f: "absent" for f in interview.health_screen(m, evidence)}


def finding_asked(model, at) -> str:
    """The finding whose question the interview shows."""
    [finding] = [f for f in model.findings if model.vocabulary.findings[f].question == question(at)]
    return finding


def plan_for(model, at) -> interview.Plan:
    evidence = dict(at.session_state[keys.ANSWERS])
    return interview.plan(model.case(evidence), at.session_state[keys.SKIPPED])


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
    assert screen(at) == interview.HISTORY
    click(at, keys.HISTORY_NONE)
    assert screen(at) == interview.QUESTION
    q = plan_for(model, at).question
    assert question(at) == model.vocabulary.findings[q.finding].question


def test_the_top_three_and_the_urgency_stay_above_the_question(model):
    """Above every question: the urgency so far and the three likeliest causes (and the
    "none of these" row), as the model ranks them."""
    at = open_app(history_none("adult"), page="questions")
    assert "So far:" in (at.success or at.warning)[0].value
    d = model.diagnose(dict(at.session_state[keys.ANSWERS]))
    assert len(ranking(at)) == 4
    assert ranking(at)[0].startswith(model.vocabulary.causes[d.top].label.split(" (")[0])


def test_back_undoes_exactly_the_last_screen():
    """Back removes the last answer given (all five signs when that screen was last)."""
    at = open_app(page="questions")
    click(at, keys.RED_FLAGS_NONE)
    click(at, keys.interview_answer_key("age_group", "child"))
    click(at, keys.HISTORY_NONE)
    first = question(at)
    click(at, "iv_present")
    click(at, keys.INTERVIEW_BACK)
    assert question(at) == first
    assert at.session_state[keys.ANSWERS] == history_none("child")
    click(at, keys.INTERVIEW_BACK)
    assert screen(at) == interview.HISTORY
    click(at, keys.INTERVIEW_BACK)
    assert screen(at) == interview.AGE
    click(at, keys.INTERVIEW_BACK)
    assert screen(at) == interview.RED_FLAGS and at.session_state[keys.ANSWERS] == {}


def test_dont_know_is_not_asked_again_and_is_kept_in_the_link():
    """ "Don't know" moves on, never asks that question again, and the link remembers it."""
    at = open_app(history_none("adult"), page="questions")
    first = question(at)
    finding = finding_asked(load_model(), at)
    click(at, "iv_unknown")
    assert question(at) != first
    assert finding in at.session_state[keys.SKIPPED]
    assert at.query_params[finding] in ("unknown", ["unknown"])


def test_it_stops_by_the_stated_rule_and_shows_the_results(model):
    """Answering No to every question, the interview stops when the plan has no question
    worth asking, states its rule and shows the full results; "Answer more questions"
    goes on past the rule."""
    at = open_app(history_none("adult"), page="questions")
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
    assert screen(at) == interview.HISTORY
    click(at, keys.INTERVIEW_BACK)
    assert "age_group" not in at.session_state[keys.ANSWERS]


# ---------------------------------------------------------------- the planner itself
def test_a_question_that_can_change_the_urgency_is_always_worth_asking(model):
    """Every question one of whose answers changes the urgency stays a candidate, however
    little it moves the causes (triage questions are never skipped by the stop rule)."""
    evidence = RED_FLAGS_NONE | {"age_group": "adult"}
    found = {c.question.finding for c in interview.candidates(model.case(evidence), [])}
    assert {"persists_2_weeks", "tongue_twitching", "muscle_wasting"} <= found


def test_questions_for_other_ages_are_not_asked(model):
    """Weak feeding (babies only) is not a candidate for an adult, nor without an age."""
    for evidence in (RED_FLAGS_NONE | {"age_group": "adult"}, dict(RED_FLAGS_NONE)):
        found = {
            c.question.finding
            for c in interview.candidates(model.case(evidence), [], everything=True)
        }
        assert "weak_feeding" not in found


# ---------------------------------------------------------------- the health history
def test_the_health_screen_follows_the_age_with_what_applies_at_that_age(model):
    """After the age: "Does any of this apply to you?" with one box for each finding the
    vocabulary puts on the health screen and asks at that age."""
    at = open_app(RED_FLAGS_NONE | {"age_group": "older_adult"}, page="questions")
    assert screen(at) == interview.HISTORY
    assert question(at) == "Does any of this apply to you?"
    boxes = [c.key for c in at.checkbox]
    evidence = {"age_group": "older_adult"}
    assert boxes == [keys.history_key(f) for f in interview.health_screen(model, evidence)]
    assert {"diabetes", "kidney_disease", "statin_or_new_medicine"} <= {
        f for f in interview.health_screen(model, evidence)
    }


def test_health_screen_ticked_is_yes_unticked_is_no_on_continue():
    """A ticked box is a Yes; on Continue every other box is a No; one step for Back."""
    at = open_app(RED_FLAGS_NONE | {"age_group": "adult"}, page="questions")
    at.checkbox(key=keys.history_key("diabetes")).check().run()
    rerun(at)
    assert keys.HISTORY_NONE not in {b.key for b in at.button}  # "None of these" gone
    click(at, keys.HISTORY_CONTINUE)
    given = at.session_state[keys.ANSWERS]
    assert given["diabetes"] == "present" and given["kidney_disease"] == "absent"
    assert screen(at) == interview.QUESTION
    click(at, keys.INTERVIEW_BACK)
    assert screen(at) == interview.HISTORY and "diabetes" not in at.session_state[keys.ANSWERS]


def test_not_sure_on_the_health_screen_leaves_the_rest_unanswered(model):
    """ "I'm not sure" keeps a ticked box as Yes and leaves the others unanswered (skipped,
    so the interview can still ask them one by one if they matter)."""
    at = open_app(RED_FLAGS_NONE | {"age_group": "adult"}, page="questions")
    at.checkbox(key=keys.history_key("kidney_disease")).check().run()
    rerun(at)
    click(at, keys.HISTORY_UNSURE)
    assert at.session_state[keys.ANSWERS]["kidney_disease"] == "present"
    assert "diabetes" not in at.session_state[keys.ANSWERS]
    assert "diabetes" in at.session_state[keys.SKIPPED]


# ---------------------------------------------------------------- the stop rule and the advice
def test_a_question_that_can_change_the_advice_is_always_worth_asking(model):
    """Numb feet and diabetes stay candidates while their answer could change the home
    advice shown (toe_twitch.advice.advice_questions), however little they move a cause."""
    from toe_twitch.advice import advice_questions

    evidence = RED_FLAGS_NONE | {"age_group": "adult", "onset_falling_asleep": "present"}
    wanted = set(advice_questions(evidence, model.vocabulary))
    found = {c.question.finding: c for c in interview.candidates(model.case(evidence), [])}
    assert "numbness_tingling" in wanted and wanted - {"age_group"} <= set(found)
    assert found["numbness_tingling"].changes_advice
    assert "advice shown to you" in interview.STOP_RULE


def test_the_interview_does_not_stop_before_asking_what_changes_the_advice(model):
    """Answering No to everything, the interview never reaches its results while an
    open question could still change the advice."""
    from toe_twitch.advice import advice_questions

    at = open_app(history_none("adult"), page="questions")
    while screen(at) == interview.QUESTION:
        click(at, "iv_absent")
    evidence = dict(at.session_state[keys.ANSWERS])
    open_now = set(interview.open_questions(model, evidence, at.session_state[keys.SKIPPED]))
    assert not open_now & set(advice_questions(evidence, model.vocabulary))


def test_cause_questions_come_before_the_safety_checks(model):
    """The questions that tell causes apart come first; the checks asked only for the
    urgency or the advice come after them, so a low-risk person is asked first about
    what most likely fits."""
    evidence = history_none("adult") | {"caffeine_or_stimulants": "present"}
    order = interview.plan(model.case(evidence), []).candidates
    checks = [c.safety_check for c in order]
    assert checks == sorted(checks) and any(checks) and not all(checks)


def test_why_we_ask_a_safety_check_names_no_serious_cause(model):
    """A safety check says what a Yes would change and how often people say No, never the
    serious cause behind it; the reason is the one shown on the page."""
    evidence = history_none("adult") | {"caffeine_or_stimulants": "present"}
    checks = [c for c in interview.candidates(model.case(evidence), []) if c.safety_check]
    assert checks
    serious = [model.vocabulary.causes[c].label for c in ("als", "sma", "myopathy", "parkinsons")]
    for c in checks:
        why = interview.why_we_ask(model, c)
        assert why.startswith("Why we ask:") and not any(s in why for s in serious), why
        if c.raised_by:
            assert model.vocabulary.urgency[c.raised_by[1]].label in why
    at = open_app(evidence, page="questions")
    shown = plan_for(model, at).candidates[0]
    assert interview.why_we_ask(model, shown) in texts(at)


def test_the_progress_line_promises_no_count(model):
    """The progress line numbers the question and promises no count of those left."""
    at = open_app(history_none("adult"), page="questions")
    assert "Question 1." in texts(at) and "more" not in texts(at).split("Question 1.")[1][:60]
    click(at, "iv_absent")
    assert "Question 2." in texts(at)


def test_not_sure_of_the_emergency_signs_says_what_to_do():
    """Beside "I'm not sure" on the first screen, and above the next screens when the
    signs were skipped: what to do when unsure (call emergency services)."""
    at = open_app(page="questions")
    assert "call emergency services" in texts(at)
    click(at, keys.RED_FLAGS_UNSURE)
    assert screen(at) == interview.AGE
    assert any("not sure about the emergency signs" in w.value for w in at.warning)


def test_the_browsers_back_button_undoes_an_answer(model, monkeypatch):
    """Every answer is a new link in the browser's history; going back to the earlier
    link (the browser's Back) undoes that answer, as the page's own Back does. A run
    with another link that is not the browser's history (a click in the navigation comes
    with an empty link) keeps the case."""
    from toe_twitch.ui import answers

    at = open_app(history_none("adult"), page="questions")
    first, link_before = question(at), dict(at.query_params)
    click(at, "iv_present")
    assert question(at) != first
    given = dict(at.session_state[keys.ANSWERS])
    at.query_params.clear()
    rerun(at)  # a page change: not the browser's history
    assert at.session_state[keys.ANSWERS] == given
    at.query_params.clear()
    at.query_params.update(link_before)
    monkeypatch.setattr(answers, "_history_navigation", lambda: True)
    rerun(at)
    assert question(at) == first
    assert at.session_state[keys.ANSWERS] == history_none("adult")
    click(at, keys.INTERVIEW_BACK)  # the page's own Back goes on from there
    assert screen(at) == interview.HISTORY
