"""The EM steps of the fit: Beta priors from the experts' ranges, the exact E-step over
the cause states, and the closed-form M-step (derived in :mod:`toe_twitch.learning`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from toe_twitch.core import ToeTwitchModel
from toe_twitch.learning.cases import Cases
from toe_twitch.priors import (
    AGE_FINDING,
    AGE_STATES,
)

#: Stop when no learned number moves more than this on the log-odds (log) scale.
TOLERANCE = 1e-3
MAX_ITERATIONS = 100
#: A number is flagged when its data contradict its prior with two-sided p below this.
SURPRISE_P = 0.01
#: A case is flagged when conf(e) exceeds this: its answers are more than ten times less
#: likely together than each alone would suggest.
CONFLICT_THRESHOLD = math.log(10)
#: Cases per engine call in the E-step: each holds 4 x 4,096 numbers (64 MB a chunk),
#: and from 512 rows the engine runs on every core.
CHUNK_CASES = 512
_Z90 = float(stats.norm.ppf(0.95))
_EDGE = 1e-6  # learned probabilities stay this far from 0 and 1


@dataclass(frozen=True)
class BetaPrior:
    """The Beta prior of a probability: mode at the expert's value, the range as 90%."""

    alpha: float
    beta: float

    @property
    def weight(self) -> float:
        """The prior's weight in cases: ``alpha + beta - 2``."""
        return self.alpha + self.beta - 2


def _logit(p: np.ndarray | float) -> np.ndarray | float:
    p = np.clip(p, 1e-300, 1 - 1e-16)
    return np.log(p) - np.log1p(-p)


def _expit(x: np.ndarray | float) -> np.ndarray | float:
    return special.expit(x)


def beta_prior(value: float, low: float, high: float) -> BetaPrior:
    """The Beta with mode ``value`` whose 5% and 95% points best match ``low`` and
    ``high`` (least squares on the log-odds scale; an end at 0 or 1 is not matched).

    >>> p = beta_prior(0.2, 0.1, 0.35)
    >>> round(p.weight)
    25
    """
    ends = [(q, x) for q, x in ((0.05, low), (0.95, high)) if 0 < x < 1]
    if not ends or not 0 < value < 1:
        return BetaPrior(1.0, 1.0)

    def loss(log_weight: float) -> float:
        w = math.exp(log_weight)
        a, b = 1 + w * value, 1 + w * (1 - value)
        return sum((float(_logit(stats.beta.ppf(q, a, b))) - float(_logit(x))) ** 2 for q, x in ends)

    best = optimize.minimize_scalar(loss, bounds=(-4.0, 18.0), method="bounded",
                                    options={"xatol": 1e-3})
    w = math.exp(best.x)
    return BetaPrior(1 + w * value, 1 + w * (1 - value))


def log_normal_sd(low: float, high: float) -> float:
    """The sd of log(odds ratio) whose 90% interval spans ``low`` to ``high``."""
    return (math.log(high) - math.log(low)) / (2 * _Z90)


@dataclass(frozen=True)
class _Plan:
    """Which numbers are learned, their priors, and how to find them (built once)."""

    paths: tuple[str, ...]  # learned, in file order
    kinds: dict[str, str]  # path -> "link", "leak", "prevalence", "odds ratio"
    beta: dict[str, BetaPrior]
    log_sd: dict[str, float]
    start: dict[str, float]  # every parameter's starting value
    twitching: str


def _learned_kind(path: str, twitching: str) -> str | None:
    parts = path.split(".")
    if parts[0] == "findings" and parts[1] != twitching:
        return "leak" if parts[2] == "leak" else "link"
    if parts[0] == "causes":
        return "prevalence" if parts[2] == "prevalence" else "odds ratio"
    return None


def _plan(model: ToeTwitchModel) -> _Plan:
    twitching = next(iter(model.vocabulary.implicit_evidence))
    paths, kinds, beta, log_sd, start = [], {}, {}, {}, {}
    for p in model.structure.parameters:
        start[p.path] = p.value
        kind = _learned_kind(p.path, twitching)
        if kind is None or p.low == p.high:
            continue
        if kind == "odds ratio":
            log_sd[p.path] = log_normal_sd(p.low, p.high)
        elif 0 < p.value < 1:
            beta[p.path] = beta_prior(p.value, p.low, p.high)
        else:
            continue  # a probability of exactly 0 or 1 is a definition
        paths.append(p.path)
        kinds[p.path] = kind
    return _Plan(tuple(paths), kinds, beta, log_sd, start, twitching)


