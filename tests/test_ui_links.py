"""Nothing a link can inject: hostile query strings are reported in plain text, cut short,
and never become links, emphasis or HTML on the page; the valid answers still count.

A link is outside input. Every part of it that is not a valid answer is named in a note
drawn with ``st.text`` (never Markdown), after :func:`ui.text.plain`.
"""

from __future__ import annotations

import pytest

from tests.test_ui_app import htmls, open_app, ranking, texts
from toe_twitch import load_model
from toe_twitch.ui import answers, keys
from toe_twitch.ui.text import MAX_SHOWN_CHARS, plain

PHISHING = "[Call 555-0100 now](https://example.com)"
HOSTILE = {
    "leg_pain": PHISHING,
    "**key**": "present",
    "<img src=x onerror=alert(1)>": "present",
    "fever": "<script>alert('x')</script>",
    "fatigue": "present\u202eevil\u0000\u200b",
    "rtl\u202ekey": "present",
    "x" * 3000: "present",
    "diabetes": "y" * 100_000,
    "onset_falling_asleep": "present",
}
#: What must never reach a Markdown or HTML element of the page.
FORBIDDEN = (
    "555-0100",
    "example.com",
    "**key**",
    "<img",
    "onerror",
    "<script",
    "alert(",
    "\u202e",
    "x" * 100,
)


def markdown_texts(at) -> str:
    """Every element that renders Markdown or HTML (st.text and st.code do not)."""
    kinds = (
        at.title,
        at.header,
        at.subheader,
        at.markdown,
        at.caption,
        at.info,
        at.success,
        at.warning,
        at.error,
    )
    return "\n".join(e.value for kind in kinds for e in kind) + "\n".join(htmls(at))


@pytest.fixture(scope="module")
def hostile_page():
    return open_app(HOSTILE)


def test_a_hostile_link_writes_nothing_into_the_page(hostile_page):
    """Links, emphasis, HTML, control and right-to-left characters from the link reach no
    Markdown or HTML element."""
    shown = markdown_texts(hostile_page)
    for bad in FORBIDDEN:
        assert bad not in shown, bad


def test_every_ignored_part_is_named_in_plain_text_and_cut_short(hostile_page):
    """The notes name the ignored parts as plain text, cut to a readable length, without
    the hidden characters."""
    notes = "\n".join(t.value for t in hostile_page.text)
    assert "Call 555-0100" in notes  # shown, but as plain text
    assert "**key**" in notes
    assert "\u202e" not in notes and "\u0000" not in notes
    assert max(len(line) for line in notes.splitlines()) < 400
    assert "y" * (MAX_SHOWN_CHARS + 1) not in notes


def test_the_valid_answers_of_a_hostile_link_still_count(hostile_page):
    """The one valid answer is used; the page answers with its ranking."""
    assert hostile_page.session_state[keys.ANSWERS] == {"onset_falling_asleep": "present"}
    assert ranking(hostile_page)[0].startswith("Hypnic")


def test_repeated_keys_are_reported_not_silently_resolved():
    """``?leg_pain=present&leg_pain=absent`` leaves leg pain unanswered and says why; the
    same answer twice counts once."""
    at = open_app({"leg_pain": ["present", "absent"], "fever": ["present", "present"]})
    assert at.session_state[keys.ANSWERS] == {"fever": "present"}
    notes = "\n".join(t.value for t in at.text)
    assert "given 2 times with different answers" in notes
    assert at.query_params.get("leg_pain") in (None, [])


def test_hundreds_of_parameters_are_counted_not_listed():
    """A link of 900 junk parameters: the page answers, and the notes stay short (a count
    of the rest), not 900 lines."""
    query = {f"junk{i}": "present" for i in range(900)} | {"leg_pain": "present"}
    at = open_app(query)
    notes = [t.value for t in at.text]
    assert sum(n.count("\n") + 1 for n in notes) <= answers.MAX_NOTES + 2
    assert "more parts of the link not used" in "\n".join(notes)
    assert ranking(at) and at.session_state[keys.ANSWERS] == {"leg_pain": "present"}


def test_five_thousand_parameters_do_not_break_the_page():
    """Streamlit drops a query string of more than 1,000 parameters before the page sees
    it; the page still opens (the browser test checks that the drop is reported)."""
    query = {f"junk{i}": "present" for i in range(5000)} | {"leg_pain": "present"}
    at = open_app(query)
    assert ranking(at)


def test_plain_removes_hidden_characters_and_cuts():
    """:func:`ui.text.plain` replaces controls and direction overrides, collapses spaces
    and cuts to the limit."""
    assert plain("a\u202eb\x00c\u200b d") == "a\ufffdb\ufffdc\ufffd d"
    assert len(plain("z" * 10_000)) == MAX_SHOWN_CHARS
    assert plain("line\nbreak\ttab") == "line break tab"


def test_read_link_names_unknown_questions_and_answers():
    """Unknown questions and impossible answers are notes; the twitching itself is
    refused with its own note (it is assumed, never asked)."""
    m = load_model()
    reading = answers.read_link(
        {
            "toes": ["present"],
            "leg_pain": ["maybe"],
            "toe_twitching": ["absent"],
            "fever": ["unknown"],
        },
        m,
    )
    assert reading.answers == {} and reading.skipped == ["fever"]
    joined = "\n".join(reading.notes)
    assert "“toes”" in joined and "“maybe”" in joined and "assumes it" in joined


def test_a_hostile_link_on_every_page_writes_nothing():
    """Tune, Network and Validation with the same link: nothing injected there either."""
    for page in ("questions", "tune", "network", "validation"):
        at = open_app(HOSTILE, page=page)
        shown = markdown_texts(at)
        for bad in FORBIDDEN:
            assert bad not in shown, (page, bad)
        assert "Something went wrong" not in texts(at)


def test_an_over_long_links_emergency_signs_are_read_wherever_they_stand():
    """The browser's report of a link too long for Streamlit carries every emergency sign
    apart from the first answers it keeps: 200 ordinary answers kept, then sudden
    weakness, which the page reads and which makes the urgency an emergency. A name that
    is not a sign cannot ride in the signs' list."""
    from toe_twitch.ui import link_check

    m = load_model()
    report = {
        "fields": 1201,
        "chars": 20_000,
        "kept": [["leg_pain", "absent"]] * link_check.MAX_KEPT,
        "flags": [["sudden_weakness_or_paralysis", "present"], ["leg_pain", "present"]],
    }
    params = link_check._pairs(report, m)
    assert params["sudden_weakness_or_paralysis"] == ["present"]
    assert set(params["leg_pain"]) == {"absent"}
    reading = answers.read_link(params, m)
    assert m.diagnose(reading.answers).urgency == "emergency"
