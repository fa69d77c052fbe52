"""Learning the priors from a clinic's own cases, with the experts' ranges as the prior.

A case file holds one case per row: the answers a person gave (one column per finding id;
``yes``/``no`` or ``present``/``absent``, age_group's states; empty = unknown) and, in an
optional ``diagnosis`` column, the causes confirmed (``plmt;neuropathy``), ``none`` when
none of the listed causes was found, or nothing when no diagnosis was made. Other columns
(an id, a date) are kept for messages.

The fit is the maximum a posteriori (MAP) estimate by EM (Dempster, Laird & Rubin 1977):

**Prior.** Each probability (link, leak, prevalence) has the Beta prior whose *mode* is the
expert's value and whose central 90% interval best matches the expert's range (least
squares on the log-odds scale, over one number, the weight): ``alpha = 1 + w * value``,
``beta = 1 + w * (1 - value)``. ``w`` is the prior's weight in cases: the MAP of a link
seen to act ``m`` times in ``n`` cases is ``(m + w * value) / (n + w)``. An odds ratio has
a normal prior on its log with the range as the 90% interval (sd = log(high / low) / 3.29).

**E-step.** For each case the engine's exact posterior over (age, all 4,096 cause states)
given its answers (:meth:`toe_twitch.core.ToeTwitchModel.cause_states`). A diagnosis is
read as the workup's whole result, as ``none`` is: the listed causes present and every
other cause absent (one cause state); no diagnosis leaves the causes latent; unknown
answers are left out of the evidence, so they add nothing. A case whose age and diagnosis
are both known has that one (age, cause state) whatever the numbers, so only the other
cases go through the engine at each iteration.
The posteriors are summed into one weight vector over (age, cause state) per answer
(finding, state), so the M-step never loops over cases.

**M-step.** Closed forms given those weights:

* *Link and leak of a finding* (noisy-OR): the expected number of cases in which the
  cause was present and the finding answered (``n``) and in which the cause produced it
  (``m = sum over answered-present cases of P(s | e) * link / P(finding | s)``); MAP as
  above.
* *Property of the twitching* (lasting two weeks, at sleep onset, ...), in its own
  definition: each present cause makes twitching with chance ``t_c`` and that twitching
  has the property with chance ``r_c``; ``n`` is the expected number of cases in which
  ``c`` made the twitching, ``m`` those in which it made it with the property.
* *Prevalence*: every case twitches, so the cases see a cause with its general-population
  odds multiplied by the twitching's likelihood ratio ``LR`` (from the current model).
  Given ``LR``, the MAP of the prevalence is one-dimensional and concave in its log-odds:
  Newton's method.
* *Odds ratio*: the cases' log odds ratio between the risk factor and the cause (per age
  group, pooled by inverse variance) minus the one the current model predicts among the
  same cases, added to the current log odds ratio (so the selection on twitching and the
  other risk factors cancel), then combined with the prior as two normals.

Not learned, and why: the twitching's own links and leak (every case twitches), the
age-group shares and risk-factor prevalences (general-population figures that a clinic's
twitching cases cannot give), the urgency thresholds (a policy), and any number whose
range is a single point or whose value is 0 or 1 (a definition).

**Stop** when an EM step moves no learned number by more than :data:`TOLERANCE` on the
log-odds scale (log scale for odds ratios), or after :data:`MAX_ITERATIONS` EM steps.
The steps are accelerated by SQUAREM (Varadhan & Roland 2008): two EM steps, an
extrapolation along them, one more EM step; the fixed point is plain EM's.

**Uncertainty.** 90% credible intervals from the complete-data posterior at the last
iteration: the Beta ``(alpha + m, beta + n - m)`` for links and leaks, a Laplace (normal)
approximation on the log-odds scale for prevalences, the normal posterior for log odds
ratios. They ignore the information lost to unknown answers and diagnoses, so they are
somewhat narrow. They become the numbers' new ranges.

**Where data and expert disagree.** A number is flagged when its data fall in a tail of
their prior predictive distribution (two-sided p below :data:`SURPRISE_P`): for a link or
leak, ``m`` of ``n`` (rounded) under the Beta-binomial of its prior; for a prevalence,
the cases with the cause under the binomial with the prior's prevalence (drawn) shifted
by the twitching's likelihood ratio; for an odds ratio, ``z = (data - prior) /
sqrt(var_prior + var_data)`` on the log scale. A case is flagged when
its HUGIN conflict ``conf(e) = sum_j log P(e_j) - log P(e)`` (each answer and the
diagnosis alone, against all together, given the twitching) exceeds
:data:`CONFLICT_THRESHOLD`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from toe_twitch.core import ToeTwitchModel
from toe_twitch.errors import InputFileError, Problem, ToeTwitchError
from toe_twitch.files import check_target, write_atomic
from toe_twitch.learning.cases import (
    MAX_CASE_FILE_BYTES,
    CaseFileError,
    Cases,
    parse_cases,
    read_cases,
)
from toe_twitch.learning.em import (
    _EDGE,
    CONFLICT_THRESHOLD,
    MAX_ITERATIONS,
    SURPRISE_P,
    TOLERANCE,
    BetaPrior,
    _Columns,
    _diagnosis_keep,
    _distance,
    _e_step,
    _Estimate,
    _expit,
    _known_weights,
    _logit,
    _m_step,
    _model_for,
    _Plan,
    _plan,
    beta_prior,
    log_normal_sd,
)
from toe_twitch.learning.simulate import cases_csv, model_with, moved_links, sample_cases
from toe_twitch.priors import (
    AGE_FINDING,
    PriorsFile,
    iter_parameters,
    priors_to_data,
    validate_priors_data,
)


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class LearnedNumber:
    """One number before and after learning.

    ``cases`` is the expected number of cases that informed it (for a link: cases in
    which the cause was present and the finding answered); ``surprise`` the two-sided
    prior-predictive p-value of its data; ``prior_weight`` the Beta prior's weight in
    cases (NaN for an odds ratio, whose prior is normal on the log scale).
    """

    path: str
    kind: str
    before: float
    prior_low: float
    prior_high: float
    after: float
    low: float
    high: float
    cases: float
    prior_weight: float
    surprise: float

    @property
    def conflict(self) -> bool:
        """The cases contradict the prior (:data:`SURPRISE_P`)."""
        return self.surprise < SURPRISE_P

    @property
    def shift(self) -> float:
        """How far it moved: log-odds (log for an odds ratio)."""
        return _distance(self.kind, self.before, self.after)

    @property
    def moved(self) -> bool:
        """The starting value lies outside the learned 90% interval."""
        return not self.low <= self.before <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "before": self.before,
            "prior_range": [self.prior_low, self.prior_high], "after": self.after,
            "interval_90": [self.low, self.high], "cases": self.cases,
            "prior_weight_cases": None if math.isnan(self.prior_weight) else self.prior_weight,
            "surprise_p": self.surprise, "conflicts_with_prior": self.conflict,
            "moved": self.moved,
        }


@dataclass(frozen=True)
class CaseNote:
    """A case that was skipped (``reason``) or fits the learned model badly (``conflict``)."""

    row: int
    label: str
    reason: str = ""
    conflict: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "id": self.label}
        if self.reason:
            out["reason"] = self.reason
        if not math.isnan(self.conflict):
            out["conflict"] = self.conflict
        return out


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` learned: the new priors, every learned number, and the notes.

    ``log_likelihood[i]`` is log P(case | twitching) summed over the cases whose age or
    diagnosis is unknown, at the E-step after iteration ``i + 1`` (they are the cases the
    numbers can change).
    """

    source: str
    priors: PriorsFile
    numbers: tuple[LearnedNumber, ...]
    iterations: int
    converged: bool
    cases_used: int
    skipped: tuple[CaseNote, ...]
    conflicting_cases: tuple[CaseNote, ...]
    log_likelihood: tuple[float, ...]
    seconds: float
    header: tuple[str, ...] = field(default=(), repr=False)

    def moved(self) -> list[LearnedNumber]:
        """Numbers whose starting value is outside their learned 90% interval, or whose
        data contradict their prior, furthest moved first."""
        chosen = [n for n in self.numbers if n.moved or n.conflict]
        return sorted(chosen, key=lambda n: -n.shift)

    def yaml_text(self) -> str:
        """The learned priors as an ordinary priors file (what ``--out`` writes)."""
        body = yaml.safe_dump(priors_to_data(self.priors), sort_keys=False,
                              default_flow_style=None, allow_unicode=True, width=4096)
        return "\n".join(f"# {line}" for line in self.header) + "\n" + body

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "iterations": self.iterations, "converged": self.converged,
            "tolerance": TOLERANCE, "cases_used": self.cases_used,
            "cases_skipped": [c.to_dict() for c in self.skipped],
            "conflicting_cases": [c.to_dict() for c in self.conflicting_cases],
            "conflict_threshold": CONFLICT_THRESHOLD, "surprise_p": SURPRISE_P,
            "numbers_moved": len([n for n in self.numbers if n.moved]),
            "numbers_conflicting": len([n for n in self.numbers if n.conflict]),
            "numbers": [n.to_dict() for n in self.numbers],
            "log_likelihood": list(self.log_likelihood), "seconds": self.seconds,
        }


