"""The ``toe-twitch`` command line.

Subcommands: ``diagnose``, ``findings``, ``evaluate``, ``validate-priors``, ``export``
and ``serve``. Errors go to stderr (with ``--json``: a JSON object on stdout) with exit
status 2 and no traceback. ``--priors`` takes a priors YAML file or, for inference only,
a network file (``.bif``, ``.xmlbif``, ``.xdsl``, ``.net``, ``.uai``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from toe_twitch.cli import commands, diagnose
from toe_twitch.cli.output import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Parser,
    say,
    version,
)
from toe_twitch.errors import InputFileError, OutputWriteError, ToeTwitchError
from toe_twitch.records import DISCLAIMER
from toe_twitch.vocabulary import load_vocabulary


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="toe-twitch",
        description="Differential likelihoods for toe twitching: ranks twelve possible causes "
        "by probability from your answers and says how urgently to seek care. " + DISCLAIMER,
        epilog="Every command takes --help. --json gives machine-readable output, errors "
        "included; every command exits 0 on success and 2 on bad input.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    diagnose.add_parsers(sub, parser)
    commands.add_parsers(sub)
    p = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or tcsh)",
        description="Print a completion script for the shell. Bash: "
        "'eval \"$(toe-twitch completion bash)\"' in ~/.bashrc; zsh: "
        "'toe-twitch completion zsh > \"${fpath[1]}/_toe-twitch\"'. It completes the commands, "
        "their options and every FINDING=STATE answer.",
    )
    p.add_argument("shell", choices=["bash", "zsh", "tcsh"], help="the shell to complete for")
    p.set_defaults(func=_cmd_completion)
    return parser


def _answer_words() -> list[str]:
    """Every FINDING=STATE the command line accepts (yes/no for present/absent)."""
    vocab = load_vocabulary()
    words = []
    for f, finding in vocab.findings.items():
        if finding.implicit:  # the twitching itself is never answered
            continue
        states = list(finding.states)
        if set(states) == {"absent", "present"}:
            states = ["yes", "no"]
        words += [f"{f}={s}" for s in states]
    return words


def _cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    parser = build_parser()
    words = " ".join(_answer_words())
    preamble = {
        "bash": f'_toe_twitch_answers() {{ compgen -W "{words}" -- "$1"; }}\n',
        "zsh": "",
        "tcsh": "",
    }
    parser.answers_action.complete = {
        "bash": "_toe_twitch_answers", "zsh": f"({words})", "tcsh": f"({words})",
    }
    say(shtab.complete(parser, shell=args.shell, preamble=preamble[args.shell]))
    return 0


def _error_json(exc: ToeTwitchError) -> str:
    body: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, InputFileError):
        body["file"] = exc.path
        body["problems"] = [{"location": p.location, "rule": p.rule} for p in exc.problems]
    return json.dumps({"error": body}, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status.

    0 on success, 2 on bad input (a message naming the file, field and rule), 1 on an
    internal error or when the output cannot be written (one line on stderr), 130 when
    interrupted (Ctrl-C) and 141 when the reader of a pipe has gone (``| head``: silent).
    """
    args = build_parser().parse_args(argv)
    try:
        status = _run(args)
        try:
            sys.stdout.flush()
        except OSError as exc:
            raise OutputWriteError(exc) from None
        return status
    except OutputWriteError as exc:
        _silence_stdout()
        if isinstance(exc.error, BrokenPipeError):
            return EXIT_BROKEN_PIPE
        say(f"toe-twitch: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        say("toe-twitch: interrupted", err=True)
        return EXIT_INTERRUPTED


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's last flush of what
    could not be written fails no more (Python's recipe for a closed pipe)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no file descriptor (captured output)
        pass


def _run(args: argparse.Namespace) -> int:
    """The command, with its errors reported (a failed write and Ctrl-C go to main)."""
    try:
        return args.func(args)
    except (OutputWriteError, KeyboardInterrupt):
        raise
    except BrokenPipeError as exc:
        raise OutputWriteError(exc) from None
    except ToeTwitchError as exc:
        if getattr(args, "json", False):
            say(_error_json(exc))
        elif isinstance(exc, InputFileError) and len(exc.problems) == 1:
            say(f"{exc.path}: {exc.problems[0]}", err=True)  # one line, no count
        elif isinstance(exc, InputFileError):
            say(str(exc), err=True)
        else:
            say(f"toe-twitch: error: {exc}", err=True)
        return EXIT_USAGE
    except Exception as exc:  # a bug, not bad input: one line, the traceback on request
        if os.environ.get("TOE_TWITCH_DEBUG"):
            raise
        message = f"internal error: {type(exc).__name__}: {exc}".replace("\n", " ")[:500]
        if getattr(args, "json", False):
            say(json.dumps({"error": {"type": "InternalError", "message": message}}, indent=2))
        else:
            say(f"toe-twitch: {message} (set TOE_TWITCH_DEBUG=1 to see the traceback; "
                  "please report it)", err=True)
        return 1


__all__ = ["build_parser", "main"]


if __name__ == "__main__":
    sys.exit(main())