def _path(values: dict[str, float], base: str, age: str) -> str | None:
    """The path of a number given once (``base``) or per age group (``base.age``)."""
    if base in values:
        return base
    by_age = f"{base}.{age}"
    return by_age if by_age in values else None


# ---------------------------------------------------------------- the E-step
@dataclass(frozen=True)
class _Columns:
    """One column per answer (finding or risk factor, state) and one for every case."""

    index: dict[tuple[str, int], int]
    indicators: np.ndarray  # (n, C)

    @staticmethod
    def of(model: ToeTwitchModel, cases: Cases) -> _Columns:
        index: dict[tuple[str, int], int] = {("", 0): 0}
        parts = [np.ones((len(cases), 1))]
        structure = model.structure
        for codes, names in ((cases.rows.findings, structure.findings),
                             (cases.rows.risk_factors, structure.risk_factors)):
            for j, name in enumerate(names):
                for x in (0, 1):
                    index[(name, x)] = len(index)
                    parts.append((codes[:, j] == x).astype(float)[:, None])
        return _Columns(index, np.hstack(parts).astype(np.float32))


def _diagnosis_keep(confirmed: np.ndarray, n_states: int) -> np.ndarray:
    """``(n, S)``: the cause states each case's diagnosis allows (a diagnosis is the
    workup's whole finding: the causes it lists present, every other absent)."""
    states = np.arange(n_states, dtype=np.int64)[None, :]
    c = confirmed[:, None]
    return (c < 0) | (states == c)


def _known_weights(cases: Cases, columns: _Columns, n_ages: int, n_states: int) -> np.ndarray:
    """The E-step weights of cases whose age and diagnosis are both known: their whole
    posterior is that one (age, cause state), whatever the numbers (``(C, A, S)``)."""
    omega = np.zeros((columns.indicators.shape[1], n_ages, n_states))
    for i in np.flatnonzero((cases.rows.age >= 0) & (cases.confirmed >= 0)):
        omega[:, cases.rows.age[i], cases.confirmed[i]] += columns.indicators[i]
    return omega


def _accumulate(omega: np.ndarray, indicators: np.ndarray, joint: np.ndarray, age: np.ndarray) -> None:
    """``omega += indicators.T @ joint``, using only the age slice of a known age (in
    single precision: these are sums of probabilities, 7 digits are plenty)."""
    known = np.flatnonzero(age >= 0)
    if len(known):
        sliced = joint[known, age[known], :].astype(np.float32)  # (m, S)
        for a in range(omega.shape[1]):
            rows = np.flatnonzero(age[known] == a)
            if len(rows):
                omega[:, a, :] += indicators[known[rows]].T @ sliced[rows]
    unknown = np.flatnonzero(age < 0)
    if len(unknown):
        flat = joint[unknown].reshape(len(unknown), -1).astype(np.float32)
        omega += (indicators[unknown].T @ flat).reshape(omega.shape)