def _skipped(model: ToeTwitchModel, cases: Cases, bad: np.ndarray) -> list[CaseNote]:
    """Why each impossible case is impossible: its answers, or its diagnosis with them."""
    answers = model.query(cases.rows.rows(bad), impossible="mark").impossible
    notes = []
    for k, i in enumerate(bad):
        if answers[k]:
            shown = ""
            if k < 5:  # naming the conflict costs a few queries per case
                conflict = model.conflicting_answers(model.decode(cases.rows, int(i)))
                shown = ": " + ", ".join(f"{f}={s}" for f, s in conflict.items())
            reason = f"these answers cannot all be true under the priors{shown}; skipped"
        else:
            reason = "the diagnosis cannot be true with these answers under the priors; skipped"
        notes.append(CaseNote(cases.numbers[i], cases.labels[i], reason))
    return notes


def _single_answers(model: ToeTwitchModel) -> dict[str, np.ndarray]:
    """log P(answer | twitching) of each answer alone, per variable and state."""
    rows, names = [], []
    for v in model.findings:
        for state in model.states[v]:
            rows.append({v: state})
            names.append(v)
    post = model.query([{}, *rows], impossible="mark").log_evidence
    out: dict[str, list[float]] = {}
    for name, value in zip(names, post[1:] - post[0], strict=True):
        out.setdefault(name, []).append(float(value) if np.isfinite(value) else 0.0)
    return {k: np.array(v) for k, v in out.items()}


