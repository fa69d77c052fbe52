"""The priors file: schema, validation and the flat list of parameters.

A priors file holds every number of the model. Each number is one intuitive quantity
with a plausible range and a source::

    causes:
      plmt:
        prevalence:
          older_adult: {value: 0.0005, low: 0.0001, high: 0.002, source: "..."}

What each kind of number means is stated once, in :data:`DEFINITIONS` (the docstring of
each parameter class below is the same sentence); ``priors/README.md``, the header of
``priors/default.yaml`` and the page quote it, and a test checks that they do.

A leak or a link may be one number, or one number per age group when the sources give
different figures by age (``leak: {infant: {...}, child: {...}, ...}``).

The see-a-doctor thresholds (``urgency.serious_cause_threshold``) are a safety floor no
file can remove: every serious cause of the shipped priors keeps its threshold, with a
value inside the *shipped* ``[low, high]`` (:func:`threshold_problems`); a value above the
shipped one but inside that range is valid and reported as a weaker safety rule
(:attr:`PriorsFile.warnings`). A source must say something a reader can see.

Validation reports *every* problem at once, each as ``file: field.path: rule``. Loading
uses :mod:`toe_twitch.safe_yaml`, so nothing in the file is ever executed, no key counts
twice and only plain decimals are numbers.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from toe_twitch.errors import PriorsError, Problem
from toe_twitch.resources import default_priors_path
from toe_twitch.safe_text import strip_bidi, visible_text
from toe_twitch.safe_yaml import parse_yaml_text, read_yaml_file, yaml11_number_form
from toe_twitch.vocabulary import Vocabulary, load_vocabulary

DEFAULT_PRIORS_PATH: Path = default_priors_path()
AGE_FINDING = "age_group"
AGE_STATES = ("infant", "child", "adult", "older_adult")
SCHEMA_VERSION = 2

#: What every kind of number means: the one definition, quoted everywhere else.
DEFINITIONS: dict[str, str] = {
    "proportion": (
        "the share of the general population in this age group (the four shares sum to 1)"
    ),
    "risk factor prevalence": (
        "the share of people in this age group, in the general population, who have the "
        "risk factor"
    ),
    "cause prevalence": (
        "the share of people in this age group, in the general population and whatever "
        "their risk factors, who have the cause at present"
    ),
    "odds ratio": (
        "how many times the odds of the cause are multiplied in people with the risk "
        "factor, against people of the same age without it (adjusted for the cause's "
        "other risk factors)"
    ),
    "link probability": (
        "the chance that this cause, when present, produces the finding by itself; for a "
        "finding about the twitching (how long it lasts, when it comes) it is the chance "
        "that twitching from this cause has that property"
    ),
    "leak probability": (
        "the chance that a person with none of the listed causes has the finding (from "
        "other causes, or chance)"
    ),
    "threshold": (
        "the probability of this serious cause at or above which the advice is at least "
        "'see a doctor'"
    ),
}

#: A source is one of three kinds, by how it begins (see :func:`source_kind`).
JUDGEMENT_PREFIX = "expert judgement:"
DEFINITION_PREFIX = "definition:"
#: An expert judgement must say why, in at least this many characters.
MIN_REASONING = 25
MAX_SOURCE_CHARS = 2000


def source_kind(source: str) -> str:
    """``"judged"`` (starts with ``expert judgement:``), ``"definition"`` (the finding
    defines the cause, ``definition:``) or ``"cited"`` (a published figure)."""
    text = source.strip().lower()
    if text.startswith("expert judgement"):
        return "judged"
    if text.startswith(DEFINITION_PREFIX):
        return "definition"
    return "cited"


def _number(value: Any) -> float:
    if isinstance(value, str):
        form = yaml11_number_form(value.strip())
        if form is not None:
            raise ValueError(
                f"must be a number in plain decimals, optionally with an exponent (such as "
                f"0.05 or 5e-2), got {value!r}, which YAML 1.1 would read as {form}; write "
                "the number you mean in plain decimals"
            )
        try:
            float(value)
        except ValueError:
            pass
        else:
            raise ValueError(
                f"must be a number, got the text {value!r}; write the number without quotes, "
                "in plain decimals (such as 0.00001 or 1e-05)"
            )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    return float(value)


def _source(value: Any) -> str:
    """The source as shown: spaces collapsed, direction controls removed; it must say
    something a reader can see (zero-width characters do not count)."""
    if not isinstance(value, str):
        raise ValueError(f"must be text naming the source, got {type(value).__name__}")
    text = " ".join(strip_bidi(value).split())
    seen = visible_text(text)
    if len(seen) < 10 or not re.search(r"[^\W\d_]{2}", seen):
        raise ValueError(
            "must name the source in visible words (at least 10 characters once invisible "
            "characters such as zero-width spaces are left out)"
        )
    if len(text) > MAX_SOURCE_CHARS:
        raise ValueError(f"is longer than {MAX_SOURCE_CHARS} characters")
    if source_kind(seen) == "judged":
        reasoning = re.sub(r"^expert judgement\s*:?", "", seen, flags=re.IGNORECASE).strip()
        if not seen.lower().startswith(JUDGEMENT_PREFIX) or len(reasoning) < MIN_REASONING:
            raise ValueError(
                "an expert judgement must give its reasoning: write "
                f"'{JUDGEMENT_PREFIX} <why this number>' (at least {MIN_REASONING} "
                "characters of reasoning)"
            )
    return text


def _shown_text(value: Any) -> Any:
    return strip_bidi(value) if isinstance(value, str) else value


Number = Annotated[float, BeforeValidator(_number)]
SourceText = Annotated[str, BeforeValidator(_source)]
#: A name or description shown on the page: direction controls removed.
ShownText = Annotated[str, BeforeValidator(_shown_text)]


class Parameter(BaseModel):
    """One number with its plausible range and source."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str] = "parameter"
    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0
    open_min: ClassVar[bool] = False
    open_max: ClassVar[bool] = False
    #: Why the ends are where they are (quoted in the error message).
    bounds_reason: ClassVar[str] = ""

    value: Number
    low: Number
    high: Number
    source: SourceText

    @classmethod
    def bounds_text(cls) -> str:
        left = "(" if cls.open_min else "["
        right = ")" if cls.open_max else "]"
        return f"{left}{_bound(cls.minimum)}, {_bound(cls.maximum)}{right}"

    @classmethod
    def within_bounds(cls, x: float) -> bool:
        above = x > cls.minimum if cls.open_min else x >= cls.minimum
        below = x < cls.maximum if cls.open_max else x <= cls.maximum
        return above and below

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        broken = [
            f"{name} = {getattr(self, name):g} is out of {self.bounds_text()} for "
            f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind}"
            for name in ("value", "low", "high")
            if not self.within_bounds(getattr(self, name))
        ]
        if broken:
            reason = f" ({self.bounds_reason})" if self.bounds_reason else ""
            raise ValueError("; ".join(broken) + reason)
        if not self.low <= self.value <= self.high:
            raise ValueError(
                f"range must satisfy low <= value <= high, got low={self.low:g}, "
                f"value={self.value:g}, high={self.high:g}"
            )
        return self