def _e_step(model: ToeTwitchModel, cases: Cases, columns: _Columns) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(C, A, S)``: sum over cases of P(age, cause state | case) per answer
    column; and log P(case | twitching) per case (``-inf`` if impossible)."""
    n_ages, n_states = model.engine.n_ages, model.engine.n_states
    omega = np.zeros((columns.indicators.shape[1], n_ages, n_states))
    loglik = np.empty(len(cases))
    base = float(model.query([{}]).log_evidence[0])
    for start in range(0, len(cases), CHUNK_CASES):
        span = slice(start, start + CHUNK_CASES)
        rows = cases.rows.rows(span)
        post = model.cause_states(rows)
        joint, confirmed = post.joint, cases.confirmed[span]
        for i in np.flatnonzero(confirmed >= 0):  # the diagnosis: one cause state
            kept = joint[i, :, confirmed[i]].copy()
            joint[i] = 0.0
            joint[i, :, confirmed[i]] = kept
        mass = joint.sum(axis=(1, 2))
        ok = (mass > 0) & np.isfinite(post.log_evidence)
        with np.errstate(divide="ignore"):
            loglik[span] = np.where(ok, post.log_evidence - base + np.log(mass), -np.inf)
        joint /= np.where(ok, mass, 1.0)[:, None, None]
        if not ok.all():
            joint[~ok] = 0.0
        _accumulate(omega, columns.indicators[span], joint, rows.age)
    return omega, loglik


# ---------------------------------------------------------------- the M-step
def _add(counts: dict[str, list[float]], path: str | None, m: float, n: float) -> None:
    if path is not None:
        total = counts.setdefault(path, [0.0, 0.0])
        total[0] += float(m)
        total[1] += float(n)


def _safe_ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)


def _absent_product(factors: Sequence[float], bits: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """``prod over parents i present in state s of factors[i]``, over all states ``s``."""
    out = np.ones(bits.shape[1])
    for factor, j in zip(factors, parents, strict=True):
        out *= np.where(bits[j], factor, 1.0)
    return out


def _finding_counts(model: ToeTwitchModel, values: dict[str, float], omega: np.ndarray,
                    columns: _Columns, bits: np.ndarray, twitching: str) -> dict[str, list[float]]:
    """``[m, n]`` per link and leak of the ordinary (noisy-OR) findings."""
    s = model.structure
    counts: dict[str, list[float]] = {}
    for f in s.findings:
        if f == twitching or f in s.property_of:
            continue
        w0, w1 = omega[columns.index[(f, 0)]], omega[columns.index[(f, 1)]]
        parents = [model.causes.index(c) for c in s.finding_parents[f]]
        for a, age in enumerate(AGE_STATES[: omega.shape[1]]):
            link_paths = [_path(values, f"findings.{f}.links.{c}", age) for c in s.finding_parents[f]]
            links = [values[p] for p in link_paths]
            leak_path = _path(values, f"findings.{f}.leak", age)
            leak = values[leak_path]
            absent = (1 - leak) * _absent_product([1 - x for x in links], bits, parents)
            ratio = _safe_ratio(w1[a], 1 - absent)
            total = w0[a] + w1[a]
            for p, link, j in zip(link_paths, links, parents, strict=True):
                _add(counts, p, link * (ratio @ bits[j]), total @ bits[j])
            _add(counts, leak_path, leak * ratio.sum(), total.sum())
    return counts


def _property_counts(model: ToeTwitchModel, values: dict[str, float], omega: np.ndarray,
                     columns: _Columns, bits: np.ndarray, counts: dict[str, list[float]]) -> None:
    """``[m, n]`` per link and leak of the properties of the twitching, in their own
    definition: ``n`` = expected cases in which the cause made the twitching, ``m`` = in
    which it made it with the property (a cause without its own link adds to the leak)."""
    s = model.structure
    always = np.ones(bits.shape[1], dtype=bool)
    for f, twitching in s.property_of.items():
        w0, w1 = omega[columns.index[(f, 0)]], omega[columns.index[(f, 1)]]
        causes = s.finding_parents[twitching]
        parents = [model.causes.index(c) for c in causes]
        for a, age in enumerate(AGE_STATES[: omega.shape[1]]):
            t = [values[_path(values, f"findings.{twitching}.links.{c}", age)] for c in causes]
            t0 = values[_path(values, f"findings.{twitching}.leak", age)]
            leak_path = _path(values, f"findings.{f}.leak", age)
            own = [_path(values, f"findings.{f}.links.{c}", age) or leak_path for c in causes]
            r = [values[p] for p in own]
            q = (1 - t0 * values[leak_path]) * _absent_product(
                [1 - ti * ri for ti, ri in zip(t, r, strict=True)], bits, parents)
            tw = (1 - t0) * _absent_product([1 - ti for ti in t], bits, parents)
            g1 = _safe_ratio(w1[a], 1 - q)
            g1q = _safe_ratio(w1[a] * q, 1 - q)
            g0 = _safe_ratio(w0[a] * q, q - tw)
            sources = [(p, ti, ri, bits[j]) for p, ti, ri, j in zip(own, t, r, parents, strict=True)]
            sources.append((leak_path, t0, values[leak_path], always))
            for p, ti, ri, b in sources:
                u = ti * ri
                coef = ti * (1 - ri) / (1 - u) if u < 1 else 0.0
                made = ti * (g1 @ b) - coef * (g1q @ b) + coef * (g0 @ b)
                _add(counts, p, u * (g1 @ b), made)


@dataclass(frozen=True)
class _Estimate:
    """One learned number after an M-step, with what the report needs."""

    value: float
    low: float
    high: float
    cases: float
    surprise: float  # two-sided prior-predictive p-value
    weight: float  # the prior's weight in cases (nan for an odds ratio)


def _p_two_sided(z: float) -> float:
    return float(2 * stats.norm.sf(abs(z)))


def _beta_estimate(prior: BetaPrior, m: float, n: float) -> _Estimate:
    m = min(max(m, 0.0), n)
    value = float(np.clip((m + prior.alpha - 1) / (n + prior.weight), _EDGE, 1 - _EDGE))
    a, b = prior.alpha + m, prior.beta + n - m
    low, high = (float(x) for x in stats.beta.ppf([0.05, 0.95], a, b))
    trials, hits = round(n), min(round(m), round(n))
    below = float(stats.betabinom.cdf(hits, trials, prior.alpha, prior.beta))
    above = float(stats.betabinom.sf(hits - 1, trials, prior.alpha, prior.beta))
    surprise = min(1.0, 2 * min(below, above))
    return _Estimate(value, min(low, value), max(high, value), n, surprise, prior.weight)


def _prevalence_surprise(prior: BetaPrior, x: float, n: float, shift: float) -> float:
    """Two-sided prior-predictive p-value of ``x`` of ``n`` cases having the cause: the
    prevalence drawn from its Beta prior, the cases' rate shifted by ``shift`` in log-odds
    (2,000 draws with a fixed seed, so a fit is repeatable)."""
    draws = stats.beta.rvs(prior.alpha, prior.beta, size=2000, random_state=np.random.default_rng(23))
    rate = _expit(_logit(draws) + shift)
    trials, hits = round(n), min(round(x), round(n))
    below = float(np.mean(stats.binom.cdf(hits, trials, rate)))
    above = float(np.mean(stats.binom.sf(hits - 1, trials, rate)))
    return min(1.0, 2 * min(below, above))


def _prevalence_estimate(prior: BetaPrior, x: float, n: float, shift: float, start: float) -> _Estimate:
    """MAP of a prevalence whose cases see it with log-odds shifted by ``shift``:
    Newton's method on the (concave) log posterior in the log-odds ``eta``."""
    eta = float(_logit(start))
    for _ in range(50):
        pi, q = _expit(eta), _expit(eta + shift)
        gradient = x - n * q + (prior.alpha - 1) - prior.weight * pi
        curvature = n * q * (1 - q) + prior.weight * pi * (1 - pi)
        step = gradient / max(curvature, 1e-300)
        eta += float(np.clip(step, -2.0, 2.0))
        if abs(step) < 1e-10:
            break
    pi, q = _expit(eta), _expit(eta + shift)
    sd = 1 / math.sqrt(max(n * q * (1 - q) + prior.weight * pi * (1 - pi), 1e-300))
    lo_hi = _expit(np.array([eta - _Z90 * sd, eta + _Z90 * sd]))
    surprise = _prevalence_surprise(prior, x, n, shift)
    value = float(np.clip(pi, 1e-12, 1 - 1e-12))
    low = float(np.clip(min(lo_hi[0], value), 1e-12, 1 - 1e-12))
    high = float(np.clip(max(lo_hi[1], value), 1e-12, 1 - 1e-12))
    return _Estimate(value, low, high, n, surprise, prior.weight)


