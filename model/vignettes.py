"""Clinical vignettes: reading a vignette file and scoring the model against it.

The format is ``docs/vignette-format.md``: each vignette has an id, a story, findings
(finding id -> state; unlisted = unknown) and what a clinician expects (``top1``,
``top3``, ``urgency``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from toe_twitch.core import ToeTwitchModel
from toe_twitch.errors import Problem, VignetteError
from toe_twitch.records import Diagnosis
from toe_twitch.resources import vignettes_path
from toe_twitch.safe_yaml import parse_yaml_text, read_yaml_file
from toe_twitch.urgency import RANK
from toe_twitch.vocabulary import Vocabulary, load_vocabulary

#: The shipped vignettes (read from the installed package).
DEFAULT_VIGNETTES_PATH = vignettes_path()
#: Most vignettes one file may hold (an upload is evaluated in one engine batch).
MAX_VIGNETTES = 5000


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    top1: list[str] = Field(default_factory=list)
    top3: list[str] = Field(default_factory=list)
    urgency: list[str] = Field(min_length=1)


def _id_text(value: Any) -> Any:
    """An id typed as a whole number (``id: 10``) is the text typed; other YAML 1.1 number
    forms (``010``) are text already (:mod:`toe_twitch.safe_yaml`)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Vignette(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, BeforeValidator(_id_text)] = Field(min_length=1)
    story: str = ""
    findings: dict[str, str]
    expect: Expectation


class VignetteFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    vignettes: list[Vignette] = Field(min_length=1, max_length=MAX_VIGNETTES)


def _check(vignettes: VignetteFile, vocab: Vocabulary) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for i, v in enumerate(vignettes.vignettes):
        where = f"vignettes[{i}] (id {v.id!r})"
        if v.id in seen:
            problems.append(Problem(where, "duplicate vignette id"))
        seen.add(v.id)
        if not v.findings:
            problems.append(Problem(f"{where}.findings", "findings must not be empty"))
        for fid, state in v.findings.items():
            finding = vocab.findings.get(fid)
            if finding is None:
                problems.append(Problem(f"{where}.findings.{fid}", "unknown finding id"))
            elif state not in finding.states:
                problems.append(
                    Problem(
                        f"{where}.findings.{fid}",
                        f"unknown state {state!r} (valid: {', '.join(finding.states)})",
                    )
                )
        for key in ("top1", "top3"):
            for cid in getattr(v.expect, key):
                if cid not in vocab.causes:
                    problems.append(Problem(f"{where}.expect.{key}", f"unknown cause id {cid!r}"))
        for level in v.expect.urgency:
            if level not in vocab.urgency:
                problems.append(
                    Problem(f"{where}.expect.urgency", f"unknown urgency level {level!r}")
                )
    return problems


def load_vignettes(path: str | Path | None = None) -> list[Vignette]:
    """Read and validate a vignette file (the shipped one if ``path`` is None); raise
    :class:`VignetteError` naming each problem."""
    path = DEFAULT_VIGNETTES_PATH if path is None else path
    data, problems = read_yaml_file(path)
    if problems:
        raise VignetteError(str(path), problems)
    return validate_vignettes_data(data, str(path))


def parse_vignettes_text(text: str, source: str = "<uploaded vignettes>") -> list[Vignette]:
    """Validate vignettes given as YAML text (an upload on the page)."""
    data, problems = parse_yaml_text(text)
    if problems:
        raise VignetteError(source, problems)
    return validate_vignettes_data(data, source)


def validate_vignettes_data(data: Any, source: str) -> list[Vignette]:
    if not isinstance(data, dict):
        raise VignetteError(source, [Problem("", "top level must be a mapping with 'vignettes'")])
    raw = data.get("vignettes")
    if isinstance(raw, list) and len(raw) > MAX_VIGNETTES:
        raise VignetteError(
            source,
            [Problem("vignettes", f"holds {len(raw):,} vignettes; the limit is {MAX_VIGNETTES:,} per file")],
        )
    try:
        parsed = VignetteFile.model_validate(data)
    except ValidationError as exc:
        found = []
        for err in exc.errors(include_url=False):
            loc = list(err["loc"])
            where = ".".join(map(str, loc))
            if len(loc) >= 2 and loc[0] == "vignettes" and isinstance(loc[1], int):
                vid = raw[loc[1]].get("id") if isinstance(raw[loc[1]], dict) else None
                where = f"vignettes[{loc[1]}] (id {vid!r})" + "".join(f".{p}" for p in loc[2:])
            found.append(Problem(where, err["msg"].removeprefix("Value error, ")))
        raise VignetteError(source, found) from None
    except RecursionError:
        raise VignetteError(source, [Problem("", "nesting is too deep")]) from None
    problems = _check(parsed, load_vocabulary())
    if problems:
        raise VignetteError(source, problems)
    return list(parsed.vignettes)


