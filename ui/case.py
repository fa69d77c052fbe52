"""What the results of one case need from the model, computed once per answer (no Streamlit).

The All questions page draws what :func:`explore_case` returns, and
``benchmarks/page_speed.py`` times the very same call, so the benchmark measures what a
changed answer costs the server. The 90% ranges are apart (:func:`case_ranges`): the
page asks for them in the background and draws them last.

>>> from toe_twitch import load_model
>>> m = load_model()
>>> view = explore_case(m, {"onset_falling_asleep": "present"})
>>> view.diagnosis.top
'hypnic_jerk'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from toe_twitch import Diagnosis, ToeTwitchError, ToeTwitchModel, explain, uncertainty, what_if
from toe_twitch.analysis import Explanation, WhatIf
from toe_twitch.core import LookAhead
from toe_twitch.ui import interview

#: Questions "What to ask next" offers.
ASK_COUNT = 5
#: Draws of the priors behind each 90% range (``model.uncertainty(..., draws)``).
INTERVAL_DRAWS = 200
INTERVAL_SEED = 0


@dataclass(frozen=True)
class Ranges:
    """The 5th and 95th percentile of each cause's probability over the priors' draws.

    ``message`` says why there are none (answers impossible under every draw).
    """

    causes: Mapping[str, tuple[float, float]]
    no_listed_cause: tuple[float, float] | None
    draws: int
    impossible_draws: int = 0
    message: str | None = None


def compute_ranges(model: ToeTwitchModel, evidence: Mapping[str, str], draws: int) -> Ranges:
    try:
        u = uncertainty(model, dict(evidence), draws=draws, seed=INTERVAL_SEED)
    except ToeTwitchError as exc:
        return Ranges({}, None, draws, message=str(exc))
    low, _, high = u.no_listed_cause
    return Ranges(
        {c.cause: (c.low, c.high) for c in u.causes}, (low, high), draws, u.impossible_draws
    )


@dataclass(frozen=True)
class CaseView:
    """Everything the results show for one set of answers, except the 90% ranges.

    With an emergency sign only ``diagnosis`` is filled: nothing else is shown.
    """

    evidence: dict[str, str]
    diagnosis: Diagnosis
    ahead: LookAhead | None = None
    ask: tuple[interview.Candidate, ...] = ()
    why: Explanation | None = None
    what_if_finding: str | None = None
    what_if: tuple[WhatIf, ...] = ()


def explore_case(
    model: ToeTwitchModel,
    evidence: Mapping[str, str],
    skipped: Collection[str] = (),
    why_cause: str | None = None,
    what_if_finding: str | None = None,
) -> CaseView:
    """One diagnosis, one exact look-ahead shared by "what to ask next" and "what if",
    and the explanation of one cause (the first, unless ``why_cause``).

    Raises :class:`model.ImpossibleEvidenceError` for answers that cannot be combined.
    """
    evidence = dict(evidence)
    d = model.diagnose(evidence)
    if d.red_flags_present:
        return CaseView(evidence, d)
    ahead = model.look_ahead(evidence)
    variants = what_if(model, evidence, ahead=ahead)
    ask = interview.candidates(
        model, evidence, skipped, d, ahead, everything=True, what_ifs=variants
    )
    cause = why_cause if why_cause in model.causes else d.top
    open_now = [f for f in model.findings if f not in evidence]
    finding = (
        what_if_finding if what_if_finding in open_now else (open_now[0] if open_now else None)
    )
    return CaseView(
        evidence,
        d,
        ahead,
        tuple(ask[:ASK_COUNT]),
        explain(model, evidence, cause),
        finding,
        tuple(w for w in variants if w.finding == finding),
    )


def case_ranges(
    model: ToeTwitchModel, evidence: Mapping[str, str], draws: int = INTERVAL_DRAWS
) -> Ranges:
    """The 90% ranges of every cause (:func:`model.uncertainty`), as the page shows them."""
    return compute_ranges(model, evidence, draws)
