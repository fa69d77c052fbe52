"""The priors a session uses: the shipped ones, or an uploaded file, plus the edits made on
the Tune priors page.

Everything here lives in ``st.session_state`` of one browser session: another session
never sees these edits. Only the *models* are shared (``st.cache_resource``), and only
by the hash of their priors' data, so two sessions that tune to exactly the same numbers
share one model, and nobody can reach a model by anything but its numbers.

Keys:

``priors_base``
    The validated priors the edits apply to (absent: the shipped ``priors/default.yaml``).
``priors_base_label``
    Where they came from, for people (``shipped default (priors/default.yaml)``).
``priors_edits``
    The accepted edits, ``{parameter path: value}``; each passed validation.
``priors_active``
    The base with the accepted edits applied (absent when there are none).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

import streamlit as st

from model import PriorsError, ToeTwitchModel
from model.priors import PriorsFile, iter_parameters, priors_to_data, with_values
from ui.loaders import get_model

BASE = "priors_base"
BASE_LABEL = "priors_base_label"
EDITS = "priors_edits"
ACTIVE = "priors_active"
#: Source name in the messages of a rejected edit (``edited priors: path: rule``).
EDIT_SOURCE = "edited priors"
DEFAULT_LABEL = "shipped default (priors/default.yaml)"


def digest(priors: PriorsFile) -> str:
    """A short hash of every number and name in the priors (the model's cache key)."""
    data = json.dumps(priors_to_data(priors), sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:20]


@st.cache_resource(show_spinner=False)
def default_digest() -> str:
    return digest(get_model().priors)


@st.cache_resource(show_spinner="Building the model for these priors…", max_entries=16)
def _model_for(key: str, _priors: PriorsFile) -> ToeTwitchModel:
    return ToeTwitchModel(_priors, source="tuned priors")


def key_of(priors: PriorsFile) -> str:
    """:func:`digest` of the priors (the shipped ones are hashed once per process)."""
    return default_digest() if priors is get_model().priors else digest(priors)


def model_for(priors: PriorsFile, key: str | None = None) -> ToeTwitchModel:
    """The model of these priors, built once per distinct set of numbers."""
    key = key or key_of(priors)
    if key == default_digest():
        return get_model()
    return _model_for(key, priors)


@dataclass(frozen=True)
class SessionPriors:
    base: PriorsFile
    base_label: str
    edits: dict[str, float] = field(default_factory=dict)
    active: PriorsFile | None = None

    @property
    def priors(self) -> PriorsFile:
        """What the model of this session uses."""
        return self.active if self.active is not None else self.base

    @property
    def is_default(self) -> bool:
        return self.base_label == DEFAULT_LABEL and not self.edits

    def describe(self) -> str:
        """``your tuned priors (2 edits to the shipped default …)`` and the like."""
        if self.is_default:
            return "the shipped priors"
        if not self.edits:
            return f"priors from the {self.base_label}"
        n = len(self.edits)
        return f"your tuned priors ({n} edit{'s' if n != 1 else ''} to the {self.base_label})"


def current(session: Mapping | None = None) -> SessionPriors:
    session = st.session_state if session is None else session
    base = session.get(BASE)
    if base is None:
        base = get_model().priors
    return SessionPriors(
        base=base,
        base_label=session.get(BASE_LABEL, DEFAULT_LABEL),
        edits=dict(session.get(EDITS, {})),
        active=session.get(ACTIVE),
    )


def session_model() -> ToeTwitchModel:
    """The model for this session's priors (the shared default one unless tuned)."""
    sp = current()
    if sp.is_default:
        return get_model()
    return model_for(sp.priors)


def base_model() -> ToeTwitchModel:
    """The model of the priors the edits start from (before any edit)."""
    return model_for(current().base)


def set_base(priors: PriorsFile, label: str, session: MutableMapping | None = None) -> None:
    """Start again from these priors (an upload, or the shipped ones); drops every edit."""
    session = st.session_state if session is None else session
    session[BASE] = priors
    session[BASE_LABEL] = label
    session[EDITS] = {}
    session[ACTIVE] = None


def use_default(session: MutableMapping | None = None) -> None:
    set_base(get_model().priors, DEFAULT_LABEL, session)


def base_values(priors: PriorsFile) -> dict[str, float]:
    return {p.path: p.value for p in iter_parameters(priors)}


def _number(value: object) -> float:
    """A cell's value as a float; an emptied cell becomes NaN (which the validator refuses)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class EditResult:
    """What became of the edits asked for: the accepted ones and the rejected ones."""

    accepted: dict[str, float]
    active: PriorsFile | None
    rejected: dict[str, PriorsError]


def resolve_edits(
    base: PriorsFile, previous: Mapping[str, float], wanted: Mapping[str, float]
) -> EditResult:
    """Validate the wanted edits against the base priors; keep the valid ones only.

    All the wanted edits are tried together first (an age-group proportion can only move
    together with another one, since they must sum to 1). If that fails, the edits that
    were accepted before (and are still wanted with the same value) stay, and each new
    edit is added alone when valid, or rejected with the validator's message.
    """
    values = base_values(base)
    wanted = {p: _number(v) for p, v in wanted.items()}
    wanted = {p: v for p, v in wanted.items() if p not in values or v != values[p]}
    if not wanted:
        return EditResult({}, None, {})
    try:
        return EditResult(dict(wanted), with_values(base, wanted, source=EDIT_SOURCE), {})
    except PriorsError:
        pass
    kept = {p: v for p, v in previous.items() if wanted.get(p) == v}
    accepted: dict[str, float] = {}
    active = None
    if kept:
        try:
            active = with_values(base, kept, source=EDIT_SOURCE)
            accepted = dict(kept)
        except PriorsError:  # one of a pair that only held together was undone
            pass
    rejected: dict[str, PriorsError] = {}
    for path, value in wanted.items():
        if path in accepted:
            continue
        try:
            active = with_values(base, {**accepted, path: value}, source=EDIT_SOURCE)
        except PriorsError as exc:
            rejected[path] = exc
        else:
            accepted[path] = value
    return EditResult(accepted, active if accepted else None, rejected)


def store_edits(result: EditResult, session: MutableMapping | None = None) -> None:
    session = st.session_state if session is None else session
    session[EDITS] = dict(result.accepted)
    session[ACTIVE] = result.active
