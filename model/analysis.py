"""Reasoning tools: explanation, what-if, next best question, sensitivity, uncertainty.

Each tool is exact (it runs the exact engine, never a sampler, except that
:func:`uncertainty` samples the *parameters*) and batched: one engine call per tool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, stats

from model.errors import ToeTwitchError
from model.network import build_tables
from model.urgency import RANK

if TYPE_CHECKING:
    from model.core import ToeTwitchModel


def _log_odds(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-300, 1 - 1e-16)
    return np.log(p) - np.log1p(-p)


def binary_entropy_bits(p: np.ndarray) -> np.ndarray:
    """Entropy in bits of a yes/no variable with P(yes) = p (elementwise; 0 log 0 = 0)."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.nan_to_num(h, nan=0.0)


# ---------------------------------------------------------------------- explanation
@dataclass(frozen=True)
class Contribution:
    """What one observed finding does to one cause.

    ``likelihood_ratio`` = P(finding | cause present, other evidence) /
    P(finding | cause absent, other evidence); ``weight`` is its natural log (the weight of
    evidence: positive supports the cause). ``sequential_weight`` is the exact chain-rule
    share: the findings added one at a time in the order listed, so these add up to the
    posterior minus the prior log-odds.
    """

    finding: str
    state: str
    likelihood_ratio: float
    weight: float
    sequential_weight: float


@dataclass(frozen=True)
class Explanation:
    cause: str
    prior: float
    posterior: float
    prior_odds: float
    posterior_odds: float
    supporting: list[Contribution]
    opposing: list[Contribution]

    @property
    def contributions(self) -> list[Contribution]:
        return sorted(self.supporting + self.opposing, key=lambda c: -abs(c.weight))

    @property
    def log_odds_change(self) -> float:
        return math.log(self.posterior_odds) - math.log(self.prior_odds)


def explain(model: ToeTwitchModel, evidence: dict[str, str], cause: str) -> Explanation:
    """Why ``cause`` has its probability: each observed finding's weight of evidence.

    The leave-one-out likelihood ratio of a finding is the ratio of the cause's posterior
    odds with all the evidence to its posterior odds with that one finding removed (Bayes'
    rule makes this equal to P(f | cause, rest) / P(f | no cause, rest)). Those weights do
    not add up exactly when findings interact through other causes, so each contribution
    also carries its exact sequential (chain-rule) weight: findings are added one at a
    time, strongest first; the sequential weights sum exactly to the change in log-odds.
    """
    model.check_cause(cause)
    evidence = model.check_evidence(evidence)
    observed = list(evidence)
    k = model.causes.index(cause)
    leave_one_out = [{f: s for f, s in evidence.items() if f != g} for g in observed]
    rows = model.posterior_batch([evidence, *leave_one_out, {}])[:, k]
    full, without, prior = rows[0], rows[1:-1], rows[-1]
    weights = _log_odds(full) - _log_odds(without)
    order = sorted(range(len(observed)), key=lambda i: -abs(weights[i]))
    prefixes = [{observed[j]: evidence[observed[j]] for j in order[: i + 1]} for i in range(len(order))]
    chain = model.posterior_batch(prefixes)[:, k] if prefixes else np.zeros(0)
    chain_log_odds = np.concatenate([[_log_odds(prior)], _log_odds(chain)])
    sequential = np.diff(chain_log_odds)
    contributions = []
    for rank, i in enumerate(order):
        contributions.append(
            Contribution(
                finding=observed[i],
                state=evidence[observed[i]],
                likelihood_ratio=float(np.exp(weights[i])),
                weight=float(weights[i]),
                sequential_weight=float(sequential[rank]),
            )
        )
    return Explanation(
        cause=cause,
        prior=float(prior),
        posterior=float(full),
        prior_odds=float(prior / (1 - prior)),
        posterior_odds=float(full / (1 - full)) if full < 1 else math.inf,
        supporting=[c for c in contributions if c.weight > 0],
        opposing=[c for c in contributions if c.weight <= 0],
    )


