"""The guided interview: which screen comes next, and when to stop (no Streamlit here).

The order is fixed for safety, then chosen by the model:

1. the emergency signs, all on one screen ("Do any of these apply?");
2. the age group (several causes depend on it);
3. one question at a time, the one with the largest expected information gain
   (:func:`model.next_questions`) among those still worth asking, and only questions
   that apply at the person's age (``applies_to`` in the vocabulary).

A question is *worth asking* while one of its possible answers would change the urgency,
or while its answers are expected to move some cause (or the "none of these causes"
share) by at least :data:`STOP_SHIFT`: the sum over its answers of P(answer) times the
largest change that answer makes. The interview stops when no question is worth asking
(:data:`STOP_RULE`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np

from toe_twitch import Diagnosis, ToeTwitchModel, next_questions, what_if
from toe_twitch.analysis import Question, WhatIf
from toe_twitch.core import LookAhead
from toe_twitch.priors import AGE_FINDING

#: Expected move (probability, 0 to 1) below which a question is not worth asking.
STOP_SHIFT = 0.08
STOP_RULE = (
    "The questions stop when no remaining question could change the advice on urgency, "
    f"and none is expected to move any cause (or the share of “none of these causes”) by "
    f"{STOP_SHIFT * 100:.0f} percentage points or more."
)

EMERGENCY = "emergency"
RED_FLAGS = "red_flags"
AGE = "age"
QUESTION = "question"
DONE = "done"


@dataclass(frozen=True)
class Candidate:
    """A question still worth asking, and why."""

    question: Question
    changes_urgency: bool
    expected_shift: float


@dataclass(frozen=True)
class Plan:
    """The interview's next screen and the questions still worth asking (best first)."""

    step: str
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def question(self) -> Question | None:
        return self.candidates[0].question if self.candidates else None


def applies(model: ToeTwitchModel, finding: str, evidence: Mapping[str, str]) -> bool:
    """Whether the question is asked at the answered age (``weak_feeding``: babies only).

    A question limited to some ages is not asked while the age is unknown.
    """
    ages = model.vocabulary.findings[finding].applies_to
    return not ages or evidence.get(AGE_FINDING) in ages


def open_questions(
    model: ToeTwitchModel, evidence: Mapping[str, str], skipped: Collection[str]
) -> list[str]:
    """Questions not answered, not answered "Don't know", and asked at this age."""
    return [
        f
        for f in model.findings
        if f not in evidence and f not in skipped and applies(model, f, evidence)
    ]


def candidates(
    model: ToeTwitchModel,
    evidence: Mapping[str, str],
    skipped: Collection[str],
    diagnosis: Diagnosis,
    ahead: LookAhead | None = None,
    everything: bool = False,
    what_ifs: list[WhatIf] | None = None,
) -> list[Candidate]:
    """The open questions, best first; only those worth asking unless ``everything``.

    ``ahead`` and ``what_ifs`` (of the same answers) are reused when given.
    """
    evidence = dict(evidence)
    open_now = set(open_questions(model, evidence, skipped))
    if not open_now:
        return []
    ahead = ahead or model.look_ahead(evidence)
    ranked = next_questions(model, evidence, k=len(model.findings), ahead=ahead)
    answers: dict[str, list[WhatIf]] = {}
    for w in what_ifs if what_ifs is not None else what_if(model, evidence, ahead=ahead):
        answers.setdefault(w.finding, []).append(w)
    now = np.append(ahead.current, ahead.current_no_listed_cause)
    order = {c: i for i, c in enumerate(model.causes)}
    found = []
    for q in ranked:
        if q.finding not in open_now:
            continue
        changes_urgency = False
        shift = 0.0
        for w in answers.get(q.finding, []):
            if not w.possible:
                continue
            changes_urgency |= w.urgency != diagnosis.urgency
            after = np.zeros(len(model.causes) + 1)
            for cause, p in w.ranking:
                after[order[cause]] = p
            after[-1] = w.no_listed_cause
            shift += w.probability * float(np.abs(after - now).max())
        if everything or changes_urgency or shift >= STOP_SHIFT:
            found.append(Candidate(q, changes_urgency, shift))
    return found


def plan(
    model: ToeTwitchModel,
    evidence: Mapping[str, str],
    skipped: Collection[str],
    diagnosis: Diagnosis,
    ahead: LookAhead | None = None,
    more: bool = False,
) -> Plan:
    """The next screen for these answers (``more``: go on past the stop rule)."""
    red = model.vocabulary.red_flags
    if diagnosis.red_flags_present:
        return Plan(EMERGENCY)
    if any(f not in evidence and f not in skipped for f in red):
        return Plan(RED_FLAGS)
    if AGE_FINDING in model.states and AGE_FINDING not in evidence and AGE_FINDING not in skipped:
        return Plan(AGE)
    found = candidates(model, evidence, skipped, diagnosis, ahead, everything=more)
    return Plan(QUESTION, found) if found else Plan(DONE)