def case_conflicts(model: ToeTwitchModel, cases: Cases, loglik: np.ndarray) -> np.ndarray:
    """HUGIN's conf(e) per case: the sum of log P(each answer | twitching), and of the
    diagnosis alone, minus log P(all of them | twitching) (``loglik``)."""
    single = _single_answers(model)
    total = np.zeros(len(cases))
    rows, s = cases.rows, model.structure
    if AGE_FINDING in single:
        total += np.where(rows.age >= 0, single[AGE_FINDING][np.maximum(rows.age, 0)], 0.0)
    for codes, names in ((rows.risk_factors, s.risk_factors), (rows.findings, s.findings)):
        for j, name in enumerate(names):
            if name in single:
                x = codes[:, j].astype(np.int64)
                total += np.where(x >= 0, single[name][np.maximum(x, 0)], 0.0)
    prior = model.cause_states([{}]).joint[0].sum(axis=0)
    for value in np.unique(cases.confirmed[cases.confirmed >= 0]):
        keep = _diagnosis_keep(np.array([value]), len(prior))[0]
        total[cases.confirmed == value] += math.log(max(float(prior[keep].sum()), 1e-300))
    return total - loglik


# ---------------------------------------------------------------- the fit
def _source_text(source: str, number: LearnedNumber, old: str) -> str:
    weight = "" if math.isnan(number.prior_weight) else f"; prior weight {number.prior_weight:.3g} cases"
    text = (
        f"learned from the case file {source}: {number.cases:.0f} cases informed it (MAP by EM, "
        f"the range is the 90% credible interval). Started from {number.before:g} (range "
        f"{number.prior_low:g} to {number.prior_high:g}{weight}); its source: {old}"
    )
    return " ".join(text.split())[:2000]


