"""One case: a person's answers checked once, and every view of them computed once.

In the spirit of pyAgrum's ``ie.setEvidence(evs); ie.makeInference()`` followed by many
questions of ``ie``: :meth:`ToeTwitchModel.case <toe_twitch.core.ToeTwitchModel.case>`
checks and orders the answers once (:class:`~toe_twitch.core.CheckedAnswers`, which no
later call checks again), and the views are computed the first time one is asked for,
in two engine batches:

1. *the case*: the answers, their fever/tiredness variants (for the urgency) and the
   answers with each one left out (for every explanation), with the joint posterior of
   the answers; it gives :attr:`Case.diagnosis`;
2. *the look-ahead*: one row per unanswered answer of age and the risk factors (the
   symptoms come from the joint posterior by a product, no batch), the variants of every
   answer (for each what-if's urgency) and the chain of answers that explains the
   first-ranked cause; it gives :attr:`Case.look_ahead`, :attr:`Case.what_ifs`,
   :attr:`Case.questions` and :meth:`Case.explanation` of that cause (another cause's
   explanation is one more small batch).

:meth:`Case.ranges` (the 90% intervals) redraws the priors and is asked for apart.

>>> from toe_twitch import load_model
>>> case = load_model().case({"age_group": "adult", "onset_falling_asleep": "present"})
>>> case.diagnosis.top, case.explanation().cause, len(case.what_ifs) == len(case.look_ahead.options)
('hypnic_jerk', 'hypnic_jerk', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from toe_twitch.analysis import (
    Explanation,
    Question,
    Uncertainty,
    WhatIf,
    explain_from,
    explanation_prefixes,
    leave_one_out,
    questions_from,
    uncertainty,
    what_if_from,
    what_if_variants,
)
from toe_twitch.urgency import threshold_variants

if TYPE_CHECKING:
    from toe_twitch.core import ToeTwitchModel
    from toe_twitch.records import CheckedAnswers, Diagnosis, LookAhead, Posteriors


class Case:
    """A person's answers to one model, checked once; views computed when first asked.

    Raises :class:`~toe_twitch.errors.EvidenceError` (at construction) for answers the
    model cannot take, and :class:`~toe_twitch.errors.ImpossibleEvidenceError` (from the
    first view) for answers that cannot all be true under its priors.
    """

    def __init__(self, model: ToeTwitchModel, answers: Mapping[str, str]) -> None:
        self.model = model
        self.evidence: CheckedAnswers = model.check_evidence(answers)
        self._variants = threshold_variants(self.evidence)
        self._left_out = leave_one_out(self.evidence)
        self._explanations: dict[str, Explanation] = {}
        self._ranges: dict[tuple[int, int], Uncertainty] = {}

    def __repr__(self) -> str:
        return f"Case({dict(self.evidence)!r})"

    # ------------------------------------------------------------ batch 1: the case
    @cached_property
    def _first(self) -> Posteriors:
        rows = [self.evidence, *self._variants, *self._left_out]
        first = self.model.query(rows, joint=True, impossible="mark")
        if first.impossible[0]:
            raise self.model.impossible_error(self.model.encode([self.evidence]), np.array([0]))
        return first

    @cached_property
    def diagnosis(self) -> Diagnosis:
        """The differential, urgency (with reasons) and the advice checked for these answers."""
        f, n = self._first, len(self._variants)
        return self.model.make_diagnosis(
            self.evidence, f.marginals[0], float(f.no_listed_cause[0]), f.marginals[1 : 1 + n]
        )

    def _with_and_without(self, cause: str) -> np.ndarray:
        k = self.model.causes.index(cause)
        column = self._first.marginals[:, k]
        return np.concatenate([column[:1], column[1 + len(self._variants) :]])

    # ------------------------------------------------------------ batch 2: the look-ahead
    @cached_property
    def _second(self) -> tuple[LookAhead, list[list[dict[str, str]]], np.ndarray, dict]:
        model, evidence = self.model, self.evidence
        parents = [evidence.answered(f, s) for f, s in model.parent_options(evidence)]
        groups = what_if_variants(evidence, model.look_ahead_options(evidence))
        flat = [v for g in groups for v in g]
        top = self.diagnosis.top
        order, prefixes = explanation_prefixes(evidence, self._with_and_without(top))
        second = model.query([*parents, *flat, *prefixes], impossible="mark")
        n_p, n_v = len(parents), len(flat)
        now = self._first.rows(0, 1)
        ahead = model.look_ahead_from(evidence, now, second.rows(0, n_p) if parents else None)
        extra = second.marginals[n_p : n_p + n_v]
        chain = second.marginals[n_p + n_v :]
        return ahead, groups, extra, {top: (order, chain)}

    @cached_property
    def look_ahead(self) -> LookAhead:
        """The exact posterior after each possible answer to each unanswered question."""
        return self._second[0]

    @cached_property
    def what_ifs(self) -> tuple[WhatIf, ...]:
        """Every unanswered question in every state: ranking, urgency, biggest mover."""
        ahead, groups, extra, _ = self._second
        return tuple(what_if_from(self.model, self.evidence, ahead, groups, extra))

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        """Every unanswered question, most informative first (while the answers point to
        self care, the unanswered emergency signs come first)."""
        return tuple(questions_from(self.model, self.evidence, self.look_ahead))

    def explanation(self, cause: str | None = None) -> Explanation:
        """Why ``cause`` (the first-ranked one by default) has its probability."""
        cause = self.model.check_cause(cause) if cause else self.diagnosis.top
        if cause not in self._explanations:
            k = self.model.causes.index(cause)
            chains = self._second[3]
            if cause in chains:
                order, chain = chains[cause]
                chain = chain[:, k]
            else:
                order, prefixes = explanation_prefixes(self.evidence, self._with_and_without(cause))
                chain = self.model.query(prefixes).marginals[:, k] if prefixes else np.zeros(0)
            self._explanations[cause] = explain_from(
                self.model, self.evidence, cause, self._with_and_without(cause), order, chain
            )
        return self._explanations[cause]

    def ranges(self, draws: int = 200, seed: int = 0) -> Uncertainty:
        """90% intervals of every cause over ``draws`` redraws of the priors' numbers."""
        key = (draws, seed)
        if key not in self._ranges:
            self._ranges[key] = uncertainty(self.model, self.evidence, draws=draws, seed=seed)
        return self._ranges[key]
