"""Words and numbers as the page shows them, and text from outside made safe to show.

Anything that comes from a link, an uploaded file or a note goes through :func:`plain`
before it reaches the page, and is then shown with an element that never parses
Markdown or HTML (``st.text``, ``st.code``, a table cell). :func:`plain` also drops
control and direction-changing characters and truncates, so a crafted link can neither
write formatting into the page nor flood it.
"""

from __future__ import annotations

import math
import unicodedata

from toe_twitch import ToeTwitchModel

#: Longest piece of outside text (a link's key or value, a file name) shown in full.
MAX_SHOWN_CHARS = 60
#: Unicode categories never shown: controls, formatting (direction overrides,
#: zero-width characters), separators other than space, surrogates, private use, unassigned.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
#: A shown stand-in for each hidden character, so that a reader sees something was there.
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"

ANSWER_LABELS = {"present": "Yes", "absent": "No"}
DONT_KNOW = "Don't know"
AGE_LABELS = {
    "infant": "Baby (under 2)",
    "child": "Child (2 to 17)",
    "adult": "Adult (18 to 59)",
    "older_adult": "60 or over",
}
#: A cause's label longer than this loses its bracketed examples where space is short.
SHORT_NAME_CHARS = 40


def plain(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """Outside text as one safe line: hidden characters replaced, spaces collapsed, cut.

    >>> plain("a\\u202eb\\x00c  d\\n e")
    'a\ufffdb\ufffdc d e'
    >>> plain("x" * 100, limit=10)
    'xxxxxxxxx…'
    """
    shown = "".join(
        REPLACEMENT if unicodedata.category(ch) in _HIDDEN_CATEGORIES and not ch.isspace() else ch
        for ch in str(text)[: limit * 4]
    )
    shown = " ".join(shown.split())
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return shown


def percent(p: float | None) -> str:
    """A probability for reading: ``72%``, ``4.5%``, ``<0.1%``; ``–`` when not defined.

    >>> [percent(x) for x in (0.723, 0.045, 0.0002, float("nan"), None)]
    ['72%', '4.5%', '<0.1%', '–', '–']
    """
    if p is None or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "<0.1%"
    if p < 0.1:
        return f"{p:.1%}"
    return f"{p:.0%}"


def points(delta: float | None) -> str:
    """A change of probability in percentage points: ``+12 pts``, ``-0.4 pts``.

    >>> [points(x) for x in (0.123, -0.004, 0.0, None)]
    ['+12 pts', '-0.4 pts', '±0 pts', '–']
    """
    if delta is None or not math.isfinite(delta):
        return "–"
    value = delta * 100
    if abs(value) < 0.05:
        return "±0 pts"
    return f"{value:+.0f} pts" if abs(value) >= 10 else f"{value:+.1f} pts"


def times(ratio: float | None) -> str:
    """How many times more or less likely than before any answer, in words.

    >>> [times(x) for x in (3.24, 0.5, 1.02, 0.0, None)]
    ['3.2× more likely', '2.0× less likely', 'about as likely', 'ruled out', '–']
    """
    if ratio is None or not math.isfinite(ratio):
        return "–"
    if ratio <= 0:
        return "ruled out"
    if 1 / 1.1 < ratio < 1.1:
        return "about as likely"
    if ratio >= 1:
        return f"{ratio:.1f}× more likely" if ratio < 10 else f"{ratio:.0f}× more likely"
    inverse = 1 / ratio
    return f"{inverse:.1f}× less likely" if inverse < 10 else f"{inverse:.0f}× less likely"


def bits(gain: float) -> str:
    return f"{gain:.2f} bits"


def answer_label(state: str) -> str:
    """``Yes``, ``No``, ``Don't know`` or an age group in words."""
    if state == "unknown":
        return DONT_KNOW
    return ANSWER_LABELS.get(state) or AGE_LABELS.get(state) or state.replace("_", " ").capitalize()


def finding_label(model: ToeTwitchModel, finding: str) -> str:
    return model.vocabulary.findings[finding].label


def finding_question(model: ToeTwitchModel, finding: str) -> str:
    """The finding asked as a question, in the person's words ("Do you have a fever?")."""
    return model.vocabulary.findings[finding].question


def cause_label(model: ToeTwitchModel, cause: str) -> str:
    return model.vocabulary.causes[cause].label


def cause_name(model: ToeTwitchModel, cause: str) -> str:
    """A cause's label, without a long list of examples in brackets (for bars and tables).

    ``Periodic limb movement disorder (PLMD)`` keeps its short bracket;
    ``Poor blood circulation (e.g. atherosclerosis, ...)`` becomes ``Poor blood circulation``.
    """
    label = cause_label(model, cause)
    if len(label) > SHORT_NAME_CHARS and label.endswith(")") and " (" in label:
        return label[: label.rindex(" (")]
    return label


def urgency_title(model: ToeTwitchModel, level: str) -> str:
    return model.vocabulary.urgency[level].label


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 question``, ``3 questions``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def every(n: int, one: str, many: str | None = None) -> str:
    """All of a count, in words that fit one as well: ``the 1 problem``, ``all 3 problems``.

    >>> every(1, "problem"), every(3, "problem")
    ('the 1 problem', 'all 3 problems')
    """
    return f"{'the' if n == 1 else 'all'} {plural(n, one, many)}"
