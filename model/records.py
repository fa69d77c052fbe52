"""The records a model's answers come back in: checked answers, a diagnosis, a batch of
posteriors, a look-ahead and every combination of some answers.

Plain frozen data with their array shapes stated; :mod:`toe_twitch.core` computes them
and every other module reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from toe_twitch.advice import Advice
from toe_twitch.engine import Posteriors
from toe_twitch.urgency import Reason, Urgency

Evidence = Mapping[str, str]

__all__ = [
    "DISCLAIMER",
    "NO_LISTED_CAUSE_LABEL",
    "CheckedAnswers",
    "Combinations",
    "Diagnosis",
    "Evidence",
    "LookAhead",
    "Posteriors",
]

DISCLAIMER = (
    "This tool explains likelihoods; it does not diagnose. In an emergency, call your "
    "local emergency services."
)

#: How the unexplained share is named wherever a person reads it.
NO_LISTED_CAUSE_LABEL = "None of these causes (often harmless twitching that settles)"


class CheckedAnswers(dict):
    """Answers a model has checked: finding id -> state, in question order.

    :meth:`ToeTwitchModel.check_evidence` returns one and takes one back without checking
    it again (when the same model checked it), so a :class:`~toe_twitch.case.Case` and
    every view of it validate the answers exactly once, with no flag to pass around.
    """

    __slots__ = ("checked_by",)

    def __init__(self, answers: Mapping[str, str], checked_by: object) -> None:
        super().__init__(answers)
        self.checked_by = checked_by

    def answered(self, finding: str, state: str) -> CheckedAnswers:
        """These answers with ``finding`` answered ``state`` (a state of that finding the
        model offered: what-if and look-ahead options)."""
        return CheckedAnswers({**self, finding: state}, self.checked_by)

    def without(self, *findings: str) -> CheckedAnswers:
        """These answers with ``findings`` left unanswered."""
        return CheckedAnswers({f: s for f, s in self.items() if f not in findings}, self.checked_by)


@dataclass(frozen=True)
class Diagnosis:
    """The differential for one set of findings.

    Attributes
    ----------
    ranking
        ``(cause id, P(cause present | evidence))``, highest first. Several causes can be
        present at once, so these do not sum to one.
    no_listed_cause
        P(every listed cause absent | evidence): the share no listed cause explains.
    urgency
        ``self_care``, ``see_doctor`` or ``emergency`` (from :func:`toe_twitch.urgency.assess`).
    reasons
        Why, as :class:`~toe_twitch.urgency.Reason` records (code, plain text, source).
    prior, prior_no_listed_cause
        The same quantities before any answer (the twitching alone).
    """

    evidence: dict[str, str]
    ranking: list[tuple[str, float]]
    no_listed_cause: float
    triage: Urgency
    prior: dict[str, float]
    prior_no_listed_cause: float
    advice: Advice

    @property
    def urgency(self) -> str:
        return self.triage.level

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self.triage.reasons

    @property
    def unanswered_red_flags(self) -> tuple[str, ...]:
        return self.triage.unanswered_red_flags

    @property
    def red_flags_present(self) -> tuple[str, ...]:
        """Red flags answered "yes": the emergency may lie outside the listed causes."""
        return self.triage.red_flags_present

    @property
    def probabilities(self) -> dict[str, float]:
        return dict(self.ranking)

    @property
    def relative_to_prior(self) -> dict[str, float | None]:
        """How many times more (or less) likely each cause is than before the answers.

        0 for a cause the answers rule out. A priors file keeps every prior above 0 (the
        schema bounds prevalences away from 0), but a network file can fix a cause at 0:
        there the ratio is undefined and given as None (``null`` in JSON).
        """
        return {c: p / self.prior[c] if self.prior[c] > 0 else None for c, p in self.ranking}

    @property
    def top(self) -> str:
        return self.ranking[0][0]

    def to_dict(self) -> dict[str, Any]:
        rel = self.relative_to_prior
        return {
            "evidence": dict(self.evidence),
            "ranking": [
                {
                    "cause": c,
                    "probability": p,
                    "prior": self.prior[c],
                    "relative_to_prior": rel[c],
                }
                for c, p in self.ranking
            ],
            "no_listed_cause": self.no_listed_cause,
            "prior_no_listed_cause": self.prior_no_listed_cause,
            "urgency": self.urgency,
            "reasons": [r.to_dict() for r in self.reasons],
            "red_flags_present": list(self.red_flags_present),
            "emergency_may_lie_outside_listed_causes": bool(self.red_flags_present),
            "unanswered_red_flags": list(self.unanswered_red_flags),
            "advice": self.advice.to_dict(),
            "disclaimer": DISCLAIMER,
        }


@dataclass(frozen=True)
class Combinations:
    """The posterior for every combination of answers to some yes/no questions.

    ``cases[i, q]`` is the state index (in ``ToeTwitchModel.states[names[q]]``) of
    question ``q`` in combination ``i``; the first question changes slowest, as in
    ``itertools.product``. ``posteriors`` holds one row per combination (impossible
    combinations have NaN numbers and ``log_evidence = -inf``).
    """

    names: tuple[str, ...]
    states: tuple[tuple[str, ...], ...]
    cases: np.ndarray
    posteriors: Posteriors
    causes: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.cases.shape[0])

    def frame(self):
        """A pandas DataFrame: one column per question (its states), one per cause,
        ``no_listed_cause`` and ``log_evidence``."""
        import pandas as pd

        data: dict[str, Any] = {
            name: pd.Categorical.from_codes(self.cases[:, q], categories=list(self.states[q]))
            for q, name in enumerate(self.names)
        }
        for j, cause in enumerate(self.causes):
            data[cause] = self.posteriors.marginals[:, j]
        data["no_listed_cause"] = self.posteriors.no_listed_cause
        data["log_evidence"] = self.posteriors.log_evidence
        return pd.DataFrame(data)


@dataclass(frozen=True)
class LookAhead:
    """The posterior now and after every possible answer to every unanswered question.

    ``options[i] = (finding, state)``; ``marginals[i]`` and ``no_listed_cause[i]`` are the
    posterior after that answer, ``predictive[i]`` = P(that answer | evidence). An answer
    the priors make impossible has predictive 0 and NaN posteriors.
    """

    evidence: dict[str, str]
    current: np.ndarray
    current_no_listed_cause: float
    options: list[tuple[str, str]]
    marginals: np.ndarray
    no_listed_cause: np.ndarray
    predictive: np.ndarray

    def predictive_of(self, finding: str) -> dict[str, float]:
        return {s: float(p) for (f, s), p in zip(self.options, self.predictive, strict=True) if f == finding}