def _bound(x: float) -> str:
    """A bound as people read it: ``1 - 1e-12`` rather than ``1`` (what ``:g`` prints)."""
    gap = 1 - x
    return f"1 - {gap:.0e}" if 0 < gap < 1e-6 else f"{x:g}"


# The smallest and largest probabilities a prevalence may take: 0 would make the cause
# impossible (and its relative change undefined); 1e-12 is far below any real prevalence.
_TINY = 1e-12


class Proportion(Parameter):
    __doc__ = DEFINITIONS["proportion"]
    kind: ClassVar[str] = "proportion"
    minimum: ClassVar[float] = _TINY
    maximum: ClassVar[float] = 1 - _TINY
    bounds_reason: ClassVar[str] = "an age group with no one in it could never be answered"


class RiskFactorPrevalence(Parameter):
    __doc__ = DEFINITIONS["risk factor prevalence"]
    kind: ClassVar[str] = "prevalence"
    minimum: ClassVar[float] = _TINY
    maximum: ClassVar[float] = 1 - _TINY
    bounds_reason: ClassVar[str] = (
        "0 or 1 would make one answer to the question impossible"
    )


class CausePrevalence(Parameter):
    __doc__ = DEFINITIONS["cause prevalence"]
    kind: ClassVar[str] = "prevalence"
    minimum: ClassVar[float] = _TINY
    maximum: ClassVar[float] = 1 - _TINY
    bounds_reason: ClassVar[str] = (
        "a cause that is never (or always) present has no place in a differential"
    )