def _odds_ratio_estimate(prior_value: float, sd0: float, current: float,
                         data: np.ndarray, predicted: np.ndarray) -> _Estimate:
    """``data[a]`` = the cases' 2x2 table in age group ``a`` ((rf absent, present) x
    (cause absent, present)); ``predicted[a]`` = the current model's log odds ratio among
    the same cases. Returns the normal-normal posterior of the log odds ratio."""
    cells = data + 0.5
    log_or = np.log(cells[:, 1, 1] * cells[:, 0, 0] / (cells[:, 1, 0] * cells[:, 0, 1]))
    weight = 1 / (1 / cells).sum(axis=(1, 2))
    used = data.sum(axis=(1, 2)) >= 1
    n = float(data.sum())
    mu0 = math.log(prior_value)
    if not used.any():  # no age group with a whole case behind it: nothing learned
        return _Estimate(current, current, current, 0.0, 1.0, float("nan"))
    w = weight[used]
    shift = float(np.sum(w * (log_or[used] - predicted[used])) / w.sum())
    var = 1 / float(w.sum())
    estimate = math.log(current) + shift
    precision = 1 / sd0**2 + 1 / var
    mean = (mu0 / sd0**2 + estimate / var) / precision
    bound = math.log(1e4)
    mean = float(np.clip(mean, -bound, bound))
    half = _Z90 / math.sqrt(precision)
    surprise = _p_two_sided((estimate - mu0) / math.sqrt(sd0**2 + var))
    return _Estimate(math.exp(mean), math.exp(max(mean - half, -bound)),
                     math.exp(min(mean + half, bound)), n, surprise, float("nan"))


