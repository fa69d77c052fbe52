"""Every valid priors file is answered: extreme but valid values never crash a tool.

Issue 15: priors at and near every boundary the schema allows (links of 0 and 1, leaks of
0, prevalences at 1e-12 and 1 - 1e-12, odds ratios at 1e-4 and 1e4), run through every
public tool on random evidence. The only exceptions allowed are the documented ones
(impossible evidence, a prevalence the calibration cannot meet, a twitching no cause can
produce); no number a user could see is NaN or infinite, and probabilities stay in [0, 1].
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toe_twitch import (
    ImpossibleEvidenceError,
    PriorsError,
    ToeTwitchModel,
    explain,
    next_questions,
    sensitivity,
    uncertainty,
    what_if,
)
from toe_twitch.analysis import _parameter_class
from toe_twitch.priors import iter_parameters, load_priors, priors_to_data, validate_priors_data
from toe_twitch.vignettes import evaluate, load_vignettes

DOCUMENTED = (ImpossibleEvidenceError, PriorsError)


def _ends(path: str) -> list[float]:
    """The allowed ends of a parameter's kind, and values just inside them."""
    kind = _parameter_class(path)
    lo = kind.minimum if not kind.open_min else np.nextafter(kind.minimum, math.inf)
    hi = kind.maximum if not kind.open_max else np.nextafter(kind.maximum, -math.inf)
    inside = [lo * (1 + 1e-9) if lo > 0 else 1e-12, hi * (1 - 1e-9) if hi < math.inf else hi]
    return [float(lo), float(hi), *map(float, inside)]


PARAMETERS = [p.path for p in iter_parameters(load_priors())]
EDITABLE = [p for p in PARAMETERS if not p.startswith("age_groups.")]


@st.composite
def extreme_edits(draw) -> dict[str, float]:
    """1 to 25 parameters moved to an end of what their kind allows (or just inside it)."""
    moved = draw(st.lists(st.sampled_from(EDITABLE), min_size=1, max_size=25, unique=True))
    return {path: draw(st.sampled_from(_ends(path))) for path in moved}


def edited(changes: dict[str, float]):
    data = priors_to_data(load_priors())
    for path, value in changes.items():
        node = data
        for part in path.split("."):
            node = node[part]
        node.update(value=value, low=min(node["low"], value), high=max(node["high"], value))
    return validate_priors_data(data, "<extreme>")


def _finite_probability(x) -> bool:
    return x is None or (math.isfinite(x) and 0.0 <= x <= 1.0)


def _random_evidence(model, rng, n):
    out = []
    for _ in range(n):
        e = {}
        for f in model.findings:
            if rng.random() < 0.3:
                states = model.states[f]
                e[f] = states[rng.integers(len(states))]
        out.append(e)
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(extreme_edits(), st.integers(0, 2**31))
def test_every_public_tool_answers_extreme_priors_or_says_why(changes, seed):
    check_every_tool(changes, seed)


def check_every_tool(changes: dict[str, float], seed: int) -> None:
    priors = edited(changes)
    try:
        model = ToeTwitchModel.from_priors(priors, "<extreme>")
    except DOCUMENTED:
        return  # documented refusals: a calibration that cannot be met, no possible twitching
    rng = np.random.default_rng(seed)
    evidences = _random_evidence(model, rng, 12)
    batch = model.query(evidences, impossible="mark")
    ok = ~batch.impossible
    assert np.all((batch.marginals[ok] >= 0) & (batch.marginals[ok] <= 1))
    assert np.all(np.isfinite(batch.marginals[ok])) and np.all(np.isfinite(batch.log_evidence[ok]))
    for evidence, possible in zip(evidences[:4], ok[:4], strict=True):
        try:
            d = model.diagnose(evidence)
        except ImpossibleEvidenceError as exc:
            assert not possible and "cannot all be true" in str(exc)
            continue
        assert all(_finite_probability(p) for _, p in d.ranking)
        assert _finite_probability(d.no_listed_cause)
        assert all(math.isfinite(r) and r >= 0 for r in d.relative_to_prior.values())
        for w in what_if(model, evidence):
            assert _finite_probability(w.probability)
            if w.possible:
                assert all(_finite_probability(p) for _, p in w.ranking)
            else:
                assert w.ranking == [] and w.urgency is None
        for q in next_questions(model, evidence, k=3):
            assert math.isfinite(q.gain_bits) and q.gain_bits >= 0
        cause = d.top
        e = explain(model, evidence, cause)
        for c in e.contributions:
            assert c.weight is None or not math.isnan(c.weight)
        u = uncertainty(model, evidence, draws=20, seed=1)
        assert all(_finite_probability(x) for c in u.causes for x in (c.low, c.median, c.high))
        s = sensitivity(model, evidence, cause)
        assert all(_finite_probability(x) for sw in s.swings[:20] for x in (sw.posterior_low, sw.posterior_high))
        break  # one possible evidence set through every tool is enough per example


def test_vignettes_under_extreme_priors_are_scored_or_skipped_by_id():
    """A leak of 0 makes some vignettes impossible: they are skipped with their id and the
    answers named; the rest are scored."""
    data = priors_to_data(load_priors())
    for f in ("muscle_weakness",):
        for age in ("infant", "child", "adult", "older_adult"):
            data["findings"][f]["leak"][age].update(value=0.0, low=0.0)
        for link in data["findings"][f]["links"].values():
            link.update(value=0.0, low=0.0)
    model = ToeTwitchModel.from_priors(validate_priors_data(data, "<no weakness>"), "<no weakness>")
    evaluation = evaluate(model, load_vignettes())
    assert evaluation.skipped, "vignettes with weakness are impossible here"
    for s in evaluation.skipped:
        assert s.message.startswith(f"{s.vignette}: ") and "muscle_weakness=present" in s.message
    assert len(evaluation.results) + len(evaluation.skipped) == len(load_vignettes())
    summary = evaluation.summary
    assert summary["skipped"] == len(evaluation.skipped)
    assert all(v is None or 0 <= v <= 1 for v in (summary["top1_accuracy"], summary["urgency_accuracy"]))


def test_a_twitching_no_cause_can_produce_is_refused_at_load():
    data = priors_to_data(load_priors())
    spec = data["findings"]["toe_twitching"]
    for age in ("infant", "child", "adult", "older_adult"):
        spec["leak"][age].update(value=0.0, low=0.0)
    for link in spec["links"].values():
        for number in [link] if "value" in link else link.values():  # one, or one per age group
            number.update(value=0.0, low=0.0)
    with pytest.raises(ImpossibleEvidenceError, match="the twitching itself has probability zero"):
        ToeTwitchModel.from_priors(validate_priors_data(data, "<no twitching>"), "<no twitching>")
