"""The answers of one session: read from the link, changed by the page, written back to it.

The answers live in ``st.session_state[ANSWERS]`` (``{finding: state}``, in the order
given) and nowhere else; every page reads them from there, so the case is the same on
every page. Questions answered "Don't know" are kept apart (:data:`keys.SKIPPED`) so the
interview does not ask them again. The link mirrors both: ``?leg_pain=present&fever=unknown``.

A link is outside input: every part of it that is not a valid answer is left out and
reported in plain text (:func:`read_link`), repeated keys included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from toe_twitch import ToeTwitchModel
from toe_twitch.ui import keys
from toe_twitch.ui.text import finding_label, plain, plural

#: The link's word for "asked, and the answer was Don't know".
UNKNOWN = "unknown"
#: Query parameters Streamlit itself uses: never answers, never reported.
RESERVED_PARAMS = frozenset({"embed", "embed_options"})
#: Notes about a link shown one by one; the rest are counted.
MAX_NOTES = 8


@dataclass(frozen=True)
class LinkReading:
    """What a link says: valid answers, questions answered "Don't know", and notes about
    every part that was not used (plain text)."""

    answers: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_link(params: Mapping[str, Sequence[str]], model: ToeTwitchModel) -> LinkReading:
    """Split a link's parameters (each key with all its values) into answers and notes.

    A key given twice with the same value counts once; given twice with different values
    it is left unanswered and reported (a link must not silently pick one).
    """
    answers: dict[str, str] = {}
    skipped: list[str] = []
    notes: list[str] = []
    implicit = model.vocabulary.implicit_evidence
    answerable = set(model.findings)
    for name, values in params.items():
        if name in RESERVED_PARAMS:
            continue
        values = list(values) or [""]
        if name in implicit:
            notes.append(f"“{name}” is not a question: the page assumes it")
            continue
        if name not in answerable:
            notes.append(f"the link names a question this page does not have: “{plain(name)}”")
            continue
        label = plain(finding_label(model, name))
        distinct = list(dict.fromkeys(values))
        if len(distinct) > 1:
            shown = ", ".join(f"“{plain(v, 20)}”" for v in distinct[:3])
            notes.append(
                f"“{label}” is given {len(values)} times with different answers ({shown}); "
                "it was left unanswered"
            )
            continue
        value = distinct[0]
        if value == UNKNOWN:
            skipped.append(name)
        elif value in model.states[name]:
            answers[name] = value
        else:
            notes.append(f"“{plain(value)}” is not an answer to “{label}”; it was left unanswered")
    return LinkReading(answers, skipped, notes)


def summarise_notes(notes: Sequence[str]) -> list[str]:
    """At most :data:`MAX_NOTES` notes, then how many more there were."""
    shown = [n[:1].upper() + n[1:] for n in notes[:MAX_NOTES]]
    if len(notes) > MAX_NOTES:
        shown.append(f"… and {plural(len(notes) - MAX_NOTES, 'more part')} of the link not used")
    return shown


def _link_params() -> dict[str, list[str]]:
    params = st.query_params
    return {name: params.get_all(name) for name in params}


def history_from_link(model: ToeTwitchModel, answered: Iterable[str]) -> list[list[tuple]]:
    """Interview steps for answers that came from a link: one per answer, in the link's
    order, the red flags answered together as one step (as the interview asks them)."""
    steps: list[list[tuple]] = []
    red = set(model.vocabulary.red_flags)
    for finding in answered:
        entry = (finding, None, False)
        if finding in red and steps and steps[-1][0][0] in red:
            steps[-1].append(entry)
        else:
            steps.append([entry])
    return steps


def load_link_once(model: ToeTwitchModel, session: MutableMapping[str, Any] | None = None) -> None:
    """On a session's first run, take the answers from the link (later runs keep theirs)."""
    session = st.session_state if session is None else session
    if session.get(keys.LINK_READ):
        return
    reading = read_link(_link_params(), model)
    session[keys.ANSWERS] = dict(reading.answers)
    session[keys.SKIPPED] = list(reading.skipped)
    session[keys.HISTORY] = history_from_link(model, [*reading.answers, *reading.skipped])
    session[keys.LINK_NOTES] = list(reading.notes)
    session[keys.LINK_READ] = True


def add_link_notes(notes: Iterable[str], session: MutableMapping[str, Any] | None = None) -> None:
    session = st.session_state if session is None else session
    session[keys.LINK_NOTES] = [*session.get(keys.LINK_NOTES, []), *notes]


