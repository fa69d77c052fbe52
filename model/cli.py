"""The ``toe-twitch`` command line.

Subcommands: ``diagnose``, ``findings``, ``evaluate``, ``validate-priors``, ``export``
and ``serve``. Errors go to stderr (with ``--json``: a JSON object on stdout) with exit
status 2 and no traceback. ``--priors`` takes a priors YAML file or, for inference only,
a network file (``.bif``, ``.xmlbif``, ``.xdsl``, ``.net``, ``.uai``).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Sequence
from importlib import metadata, resources
from typing import Any

from toe_twitch.advice import Advice
from toe_twitch.errors import InputFileError, OutputExistsError, OutputWriteError, ToeTwitchError
from toe_twitch.interop import FORMATS, export_network, format_for_path
from toe_twitch.loading import load_model
from toe_twitch.priors import iter_parameters, load_priors, source_counts
from toe_twitch.records import DISCLAIMER, NO_LISTED_CAUSE_LABEL, Diagnosis
from toe_twitch.safe_text import for_terminal
from toe_twitch.urgency import OUTSIDE_CAUSES
from toe_twitch.vocabulary import BINARY_STATES, GROUPS, load_vocabulary, suggest

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: 128 + SIGPIPE, what a tool stopped by a closed pipe exits with.
EXIT_BROKEN_PIPE = 141
#: Words accepted for a finding's state on the command line, besides the state ids.
STATE_WORDS = {"yes": "present", "y": "present", "no": "absent", "n": "absent"}


def version() -> str:
    try:
        return metadata.version("toe-twitch")
    except metadata.PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown (not installed)"


class _Parser(argparse.ArgumentParser):
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


def _finding_id(name: str) -> str:
    """The finding a name on the command line means: ids match whatever the case
    (``Leg_Pain`` is ``leg_pain``), as answers do (``YES`` is ``yes``)."""
    findings = load_vocabulary().findings
    if name in findings:
        return name
    lowered = name.lower()
    return lowered if lowered in findings else name


def _example_answer(word: str) -> str:
    """A ``FINDING=STATE`` example for a word given without ``=`` (``fever`` ->
    ``fever=yes``; ``age_group`` -> ``age_group=adult``; a misspelt name -> its closest
    finding)."""
    vocab = load_vocabulary()
    answerable = [f for f, x in vocab.findings.items() if not x.implicit]
    fid = _finding_id(word.strip())
    if fid not in answerable:
        labels = {f: vocab.findings[f].label for f in answerable}
        fid = suggest(word, answerable, labels) or "leg_pain"
    states = vocab.findings[fid].states
    return f"{fid}=yes" if states == BINARY_STATES else f"{fid}={states[min(2, len(states) - 1)]}"


def _check_ages(evidence: dict[str, str]) -> None:
    """Refuse a question the page asks only at some ages (the vocabulary's ``applies_to``,
    such as a baby's feeding) answered for another age group."""
    age = evidence.get("age_group")
    if age is None:
        return
    for fid in evidence:
        finding = load_vocabulary().findings.get(fid)
        if finding is not None and finding.applies_to and age not in finding.applies_to:
            asked = " or ".join(finding.applies_to)
            raise ToeTwitchError(
                f"finding {fid!r} ({finding.label}) is asked only for age_group {asked}, "
                f"not for age_group={age}; leave it out, or give the age group it is about"
            )


def parse_findings(pairs: Sequence[str]) -> dict[str, str]:
    """``FINDING=STATE`` words as an evidence dict; ``yes``/``no`` mean present/absent.

    Finding names and states match whatever their case (``Leg_Pain=YES``). A question
    asked only at some ages (``weak_feeding``, for a baby) is refused for another
    ``age_group``.
    """
    evidence: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ToeTwitchError(
                f"finding {pair!r} must be written FINDING=STATE, e.g. {_example_answer(pair)} "
                "(see toe-twitch findings)"
            )
        name, raw = (part.strip() for part in pair.split("=", 1))
        key = _finding_id(name)
        value = STATE_WORDS.get(raw.lower(), raw)
        finding = load_vocabulary().findings.get(key)
        if finding is not None and value not in finding.states and raw.lower() in finding.states:
            value = raw.lower()
        if finding is not None and finding.states == BINARY_STATES and value not in finding.states:
            raise ToeTwitchError(
                f"finding {key!r} is answered {raw!r}; answer yes or no (or present/absent), "
                f"e.g. {key}=yes, or leave it out if unknown"
            )
        if key in evidence and evidence[key] != value:
            raise ToeTwitchError(f"finding {key!r} is given twice with different states")
        evidence[key] = value
    _check_ages(evidence)
    return evidence


#: Labels longer than this lose their bracketed examples in tables (as on the page).
SHORT_NAME_CHARS = 40


def cause_name(cause: str) -> str:
    """A cause's name as the page shows it in tables: its label, without a long list of
    examples in brackets (``Poor blood circulation``, ``Periodic limb movement disorder
    (PLMD)``)."""
    label = load_vocabulary().causes[cause].label
    if len(label) > SHORT_NAME_CHARS and label.endswith(")") and " (" in label:
        return label[: label.rindex(" (")]
    return label


#: The widest cause name a diagnose table shows; a longer one is given by its short name.
TABLE_NAME_CHARS = 44


def table_name(cause: str) -> str:
    """The cause's name in the diagnose table: as the page shows it (:func:`cause_name`),
    or its short name (``Benign cramp``) when that would be wider than the table allows."""
    name = cause_name(cause)
    if len(name) <= TABLE_NAME_CHARS:
        return name
    short = load_vocabulary().causes[cause].short
    return short[:1].upper() + short[1:]


def cause_short(cause: str) -> str:
    """A cause's short name for narrow columns (``benign cramp``, ``PLMD``, ``deficiency``)."""
    short = load_vocabulary().causes[cause].short
    return short.removeprefix("a ").removeprefix("an ")


def _bar(p: float, width: int = 20) -> str:
    filled = int(round(p * width))
    return "#" * filled + "." * (width - filled)


ADVICE_HEADINGS = {"remedy": "Home remedies", "exercise": "Exercises", "prevention": "Prevention"}


def advice_lines(a: Advice) -> list[str]:
    """The advice as the page shows it: the items checked for these answers, each with
    its caution and notes, then what was left out and why (one line per rule)."""
    lines = ["Advice:", *("  " + s for s in textwrap.wrap(a.summary, 86))]
    lines += [f"  - {step}" for step in a.next_steps]
    lines += [f"  Note: {n}" for n in a.general_notes]
    for kind, heading in ADVICE_HEADINGS.items():
        items = a.of_kind(kind)
        if items:
            lines.append(f"  {heading}:")
        for item in items:
            steps = " ".join(f"({i}) {s}" for i, s in enumerate(item.steps, 1))
            body = ": ".join(x for x in (item.title, item.text or steps) if x)
            lines.append(f"  - {body}")
            lines += [f"      {n}" for n in (*item.notes, item.caution) if n]
    if a.withheld_lines:
        lines.append("  Left out for you:")
        lines += [f"  - {w}" for w in a.withheld_lines]
    if a.when_to_see_doctor:
        lines.append("  See a doctor if:")
        lines += [f"  - {p}" for p in a.when_to_see_doctor]
    return lines


def _times(ratio: float | None) -> str:
    """The "vs before" column: ``3.49x``, or ``n/a`` where nothing was possible before
    (a cause a network file fixes at 0, or no unexplained share when the leak is 0)."""
    return f"{'n/a':>9}" if ratio is None else f"{ratio:>8.2f}x"


def format_diagnosis(d: Diagnosis) -> str:
    lines = [f"Urgency: {load_vocabulary().urgency[d.urgency].label.upper()}"]
    lines += [f"  - {r.text}" for r in d.reasons]
    lines.append("")
    if d.red_flags_present:
        lines += textwrap.wrap(
            f"An emergency sign can come from {OUTSIDE_CAUSES}, which this tool does not "
            "list, so the causes are not ranked here (--json has the numbers).",
            88,
        )
    else:
        names = {cause: table_name(cause) for cause, _ in d.ranking}
        w = max(26, *(len(n) for n in names.values()))
        lines.append(f"{'cause':<{w}} {'probability':>11}  {'':20}  {'vs before':>9}")
        rel = d.relative_to_prior
        for cause, p in d.ranking:
            lines.append(f"{names[cause]:<{w}} {p:>10.1%}  {_bar(p)}  {_times(rel[cause])}")
        before = d.prior_no_listed_cause
        ratio = d.no_listed_cause / before if before > 0 else None
        lines.append(
            f"{'(none listed)':<{w}} {d.no_listed_cause:>10.1%}  "
            f"{_bar(d.no_listed_cause)}  {_times(ratio)}"
        )
        lines.append(f"  (none listed) = {NO_LISTED_CAUSE_LABEL.lower()}")
        lines += textwrap.wrap(
            "  vs before = the probability now divided by the probability before any answer "
            "(toe twitching alone): 3.00x is three times as likely, 0.50x half as likely. "
            "Several causes can be present at once, so the probabilities do not add up to 100%.",
            88, subsequent_indent="  ",
        )
        if "age_group" not in d.evidence:
            lines += textwrap.wrap(
                "  No age group given: these average over all age groups (infant, child, "
                "adult, older adult), weighted by their share of the population and how "
                "well they fit the answers; add age_group=... for one age group.",
                88, subsequent_indent="  ",
            )
    lines.append("")
    lines += advice_lines(d.advice)
    lines.append("")
    lines.append(DISCLAIMER)
    return "\n".join(lines)


def _cmd_diagnose(args) -> int:
    model = load_model(args.priors)
    warnings = model.priors.warnings if model.has_priors else []
    d = model.diagnose(parse_findings(args.findings))
    if args.json:
        say(json.dumps({**d.to_dict(), "warnings": warnings}, indent=2))
    else:
        for warning in warnings:
            say(f"{args.priors}: warning: {warning}", err=True)
        say(format_diagnosis(d))
    return 0


def finding_records() -> list[dict[str, Any]]:
    """Every answerable finding: id, states, label, group, role and where it is asked."""
    vocab = load_vocabulary()
    priors = load_priors(None)
    records = []
    for f in vocab.findings.values():
        if f.implicit:
            continue
        role = (
            "red flag" if f.red_flag
            else "age" if f.id == "age_group"
            else "risk factor" if f.id in priors.risk_factors
            else "about the twitching" if f.twitching_property
            else "symptom or sign"
        )
        records.append(
            {
                "id": f.id,
                "label": f.label,
                "states": list(f.states),
                "group": f.group,
                "group_title": GROUPS.get(f.group, f.group),
                "role": role,
                "asked_for": list(f.applies_to) or ["every age group"],
            }
        )
    return records


def _cmd_findings(args) -> int:
    records = finding_records()
    if args.json:
        say(json.dumps(records, indent=2))
        return 0
    for group, title in GROUPS.items():
        say(f"{title}:")
        for r in (r for r in records if r["group"] == group):
            states = "yes/no" if tuple(r["states"]) == BINARY_STATES else "/".join(r["states"])
            say(f"  {r['id']:<36} {states:<32} {r['label']}")
        say()
    say("yes/no stand for present/absent (both are accepted): toe-twitch diagnose leg_pain=yes fever=no")
    return 0


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


#: shtab's file completion (the same dict as ``shtab.FILE``; shtab is imported only to print).
FILE_COMPLETION = {"bash": "_shtab_compgen_files", "zsh": "_files", "tcsh": "f"}


#: Help shared by every command that takes ``--priors``.
PRIORS_HELP = (
    "priors YAML file to use instead of the shipped priors (priors/default.yaml); a network "
    "file (.bif, .xmlbif, .xdsl, .net, .uai) also works, for inference only"
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="toe-twitch",
        description="Differential likelihoods for toe twitching: ranks twelve possible causes "
        "by probability from your answers and says how urgently to seek care. " + DISCLAIMER,
        epilog="Every command takes --help. --json gives machine-readable output, errors "
        "included; every command exits 0 on success and 2 on bad input.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser(
        "diagnose",
        help="rank the causes for a set of answers and say how urgently to seek care",
        description="Rank the causes of toe twitching for the answers given: P(cause present "
        "| answers) for each cause and 'vs before' (how many times as likely as before any "
        "answer), the urgency and why, and the article's advice. Without age_group the "
        "numbers average over all age groups. " + DISCLAIMER,
        epilog="Answers are written FINDING=STATE; present/absent findings take yes or no "
        "(leg_pain=yes fever=no), age_group takes infant, child, adult or older_adult; names "
        "and states match whatever their case. A question asked only for a baby is refused "
        "for another age group. List every finding with: toe-twitch findings",
    )
    parser.answers_action = p.add_argument(
        "findings", nargs="*", metavar="FINDING=STATE",
        help="an answer, e.g. age_group=adult leg_pain=yes; a finding left out is unknown",
    )
    p.add_argument("--priors", metavar="FILE", help=PRIORS_HELP).complete = FILE_COMPLETION
    p.add_argument(
        "--json", action="store_true",
        help="print one JSON object (cause ids, probabilities, urgency, reasons, advice)",
    )
    p.set_defaults(func=_cmd_diagnose)
    p = sub.add_parser(
        "findings",
        help="list every finding with its states, label and group",
        description="List every question the model takes, by group: its id (the FINDING of "
        "FINDING=STATE), its states (yes/no for present/absent) and its label.",
    )
    p.add_argument(
        "--json", action="store_true",
        help="print a JSON list (id, label, states, group, role, the age groups it is asked for)",
    )
    p.set_defaults(func=_cmd_findings)
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
    _add_fit_parser(sub)
    return parser


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


__all__ = ["main", "parse_findings", "format_diagnosis", "finding_records", "serve_command", "suggest"]


if __name__ == "__main__":
    sys.exit(main())
