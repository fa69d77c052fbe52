"""Safe YAML reading: plain data only, bounded size, no aliases, no surprises.

``yaml.SafeLoader`` already refuses tags that would build Python objects. On top of it
this loader refuses

* anchors and aliases (the "billion laughs" expansion attack needs them, and a priors or
  vignette file never does) and files larger than ``MAX_BYTES``;
* a key given twice in one mapping (YAML would silently keep the last one, so a second
  ``value:`` or a second ``urgency:`` block would replace the first unseen);
* YAML 1.1's other number forms. A number is read only when written in plain decimals,
  optionally with an exponent (``10``, ``0.05``, ``-3``, ``5e-2``, ``1.0e-05``). What YAML
  1.1 would also take for a number (``010`` is octal 8, ``1:20`` is base-60 80, ``0x6``,
  ``0b110``, ``1_0``, ``.inf``, ``.nan``) is read as the text typed: an id stays the id
  typed, and a field that needs a number refuses it, naming the field
  (:func:`yaml11_number_form` says what the text would have been).

Nothing in a file is ever executed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from toe_twitch.errors import FileReadError, Problem
from toe_twitch.files import read_bounded

MAX_BYTES = 1_000_000


_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"
#: The numbers this project reads: plain decimals, optionally with an exponent.
PLAIN_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
PLAIN_FLOAT = re.compile(
    r"^[-+]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)$"
)
#: What YAML 1.1 (PyYAML's resolver) reads as a number, whatever the form.
_YAML11_NUMBER = [
    regexp
    for tag in (_INT_TAG, _FLOAT_TAG)
    for regexp in {r for first in "-+0123456789." for t, r in
                   yaml.SafeLoader.yaml_implicit_resolvers.get(first, []) if t == tag}
]


def yaml11_number_form(text: str) -> str | None:
    """What YAML 1.1 would make of ``text`` if it is a number form this project refuses.

    Returns None for plain decimals (which are read as numbers) and for text that is no
    number at all.

    >>> yaml11_number_form("010"), yaml11_number_form("1:20"), yaml11_number_form("0.5")
    ('the octal number 8', 'the base-60 number 80', None)
    """
    if PLAIN_INT.match(text) or PLAIN_FLOAT.match(text):
        return None
    if not any(r.match(text) for r in _YAML11_NUMBER):
        return None
    value = yaml.safe_load(text)
    digits = text.lstrip("+-").lower()
    if isinstance(value, float) and value != value:
        return "not a number (NaN)"
    if value in (float("inf"), float("-inf")):
        return "infinity" if value > 0 else "minus infinity"
    kind = (
        "hexadecimal" if digits.startswith("0x")
        else "binary" if digits.startswith("0b")
        else "base-60" if ":" in digits
        else "octal" if digits.startswith("0") and "." not in digits
        else "underscored"
    )
    return f"the {kind} number {value:g}" if isinstance(value, float) else f"the {kind} number {value}"


#: libyaml's parser (PyYAML's C binding, in every PyYAML wheel) when present: the same
#: events and marks as the pure-Python parser, about ten times faster on a priors file.
_ParserBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictSafeLoader(_ParserBase):  # type: ignore[misc, valid-type]
    """A SafeLoader that rejects duplicate keys and reads numbers only in plain decimals
    (other YAML 1.1 number forms stay text); :func:`_refuse_anchors` refuses anchors and
    aliases before it reads."""

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        if isinstance(node, yaml.MappingNode):
            first_seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = first_seen.setdefault(key, key_node)
                except TypeError:  # an unhashable key: SafeLoader refuses it below
                    continue
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"duplicate key {key!r} (first given on line "
                        f"{first.start_mark.line + 1}); each key may appear only once in a "
                        "mapping, or the last one would silently win",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep)


_StrictSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, r) for tag, r in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictSafeLoader.add_implicit_resolver(_INT_TAG, PLAIN_INT, list("-+0123456789"))
_StrictSafeLoader.add_implicit_resolver(_FLOAT_TAG, PLAIN_FLOAT, list("-+0123456789."))


def _refuse_anchors(text: str) -> None:
    """Raise a ConstructorError at the first anchor (&name) or alias (*name)."""
    for event in yaml.parse(text, Loader=_ParserBase):
        if isinstance(event, yaml.AliasEvent):
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in this file", event.start_mark
            )
        if getattr(event, "anchor", None) is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "anchors (&name) are not allowed in this file", event.start_mark
            )


def parse_yaml_text(text: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text into plain data; return ``(data, problems)``.

    ``problems`` is empty on success. A syntax error, an object-building tag, an alias,
    a duplicate key or an empty document becomes one :class:`Problem` with the line
    number.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        return None, [Problem("", f"file is larger than the limit of {MAX_BYTES} bytes")]
    if not text.strip():
        return None, [Problem("", "file is empty")]
    try:
        _refuse_anchors(text)
        data = yaml.load(text, Loader=_StrictSafeLoader)  # noqa: S506 - safe loader subclass
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or "unsupported YAML construct"
        if "could not determine a constructor" in problem:
            problem = (
                f"{problem}: YAML tags that build objects are not allowed; "
                "write plain values instead"
            )
        return None, [Problem(where, problem)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(where, f"not valid YAML: {problem}")]
    except RecursionError:
        return None, [Problem("", "nesting is too deep")]
    if data is None:
        return None, [Problem("", "file is empty (no YAML content)")]
    return data, []


def read_yaml_file(path: str | Path) -> tuple[Any, list[Problem]]:
    """Read and parse a YAML file; a file that cannot be read is a problem, not a crash.

    The file is read with :func:`toe_twitch.files.read_bounded`: only a regular file of at most
    ``MAX_BYTES`` is read, so a FIFO, a device such as ``/dev/zero`` or a huge file is
    refused at once instead of hanging the reader.

    Returns
    -------
    tuple
        ``(data, problems)`` as :func:`parse_yaml_text` returns them.
    """
    try:
        raw = read_bounded(path, MAX_BYTES)
    except FileReadError as exc:
        return None, exc.problems
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, [Problem("", "file is not UTF-8 text")]
    return parse_yaml_text(text)
