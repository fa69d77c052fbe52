"""``toe-twitch evaluate``, ``validate-priors``, ``export``, ``serve`` and ``fit``."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from importlib import resources
from typing import Any

from toe_twitch.cli.diagnose import cause_short
from toe_twitch.cli.output import FILE_COMPLETION, PRIORS_HELP, say
from toe_twitch.errors import OutputExistsError, ToeTwitchError
from toe_twitch.interop import FORMATS, export_network, format_for_path
from toe_twitch.loading import load_model
from toe_twitch.priors import iter_parameters, load_priors, source_counts
from toe_twitch.records import DISCLAIMER
from toe_twitch.safe_text import for_terminal

#: What the marks and counts of ``toe-twitch evaluate`` mean (docs/vignette-format.md).
EVALUATE_LEGEND = (
    "Legend: ok = as the vignette expects; MISS = not as it expects; - = not judged (the",
    "  vignette lists no cause for that column). top1: the first cause is one the vignette",
    "  names; top3: EVERY cause the vignette lists is among the three likeliest (all of",
    "  them, not just one); ok (last column): the urgency is one the vignette accepts.",
    "  UNDER-TRIAGED / under-triaged N: the urgency is below the lowest level the vignette",
    "  accepts; (emergencies M): how many of those expected an emergency, the worst error.",
    "  top-1 and top-3 are shares of the vignettes judged (of N); skipped ones are not scored.",
)


def _cmd_evaluate(args) -> int:
    from toe_twitch.vignettes import evaluate, load_vignettes

    vignettes = load_vignettes(args.vignettes)
    model = load_model(args.priors)
    evaluation = evaluate(model, vignettes)
    if args.json:
        say(json.dumps(evaluation.to_dict(), indent=2))
        return 0
    mark = {True: "ok", False: "MISS", None: "-"}
    say(
        f"{'vignette':<44} {'first cause':<17} {'p':>6}  {'top1':>4} {'top3':>4}  {'urgency':<11} ok"
    )
    for r in evaluation.results:
        top, p = r.diagnosis.ranking[0]
        say(
            f"{for_terminal(r.vignette.id, keep_newlines=False):<44} {cause_short(top):<17} {p:>6.1%}  {mark[r.top1_ok]:>4} {mark[r.top3_ok]:>4}  "
            f"{r.diagnosis.urgency:<11} {mark[r.urgency_ok]}{'  UNDER-TRIAGED' if r.under_triaged else ''}"
        )
    for skipped in evaluation.skipped:
        say(f"skipped: {skipped.message}")
    s = evaluation.summary

    def pct(x):
        return "n/a" if x is None else f"{x:.1%}"

    say()
    for line in EVALUATE_LEGEND:
        say(line)
    say()
    say(
        f"{s['vignettes']} vignettes: top-1 {pct(s['top1_accuracy'])} (of {s['top1_judged']}), "
        f"top-3 {pct(s['top3_accuracy'])} (of {s['top3_judged']}), urgency "
        f"{pct(s['urgency_accuracy'])}, under-triaged {s['under_triaged']} "
        f"(emergencies {s['under_triaged_emergencies']})"
        + (f"; {s['skipped']} skipped" if s["skipped"] else "")
    )
    return 0


def _cmd_validate(args) -> int:
    priors = load_priors(args.file)
    n = len(list(iter_parameters(priors)))
    counts = source_counts(priors)
    say(
        f"{args.file}: valid priors '{priors.name}': {n} parameters, {len(priors.causes)} causes, "
        f"{len(priors.risk_factors)} risk factors, {len(priors.findings)} findings; sources: "
        f"{counts['cited']} cite a published figure ({counts['cited'] / n:.0%}), "
        f"{counts['definition']} follow from a definition, {counts['judged']} are expert "
        "judgement with reasons"
    )
    for warning in priors.warnings:
        say(f"{args.file}: warning: {warning}")
    return 0


def _cmd_export(args) -> int:
    model = load_model(args.priors)
    try:
        path = export_network(model, args.out, args.format, overwrite=args.force)
    except OutputExistsError as exc:  # the message names --force and the Python keyword
        raise OutputExistsError(str(exc).replace(" (overwrite=True from Python)", "")) from None
    except ToeTwitchError:
        raise
    except OSError as exc:  # the write itself failed: no permission, disk full, read-only
        raise ToeTwitchError(f"{args.out}: cannot write the file: {exc.strerror or exc}") from None
    fmt = format_for_path(path)
    network = model.network
    precision = "every digit" if fmt.decimals is None else f"{fmt.decimals} decimals"
    labels = f"labels as {fmt.labels}" if fmt.labels else "no names or labels (UAI has none)"
    say(
        f"wrote {path} ({fmt.title}: {len(network.nodes())} variables, "
        f"{len(network.edges())} arcs; probabilities to {precision}; {labels})"
    )
    return 0


def serve_settings() -> dict[str, str]:
    """The page's Streamlit settings, read from its one home, ``ui/.streamlit/config.toml``
    (installed with the page), as ``section.key`` -> the value a command-line flag takes.

    ``toe-twitch serve`` passes them as flags too, so they hold whatever the working
    directory (Streamlit reads a config file from the working directory's ``.streamlit``).
    """
    text = resources.files("toe_twitch.ui").joinpath(".streamlit", "config.toml").read_text()
    settings = {}
    for section, values in tomllib.loads(text).items():
        for key, value in values.items():
            flag = str(value).lower() if isinstance(value, bool) else str(value)
            settings[f"{section}.{key}"] = flag
    return settings


def serve_command(port: int, address: str, extra: Sequence[str] = ()) -> list[str]:
    """The ``streamlit run`` command that serves the installed page."""
    app = resources.files("toe_twitch.ui").joinpath("app.py")
    command = [sys.executable, "-m", "streamlit", "run", str(app)]
    given = {"server.port", "server.address"}  # the command's own options say these
    command += [f"--{key}={value}" for key, value in serve_settings().items() if key not in given]
    command += [f"--server.port={port}", f"--server.address={address}", *extra]
    return command


def check_address(address: str) -> None:
    """Refuse an ``--address`` the page could not listen on, before starting the server.

    A numeric address must be a valid IPv4 or IPv6 address; a name must resolve; and one
    of its addresses must belong to this machine (a test bind to a free port).

    Raises
    ------
    ToeTwitchError
        Naming the address and why it cannot be used.
    """
    hint = "use 127.0.0.1 (this machine only) or an address of this machine"
    if not address or address.replace(".", "").isdigit() or ":" in address:
        try:
            ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            raise ToeTwitchError(f"--address {address!r} is not a valid IP address; {hint}") from None
    try:
        found = socket.getaddrinfo(address.strip("[]"), None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ToeTwitchError(f"--address {address!r} cannot be resolved ({exc}); {hint}") from None
    reason = "no address found"
    for family, kind, proto, _, sockaddr in found:
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.bind((sockaddr[0], 0, *sockaddr[2:]))
            return
        except OSError as exc:
            reason = exc.strerror or str(exc)
    raise ToeTwitchError(f"--address {address!r}: the page cannot listen there ({reason}); {hint}")


def _cmd_serve(args) -> int:
    if not 1 <= args.port <= 65535:
        raise ToeTwitchError(f"--port must be between 1 and 65535, got {args.port}")
    check_address(args.address)
    command = serve_command(args.port, args.address)
    say(f"serving the page on http://{args.address}:{args.port} (Ctrl+C stops it)", flush=True)
    if args.address not in ("127.0.0.1", "localhost", "::1"):
        say(
            f"note: {args.address} is reachable from other machines; the page is meant for "
            "one person's own use",
            err=True,
        )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if os.name == "posix":
        # Become the server (no child left behind when this process is stopped).
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, command, env)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 130


# ---------------------------------------------------------------- fit (issue 23)
def _add_fit_parser(sub: Any) -> None:
    p = sub.add_parser(
        "fit",
        help="learn the priors from a clinic's cases (MAP by EM, the ranges as the prior)",
        description="Learn the numbers from a case file (CSV: one column per finding id, "
        "yes/no or present/absent, age_group's states, empty = unknown; an optional "
        "'diagnosis' column: confirmed causes separated by ';', 'none', or empty) with each "
        "number's value and range as its prior, and write the result as an ordinary priors "
        "file whose ranges are the 90%% credible intervals. OUT is replaced only with "
        "--force, and atomically; nothing is written if the fit cannot run.",
    )
    p.add_argument("cases", metavar="CASES", help="case file (.csv; .parquet if pyarrow is installed)")
    p.add_argument("--out", metavar="LEARNED.yaml", required=True, help="priors file to write")
    p.add_argument("--priors", metavar="FILE", help="starting priors (default: the shipped ones)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=_cmd_fit)


def _fit_report(result: Any, out: str) -> str:
    from toe_twitch.learning import CONFLICT_THRESHOLD

    moved = result.moved()
    state = "converged" if result.converged else "stopped at the iteration limit"
    lines = [
        f"learned from {result.cases_used} cases of {result.source} "
        f"({len(result.skipped)} skipped) in {result.iterations} iterations ({state}), "
        f"{result.seconds:.1f} s; wrote {out}",
        f"{len(result.numbers)} numbers learned; {len(moved)} moved outside their 90% interval "
        "or contradict their prior:",
    ]
    for n in moved[:30]:
        flag = "  data contradict the prior" if n.conflict else ""
        lines.append(f"  {n.path}: {n.before:.4g} -> {n.after:.4g} [{n.low:.4g}, {n.high:.4g}], "
                     f"{n.cases:.0f} cases{flag}")
    if len(moved) > 30:
        lines.append(f"  ... and {len(moved) - 30} more (--json lists every number)")
    for note in result.skipped[:10]:
        lines.append(f"skipped row {note.row}{f' (id {note.label})' if note.label else ''}: {note.reason}")
    if result.conflicting_cases:
        shown = ", ".join(f"row {c.row} ({c.conflict:.1f})" for c in result.conflicting_cases[:10])
        lines.append(f"{len(result.conflicting_cases)} cases fit the learned model badly "
                     f"(conf(e) above {CONFLICT_THRESHOLD:.2f}): {shown}")
    return "\n".join(lines)


def _cmd_fit(args: argparse.Namespace) -> int:
    from toe_twitch.learning import check_output, fit, read_cases, write_learned

    check_output(args.out, overwrite=args.force)  # refuse before a long fit
    model = load_model(args.priors)
    model.require_priors("learning from cases")
    cases = read_cases(args.cases, model)

    def progress(iteration: int, change: float) -> None:
        if sys.stderr.isatty():
            say(f"iteration {iteration}: largest change {change:.4g}", err=True, flush=True)

    result = fit(cases, model, progress=progress)
    try:
        write_learned(result, args.out, overwrite=args.force)
    except ToeTwitchError:
        raise
    except OSError as exc:
        raise ToeTwitchError(f"{args.out}: cannot write the file: {exc.strerror or exc}") from None
    if args.json:
        say(json.dumps({**result.to_dict(), "out": str(args.out)}, indent=2))
    else:
        say(_fit_report(result, str(args.out)))
    return 0


def add_parsers(sub: Any) -> None:
    """The ``evaluate``, ``validate-priors``, ``export``, ``serve`` and ``fit`` commands."""
    p = sub.add_parser(
        "evaluate",
        help="score the model on a vignette file (top-1, top-3, urgency, under-triage)",
        description="Score the model on clinical vignettes (format: docs/vignette-format.md): "
        "one line per vignette with its first cause and a mark per check, a legend, then the "
        "shares. top-3 counts only when every cause the vignette lists is among the three "
        "likeliest; under-triaged means an urgency below the lowest the vignette accepts.",
    )
    p.add_argument(
        "vignettes", metavar="VIGNETTES.yaml", nargs="?", default=None,
        help="vignette file (default: the shipped vignettes)",
    )
    p.add_argument("--priors", metavar="FILE", help=PRIORS_HELP).complete = FILE_COMPLETION
    p.add_argument(
        "--json", action="store_true",
        help="print one JSON object: every result (cause ids, marks), the skipped and the summary",
    )
    p.set_defaults(func=_cmd_evaluate)
    p = sub.add_parser(
        "validate-priors",
        help="check a priors file and list every problem",
        description="Check a priors file against the schema (every number inside its "
        "plausible range, with a source; no unknown or missing keys) and list every problem "
        "by field, exit status 2; a valid file is counted: parameters, causes, findings and "
        "how many numbers cite a published figure.",
    )
    p.add_argument(
        "file", metavar="FILE", help="the priors YAML file (a copy of priors/default.yaml)",
    ).complete = FILE_COMPLETION
    p.add_argument(
        "--json", action="store_true",
        help="print errors as one JSON object (file, and each problem's location and rule)",
    )
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser(
        "export",
        help="write the network for other tools (BIF, XMLBIF, XDSL, NET, UAI)",
        description="Write the model's network (every CPT, state names and, where the "
        "format allows, labels) through pgmpy's writers. The file is replaced only with "
        "--force, and atomically.",
    )
    p.add_argument("out", metavar="OUT", help="file to write; its extension must fit the format")
    p.add_argument(
        "--format",
        choices=list(FORMATS),
        help="file format (default: from the extension of OUT)",
    )
    p.add_argument(
        "--priors", metavar="FILE",
        help="priors (or network) file to export instead of the shipped priors",
    ).complete = FILE_COMPLETION
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=_cmd_export)
    p = sub.add_parser(
        "serve",
        help="start the page (on this machine only unless --address says otherwise)",
        description="Start the page (Streamlit) from the installed package, on "
        "http://127.0.0.1:8501 unless --address or --port say otherwise; Ctrl+C stops it. "
        + DISCLAIMER,
    )
    p.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    p.add_argument(
        "--address", default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.set_defaults(func=_cmd_serve)
    _add_fit_parser(sub)
