"""The Explore page (ui/app.py), run headless with Streamlit's AppTest.

Widgets are found by their stable keys: ``f_<finding id>`` for every question.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from model import DISCLAIMER, ToeTwitchModel
from ui.state import RESET_BUTTON, UNKNOWN, widget_key

#: ui/app.py as an absolute path: AppTest resolves relative paths against this test file.
APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")
RANK_LINE = re.compile(r"^\*\*(\d+)\. (.+?)\*\* · ")


@pytest.fixture
def at() -> AppTest:
    """A fresh page session, already run once."""
    app = AppTest.from_file(APP, default_timeout=30)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def widget(at: AppTest, finding: str):
    """The question widget of a finding, by key (a selectbox for age, else Yes/No/Don't know)."""
    key = widget_key(finding)
    if finding == "age_group":
        return at.selectbox(key=key)
    return at.segmented_control(key=key)


def ranking(at: AppTest) -> list[str]:
    """Cause labels in the order the page lists them."""
    return [m.group(2) for e in at.markdown if (m := RANK_LINE.match(e.value))]


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def all_text(at: AppTest) -> str:
    return "\n".join(
        texts(kind) for kind in (at.markdown, at.success, at.warning, at.error, at.info, at.caption)
    )


def test_page_renders_with_title_and_disclaimer(at):
    """The page opens without an error and shows its title and the disclaimer first."""
    assert at.title[0].value.startswith("What might be causing")
    assert DISCLAIMER in at.info[0].value


def test_every_finding_has_exactly_one_question(at, model):
    """Each finding of the model is asked once in the sidebar, with the key f_<finding>, set to Don't know."""
    keys = [w.key for w in (*at.sidebar.segmented_control, *at.sidebar.selectbox)]
    assert sorted(keys) == sorted(widget_key(f) for f in model.findings)
    assert all(widget(at, f).value == UNKNOWN for f in model.findings)


def test_red_flags_are_the_last_group(at, model):
    """The red-flag questions come last, under their own heading, in the sidebar."""
    headings = [h.value for h in at.sidebar.subheader]
    assert headings[-1].endswith("Red flags")
    red = [f for f in model.findings if model.vocabulary.findings[f].red_flag]
    sidebar_keys = [w.key for w in at.sidebar.segmented_control]
    assert sidebar_keys[-len(red) :] == [widget_key(f) for f in red]


def test_answering_a_question_changes_the_ranking(at):
    """Saying Yes to "twitching comes as you fall asleep" puts hypnic jerks first."""
    before = ranking(at)
    widget(at, "onset_falling_asleep").set_value("present").run()
    after = ranking(at)
    assert len(after) == len(before) == 12
    assert after != before
    assert after[0].startswith("Hypnic")


def test_each_cause_says_how_its_likelihood_moved(at):
    """Every cause shows how much more or less likely it is than before the answers."""
    widget(at, "onset_falling_asleep").set_value("present").run()
    lines = [e.value for e in at.markdown if RANK_LINE.match(e.value)]
    assert len(lines) == 12
    assert all("before your answers" in line for line in lines)
    assert "more likely than before your answers" in lines[0]


def test_ranking_is_drawn_as_a_labelled_bar_chart(at):
    """The ranking is a bar chart of cause labels, sorted like the list, with percentages
    and a 90% interval (a rule from the 5th to the 95th percentile) on each bar."""
    charts = at.get("vega_lite_chart")
    assert charts, "no chart drawn"
    layers = json.loads(charts[0].proto.spec)["layer"]  # the ranking comes first
    bars, interval, labels, names = layers
    assert bars["mark"]["type"] == "bar" and labels["mark"]["type"] == "text"
    assert bars["encoding"]["y"]["sort"] == ranking(at)
    assert labels["encoding"]["text"]["field"] == "Shown"
    assert names["encoding"]["text"]["field"] == "Name"  # the cause's name above its bar
    assert interval["mark"]["type"] == "rule"
    assert (interval["encoding"]["x"]["field"], interval["encoding"]["x2"]["field"]) == (
        "Low",
        "High",
    )


def test_no_answers_means_self_care_with_home_advice(at):
    """With no answers the banner is self care, with remedies, exercises, sand and prevention."""
    assert at.success and "Care for it at home" in at.success[0].value
    assert not at.error
    labels = [e.label for e in at.expander]
    assert labels == ["Home remedies", "3 toe exercises", "Walking on sand", "Prevention tips"]
    exercises = texts(at.expander[1].markdown)
    assert "**Toe raise**" in exercises and "1. Stand on your toes" in exercises


def test_self_care_asks_to_check_unanswered_red_flags(at):
    """While red-flag questions are unanswered, self-care advice says to check them."""
    assert any("check the red-flag questions" in i.value for i in at.info)
    for finding in ("sudden_weakness_or_paralysis", "speech_or_vision_change",
                    "bladder_bowel_or_saddle_numbness", "breathing_or_swallowing_difficulty",
                    "confusion_or_fainting"):  # fmt: skip
        widget(at, finding).set_value("absent")
    at.run()
    assert at.success
    assert not any("red-flag questions" in i.value for i in at.info)


def test_red_flag_shows_only_the_emergency_banner(at):
    """A red flag gives the emergency banner and nothing else: no advice, ranking or chart."""
    widget(at, "breathing_or_swallowing_difficulty").set_value("present").run()
    assert at.error
    banner = at.error[0].value
    assert "Seek emergency care now" in banner and "emergency number" in banner
    assert not at.success and not at.warning
    assert not at.expander and not at.tabs and not ranking(at)
    assert not at.get("vega_lite_chart")
    text = all_text(at)
    for distraction in ("Home remedies", "Toe raise", "sand", "Prevention", "When to see a doctor"):
        assert distraction not in text


def test_persisting_twitching_means_see_a_doctor(at):
    """Twitching for two weeks or more gives the see-a-doctor banner with next steps."""
    widget(at, "persists_2_weeks").set_value("present").run()
    assert at.warning and not at.error and not at.success
    assert "See a doctor" in at.warning[0].value
    assert "Book an appointment" in at.warning[0].value
    assert "Home remedies" in [e.label for e in at.expander]


def test_url_answers_prefill_the_questions():
    """Opening a link with answers in it fills in those answers."""
    app = AppTest.from_file(APP, default_timeout=30)
    app.query_params["leg_pain"] = "present"
    app.query_params["age_group"] = "older_adult"
    app.run()
    assert not app.exception
    assert widget(app, "leg_pain").value == "present"
    assert widget(app, "age_group").value == "older_adult"
    assert widget(app, "fever").value == UNKNOWN
    assert "2 of 33 questions answered" in texts(app.caption)


def test_answers_round_trip_through_the_url(at):
    """Answers go into the URL, and a new page opened with that URL shows the same case."""
    widget(at, "onset_falling_asleep").set_value("present")
    widget(at, "anxiety_or_stress").set_value("absent")
    widget(at, "age_group").set_value("adult")
    at.run()
    assert at.query_params == {
        "age_group": "adult",
        "onset_falling_asleep": "present",
        "anxiety_or_stress": "absent",
    }
    again = AppTest.from_file(APP, default_timeout=30)
    again.query_params.update(at.query_params)
    again.run()
    assert widget(again, "anxiety_or_stress").value == "absent"
    assert ranking(again) == ranking(at)
    assert again.query_params == at.query_params


def test_invalid_url_answers_are_ignored_with_a_warning():
    """Unknown questions or answers in the link are ignored, named in a small warning, and dropped."""
    app = AppTest.from_file(APP, default_timeout=30)
    app.query_params.update({"leg_pain": "maybe", "toes": "present", "fever": "present"})
    app.run()
    assert not app.exception
    assert widget(app, "leg_pain").value == UNKNOWN
    assert widget(app, "fever").value == "present"
    warning = texts(app.caption)
    assert "ignored" in warning and "“toes”" in warning and "“maybe”" in warning
    assert app.query_params == {"fever": "present"}


def test_reset_clears_answers_and_url(at, model):
    """The "Reset answers" button sets every question back to Don't know and empties the URL."""
    widget(at, "leg_pain").set_value("present")
    widget(at, "age_group").set_value("child")
    at.run()
    assert at.query_params
    at.button(key=RESET_BUTTON).click().run()
    assert all(widget(at, f).value == UNKNOWN for f in model.findings)
    assert at.query_params == {}


def test_one_rerun_makes_one_model_call(at, monkeypatch):
    """Each rerun asks the model once: the page stays fast."""
    calls = []
    original = ToeTwitchModel.diagnose

    def counting(self, evidence):
        calls.append(dict(evidence))
        return original(self, evidence)

    monkeypatch.setattr(ToeTwitchModel, "diagnose", counting)
    widget(at, "leg_pain").set_value("present").run()
    assert calls == [{"leg_pain": "present"}]
