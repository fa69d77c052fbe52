"""Reasoning tools: explanation, what-if, next best question, sensitivity, uncertainty.

Each tool is exact (it runs the exact engine, never a sampler, except that
:func:`uncertainty` samples the *parameters*) and batched, and each goes through the
model's public methods only (:meth:`~toe_twitch.core.ToeTwitchModel.query`,
:meth:`~toe_twitch.core.ToeTwitchModel.look_ahead`,
:meth:`~toe_twitch.core.ToeTwitchModel.posteriors_under`). Impossible evidence raises
:class:`~toe_twitch.errors.ImpossibleEvidenceError` naming the answers, as everywhere; an
impossible *variant* (a what-if answer, a parameter draw) is reported, never a NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from toe_twitch.errors import ImpossibleEvidenceError, ToeTwitchError
from toe_twitch.priors import Parameter, definition_key
from toe_twitch.urgency import RANK, raised, rule_level, threshold_variants, urgency_level

if TYPE_CHECKING:
    from toe_twitch.core import ToeTwitchModel
    from toe_twitch.records import CheckedAnswers, LookAhead


def _log_odds(p: float) -> float:
    """log(p / (1 - p)), with ``-inf`` at 0 and ``inf`` at 1."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log(p) - math.log1p(-p)


def _difference(a: float, b: float) -> float | None:
    """``a - b`` of two log-odds; None where it is not defined (both infinite alike)."""
    if math.isinf(a) and math.isinf(b) and (a > 0) == (b > 0):
        return None
    return a - b


