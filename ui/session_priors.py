"""The priors one session uses: the shipped ones, or an uploaded file, plus accepted edits.

All of it lives in that session's state; only models are shared (by the hash of their
numbers, :func:`ui.loaders.priors_key`). An edit or an upload is used only when it passes
the priors' validation *and* a model can be built from it, so the session's model can
always be built again (after an eviction) from what is stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from toe_twitch import PriorsError, ToeTwitchError, ToeTwitchModel
from toe_twitch.priors import PriorsFile, iter_parameters, with_values
from toe_twitch.ui import charts, keys, loaders
from toe_twitch.ui.text import plain, plural

#: Source named in the message of a refused edit (``edited priors: path: rule``).
EDIT_SOURCE = "edited priors"
SHIPPED_LABEL = "shipped priors (priors/default.yaml)"


@dataclass(frozen=True)
class SessionPriors:
    base: PriorsFile
    base_key: str
    base_label: str
    edits: dict[str, float] = field(default_factory=dict)
    active: PriorsFile | None = None
    active_key: str | None = None

    @property
    def priors(self) -> PriorsFile:
        return self.active if self.active is not None else self.base

    @property
    def key(self) -> str:
        return self.active_key if self.active is not None and self.active_key else self.base_key

    @property
    def is_shipped(self) -> bool:
        return self.key == loaders.shipped_key()

    @property
    def base_is_shipped(self) -> bool:
        return self.base_key == loaders.shipped_key()

    def describe(self) -> str:
        """``the shipped priors``, ``your tuned priors (2 edits to …)`` and the like."""
        if self.is_shipped and not self.edits:
            return "the shipped priors"
        if not self.edits:
            return f"the priors of the {self.base_label}"
        return f"your tuned priors ({plural(len(self.edits), 'edit')} to the {self.base_label})"


def show_in_use(sp: SessionPriors, lead: str = "These results use") -> None:
    """One grey line naming the priors in use. It may name an uploaded file, so it is
    shown exactly as written (a caption would read the name as Markdown: a link, colour).

    Priors that send people to a doctor later than the shipped ones (a see-a-doctor
    threshold raised within its range, :func:`toe_twitch.priors.safety_warnings`) get a
    warning under it, in plain text (every Markdown character escaped)."""
    st.html(charts.note(f"{lead} {sp.describe()}."))
    weaker = sp.priors.warnings
    if weaker:
        text = " ".join(
            plain(w, 400) for w in ["Weaker safety rules than the shipped priors:", *weaker]
        )
        st.warning(
            re.sub(r"([\\`*_{}\[\]()#+\-.!|:~<>$])", r"\\\1", text), icon=":material/warning:"
        )


def current(session: Mapping[str, Any] | None = None) -> SessionPriors:
    session = st.session_state if session is None else session
    base = session.get(keys.PRIORS_BASE)
    if base is None:
        return SessionPriors(
            base=loaders.shipped_model().priors,
            base_key=loaders.shipped_key(),
            base_label=SHIPPED_LABEL,
            edits=dict(session.get(keys.PRIORS_EDITS, {})),
            active=session.get(keys.PRIORS_ACTIVE),
            active_key=session.get(keys.PRIORS_ACTIVE_KEY),
        )
    return SessionPriors(
        base=base,
        base_key=session[keys.PRIORS_BASE_KEY],
        base_label=session.get(keys.PRIORS_BASE_LABEL, "uploaded file"),
        edits=dict(session.get(keys.PRIORS_EDITS, {})),
        active=session.get(keys.PRIORS_ACTIVE),
        active_key=session.get(keys.PRIORS_ACTIVE_KEY),
    )


def session_model(session: Mapping[str, Any] | None = None) -> ToeTwitchModel:
    """The model of this session's priors (the shared shipped one unless tuned)."""
    sp = current(session)
    return loaders.model_for(sp.priors, sp.key)


def base_model(session: Mapping[str, Any] | None = None) -> ToeTwitchModel:
    """The model of the priors the edits start from."""
    sp = current(session)
    return loaders.model_for(sp.base, sp.base_key)