class LinkProbability(Parameter):
    __doc__ = DEFINITIONS["link probability"]
    kind: ClassVar[str] = "link probability"


class Leak(Parameter):
    __doc__ = DEFINITIONS["leak probability"]
    kind: ClassVar[str] = "leak probability"
    open_max: ClassVar[bool] = True
    bounds_reason: ClassVar[str] = "a leak of 1 would make the answer 'no' impossible"


class OddsRatio(Parameter):
    __doc__ = DEFINITIONS["odds ratio"]
    kind: ClassVar[str] = "odds ratio"
    minimum: ClassVar[float] = 1e-4
    maximum: ClassVar[float] = 1e4
    bounds_reason: ClassVar[str] = (
        "no risk factor changes the odds of a cause ten-thousandfold, and beyond that the "
        "prevalence calibration loses its precision"
    )


class Threshold(Parameter):
    __doc__ = DEFINITIONS["threshold"]
    kind: ClassVar[str] = "threshold"
    open_min: ClassVar[bool] = True
    open_max: ClassVar[bool] = True


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CausePrevalenceByAge(_Strict):
    infant: CausePrevalence
    child: CausePrevalence
    adult: CausePrevalence
    older_adult: CausePrevalence


class RiskFactorPrevalenceByAge(_Strict):
    infant: RiskFactorPrevalence
    child: RiskFactorPrevalence
    adult: RiskFactorPrevalence
    older_adult: RiskFactorPrevalence


class LeakByAge(_Strict):
    infant: Leak
    child: Leak
    adult: Leak
    older_adult: Leak


class LinkByAge(_Strict):
    infant: LinkProbability
    child: LinkProbability
    adult: LinkProbability
    older_adult: LinkProbability


class AgeDistribution(_Strict):
    infant: Proportion
    child: Proportion
    adult: Proportion
    older_adult: Proportion


def _one_or_by_age(value: Any) -> str:
    """``one`` for ``{value: ...}``, ``by_age`` for ``{infant: {...}, ...}``."""
    if isinstance(value, dict) and "value" not in value and set(value) & set(AGE_STATES):
        return "by_age"
    return "one"


LeakSpec = Annotated[
    Annotated[Leak, Tag("one")] | Annotated[LeakByAge, Tag("by_age")],
    Discriminator(_one_or_by_age),
]
LinkSpec = Annotated[
    Annotated[LinkProbability, Tag("one")] | Annotated[LinkByAge, Tag("by_age")],
    Discriminator(_one_or_by_age),
]


class RiskFactorPriors(_Strict):
    prevalence: RiskFactorPrevalenceByAge


class CausePriors(_Strict):
    prevalence: CausePrevalenceByAge
    risk_factors: dict[str, OddsRatio] = Field(default_factory=dict)


class FindingPriors(_Strict):
    leak: LeakSpec
    links: dict[str, LinkSpec]


