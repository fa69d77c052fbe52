"""The ``toe-twitch`` entry point (also ``python -m toe_twitch``).

Ctrl-C must stop the command with one short line and exit status 130 at any moment,
also during the second or so it takes to import pgmpy, numba and the rest. So this module
imports nothing heavy: :func:`main` first installs a SIGINT handler that ends the
process at once, then imports the command line, then hands Ctrl-C back to Python (the
command line turns ``KeyboardInterrupt`` into the same line and status). Raising
``KeyboardInterrupt`` inside a half-finished import would print its traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

EXIT_INTERRUPTED = 130
INTERRUPTED = "toe-twitch: interrupted\n"


def _stop_now(signum: int, frame: FrameType | None) -> None:
    try:
        sys.stderr.write(INTERRUPTED)
        sys.stderr.flush()
    finally:
        os._exit(EXIT_INTERRUPTED)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; Ctrl-C during start-up ends it with status 130, no traceback."""
    handled = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if handled:
        signal.signal(signal.SIGINT, _stop_now)
    from toe_twitch.cli import main as cli_main

    if handled:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
