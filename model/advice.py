"""The article's advice, checked against who is reading it.

Every remedy, exercise and prevention tip is an item of ``model/data/advice.yaml``; each
rule there names the answers that withhold or change items, with the reason shown to
the person and its source. :func:`advice_for` is the one function that decides what a
person sees (the page, the command line and ``--json`` all read its :class:`Advice`):

* a rule whose clauses all hold withholds its items (or adds its note to them), and its
  reason becomes one plain line ("Heat, ice and barefoot walking are left out: ...");
  its ``instead`` items take their place;
* a rule that could still hold (some of its findings unanswered, none of its clauses
  ruled out) leaves its items in, each with a caution ("Skip this if ...");
* nothing is ever called safe: an item is shown only when no rule that withholds it
  holds, and every open doubt is written under the item.

:func:`advice_questions` lists the unanswered findings that could change what is shown,
so the interview does not stop before asking them.

>>> from toe_twitch.vocabulary import load_vocabulary
>>> a = advice_for("self_care", {"age_group": "adult", "numbness_tingling": "present"},
...                load_vocabulary())
>>> "warm_compress" in a.item_ids, "foot_care" in a.item_ids
(False, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from toe_twitch.resources import data_path
from toe_twitch.safe_yaml import read_yaml_file
from toe_twitch.vocabulary import Vocabulary

ADVICE_PATH = data_path("advice.yaml")
AGE = "age_group"
#: Kinds of item, in the order they are shown.
KINDS = ("remedy", "exercise", "prevention")
#: Shown when the age is unknown, instead of a caution under every item.
AGE_UNKNOWN_NOTE = (
    "These tips are for adults and older children; for a baby or a child, give the age "
    "group: some of them are not right for them."
)


@dataclass(frozen=True)
class AdviceItem:
    """One remedy, exercise or prevention tip as shown to this person.

    ``caution`` is empty or the doubts still open for this person ("Skip this if your
    feet are numb or tingle, or you have diabetes."); ``notes`` are changes a rule made
    ("For a child, only with an adult's help ...").
    """

    id: str
    kind: str
    title: str
    text: str
    steps: tuple[str, ...] = ()
    source: str = ""
    caution: str = ""
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "title": self.title, "text": self.text,
            "steps": list(self.steps), "source": self.source, "caution": self.caution,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Withheld:
    """An item left out for this person, with the rule's reason and source."""

    id: str
    title: str
    rule: str
    reason: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "rule": self.rule, "reason": self.reason,
                "source": self.source}


