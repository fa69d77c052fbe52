"""The toe-twitching model: load it, ask it for a differential, in one or many cases."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from model.engine import Factor
from model.errors import (
    EvidenceError,
    ImpossibleEvidenceError,
    PriorsRequiredError,
    UnknownCauseError,
)
from model.network import (
    Structure,
    build_structure,
    build_tables,
    factors_from_tables,
    pgmpy_network,
)
from model.priors import DEFAULT_PRIORS_PATH, PriorsFile, load_priors
from model.pruning import PrunedEngine
from model.urgency import (
    RANK,
    Advice,
    load_advice,
    rule_level,
    threshold_reasons,
    warning_sign_variants,
)
from model.vocabulary import Vocabulary, load_vocabulary

Evidence = Mapping[str, str]

DISCLAIMER = (
    "This tool explains likelihoods; it does not diagnose. In an emergency, call your "
    "local emergency services."
)


@dataclass(frozen=True)
class Diagnosis:
    """The differential for one set of findings.

    Attributes
    ----------
    ranking
        ``(cause id, P(cause present | evidence))``, highest first.
    urgency
        ``self_care``, ``see_doctor`` or ``emergency``.
    reasons
        Plain-language reasons for the urgency level.
    prior
        P(cause present) before any answer, per cause.
    """

    evidence: dict[str, str]
    ranking: list[tuple[str, float]]
    urgency: str
    reasons: list[str]
    prior: dict[str, float]
    advice: Advice
    unanswered_red_flags: list[str] = field(default_factory=list)

    @property
    def probabilities(self) -> dict[str, float]:
        return dict(self.ranking)

    @property
    def relative_to_prior(self) -> dict[str, float]:
        """How many times more (or less) likely each cause is than before the answers."""
        return {c: p / self.prior[c] for c, p in self.ranking}

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
            "urgency": self.urgency,
            "reasons": list(self.reasons),
            "unanswered_red_flags": list(self.unanswered_red_flags),
            "advice": self.advice.to_dict(),
            "disclaimer": DISCLAIMER,
        }


class ToeTwitchModel:
    """The Bayesian network of toe-twitching causes, its fast engine and urgency rules.

    Build it with :func:`load_model`. The network, the engine and the prior probabilities
    are computed once; each query does only the work that depends on its evidence.

    Examples
    --------
    >>> m = load_model()
    >>> d = m.diagnose({"age_group": "adult", "onset_falling_asleep": "present"})
    >>> d.ranking[0][0], d.urgency
    ('hypnic_jerk', 'self_care')
    """

    def __init__(self, priors: PriorsFile, source: str = "<priors>"):
        self._priors: PriorsFile | None = priors
        self.source = source
        self.vocabulary: Vocabulary = load_vocabulary()
        self._structure: Structure | None = build_structure(priors, self.vocabulary)
        self.tables = build_tables(self._structure, self._structure.values())
        self._compile(
            factors_from_tables(self._structure, self.tables),
            {v: self._structure.states(v) for v in self._structure.variables},
            {c: t.value for c, t in priors.urgency.serious_cause_threshold.items()},
        )
        #: Where :attr:`thresholds` come from.
        self.thresholds_source = source

    @classmethod
    def from_network(cls, network: Any, source: str = "<network>") -> ToeTwitchModel:
        """An inference-only model from a pgmpy ``DiscreteBayesianNetwork`` (no priors).

        The network's variables must be causes and findings of the vocabulary with the
        vocabulary's states (see :func:`model.interop.network_factors`). Diagnose,
        posterior_batch, explain, what_if and next_questions work; features that need the
        priors' ranges or sources raise :class:`~model.errors.PriorsRequiredError`. A
        network has no urgency thresholds, so those of the default priors file are used
        (for the causes the network has); :attr:`thresholds_source` says so.
        """
        from model.interop import network_factors

        factors, states = network_factors(network, source)
        self = cls.__new__(cls)
        self._priors = None
        self._structure = None
        self.source = source
        self.vocabulary = load_vocabulary()
        #: Each CPT with a leading batch axis of one, like a priors model's tables.
        self.tables = {v: f.table[None] for v, f in factors.items()}
        self.__dict__["network"] = network  # the cached property, already known
        defaults = load_priors(None).urgency.serious_cause_threshold
        self._compile(factors, states, {c: t.value for c, t in defaults.items() if c in states})
        self.thresholds_source = (
            f"{DEFAULT_PRIORS_PATH.name} (the default priors: {Path(source).name} has no "
            "urgency thresholds)"
        )
        return self

    def _compile(
        self,
        factors: Mapping[str, Factor],
        states: Mapping[str, tuple[str, ...]],
        thresholds: Mapping[str, float],
    ) -> None:
        self.engine = PrunedEngine({v: len(s) for v, s in states.items()}, factors)
        self.causes: list[str] = [c for c in self.vocabulary.cause_ids if c in states]
        #: Findings a user can answer (the implicit ``toe_twitching`` is assumed, not asked).
        self.findings: list[str] = [
            f
            for f in self.vocabulary.finding_ids
            if f in states and f not in self.vocabulary.implicit_evidence
        ]
        self.states: dict[str, tuple[str, ...]] = {v: tuple(s) for v, s in states.items()}
        #: P(cause) above which a serious cause calls for a doctor.
        self.thresholds: dict[str, float] = dict(thresholds)
        self.prior: dict[str, float] = dict(
            zip(self.causes, self.posterior_batch([{}])[0].tolist(), strict=True)
        )

    # ------------------------------------------------------------------ priors
    @property
    def has_priors(self) -> bool:
        """False for a model loaded from a network file (no ranges, no sources)."""
        return self._priors is not None

    def require_priors(self, feature: str) -> None:
        """Raise :class:`PriorsRequiredError` naming ``feature`` if there are no priors."""
        if self._priors is None:
            raise PriorsRequiredError(
                f"this model was loaded from {self.source}, which has no ranges or sources; "
                f"{feature} needs a priors file (load the model from a priors YAML file "
                "such as priors/default.yaml, or pass --priors FILE.yaml)"
            )

    @property
    def priors(self) -> PriorsFile:
        """The priors file the model was built from (every number, range and source)."""
        self.require_priors(
            "anything that uses the priors (sensitivity, uncertainty, "
            "vignette sensitivity, priors export)"
        )
        return self._priors

    @property
    def structure(self) -> Structure:
        """Who is whose parent and where each prior parameter sits (priors models only)."""
        self.require_priors(
            "anything that uses the prior parameters (sensitivity, "
            "uncertainty, vignette sensitivity, priors export)"
        )
        return self._structure

    # ------------------------------------------------------------------ evidence
    def check_evidence(self, evidence: Evidence) -> dict[str, str]:
        """Validate evidence; raise :class:`EvidenceError` naming the problem and the fix."""
        if not isinstance(evidence, Mapping):
            raise EvidenceError(
                f"evidence must be a mapping of finding id to state, got {type(evidence).__name__}"
            )
        checked = {f: s for f, s in self.vocabulary.implicit_evidence.items() if f in self.states}
        for finding, state in evidence.items():
            if finding not in self.states or finding in self.causes:
                close = difflib.get_close_matches(str(finding), self.findings, n=1, cutoff=0.6)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                what = "a cause, not a finding" if finding in self.causes else "unknown finding"
                raise EvidenceError(
                    f"{what} {finding!r}.{hint} Valid findings: {', '.join(self.findings)}"
                )
            valid = self.states[finding]
            if state not in valid:
                close = difflib.get_close_matches(str(state), valid, n=1, cutoff=0.5)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise EvidenceError(
                    f"unknown state {state!r} for finding {finding!r}.{hint} "
                    f"Valid states: {', '.join(valid)}"
                )
            checked[finding] = state
        return checked

    def encode(self, evidences: Sequence[Evidence]) -> dict[str, np.ndarray]:
        """State indices per finding (``-1`` = unknown), one row per evidence set."""
        n = len(evidences)
        columns: dict[str, np.ndarray] = {}
        for row, evidence in enumerate(evidences):
            for finding, state in self.check_evidence(evidence).items():
                column = columns.get(finding)
                if column is None:
                    column = columns[finding] = np.full(n, -1, dtype=np.int64)
                column[row] = self.states[finding].index(state)
        return columns

    # ------------------------------------------------------------------ inference
    def posterior_indices(
        self,
        columns: Mapping[str, np.ndarray],
        tables: Mapping[str, np.ndarray] | None = None,
        what: str = "evidence",
    ) -> np.ndarray:
        """P(cause present) for encoded evidence; shape ``(n, len(causes))``.

        Raises :class:`ImpossibleEvidenceError` if any row has probability zero.
        """
        result = self.engine.query(columns, self.causes, tables=tables)
        if result.impossible.any():
            rows = np.flatnonzero(result.impossible)
            shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
            raise ImpossibleEvidenceError(
                f"{what} has probability zero under the model (row(s) {shown}); "
                "no posterior exists. Check for contradictory findings."
            )
        return np.stack([result.marginals[c][:, 1] for c in self.causes], axis=1)

    def posterior_batch(self, evidences: Sequence[Evidence]) -> np.ndarray:
        """P(cause present | evidence) for many evidence sets at once.

        Returns an array of shape ``(len(evidences), len(causes))``, columns in the order
        of :attr:`causes`.
        """
        return self.posterior_indices(self.encode(list(evidences)))

    def posterior(self, evidence: Evidence) -> dict[str, float]:
        return dict(zip(self.causes, self.posterior_batch([evidence])[0].tolist(), strict=True))

    def diagnose(self, evidence: Evidence) -> Diagnosis:
        """Ranked causes, urgency with reasons, and advice for one set of findings."""
        return self.diagnose_batch([evidence])[0]

    def diagnose_batch(self, evidences: Sequence[Evidence]) -> list[Diagnosis]:
        """:meth:`diagnose` for many evidence sets, computed in one engine call."""
        checked = [self.check_evidence(e) for e in evidences]
        return self.diagnoses_from_posteriors(checked, self.posterior_batch(checked))

    def diagnoses_from_posteriors(
        self, evidences: Sequence[dict[str, str]], posteriors: np.ndarray
    ) -> list[Diagnosis]:
        """Assemble diagnoses from already computed posteriors (one row per evidence set).

        Urgency needs the posteriors of the warning-sign variants too (see
        :mod:`model.urgency`); only those are computed here, in one batch.
        """
        variants = [warning_sign_variants(e)[1:] for e in evidences]
        flat = [v for group in variants for v in group]
        extra = self.posterior_batch(flat) if flat else np.zeros((0, len(self.causes)))
        advice = load_advice()
        diagnoses = []
        row = 0
        for evidence, main, group in zip(evidences, posteriors, variants, strict=True):
            block = extra[row : row + len(group)]
            row += len(group)
            probs = dict(zip(self.causes, main.tolist(), strict=True))
            level, reasons = rule_level(evidence, self.vocabulary)
            serious = threshold_reasons(probs, self.thresholds, self.vocabulary)
            for other in block:
                alt = dict(zip(self.causes, other.tolist(), strict=True))
                for cause, t in self.thresholds.items():
                    if probs[cause] < t <= alt[cause]:
                        serious.append(
                            f"{self.vocabulary.causes[cause].label} passes its {t:.0%} threshold "
                            "when fever or fatigue is left out; a warning sign never lowers the advice."
                        )
                        break
            serious = list(dict.fromkeys(serious))
            if serious and RANK[level] < RANK["see_doctor"]:
                level = "see_doctor"
            if level != "emergency":
                reasons.extend(serious)
            unanswered = [f for f in self.vocabulary.red_flags if f not in evidence]
            if level == "self_care":
                reasons.append(
                    "No red flag and nothing the article ties to seeing a doctor was reported; "
                    "benign causes usually settle on their own within days."
                )
                if unanswered:
                    reasons.append(
                        "You have not answered every red-flag question: check them. If any "
                        "applies, call emergency services."
                    )
            ranking = sorted(probs.items(), key=lambda item: (-item[1], self.causes.index(item[0])))
            diagnoses.append(
                Diagnosis(
                    evidence=dict(evidence),
                    ranking=ranking,
                    urgency=level,
                    reasons=reasons,
                    prior=self.prior,
                    advice=advice[level],
                    unanswered_red_flags=unanswered,
                )
            )
        return diagnoses

    # ------------------------------------------------------------------ reference
    @cached_property
    def network(self):
        """The pgmpy ``DiscreteBayesianNetwork`` with the same CPTs (built on first use)."""
        return pgmpy_network(self.structure, self.tables)

    @cached_property
    def _variable_elimination(self):
        from pgmpy.inference import VariableElimination

        return VariableElimination(self.network)

    def reference_posterior(self, evidence: Evidence) -> dict[str, float]:
        """P(cause present | evidence) from pgmpy's VariableElimination (slow, the reference)."""
        evidence = self.check_evidence(evidence)
        result = self._variable_elimination.query(
            self.causes, evidence=evidence, joint=False, show_progress=False
        )
        return {c: float(result[c].get_value(**{c: "present"})) for c in self.causes}

    # ------------------------------------------------------------------ reasoning tools
    def explain(self, evidence: Evidence, cause: str):
        """Why ``cause`` ranks where it does: see :func:`model.analysis.explain`."""
        from model.analysis import explain

        return explain(self, dict(evidence), cause)

    def what_if(self, evidence: Evidence):
        """Every unanswered finding in every state: see :func:`model.analysis.what_if`."""
        from model.analysis import what_if

        return what_if(self, dict(evidence))

    def next_questions(self, evidence: Evidence, k: int = 5):
        """Most informative questions: see :func:`model.analysis.next_questions`."""
        from model.analysis import next_questions

        return next_questions(self, dict(evidence), k)

    def sensitivity(self, evidence: Evidence, cause: str):
        """Tornado data over every parameter: see :func:`model.analysis.sensitivity`."""
        from model.analysis import sensitivity

        self.require_priors("sensitivity")
        return sensitivity(self, dict(evidence), cause)

    def uncertainty(self, evidence: Evidence, draws: int = 1000, seed: int = 0):
        """Posterior intervals from the prior ranges: see :func:`model.analysis.uncertainty`."""
        from model.analysis import uncertainty

        self.require_priors("uncertainty")
        return uncertainty(self, dict(evidence), draws, seed)

    def check_cause(self, cause: str) -> str:
        if cause not in self.causes:
            close = difflib.get_close_matches(str(cause), self.causes, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownCauseError(
                f"unknown cause {cause!r}.{hint} Valid causes: {', '.join(self.causes)}"
            )
        return cause


def load_model(path: str | Path | None = None) -> ToeTwitchModel:
    """Build the model from the default priors, a priors file, or a network file.

    ``path`` ending in a network format's extension (``.bif``, ``.xmlbif``/``.bifxml``/
    ``.xml``, ``.xdsl``, ``.net``, ``.uai``; see :mod:`model.interop`) loads that network
    for inference only: no ranges or sources, so sensitivity and uncertainty raise
    :class:`~model.errors.PriorsRequiredError`; urgency uses the default priors'
    thresholds. Any other path is read as a priors YAML file.

    Raises :class:`model.errors.PriorsError` listing every problem in a bad priors file,
    :class:`model.errors.NetworkFileError` for a bad network file.
    """
    from model.interop import format_for_path, read_network

    if path is not None and format_for_path(path) is not None:
        return ToeTwitchModel.from_network(read_network(path), source=str(path))
    priors = load_priors(path)
    return ToeTwitchModel(priors, source=str(path) if path else "priors/default.yaml")