class UrgencyPriors(_Strict):
    serious_cause_threshold: dict[str, Threshold]


class PriorsFile(_Strict):
    """The whole priors file, as validated data (immutable)."""

    schema_version: Literal[2]
    name: ShownText = Field(default="unnamed", max_length=200)
    description: ShownText = Field(default="", max_length=5000)
    age_groups: AgeDistribution
    risk_factors: dict[str, RiskFactorPriors]
    causes: dict[str, CausePriors]
    findings: dict[str, FindingPriors]
    urgency: UrgencyPriors

    @property
    def warnings(self) -> list[str]:
        """Safety rules weaker than the shipped priors' (see :func:`safety_warnings`)."""
        return safety_warnings(self)


@dataclass(frozen=True)
class ParameterRef:
    """A parameter's place in the file (``path``), its kind and its numbers."""

    path: str
    kind: str
    value: float
    low: float
    high: float
    source: str

    @property
    def source_kind(self) -> str:
        return source_kind(self.source)

    @property
    def definition(self) -> str:
        """The one definition of what this number means (:data:`DEFINITIONS`)."""
        return DEFINITIONS[definition_key(self.path)]


def definition_key(path: str) -> str:
    """The :data:`DEFINITIONS` key for a parameter path."""
    section = path.split(".", 1)[0]
    if section == "age_groups":
        return "proportion"
    if section == "risk_factors":
        return "risk factor prevalence"
    if section == "causes":
        return "odds ratio" if ".risk_factors." in path else "cause prevalence"
    if section == "findings":
        return "leak probability" if ".leak" in path else "link probability"
    return "threshold"


def _format_loc(loc: tuple[Any, ...]) -> str:
    # Drop pydantic's union tags ("one" / "by_age"): the path is the file's own.
    return ".".join(str(part) for part in loc if part not in ("one", "by_age"))


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "missing parameter (required field)"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field (not allowed here)"
        elif err["type"] == "literal_error" and err["loc"] == ("schema_version",):
            got = err.get("input")
            msg = f"unsupported schema_version {got!r}; expected {SCHEMA_VERSION}"
            if got == 1:
                msg += (
                    " (version 2 adds findings and age-specific leaks and links; start from "
                    "a copy of priors/default.yaml)"
                )
        problems.append(Problem(_format_loc(err["loc"]), msg))
    return problems


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown(kind: str, word: str, options: list[str]) -> str:
    return f"unknown {kind} id {word!r}{_did_you_mean(word, options)} (valid: {', '.join(options)})"


