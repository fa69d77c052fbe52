"""Formatting helpers shared by the pages (numbers, labels, short texts)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from model import ToeTwitchModel
from ui import state
from ui.loaders import state_label

ANSWER_LABELS = {"present": "Yes", "absent": "No", state.UNKNOWN: "Don't know"}
#: The article's colours for the three urgency levels (as Streamlit's alert colours).
URGENCY_COLOURS = {"self_care": "green", "see_doctor": "orange", "emergency": "red"}
#: Probabilities are drawn in a calm blue (red is kept for emergencies).
BAR_COLOUR = "#4e8fd6"


def percent(p: float) -> str:
    if p < 0.001:
        return "<0.1%"
    if p < 0.1:
        return f"{p:.1%}"
    return f"{p:.0%}"


def times(x: float) -> str:
    return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×"


def ratio_text(x: float) -> str:
    """A likelihood ratio for reading: ``14``, ``2.3``, ``0.052``, ``<0.001``, ``1,200``.

    >>> [ratio_text(x) for x in (1234.5, 14.2, 2.345, 0.0523, 0.0004)]
    ['1,234', '14', '2.3', '0.052', '<0.001']
    """
    if math.isinf(x):
        return "∞"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.0f}"
    if x >= 0.001:
        return f"{x:.2g}"
    return "<0.001"


def relative_text(ratio: float) -> str:
    """``3.2× more likely than before your answers`` and the like."""
    if 1 / 1.1 < ratio < 1.1:
        return "about as likely as before your answers"
    if ratio >= 1:
        return f"{times(ratio)} more likely than before your answers"
    return f"{times(1 / ratio)} less likely than before your answers"


def points(delta: float) -> str:
    """A change in probability in percentage points: ``+12 pts``."""
    value = delta * 100
    if abs(value) < 0.05:
        return "±0 pts"
    shown = f"{value:+.0f}" if abs(value) >= 10 else f"{value:+.1f}"
    return f"{shown} pts"


def plain(seed: str) -> str:
    """The article's words about a cause, as one readable line."""
    text = " ".join(seed.split()).replace(" ... ", " … ")
    return f"“{text[0].upper()}{text[1:]}”" if text else ""


def bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def numbered(lines: Iterable[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1))


def cause_label(model: ToeTwitchModel, cause: str) -> str:
    return model.vocabulary.causes[cause].label


def short_cause(model: ToeTwitchModel, cause: str) -> str:
    """The label without its parenthesis: ``Periodic limb movement disorder``."""
    return model.vocabulary.causes[cause].label.split(" (")[0]


def finding_label(model: ToeTwitchModel, finding: str) -> str:
    return model.vocabulary.findings[finding].label


def answer_label(value: str) -> str:
    """``Yes``, ``No``, ``Don't know`` or a tidy state name (``Adult (18 to 59)``)."""
    return ANSWER_LABELS.get(value) or state_label(value)


def urgency_label(model: ToeTwitchModel, level: str) -> str:
    return model.vocabulary.urgency[level].label


def urgency_badge(model: ToeTwitchModel, level: str) -> str:
    """The urgency level as a coloured badge in Markdown."""
    return f":{URGENCY_COLOURS[level]}-badge[{urgency_label(model, level)}]"


def markdown_escape(text: str) -> str:
    """Text shown as is in Markdown (no emphasis, links or HTML from its characters)."""
    for ch in "\\`*_{}[]<>()#+-.!|~$":
        text = text.replace(ch, "\\" + ch)
    return text


def error_block(title: str, details: str) -> str:
    """An error message: a bold title, then the validator's lines exactly, as code."""
    return f"**{title}**\n\n```text\n{details}\n```"
