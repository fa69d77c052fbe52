"""A parameter of the priors in words, as the Tune priors page and its tables name it
(``Parkinson's disease · odds ratio if: has diabetes``)."""

from __future__ import annotations

from toe_twitch import ToeTwitchModel
from toe_twitch.ui.text import AGE_LABELS, cause_name


def cause_of(path: str) -> str | None:
    parts = path.split(".")
    if parts[0] == "causes":
        return parts[1]
    if parts[0] == "findings" and len(parts) > 3 and parts[2] == "links":
        return parts[3]
    if parts[0] == "urgency":
        return parts[-1]
    return None


def parameter_label(model: ToeTwitchModel, path: str) -> str:
    """What the number is, in words: ``odds ratio if: has diabetes``."""
    parts = path.split(".")
    findings = model.vocabulary.findings

    def named(f: str) -> str:
        return findings[f].label if f in findings else f

    def age(i: int) -> str:
        return f", {AGE_LABELS.get(parts[i], parts[i]).lower()}" if len(parts) > i else ""

    section = parts[0]
    if section == "age_groups":
        return f"share of the population: {AGE_LABELS.get(parts[1], parts[1]).lower()}"
    if section == "risk_factors":
        return f"{named(parts[1])}: prevalence{age(3)}"
    if section == "causes" and parts[2] == "prevalence":
        return f"prevalence{age(3)}"
    if section == "causes":
        return f"odds ratio if: {named(parts[3])}"
    if section == "findings" and parts[2] == "leak":
        return f"{named(parts[1])}: leak (any other reason){age(3)}"
    if section == "findings":
        return f"link to: {named(parts[1])}{age(4)}"
    return "threshold for seeing a doctor"


def row_label(model: ToeTwitchModel, path: str, with_cause: bool = True) -> str:
    """A row's label in words, led by its cause's name (the one every page uses):
    ``Hypnic (hypnagogic) jerks · prevalence, adult (18 to 59)``."""
    cause = cause_of(path)
    lead = f"{cause_name(model, cause)} · " if with_cause and cause in model.causes else ""
    return lead + parameter_label(model, path)


def grid_label(model: ToeTwitchModel, path: str, with_cause: bool = True) -> str:
    """A row's label in the grid: what the number is first, then its cause's name (the
    narrow pinned column shows the beginning, which tells neighbouring rows apart)."""
    cause = cause_of(path)
    tail = f" · {cause_name(model, cause)}" if with_cause and cause in model.causes else ""
    return parameter_label(model, path) + tail
