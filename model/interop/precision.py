"""How much writing and reading a format can move a posterior (a bound the tests use)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from toe_twitch.interop.formats import ENGINE_TOLERANCE, get_format

if TYPE_CHECKING:
    from toe_twitch.core import ToeTwitchModel


def posterior_error_bound(
    model: ToeTwitchModel, format: str, reader_relative_error: float = 0.0
) -> float:
    """Largest change in any P(cause | evidence) that writing and reading ``format`` allows.

    A format printing ``d`` decimals moves each CPT entry ``theta`` by at most
    ``h = 0.5e-d``; a reader that stores numbers less precisely than a double adds a
    relative error (``reader_relative_error``: :data:`SINGLE_PRECISION` for a reader that
    keeps single-precision floats). So each entry moves by a factor within ``1 +- rho``
    with ``rho = h / min(theta) + card * h + reader_relative_error`` per CPT (the
    ``card * h`` term covers a reader that renormalises a column). Every term of
    P(cause, evidence) is a product of one entry of each CPT, so P(cause, evidence) and
    P(no cause, evidence) each move by a factor within ``prod(1 +- rho)``; the posterior
    log-odds move by at most ``L = sum(log((1 + rho) / (1 - rho)))`` and the posterior by
    at most ``L / 4`` (the logistic function's slope is at most 1/4). The engine's own
    accuracy (:data:`ENGINE_TOLERANCE`) is added. A lossless format read in double
    precision gives exactly :data:`ENGINE_TOLERANCE`; ``inf`` if an entry is smaller
    than ``h`` (it could print as zero).
    """
    fmt = get_format(format)
    h = 0.0 if fmt.decimals is None else 0.5 * 10.0**-fmt.decimals
    if h == 0.0 and reader_relative_error == 0.0:
        return ENGINE_TOLERANCE
    log_odds = 0.0
    tables = model.tables
    for table in [tables.age, *tables.risk_factor.values(), *tables.cause.values(),
                  *tables.finding.values()]:
        smallest = float(np.min(table))
        if smallest <= h:
            return math.inf
        card = table.shape[1] if table.ndim > 2 else table.shape[-1]
        rho = h / smallest + card * h + reader_relative_error + 2.0**-52
        log_odds += math.log1p(rho) - math.log1p(-rho)
    return log_odds / 4 + ENGINE_TOLERANCE
