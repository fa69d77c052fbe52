"""Safe YAML reading: plain data only, bounded size, no aliases.

``yaml.SafeLoader`` already refuses tags that would build Python objects. On top of it
this loader refuses anchors and aliases (the "billion laughs" expansion attack needs
them, and a priors or vignette file never does) and files larger than ``MAX_BYTES``.
Nothing in a file is ever executed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from toe_twitch.errors import FileReadError, Problem
from toe_twitch.files import read_bounded

MAX_BYTES = 1_000_000


class _NoAliasSafeLoader(yaml.SafeLoader):
    """A SafeLoader that rejects anchors and aliases."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in this file", event.start_mark
            )
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "anchors (&name) are not allowed in this file", event.start_mark
            )
        return super().compose_node(parent, index)


def parse_yaml_text(text: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text into plain data; return ``(data, problems)``.

    ``problems`` is empty on success. A syntax error, an object-building tag, an alias
    or an empty document becomes one :class:`Problem` with the line number.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        return None, [Problem("", f"file is larger than the limit of {MAX_BYTES} bytes")]
    if not text.strip():
        return None, [Problem("", "file is empty")]
    try:
        data = yaml.load(text, Loader=_NoAliasSafeLoader)  # noqa: S506 - safe loader subclass
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
