"""Text from files, links and names made safe for where it is shown.

Three places read text the project did not write, and each can be fooled differently:

* a terminal obeys control characters: ``ESC [2J`` clears the screen, ``CR`` overwrites
  a line, ``BEL`` rings, the C1 controls (U+0080 to U+009F) act as ESC sequences on some
  terminals. :func:`for_terminal` writes every such character as a visible escape
  (``\\x1b``), so a name or id prints as what it is;
* a page or a terminal that follows the Unicode bidirectional algorithm lets a
  direction override (U+202E) show a citation backwards. :func:`strip_bidi` removes
  those controls; :func:`visible_text` is what a reader actually sees (no zero-width or
  other invisible characters), used to decide whether a source says anything;
* a spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula.
  :func:`spreadsheet_cell` puts the usual apostrophe in front (OWASP, "CSV injection").

>>> for_terminal("\\x1b[2Jfake\\rline\\u202e")
'\\\\x1b[2Jfake\\\\x0dline\\\\u202e'
>>> strip_bidi("Smith \\u202e0202\\u202c 2020")
'Smith 0202 2020'
>>> spreadsheet_cell("=cmd|' /C calc'!A0"), spreadsheet_cell("plmt"), spreadsheet_cell(0.5)
("'=cmd|' /C calc'!A0", 'plmt', 0.5)
"""

from __future__ import annotations

import re
import unicodedata

#: Characters that change the direction text is shown in (embeddings, overrides,
#: isolates, and the left-to-right, right-to-left and Arabic letter marks).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
#: Unicode categories a reader never sees: controls, format characters (zero-width
#: spaces and joiners, direction controls), line and paragraph separators, surrogates,
#: private use and unassigned code points.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
#: What a spreadsheet takes for the start of a formula (tab and CR as well: some
#: spreadsheets drop them and then read the formula behind them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional control characters (:data:`BIDI_CONTROLS`)."""
    return _BIDI.sub("", text)


def visible_text(text: str) -> str:
    """What a reader sees of ``text``: invisible characters removed, spaces collapsed.

    >>> visible_text("\\u200b" * 12), visible_text("Smith\\u200b 2020")
    ('', 'Smith 2020')
    """
    kept = "".join(
        ch for ch in text
        if ch.isspace() or unicodedata.category(ch) not in INVISIBLE_CATEGORIES
    )
    return " ".join(kept.split())


def for_terminal(text: object, *, keep_newlines: bool = True) -> str:
    """``text`` with every character a terminal would act on, or not show, escaped.

    Control characters (C0 but newline and tab, DEL, C1), format characters (direction
    overrides, zero-width characters), line and paragraph separators and lone surrogates
    are written as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``; everything else is kept.

    Parameters
    ----------
    text
        What to print (anything; it is turned into text with ``str``).
    keep_newlines
        Keep newlines and tabs as they are (the layout of a whole message); when false
        they are escaped too (one field on one line, such as an id in a table).

    Returns
    -------
    str
        Text that prints as what it contains.
    """
    kept = "\n\t" if keep_newlines else ""
    out = []
    for ch in str(text):
        if ch in kept or unicodedata.category(ch) not in INVISIBLE_CATEGORIES:
            out.append(ch)
        else:
            code = ord(ch)
            out.append(
                f"\\x{code:02x}" if code < 0x100
                else f"\\u{code:04x}" if code < 0x10000
                else f"\\U{code:08x}"
            )
    return "".join(out)


def spreadsheet_cell(value: object) -> object:
    """A table cell that a spreadsheet shows as text, never runs as a formula.

    Text that begins with one of :data:`FORMULA_STARTS` gets an apostrophe in front;
    other text and numbers are returned as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
