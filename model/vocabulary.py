"""The vocabulary: ids of every cause, finding, state and urgency level.

The ids live in ``model/data/vocabulary.yaml``: the contract's base ids, fixed when the
project started, plus findings of its own (never renaming or dropping one of the
contract's) and, for every finding, the group it is asked in.
``tests/test_vocabulary.py`` checks it against the base ids kept in
``tests/data/contract_ids.yaml``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from toe_twitch.resources import data_path
from toe_twitch.safe_yaml import read_yaml_file

VOCABULARY_PATH = data_path("vocabulary.yaml")
#: The groups questions are asked in, in the order a clinician asks them.
GROUPS: dict[str, str] = {
    "about_you": "About you",
    "when": "When and how it happens",
    "symptoms": "Other symptoms",
    "history": "Health history and tests",
    "red_flags": "Emergency signs",
}
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
    #: The group the question is asked in (a key of :data:`GROUPS`); none if implicit.
    group: str = ""
    #: Age groups the question is asked in (empty: every age). The model accepts the
    #: answer at any age; the page only asks where it applies.
    applies_to: tuple[str, ...] = ()
    #: A property of the twitching itself (how long it lasts, when it comes): modelled as
    #: P(property | twitching, causes), see :mod:`toe_twitch.network`.
    twitching_property: bool = False
    #: Asked on the health-history screen ("Does any of this apply to you?"): answers
    #: that change the advice a person may safely be given, or the urgency.
    health_screen: bool = False
    #: The question as a person is asked it ("Have you lost weight without trying?");
    #: the label where the vocabulary gives none.
    question: str = ""


@dataclass(frozen=True)
class Cause:
    """A candidate cause of toe twitching."""

    id: str
    label: str
    seed: str
    #: The name in a plain sentence ("helps tell PLMD from hypnic jerks").
    short: str = ""


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

    @cached_property
    def implicit_evidence(self) -> dict[str, str]:
        """Findings every query assumes (the twitching itself)."""
        return {f.id: f.implicit for f in self.findings.values() if f.implicit}

    @cached_property
    def twitching_properties(self) -> list[str]:
        """Findings that describe the twitching itself (see :mod:`toe_twitch.network`)."""
        return [f.id for f in self.findings.values() if f.twitching_property]

    @cached_property
    def red_flags(self) -> list[str]:
        return [f.id for f in self.findings.values() if f.red_flag]

    @cached_property
    def health_screen(self) -> list[str]:
        """Findings asked together on the health-history screen, in file order."""
        return [f.id for f in self.findings.values() if f.health_screen]

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
        cid: Cause(
            id=cid,
            label=str(c["label"]),
            seed=str(c.get("seed", "")),
            short=str(c.get("short") or c["label"].split(" (")[0]),
        )
        for cid, c in data["causes"].items()
    }
    findings = {
        fid: Finding(
            id=fid,
            label=str(f["label"]),
            states=tuple(f.get("states", BINARY_STATES)),
            red_flag=bool(f.get("red_flag", False)),
            implicit=f.get("implicit"),
            group=str(f.get("group", "")),
            applies_to=tuple(f.get("applies_to", ())),
            twitching_property=bool(f.get("twitching_property", False)),
            health_screen=bool(f.get("health_screen", False)),
            question=str(f.get("question") or f["label"]),
        )
        for fid, f in data["findings"].items()
    }
    urgency = {
        uid: UrgencyLevel(id=uid, label=str(u["label"]), rank=i)
        for i, (uid, u) in enumerate(data["urgency"].items())
    }
    return Vocabulary(causes=causes, findings=findings, urgency=urgency)


def suggest(word: str, options: Sequence[str], labels: Mapping[str, str]) -> str | None:
    """The option a mistyped ``word`` most likely meant: a unique prefix (``old`` ->
    ``older_adult``), a word of a label (``tingling`` -> ``numbness_tingling``), or the
    closest by edit distance.

    >>> suggest("old", ["infant", "child", "adult", "older_adult"], {})
    'older_adult'
    >>> suggest("leg_pan", ["leg_pain", "fever"], {})
    'leg_pain'
    """
    text = word.strip().lower().replace("-", "_").replace(" ", "_")
    if not text:
        return None
    prefixed = [o for o in options if o.startswith(text)]
    if len(prefixed) == 1:
        return prefixed[0]
    inside = [o for o in options if text in o.split("_")]
    if len(inside) == 1:
        return inside[0]
    worded = [o for o, label in labels.items() if text.replace("_", " ") in label.lower()]
    if len(worded) == 1:
        return worded[0]
    close = difflib.get_close_matches(text, list(options), n=1, cutoff=0.6)
    return close[0] if close else None
