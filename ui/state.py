"""Session-state keys of the page and the functions that fill, read and reset them.

Every answer lives in ``st.session_state`` under a widget key ``f_<finding id>``; the
value is the model's state id (``present``, ``absent``, ``adult`` ...) or :data:`UNKNOWN`.
:func:`init_state` only fills keys that are missing, so it is safe on every rerun.
The URL mirrors the answers: one query parameter per answered finding
(``?leg_pain=present&age_group=adult``); unanswered findings are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping

import streamlit as st

#: Widget value for a finding the user has not answered (never sent to the model).
UNKNOWN = "unknown"
#: Prefix of the widget key of every finding: ``f_leg_pain``.
WIDGET_PREFIX = "f_"
#: Set once the URL has been read into the answers (first run of a session).
URL_LOADED = "ui_url_loaded"
#: Query parameters that were ignored when the page was opened, as readable messages.
URL_WARNINGS = "ui_url_warnings"
#: Key of the "Reset answers" button.
RESET_BUTTON = "ui_reset"
#: Query parameters Streamlit itself uses; never treated as answers.
RESERVED_PARAMS = frozenset({"embed", "embed_options"})
#: Findings the user chose "Don't know" for in "What to ask next" (not suggested again).
ASK_SKIPPED = "ui_ask_skipped"
#: Widget keys of other pages whose values should survive a visit to another page.
KEPT_WIDGET_KEYS = ("tune_filter", "tune_name", "tune_note", "net_focus", "net_age_edges")


def widget_key(finding: str) -> str:
    """The session-state / widget key of a finding: ``f_leg_pain``."""
    return WIDGET_PREFIX + finding


def parse_query_params(
    params: Mapping[str, str], states: Mapping[str, tuple[str, ...]]
) -> tuple[dict[str, str], list[str]]:
    """Split URL parameters into valid answers and messages about the ignored ones."""
    answers: dict[str, str] = {}
    problems: list[str] = []
    for name, value in params.items():
        if name in RESERVED_PARAMS:
            continue
        if name not in states:
            problems.append(f"unknown question “{name}”")
        elif value not in states[name]:
            problems.append(f"“{value}” is not an answer to “{name}”")
        else:
            answers[name] = value
    return answers, problems


def init_state(
    findings: Iterable[str],
    states: Mapping[str, tuple[str, ...]],
    query_params: Mapping[str, str],
    session: MutableMapping | None = None,
) -> None:
    """Fill missing keys only: answers from the URL on the first run, else :data:`UNKNOWN`."""
    session = st.session_state if session is None else session
    findings = list(findings)
    if URL_LOADED not in session:
        answers, problems = parse_query_params(query_params, states)
        for finding, value in answers.items():
            session.setdefault(widget_key(finding), value)
        session[URL_WARNINGS] = problems
        session[URL_LOADED] = True
    session.setdefault(URL_WARNINGS, [])
    for finding in findings:
        key = widget_key(finding)
        if session.get(key) is None:
            session[key] = UNKNOWN


def evidence_from_state(findings: Iterable[str], session: Mapping | None = None) -> dict[str, str]:
    """The answered findings, in question order, as the model's evidence dict."""
    session = st.session_state if session is None else session
    evidence = {}
    for finding in findings:
        value = session.get(widget_key(finding))
        if value is not None and value != UNKNOWN:
            evidence[finding] = value
    return evidence


def reset_answers(findings: Iterable[str], session: MutableMapping | None = None) -> None:
    """Set every answer back to :data:`UNKNOWN`, forget URL warnings and clear the URL.

    Meant as the ``on_click`` callback of the reset button (it runs before the widgets
    are drawn, so their values may still be changed).
    """
    session = st.session_state if session is None else session
    for finding in findings:
        session[widget_key(finding)] = UNKNOWN
    session[URL_WARNINGS] = []
    session[ASK_SKIPPED] = []
    st.query_params.clear()


def set_answer(finding: str, value: str, session: MutableMapping | None = None) -> None:
    """Answer one finding as if in the sidebar (``on_click`` callback of an in-place answer).

    :data:`UNKNOWN` means "Don't know": the finding stays unanswered and is not suggested
    again by "What to ask next".
    """
    session = st.session_state if session is None else session
    session[widget_key(finding)] = value
    skipped = [f for f in session.get(ASK_SKIPPED, []) if f != finding]
    if value == UNKNOWN:
        skipped.append(finding)
    session[ASK_SKIPPED] = skipped


def keep_widget_values(session: MutableMapping | None = None) -> None:
    """Keep the answers (and a few page settings) when another page is shown.

    Streamlit forgets the value of a widget that a rerun does not draw; the questions are
    drawn on the Explore page only. Writing each value back through the session-state
    API at the start of every run makes it the user's value, which Streamlit keeps.
    """
    session = st.session_state if session is None else session
    for key in list(session.keys()):
        if key.startswith(WIDGET_PREFIX) or key in KEPT_WIDGET_KEYS:
            session[key] = session[key]


def sync_url(evidence: Mapping[str, str]) -> None:
    """Make the URL hold exactly the answered findings (written only when it differs)."""
    current = {k: v for k, v in st.query_params.to_dict().items() if k not in RESERVED_PARAMS}
    if current != dict(evidence):
        st.query_params.from_dict(dict(evidence))