# ---------------------------------------------------------------------- look-ahead
@dataclass(frozen=True)
class LookAhead:
    """Posteriors now and after each possible answer to each unanswered finding.

    ``options[i] = (finding, state)``; ``posteriors[i]`` is P(causes | evidence + answer);
    ``predictive[finding][state]`` is P(answer | evidence).
    """

    current: np.ndarray
    options: list[tuple[str, str]]
    posteriors: np.ndarray
    predictive: dict[str, dict[str, float]]


def unanswered(model: ToeTwitchModel, evidence: dict[str, str]) -> list[str]:
    return [f for f in model.findings if f not in evidence]


def look_ahead(model: ToeTwitchModel, evidence: dict[str, str]) -> LookAhead:
    """One engine call for every one-answer extension of the evidence.

    Findings that are leaves of the network and noisy-OR (every symptom and red flag):
    answering "absent" is soft evidence on the causes, so those rows share the current
    evidence's compiled tree; the "present" answer follows exactly by subtraction,
    P(c | e, f) = (P(c | e) - r P(c | e, not f)) / (1 - r) with r = P(not f | e), and the
    predictive P(not f | e) = P(e, not f) / P(e) comes from the engine's log-evidence.
    Other findings (age, risk factors) are answered directly in the same batch.
    """
    evidence = model.check_evidence(evidence)
    candidates = unanswered(model, evidence)
    engine = model.engine
    split = [f for f in candidates if f in engine.separable and len(model.states[f]) == 2
             and list(engine.separable[f]) == [0]]
    direct = [(f, s) for f in candidates if f not in split for s in model.states[f]]
    rows = [evidence] + [{**evidence, f: "absent"} for f in split] + [{**evidence, f: s} for f, s in direct]
    result = engine.query(model.encode(rows), model.causes)
    if result.impossible[0]:
        model.posterior_indices(model.encode([evidence]))  # raises the clear error
    post = np.stack([result.marginals[c][:, 1] for c in model.causes], axis=1)
    current = post[0]
    options: list[tuple[str, str]] = []
    posteriors: list[np.ndarray] = []
    predictive: dict[str, dict[str, float]] = {}
    fallback: list[int] = []
    for i, f in enumerate(split, start=1):
        r = float(np.exp(result.log_evidence[i] - result.log_evidence[0]))
        predictive[f] = {"absent": r, "present": 1.0 - r}
        options += [(f, "absent"), (f, "present")]
        posteriors.append(post[i])
        if 1.0 - r > 1e-6:
            posteriors.append(np.clip((current - r * post[i]) / (1.0 - r), 0.0, 1.0))
        else:  # too rare for the subtraction to keep 1e-9 accuracy: compute it directly
            posteriors.append(current)
            fallback.append(len(posteriors) - 1)
    offset = 1 + len(split)
    for j, (f, s) in enumerate(direct):
        options.append((f, s))
        posteriors.append(post[offset + j])
    if direct:
        for f in dict.fromkeys(f for f, _ in direct):
            states = model.states[f]
            joint = np.array([
                np.exp(result.log_evidence[offset + direct.index((f, s))] - result.log_evidence[0])
                for s in states
            ])
            predictive[f] = {s: float(p) for s, p in zip(states, joint / joint.sum(), strict=True)}
    posteriors_array = np.array(posteriors).reshape(len(options), len(model.causes))
    if fallback:
        again = model.posterior_batch([{**evidence, options[i][0]: options[i][1]} for i in fallback])
        posteriors_array[fallback] = again
    return LookAhead(current, options, posteriors_array, predictive)


# ---------------------------------------------------------------------- what-if
@dataclass(frozen=True)
class WhatIf:
    """The differential if one unanswered finding were answered with ``state``."""

    finding: str
    state: str
    ranking: list[tuple[str, float]]
    urgency: str
    biggest_change: tuple[str, float]  # (cause, change in probability)


def what_if(model: ToeTwitchModel, evidence: dict[str, str]) -> list[WhatIf]:
    """Every unanswered finding in every state: new ranking, urgency and biggest mover.

    Computed from one :func:`look_ahead` batch.
    """
    evidence = model.check_evidence(evidence)
    ahead = look_ahead(model, evidence)
    diagnoses = model.diagnoses_from_posteriors(
        [{**evidence, f: s} for f, s in ahead.options], ahead.posteriors
    )
    results = []
    for (f, s), d, row in zip(ahead.options, diagnoses, ahead.posteriors, strict=True):
        change = row - ahead.current
        k = int(np.argmax(np.abs(change)))
        results.append(WhatIf(f, s, d.ranking, d.urgency, (model.causes[k], float(change[k]))))
    return results