def _cause_estimates(model: ToeTwitchModel, plan: _Plan, values: dict[str, float],
                     omega: np.ndarray, columns: _Columns, bits: np.ndarray) -> dict[str, _Estimate]:
    """Prevalences and odds ratios (see the module docstring)."""
    ages = AGE_STATES[: omega.shape[1]]
    learned_or = [p for p in plan.paths if plan.kinds[p] == "odds ratio"]
    rfs = [rf for rf in model.structure.risk_factors if any(p.endswith(f".{rf}") for p in learned_or)]
    rows = [{AGE_FINDING: a} for a in ages]
    rows += [{AGE_FINDING: a, rf: state} for a in ages for rf in rfs for state in model.states[rf]]
    marginals = model.query(rows, impossible="mark").marginals
    everyone = omega[columns.index[("", 0)]]  # (A, S)
    n_age, present = everyone.sum(axis=1), everyone @ bits.T  # (A,), (A, K)
    out: dict[str, _Estimate] = {}
    for path in plan.paths:
        kind = plan.kinds[path]
        if kind == "prevalence":
            _, cause, _, age = path.split(".")
            a, j = ages.index(age), model.causes.index(cause)
            shift = float(_logit(marginals[a, j]) - _logit(values[path]))
            out[path] = _prevalence_estimate(plan.beta[path], present[a, j], n_age[a], shift, values[path])
        elif kind == "odds ratio":
            _, cause, _, rf = path.split(".")
            j, i = model.causes.index(cause), rfs.index(rf)
            data = np.zeros((len(ages), 2, 2))
            predicted = np.zeros(len(ages))
            for a in range(len(ages)):
                for x in (0, 1):
                    w = omega[columns.index[(rf, x)], a]
                    data[a, x, 1] = w @ bits[j]
                    data[a, x, 0] = w.sum() - data[a, x, 1]
                first = len(ages) + 2 * (a * len(rfs) + i)
                p0, p1 = marginals[first, j], marginals[first + 1, j]
                predicted[a] = float(_logit(p1) - _logit(p0))
            out[path] = _odds_ratio_estimate(plan.start[path], plan.log_sd[path], values[path],
                                             data, predicted)
    return out


def _m_step(model: ToeTwitchModel, plan: _Plan, values: dict[str, float], omega: np.ndarray,
            columns: _Columns, bits: np.ndarray) -> dict[str, _Estimate]:
    counts = _finding_counts(model, values, omega, columns, bits, plan.twitching)
    _property_counts(model, values, omega, columns, bits, counts)
    out = {
        p: _beta_estimate(plan.beta[p], *counts.get(p, (0.0, 0.0)))
        for p in plan.paths
        if plan.kinds[p] in ("link", "leak")
    }
    out.update(_cause_estimates(model, plan, values, omega, columns, bits))
    return out


def _distance(kind: str, before: float, after: float) -> float:
    """How far a number moved: on the log scale for an odds ratio, log-odds otherwise."""
    if kind == "odds ratio":
        return abs(math.log(after) - math.log(before))
    return abs(float(_logit(after) - _logit(before)))


def _model_for(model: ToeTwitchModel, plan: _Plan, values: dict[str, float]) -> ToeTwitchModel:
    """The model with the learned numbers in place (the tables built directly)."""
    from toe_twitch.network import build_tables

    structure = model.structure
    theta = structure.values()
    for p in plan.paths:
        theta[structure.index[p]] = values[p]
    return ToeTwitchModel(
        structure, build_tables(structure, theta, model.source), priors=model.priors,
        source=model.source, thresholds=model.thresholds,
        thresholds_source=model.thresholds_source, compiled=model.engine.compiled,
    )
