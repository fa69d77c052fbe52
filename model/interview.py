"""The guided interview: which screen comes next, and when to stop; what a page of results shows.

The order is fixed for safety, then chosen by the model:

1. the emergency signs, all on one screen ("Do any of these apply?");
2. the age group (several causes depend on it);
3. the health history, on one screen ("Does any of this apply to you?"): the findings
   the vocabulary marks ``health_screen`` that are asked at that age;
4. one question at a time, only questions asked at the person's age (``applies_to`` in
   the vocabulary): first those expected to tell the causes apart, by expected
   information gain (:func:`toe_twitch.next_questions`); then the checks that are worth
   asking only because an answer could change the urgency or the advice. A person is
   asked first about what most likely fits them, and every safety check still comes.

A question is *worth asking* while one of its possible answers would change the urgency,
while its answer could change the advice shown (:func:`toe_twitch.advice.advice_questions`,
unless the level is already an emergency), or while its answers are expected to move
some cause (or the "none of these causes" share) by at least :data:`STOP_SHIFT`: the sum
over its answers of P(answer) times the largest change that answer makes. The interview
stops when no question is worth asking (:data:`STOP_RULE`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np

from toe_twitch.advice import advice_questions
from toe_twitch.analysis import Explanation, Question, WhatIf
from toe_twitch.case import Case
from toe_twitch.core import ToeTwitchModel
from toe_twitch.priors import AGE_FINDING
from toe_twitch.records import Diagnosis, LookAhead

#: Expected move (probability, 0 to 1) below which a question is not worth asking.
STOP_SHIFT = 0.08
STOP_RULE = (
    "The questions stop when no remaining question could change the advice on urgency "
    "or the home advice shown to you, and none is expected to move any cause (or the "
    f"share of “none of these causes”) by {STOP_SHIFT * 100:.0f} percentage points or more."
)

EMERGENCY = "emergency"
RED_FLAGS = "red_flags"
AGE = "age"
HISTORY = "history"
QUESTION = "question"
DONE = "done"
#: The screens before the one-at-a-time questions (counted apart in the progress line).
FIRST_SCREENS = (RED_FLAGS, AGE, HISTORY)


@dataclass(frozen=True)
class Candidate:
    """A question still worth asking, and why.

    ``raised_by``: ``(answer, level)``, an answer that would make the urgency more urgent
    than now, and the most urgent such level; ``changes_advice``: its answer could change
    the home advice shown.
    """

    question: Question
    changes_urgency: bool
    expected_shift: float
    raised_by: tuple[str, str] | None = None
    changes_advice: bool = False

    @property
    def safety_check(self) -> bool:
        """Worth asking only because an answer could change the urgency or the advice."""
        return self.expected_shift < STOP_SHIFT and (self.changes_urgency or self.changes_advice)


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


def health_screen(model: ToeTwitchModel, evidence: Mapping[str, str]) -> list[str]:
    """The health-history findings asked at the answered age, in vocabulary order."""
    return [
        f
        for f in model.vocabulary.health_screen
        if f in model.states and applies(model, f, evidence)
    ]


def _answer_effects(
    model: ToeTwitchModel, variants: list[WhatIf], now: np.ndarray, level: str
) -> tuple[bool, tuple[str, str] | None, float]:
    """Whether an answer changes the level, the answer that raises it most (and to what),
    and the expected largest move of a cause."""
    order = {c: i for i, c in enumerate(model.causes)}
    rank = {u: i for i, u in enumerate(model.vocabulary.urgency)}
    changes = False
    raised_by = None
    shift = 0.0
    for w in variants:
        if not w.possible:
            continue
        changes |= w.urgency != level
        top = rank[raised_by[1]] if raised_by else rank[level]
        if rank[w.urgency] > top:
            raised_by = (w.state, w.urgency)
        after = np.zeros(len(model.causes) + 1)
        for cause, p in w.ranking:
            after[order[cause]] = p
        after[-1] = w.no_listed_cause
        shift += w.probability * float(np.abs(after - now).max())
    return changes, raised_by, shift


def candidates(case: Case, skipped: Collection[str], everything: bool = False) -> list[Candidate]:
    """The open questions, by expected information gain; only those worth asking unless
    ``everything``. Read from the case's one look-ahead (no engine call of its own).
    """
    model, evidence, diagnosis = case.model, case.evidence, case.diagnosis
    open_now = set(open_questions(model, evidence, skipped))
    if not open_now:
        return []
    ahead = case.look_ahead
    ranked = case.questions
    answers: dict[str, list[WhatIf]] = {}
    for w in case.what_ifs:
        answers.setdefault(w.finding, []).append(w)
    now = np.append(ahead.current, ahead.current_no_listed_cause)
    advice = set()
    if diagnosis.urgency != "emergency":
        advice = set(advice_questions(evidence, model.vocabulary))
    found = []
    for q in ranked:
        if q.finding not in open_now:
            continue
        changes_urgency, raised_by, shift = _answer_effects(
            model, answers.get(q.finding, []), now, diagnosis.urgency
        )
        changes_advice = q.finding in advice
        if everything or changes_urgency or changes_advice or shift >= STOP_SHIFT:
            found.append(Candidate(q, changes_urgency, shift, raised_by, changes_advice))
    return found


def asking_order(found: list[Candidate]) -> list[Candidate]:
    """The questions that tell causes apart first (by information gain), then the checks
    asked for safety alone (:attr:`Candidate.safety_check`), each group in its own order."""
    return sorted(found, key=lambda c: c.safety_check)


def plan(case: Case, skipped: Collection[str], more: bool = False) -> Plan:
    """The next screen for these answers (``more``: go on past the stop rule)."""
    model, evidence, diagnosis = case.model, case.evidence, case.diagnosis
    red = model.vocabulary.red_flags
    if diagnosis.red_flags_present:
        return Plan(EMERGENCY)
    if any(f not in evidence and f not in skipped for f in red):
        return Plan(RED_FLAGS)
    if AGE_FINDING in model.states and AGE_FINDING not in evidence and AGE_FINDING not in skipped:
        return Plan(AGE)
    if any(f not in evidence and f not in skipped for f in health_screen(model, evidence)):
        return Plan(HISTORY)
    found = candidates(case, skipped, everything=more)
    return Plan(QUESTION, asking_order(found)) if found else Plan(DONE)


def questions_asked(
    model: ToeTwitchModel, evidence: Mapping[str, str], skipped: Collection[str]
) -> int:
    """How many one-at-a-time questions are answered (or "Don't know"): every answer that
    is not the age, an emergency sign or on the health-history screen."""
    first = {AGE_FINDING, *model.vocabulary.red_flags, *model.vocabulary.health_screen}
    return sum(f not in first for f in [*evidence, *skipped])


def why_we_ask(model: ToeTwitchModel, candidate: Candidate) -> str:
    """Why a question is asked, in the person's words and without alarm: what it tells
    apart (unless it is asked for safety alone), what an answer would change in the
    advice, and for a safety check how often people with these answers say No; never
    which serious cause a safety check looks for."""
    q = candidate.question
    if q.red_flag:
        return f"Why we ask: it {q.reason}."
    parts = [] if candidate.safety_check else [f"it {q.reason}"]
    if candidate.raised_by is not None:
        state, level = candidate.raised_by
        said = {"present": "a Yes", "absent": "a No"}.get(state, "one answer")
        label = model.vocabulary.urgency[level].label
        parts.append(f"{said} would change the advice to “{label}”")
    elif candidate.changes_urgency:
        parts.append("an answer would change the advice on urgency")
    if candidate.changes_advice:
        parts.append("the answer changes which home advice suits you")
    text = "Why we ask: " + "; ".join(parts or [f"it {q.reason}"]) + "."
    no = q.predictive.get("absent")
    if candidate.safety_check and no is not None and no >= 0.5:
        text += f" Most people with answers like yours say No (about {no:.0%})."
    return text


# ---------------------------------------------------------------- a page of results
#: Questions "What to ask next" offers.
ASK_COUNT = 5


@dataclass(frozen=True)
class CaseView:
    """Everything a page of results shows for one case, except the 90% ranges.

    With an emergency sign only ``diagnosis`` is filled: nothing else is shown.
    """

    evidence: dict[str, str]
    diagnosis: Diagnosis
    ahead: LookAhead | None = None
    ask: tuple[Candidate, ...] = ()
    why: Explanation | None = None
    what_if_finding: str | None = None
    what_if: tuple[WhatIf, ...] = ()


def explore_case(
    case: Case,
    skipped: Collection[str] = (),
    why_cause: str | None = None,
    what_if_finding: str | None = None,
) -> CaseView:
    """The case's diagnosis, its look-ahead shared by "what to ask next" and "what if",
    and the explanation of one cause (the first, unless ``why_cause``): two engine
    batches in all (:class:`~toe_twitch.case.Case`).

    Raises :class:`~toe_twitch.errors.ImpossibleEvidenceError` for answers that cannot
    be combined.

    >>> from toe_twitch import load_model
    >>> view = explore_case(load_model().case({"onset_falling_asleep": "present"}))
    >>> view.diagnosis.top
    'hypnic_jerk'
    """
    model, evidence, d = case.model, dict(case.evidence), case.diagnosis
    if d.red_flags_present:
        return CaseView(evidence, d)
    ask = candidates(case, skipped, everything=True)
    cause = why_cause if why_cause in model.causes else d.top
    open_now = [f for f in model.findings if f not in evidence]
    finding = (
        what_if_finding if what_if_finding in open_now else (open_now[0] if open_now else None)
    )
    return CaseView(
        evidence,
        d,
        case.look_ahead,
        tuple(ask[:ASK_COUNT]),
        case.explanation(cause),
        finding,
        tuple(w for w in case.what_ifs if w.finding == finding),
    )
