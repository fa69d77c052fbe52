"""The toe-twitching model: load it, ask it for a differential, in one or many cases.

:class:`ToeTwitchModel` answers queries and nothing else; the reasoning tools in
:mod:`toe_twitch.analysis` call its public methods (it does not import them back).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from toe_twitch.advice import advice_for
from toe_twitch.case import Case
from toe_twitch.engine import CauseSpace, Encoded
from toe_twitch.errors import (
    EvidenceError,
    ImpossibleEvidenceError,
    PriorsRequiredError,
    UnknownCauseError,
)
from toe_twitch.network import Structure, Tables, build_structure, build_tables, pgmpy_network
from toe_twitch.priors import AGE_FINDING, PriorsFile
from toe_twitch.records import (
    CheckedAnswers,
    Combinations,
    Diagnosis,
    Evidence,
    LookAhead,
    Posteriors,
)
from toe_twitch.urgency import assess, threshold_variants
from toe_twitch.vocabulary import Vocabulary, load_vocabulary, suggest


class ToeTwitchModel:
    """The Bayesian network of toe-twitching causes, its exact engine and urgency rules.

    Build it with :func:`toe_twitch.load_model` (or :meth:`from_priors`, or
    :func:`toe_twitch.loading.model_from_network`). The
    network, the engine and the prior probabilities are computed once; each query does
    only the work that depends on its evidence.

    Examples
    --------
    >>> from toe_twitch import load_model
    >>> m = load_model()
    >>> d = m.diagnose({"age_group": "adult", "onset_falling_asleep": "present"})
    >>> d.ranking[0][0], d.urgency
    ('hypnic_jerk', 'self_care')
    """

    def __init__(
        self,
        structure: Structure,
        tables: Tables,
        *,
        priors: PriorsFile | None = None,
        source: str = "<network>",
        thresholds: Mapping[str, float],
        thresholds_source: str,
        compiled: bool | None = None,
    ):
        self.vocabulary: Vocabulary = load_vocabulary()
        self.structure_ = structure
        self.tables = tables
        self._priors = priors
        self.source = source
        #: P(cause) above which a serious cause calls for a doctor, and where it comes from.
        self.thresholds: dict[str, float] = dict(thresholds)
        self.thresholds_source = thresholds_source
        self.engine = CauseSpace(structure, tables, compiled=compiled)
        self.causes: list[str] = list(structure.causes)
        implicit = self.vocabulary.implicit_evidence
        order = {f: i for i, f in enumerate(self.vocabulary.finding_ids)}
        asked = [AGE_FINDING] if structure.age_states else []
        asked += [*structure.risk_factors, *structure.findings]
        #: Findings a user can answer (the implicit ``toe_twitching`` is assumed, not asked).
        self.findings: list[str] = sorted(
            (f for f in asked if f not in implicit), key=lambda f: order.get(f, len(order))
        )
        self.states: dict[str, tuple[str, ...]] = {
            v: tuple(structure.states(v)) for v in structure.variables
        }
        self._implicit = {f: s for f, s in implicit.items() if f in structure.findings}
        self._finding_index = {f: i for i, f in enumerate(structure.findings)}
        self._rf_index = {f: i for i, f in enumerate(structure.risk_factors)}
        base = self.query([{}], impossible="mark")
        if base.impossible[0]:
            raise ImpossibleEvidenceError(
                f"{source}: the twitching itself has probability zero under these priors "
                "(every twitching link and the twitching leak are 0); no query can be answered"
            )
        self.prior: dict[str, float] = dict(zip(self.causes, base.marginals[0].tolist(), strict=True))
        self.prior_no_listed_cause = float(base.no_listed_cause[0])

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_priors(
        cls, priors: PriorsFile, source: str = "<priors>", compiled: bool | None = None
    ) -> ToeTwitchModel:
        """The model of a validated priors file (every number, range and source)."""
        structure = build_structure(priors, load_vocabulary())
        tables = build_tables(structure, structure.values(), source)
        return cls(
            structure,
            tables,
            priors=priors,
            source=source,
            thresholds={c: t.value for c, t in priors.urgency.serious_cause_threshold.items()},
            thresholds_source=source,
            compiled=compiled,
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
        self.require_priors("anything that uses the priors (sensitivity, uncertainty, priors export)")
        return self._priors

    @property
    def structure(self) -> Structure:
        """Who is whose parent and where each prior parameter sits."""
        return self.structure_

    @property
    def nbytes(self) -> int:
        """Approximate memory held by the model (engine arrays and tables)."""
        tables = self.tables
        arrays = [tables.age, *tables.risk_factor.values(), *tables.cause.values(),
                  *tables.finding.values(), *tables.noisy_or.values()]
        return self.engine.nbytes + sum(a.nbytes for a in arrays)

    # ------------------------------------------------------------------ evidence
    def check_evidence(self, evidence: Evidence) -> dict[str, str]:
        """Validate evidence; raise :class:`EvidenceError` naming the problem and the fix.

        Returns the answers in question order. The twitching itself is assumed by every
        query; answering it (``toe_twitching=absent``, or even ``present``) is refused,
        since the model describes people who have noticed toe twitching.
        """
        if isinstance(evidence, CheckedAnswers) and evidence.checked_by is self:
            return evidence
        if not isinstance(evidence, Mapping):
            raise EvidenceError(
                f"evidence must be a mapping of finding id to state, got {type(evidence).__name__}"
            )
        checked: dict[str, str] = {}
        for finding, state in evidence.items():
            finding_text = str(finding)
            if finding in self._implicit:
                raise EvidenceError(
                    f"{finding_text!r} cannot be answered: the model describes people who have "
                    f"noticed toe twitching, so every query assumes {finding_text}="
                    f"{self._implicit[finding]} (leave it out)"
                )
            if finding not in self.states or finding in self.causes:
                close = suggest(finding_text, self.findings, self._labels())
                hint = f" Did you mean {close!r}?" if close else ""
                what = "a cause, not a finding" if finding in self.causes else "unknown finding"
                raise EvidenceError(
                    f"{what} {finding_text!r}.{hint} Valid findings: {', '.join(self.findings)}"
                )
            valid = self.states[finding]
            if not isinstance(state, str) or state not in valid:
                close = suggest(str(state), list(valid), {})
                hint = f" Did you mean {close!r}?" if close else ""
                raise EvidenceError(
                    f"unknown state {str(state)!r} for finding {finding_text!r}.{hint} "
                    f"Valid states: {', '.join(valid)}"
                )
            checked[finding] = state
        order = {f: i for i, f in enumerate(self.findings)}
        return CheckedAnswers(sorted(checked.items(), key=lambda item: order[item[0]]), self)

    def _labels(self) -> dict[str, str]:
        return {f: self.vocabulary.findings[f].label for f in self.findings}

    def encode(self, evidences: Sequence[Evidence] | Any) -> Encoded:
        """State indices per variable (``-1`` = unknown), one row per evidence set.

        ``evidences`` is a list of dicts, or a pandas DataFrame with one column per finding
        (a missing value is unknown); a DataFrame is encoded column by column, vectorised.
        """
        if _is_dataframe(evidences):
            return self._encode_frame(evidences)
        rows = [self.check_evidence(e) for e in evidences]
        n = len(rows)
        age = np.full(n, -1, dtype=np.int64)
        rfs = np.full((n, len(self._rf_index)), -1, dtype=np.int8)
        fin = np.full((n, len(self._finding_index)), -1, dtype=np.int8)
        for f, s in self._implicit.items():
            fin[:, self._finding_index[f]] = self.states[f].index(s)
        for i, evidence in enumerate(rows):
            for f, s in evidence.items():
                code = self.states[f].index(s)
                if f == AGE_FINDING:
                    age[i] = code
                elif f in self._rf_index:
                    rfs[i, self._rf_index[f]] = code
                else:
                    fin[i, self._finding_index[f]] = code
        return Encoded(age, rfs, fin)

    def _encode_frame(self, frame: Any) -> Encoded:
        import pandas as pd

        n = len(frame)
        age = np.full(n, -1, dtype=np.int64)
        rfs = np.full((n, len(self._rf_index)), -1, dtype=np.int8)
        fin = np.full((n, len(self._finding_index)), -1, dtype=np.int8)
        for f, s in self._implicit.items():
            fin[:, self._finding_index[f]] = self.states[f].index(s)
        for column in frame.columns:
            if column in self._implicit or column not in self.states or column in self.causes:
                self.check_evidence({column: "present"})  # raises the clear message
            states = list(self.states[column])
            values = frame[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                categories = list(values.cat.categories)
                lookup = np.array([states.index(c) if c in states else -2 for c in categories] + [-1])
                codes = lookup[values.cat.codes.to_numpy()]  # code -1 (missing) -> last entry
            else:
                codes = pd.Index(states).get_indexer(values.astype(object)).astype(np.int64)
                codes = np.where(values.isna().to_numpy(), -1, np.where(codes < 0, -2, codes))
            bad = np.flatnonzero(codes == -2)
            if len(bad):
                row = frame.index[bad[0]]
                raise EvidenceError(
                    f"column {column!r}, row {row!r}: unknown state {str(values.iloc[bad[0]])!r}; "
                    f"valid states: {', '.join(states)} (leave the cell empty for unknown)"
                )
            if column == AGE_FINDING:
                age[:] = codes
            elif column in self._rf_index:
                rfs[:, self._rf_index[column]] = codes
            else:
                fin[:, self._finding_index[column]] = codes
        return Encoded(age, rfs, fin)

    def decode(self, rows: Encoded, i: int) -> dict[str, str]:
        """The evidence dict of row ``i`` of encoded rows (implicit findings left out)."""
        out = {}
        if rows.age[i] >= 0:
            out[AGE_FINDING] = self.states[AGE_FINDING][rows.age[i]]
        for f, j in self._rf_index.items():
            if rows.risk_factors[i, j] >= 0:
                out[f] = self.states[f][rows.risk_factors[i, j]]
        for f, j in self._finding_index.items():
            if f not in self._implicit and rows.findings[i, j] >= 0:
                out[f] = self.states[f][rows.findings[i, j]]
        order = {f: k for k, f in enumerate(self.findings)}
        return dict(sorted(out.items(), key=lambda item: order[item[0]]))

    # ------------------------------------------------------------------ inference
    def query(
        self,
        evidences: Sequence[Evidence] | Any | Encoded,
        *,
        joint: bool = False,
        impossible: str = "raise",
        names: Sequence[str] | None = None,
    ) -> Posteriors:
        """Posteriors, P(evidence) and the unexplained share for many evidence sets at once.

        ``impossible="raise"`` (the default) raises :class:`ImpossibleEvidenceError` naming
        the answers that cannot be combined (and the row's name from ``names``, such as a
        vignette id); ``impossible="mark"`` returns NaN numbers for those rows instead.
        """
        rows = evidences if isinstance(evidences, Encoded) else self.encode(evidences)
        if len(rows) == 0:
            empty = np.zeros(0)
            return Posteriors(np.zeros((0, len(self.causes))), empty, empty, None)
        result = self.engine.query(rows, joint=joint)
        out = result
        if impossible == "raise" and out.impossible.any():
            bad = np.flatnonzero(out.impossible)
            raise self.impossible_error(rows, bad, names)
        return out

    def impossible_error(
        self, rows: Encoded, bad: np.ndarray, names: Sequence[str] | None = None
    ) -> ImpossibleEvidenceError:
        """The error for impossible rows, naming the answers that cannot be combined."""
        parts = []
        for i in bad[:3]:
            evidence = self.decode(rows, int(i))
            conflict = self.conflicting_answers(evidence)
            shown = ", ".join(f"{f}={s}" for f, s in conflict.items()) or "the twitching itself"
            who = f"{names[int(i)]}: " if names is not None else (f"row {int(i)}: " if len(rows) > 1 else "")
            parts.append(f"{who}these answers cannot all be true under the priors in use: {shown}")
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        error = ImpossibleEvidenceError(
            "; ".join(parts) + more + ". Change one of them, or use priors that allow them together."
        )
        error.rows = [int(i) for i in bad]
        return error

    def conflicting_answers(self, evidence: Evidence) -> dict[str, str]:
        """A smallest set of the answers that is impossible on its own (empty if possible).

        Answers are dropped one at a time; an answer whose removal leaves the rest
        impossible is not needed to explain the conflict (deletion filter).
        """
        evidence = self.check_evidence(evidence)
        if not self.query([evidence], impossible="mark").impossible[0]:
            return {}
        needed = dict(evidence)
        for finding in list(evidence):
            trial = {f: s for f, s in needed.items() if f != finding}
            if self.query([trial], impossible="mark").impossible[0]:
                needed = trial
        return needed

    def posterior_batch(self, evidences: Sequence[Evidence] | Any) -> np.ndarray:
        """P(cause present | evidence) for many evidence sets at once.

        ``evidences`` is a list of dicts or a pandas DataFrame (one column per finding,
        empty = unknown). Returns an array of shape ``(len(evidences), len(causes))``,
        columns in the order of :attr:`causes`.
        """
        return self.query(evidences).marginals

    def cause_states(self, evidences: Sequence[Evidence] | Any | Encoded) -> Posteriors:
        """The exact posterior over every joint cause state, for many evidence sets.

        ``joint[i, a, t]`` = P(age state ``a``, cause state ``t`` | evidence ``i``), where
        bit ``j`` of ``t`` is cause ``self.causes[j]`` (1 = present): ``(n, A, 2**K)``,
        4,096 states per age here, so keep ``n`` to a few hundred rows per call. Rows the
        priors make impossible are marked (``log_evidence = -inf``, a zero ``joint``).
        The learner's E-step (:mod:`toe_twitch.learning`) reads this.
        """
        rows = evidences if isinstance(evidences, Encoded) else self.encode(evidences)
        result = self.engine.query(rows, joint=True)
        joint = result.joint[..., self._state_order]  # the engine leaves impossible rows 0
        return Posteriors(result.marginals, result.no_listed_cause, result.log_evidence, joint)

    @cached_property
    def _state_order(self) -> np.ndarray:
        # The engine numbers cause states by its own cause order (components together):
        # cause ``causes[order[p]]`` is its bit ``p``. Map each state in :attr:`causes`
        # order to the engine's index.
        k = len(self.causes)
        position = np.empty(k, dtype=np.int64)
        position[self.engine._internal_order] = np.arange(k)
        states = np.arange(1 << k, dtype=np.int64)
        engine_index = np.zeros(1 << k, dtype=np.int64)
        for j in range(k):
            engine_index |= ((states >> j) & 1) << position[j]
        return engine_index

    #: Most combinations :meth:`every_combination` computes at once (2**20).
    MAX_COMBINATIONS = 1 << 20

    def every_combination(self, names: Sequence[str], evidence: Evidence | None = None) -> Combinations:
        """The posterior for every combination of answers to yes/no questions ``names``
        (findings or risk factors), the other answers fixed by ``evidence``.

        Risk factors change the prior over causes, so each combination of them is one
        base query; the findings are then swept in two halves whose likelihoods multiply,
        so every combination's sums over cause states are matrix products (see
        :meth:`toe_twitch.engine.CauseSpace.combinations`): 32,768 combinations of 15 answers
        take a fraction of a second, exactly. Refuses age (it has four states), the
        twitching itself, questions answered in ``evidence``, repeats, and more than
        :attr:`MAX_COMBINATIONS` combinations, with a message naming the question.
        """
        base = self.check_evidence(evidence or {})
        names = self._varied(names, base)
        log_pe, marginals, none, cases = self._sweep(names, base)
        impossible = ~np.isfinite(log_pe)
        marginals[impossible] = np.nan
        none[impossible] = np.nan
        return Combinations(
            names=tuple(names),
            states=tuple(self.states[n] for n in names),
            cases=cases,
            posteriors=Posteriors(marginals, none, log_pe),
            causes=tuple(self.causes),
        )

    def _varied(self, names: Sequence[str], base: CheckedAnswers) -> list[str]:
        """The questions :meth:`every_combination` may vary, or the error naming the first
        that it may not."""
        names = [str(n) for n in names]
        if not names:
            raise EvidenceError("every_combination needs at least one question to vary")
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise EvidenceError(f"question {name!r} is listed twice")
            seen.add(name)
            # unknown names, causes and the twitching get check_evidence's messages
            self.check_evidence({name: self.states[name][0] if name in self.states else "present"})
            if len(self.states[name]) != 2 or (
                name not in self._finding_index and name not in self._rf_index
            ):
                raise EvidenceError(
                    f"{name!r} has {len(self.states[name])} states; every_combination varies "
                    "yes/no questions (give it in the evidence instead)"
                )
            if name in base:
                raise EvidenceError(
                    f"{name!r} is both answered in the evidence and varied; leave it out of one"
                )
        if 1 << len(names) > self.MAX_COMBINATIONS:
            raise EvidenceError(
                f"{len(names)} questions make {2 ** len(names):,} combinations; the limit is "
                f"{self.MAX_COMBINATIONS:,} ({self.MAX_COMBINATIONS.bit_length() - 1} questions)"
            )
        return names

    def _sweep(
        self, names: list[str], base: CheckedAnswers
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """log P(evidence), marginals, unexplained share and the answers of every
        combination, in the order of ``itertools.product`` over ``names``."""
        risks = [n for n in names if n in self._rf_index]
        answers = [n for n in names if n not in self._rf_index]
        patterns = [
            {**base, **{rf: self.states[rf][x] for rf, x in zip(risks, combo, strict=True)}}
            for combo in itertools.product((0, 1), repeat=len(risks))
        ]
        first = self.query(patterns, joint=True, impossible="mark")
        joint = np.nan_to_num(first.joint, nan=0.0)
        log_pe, marginals, none = self.engine.combinations(
            joint, first.log_evidence, [self._finding_index[f] for f in answers]
        )
        k = len(self.causes)
        log_pe, marginals, none = log_pe.reshape(-1), marginals.reshape(-1, k), none.reshape(-1)
        # order the rows as itertools.product over ``names`` (risk factors were outermost)
        order = [*risks, *answers]
        shape = (2,) * len(names)
        axes = [order.index(n) for n in names]
        index = np.arange(1 << len(names)).reshape(shape).transpose(axes).reshape(-1)
        log_pe, marginals, none = log_pe[index], marginals[index], none[index]
        cases = np.array(list(itertools.product((0, 1), repeat=len(names))), dtype=np.int8)
        redo = np.flatnonzero(np.isnan(log_pe))  # too small for plain products: exact kernel
        if len(redo):
            rows = self.encode([
                {**base, **{n: self.states[n][int(x)] for n, x in zip(names, cases[i], strict=True)}}
                for i in redo
            ])
            again = self.engine.query(rows)
            log_pe[redo], marginals[redo], none[redo] = again.log_evidence, again.marginals, again.no_listed_cause
        return log_pe, marginals, none, cases

    def posterior(self, evidence: Evidence) -> dict[str, float]:
        return dict(zip(self.causes, self.posterior_batch([evidence])[0].tolist(), strict=True))

    def case(self, answers: Evidence) -> Case:
        """One person's answers, checked once, with every view computed once when first
        asked (:class:`~toe_twitch.case.Case`)."""
        return Case(self, answers)

    def diagnose(self, evidence: Evidence) -> Diagnosis:
        """Ranked causes, the unexplained share, urgency with reasons, and advice."""
        return self.diagnose_batch([evidence])[0]

    def diagnose_batch(
        self, evidences: Sequence[Evidence] | Any, names: Sequence[str] | None = None
    ) -> list[Diagnosis]:
        """:meth:`diagnose` for many evidence sets (a list of dicts or a DataFrame),
        computed in one engine call.

        Urgency also needs the posteriors of a few variants of each evidence set (see
        :func:`toe_twitch.urgency.threshold_variants`); they go in the same batch.
        """
        if _is_dataframe(evidences):
            rows = self.encode(evidences)
            evidences = [self.decode(rows, i) for i in range(len(rows))]
        checked = [self.check_evidence(e) for e in evidences]
        variants = [threshold_variants(e) for e in checked]
        flat = [v for group in variants for v in group]
        both = self.query([*checked, *flat], impossible="mark")
        n = len(checked)
        if both.impossible[:n].any():
            rows = self.encode(checked)
            raise self.impossible_error(rows, np.flatnonzero(both.impossible[:n]), names)
        diagnoses = []
        row = n
        for i, (evidence, group) in enumerate(zip(checked, variants, strict=True)):
            block = both.marginals[row : row + len(group)]
            row += len(group)
            diagnoses.append(
                self.make_diagnosis(evidence, both.marginals[i], float(both.no_listed_cause[i]), block)
            )
        return diagnoses

    def make_diagnosis(
        self, evidence: dict[str, str], marginals: np.ndarray, none: float, variants: np.ndarray
    ) -> Diagnosis:
        """The diagnosis from posteriors already computed: P(cause | evidence), the
        unexplained share and the marginals of the evidence's threshold variants (rows of
        NaN, for variants the priors make impossible, are left out)."""
        probs = dict(zip(self.causes, marginals.tolist(), strict=True))
        others = [
            dict(zip(self.causes, row.tolist(), strict=True)) for row in variants if np.isfinite(row).all()
        ]
        triage = assess(evidence, [probs, *others], self.thresholds, self.vocabulary)
        ranking = sorted(probs.items(), key=lambda item: (-item[1], self.causes.index(item[0])))
        return Diagnosis(
            evidence=dict(evidence),
            ranking=ranking,
            no_listed_cause=none,
            triage=triage,
            prior=self.prior,
            prior_no_listed_cause=self.prior_no_listed_cause,
            advice=advice_for(triage.level, evidence, self.vocabulary),
        )

    def look_ahead(self, evidence: Evidence) -> LookAhead:
        """The posterior after every possible answer to every unanswered question, exactly.

        For a symptom (a child of the causes), the posterior after answering ``x`` is the
        current posterior over (age, cause state) times the finding's vector, renormalised:
        one product for all of them. For age and the risk factors (parents of the causes),
        each answer is one more row of an engine batch (:meth:`parent_options`).
        """
        evidence = self.check_evidence(evidence)
        now = self.query([evidence], joint=True, names=["these answers"])
        options = self.parent_options(evidence)
        rows = [evidence.answered(f, s) for f, s in options]
        parents = self.query(rows, impossible="mark") if rows else None
        return self.look_ahead_from(evidence, now, parents)

    def symptom_options(self, evidence: CheckedAnswers) -> list[tuple[str, str]]:
        """The unanswered answers of the symptoms (children of the causes)."""
        return [
            (f, s) for f in self.structure_.findings
            if f not in evidence and f not in self._implicit for s in self.states[f]
        ]

    def look_ahead_options(self, evidence: CheckedAnswers) -> list[tuple[str, str]]:
        """Every answer a look-ahead gives the posterior after, in its order."""
        return self.symptom_options(evidence) + self.parent_options(evidence)

    def parent_options(self, evidence: CheckedAnswers) -> list[tuple[str, str]]:
        """The unanswered answers of age and the risk factors (each needs an engine row)."""
        return [
            (f, s) for f in self.findings
            if f not in evidence and (f == AGE_FINDING or f in self._rf_index) for s in self.states[f]
        ]

    def look_ahead_from(
        self, evidence: CheckedAnswers, now: Posteriors, parents: Posteriors | None
    ) -> LookAhead:
        """The look-ahead from the posterior of the answers (row 0 of ``now``, with its
        joint) and the rows of :meth:`parent_options`, in that order (``parents``)."""
        joint = now.joint[0]  # (A, S)
        options: list[tuple[str, str]] = []
        marg_rows: list[np.ndarray] = []
        none_rows: list[np.ndarray] = []
        pred_rows: list[np.ndarray] = []
        symptom_options = self.symptom_options(evidence)
        if symptom_options:
            answers = [(self._finding_index[f], self.states[f].index(s)) for f, s in symptom_options]
            marg, none, predictive = self.engine.extend(joint, answers)
            options += symptom_options
            marg_rows.append(marg)
            none_rows.append(none)
            pred_rows.append(predictive)
        parent_options = self.parent_options(evidence)
        if parent_options:
            predictive = np.exp(parents.log_evidence - now.log_evidence[0])
            options += parent_options
            marg_rows.append(parents.marginals)
            none_rows.append(parents.no_listed_cause)
            pred_rows.append(np.where(np.isfinite(predictive), predictive, 0.0))
        k = len(self.causes)
        return LookAhead(
            evidence=evidence,
            current=now.marginals[0],
            current_no_listed_cause=float(now.no_listed_cause[0]),
            options=options,
            marginals=np.concatenate(marg_rows) if marg_rows else np.zeros((0, k)),
            no_listed_cause=np.concatenate(none_rows) if none_rows else np.zeros(0),
            # P(answer | evidence) can come out 1 ulp above 1 from summation order: clamp.
            predictive=np.clip(np.concatenate(pred_rows), 0.0, 1.0) if pred_rows else np.zeros(0),
        )

    # ------------------------------------------------------------------ parameter batches
    def posteriors_under(self, theta: np.ndarray, evidence: Evidence, chunk: int = 128) -> Posteriors:
        """The posterior of one evidence set under many parameter vectors (rows of ``theta``).

        Sensitivity and uncertainty use this. Each chunk of parameter vectors becomes one
        engine with only the finding vectors the evidence needs, queried as one batch.
        Rows whose evidence is impossible under their parameters come back NaN (see
        :attr:`Posteriors.impossible`).
        """
        marginals, none, log_evidence = self.posteriors_under_each(theta, [evidence], chunk)
        return Posteriors(marginals[0], none[0], log_evidence[0])

    def posteriors_under_each(
        self, theta: np.ndarray, evidences: Sequence[Evidence], chunk: int = 128
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The posteriors of several evidence sets under many parameter vectors.

        Returns marginals ``(E, B, K)``, no-listed-cause shares ``(E, B)`` and log P(evidence)
        ``(E, B)`` for ``E`` evidence sets and ``B`` rows of ``theta``. The tables of each
        chunk of parameter vectors are built once and serve every evidence set.
        """
        self.require_priors("posteriors under other parameters")
        checked = [self.check_evidence(e) for e in evidences]
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        rows = self.encode(checked)
        vectors = set()
        for e in range(len(rows)):
            ages = range(self.engine.n_ages) if rows.age[e] < 0 else [int(rows.age[e])]
            for i, f in enumerate(self.structure_.findings):
                if rows.findings[e, i] >= 0:
                    vectors.update((f, int(rows.findings[e, i]), a) for a in ages)
        # Noisy-OR vectors come straight from their factors; only the properties of the
        # twitching need their (ratio) tables built.
        needed = sorted({f for f, *_ in vectors if f in self.structure_.property_of})
        n_e, n_b, k = len(rows), len(theta), len(self.causes)
        marginals = np.empty((n_e, n_b, k))
        none = np.empty((n_e, n_b))
        log_evidence = np.empty((n_e, n_b))
        for start in range(0, n_b, chunk):
            block = theta[start : start + chunk]
            tables = build_tables(self.structure_, block, self.source, findings=needed,
                                  age_columns=sorted({a for *_, a in vectors}))
            engine = CauseSpace(self.structure_, tables, vectors=sorted(vectors), compiled=self.engine.compiled)
            g = len(block)
            every = rows.rows(np.repeat(np.arange(n_e), g))
            result = engine.query(every, groups=np.tile(np.arange(g), n_e))
            marginals[:, start : start + g] = result.marginals.reshape(n_e, g, k)
            none[:, start : start + g] = result.no_listed_cause.reshape(n_e, g)
            log_evidence[:, start : start + g] = result.log_evidence.reshape(n_e, g)
        return marginals, none, log_evidence

    # ------------------------------------------------------------------ reference
    @cached_property
    def network(self):
        """The pgmpy ``DiscreteBayesianNetwork`` with the same CPTs (built on first use)."""
        return pgmpy_network(self.structure_, self.tables)

    @cached_property
    def _variable_elimination(self):
        from pgmpy.inference import VariableElimination

        return VariableElimination(self.network)

    def reference_evidence(self, evidence: Evidence) -> dict[str, str]:
        """The evidence as pgmpy sees it: the answers plus the implicit twitching."""
        return {**self.check_evidence(evidence), **self._implicit}

    def reference_posterior(self, evidence: Evidence) -> dict[str, float]:
        """P(cause present | evidence) from pgmpy's VariableElimination (slow, the reference)."""
        result = self._variable_elimination.query(
            self.causes, evidence=self.reference_evidence(evidence), joint=False, show_progress=False
        )
        return {c: float(result[c].get_value(**{c: "present"})) for c in self.causes}

    def check_cause(self, cause: str) -> str:
        if cause not in self.causes:
            close = suggest(str(cause), self.causes, {c: self.vocabulary.causes[c].label for c in self.causes})
            hint = f" Did you mean {close!r}?" if close else ""
            raise UnknownCauseError(
                f"unknown cause {cause!r}.{hint} Valid causes: {', '.join(self.causes)}"
            )
        return cause


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")


__all__ = ["ToeTwitchModel"]
