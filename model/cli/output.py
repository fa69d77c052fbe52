"""What every command of the command line shares: exit statuses, the one way it writes
(:func:`say`), its argument parser class, and the help text of shared options."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata

from toe_twitch.errors import OutputWriteError
from toe_twitch.safe_text import for_terminal

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: 128 + SIGPIPE, what a tool stopped by a closed pipe exits with.
EXIT_BROKEN_PIPE = 141
def version() -> str:
    try:
        return metadata.version("toe-twitch")
    except metadata.PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown (not installed)"


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on exit status 2 and its text escaped for the terminal."""

    def error(self, message: str):  # argparse's own errors: usage + exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def _print_message(self, message: str, file=None) -> None:  # type: ignore[no-untyped-def]
        super()._print_message(for_terminal(message) if message else message, file)


def say(text: object = "", *, err: bool = False, flush: bool = False) -> None:
    """Print one message, every control character escaped (:func:`for_terminal`).

    The one way this command line writes, so that no id, name, file name or source from
    a file can drive the terminal. A failed write to stdout (a full disk, a closed pipe)
    raises :class:`~toe_twitch.errors.OutputWriteError`; one to stderr is dropped.
    """
    stream = sys.stderr if err else sys.stdout
    try:
        print(for_terminal(text), file=stream, flush=flush)
    except OSError as exc:
        if not err:
            raise OutputWriteError(exc) from None


#: shtab's file completion (the same dict as ``shtab.FILE``; shtab is imported only to print).
FILE_COMPLETION = {"bash": "_shtab_compgen_files", "zsh": "_files", "tcsh": "f"}


#: Help shared by every command that takes ``--priors``.
PRIORS_HELP = (
    "priors YAML file to use instead of the shipped priors (priors/default.yaml); a network "
    "file (.bif, .xmlbif, .xdsl, .net, .uai) also works, for inference only"
)


