"""The vocabulary: ids of every cause, finding, state and urgency level.

The project keeps its own copy (``model/vocabulary.yaml``) of the shared contract, so it
runs without ``../shared``. ``tests/test_vocabulary.py`` checks the copy against the
shared file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from model.safe_yaml import read_yaml_file

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")
BINARY_STATES: tuple[str, ...] = ("absent", "present")
CAUSE_STATES: tuple[str, ...] = ("absent", "present")


@dataclass(frozen=True)
class Finding:
    """A finding the user can report: its id, label, states and whether it is a red flag."""

    id: str
    label: str
    states: tuple[str, ...]
    red_flag: bool = False
    #: A state every query assumes unless told otherwise (``toe_twitching: present``).
    implicit: str | None = None


@dataclass(frozen=True)
class Cause:
    """A candidate cause of toe twitching."""

    id: str
    label: str
    seed: str


@dataclass(frozen=True)
class UrgencyLevel:
    """An urgency level; ``rank`` orders them from least (0) to most urgent."""

    id: str
    label: str
    rank: int


@dataclass(frozen=True)
class Vocabulary:
    """All ids of the contract, in file order."""

    causes: dict[str, Cause]
    findings: dict[str, Finding]
    urgency: dict[str, UrgencyLevel]

    @property
    def cause_ids(self) -> list[str]:
        return list(self.causes)

    @property
    def finding_ids(self) -> list[str]:
        return list(self.findings)

    @property
    def implicit_evidence(self) -> dict[str, str]:
        """Findings every query assumes (the twitching itself)."""
        return {f.id: f.implicit for f in self.findings.values() if f.implicit}

    @property
    def red_flags(self) -> list[str]:
        return [f.id for f in self.findings.values() if f.red_flag]

    @property
    def urgency_ids(self) -> list[str]:
        return list(self.urgency)


@cache
def load_vocabulary(path: str | Path = VOCABULARY_PATH) -> Vocabulary:
    """Load the vocabulary file (cached: it is read once per process)."""
    data, problems = read_yaml_file(path)
    if problems:
        raise RuntimeError(f"{path}: " + "; ".join(map(str, problems)))
    causes = {
        cid: Cause(id=cid, label=str(c["label"]), seed=str(c.get("seed", "")))
        for cid, c in data["causes"].items()
    }
    findings = {
        fid: Finding(
            id=fid,
            label=str(f["label"]),
            states=tuple(f.get("states", BINARY_STATES)),
            red_flag=bool(f.get("red_flag", False)),
            implicit=f.get("implicit"),
        )
        for fid, f in data["findings"].items()
    }
    urgency = {
        uid: UrgencyLevel(id=uid, label=str(u["label"]), rank=i)
        for i, (uid, u) in enumerate(data["urgency"].items())
    }
    return Vocabulary(causes=causes, findings=findings, urgency=urgency)