# ---------------------------------------------------------------------- next question
@dataclass(frozen=True)
class Question:
    """An unanswered finding worth asking, by expected information gain."""

    finding: str
    label: str
    gain_bits: float
    predictive: dict[str, float]
    reason: str
    red_flag: bool = False


def next_questions(
    model: ToeTwitchModel,
    evidence: dict[str, str],
    k: int = 5,
    ahead: LookAhead | None = None,
) -> list[Question]:
    """Rank unanswered findings by expected information gain about the causes.

    Uncertainty is the sum over causes of the binary entropy (bits) of P(cause | evidence);
    the gain of a finding is the current uncertainty minus its expectation over the
    finding's predictive distribution P(finding | evidence). While the differential points
    to self care and red flags are unanswered, the unanswered red flags come first: self
    care is never declared before they are checked. Pass ``ahead`` to reuse a
    :func:`look_ahead` already computed for the same evidence.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ToeTwitchError(f"k must be a positive whole number, got {k!r}")
    evidence = model.check_evidence(evidence)
    ahead = ahead or look_ahead(model, evidence)
    if not ahead.options:
        return []
    h_now = binary_entropy_bits(ahead.current).sum()
    by_finding: dict[str, list[int]] = {}
    for i, (f, _) in enumerate(ahead.options):
        by_finding.setdefault(f, []).append(i)
    questions = []
    for f, indices in by_finding.items():
        block = ahead.posteriors[indices]
        p = np.array([ahead.predictive[f][ahead.options[i][1]] for i in indices])
        gain = float(h_now - (p * binary_entropy_bits(block).sum(axis=1)).sum())
        questions.append(
            Question(
                finding=f,
                label=model.vocabulary.findings[f].label,
                gain_bits=max(gain, 0.0),
                predictive=dict(ahead.predictive[f]),
                reason=_separation_reason(model, ahead.current, block),
                red_flag=model.vocabulary.findings[f].red_flag,
            )
        )
    questions.sort(key=lambda q: -q.gain_bits)
    level = model.diagnoses_from_posteriors([evidence], ahead.current[None, :])[0].urgency
    if level == "self_care":
        flags = [q for q in questions if q.red_flag]
        return flags + [q for q in questions if not q.red_flag][:k]
    return questions[:k]


def _separation_reason(model, current, block) -> str:
    names = {c: model.vocabulary.causes[c].label.split(" (")[0] for c in model.causes}
    change = block - current  # (states, causes)
    up = [int(np.argmax(change[s])) for s in range(len(block))]
    if len(block) >= 2 and up[0] != up[-1] and change[0, up[0]] > 0 and change[-1, up[-1]] > 0:
        a, b = model.causes[up[-1]], model.causes[up[0]]
        return f"separates {names[a]} from {names[b]}"
    mover = int(np.argmax(np.abs(change).max(axis=0)))
    return f"moves {names[model.causes[mover]]} the most (by up to {np.abs(change[:, mover]).max():.0%})"


# ---------------------------------------------------------------------- sensitivity
@dataclass(frozen=True)
class ParameterSwing:
    """The cause's posterior with one parameter at the low and high end of its range."""

    path: str
    value: float
    low: float
    high: float
    posterior_low: float
    posterior_high: float

    @property
    def swing(self) -> float:
        return abs(self.posterior_high - self.posterior_low)


@dataclass(frozen=True)
class Sensitivity:
    cause: str
    posterior: float
    swings: list[ParameterSwing] = field(default_factory=list)


def _range_ends(model: ToeTwitchModel) -> tuple[np.ndarray, list[str]]:
    """Parameter vectors with one parameter at its low, then high end: shape (2P, P)."""
    structure = model.structure
    base = structure.values()
    low, high = structure.ranges()
    n = len(base)
    theta = np.tile(base, (2 * n, 1))
    theta[np.arange(n), np.arange(n)] = low
    theta[n + np.arange(n), np.arange(n)] = high
    return theta, [p.path for p in structure.parameters]


