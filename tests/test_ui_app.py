"""The page (ui/app.py) run headless with Streamlit's AppTest: every page, and what every
page shares (the disclaimer, the urgency first, impossible answers, unexpected errors).

Widgets are found by key (:mod:`ui.keys`); pages by their URL path. Expected values come
from the model's public API, never from numbers copied into the test. The helpers here
are shared by the other ``test_ui_*`` files.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from toe_twitch import DISCLAIMER, NO_LISTED_CAUSE_LABEL, load_model
from toe_twitch.priors import priors_to_data, validate_priors_data
from toe_twitch.ui import keys, session_priors
from toe_twitch.ui.text import cause_name

#: ui/app.py as an absolute path: AppTest resolves relative paths against this file.
APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")
PAGES = ("questions", "explore", "tune", "network", "validation")
RED_FLAGS_NONE = {f: "absent" for f in load_model().vocabulary.red_flags}
_NAME = re.compile(r'<span class="tt-name">(.*?)</span>')
_VALUE = re.compile(r'<span class="tt-value">([^<]*)')


# ---------------------------------------------------------------- helpers (shared)
def open_app(query: dict[str, str | list[str]] | None = None, page: str | None = None) -> AppTest:
    """A fresh session opened with this link (and page), already run; no exception."""
    at = AppTest.from_file(APP, default_timeout=60)
    if query:
        at.query_params.update(query)
    at.run()
    assert_fine(at)
    return go(at, page) if page else at


def go(at: AppTest, page: str) -> AppTest:
    """Show a page by its URL path, as a click in the navigation does."""
    path = "" if page == "explore" else page
    [page_hash] = [
        h for h, info in at._registered_pages.items() if info.get("url_pathname") == path
    ]
    at._page_hash = page_hash
    at.run()
    assert_fine(at)
    return at


def assert_fine(at: AppTest) -> None:
    """No exception box, no traceback and no failure message on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Something went wrong" in e.value for e in at.error), texts(at)


def rerun(at: AppTest) -> AppTest:
    """A full run: after a fragment's own rerun AppTest holds only that fragment."""
    at.run()
    assert_fine(at)
    return at


def answer_in_list(at: AppTest, finding: str, state: str | None) -> AppTest:
    """Answer a question in the full list (All questions page)."""
    widget = (
        at.selectbox(key=keys.question_key(finding))
        if finding == "age_group"
        else at.segmented_control(key=keys.question_key(finding))
    )
    widget.set_value(state).run()
    return rerun(at)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    return rerun(at)


def htmls(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]


def ranking(at: AppTest) -> list[str]:
    """Row names of the ranking bars, in order (the last is the "none of these" row)."""
    for body in htmls(at):
        if 'aria-label="Possible causes, most likely first"' in body:
            return [html.unescape(n) for n in _NAME.findall(body)]
    return []


def ranking_values(at: AppTest) -> list[str]:
    for body in htmls(at):
        if 'aria-label="Possible causes, most likely first"' in body:
            return [html.unescape(v) for v in _VALUE.findall(body)]
    return []


def texts(at: AppTest) -> str:
    kinds = (at.title, at.header, at.subheader, at.markdown, at.caption, at.text, at.info,
             at.success, at.warning, at.error, at.code)  # fmt: skip
    return "\n".join(e.value for kind in kinds for e in kind)


def expected_ranking(evidence: dict[str, str], model=None) -> list[str]:
    m = model or load_model()
    d = m.diagnose(evidence)
    return [cause_name(m, c) for c, _ in d.ranking] + [NO_LISTED_CAUSE_LABEL]


@pytest.fixture(scope="module")
def model():
    return load_model()


# ---------------------------------------------------------------- every page
@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_with_the_disclaimer(page):
    """Each page runs without an error and says that it explains likelihoods, does not
    diagnose, and to call emergency services in an emergency (the landing pages)."""
    at = open_app(page=page)
    assert at.title, "no title"
    if page in ("questions", "explore"):
        assert DISCLAIMER in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_keeps_the_answers_in_the_link(page):
    """The same URL state everywhere: a page opened from a case keeps its answers in the
    address bar (links from Tune, Network and Validation used to drop them)."""
    at = open_app({"leg_pain": "present", "age_group": "adult"}, page=page)
    assert at.query_params["leg_pain"] == ["present"] or at.query_params["leg_pain"] == "present"
    assert at.session_state[keys.ANSWERS] == {"leg_pain": "present", "age_group": "adult"}


# ---------------------------------------------------------------- results
def test_before_any_answer_the_urgency_is_neutral_not_self_care():
    """With no answer the page asks for a few answers instead of showing "care for it at
    home", and the list is labelled as how common each cause is."""
    at = open_app()
    assert not at.success and "Answer a few questions" in at.info[0].value
    assert any("How common each cause is, before any answer" in body for body in htmls(at))


def test_the_ranking_has_every_cause_then_none_of_these(model):
    """The ranking lists every cause as the model ranks it, then the share no listed cause
    explains as its own row."""
    evidence = {"onset_falling_asleep": "present"}
    at = open_app(evidence)
    assert ranking(at) == expected_ranking(evidence, model)
    assert ranking(at)[-1] == NO_LISTED_CAUSE_LABEL