def _keys(data: Any, *path: str) -> dict[str, Any]:
    """The mapping at ``path`` in raw data, or an empty one if it is not a mapping."""
    node = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def id_problems(data: dict[str, Any], vocab: Vocabulary) -> list[Problem]:
    """Unknown, missing, duplicated or misplaced ids, and cycles.

    Works on the raw parsed data, so these problems are reported together with type and
    range problems in the same run.
    """
    problems: list[Problem] = []
    causes = vocab.cause_ids
    findings = [f for f in vocab.finding_ids if f != AGE_FINDING]
    binary = [f for f in findings if vocab.findings[f].states == ("absent", "present")]
    cause_data = _keys(data, "causes")
    rf_data = _keys(data, "risk_factors")
    finding_data = _keys(data, "findings")
    for cid in cause_data:
        if cid not in vocab.causes:
            problems.append(Problem(f"causes.{cid}", _unknown("cause", str(cid), causes)))
    if "causes" in data:
        for cid in causes:
            if cid not in cause_data:
                problems.append(Problem(f"causes.{cid}", "missing parameter: no priors for this cause"))
    for section, section_data in (("risk_factors", rf_data), ("findings", finding_data)):
        for fid in section_data:
            if fid not in vocab.findings:
                problems.append(Problem(f"{section}.{fid}", _unknown("finding", str(fid), findings)))
            elif fid == AGE_FINDING:
                problems.append(Problem(f"{section}.{fid}", "age_group belongs under age_groups"))
            elif fid not in binary:
                problems.append(Problem(f"{section}.{fid}", "must be a present/absent finding"))
            elif section == "risk_factors" and vocab.findings[fid].implicit:
                problems.append(
                    Problem(f"{section}.{fid}", "the twitching itself is a finding, not a risk factor")
                )
    if "risk_factors" in data and "findings" in data:
        for fid in findings:
            in_rf, in_f = fid in rf_data, fid in finding_data
            if in_rf and in_f:
                problems.append(
                    Problem(f"risk_factors.{fid}", "listed under both risk_factors and findings")
                )
            elif not in_rf and not in_f:
                problems.append(
                    Problem(f"findings.{fid}", "missing parameter: finding is in neither "
                            "risk_factors nor findings")
                )
            if vocab.findings[fid].red_flag and in_rf:
                problems.append(
                    Problem(f"risk_factors.{fid}", "a red flag must be listed under findings")
                )
    for cid in cause_data:
        for rf in _keys(cause_data, cid, "risk_factors"):
            where = f"causes.{cid}.risk_factors.{rf}"
            if rf in rf_data:
                continue
            if rf in finding_data:
                if cid in _keys(finding_data, rf, "links"):
                    problems.append(Problem(where, f"cycle: {cid} -> {rf} -> {cid}; {rf} is "
                                            f"produced by {cid}, so it cannot also be its risk factor"))
                else:
                    problems.append(Problem(where, f"{rf} is a finding produced by causes, not a "
                                            "risk factor; list it under risk_factors to use it here"))
            else:
                problems.append(Problem(where, _unknown("risk factor", str(rf), list(rf_data))))
    for fid in finding_data:
        for cid in _keys(finding_data, fid, "links"):
            if cid not in vocab.causes:
                problems.append(
                    Problem(f"findings.{fid}.links.{cid}", _unknown("cause", str(cid), causes))
                )
    for cid in _keys(data, "urgency", "serious_cause_threshold"):
        if cid not in vocab.causes:
            problems.append(
                Problem(f"urgency.serious_cause_threshold.{cid}", _unknown("cause", str(cid), causes))
            )
    if not problems:
        sorter: TopologicalSorter[str] = TopologicalSorter()
        for cid in cause_data:
            sorter.add(cid, *(str(rf) for rf in _keys(cause_data, cid, "risk_factors")))
        for fid in finding_data:
            sorter.add(fid, *(str(cid) for cid in _keys(finding_data, fid, "links")))
        try:
            sorter.prepare()
        except CycleError as exc:  # the cycle's nodes, each a parent of the next
            path = " -> ".join(exc.args[1])
            problems.append(Problem("", f"the network has a cycle: {path}"))
    return problems


def value_problems(priors: PriorsFile) -> list[Problem]:
    """Rules across several values (checked once every value is individually valid)."""
    total = sum(getattr(priors.age_groups, a).value for a in AGE_STATES)
    if abs(total - 1.0) > 0.01:
        return [Problem("age_groups", f"proportions must sum to 1 (within 0.01), got {total:.4g}")]
    return []


THRESHOLDS = "urgency.serious_cause_threshold"


#: The shipped thresholds once read (``"shipped"`` -> the table of :func:`shipped_thresholds`).
_SHIPPED: dict[str, dict[str, tuple[float, float, float]]] = {}


def shipped_thresholds() -> dict[str, tuple[float, float, float]]:
    """The see-a-doctor thresholds of the shipped priors: cause -> ``(value, low, high)``.

    They are the floor no priors file can go below: every serious cause listed here must
    keep its threshold, within the shipped ``[low, high]`` (a file's own range cannot
    widen it). Read once from :func:`toe_twitch.resources.default_priors_path` (or taken
    from the shipped file as :func:`load_priors` reads it).
    """
    if "shipped" not in _SHIPPED:
        path = default_priors_path()
        _SHIPPED["shipped"] = _thresholds_table(*read_yaml_file(path), path)
    return _SHIPPED["shipped"]