def _posteriors_per_model(
    model: ToeTwitchModel, columns: dict[str, np.ndarray], tables: dict[str, np.ndarray]
) -> np.ndarray:
    """Posteriors of one evidence row under each row's model (``tables`` has one row per model).

    A one-parameter change touches few tables, so rows are grouped by the set of tables
    that differ (exactly) from the model's own; each group passes only those per-row
    tables and the engine keeps its compiled ones for the rest. Same answer as passing
    every table, far less work.
    """
    n = next(iter(tables.values())).shape[0]
    changed = {
        v: ~np.all((t == model.tables[v]).reshape(n, -1), axis=1) for v, t in tables.items()
    }
    variables = list(changed)
    mask = np.stack([changed[v] for v in variables], axis=1)
    patterns, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    out = np.empty((n, len(model.causes)))
    for g, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse == g)
        group_tables = {v: tables[v][rows] for v, k in zip(variables, pattern, strict=True) if k}
        group_columns = {v: np.repeat(c, len(rows)) for v, c in columns.items()}
        if not group_tables:
            out[rows] = model.posterior_indices(columns)[0]
            continue
        out[rows] = model.posterior_indices(group_columns, tables=group_tables)
    return out


def sensitivity(model: ToeTwitchModel, evidence: dict[str, str], cause: str) -> Sensitivity:
    """Tornado data: the cause's posterior at each parameter's range ends, largest swing first.

    Each parameter moves alone (the others held at their values); the 2P models run as
    batches with per-row tables, grouped by the tables a parameter changes.
    """
    model.check_cause(cause)
    columns = model.encode([model.check_evidence(evidence)])
    theta, paths = _range_ends(model)
    posteriors = _posteriors_per_model(model, columns, build_tables(model.structure, theta))
    k = model.causes.index(cause)
    n = len(paths)
    swings = [
        ParameterSwing(
            path=paths[i],
            value=p.value,
            low=p.low,
            high=p.high,
            posterior_low=float(posteriors[i, k]),
            posterior_high=float(posteriors[n + i, k]),
        )
        for i, p in enumerate(model.structure.parameters)
    ]
    swings.sort(key=lambda s: -s.swing)
    return Sensitivity(cause=cause, posterior=float(model.posterior(evidence)[cause]), swings=swings)


@dataclass(frozen=True)
class VignetteFlip:
    """A vignette whose first cause or urgency changes with one parameter at a range end."""

    path: str
    end: str  # "low" or "high"
    vignette: str
    top1_before: str
    top1_after: str
    urgency_before: str
    urgency_after: str


def vignette_sensitivity(model: ToeTwitchModel, vignettes) -> list[VignetteFlip]:
    """Which vignettes change first cause or urgency when any parameter moves to a range end.

    Each vignette runs with all 2P one-parameter-moved models as per-row tables, grouped
    by the tables each parameter changes.
    Urgency here is the rule level raised by the (possibly moved) thresholds, on the
    evidence as given.
    """
    from model.urgency import rule_level

    theta, paths = _range_ends(model)
    n = len(paths)
    all_theta = np.vstack([model.structure.values(), theta])
    tables = build_tables(model.structure, all_theta)
    index = model.structure.index
    threshold_columns = np.array(
        [index[f"urgency.serious_cause_threshold.{c}"] for c in model.thresholds], dtype=int
    )
    serious = np.array([model.causes.index(c) for c in model.thresholds], dtype=int)
    flips = []
    for vignette in vignettes:
        evidence = model.check_evidence(dict(vignette.findings))
        posteriors = _posteriors_per_model(model, model.encode([evidence]), tables)
        rule, _ = rule_level(evidence, model.vocabulary)
        passes = (posteriors[:, serious] >= all_theta[:, threshold_columns]).any(axis=1)
        levels = [
            rule if rule == "emergency" or not p else max(rule, "see_doctor", key=RANK.__getitem__)
            for p in passes
        ]
        tops = [model.causes[int(k)] for k in np.argmax(posteriors, axis=1)]
        for row in range(1, 2 * n + 1):
            if (tops[row], levels[row]) != (tops[0], levels[0]):
                flips.append(
                    VignetteFlip(
                        path=paths[(row - 1) % n],
                        end="low" if row <= n else "high",
                        vignette=vignette.id,
                        top1_before=tops[0],
                        top1_after=tops[row],
                        urgency_before=levels[0],
                        urgency_after=levels[row],
                    )
                )
    return flips


