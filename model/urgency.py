"""Urgency guidance: the level (self care, see a doctor, emergency), its reasons, advice.

The rules come from the source article and the red-flag sources:

* any red flag present                                   -> emergency
* persists two weeks or more, or interferes with walking -> at least see a doctor
* fever or fatigue together with persistence             -> at least see a doctor
* fever together with a painful, swollen joint           -> at least see a doctor
  (clinical-facts: the NHS advises a GP for cramps with swelling; a hot joint with fever
  may be infected)
* a serious cause whose probability passes its threshold -> at least see a doctor

The rules only ever raise the level. The threshold rule uses posteriors, which can move
either way when a finding is added; so that reporting fever or fatigue (warning signs in
the article) can never *lower* the level, the threshold rule is checked on the evidence as
given and on every variant with those findings unknown or absent, and the highest
level wins (see :func:`warning_sign_variants`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from model.safe_yaml import read_yaml_file
from model.vocabulary import Vocabulary

LEVELS = ("self_care", "see_doctor", "emergency")
RANK = {level: i for i, level in enumerate(LEVELS)}
#: Findings the article ties to seeing a doctor on their own.
SEE_DOCTOR_FINDINGS = ("persists_2_weeks", "interferes_with_walking")
#: Findings the article ties to seeing a doctor together with persistence.
WARNING_SIGNS = ("fever", "fatigue")
ADVICE_PATH = Path(__file__).with_name("advice.yaml")


@dataclass(frozen=True)
class Exercise:
    title: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Advice:
    """The article's advice for one urgency level."""

    level: str
    summary: str
    next_steps: tuple[str, ...] = ()
    home_remedies: tuple[tuple[str, str], ...] = ()
    exercises: tuple[Exercise, ...] = ()
    walking_on_sand: str = ""
    prevention: tuple[str, ...] = ()
    when_to_see_doctor: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "summary": self.summary,
            "next_steps": list(self.next_steps),
            "home_remedies": [{"title": t, "text": x} for t, x in self.home_remedies],
            "exercises": [{"title": e.title, "steps": list(e.steps)} for e in self.exercises],
            "walking_on_sand": self.walking_on_sand,
            "prevention": list(self.prevention),
            "when_to_see_doctor": list(self.when_to_see_doctor),
        }


@cache
def load_advice() -> dict[str, Advice]:
    """Advice per level. ``see_doctor`` also carries the self-care tips (safe meanwhile)."""
    data, problems = read_yaml_file(ADVICE_PATH)
    if problems:
        raise RuntimeError(f"{ADVICE_PATH}: " + "; ".join(map(str, problems)))
    care = data["self_care"]
    remedies = tuple((r["title"], r["text"]) for r in care["home_remedies"])
    exercises = tuple(Exercise(e["title"], tuple(e["steps"])) for e in care["exercises"])
    return {
        "self_care": Advice(
            level="self_care",
            summary=care["summary"],
            home_remedies=remedies,
            exercises=exercises,
            walking_on_sand=care["walking_on_sand"],
            prevention=tuple(care["prevention"]),
            when_to_see_doctor=tuple(care["when_to_see_doctor"]),
        ),
        "see_doctor": Advice(
            level="see_doctor",
            summary=data["see_doctor"]["summary"],
            next_steps=tuple(data["see_doctor"]["next_steps"]),
            home_remedies=remedies,
            exercises=exercises,
            walking_on_sand=care["walking_on_sand"],
            prevention=tuple(care["prevention"]),
        ),
        # Emergency advice carries nothing that could distract from calling for help.
        "emergency": Advice(
            level="emergency",
            summary=data["emergency"]["summary"],
            next_steps=tuple(data["emergency"]["next_steps"]),
        ),
    }


def rule_level(evidence: dict[str, str], vocab: Vocabulary) -> tuple[str, list[str]]:
    """The level the article's rules give, with their reasons (no probabilities used)."""
    present = {f for f, s in evidence.items() if s == "present"}
    reasons: list[str] = []
    flags = [f for f in vocab.red_flags if f in present]
    for f in flags:
        reasons.append(
            f"Red flag: {vocab.findings[f].label.lower()}. This needs emergency care now."
        )
    doctor: list[str] = []
    if "persists_2_weeks" in present:
        doctor.append("The twitching has gone on for two weeks or more; the article says to see a doctor.")
    if "interferes_with_walking" in present:
        doctor.append(
            "It gets in the way of walking, running or other activities; the article says to see a doctor."
        )
    warning = [f for f in WARNING_SIGNS if f in present]
    if warning and "persists_2_weeks" in present:
        names = " and ".join(vocab.findings[f].label.lower() for f in warning)
        doctor.append(f"{names.capitalize()} together with persistent twitching; the article says to see a doctor.")
    if "fever" in present and "joint_pain_swelling" in present:
        doctor.append(
            "Fever together with a painful, swollen joint; a doctor should check for an "
            "inflamed or infected joint (the NHS advises a GP visit for cramps with swelling)."
        )
    reasons.extend(doctor)
    level = "emergency" if flags else "see_doctor" if doctor else "self_care"
    return level, reasons


def warning_sign_variants(evidence: dict[str, str]) -> list[dict[str, str]]:
    """The evidence and every variant with present warning signs made unknown or absent."""
    present = [f for f in WARNING_SIGNS if evidence.get(f) == "present"]
    variants = []
    for choice in itertools.product(("present", None, "absent"), repeat=len(present)):
        variant = dict(evidence)
        for f, state in zip(present, choice, strict=True):
            if state is None:
                variant.pop(f)
            else:
                variant[f] = state
        variants.append(variant)
    return variants


def threshold_reasons(
    posteriors: dict[str, float],
    thresholds: dict[str, float],
    vocab: Vocabulary,
) -> list[str]:
    """Reasons for every serious cause whose probability passes its threshold."""
    reasons = []
    for cause, threshold in thresholds.items():
        p = posteriors.get(cause, 0.0)
        if p >= threshold:
            reasons.append(
                f"{vocab.causes[cause].label} has a probability of {p:.1%}, above the "
                f"{threshold:.0%} at which a doctor should assess it."
            )
    return reasons