def _learned_priors(model: ToeTwitchModel, numbers: list[LearnedNumber], source: str) -> PriorsFile:
    data = priors_to_data(model.priors)
    old = {p.path: p.source for p in iter_parameters(model.priors)}
    for n in numbers:
        if n.cases < 1:
            continue
        node: Any = data
        for part in n.path.split("."):
            node = node[part]
        node.update(value=n.after, low=n.low, high=n.high, source=_source_text(source, n, old[n.path]))
    data["name"] = f"{model.priors.name} learned from {source}"[:200]
    data["description"] = (
        f"The priors {model.priors.name!r} after learning from the cases in {source} "
        f"(toe-twitch fit). {model.priors.description}"
    )[:5000]
    return validate_priors_data(data, f"<learned from {source}>")


def _usable(model: ToeTwitchModel, cases: Cases) -> tuple[Cases, _Columns, np.ndarray, list[CaseNote]]:
    """The first E-step over every case: the possible cases, their columns and weights,
    and the impossible ones as notes (an error if none is possible)."""
    columns = _Columns.of(model, cases)
    omega, loglik = _e_step(model, cases, columns)
    bad = np.flatnonzero(~np.isfinite(loglik))
    if len(bad) == len(cases):
        raise CaseFileError(cases.source, [Problem("", f"none of the {len(cases)} cases is "
                                                   "possible under the priors; nothing learned")])
    if not len(bad):
        return cases, columns, omega, []
    skipped = _skipped(model, cases, bad)
    cases = cases.subset(np.isfinite(loglik))
    return cases, _Columns.of(model, cases), omega, skipped