# ---------------------------------------------------------------- reading the case
def evidence(model: ToeTwitchModel, session: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The answers as the model's evidence (only findings and states this model has)."""
    session = st.session_state if session is None else session
    return {
        f: s
        for f, s in session.get(keys.ANSWERS, {}).items()
        if f in model.states and s in model.states[f]
    }


def skipped(session: Mapping[str, Any] | None = None) -> list[str]:
    session = st.session_state if session is None else session
    return list(session.get(keys.SKIPPED, []))


# ---------------------------------------------------------------- changing the case
def answer(
    changes: Mapping[str, str],
    session: MutableMapping[str, Any] | None = None,
    step: bool = True,
) -> None:
    """Give answers (:data:`UNKNOWN` = "Don't know"); with ``step``, Back can undo them."""
    session = st.session_state if session is None else session
    answers = dict(session.get(keys.ANSWERS, {}))
    skipped_now = list(session.get(keys.SKIPPED, []))
    undo = []
    for finding, state in changes.items():
        undo.append((finding, answers.get(finding), finding in skipped_now))
        answers.pop(finding, None)
        skipped_now = [f for f in skipped_now if f != finding]
        if state == UNKNOWN:
            skipped_now.append(finding)
        else:
            answers[finding] = state
    session[keys.ANSWERS] = answers
    session[keys.SKIPPED] = skipped_now
    if step:
        session[keys.HISTORY] = [*session.get(keys.HISTORY, []), undo]


def clear_answer(finding: str, session: MutableMapping[str, Any] | None = None) -> None:
    """Make a question unanswered again (neither answered nor "Don't know")."""
    session = st.session_state if session is None else session
    session[keys.ANSWERS] = {f: s for f, s in session.get(keys.ANSWERS, {}).items() if f != finding}
    session[keys.SKIPPED] = [f for f in session.get(keys.SKIPPED, []) if f != finding]


def can_go_back(session: Mapping[str, Any] | None = None) -> bool:
    session = st.session_state if session is None else session
    return bool(session.get(keys.HISTORY))


def back(session: MutableMapping[str, Any] | None = None) -> None:
    """Undo the last step: each answer it gave goes back to what it was before."""
    session = st.session_state if session is None else session
    history = list(session.get(keys.HISTORY, []))
    if not history:
        return
    undo = history.pop()
    answers = dict(session.get(keys.ANSWERS, {}))
    skipped_now = list(session.get(keys.SKIPPED, []))
    for finding, previous, was_skipped in reversed(undo):
        answers.pop(finding, None)
        skipped_now = [f for f in skipped_now if f != finding]
        if previous is not None:
            answers[finding] = previous
        if was_skipped:
            skipped_now.append(finding)
    session[keys.ANSWERS] = answers
    session[keys.SKIPPED] = skipped_now
    session[keys.HISTORY] = history
    session[keys.INTERVIEW_MORE] = False


def reset(session: MutableMapping[str, Any] | None = None) -> None:
    """Forget every answer, "Don't know" and step, and the notes about the link."""
    session = st.session_state if session is None else session
    session[keys.ANSWERS] = {}
    session[keys.SKIPPED] = []
    session[keys.HISTORY] = []
    session[keys.LINK_NOTES] = []
    session[keys.INTERVIEW_MORE] = False


# ---------------------------------------------------------------- the link
def link_params(session: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The query parameters that hold this case: the answers, then the "Don't know"s."""
    session = st.session_state if session is None else session
    params = dict(session.get(keys.ANSWERS, {}))
    params.update({f: UNKNOWN for f in session.get(keys.SKIPPED, []) if f not in params})
    return params


def _address_bar() -> dict[str, str]:
    return {k: v for k, v in st.query_params.to_dict().items() if k not in RESERVED_PARAMS}


def sync_link() -> None:
    """Make the address bar hold exactly this case (written only when it differs; each
    change is a new entry of the browser's history, so its Back button undoes it)."""
    wanted = link_params()
    current = _address_bar()
    if current != wanted or list(current) != list(wanted):
        st.query_params.from_dict(wanted)
    st.session_state[keys.LINK_SYNCED] = wanted


def _history_navigation() -> bool:
    """Whether this run was asked for by the browser's Back or Forward button (a click in
    the page's navigation also comes with an empty link, and must not clear the case)."""
    ctx = get_script_run_ctx()
    return bool(getattr(ctx, "is_history_navigation", False))


def follow_browser(model: ToeTwitchModel, session: MutableMapping[str, Any] | None = None) -> None:
    """The browser's Back or Forward button brought back an earlier link of this session:
    the answers become that link's (one step of Back when it is exactly that)."""
    session = st.session_state if session is None else session
    synced = session.get(keys.LINK_SYNCED)
    now = _address_bar()
    if synced is None or now == synced or not _history_navigation():
        return
    reading = read_link(_link_params(), model)
    wanted = {**reading.answers, **{f: UNKNOWN for f in reading.skipped}}
    trial = {k: session.get(k) for k in (keys.ANSWERS, keys.SKIPPED, keys.HISTORY)}
    back(trial)
    if link_params(trial) == wanted:
        back(session)
    else:
        session[keys.ANSWERS] = dict(reading.answers)
        session[keys.SKIPPED] = list(reading.skipped)
        session[keys.HISTORY] = history_from_link(model, [*reading.answers, *reading.skipped])
        session[keys.INTERVIEW_MORE] = False
    session[keys.LINK_SYNCED] = now