@dataclass(frozen=True)
class Exercise:
    title: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Advice:
    """The article's advice for one urgency level, checked against these answers."""

    level: str
    summary: str
    next_steps: tuple[str, ...] = ()
    items: tuple[AdviceItem, ...] = ()
    withheld: tuple[Withheld, ...] = ()
    general_notes: tuple[str, ...] = ()
    when_to_see_doctor: tuple[str, ...] = ()

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def of_kind(self, kind: str) -> tuple[AdviceItem, ...]:
        """The items of one kind (``remedy``, ``exercise`` or ``prevention``), in order."""
        return tuple(i for i in self.items if i.kind == kind)

    @property
    def withheld_lines(self) -> tuple[str, ...]:
        """One plain line per rule that left something out (what, and why)."""
        return tuple(dict.fromkeys(w.reason for w in self.withheld))

    # Read-only views in the article's own grouping, for older callers.
    @property
    def home_remedies(self) -> tuple[tuple[str, str], ...]:
        return tuple((i.title, i.text) for i in self.of_kind("remedy"))

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        return tuple(Exercise(i.title, i.steps) for i in self.of_kind("exercise") if i.steps)

    @property
    def walking_on_sand(self) -> str:
        return next((i.text for i in self.items if i.id == "walking_on_sand"), "")

    @property
    def prevention(self) -> tuple[str, ...]:
        return tuple(i.text for i in self.of_kind("prevention"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "summary": self.summary,
            "next_steps": list(self.next_steps),
            "items": [i.to_dict() for i in self.items],
            "withheld": [w.to_dict() for w in self.withheld],
            "withheld_lines": list(self.withheld_lines),
            "general_notes": list(self.general_notes),
            "when_to_see_doctor": list(self.when_to_see_doctor),
        }


@dataclass(frozen=True)
class Rule:
    """Answers that withhold items (or add a note to them), with the reason and source.

    ``findings`` are the "any of" clauses (a finding answered "yes" in each), ``ages``
    the age groups it applies to (empty: every age).
    """

    id: str
    findings: tuple[tuple[str, ...], ...]
    ages: tuple[str, ...]
    withhold: tuple[str, ...]
    note: tuple[str, ...]
    reason: str
    unless: str
    source: str
    instead: tuple[AdviceItem, ...]

    def state(self, evidence: Mapping[str, str]) -> bool | None:
        """True if it holds, False if ruled out by the answers, None while it could hold."""
        states = [_clause(c, evidence) for c in self.findings]
        if self.ages:
            age = evidence.get(AGE)
            states.append(None if age is None else age in self.ages)
        if False in states:
            return False
        return True if all(states) else None

    @property
    def age_only(self) -> bool:
        return not self.findings


def _clause(findings: tuple[str, ...], evidence: Mapping[str, str]) -> bool | None:
    if any(evidence.get(f) == "present" for f in findings):
        return True
    return False if all(f in evidence for f in findings) else None


@dataclass(frozen=True)
class AdviceBook:
    """Everything in the advice file: texts per level, items and rules."""

    summary: dict[str, str]
    next_steps: dict[str, tuple[str, ...]]
    when_to_see_doctor: tuple[str, ...]
    items: tuple[AdviceItem, ...]
    rules: tuple[Rule, ...]

    @property
    def findings(self) -> tuple[str, ...]:
        """Every finding a rule looks at."""
        return tuple(dict.fromkeys(f for r in self.rules for c in r.findings for f in c))


def _item(raw: Mapping[str, Any]) -> AdviceItem:
    return AdviceItem(
        id=raw["id"], kind=raw["kind"], title=str(raw.get("title", "")),
        text=" ".join(str(raw.get("text", "")).split()), steps=tuple(raw.get("steps", ())),
        source=str(raw.get("source", "")),
    )


def _rule(raw: Mapping[str, Any]) -> Rule:
    when = raw["when"]
    return Rule(
        id=raw["id"],
        findings=tuple(tuple(c["any"]) for c in when if "any" in c),
        ages=tuple(a for c in when if "age" in c for a in c["age"]),
        withhold=tuple(raw.get("withhold", ())),
        note=tuple(raw.get("note", ())),
        reason=" ".join(str(raw["reason"]).split()),
        unless=str(raw.get("unless", "")),
        source=str(raw["source"]),
        instead=tuple(_item(i) for i in raw.get("instead", ())),
    )


@cache
def load_advice_book() -> AdviceBook:
    """Read ``model/data/advice.yaml`` once per process and check it against itself."""
    data, problems = read_yaml_file(ADVICE_PATH)
    if problems:
        raise RuntimeError(f"{ADVICE_PATH}: " + "; ".join(map(str, problems)))
    book = AdviceBook(
        summary={k: " ".join(v.split()) for k, v in data["summary"].items()},
        next_steps={k: tuple(v) for k, v in data["next_steps"].items()},
        when_to_see_doctor=tuple(data["when_to_see_doctor"]),
        items=tuple(_item(i) for i in data["items"]),
        rules=tuple(_rule(r) for r in data["rules"]),
    )
    known = {i.id for i in book.items}
    for rule in book.rules:
        unknown = [i for i in (*rule.withhold, *rule.note) if i not in known]
        if unknown or not (rule.withhold or rule.note):
            raise RuntimeError(f"{ADVICE_PATH}: rules.{rule.id}: unknown or no items {unknown}")
    return book


def advice_for(level: str, evidence: Mapping[str, str], vocab: Vocabulary) -> Advice:
    """The advice for ``level``, with every item checked against these answers.

    Emergency advice carries nothing that could distract from calling for help.
    """
    book = load_advice_book()
    common = {"level": level, "summary": book.summary[level],
              "next_steps": book.next_steps.get(level, ())}
    if level == "emergency":
        return Advice(**common)
    holding = [r for r in book.rules if r.state(evidence) is True]
    open_rules = [r for r in book.rules if r.state(evidence) is None and not r.age_only]
    withheld_ids = {i for r in holding for i in r.withhold}
    items = [_checked(item, holding, open_rules) for item in book.items
             if item.id not in withheld_ids]
    extra = {i.id: i for r in holding if r.withhold for i in r.instead}
    items += [i for i in extra.values() if i.id not in {x.id for x in items}]
    items.sort(key=lambda i: KINDS.index(i.kind))
    withheld = [
        Withheld(i, _title(book, i), r.id, r.reason, r.source)
        for r in holding for i in r.withhold
    ]
    general = (AGE_UNKNOWN_NOTE,) if AGE not in evidence and AGE in vocab.findings else ()
    return Advice(**common, items=tuple(items), withheld=tuple(withheld), general_notes=general,
                  when_to_see_doctor=book.when_to_see_doctor if level == "self_care" else ())


def _checked(item: AdviceItem, holding: list[Rule], open_rules: list[Rule]) -> AdviceItem:
    notes = tuple(r.reason for r in holding if item.id in r.note)
    doubts = [r.unless for r in open_rules if item.id in r.withhold and r.unless]
    caution = ""
    if doubts:
        listed = doubts[0] if len(doubts) == 1 else "; if ".join(doubts[:-1]) + "; or if " + doubts[-1]
        caution = f"Skip this if {listed}."
    if not notes and not caution:
        return item
    return replace(item, caution=caution, notes=notes)


def _title(book: AdviceBook, item_id: str) -> str:
    item = next(i for i in book.items if i.id == item_id)
    return item.title or item.text


def advice_questions(evidence: Mapping[str, str], vocab: Vocabulary) -> tuple[str, ...]:
    """Unanswered findings whose answer could change the advice shown, in file order.

    A finding counts when a rule that could still hold (none of its clauses ruled out)
    looks at it; the age group counts while it is unanswered.
    """
    book = load_advice_book()
    wanted = [
        f
        for r in book.rules
        if r.state(evidence) is None
        for c in r.findings
        for f in c
        if f not in evidence and f in vocab.findings
    ]
    if AGE not in evidence and AGE in vocab.findings:
        wanted.insert(0, AGE)
    return tuple(dict.fromkeys(wanted))