def check_buildable(priors: PriorsFile) -> tuple[str, ToeTwitchModel]:
    """The key and the model of valid priors; raises :class:`model.ToeTwitchError` when
    the model cannot be built (for example priors under which the twitching is impossible)."""
    key = loaders.priors_key(priors)
    return key, loaders.model_for(priors, key)


def set_base(
    priors: PriorsFile, label: str, session: MutableMapping[str, Any] | None = None
) -> None:
    """Start again from these priors (checked buildable first); drops every edit."""
    session = st.session_state if session is None else session
    key, _ = check_buildable(priors)
    session[keys.PRIORS_BASE] = priors
    session[keys.PRIORS_BASE_KEY] = key
    session[keys.PRIORS_BASE_LABEL] = label
    clear_edits(session)


def use_shipped(session: MutableMapping[str, Any] | None = None) -> None:
    """Back to the shipped priors, without any edit."""
    session = st.session_state if session is None else session
    for key in (keys.PRIORS_BASE, keys.PRIORS_BASE_KEY, keys.PRIORS_BASE_LABEL):
        session.pop(key, None)
    clear_edits(session)


def clear_edits(session: MutableMapping[str, Any] | None = None) -> None:
    session = st.session_state if session is None else session
    session[keys.PRIORS_EDITS] = {}
    session[keys.PRIORS_REFUSED] = {}
    session[keys.PRIORS_ACTIVE] = None
    session[keys.PRIORS_ACTIVE_KEY] = None


def base_values(priors: PriorsFile) -> dict[str, float]:
    return {p.path: p.value for p in iter_parameters(priors)}


def as_number(value: object) -> float:
    """A cell's value as a float; text or an emptied cell becomes NaN (always refused)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


@dataclass(frozen=True)
class EditOutcome:
    """What became of the edits asked for."""

    accepted: dict[str, float]
    active: PriorsFile | None
    active_key: str | None
    refused: dict[str, tuple[object, str]]


def _try(base: PriorsFile, edits: Mapping[str, float]) -> tuple[PriorsFile, str]:
    priors = with_values(base, dict(edits), source=EDIT_SOURCE)
    key, _ = check_buildable(priors)
    return priors, key


def _message(exc: ToeTwitchError) -> str:
    if isinstance(exc, PriorsError):
        return "; ".join(str(p) for p in exc.problems)
    return str(exc)


def resolve_edits(
    base: PriorsFile, previous: Mapping[str, float], wanted: Mapping[str, object]
) -> EditOutcome:
    """Validate the wanted edits against the base priors and keep only the valid ones.

    All wanted edits are tried together first (the age-group shares can only move
    together, since they must sum to 1). Otherwise the edits accepted before (and still
    wanted with the same value) stay, and each new edit is added alone when valid, or
    refused with the validator's message.
    """
    values = base_values(base)
    numbers = {p: as_number(v) for p, v in wanted.items()}
    numbers = {p: v for p, v in numbers.items() if p not in values or v != values[p]}
    if not numbers:
        return EditOutcome({}, None, None, {})
    try:
        active, key = _try(base, numbers)
        return EditOutcome(dict(numbers), active, key, {})
    except ToeTwitchError:
        pass
    kept = {p: v for p, v in previous.items() if numbers.get(p) == v}
    accepted: dict[str, float] = {}
    active, key = None, None
    if kept:
        try:
            active, key = _try(base, kept)
            accepted = dict(kept)
        except ToeTwitchError:  # one of a pair that only held together was undone
            pass
    refused: dict[str, tuple[object, str]] = {}
    for path, value in numbers.items():
        if path in accepted:
            continue
        try:
            active, key = _try(base, {**accepted, path: value})
        except ToeTwitchError as exc:
            refused[path] = (wanted[path], _message(exc))
        else:
            accepted[path] = value
    return EditOutcome(accepted, active if accepted else None, key if accepted else None, refused)


def store_edits(outcome: EditOutcome, session: MutableMapping[str, Any] | None = None) -> None:
    session = st.session_state if session is None else session
    session[keys.PRIORS_EDITS] = dict(outcome.accepted)
    session[keys.PRIORS_REFUSED] = dict(outcome.refused)
    session[keys.PRIORS_ACTIVE] = outcome.active
    session[keys.PRIORS_ACTIVE_KEY] = outcome.active_key
