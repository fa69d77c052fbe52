"""Simulated clinics: cases sampled from a model with moved numbers, some answers and
diagnoses hidden (the recovery test, the benchmark and notebook 08 use them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from toe_twitch.core import ToeTwitchModel
from toe_twitch.learning.cases import DIAGNOSIS_COLUMN, NONE_DIAGNOSED
from toe_twitch.priors import (
    AGE_FINDING,
    priors_to_data,
    validate_priors_data,
)


def _draw(model: ToeTwitchModel, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """Forward draws from the model's tables, kept with probability P(twitching | causes):
    exactly the distribution of people who notice twitching."""
    s, t = model.structure, model.tables
    age = rng.choice(t.age.shape[1], size=size, p=t.age[0])
    draw: dict[str, np.ndarray] = {AGE_FINDING: age}
    for rf in s.risk_factors:
        draw[rf] = (rng.random(size) < t.risk_factor[rf][0, 1, age]).astype(np.int64)

    def parents_index(parents: Sequence[str]) -> np.ndarray:
        return sum((draw[p] << i for i, p in enumerate(parents)), np.zeros(size, dtype=np.int64))

    for c in s.causes:
        p = t.cause[c][0, 1, age, parents_index(s.cause_parents[c])]
        draw[c] = (rng.random(size) < p).astype(np.int64)
    twitching = next(f for f in model.vocabulary.implicit_evidence if f in s.findings)
    p = t.finding[twitching][0, 1, age, parents_index(s.finding_parents[twitching])]
    keep = rng.random(size) < p
    for f in s.findings:
        if f != twitching:
            p = t.finding[f][0, 1, age, parents_index(s.finding_parents[f])]
            draw[f] = (rng.random(size) < p).astype(np.int64)
    return {k: v[keep] for k, v in draw.items()}


def sample_cases(model: ToeTwitchModel, n: int, *, seed: int = 0, unknown: float = 0.3,
                 undiagnosed: float = 0.4) -> list[dict[str, str]]:
    """``n`` cases of people with toe twitching drawn from ``model``, as case-file rows.

    Each answer is left empty (unknown) with probability ``unknown``, and the diagnosis
    with probability ``undiagnosed`` (at random: a real clinic's confirmed diagnoses are
    not a random sample, see ``notebooks/08_learning``). A diagnosis lists every cause
    present, or ``none``.
    """
    rng = np.random.default_rng(seed)
    parts, got = [], 0
    while got < n:
        part = _draw(model, rng, max(2000, 25 * (n - got)))
        parts.append(part)
        got += len(part[AGE_FINDING])
    draw = {k: np.concatenate([p[k] for p in parts])[:n] for k in parts[0]}
    rows = []
    for i in range(n):
        row = {"id": f"case-{i + 1}"}
        for f in model.findings:
            x = int(draw[f][i])
            state = model.states[f][x] if f == AGE_FINDING else ("yes" if x else "no")
            row[f] = "" if rng.random() < unknown else state
        present = [c for c in model.causes if draw[c][i]]
        row[DIAGNOSIS_COLUMN] = "" if rng.random() < undiagnosed else (";".join(present) or NONE_DIAGNOSED)
        rows.append(row)
    return rows


def moved_links(model: ToeTwitchModel, count: int = 12, share: float = 0.8) -> dict[str, float]:
    """A simulated clinic's truth: ``count`` links of the four commonest causes (the widest
    ranges first), each moved ``share`` of the way from its value to the farther end of
    its range. Returns ``{path: true value}``."""
    common = sorted(model.prior, key=model.prior.get, reverse=True)[:4]
    chosen = []
    for p in model.structure.parameters:
        parts = p.path.split(".")
        if (len(parts) == 4 and parts[0] == "findings" and parts[2] == "links"
                and parts[3] in common and parts[1] not in model.vocabulary.implicit_evidence
                and 0 < p.value < 1 and p.low < p.high):
            far = p.high if p.high - p.value >= p.value - p.low else p.low
            chosen.append((abs(far - p.value), p.path, p.value + share * (far - p.value)))
    return {path: value for _, path, value in sorted(chosen, reverse=True)[:count]}


def model_with(model: ToeTwitchModel, changes: dict[str, float]) -> ToeTwitchModel:
    """``model`` with some numbers replaced (each range widened to hold its new value)."""
    data = priors_to_data(model.priors)
    for path, value in changes.items():
        node: Any = data
        for part in path.split("."):
            node = node[part]
        node.update(value=value, low=min(node["low"], value), high=max(node["high"], value))
    return ToeTwitchModel.from_priors(validate_priors_data(data, "<changed>"), "<changed>")


def cases_csv(rows: list[dict[str, str]]) -> str:
    """Case-file rows (as from :func:`sample_cases`) as CSV text."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