def _thresholds_table(
    data: Any, problems: list[Problem], path: Path
) -> dict[str, tuple[float, float, float]]:
    table = _keys(data, "urgency", "serious_cause_threshold")
    try:
        return {
            str(cid): (float(t["value"]), float(t["low"]), float(t["high"]))
            for cid, t in table.items()
        }
    except (KeyError, TypeError, ValueError):
        problems = problems or [Problem(THRESHOLDS, "every threshold needs value, low and high")]
    raise PriorsError(str(path), problems or [Problem(THRESHOLDS, "no thresholds")])


def _threshold_problem(cid: str, value: float, low: float, high: float) -> Problem | None:
    allowed = f"the shipped priors allow {low:g} to {high:g} for this cause"
    if value > high:
        return Problem(
            f"{THRESHOLDS}.{cid}.value",
            f"value = {value:g} is above the highest see-a-doctor threshold allowed ({allowed}); "
            "a higher threshold would leave people with this serious cause at home",
        )
    if value < low:
        return Problem(
            f"{THRESHOLDS}.{cid}.value",
            f"value = {value:g} is below the lowest see-a-doctor threshold allowed ({allowed})",
        )
    return None


def threshold_problems(data: dict[str, Any], vocab: Vocabulary) -> list[Problem]:
    """Safety rules a priors file may not drop or weaken beyond the shipped range.

    Every serious cause of the shipped priors (:func:`shipped_thresholds`) must have its
    see-a-doctor threshold, with a value in the shipped ``[low, high]``; a cause the
    shipped priors give no threshold cannot have one. (Unknown cause ids are reported by
    :func:`id_problems`.)
    """
    urgency = data.get("urgency")
    table = urgency.get("serious_cause_threshold") if isinstance(urgency, dict) else None
    if not isinstance(table, dict):
        return []  # the schema reports the missing or malformed block
    shipped = shipped_thresholds()
    problems = [
        Problem(
            f"{THRESHOLDS}.{cid}",
            f"missing: every serious cause keeps its see-a-doctor threshold (the shipped "
            f"priors: {value:g}, allowed {low:g} to {high:g}); a priors file cannot remove "
            "a safety rule",
        )
        for cid, (value, low, high) in shipped.items()
        if cid not in table
    ]
    for cid, entry in table.items():
        if cid not in shipped:
            if cid in vocab.causes:
                problems.append(
                    Problem(f"{THRESHOLDS}.{cid}", "not a serious cause: only "
                            f"{', '.join(shipped)} have a see-a-doctor threshold")
                )
            continue
        value = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            problem = _threshold_problem(cid, float(value), *shipped[cid][1:])
            if problem is not None:
                problems.append(problem)
    return problems


def safety_warnings(priors: PriorsFile) -> list[str]:
    """Each see-a-doctor threshold set higher than the shipped one, in plain words.

    Such a file is valid (the threshold is within the shipped range), but it sends people
    to a doctor later than the shipped priors do; the command line and the page say so.
    """
    vocab = load_vocabulary()
    shipped = shipped_thresholds()
    warnings = []
    for cid, threshold in priors.urgency.serious_cause_threshold.items():
        if cid in shipped and threshold.value > shipped[cid][0]:
            label = vocab.causes[cid].label if cid in vocab.causes else cid
            warnings.append(
                f"{THRESHOLDS}.{cid}: a weaker safety rule than the shipped priors: the "
                f"advice becomes 'see a doctor' for {label} only from a probability of "
                f"{threshold.value:.3g}, where the shipped priors say so from "
                f"{shipped[cid][0]:.3g}"
            )
    return warnings


