"""The 90% ranges the results show, as the page's background worker computes them.

Everything else a page of results shows comes from :func:`toe_twitch.interview.explore_case`
(one :class:`~toe_twitch.case.Case`); the ranges redraw every number of the priors, so the
page asks for them in the background and draws them last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from toe_twitch import ToeTwitchError, ToeTwitchModel, uncertainty

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
