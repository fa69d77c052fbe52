"""Loading the model once per server process, and the order in which questions are asked."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from model import ToeTwitchModel, load_model

BINARY = ("absent", "present")

#: The groups as a clinician asks them. Red flags are read from the vocabulary
#: (``red_flag: true``); findings with other states than present/absent go to "About you".
GROUP_ABOUT = "About you"
GROUP_WHEN = "When and how it happens"
GROUP_SYMPTOMS = "Other symptoms"
GROUP_HISTORY = "Health history"
GROUP_RED_FLAGS = "Red flags"
GROUP_MORE = "More questions"

LISTED_GROUPS: dict[str, tuple[str, ...]] = {
    GROUP_WHEN: (
        "onset_falling_asleep",
        "during_sleep",
        "after_exertion",
        "dehydration_or_missed_meals",
        "persists_2_weeks",
        "interferes_with_walking",
    ),
    GROUP_SYMPTOMS: (
        "leg_pain",
        "cramp_stiffness",
        "numbness_tingling",
        "muscle_weakness",
        "widespread_twitching",
        "toe_curling",
        "resting_tremor",
        "cold_pale_feet",
        "joint_pain_swelling",
        "fever",
        "fatigue",
    ),
    GROUP_HISTORY: (
        "diabetes",
        "kidney_disease",
        "autoimmune_disease",
        "vascular_risk",
        "spine_or_nerve_injury",
        "caffeine_or_stimulants",
        "anxiety_or_stress",
        "exercise_near_bedtime",
        "poor_diet",
        "family_history_neuromuscular",
    ),
}

#: Readable names of the non-binary states (anything else is shown with its id tidied).
STATE_LABELS = {
    "infant": "Infant (under 2)",
    "child": "Child (2 to 17)",
    "adult": "Adult (18 to 59)",
    "older_adult": "Older adult (60 or over)",
}


@dataclass(frozen=True)
class Group:
    title: str
    findings: tuple[str, ...]


@st.cache_resource(show_spinner="Building the model…")
def get_model() -> ToeTwitchModel:
    """The model, built once per server process and shared by every session."""
    return load_model()


def is_binary(model: ToeTwitchModel, finding: str) -> bool:
    return tuple(model.states[finding]) == BINARY


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state.replace("_", " ").capitalize())


def question_groups(model: ToeTwitchModel) -> list[Group]:
    """Every finding of the model exactly once, in the order a clinician asks.

    Non-binary findings (age group) come first, red flags last. A finding the model has
    but no list names lands in "More questions" so it is never lost.
    """
    red = [f for f in model.findings if model.vocabulary.findings[f].red_flag]
    placed = set(red)
    about = [f for f in model.findings if not is_binary(model, f) and f not in placed]
    placed.update(about)
    groups = [Group(GROUP_ABOUT, tuple(about))]
    for title, listed in LISTED_GROUPS.items():
        members = tuple(f for f in listed if f in model.states and f not in placed)
        placed.update(members)
        groups.append(Group(title, members))
    rest = tuple(f for f in model.findings if f not in placed)
    if rest:
        groups.append(Group(GROUP_MORE, rest))
    groups.append(Group(GROUP_RED_FLAGS, tuple(red)))
    return [g for g in groups if g.findings]
