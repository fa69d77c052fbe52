"""``toe-twitch diagnose`` and ``toe-twitch findings``: answers read from the command
line, the differential and the advice as text."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Sequence
from typing import Any

from toe_twitch.advice import Advice
from toe_twitch.cli.output import FILE_COMPLETION, PRIORS_HELP, say
from toe_twitch.errors import ToeTwitchError
from toe_twitch.loading import load_model
from toe_twitch.priors import load_priors
from toe_twitch.records import DISCLAIMER, NO_LISTED_CAUSE_LABEL, Diagnosis
from toe_twitch.urgency import OUTSIDE_CAUSES
from toe_twitch.vocabulary import BINARY_STATES, GROUPS, load_vocabulary, suggest

#: Words accepted for a finding's state on the command line, besides the state ids.
STATE_WORDS = {"yes": "present", "y": "present", "no": "absent", "n": "absent"}


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



def add_parsers(sub: Any, root: argparse.ArgumentParser) -> None:
    """The ``diagnose`` and ``findings`` commands (``root`` keeps the answers' argument
    for shell completion)."""
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
    root.answers_action = p.add_argument(
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
