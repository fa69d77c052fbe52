"""The ``toe-twitch`` command line.

Subcommands: ``diagnose``, ``evaluate``, ``validate-priors``, ``export``. Errors go to
stderr with exit status 2 and no traceback. ``--priors`` takes a priors YAML file or, for
inference only, a network file (``.bif``, ``.xmlbif``, ``.xdsl``, ``.net``, ``.uai``).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence

from model.core import DISCLAIMER, Diagnosis, load_model
from model.errors import InputFileError, ToeTwitchError
from model.interop import FORMATS, export_network, format_for_path
from model.priors import iter_parameters, load_priors

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: usage + exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parse_findings(pairs: Sequence[str]) -> dict[str, str]:
    evidence: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ToeTwitchError(
                f"finding {pair!r} must be written FINDING=STATE, e.g. leg_pain=present"
            )
        key, value = pair.split("=", 1)
        key, value = key.strip(), value.strip()
        if key in evidence and evidence[key] != value:
            raise ToeTwitchError(f"finding {key!r} is given twice with different states")
        evidence[key] = value
    return evidence


def _bar(p: float, width: int = 20) -> str:
    filled = int(round(p * width))
    return "#" * filled + "." * (width - filled)


def format_diagnosis(d: Diagnosis, labels: dict[str, str]) -> str:
    lines = [f"Urgency: {d.urgency.replace('_', ' ').upper()}"]
    lines += [f"  - {r}" for r in d.reasons]
    lines.append("")
    lines.append(f"{'cause':<18} {'probability':>11}  {'':20}  {'vs before':>9}")
    rel = d.relative_to_prior
    for cause, p in d.ranking:
        lines.append(f"{cause:<18} {p:>10.1%}  {_bar(p)}  {rel[cause]:>8.2f}x")
    lines.append("")
    a = d.advice
    lines.append("Advice:")
    lines += ["  " + s for s in textwrap.wrap(a.summary, 86)]
    for step in a.next_steps:
        lines.append(f"  - {step}")
    if a.home_remedies:
        lines.append("  Home remedies:")
        lines += [f"  - {t}: {x}" for t, x in a.home_remedies]
    if a.exercises:
        lines.append("  Exercises:")
        for e in a.exercises:
            lines.append(
                f"  - {e.title}: " + " ".join(f"({i}) {s}" for i, s in enumerate(e.steps, 1))
            )
    if a.walking_on_sand:
        lines.append(f"  - {a.walking_on_sand}")
    if a.prevention:
        lines.append("  Prevention:")
        lines += [f"  - {p}" for p in a.prevention]
    if a.when_to_see_doctor:
        lines.append("  See a doctor if:")
        lines += [f"  - {p}" for p in a.when_to_see_doctor]
    lines.append("")
    lines.append(DISCLAIMER)
    return "\n".join(lines)


def _cmd_diagnose(args) -> int:
    model = load_model(args.priors)
    d = model.diagnose(_parse_findings(args.findings))
    if args.json:
        print(json.dumps(d.to_dict(), indent=2))
    else:
        print(format_diagnosis(d, {c: model.vocabulary.causes[c].label for c in model.causes}))
    return 0


def _cmd_evaluate(args) -> int:
    from model.vignettes import evaluate, load_vignettes

    vignettes = load_vignettes(args.vignettes)
    model = load_model(args.priors)
    evaluation = evaluate(model, vignettes)
    if args.json:
        print(json.dumps(evaluation.to_dict(), indent=2))
        return 0
    mark = {True: "ok", False: "MISS", None: "-"}
    print(
        f"{'vignette':<34} {'first cause':<17} {'p':>6}  {'top1':>4} {'top3':>4}  {'urgency':<11} ok"
    )
    for r in evaluation.results:
        top, p = r.diagnosis.ranking[0]
        print(
            f"{r.vignette.id:<34} {top:<17} {p:>6.1%}  {mark[r.top1_ok]:>4} {mark[r.top3_ok]:>4}  "
            f"{r.diagnosis.urgency:<11} {mark[r.urgency_ok]}{'  UNDER-TRIAGED' if r.under_triaged else ''}"
        )
    s = evaluation.summary

    def pct(x):
        return "n/a" if x is None else f"{x:.1%}"

    print()
    print(
        f"{s['vignettes']} vignettes: top-1 {pct(s['top1_accuracy'])} (of {s['top1_judged']}), "
        f"top-3 {pct(s['top3_accuracy'])} (of {s['top3_judged']}), urgency "
        f"{pct(s['urgency_accuracy'])}, under-triaged {s['under_triaged']} "
        f"(emergencies {s['under_triaged_emergencies']})"
    )
    return 0


def _cmd_validate(args) -> int:
    priors = load_priors(args.file)
    n = len(list(iter_parameters(priors)))
    print(
        f"{args.file}: valid priors '{priors.name}': {n} parameters, {len(priors.causes)} causes, "
        f"{len(priors.risk_factors)} risk factors, {len(priors.findings)} findings"
    )
    return 0


def _cmd_export(args) -> int:
    model = load_model(args.priors)
    try:
        path = export_network(model, args.out, args.format, overwrite=args.force)
    except ToeTwitchError:
        raise
    except OSError as exc:  # the write itself failed: no permission, disk full, read-only
        raise ToeTwitchError(f"{args.out}: cannot write the file: {exc.strerror or exc}") from None
    fmt = format_for_path(path)
    network = model.network
    precision = "every digit" if fmt.decimals is None else f"{fmt.decimals} decimals"
    labels = f"labels as {fmt.labels}" if fmt.labels else "no names or labels (UAI has none)"
    print(
        f"wrote {path} ({fmt.title}: {len(network.nodes())} variables, "
        f"{len(network.edges())} arcs; probabilities to {precision}; {labels})"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="toe-twitch",
        description="Differential likelihoods for toe twitching. " + DISCLAIMER,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("diagnose", help="rank the causes for a set of findings")
    p.add_argument("findings", nargs="*", metavar="FINDING=STATE")
    p.add_argument(
        "--priors",
        metavar="FILE",
        help="priors file (default: priors/default.yaml), or a network file for inference only",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_diagnose)
    p = sub.add_parser("evaluate", help="score the model on a vignette file")
    p.add_argument("vignettes", metavar="VIGNETTES.yaml")
    p.add_argument("--priors", metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_evaluate)
    p = sub.add_parser("validate-priors", help="check a priors file and list every problem")
    p.add_argument("file", metavar="FILE")
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
    p.add_argument("--priors", metavar="FILE", help="priors (or network) file to export")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=_cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputFileError as exc:
        if len(exc.problems) == 1:  # "file: rule" on one line, without the count above it
            print(f"{exc.path}: {exc.problems[0]}", file=sys.stderr)
        else:
            print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except ToeTwitchError as exc:
        print(f"toe-twitch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