# ---------------------------------------------------------------------- uncertainty
@dataclass(frozen=True)
class CauseUncertainty:
    cause: str
    median: float
    low: float  # 5th percentile
    high: float  # 95th percentile
    first_rank_share: float


@dataclass(frozen=True)
class Uncertainty:
    draws: int
    seed: int
    causes: list[CauseUncertainty]
    samples: np.ndarray  # (draws, causes): P(cause present | evidence) per draw


@cache
def _beta_concentration(value: float, low: float, high: float) -> float:
    """Concentration k of Beta(1 + k m, 1 + k (1 - m)) (mode m) whose 5-95% best fits the range."""
    if high - low <= 1e-12:
        return math.inf

    def loss(log_k: float) -> float:
        k = math.exp(log_k)
        a, b = 1 + k * value, 1 + k * (1 - value)
        below, inside = stats.beta.cdf([low, high], a, b)
        return (below - 0.05) ** 2 + (inside - 0.95) ** 2

    # A coarse grid first (the loss is flat far from the optimum), then a bounded refinement.
    grid = np.linspace(-2.0, 25.0, 136)
    best = grid[int(np.argmin([loss(g) for g in grid]))]
    step = grid[1] - grid[0]
    refined = optimize.minimize_scalar(loss, bounds=(best - step, best + step), method="bounded")
    return math.exp(refined.x)


def sample_parameters(model: ToeTwitchModel, draws: int, seed: int) -> np.ndarray:
    """Draw parameter vectors, shape ``(draws, P)``.

    Probabilities: a Beta whose mode is the value and whose central 90% interval best
    matches [low, high]. Odds ratios: a log-normal with median at the value and its 90%
    interval spanning [low, high] on the log scale. A parameter with low == high is fixed.
    """
    rng = np.random.default_rng(seed)
    theta = np.empty((draws, len(model.structure.parameters)))
    for i, p in enumerate(model.structure.parameters):
        if p.kind == "odds ratio":
            if p.high <= p.low:
                theta[:, i] = p.value
                continue
            sigma = (math.log(p.high) - math.log(p.low)) / (2 * 1.6448536269514722)
            theta[:, i] = np.exp(rng.normal(math.log(p.value), sigma, size=draws))
        else:
            k = _beta_concentration(p.value, p.low, p.high)
            if math.isinf(k):
                theta[:, i] = p.value
                continue
            theta[:, i] = rng.beta(1 + k * p.value, 1 + k * (1 - p.value), size=draws)
    return np.clip(theta, 1e-9, np.where(_is_odds_ratio(model), np.inf, 1 - 1e-9))


def _is_odds_ratio(model: ToeTwitchModel) -> np.ndarray:
    return np.array([p.kind == "odds ratio" for p in model.structure.parameters])


def uncertainty(
    model: ToeTwitchModel, evidence: dict[str, str], draws: int = 1000, seed: int = 0
) -> Uncertainty:
    """Posterior intervals from the priors' ranges: median, 90% interval, first-rank share.

    All draws run through the engine as one batch. Reproducible for a given ``seed``.
    """
    if not isinstance(draws, int) or isinstance(draws, bool) or draws <= 0:
        raise ToeTwitchError(f"draws must be a positive whole number, got {draws!r}")
    columns = model.encode([model.check_evidence(evidence)])
    theta = sample_parameters(model, draws, seed)
    samples = model.posterior_indices(columns, tables=build_tables(model.structure, theta))
    first = np.bincount(np.argmax(samples, axis=1), minlength=len(model.causes)) / draws
    q = np.quantile(samples, [0.05, 0.5, 0.95], axis=0)
    causes = [
        CauseUncertainty(c, float(q[1, i]), float(q[0, i]), float(q[2, i]), float(first[i]))
        for i, c in enumerate(model.causes)
    ]
    return Uncertainty(draws=draws, seed=seed, causes=causes, samples=samples)