def test_urgency_comes_before_the_ranking():
    """The urgency banner is drawn first in the results, then the ranking."""
    at = open_app({"persists_2_weeks": "present"})
    assert "See a doctor" in at.warning[0].value
    order = [e.type for e in at.main if e.type in ("warning", "html")]
    assert order.index("warning") < order.index("html")


def test_a_red_flag_shows_the_emergency_and_no_cause_percentages():
    """A red flag: the emergency banner with the call to emergency services and the note
    that the emergency may lie outside the listed causes; no ranking, no percentages."""
    at = open_app({"breathing_or_swallowing_difficulty": "present", "leg_pain": "present"})
    banner = at.error[0].value
    assert "Seek emergency care now" in banner and "emergency number" in banner
    assert "this tool does not list" in banner
    assert ranking(at) == [] and not at.success and not at.warning
    assert "Home remedies" not in [e.label for e in at.expander]


def test_answering_in_the_list_updates_ranking_and_link(model):
    """A Yes in the full list moves the ranking as the model does and goes into the link."""
    at = open_app()
    answer_in_list(at, "onset_falling_asleep", "present")
    assert ranking(at) == expected_ranking({"onset_falling_asleep": "present"}, model)
    assert at.query_params["onset_falling_asleep"] in ("present", ["present"])


def test_a_question_for_babies_is_listed_only_for_a_baby():
    """Weak feeding applies to infants only: it is listed once the age is "Baby"."""
    at = open_app()
    assert keys.question_key("weak_feeding") not in [w.key for w in at.segmented_control]
    answer_in_list(at, "age_group", "infant")
    assert keys.question_key("weak_feeding") in [w.key for w in at.segmented_control]


def test_what_to_ask_next_answers_in_place():
    """An answer given under "What to ask next" becomes an answer of the case, and the
    full list shows it."""
    at = open_app(RED_FLAGS_NONE | {"age_group": "adult"})
    key = next(w.key for w in at.segmented_control if w.key.startswith("ask_"))
    finding = key.removeprefix("ask_")
    at.segmented_control(key=key).set_value("present").run()
    rerun(at)
    assert at.session_state[keys.ANSWERS][finding] == "present"
    assert at.segmented_control(key=keys.question_key(finding)).value == "present"


def test_what_if_never_shows_nan(model):
    """What if: every possible answer shows numbers, never NaN."""
    at = open_app({"onset_falling_asleep": "present"})
    bodies = "\n".join(htmls(at))
    assert "What each answer would change" in bodies
    assert not re.search(r"\bnan\b", bodies, re.IGNORECASE)


# ---------------------------------------------------------------- impossible answers
def impossible_priors():
    """Priors under which a fever is impossible: no cause produces it and its leak is 0."""
    data = priors_to_data(load_model().priors)

    def zero(node):
        if isinstance(node, dict) and "value" in node:
            node["value"] = node["low"] = 0.0
        elif isinstance(node, dict):
            for child in node.values():
                zero(child)

    zero(data["findings"]["fever"])
    return validate_priors_data(data, "impossible-fever")


def with_priors(at: AppTest, priors) -> AppTest:
    session_priors.set_base(priors, "test priors", at.session_state)
    return rerun(at)


@pytest.mark.parametrize("page", ("questions", "explore", "tune"))
def test_impossible_answers_are_a_local_message_on_every_page(page):
    """Answers the priors make impossible give a plain message naming them, never a
    traceback or NaN, and the page still works."""
    at = open_app({"fever": "present"}, page=page)
    with_priors(at, impossible_priors())
    shown = texts(at)
    assert "cannot all be true under the priors in use" in shown
    assert "Fever" in shown
    assert not re.search(r"\bnan\b", shown, re.IGNORECASE)


def test_impossible_answers_can_be_forgotten():
    """The message offers to forget the answer that cannot be true."""
    at = open_app({"fever": "present", "leg_pain": "present"}, page="explore")
    with_priors(at, impossible_priors())
    click(at, "results_forget_fever")
    assert "fever" not in at.session_state[keys.ANSWERS]
    assert ranking(at)


# ---------------------------------------------------------------- unexpected errors
def test_an_unexpected_error_shows_a_plain_message_and_a_way_back(monkeypatch):
    """Anything unexpected: a plain message, no traceback or server path, and a working
    button back to the shipped priors."""
    at = open_app()
    with_priors(at, impossible_priors())

    def broken(*args, **kwargs):
        raise RuntimeError("boom in /srv/secret/path.py")

    monkeypatch.setattr("toe_twitch.ui.views.explore.explore_case", broken)
    at.run()
    assert not at.exception
    shown = texts(at)
    assert "Something went wrong on this page" in shown
    assert "/srv/secret" not in shown and "Traceback" not in shown and "boom" not in shown
    monkeypatch.undo()
    at.button(key=f"failure_results_{keys.BACK_TO_SHIPPED}").click().run()
    rerun(at)
    assert session_priors.current(at.session_state).is_shipped