def validate_priors_data(data: Any, source: str = "<priors>") -> PriorsFile:
    """Validate already-parsed data; raise :class:`PriorsError` listing every problem."""
    if not isinstance(data, dict):
        raise PriorsError(source, [Problem("", f"top level must be a mapping, got {type(data).__name__}")])
    vocab = load_vocabulary()
    problems = id_problems(data, vocab) + threshold_problems(data, vocab)
    try:
        priors = PriorsFile.model_validate(data)
    except ValidationError as exc:
        raise PriorsError(source, _pydantic_problems(exc) + problems) from None
    except RecursionError:
        raise PriorsError(source, [Problem("", "nesting is too deep")]) from None
    problems += value_problems(priors)
    if problems:
        raise PriorsError(source, problems)
    return priors


def load_priors(path: str | Path | None = None) -> PriorsFile:
    """Read and validate a priors file (the default one if ``path`` is None)."""
    path = Path(path) if path is not None else DEFAULT_PRIORS_PATH
    data, problems = read_yaml_file(path)
    if problems:
        raise PriorsError(str(path), problems)
    if "shipped" not in _SHIPPED and path.resolve() == DEFAULT_PRIORS_PATH.resolve():
        _SHIPPED["shipped"] = _thresholds_table(data, problems, path)  # read once, not twice
    return validate_priors_data(data, str(path))


def parse_priors_text(text: str, source: str = "<uploaded priors>") -> PriorsFile:
    """Validate priors given as YAML text (an upload on the page)."""
    data, problems = parse_yaml_text(text)
    if problems:
        raise PriorsError(source, problems)
    return validate_priors_data(data, source)


def iter_parameters(priors: PriorsFile) -> Iterator[ParameterRef]:
    """Every parameter in file order, with its dotted path."""

    def walk(node: Any, path: tuple[str, ...]) -> Iterator[ParameterRef]:
        if isinstance(node, Parameter):
            yield ParameterRef(
                ".".join(path), node.kind, node.value, node.low, node.high, node.source
            )
        elif isinstance(node, BaseModel):
            for name in type(node).model_fields:
                yield from walk(getattr(node, name), (*path, name))
        elif isinstance(node, dict):
            for key, child in node.items():
                yield from walk(child, (*path, key))

    for section in ("age_groups", "risk_factors", "causes", "findings", "urgency"):
        yield from walk(getattr(priors, section), (section,))


def source_counts(priors: PriorsFile) -> dict[str, int]:
    """How many parameters cite a published figure, rest on a definition, or on judgement."""
    counts = {"cited": 0, "definition": 0, "judged": 0}
    for p in iter_parameters(priors):
        counts[p.source_kind] += 1
    return counts


def priors_to_data(priors: PriorsFile) -> dict[str, Any]:
    """Plain data (for writing back to YAML), in file order."""
    # The one-or-by-age unions are chosen by a callable discriminator, which pydantic
    # cannot replay when dumping; the dumped dicts are the file's own shape all the same
    # (tests/test_priors.py round-trips the shipped file).
    return priors.model_dump(mode="python", warnings=False)


def with_values(priors: PriorsFile, changes: dict[str, float], source: str = "<edited>") -> PriorsFile:
    """A new validated priors object with some parameter values replaced.

    ``changes`` maps a parameter path (as in :func:`iter_parameters`) to its new value.
    Raises :class:`PriorsError` if a path is unknown or the result breaks a rule.
    """
    data = priors_to_data(priors)
    problems = []
    for path, value in changes.items():
        node: Any = data
        parts = path.split(".")
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                problems.append(Problem(path, "no parameter at this path"))
                break
            node = node[part]
        else:
            if isinstance(node, dict) and "value" in node:
                node["value"] = value
            else:
                problems.append(Problem(path, "no parameter at this path"))
    if problems:
        raise PriorsError(source, problems)
    return validate_priors_data(data, source)