def binary_entropy_bits(p: np.ndarray) -> np.ndarray:
    """Entropy in bits of a yes/no variable with P(yes) = p (elementwise; 0 log 0 = 0)."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.nan_to_num(h, nan=0.0)


# ---------------------------------------------------------------------- explanation
@dataclass(frozen=True)
class Contribution:
    """What one answer does to one cause.

    ``weight`` is the weight of evidence in natural log-odds (positive supports the
    cause): the cause's posterior log-odds with all the answers minus those with this
    answer left out; ``likelihood_ratio`` = exp(weight) = P(answer | cause, other answers)
    / P(answer | no cause, other answers). ``sequential_weight`` is the exact chain-rule
    share (answers added one at a time, strongest first), so these sum to the change from
    the prior log-odds. Each is None where it is not defined (an answer that rules the
    cause in or out, or that the others already did).
    """

    finding: str
    state: str
    likelihood_ratio: float | None
    weight: float | None
    sequential_weight: float | None

    @property
    def rules_out(self) -> bool:
        return self.weight is not None and self.weight == -math.inf


@dataclass(frozen=True)
class Explanation:
    cause: str
    prior: float
    posterior: float
    supporting: list[Contribution]
    opposing: list[Contribution]
    undefined: list[Contribution] = field(default_factory=list)

    @property
    def contributions(self) -> list[Contribution]:
        defined = sorted(self.supporting + self.opposing, key=lambda c: -abs(c.weight))
        return defined + self.undefined

    @property
    def log_odds_change(self) -> float | None:
        return _difference(_log_odds(self.posterior), _log_odds(self.prior))


def explain(model: ToeTwitchModel, evidence: dict[str, str], cause: str) -> Explanation:
    """Why ``cause`` has its probability: each answer's weight of evidence.

    The leave-one-out weight of an answer is the cause's log-odds with all the answers
    minus its log-odds with that answer removed (Bayes' rule makes this the log of
    P(answer | cause, rest) / P(answer | no cause, rest)). Those weights do not add up
    exactly when answers interact through other causes, so each contribution also carries
    its exact sequential (chain-rule) weight: answers added one at a time, strongest
    first; the sequential weights sum exactly to the change in log-odds. The rows go
    through the engine in two batches (a :class:`~toe_twitch.case.Case` folds them into
    its own two).
    """
    model.check_cause(cause)
    evidence = model.check_evidence(evidence)
    first = model.query([evidence, *leave_one_out(evidence)], names=["these answers"])
    k = model.causes.index(cause)
    order, prefixes = explanation_prefixes(evidence, first.marginals[:, k])
    chain = model.query(prefixes).marginals[:, k] if prefixes else np.zeros(0)
    return explain_from(model, evidence, cause, first.marginals[:, k], order, chain)


def leave_one_out(evidence: CheckedAnswers) -> list[CheckedAnswers]:
    """The answers with each one left out in turn (in the answers' order)."""
    return [evidence.without(f) for f in evidence]


def _loo_weights(with_all_and_without: np.ndarray) -> list[float | None]:
    full, without = with_all_and_without[0], with_all_and_without[1:]
    return [_difference(_log_odds(full), _log_odds(w)) for w in without]


def explanation_prefixes(
    evidence: CheckedAnswers, with_all_and_without: np.ndarray
) -> tuple[list[int], list[CheckedAnswers]]:
    """The answers strongest first (by leave-one-out weight), and the chain of prefixes
    whose posteriors give the sequential weights.

    ``with_all_and_without`` is the cause's probability with all the answers, then with
    each left out (the rows of :func:`leave_one_out`).
    """
    weights = _loo_weights(with_all_and_without)
    observed = list(evidence)
    order = sorted(
        range(len(observed)),
        key=lambda i: (weights[i] is None, -abs(weights[i]) if weights[i] is not None else 0),
    )
    prefixes = [evidence.without(*(observed[j] for j in order[i + 1 :])) for i in range(len(order))]
    return order, prefixes


def explain_from(
    model: ToeTwitchModel,
    evidence: CheckedAnswers,
    cause: str,
    with_all_and_without: np.ndarray,
    order: list[int],
    chain: np.ndarray,
) -> Explanation:
    """The explanation from the cause's probabilities already computed: with all the
    answers and with each left out, and along the chain of :func:`explanation_prefixes`."""
    observed = list(evidence)
    weights = _loo_weights(with_all_and_without)
    prior = model.prior[cause]
    chain_log_odds = [_log_odds(prior)] + [_log_odds(c) for c in chain]
    sequential = [_difference(chain_log_odds[i + 1], chain_log_odds[i]) for i in range(len(order))]
    supporting, opposing, undefined = [], [], []
    for rank, i in enumerate(order):
        w = weights[i]
        contribution = Contribution(
            finding=observed[i],
            state=evidence[observed[i]],
            likelihood_ratio=None if w is None else float(math.exp(w)) if w < 700 else math.inf,
            weight=None if w is None else float(w),
            sequential_weight=None if sequential[rank] is None else float(sequential[rank]),
        )
        if w is None:
            undefined.append(contribution)
        elif w > 0:
            supporting.append(contribution)
        else:
            opposing.append(contribution)
    full = float(with_all_and_without[0])
    return Explanation(cause, float(prior), full, supporting, opposing, undefined)


# ---------------------------------------------------------------------- what-if
@dataclass(frozen=True)
class WhatIf:
    """The differential if one unanswered question were answered with ``state``.

    ``possible`` is False when the priors in use make that answer impossible together
    with the others; then there is no ranking (and nothing to show but that).
    """

    finding: str
    state: str
    probability: float
    possible: bool
    ranking: list[tuple[str, float]]
    no_listed_cause: float | None
    urgency: str | None
    biggest_change: tuple[str, float] | None  # (cause, change in probability)


def what_if(model: ToeTwitchModel, evidence: dict[str, str]) -> list[WhatIf]:
    """Every unanswered question in every state: new ranking, urgency and biggest mover.

    Computed from one :meth:`~toe_twitch.core.ToeTwitchModel.look_ahead` and one batch for
    the fever and tiredness variants (a :class:`~toe_twitch.case.Case` shares both with
    its other views); urgency by :func:`toe_twitch.urgency.urgency_level`, the level
    :func:`toe_twitch.urgency.assess` gives, on each answer.
    """
    evidence = model.check_evidence(evidence)
    ahead = model.look_ahead(evidence)
    groups = what_if_variants(evidence, ahead.options)
    flat = [v for group in groups for v in group]
    extra = model.query(flat, impossible="mark").marginals if flat else np.zeros((0, len(model.causes)))
    return what_if_from(model, evidence, ahead, groups, extra)


def what_if_variants(
    evidence: CheckedAnswers, options: list[tuple[str, str]]
) -> list[list[dict[str, str]]]:
    """For each answer of a look-ahead (``options``), its threshold variants (fever or
    tiredness left out or answered no), whose posteriors that answer's urgency needs."""
    return [threshold_variants(evidence.answered(f, s)) for f, s in options]


def what_if_from(
    model: ToeTwitchModel,
    evidence: CheckedAnswers,
    ahead: LookAhead,
    groups: list[list[dict[str, str]]],
    extra: np.ndarray,
) -> list[WhatIf]:
    """The what-ifs from a look-ahead and the marginals of its :func:`what_if_variants`
    (``extra``, the groups' rows one after another)."""
    results = []
    start = 0
    for i, (f, s) in enumerate(ahead.options):
        block = extra[start : start + len(groups[i])]
        start += len(groups[i])
        row = ahead.marginals[i]
        if not np.isfinite(row).all() or ahead.predictive[i] <= 0:
            results.append(WhatIf(f, s, 0.0, False, [], None, None, None))
            continue
        probs = dict(zip(model.causes, row.tolist(), strict=True))
        others = [dict(zip(model.causes, v.tolist(), strict=True)) for v in block if np.isfinite(v).all()]
        level = urgency_level({**evidence, f: s}, [probs, *others], model.thresholds, model.vocabulary)
        ranking = [(model.causes[j], probs[model.causes[j]]) for j in np.argsort(-row, kind="stable")]
        change = row - ahead.current
        j = int(np.argmax(np.abs(change)))
        results.append(
            WhatIf(
                f, s, float(ahead.predictive[i]), True, ranking, float(ahead.no_listed_cause[i]),
                level, (model.causes[j], float(change[j])),
            )
        )
    return results


# ---------------------------------------------------------------------- next question
@dataclass(frozen=True)
class Question:
    """An unanswered question worth asking, by expected information gain.

    ``reason`` says in plain words what the answer would tell; ``gain_bits`` (the expected
    fall in uncertainty about the causes, in bits) is for the curious.
    """

    finding: str
    label: str
    gain_bits: float
    predictive: dict[str, float]
    reason: str
    red_flag: bool = False
    moves_urgency: bool = False


def next_questions(model: ToeTwitchModel, evidence: dict[str, str], k: int = 5) -> list[Question]:
    """Rank unanswered questions by expected information gain about the causes.

    Uncertainty is the sum over causes (and the no-listed-cause share) of the binary
    entropy of its probability; a question's gain is the current uncertainty minus its
    expectation over the answer's predictive distribution. While the answers point to
    self care and red flags are unanswered, those come first: self care is never settled
    before they are checked.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ToeTwitchError(f"k must be a positive whole number, got {k!r}")
    evidence = model.check_evidence(evidence)
    questions = questions_from(model, evidence, model.look_ahead(evidence))
    if rule_level(evidence, model.vocabulary) == "self_care":  # every red flag, then k more
        return questions[: k + sum(q.red_flag for q in questions)]
    return questions[:k]


def questions_from(model: ToeTwitchModel, evidence: CheckedAnswers, ahead: LookAhead) -> list[Question]:
    """Every unanswered question from a look-ahead, best first (red flags first while the
    answers point to self care)."""
    if not ahead.options:
        return []
    now = np.append(ahead.current, ahead.current_no_listed_cause)
    h_now = binary_entropy_bits(now).sum()
    level_now = rule_level(evidence, model.vocabulary)
    by_finding: dict[str, list[int]] = {}
    for i, (f, _) in enumerate(ahead.options):
        by_finding.setdefault(f, []).append(i)
    names = [short_name(model, c) for c in model.causes]
    # uncertainty after each answer, all answers at once (impossible ones have p = 0)
    h_after = binary_entropy_bits(np.column_stack([ahead.marginals, ahead.no_listed_cause])).sum(axis=1)
    questions = []
    for f, indices in by_finding.items():
        p = ahead.predictive[indices]
        ok = p > 0
        expected = float((p[ok] * h_after[indices][ok]).sum() / max(p[ok].sum(), 1e-300))
        gain = max(float(h_now - expected), 0.0)
        moves = any(
            RANK[rule_level({**evidence, f: ahead.options[i][1]}, model.vocabulary)] > RANK[level_now]
            for i in indices
        )
        questions.append(
            Question(
                finding=f,
                label=model.vocabulary.findings[f].label,
                gain_bits=gain,
                predictive={ahead.options[i][1]: float(ahead.predictive[i]) for i in indices},
                reason=(
                    "checks for an emergency sign (if it applies, call emergency services)"
                    if model.vocabulary.findings[f].red_flag
                    else _plain_reason(names, ahead, indices)
                ),
                red_flag=model.vocabulary.findings[f].red_flag,
                moves_urgency=moves,
            )
        )
    questions.sort(key=lambda q: -q.gain_bits)
    flags = [q for q in questions if q.red_flag]
    if level_now == "self_care" and flags:
        return flags + [q for q in questions if not q.red_flag]
    return questions


def short_name(model: ToeTwitchModel, cause: str) -> str:
    """``PLMD``, ``hypnic jerks``, ``nerve damage``: the name of a cause in a plain sentence."""
    return model.vocabulary.causes[cause].short


def _plain_reason(names: list[str], ahead: LookAhead, indices: list[int]) -> str:
    """What a question tells, in plain words: which causes it tells apart, or which it
    makes more or less likely."""
    rows = [i for i in indices if np.isfinite(ahead.marginals[i]).all()]
    if not rows:
        return "the priors in use allow only one answer"
    change = ahead.marginals[rows] - ahead.current
    up = [int(np.argmax(change[r])) for r in range(len(rows))]
    if len(rows) >= 2 and up[0] != up[-1] and change[0, up[0]] > 0.005 and change[-1, up[-1]] > 0.005:
        return f"helps tell {names[up[-1]]} from {names[up[0]]}"
    j = int(np.argmax(np.abs(change).max(axis=0)))
    return f"shows how likely {names[j]} is"


# ---------------------------------------------------------------------- sensitivity
@dataclass(frozen=True)
class ParameterSwing:
    """The cause's posterior with one parameter at the low and high end of its range.

    ``posterior_low`` / ``posterior_high`` are None where the evidence is impossible with
    the parameter at that end.
    """

    path: str
    value: float
    low: float
    high: float
    posterior_low: float | None
    posterior_high: float | None

    @property
    def swing(self) -> float:
        if self.posterior_low is None or self.posterior_high is None:
            return math.inf
        return abs(self.posterior_high - self.posterior_low)


@dataclass(frozen=True)
class Sensitivity:
    cause: str
    posterior: float
    swings: list[ParameterSwing] = field(default_factory=list)


def range_ends(model: ToeTwitchModel) -> tuple[np.ndarray, list[str]]:
    """Parameter vectors with one parameter at its low, then high end: shape (2P, P)."""
    structure = model.structure
    base = structure.values()
    low, high = structure.ranges()
    n = len(base)
    theta = np.tile(base, (2 * n, 1))
    theta[np.arange(n), np.arange(n)] = low
    theta[n + np.arange(n), np.arange(n)] = high
    return theta, [p.path for p in structure.parameters]


def sensitivity(model: ToeTwitchModel, evidence: dict[str, str], cause: str) -> Sensitivity:
    """Tornado data: the cause's posterior at each parameter's range ends, largest swing first.

    Each parameter moves alone (the others held at their values); the 2P models run as
    one batch (:meth:`~toe_twitch.core.ToeTwitchModel.posteriors_under`).
    """
    model.require_priors("sensitivity")
    model.check_cause(cause)
    evidence = model.check_evidence(evidence)
    base = model.query([evidence], names=["these answers"]).marginals[0]
    theta, paths = range_ends(model)
    result = model.posteriors_under(theta, evidence)
    k = model.causes.index(cause)
    n = len(paths)

    def value(row: int) -> float | None:
        return None if result.impossible[row] else float(result.marginals[row, k])

    swings = [
        ParameterSwing(p.path, p.value, p.low, p.high, value(i), value(n + i))
        for i, p in enumerate(model.structure.parameters)
    ]
    swings.sort(key=lambda s: -s.swing if math.isfinite(s.swing) else -2.0)
    return Sensitivity(cause=cause, posterior=float(base[k]), swings=swings)


@dataclass(frozen=True)
class VignetteFlip:
    """A vignette whose first cause or urgency changes with one parameter at a range end."""

    path: str
    end: str  # "low" or "high"
    vignette: str
    top1_before: str
    top1_after: str | None  # None: the vignette is impossible with the parameter there
    urgency_before: str
    urgency_after: str | None


def vignette_sensitivity(model: ToeTwitchModel, vignettes) -> list[VignetteFlip]:
    """Which vignettes change first cause or urgency when any parameter moves to a range end.

    Urgency here is the floors' level raised by the (possibly moved) thresholds, on the
    evidence as given. The tables of every moved model are built once, for all the
    vignettes (:meth:`~toe_twitch.core.ToeTwitchModel.posteriors_under_each`).
    """
    model.require_priors("vignette sensitivity")
    theta, paths = range_ends(model)
    n = len(paths)
    all_theta = np.vstack([model.structure.values(), theta])
    index = model.structure.index
    threshold_columns = np.array(
        [index[f"urgency.serious_cause_threshold.{c}"] for c in model.thresholds], dtype=int
    )
    serious = np.array([model.causes.index(c) for c in model.thresholds], dtype=int)
    usable = [v for v in vignettes]
    evidences = [model.check_evidence(dict(v.findings)) for v in usable]
    every, _, log_evidence = model.posteriors_under_each(all_theta, evidences)
    flips = []
    for vignette, evidence, marginals, log_pe in zip(usable, evidences, every, log_evidence, strict=True):
        impossible = ~np.isfinite(log_pe)
        if impossible[0]:
            continue
        floor = rule_level(evidence, model.vocabulary)
        passes = (marginals[:, serious] >= all_theta[:, threshold_columns]).any(axis=1)
        levels = [raised(floor, bool(p)) for p in passes]
        tops = [
            None if bad else model.causes[int(np.argmax(row))]
            for row, bad in zip(marginals, impossible, strict=True)
        ]
        for row in range(1, 2 * n + 1):
            after_top = tops[row]
            after_level = None if after_top is None else levels[row]
            if (after_top, after_level) != (tops[0], levels[0]):
                flips.append(
                    VignetteFlip(
                        path=paths[(row - 1) % n],
                        end="low" if row <= n else "high",
                        vignette=vignette.id,
                        top1_before=tops[0],
                        top1_after=after_top,
                        urgency_before=levels[0],
                        urgency_after=after_level,
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
    """Posterior intervals over parameter draws from the priors' ranges.

    ``impossible_draws`` counts draws under which the evidence has probability zero
    (left out of the intervals); ``samples`` holds the possible draws only.
    """

    draws: int
    seed: int
    causes: list[CauseUncertainty]
    samples: np.ndarray  # (possible draws, causes): P(cause present | evidence) per draw
    no_listed_cause: tuple[float, float, float]  # 5th, 50th, 95th percentile
    impossible_draws: int = 0


@cache
def _beta_concentration(value: float, low: float, high: float) -> float:
    """Concentration k of Beta(1 + k m, 1 + k (1 - m)) (mode m) whose 5-95% best fits the range."""
    if high - low <= 1e-12:
        return math.inf
    from scipy import optimize, stats  # here, not at import: scipy takes most of a second to load

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


def _parameter_class(path: str) -> type[Parameter]:
    from toe_twitch import priors as schema

    return {
        "proportion": schema.Proportion,
        "risk factor prevalence": schema.RiskFactorPrevalence,
        "cause prevalence": schema.CausePrevalence,
        "odds ratio": schema.OddsRatio,
        "link probability": schema.LinkProbability,
        "leak probability": schema.Leak,
        "threshold": schema.Threshold,
    }[definition_key(path)]


def sample_parameters(model: ToeTwitchModel, draws: int, seed: int) -> np.ndarray:
    """Draw parameter vectors, shape ``(draws, P)``.

    Probabilities: a Beta whose mode is the value and whose central 90% interval best
    matches [low, high]. Odds ratios: a log-normal with median at the value and its 90%
    interval spanning [low, high] on the log scale. A parameter with low == high is fixed.
    Draws are clipped to the bounds the schema allows for that kind of number, so every
    draw is a valid priors file.
    """
    rng = np.random.default_rng(seed)
    parameters = model.structure.parameters
    theta = np.empty((draws, len(parameters)))
    for i, p in enumerate(parameters):
        if p.high <= p.low:
            theta[:, i] = p.value
        elif p.kind == "odds ratio":
            sigma = (math.log(p.high) - math.log(p.low)) / (2 * 1.6448536269514722)
            theta[:, i] = np.exp(rng.normal(math.log(p.value), sigma, size=draws))
        else:
            k = _beta_concentration(p.value, p.low, p.high)
            theta[:, i] = p.value if math.isinf(k) else rng.beta(1 + k * p.value, 1 + k * (1 - p.value), size=draws)
        kind = _parameter_class(p.path)
        lo = kind.minimum if not kind.open_min else np.nextafter(kind.minimum, math.inf)
        hi = kind.maximum if not kind.open_max else np.nextafter(kind.maximum, -math.inf)
        theta[:, i] = np.clip(theta[:, i], lo, hi)
    return theta


def uncertainty(
    model: ToeTwitchModel, evidence: dict[str, str], draws: int = 1000, seed: int = 0
) -> Uncertainty:
    """Posterior intervals from the priors' ranges: median, 90% interval, first-rank share.

    All draws run through the engine as one batch. Reproducible for a given ``seed``.
    Raises :class:`~toe_twitch.errors.ImpossibleEvidenceError` if the evidence is impossible
    under the priors in use (as :meth:`diagnose` does), or under every draw.
    """
    model.require_priors("uncertainty")
    if not isinstance(draws, int) or isinstance(draws, bool) or draws <= 0:
        raise ToeTwitchError(f"draws must be a positive whole number, got {draws!r}")
    evidence = model.check_evidence(evidence)
    model.query([evidence], names=["these answers"])  # impossible here: the same error
    theta = sample_parameters(model, draws, seed)
    result = model.posteriors_under(theta, evidence)
    ok = ~result.impossible
    if not ok.any():
        raise ImpossibleEvidenceError(
            "these answers are impossible under every parameter draw; no interval exists"
        )
    samples = result.marginals[ok]
    first = np.bincount(np.argmax(samples, axis=1), minlength=len(model.causes)) / len(samples)
    q = np.quantile(samples, [0.05, 0.5, 0.95], axis=0)
    none = np.quantile(result.no_listed_cause[ok], [0.05, 0.5, 0.95])
    causes = [
        CauseUncertainty(c, float(q[1, i]), float(q[0, i]), float(q[2, i]), float(first[i]))
        for i, c in enumerate(model.causes)
    ]
    return Uncertainty(
        draws=draws,
        seed=seed,
        causes=causes,
        samples=samples,
        no_listed_cause=(float(none[0]), float(none[1]), float(none[2])),
        impossible_draws=int((~ok).sum()),
    )
