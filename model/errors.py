"""Exceptions with messages a person can act on.

Every error names where the problem is (file, field path or evidence key), the rule that
was broken and, where possible, how to fix it. The command line prints these messages
and exits with status 2; it never shows a traceback for them.
"""

from __future__ import annotations

from dataclasses import dataclass


class ToeTwitchError(Exception):
    """Base class of every error the project raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (``location``) and what (``rule``)."""

    location: str
    rule: str

    def __str__(self) -> str:
        return f"{self.location}: {self.rule}" if self.location else self.rule


class InputFileError(ToeTwitchError):
    """A priors, vignette or network file that cannot be used, with every problem found."""

    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = list(problems)
        lines = [f"{path}: {p}" for p in self.problems]
        head = f"{path}: {len(self.problems)} problem(s) found"
        super().__init__("\n".join([head, *lines]))


class PriorsError(InputFileError):
    """A priors file that breaks the schema or the model's rules."""


class VignetteError(InputFileError):
    """A vignette file that breaks the vignette format."""


class EvidenceError(ToeTwitchError, ValueError):
    """Evidence that names an unknown finding or state, or is otherwise malformed."""


class ImpossibleEvidenceError(ToeTwitchError, ValueError):
    """Evidence that has probability zero under the model, so no posterior exists."""


class UnknownCauseError(ToeTwitchError, ValueError):
    """A cause id that is not in the vocabulary."""


class EngineError(ToeTwitchError):
    """The exact engine cannot handle a network (for example a table too large to build)."""


class OutputExistsError(ToeTwitchError, FileExistsError):
    """A file would be overwritten without the user's permission (``--force``)."""


class OutputIsDirectoryError(ToeTwitchError, IsADirectoryError):
    """The file to write is a directory; it is never replaced, even with ``--force``."""


class OutputNotRegularError(ToeTwitchError):
    """The file to write is a FIFO, device or socket; it is never replaced."""


class OutputFolderMissingError(ToeTwitchError, FileNotFoundError):
    """The folder of the file to write does not exist; nothing is created."""


class FileReadError(InputFileError):
    """A file that cannot be read at all: missing, unreadable, too large, or not a regular
    file (a FIFO, device, socket or directory). Carries one :class:`Problem`."""

    def __init__(self, path: str, rule: str):
        self.rule = rule
        super().__init__(path, [Problem("", rule)])


class NetworkFileError(InputFileError):
    """A network file (BIF, XMLBIF, XDSL, NET, UAI) that cannot be read or used."""


class PriorsRequiredError(ToeTwitchError):
    """A feature needs the priors (ranges, sources), but the model came from a network file."""


class OutputWriteError(ToeTwitchError):
    """The command line's output could not be written (disk full, a closed pipe, an I/O
    error); carries the :class:`OSError`."""

    def __init__(self, error: OSError):
        self.error = error
        super().__init__(f"cannot write the output: {error.strerror or error}")
