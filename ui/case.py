"""What the Explore page computes for one case, without Streamlit.

The page draws what :func:`explore_case` returns, and ``benchmarks/run.py`` times the
very same calls, so the benchmark measures what a change of one answer costs the server.
The 90% intervals are apart: their parameter draws do not depend on the answers, so
:func:`interval_tables` is built once per priors and :func:`case_intervals` only runs
the engine on them for the case (the page draws them after everything else).

>>> from model import load_model
>>> m = load_model()
>>> view = explore_case(m, {"onset_falling_asleep": "present"})
>>> view.diagnosis.top, view.what_if.finding in m.findings
('hypnic_jerk', True)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from model import Diagnosis, ToeTwitchModel
from model.analysis import Explanation, LookAhead, Question, look_ahead, next_questions
from model.analysis import sample_parameters as _sample_parameters
from model.network import build_tables

#: Draws of the priors behind the 90% interval on each bar (as ``model.uncertainty``).
UNCERTAINTY_DRAWS = 200
UNCERTAINTY_SEED = 0
#: How many of the most informative questions "What to ask next" suggests.
ASK_COUNT = 5

Intervals = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class WhatIfAnswer:
    """The case if one unanswered finding were answered ``state``."""

    finding: str
    state: str
    chance: float  # P(this answer | the answers so far)
    diagnosis: Diagnosis


@dataclass(frozen=True)
class CaseView:
    """Everything the Explore page shows for one set of answers (except the intervals).

    In an emergency only ``diagnosis`` is filled: the page shows nothing else.
    """

    evidence: dict[str, str]
    diagnosis: Diagnosis
    red_flag_questions: list[Question]
    questions: list[Question]
    why: Explanation | None
    what_if: WhatIfAnswer | None
    what_if_options: list[str]


def binary(model: ToeTwitchModel, finding: str) -> bool:
    return tuple(model.states[finding]) == ("absent", "present")


def what_if_states(model: ToeTwitchModel, finding: str) -> tuple[str, ...]:
    """The answers "What if" offers for a finding: Yes, No (or its states)."""
    return ("present", "absent") if binary(model, finding) else tuple(model.states[finding])


def likelihood_ratio(prior: float, posterior: float) -> float:
    """Posterior odds over prior odds: how strongly all the answers together point to it.

    >>> round(likelihood_ratio(0.2, 0.5), 3)
    4.0
    """
    if posterior >= 1.0:
        return math.inf
    if prior <= 0.0 or posterior <= 0.0:
        return 0.0 if posterior <= 0.0 else math.inf
    return (posterior / (1 - posterior)) / (prior / (1 - prior))


def suggested_questions(
    model: ToeTwitchModel, evidence: dict[str, str], ahead: LookAhead, skipped: Collection[str]
) -> tuple[list[Question], list[Question]]:
    """(unanswered red flags to check first, the most informative other questions)."""
    skipped = set(skipped)
    found = next_questions(model, evidence, k=ASK_COUNT + len(skipped), ahead=ahead)
    found = [q for q in found if q.finding not in skipped]
    flags = [q for q in found if q.red_flag]
    others = [q for q in found if not q.red_flag][:ASK_COUNT]
    return flags, others


def what_if_answer(
    model: ToeTwitchModel, evidence: dict[str, str], ahead: LookAhead, finding: str, state: str
) -> WhatIfAnswer:
    """The case with one more answer, from the look-ahead (no new inference for the ranking)."""
    i = ahead.options.index((finding, state))
    after = model.diagnoses_from_posteriors(
        [{**evidence, finding: state}], ahead.posteriors[i][None, :]
    )[0]
    return WhatIfAnswer(finding, state, ahead.predictive[finding][state], after)


def explore_case(
    model: ToeTwitchModel,
    evidence: Mapping[str, str],
    skipped: Collection[str] = (),
    why_cause: str | None = None,
    what_if: tuple[str | None, str | None] = (None, None),
) -> CaseView:
    """The ranking, urgency, questions to ask next, why and what-if for one case.

    One ``diagnose`` call, then one look-ahead over every possible next answer shared by
    "What to ask next" and "What if". ``why_cause`` defaults to the first cause;
    ``what_if`` (finding, state) defaults to the first suggested question, answered Yes.
    Raises :class:`model.ToeTwitchError` for answers that cannot be combined.
    """
    evidence = dict(evidence)
    d = model.diagnose(evidence)
    if d.urgency == "emergency":
        return CaseView(evidence, d, [], [], None, None, [])
    checked = model.check_evidence(evidence)  # with the implicit evidence (toe twitching)
    ahead = look_ahead(model, checked)
    flags, others = suggested_questions(model, checked, ahead, skipped)
    cause = why_cause if why_cause in model.causes else d.top
    why = model.explain(checked, cause)
    options = [f for f in model.findings if f not in evidence]
    answer = None
    if options:
        finding, state = what_if
        if finding not in options:
            suggested = others or flags
            finding = suggested[0].finding if suggested else options[0]
            state = None
        if state not in what_if_states(model, finding):
            state = what_if_states(model, finding)[0]
        answer = what_if_answer(model, checked, ahead, finding, state)
    return CaseView(evidence, d, flags, others, why, answer, options)


# ---------------------------------------------------------------- 90% intervals
def interval_tables(
    model: ToeTwitchModel, draws: int = UNCERTAINTY_DRAWS, seed: int = UNCERTAINTY_SEED
) -> dict[str, np.ndarray]:
    """The network's tables for ``draws`` draws of the priors (the same draws as
    ``model.uncertainty(…, draws, seed)``). They depend on the priors only: build them once."""
    tables = build_tables(model.structure, _sample_parameters(model, draws, seed))
    for table in tables.values():
        table.flags.writeable = False  # shared between sessions: nobody may change them
    return tables


def case_intervals(
    model: ToeTwitchModel, evidence: Mapping[str, str], tables: Mapping[str, np.ndarray]
) -> Intervals:
    """5th and 95th percentile of each cause's probability over the drawn priors.

    Equal to the ``low`` and ``high`` of ``model.uncertainty`` with the same draws.
    """
    columns = model.encode([model.check_evidence(dict(evidence))])
    samples = model.posterior_indices(columns, tables=tables)
    low, high = np.quantile(samples, [0.05, 0.95], axis=0)
    return {c: (float(low[i]), float(high[i])) for i, c in enumerate(model.causes)}