@dataclass(frozen=True)
class VignetteResult:
    vignette: Vignette
    diagnosis: Diagnosis

    @property
    def top1_ok(self) -> bool | None:
        expected = self.vignette.expect.top1
        return None if not expected else self.diagnosis.top in expected

    @property
    def top3_ok(self) -> bool | None:
        expected = self.vignette.expect.top3
        first3 = {c for c, _ in self.diagnosis.ranking[:3]}
        return None if not expected else set(expected) <= first3

    @property
    def urgency_ok(self) -> bool:
        return self.diagnosis.urgency in self.vignette.expect.urgency

    @property
    def under_triaged(self) -> bool:
        lowest = min(RANK[u] for u in self.vignette.expect.urgency)
        return RANK[self.diagnosis.urgency] < lowest

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.vignette.id,
            "ranking": [{"cause": c, "probability": p} for c, p in self.diagnosis.ranking],
            "urgency": self.diagnosis.urgency,
            "no_listed_cause": self.diagnosis.no_listed_cause,
            "reasons": [r.to_dict() for r in self.diagnosis.reasons],
            "expected": self.vignette.expect.model_dump(),
            "top1_ok": self.top1_ok,
            "top3_ok": self.top3_ok,
            "urgency_ok": self.urgency_ok,
            "under_triaged": self.under_triaged,
        }


@dataclass(frozen=True)
class Skipped:
    """A vignette that could not be scored, and why (its answers are impossible, or use a
    finding the model does not have)."""

    vignette: str
    message: str


@dataclass(frozen=True)
class Evaluation:
    results: list[VignetteResult]
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        judged1 = [r.top1_ok for r in self.results if r.top1_ok is not None]
        judged3 = [r.top3_ok for r in self.results if r.top3_ok is not None]
        under = [r for r in self.results if r.under_triaged]
        return {
            "vignettes": len(self.results),
            "skipped": len(self.skipped),
            "top1_accuracy": sum(judged1) / len(judged1) if judged1 else None,
            "top1_judged": len(judged1),
            "top3_accuracy": sum(judged3) / len(judged3) if judged3 else None,
            "top3_judged": len(judged3),
            "urgency_accuracy": (
                sum(r.urgency_ok for r in self.results) / len(self.results) if self.results else None
            ),
            "under_triaged": len(under),
            "under_triaged_emergencies": sum(
                1 for r in under
                if min(RANK[u] for u in r.vignette.expect.urgency) == RANK["emergency"]
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "results": [r.to_dict() for r in self.results],
            "skipped": [{"id": s.vignette, "message": s.message} for s in self.skipped],
            "summary": self.summary,
        }


def evaluate(model: ToeTwitchModel, vignettes: list[Vignette]) -> Evaluation:
    """Diagnose every vignette (one engine batch) and score the results.

    A vignette whose answers are impossible under the model's priors, or that names a
    finding the model does not have, is reported in :attr:`Evaluation.skipped` with the
    reason (naming the vignette and the answers) and left out of the scores.
    """
    from toe_twitch.errors import EvidenceError

    usable, skipped = [], []
    for v in vignettes:
        try:
            usable.append((v, model.check_evidence(dict(v.findings))))
        except EvidenceError as exc:
            skipped.append(Skipped(v.id, f"{v.id}: {exc}"))
    if not usable:
        return Evaluation([], skipped)
    ids = [v.id for v, _ in usable]
    possible = ~model.query([e for _, e in usable], impossible="mark").impossible
    rows = model.encode([e for _, e in usable])
    for i in np.flatnonzero(~possible):
        skipped.append(Skipped(ids[i], str(model.impossible_error(rows, np.array([i]), names=ids))))
    keep = [pair for pair, ok in zip(usable, possible, strict=True) if ok]
    diagnoses = model.diagnose_batch([e for _, e in keep], names=[v.id for v, _ in keep])
    results = [VignetteResult(v, d) for (v, _), d in zip(keep, diagnoses, strict=True)]
    return Evaluation(results, skipped)