def fit(
    cases: Cases,
    model: ToeTwitchModel,
    *,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
    progress: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Learn the numbers from ``cases`` by MAP-EM, with ``model``'s priors as the prior.

    Parameters
    ----------
    cases
        From :func:`read_cases` or :func:`parse_cases`.
    model
        A model built from a priors file (the ranges are the prior).
    tolerance, max_iterations
        Stop when no learned number moves more than ``tolerance`` (log-odds; log for
        odds ratios), or after ``max_iterations``.
    progress
        Called after each iteration with (iteration, largest change).

    Returns
    -------
    FitResult
        The learned priors (a valid priors file), every learned number and the notes.
        Cases the priors make impossible are skipped and listed; if every case is, a
        :class:`CaseFileError` is raised.
    """
    model.require_priors("learning from cases")
    started = time.perf_counter()
    em = _EMMap(model, cases)
    x = em.vector(em.plan.start)
    estimates, current, change = em.step(x, first=True)
    converged = change < tolerance
    while not converged and em.steps < max_iterations:
        if progress is not None:
            progress(em.steps, change)
        x, estimates, current, change = em.squarem(x, estimates, tolerance)
        converged = change < tolerance
    if progress is not None:
        progress(em.steps, change)
    _, loglik = _e_step(current, em.cases, em.columns)  # every case, for the conflict measure
    return _result(model, em.plan, estimates, current, em.cases, loglik, em.skipped, em.trace,
                   em.steps, converged, time.perf_counter() - started)


class _EMMap:
    """One EM step as a map of the learned numbers (log-odds; log for odds ratios), and
    SQUAREM's extrapolation of it (Varadhan & Roland 2008, scheme S3): two EM steps give
    the direction ``r`` and the curvature ``v``, the step length is ``-|r| / |v|`` (at
    most -1), and one more EM step from the extrapolated point keeps it stable. The fixed
    point is EM's; it is reached in a fraction of the E-steps."""

    def __init__(self, model: ToeTwitchModel, cases: Cases):
        self.model, self.plan = model, _plan(model)
        k = len(model.causes)
        self.bits = ((np.arange(1 << k)[None, :] >> np.arange(k)[:, None]) & 1).astype(float)
        self.cases, self.columns, self._first, self.skipped = _usable(model, cases)
        latent = (self.cases.rows.age < 0) | (self.cases.confirmed < 0)
        shape = self._first.shape
        self._known = _known_weights(self.cases, self.columns, shape[1], shape[2])
        self._latent = self.cases.subset(latent)
        self._latent_columns = _Columns(self.columns.index, self.columns.indicators[latent])
        self.steps, self.trace = 0, []
        self._odds = np.array([self.plan.kinds[p] == "odds ratio" for p in self.plan.paths])
        self._edge = np.array([1e-12 if self.plan.kinds[p] == "prevalence" else _EDGE
                               for p in self.plan.paths])

    def vector(self, values: dict[str, float]) -> np.ndarray:
        x = np.array([values[p] for p in self.plan.paths])
        return np.where(self._odds, np.log(x), _logit(x))

    def values(self, x: np.ndarray) -> dict[str, float]:
        odds = np.exp(np.clip(x, -math.log(1e4), math.log(1e4)))
        p = np.clip(_expit(x), self._edge, 1 - self._edge)
        return dict(self.plan.start) | dict(zip(self.plan.paths, np.where(self._odds, odds, p).tolist(),
                                               strict=True))

    def step(self, x: np.ndarray, first: bool = False) -> tuple[dict[str, _Estimate], ToeTwitchModel, float]:
        """EM once from ``x``: the estimates, the model of ``x`` and the largest change."""
        values = self.values(x)
        if first:
            current, omega = self.model, self._first
        else:
            current = _model_for(self.model, self.plan, values)
            omega, partial = _e_step(current, self._latent, self._latent_columns)
            omega += self._known
            self.trace.append(float(partial.sum()))
        self.steps += 1
        estimates = _m_step(current, self.plan, values, omega, self.columns, self.bits)
        moved = self.vector({p: e.value for p, e in estimates.items()})
        return estimates, current, float(np.max(np.abs(moved - x), initial=0.0))

    def squarem(self, x0: np.ndarray, first: dict[str, _Estimate], tolerance: float) -> tuple:
        """One SQUAREM cycle from ``x0`` (whose EM step gave ``first``): the point reached,
        its EM step's estimates, its model and how far that step moved."""
        x1 = self.vector({p: e.value for p, e in first.items()})
        second, current, change = self.step(x1)
        x2 = self.vector({p: e.value for p, e in second.items()})
        r, v = x1 - x0, x2 - 2 * x1 + x0
        if change < tolerance or not np.any(v):
            return x1, second, current, change
        alpha = min(-1.0, -float(np.linalg.norm(r) / np.linalg.norm(v)))
        jump = x0 - 2 * alpha * r + alpha**2 * v
        try:
            third, current, change = self.step(jump)
        except ToeTwitchError:  # the jump left what the priors allow: take the plain step
            return x2, *self.step(x2)
        return jump, third, current, change


def _result(model: ToeTwitchModel, plan: _Plan, estimates: dict[str, _Estimate],
            current: ToeTwitchModel, cases: Cases, loglik: np.ndarray, skipped: list[CaseNote],
            trace: list[float], iterations: int, converged: bool, seconds: float) -> FitResult:
    refs = {p.path: p for p in model.structure.parameters}
    numbers = [
        LearnedNumber(p, plan.kinds[p], refs[p].value, refs[p].low, refs[p].high, e.value,
                      e.low, e.high, e.cases, e.weight, e.surprise)
        for p, e in estimates.items()
    ]
    order = {p: i for i, p in enumerate(plan.paths)}
    numbers.sort(key=lambda n: order[n.path])
    source = Path(cases.source).name[:100]
    conf = case_conflicts(current, cases, loglik)
    flagged = sorted(np.flatnonzero(conf > CONFLICT_THRESHOLD), key=lambda i: -conf[i])
    conflicting = [CaseNote(cases.numbers[i], cases.labels[i], conflict=float(conf[i])) for i in flagged]
    header = (
        f"Priors learned from the cases in {source} by toe-twitch fit (MAP by EM).",
        f"Started from: {model.priors.name}. {len(cases)} cases used, {len(skipped)} skipped; "
        f"{iterations} iterations ({'converged' if converged else 'stopped at the limit'}).",
        "Each learned number's range is its 90% credible interval; its source says how many",
        "cases informed it. Check it with: toe-twitch validate-priors FILE",
    )
    return FitResult(source, _learned_priors(model, numbers, source), tuple(numbers), iterations,
                     converged, len(cases), tuple(skipped), tuple(conflicting), tuple(trace),
                     seconds, header)


def write_learned(result: FitResult, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the learned priors file atomically (never over a file without ``overwrite``)."""
    write_atomic(path, result.yaml_text(), overwrite=overwrite)
    return Path(path)


def check_output(path: str | Path, *, overwrite: bool = False) -> None:
    """Refuse an output path before the fit runs (exists without ``overwrite``, a
    directory, a missing folder), so that a long fit never ends in a refusal."""
    check_target(path, overwrite=overwrite)


# ---------------------------------------------------------------- one call for the page
@dataclass(frozen=True)
class LearnOutcome:
    """A fit of an uploaded case file, with the vignette scores before and after (plain
    data, cheap to send back from a worker process). ``problems`` is non-empty (and
    ``result`` None) when the file could not be used."""

    source: str
    result: FitResult | None = None
    problems: tuple[str, ...] = ()
    scores_before: dict[str, Any] = field(default_factory=dict)
    scores_after: dict[str, Any] = field(default_factory=dict)


def learn_from_upload(priors: PriorsFile | None, data: bytes, name: str) -> LearnOutcome:
    """Check and fit an uploaded case file against ``priors`` (None: the shipped ones),
    and score the shipped vignettes with the priors before and after."""
    from toe_twitch.loading import load_model
    from toe_twitch.vignettes import evaluate, load_vignettes

    try:
        model = load_model() if priors is None else ToeTwitchModel.from_priors(priors, "priors in use")
        cases = parse_cases(data, name, model)
        result = fit(cases, model)
        learned = ToeTwitchModel.from_priors(result.priors, "learned priors")
        vignettes = load_vignettes()
    except InputFileError as exc:
        return LearnOutcome(name, problems=tuple(str(p) for p in exc.problems))
    except ToeTwitchError as exc:
        return LearnOutcome(name, problems=(str(exc),))
    before = evaluate(model, vignettes).summary
    after = evaluate(learned, vignettes).summary
    return LearnOutcome(name, result, (), dict(before), dict(after))


__all__ = [
    "CONFLICT_THRESHOLD", "MAX_CASE_FILE_BYTES", "MAX_ITERATIONS", "SURPRISE_P", "TOLERANCE",
    "BetaPrior", "CaseFileError", "CaseNote", "Cases", "FitResult", "LearnOutcome", "LearnedNumber",
    "beta_prior", "case_conflicts", "cases_csv", "check_output", "fit", "log_normal_sd",
    "learn_from_upload", "model_with", "moved_links", "parse_cases", "read_cases", "sample_cases", "write_learned",
]
