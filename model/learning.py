"""Learning the priors from a clinic's own cases, with the experts' ranges as the prior.

A case file holds one case per row: the answers a person gave (one column per finding id;
``yes``/``no`` or ``present``/``absent``, age_group's states; empty = unknown) and, in an
optional ``diagnosis`` column, the causes confirmed (``plmt;neuropathy``), ``none`` when
none of the listed causes was found, or nothing when no diagnosis was made. Other columns
(an id, a date) are kept for messages.

The fit is the maximum a posteriori (MAP) estimate by EM (Dempster, Laird & Rubin 1977):

**Prior.** Each probability (link, leak, prevalence) has the Beta prior whose *mode* is the
expert's value and whose central 90% interval best matches the expert's range (least
squares on the log-odds scale, over one number, the weight): ``alpha = 1 + w * value``,
``beta = 1 + w * (1 - value)``. ``w`` is the prior's weight in cases: the MAP of a link
seen to act ``m`` times in ``n`` cases is ``(m + w * value) / (n + w)``. An odds ratio has
a normal prior on its log with the range as the 90% interval (sd = log(high / low) / 3.29).

**E-step.** For each case the engine's exact posterior over (age, all 4,096 cause states)
given its answers (:meth:`toe_twitch.core.ToeTwitchModel.cause_states`). A diagnosis is
read as the workup's whole result, as ``none`` is: the listed causes present and every
other cause absent (one cause state); no diagnosis leaves the causes latent; unknown
answers are left out of the evidence, so they add nothing. A case whose age and diagnosis
are both known has that one (age, cause state) whatever the numbers, so only the other
cases go through the engine at each iteration.
The posteriors are summed into one weight vector over (age, cause state) per answer
(finding, state), so the M-step never loops over cases.

**M-step.** Closed forms given those weights:

* *Link and leak of a finding* (noisy-OR): the expected number of cases in which the
  cause was present and the finding answered (``n``) and in which the cause produced it
  (``m = sum over answered-present cases of P(s | e) * link / P(finding | s)``); MAP as
  above.
* *Property of the twitching* (lasting two weeks, at sleep onset, ...), in its own
  definition: each present cause makes twitching with chance ``t_c`` and that twitching
  has the property with chance ``r_c``; ``n`` is the expected number of cases in which
  ``c`` made the twitching, ``m`` those in which it made it with the property.
* *Prevalence*: every case twitches, so the cases see a cause with its general-population
  odds multiplied by the twitching's likelihood ratio ``LR`` (from the current model).
  Given ``LR``, the MAP of the prevalence is one-dimensional and concave in its log-odds:
  Newton's method.
* *Odds ratio*: the cases' log odds ratio between the risk factor and the cause (per age
  group, pooled by inverse variance) minus the one the current model predicts among the
  same cases, added to the current log odds ratio (so the selection on twitching and the
  other risk factors cancel), then combined with the prior as two normals.

Not learned, and why: the twitching's own links and leak (every case twitches), the
age-group shares and risk-factor prevalences (general-population figures that a clinic's
twitching cases cannot give), the urgency thresholds (a policy), and any number whose
range is a single point or whose value is 0 or 1 (a definition).

**Stop** when an EM step moves no learned number by more than :data:`TOLERANCE` on the
log-odds scale (log scale for odds ratios), or after :data:`MAX_ITERATIONS` EM steps.
The steps are accelerated by SQUAREM (Varadhan & Roland 2008): two EM steps, an
extrapolation along them, one more EM step; the fixed point is plain EM's.

**Uncertainty.** 90% credible intervals from the complete-data posterior at the last
iteration: the Beta ``(alpha + m, beta + n - m)`` for links and leaks, a Laplace (normal)
approximation on the log-odds scale for prevalences, the normal posterior for log odds
ratios. They ignore the information lost to unknown answers and diagnoses, so they are
somewhat narrow. They become the numbers' new ranges.

**Where data and expert disagree.** A number is flagged when its data fall in a tail of
their prior predictive distribution (two-sided p below :data:`SURPRISE_P`): for a link or
leak, ``m`` of ``n`` (rounded) under the Beta-binomial of its prior; for a prevalence,
the cases with the cause under the binomial with the prior's prevalence (drawn) shifted
by the twitching's likelihood ratio; for an odds ratio, ``z = (data - prior) /
sqrt(var_prior + var_data)`` on the log scale. A case is flagged when
its HUGIN conflict ``conf(e) = sum_j log P(e_j) - log P(e)`` (each answer and the
diagnosis alone, against all together, given the twitching) exceeds
:data:`CONFLICT_THRESHOLD`.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import optimize, special, stats

from toe_twitch.core import ToeTwitchModel
from toe_twitch.engine import Encoded
from toe_twitch.errors import InputFileError, Problem, ToeTwitchError
from toe_twitch.files import check_target, read_bounded, write_atomic
from toe_twitch.priors import (
    AGE_FINDING,
    AGE_STATES,
    PriorsFile,
    iter_parameters,
    priors_to_data,
    validate_priors_data,
)
from toe_twitch.vocabulary import suggest

#: The largest case file read, in bytes (about 300,000 cases of 50 answers).
MAX_CASE_FILE_BYTES = 32 * 2**20
#: Stop when no learned number moves more than this on the log-odds (log) scale.
TOLERANCE = 1e-3
MAX_ITERATIONS = 100
#: A number is flagged when its data contradict its prior with two-sided p below this.
SURPRISE_P = 0.01
#: A case is flagged when conf(e) exceeds this: its answers are more than ten times less
#: likely together than each alone would suggest.
CONFLICT_THRESHOLD = math.log(10)
#: Cases per engine call in the E-step: each holds 4 x 4,096 numbers (64 MB a chunk),
#: and from 512 rows the engine runs on every core.
CHUNK_CASES = 512
_Z90 = float(stats.norm.ppf(0.95))
_EDGE = 1e-6  # learned probabilities stay this far from 0 and 1
YES_WORDS = {"yes": "present", "present": "present", "no": "absent", "absent": "absent"}
DIAGNOSIS_COLUMN = "diagnosis"
NONE_DIAGNOSED = "none"
_MAX_PROBLEMS = 20


class CaseFileError(InputFileError):
    """A case file that cannot be used: each problem names the row and the column."""


# ---------------------------------------------------------------- reading the cases
@dataclass(frozen=True)
class Cases:
    """A clinic's cases, checked and encoded.

    ``rows`` are the answers in the engine's encoding; ``confirmed[i]`` is ``-1`` (no
    diagnosis), ``0`` (``none``: every listed cause absent) or the bit mask of the
    confirmed causes (bit ``j`` = ``model.causes[j]``). ``numbers[i]`` is the row number
    in the file (1 = the first case) and ``labels[i]`` its id column, if any.
    """

    source: str
    rows: Encoded
    confirmed: np.ndarray
    numbers: tuple[int, ...]
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.numbers)

    def subset(self, keep: np.ndarray) -> Cases:
        keep = np.asarray(keep)
        return Cases(
            self.source,
            self.rows.rows(keep),
            self.confirmed[keep],
            tuple(self.numbers[i] for i in np.flatnonzero(keep)),
            tuple(self.labels[i] for i in np.flatnonzero(keep)),
        )

    def where(self, i: int) -> str:
        """``row 3 (id c3)``: how a message names case ``i``."""
        label = f" (id {self.labels[i]})" if self.labels[i] else ""
        return f"row {self.numbers[i]}{label}"


def read_cases(path: str | Path, model: ToeTwitchModel) -> Cases:
    """Read and check a case file (CSV, or Parquet when pandas can read it).

    Raises :class:`CaseFileError` listing every problem (row, column, rule), or
    :class:`~toe_twitch.errors.FileReadError` for a missing or over-size file.
    """
    data = read_bounded(path, MAX_CASE_FILE_BYTES)
    return parse_cases(data, Path(path).name, model)


def parse_cases(data: bytes, source: str, model: ToeTwitchModel) -> Cases:
    """:func:`read_cases` on bytes already read (an upload on the page)."""
    if len(data) > MAX_CASE_FILE_BYTES:
        raise CaseFileError(source, [Problem("", f"file is larger than the limit of "
                                             f"{MAX_CASE_FILE_BYTES} bytes")])
    if source.lower().endswith((".parquet", ".pq")):
        header, body = _parquet_table(data, source)
    else:
        header, body = _csv_table(data, source)
    return _check_table(header, body, source, model)


def _csv_table(data: bytes, source: str) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseFileError(source, [Problem("", f"not UTF-8 text (byte {exc.start}); save "
                                             "the cases as a UTF-8 CSV file")]) from None
    try:
        table = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise CaseFileError(source, [Problem("", f"not a readable CSV file: {exc}")]) from None
    if not table:
        raise CaseFileError(source, [Problem("", "the file is empty: it needs a header row "
                                             "of finding ids and one row per case")])
    return [c.strip() for c in table[0]], table[1:]


def _parquet_table(data: bytes, source: str) -> tuple[list[str], list[list[str]]]:
    try:
        import pandas as pd

        frame = pd.read_parquet(io.BytesIO(data))
    except ImportError:
        raise CaseFileError(source, [Problem("", "reading Parquet needs pyarrow (pip install "
                                             "pyarrow); or save the cases as CSV")]) from None
    except Exception as exc:  # pyarrow's errors have no common base class
        raise CaseFileError(source, [Problem("", f"not a readable Parquet file: {exc}")]) from None
    body = [["" if v is None or v != v else str(v) for v in row] for row in frame.itertuples(index=False)]
    return [str(c).strip() for c in frame.columns], body


def _classify_columns(header: list[str], body: list[list[str]], model: ToeTwitchModel,
                      problems: list[Problem]) -> tuple[dict[int, str], int | None, int | None]:
    """Finding columns (index -> finding), the diagnosis column and an id column."""
    findings: dict[int, str] = {}
    diagnosis = label = None
    seen: set[str] = set()
    words = set(YES_WORDS) | set(AGE_STATES)
    implicit = set(model.vocabulary.implicit_evidence)
    for i, name in enumerate(header):
        where = f"column {name!r}"
        if name in seen:
            problems.append(Problem(where, "appears twice in the header"))
            continue
        seen.add(name)
        if name in model.findings:
            findings[i] = name
        elif name == DIAGNOSIS_COLUMN:
            diagnosis = i
        elif name in implicit:
            problems.append(Problem(where, "every case is assumed to twitch; leave this column out"))
        elif name in model.causes:
            problems.append(Problem(where, "is a cause, not a finding: list confirmed causes "
                                    f"in the {DIAGNOSIS_COLUMN!r} column, separated by ';'"))
        else:
            values = {row[i].strip().lower() for row in body if i < len(row) and row[i].strip()}
            close = suggest(name, model.findings, {})
            if (values and values <= words) or (close and close not in header):
                hint = f"; did you mean {close!r}?" if close else ""
                problems.append(Problem(where, f"unknown finding id{hint} (valid: "
                                        f"{', '.join(model.findings)}; a column kept for "
                                        "reference, such as an id or a date, must not hold answers)"))
            elif label is None:
                label = i
    return findings, diagnosis, label


def _answer(model: ToeTwitchModel, finding: str, raw: str) -> str | None:
    """The state of an answer, None if unknown (empty), "" if not a valid answer."""
    text = raw.strip().lower()
    if not text:
        return None
    if finding == AGE_FINDING:
        return text if text in model.states[finding] else ""
    return YES_WORDS.get(text, "")


def _diagnosis_mask(model: ToeTwitchModel, raw: str, where: str, problems: list[Problem]) -> int:
    parts = [p.strip().lower() for p in raw.split(";") if p.strip()]
    if not parts:
        return -1
    if NONE_DIAGNOSED in parts:
        if len(parts) > 1:
            problems.append(Problem(where, "'none' means no listed cause was found; it cannot "
                                    "be combined with causes"))
        return 0
    mask = 0
    for part in parts:
        if part not in model.causes:
            close = suggest(part, model.causes, {})
            hint = f"; did you mean {close!r}?" if close else ""
            problems.append(Problem(where, f"unknown cause {part!r}{hint} (valid: "
                                    f"{', '.join(model.causes)}, or 'none')"))
            continue
        mask |= 1 << model.causes.index(part)
    return mask


def _check_table(header: list[str], body: list[list[str]], source: str,
                 model: ToeTwitchModel) -> Cases:
    problems: list[Problem] = []
    findings, diagnosis, label = _classify_columns(header, body, model, problems)
    if not body:
        problems.append(Problem("", "no cases: the file has a header but no rows"))
    evidences: list[dict[str, str]] = []
    confirmed: list[int] = []
    labels: list[str] = []
    for r, row in enumerate(body, start=1):
        tag = row[label].strip()[:40] if label is not None and label < len(row) else ""
        where = f"row {r}" + (f" (id {tag})" if tag else "")
        if len(row) != len(header):
            problems.append(Problem(where, f"has {len(row)} fields; the header has {len(header)}"))
            continue
        evidence = {}
        for i, finding in findings.items():
            state = _answer(model, finding, row[i])
            if state == "":
                valid = model.states[finding] if finding == AGE_FINDING else ("yes", "no", "present", "absent")
                problems.append(Problem(f"{where}, column {finding!r}", f"unknown answer "
                                        f"{row[i].strip()[:40]!r}; valid: {', '.join(valid)} "
                                        "(leave the cell empty if unknown)"))
            elif state is not None:
                evidence[finding] = state
        where_d = f"{where}, column {DIAGNOSIS_COLUMN!r}"
        confirmed.append(_diagnosis_mask(model, row[diagnosis], where_d, problems)
                         if diagnosis is not None else -1)
        evidences.append(evidence)
        labels.append(tag)
    if problems:
        raise CaseFileError(source, problems[:_MAX_PROBLEMS] + (
            [Problem("", f"... and {len(problems) - _MAX_PROBLEMS} more problems")]
            if len(problems) > _MAX_PROBLEMS else []))
    return Cases(source, model.encode(evidences), np.array(confirmed, dtype=np.int64),
                 tuple(range(1, len(body) + 1)), tuple(labels))


# ---------------------------------------------------------------- priors from ranges
@dataclass(frozen=True)
class BetaPrior:
    """The Beta prior of a probability: mode at the expert's value, the range as 90%."""

    alpha: float
    beta: float

    @property
    def weight(self) -> float:
        """The prior's weight in cases: ``alpha + beta - 2``."""
        return self.alpha + self.beta - 2


def _logit(p: np.ndarray | float) -> np.ndarray | float:
    p = np.clip(p, 1e-300, 1 - 1e-16)
    return np.log(p) - np.log1p(-p)


def _expit(x: np.ndarray | float) -> np.ndarray | float:
    return special.expit(x)


def beta_prior(value: float, low: float, high: float) -> BetaPrior:
    """The Beta with mode ``value`` whose 5% and 95% points best match ``low`` and
    ``high`` (least squares on the log-odds scale; an end at 0 or 1 is not matched).

    >>> p = beta_prior(0.2, 0.1, 0.35)
    >>> round(p.weight)
    25
    """
    ends = [(q, x) for q, x in ((0.05, low), (0.95, high)) if 0 < x < 1]
    if not ends or not 0 < value < 1:
        return BetaPrior(1.0, 1.0)

    def loss(log_weight: float) -> float:
        w = math.exp(log_weight)
        a, b = 1 + w * value, 1 + w * (1 - value)
        return sum((float(_logit(stats.beta.ppf(q, a, b))) - float(_logit(x))) ** 2 for q, x in ends)

    best = optimize.minimize_scalar(loss, bounds=(-4.0, 18.0), method="bounded",
                                    options={"xatol": 1e-3})
    w = math.exp(best.x)
    return BetaPrior(1 + w * value, 1 + w * (1 - value))


def log_normal_sd(low: float, high: float) -> float:
    """The sd of log(odds ratio) whose 90% interval spans ``low`` to ``high``."""
    return (math.log(high) - math.log(low)) / (2 * _Z90)


@dataclass(frozen=True)
class _Plan:
    """Which numbers are learned, their priors, and how to find them (built once)."""

    paths: tuple[str, ...]  # learned, in file order
    kinds: dict[str, str]  # path -> "link", "leak", "prevalence", "odds ratio"
    beta: dict[str, BetaPrior]
    log_sd: dict[str, float]
    start: dict[str, float]  # every parameter's starting value
    twitching: str


def _learned_kind(path: str, twitching: str) -> str | None:
    parts = path.split(".")
    if parts[0] == "findings" and parts[1] != twitching:
        return "leak" if parts[2] == "leak" else "link"
    if parts[0] == "causes":
        return "prevalence" if parts[2] == "prevalence" else "odds ratio"
    return None


def _plan(model: ToeTwitchModel) -> _Plan:
    twitching = next(iter(model.vocabulary.implicit_evidence))
    paths, kinds, beta, log_sd, start = [], {}, {}, {}, {}
    for p in model.structure.parameters:
        start[p.path] = p.value
        kind = _learned_kind(p.path, twitching)
        if kind is None or p.low == p.high:
            continue
        if kind == "odds ratio":
            log_sd[p.path] = log_normal_sd(p.low, p.high)
        elif 0 < p.value < 1:
            beta[p.path] = beta_prior(p.value, p.low, p.high)
        else:
            continue  # a probability of exactly 0 or 1 is a definition
        paths.append(p.path)
        kinds[p.path] = kind
    return _Plan(tuple(paths), kinds, beta, log_sd, start, twitching)


def _path(values: dict[str, float], base: str, age: str) -> str | None:
    """The path of a number given once (``base``) or per age group (``base.age``)."""
    if base in values:
        return base
    by_age = f"{base}.{age}"
    return by_age if by_age in values else None


# ---------------------------------------------------------------- the E-step
@dataclass(frozen=True)
class _Columns:
    """One column per answer (finding or risk factor, state) and one for every case."""

    index: dict[tuple[str, int], int]
    indicators: np.ndarray  # (n, C)

    @staticmethod
    def of(model: ToeTwitchModel, cases: Cases) -> _Columns:
        index: dict[tuple[str, int], int] = {("", 0): 0}
        parts = [np.ones((len(cases), 1))]
        structure = model.structure
        for codes, names in ((cases.rows.findings, structure.findings),
                             (cases.rows.risk_factors, structure.risk_factors)):
            for j, name in enumerate(names):
                for x in (0, 1):
                    index[(name, x)] = len(index)
                    parts.append((codes[:, j] == x).astype(float)[:, None])
        return _Columns(index, np.hstack(parts).astype(np.float32))


def _diagnosis_keep(confirmed: np.ndarray, n_states: int) -> np.ndarray:
    """``(n, S)``: the cause states each case's diagnosis allows (a diagnosis is the
    workup's whole finding: the causes it lists present, every other absent)."""
    states = np.arange(n_states, dtype=np.int64)[None, :]
    c = confirmed[:, None]
    return (c < 0) | (states == c)


def _known_weights(cases: Cases, columns: _Columns, n_ages: int, n_states: int) -> np.ndarray:
    """The E-step weights of cases whose age and diagnosis are both known: their whole
    posterior is that one (age, cause state), whatever the numbers (``(C, A, S)``)."""
    omega = np.zeros((columns.indicators.shape[1], n_ages, n_states))
    for i in np.flatnonzero((cases.rows.age >= 0) & (cases.confirmed >= 0)):
        omega[:, cases.rows.age[i], cases.confirmed[i]] += columns.indicators[i]
    return omega


def _accumulate(omega: np.ndarray, indicators: np.ndarray, joint: np.ndarray, age: np.ndarray) -> None:
    """``omega += indicators.T @ joint``, using only the age slice of a known age (in
    single precision: these are sums of probabilities, 7 digits are plenty)."""
    known = np.flatnonzero(age >= 0)
    if len(known):
        sliced = joint[known, age[known], :].astype(np.float32)  # (m, S)
        for a in range(omega.shape[1]):
            rows = np.flatnonzero(age[known] == a)
            if len(rows):
                omega[:, a, :] += indicators[known[rows]].T @ sliced[rows]
    unknown = np.flatnonzero(age < 0)
    if len(unknown):
        flat = joint[unknown].reshape(len(unknown), -1).astype(np.float32)
        omega += (indicators[unknown].T @ flat).reshape(omega.shape)


def _e_step(model: ToeTwitchModel, cases: Cases, columns: _Columns) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(C, A, S)``: sum over cases of P(age, cause state | case) per answer
    column; and log P(case | twitching) per case (``-inf`` if impossible)."""
    n_ages, n_states = model.engine.n_ages, model.engine.n_states
    omega = np.zeros((columns.indicators.shape[1], n_ages, n_states))
    loglik = np.empty(len(cases))
    base = float(model.query([{}]).log_evidence[0])
    for start in range(0, len(cases), CHUNK_CASES):
        span = slice(start, start + CHUNK_CASES)
        rows = cases.rows.rows(span)
        post = model.cause_states(rows)
        joint, confirmed = post.joint, cases.confirmed[span]
        for i in np.flatnonzero(confirmed >= 0):  # the diagnosis: one cause state
            kept = joint[i, :, confirmed[i]].copy()
            joint[i] = 0.0
            joint[i, :, confirmed[i]] = kept
        mass = joint.sum(axis=(1, 2))
        ok = (mass > 0) & np.isfinite(post.log_evidence)
        with np.errstate(divide="ignore"):
            loglik[span] = np.where(ok, post.log_evidence - base + np.log(mass), -np.inf)
        joint /= np.where(ok, mass, 1.0)[:, None, None]
        if not ok.all():
            joint[~ok] = 0.0
        _accumulate(omega, columns.indicators[span], joint, rows.age)
    return omega, loglik


# ---------------------------------------------------------------- the M-step
def _add(counts: dict[str, list[float]], path: str | None, m: float, n: float) -> None:
    if path is not None:
        total = counts.setdefault(path, [0.0, 0.0])
        total[0] += float(m)
        total[1] += float(n)


def _safe_ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)


def _absent_product(factors: Sequence[float], bits: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """``prod over parents i present in state s of factors[i]``, over all states ``s``."""
    out = np.ones(bits.shape[1])
    for factor, j in zip(factors, parents, strict=True):
        out *= np.where(bits[j], factor, 1.0)
    return out


def _finding_counts(model: ToeTwitchModel, values: dict[str, float], omega: np.ndarray,
                    columns: _Columns, bits: np.ndarray, twitching: str) -> dict[str, list[float]]:
    """``[m, n]`` per link and leak of the ordinary (noisy-OR) findings."""
    s = model.structure
    counts: dict[str, list[float]] = {}
    for f in s.findings:
        if f == twitching or f in s.property_of:
            continue
        w0, w1 = omega[columns.index[(f, 0)]], omega[columns.index[(f, 1)]]
        parents = [model.causes.index(c) for c in s.finding_parents[f]]
        for a, age in enumerate(AGE_STATES[: omega.shape[1]]):
            link_paths = [_path(values, f"findings.{f}.links.{c}", age) for c in s.finding_parents[f]]
            links = [values[p] for p in link_paths]
            leak_path = _path(values, f"findings.{f}.leak", age)
            leak = values[leak_path]
            absent = (1 - leak) * _absent_product([1 - x for x in links], bits, parents)
            ratio = _safe_ratio(w1[a], 1 - absent)
            total = w0[a] + w1[a]
            for p, link, j in zip(link_paths, links, parents, strict=True):
                _add(counts, p, link * (ratio @ bits[j]), total @ bits[j])
            _add(counts, leak_path, leak * ratio.sum(), total.sum())
    return counts


def _property_counts(model: ToeTwitchModel, values: dict[str, float], omega: np.ndarray,
                     columns: _Columns, bits: np.ndarray, counts: dict[str, list[float]]) -> None:
    """``[m, n]`` per link and leak of the properties of the twitching, in their own
    definition: ``n`` = expected cases in which the cause made the twitching, ``m`` = in
    which it made it with the property (a cause without its own link adds to the leak)."""
    s = model.structure
    always = np.ones(bits.shape[1], dtype=bool)
    for f, twitching in s.property_of.items():
        w0, w1 = omega[columns.index[(f, 0)]], omega[columns.index[(f, 1)]]
        causes = s.finding_parents[twitching]
        parents = [model.causes.index(c) for c in causes]
        for a, age in enumerate(AGE_STATES[: omega.shape[1]]):
            t = [values[_path(values, f"findings.{twitching}.links.{c}", age)] for c in causes]
            t0 = values[_path(values, f"findings.{twitching}.leak", age)]
            leak_path = _path(values, f"findings.{f}.leak", age)
            own = [_path(values, f"findings.{f}.links.{c}", age) or leak_path for c in causes]
            r = [values[p] for p in own]
            q = (1 - t0 * values[leak_path]) * _absent_product(
                [1 - ti * ri for ti, ri in zip(t, r, strict=True)], bits, parents)
            tw = (1 - t0) * _absent_product([1 - ti for ti in t], bits, parents)
            g1 = _safe_ratio(w1[a], 1 - q)
            g1q = _safe_ratio(w1[a] * q, 1 - q)
            g0 = _safe_ratio(w0[a] * q, q - tw)
            sources = [(p, ti, ri, bits[j]) for p, ti, ri, j in zip(own, t, r, parents, strict=True)]
            sources.append((leak_path, t0, values[leak_path], always))
            for p, ti, ri, b in sources:
                u = ti * ri
                coef = ti * (1 - ri) / (1 - u) if u < 1 else 0.0
                made = ti * (g1 @ b) - coef * (g1q @ b) + coef * (g0 @ b)
                _add(counts, p, u * (g1 @ b), made)


@dataclass(frozen=True)
class _Estimate:
    """One learned number after an M-step, with what the report needs."""

    value: float
    low: float
    high: float
    cases: float
    surprise: float  # two-sided prior-predictive p-value
    weight: float  # the prior's weight in cases (nan for an odds ratio)


def _p_two_sided(z: float) -> float:
    return float(2 * stats.norm.sf(abs(z)))


def _beta_estimate(prior: BetaPrior, m: float, n: float) -> _Estimate:
    m = min(max(m, 0.0), n)
    value = float(np.clip((m + prior.alpha - 1) / (n + prior.weight), _EDGE, 1 - _EDGE))
    a, b = prior.alpha + m, prior.beta + n - m
    low, high = (float(x) for x in stats.beta.ppf([0.05, 0.95], a, b))
    trials, hits = round(n), min(round(m), round(n))
    below = float(stats.betabinom.cdf(hits, trials, prior.alpha, prior.beta))
    above = float(stats.betabinom.sf(hits - 1, trials, prior.alpha, prior.beta))
    surprise = min(1.0, 2 * min(below, above))
    return _Estimate(value, min(low, value), max(high, value), n, surprise, prior.weight)


def _prevalence_surprise(prior: BetaPrior, x: float, n: float, shift: float) -> float:
    """Two-sided prior-predictive p-value of ``x`` of ``n`` cases having the cause: the
    prevalence drawn from its Beta prior, the cases' rate shifted by ``shift`` in log-odds
    (2,000 draws with a fixed seed, so a fit is repeatable)."""
    draws = stats.beta.rvs(prior.alpha, prior.beta, size=2000, random_state=np.random.default_rng(23))
    rate = _expit(_logit(draws) + shift)
    trials, hits = round(n), min(round(x), round(n))
    below = float(np.mean(stats.binom.cdf(hits, trials, rate)))
    above = float(np.mean(stats.binom.sf(hits - 1, trials, rate)))
    return min(1.0, 2 * min(below, above))


def _prevalence_estimate(prior: BetaPrior, x: float, n: float, shift: float, start: float) -> _Estimate:
    """MAP of a prevalence whose cases see it with log-odds shifted by ``shift``:
    Newton's method on the (concave) log posterior in the log-odds ``eta``."""
    eta = float(_logit(start))
    for _ in range(50):
        pi, q = _expit(eta), _expit(eta + shift)
        gradient = x - n * q + (prior.alpha - 1) - prior.weight * pi
        curvature = n * q * (1 - q) + prior.weight * pi * (1 - pi)
        step = gradient / max(curvature, 1e-300)
        eta += float(np.clip(step, -2.0, 2.0))
        if abs(step) < 1e-10:
            break
    pi, q = _expit(eta), _expit(eta + shift)
    sd = 1 / math.sqrt(max(n * q * (1 - q) + prior.weight * pi * (1 - pi), 1e-300))
    lo_hi = _expit(np.array([eta - _Z90 * sd, eta + _Z90 * sd]))
    surprise = _prevalence_surprise(prior, x, n, shift)
    value = float(np.clip(pi, 1e-12, 1 - 1e-12))
    low = float(np.clip(min(lo_hi[0], value), 1e-12, 1 - 1e-12))
    high = float(np.clip(max(lo_hi[1], value), 1e-12, 1 - 1e-12))
    return _Estimate(value, low, high, n, surprise, prior.weight)


def _odds_ratio_estimate(prior_value: float, sd0: float, current: float,
                         data: np.ndarray, predicted: np.ndarray) -> _Estimate:
    """``data[a]`` = the cases' 2x2 table in age group ``a`` ((rf absent, present) x
    (cause absent, present)); ``predicted[a]`` = the current model's log odds ratio among
    the same cases. Returns the normal-normal posterior of the log odds ratio."""
    cells = data + 0.5
    log_or = np.log(cells[:, 1, 1] * cells[:, 0, 0] / (cells[:, 1, 0] * cells[:, 0, 1]))
    weight = 1 / (1 / cells).sum(axis=(1, 2))
    used = data.sum(axis=(1, 2)) >= 1
    n = float(data.sum())
    mu0 = math.log(prior_value)
    if not used.any():  # no age group with a whole case behind it: nothing learned
        return _Estimate(current, current, current, 0.0, 1.0, float("nan"))
    w = weight[used]
    shift = float(np.sum(w * (log_or[used] - predicted[used])) / w.sum())
    var = 1 / float(w.sum())
    estimate = math.log(current) + shift
    precision = 1 / sd0**2 + 1 / var
    mean = (mu0 / sd0**2 + estimate / var) / precision
    bound = math.log(1e4)
    mean = float(np.clip(mean, -bound, bound))
    half = _Z90 / math.sqrt(precision)
    surprise = _p_two_sided((estimate - mu0) / math.sqrt(sd0**2 + var))
    return _Estimate(math.exp(mean), math.exp(max(mean - half, -bound)),
                     math.exp(min(mean + half, bound)), n, surprise, float("nan"))


def _cause_estimates(model: ToeTwitchModel, plan: _Plan, values: dict[str, float],
                     omega: np.ndarray, columns: _Columns, bits: np.ndarray) -> dict[str, _Estimate]:
    """Prevalences and odds ratios (see the module docstring)."""
    ages = AGE_STATES[: omega.shape[1]]
    learned_or = [p for p in plan.paths if plan.kinds[p] == "odds ratio"]
    rfs = [rf for rf in model.structure.risk_factors if any(p.endswith(f".{rf}") for p in learned_or)]
    rows = [{AGE_FINDING: a} for a in ages]
    rows += [{AGE_FINDING: a, rf: state} for a in ages for rf in rfs for state in model.states[rf]]
    marginals = model.query(rows, impossible="mark").marginals
    everyone = omega[columns.index[("", 0)]]  # (A, S)
    n_age, present = everyone.sum(axis=1), everyone @ bits.T  # (A,), (A, K)
    out: dict[str, _Estimate] = {}
    for path in plan.paths:
        kind = plan.kinds[path]
        if kind == "prevalence":
            _, cause, _, age = path.split(".")
            a, j = ages.index(age), model.causes.index(cause)
            shift = float(_logit(marginals[a, j]) - _logit(values[path]))
            out[path] = _prevalence_estimate(plan.beta[path], present[a, j], n_age[a], shift, values[path])
        elif kind == "odds ratio":
            _, cause, _, rf = path.split(".")
            j, i = model.causes.index(cause), rfs.index(rf)
            data = np.zeros((len(ages), 2, 2))
            predicted = np.zeros(len(ages))
            for a in range(len(ages)):
                for x in (0, 1):
                    w = omega[columns.index[(rf, x)], a]
                    data[a, x, 1] = w @ bits[j]
                    data[a, x, 0] = w.sum() - data[a, x, 1]
                first = len(ages) + 2 * (a * len(rfs) + i)
                p0, p1 = marginals[first, j], marginals[first + 1, j]
                predicted[a] = float(_logit(p1) - _logit(p0))
            out[path] = _odds_ratio_estimate(plan.start[path], plan.log_sd[path], values[path],
                                             data, predicted)
    return out


def _m_step(model: ToeTwitchModel, plan: _Plan, values: dict[str, float], omega: np.ndarray,
            columns: _Columns, bits: np.ndarray) -> dict[str, _Estimate]:
    counts = _finding_counts(model, values, omega, columns, bits, plan.twitching)
    _property_counts(model, values, omega, columns, bits, counts)
    out = {
        p: _beta_estimate(plan.beta[p], *counts.get(p, (0.0, 0.0)))
        for p in plan.paths
        if plan.kinds[p] in ("link", "leak")
    }
    out.update(_cause_estimates(model, plan, values, omega, columns, bits))
    return out


def _distance(kind: str, before: float, after: float) -> float:
    """How far a number moved: on the log scale for an odds ratio, log-odds otherwise."""
    if kind == "odds ratio":
        return abs(math.log(after) - math.log(before))
    return abs(float(_logit(after) - _logit(before)))


def _model_for(model: ToeTwitchModel, plan: _Plan, values: dict[str, float]) -> ToeTwitchModel:
    """The model with the learned numbers in place (the tables built directly)."""
    from toe_twitch.network import build_tables

    structure = model.structure
    theta = structure.values()
    for p in plan.paths:
        theta[structure.index[p]] = values[p]
    return ToeTwitchModel(
        structure, build_tables(structure, theta, model.source), priors=model.priors,
        source=model.source, thresholds=model.thresholds,
        thresholds_source=model.thresholds_source, compiled=model.engine.compiled,
    )


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class LearnedNumber:
    """One number before and after learning.

    ``cases`` is the expected number of cases that informed it (for a link: cases in
    which the cause was present and the finding answered); ``surprise`` the two-sided
    prior-predictive p-value of its data; ``prior_weight`` the Beta prior's weight in
    cases (NaN for an odds ratio, whose prior is normal on the log scale).
    """

    path: str
    kind: str
    before: float
    prior_low: float
    prior_high: float
    after: float
    low: float
    high: float
    cases: float
    prior_weight: float
    surprise: float

    @property
    def conflict(self) -> bool:
        """The cases contradict the prior (:data:`SURPRISE_P`)."""
        return self.surprise < SURPRISE_P

    @property
    def shift(self) -> float:
        """How far it moved: log-odds (log for an odds ratio)."""
        return _distance(self.kind, self.before, self.after)

    @property
    def moved(self) -> bool:
        """The starting value lies outside the learned 90% interval."""
        return not self.low <= self.before <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "before": self.before,
            "prior_range": [self.prior_low, self.prior_high], "after": self.after,
            "interval_90": [self.low, self.high], "cases": self.cases,
            "prior_weight_cases": None if math.isnan(self.prior_weight) else self.prior_weight,
            "surprise_p": self.surprise, "conflicts_with_prior": self.conflict,
            "moved": self.moved,
        }


@dataclass(frozen=True)
class CaseNote:
    """A case that was skipped (``reason``) or fits the learned model badly (``conflict``)."""

    row: int
    label: str
    reason: str = ""
    conflict: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "id": self.label}
        if self.reason:
            out["reason"] = self.reason
        if not math.isnan(self.conflict):
            out["conflict"] = self.conflict
        return out


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` learned: the new priors, every learned number, and the notes.

    ``log_likelihood[i]`` is log P(case | twitching) summed over the cases whose age or
    diagnosis is unknown, at the E-step after iteration ``i + 1`` (they are the cases the
    numbers can change).
    """

    source: str
    priors: PriorsFile
    numbers: tuple[LearnedNumber, ...]
    iterations: int
    converged: bool
    cases_used: int
    skipped: tuple[CaseNote, ...]
    conflicting_cases: tuple[CaseNote, ...]
    log_likelihood: tuple[float, ...]
    seconds: float
    header: tuple[str, ...] = field(default=(), repr=False)

    def moved(self) -> list[LearnedNumber]:
        """Numbers whose starting value is outside their learned 90% interval, or whose
        data contradict their prior, furthest moved first."""
        chosen = [n for n in self.numbers if n.moved or n.conflict]
        return sorted(chosen, key=lambda n: -n.shift)

    def yaml_text(self) -> str:
        """The learned priors as an ordinary priors file (what ``--out`` writes)."""
        body = yaml.safe_dump(priors_to_data(self.priors), sort_keys=False,
                              default_flow_style=None, allow_unicode=True, width=4096)
        return "\n".join(f"# {line}" for line in self.header) + "\n" + body

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "iterations": self.iterations, "converged": self.converged,
            "tolerance": TOLERANCE, "cases_used": self.cases_used,
            "cases_skipped": [c.to_dict() for c in self.skipped],
            "conflicting_cases": [c.to_dict() for c in self.conflicting_cases],
            "conflict_threshold": CONFLICT_THRESHOLD, "surprise_p": SURPRISE_P,
            "numbers_moved": len([n for n in self.numbers if n.moved]),
            "numbers_conflicting": len([n for n in self.numbers if n.conflict]),
            "numbers": [n.to_dict() for n in self.numbers],
            "log_likelihood": list(self.log_likelihood), "seconds": self.seconds,
        }


def _skipped(model: ToeTwitchModel, cases: Cases, bad: np.ndarray) -> list[CaseNote]:
    """Why each impossible case is impossible: its answers, or its diagnosis with them."""
    answers = model.query(cases.rows.rows(bad), impossible="mark").impossible
    notes = []
    for k, i in enumerate(bad):
        if answers[k]:
            shown = ""
            if k < 5:  # naming the conflict costs a few queries per case
                conflict = model.conflicting_answers(model.decode(cases.rows, int(i)))
                shown = ": " + ", ".join(f"{f}={s}" for f, s in conflict.items())
            reason = f"these answers cannot all be true under the priors{shown}; skipped"
        else:
            reason = "the diagnosis cannot be true with these answers under the priors; skipped"
        notes.append(CaseNote(cases.numbers[i], cases.labels[i], reason))
    return notes


def _single_answers(model: ToeTwitchModel) -> dict[str, np.ndarray]:
    """log P(answer | twitching) of each answer alone, per variable and state."""
    rows, names = [], []
    for v in model.findings:
        for state in model.states[v]:
            rows.append({v: state})
            names.append(v)
    post = model.query([{}, *rows], impossible="mark").log_evidence
    out: dict[str, list[float]] = {}
    for name, value in zip(names, post[1:] - post[0], strict=True):
        out.setdefault(name, []).append(float(value) if np.isfinite(value) else 0.0)
    return {k: np.array(v) for k, v in out.items()}


def case_conflicts(model: ToeTwitchModel, cases: Cases, loglik: np.ndarray) -> np.ndarray:
    """HUGIN's conf(e) per case: the sum of log P(each answer | twitching), and of the
    diagnosis alone, minus log P(all of them | twitching) (``loglik``)."""
    single = _single_answers(model)
    total = np.zeros(len(cases))
    rows, s = cases.rows, model.structure
    if AGE_FINDING in single:
        total += np.where(rows.age >= 0, single[AGE_FINDING][np.maximum(rows.age, 0)], 0.0)
    for codes, names in ((rows.risk_factors, s.risk_factors), (rows.findings, s.findings)):
        for j, name in enumerate(names):
            if name in single:
                x = codes[:, j].astype(np.int64)
                total += np.where(x >= 0, single[name][np.maximum(x, 0)], 0.0)
    prior = model.cause_states([{}]).joint[0].sum(axis=0)
    for value in np.unique(cases.confirmed[cases.confirmed >= 0]):
        keep = _diagnosis_keep(np.array([value]), len(prior))[0]
        total[cases.confirmed == value] += math.log(max(float(prior[keep].sum()), 1e-300))
    return total - loglik


# ---------------------------------------------------------------- the fit
def _source_text(source: str, number: LearnedNumber, old: str) -> str:
    weight = "" if math.isnan(number.prior_weight) else f"; prior weight {number.prior_weight:.3g} cases"
    text = (
        f"learned from the case file {source}: {number.cases:.0f} cases informed it (MAP by EM, "
        f"the range is the 90% credible interval). Started from {number.before:g} (range "
        f"{number.prior_low:g} to {number.prior_high:g}{weight}); its source: {old}"
    )
    return " ".join(text.split())[:2000]


def _learned_priors(model: ToeTwitchModel, numbers: list[LearnedNumber], source: str) -> PriorsFile:
    data = priors_to_data(model.priors)
    old = {p.path: p.source for p in iter_parameters(model.priors)}
    for n in numbers:
        if n.cases < 1:
            continue
        node: Any = data
        for part in n.path.split("."):
            node = node[part]
        node.update(value=n.after, low=n.low, high=n.high, source=_source_text(source, n, old[n.path]))
    data["name"] = f"{model.priors.name} learned from {source}"[:200]
    data["description"] = (
        f"The priors {model.priors.name!r} after learning from the cases in {source} "
        f"(toe-twitch fit). {model.priors.description}"
    )[:5000]
    return validate_priors_data(data, f"<learned from {source}>")


def _usable(model: ToeTwitchModel, cases: Cases) -> tuple[Cases, _Columns, np.ndarray, list[CaseNote]]:
    """The first E-step over every case: the possible cases, their columns and weights,
    and the impossible ones as notes (an error if none is possible)."""
    columns = _Columns.of(model, cases)
    omega, loglik = _e_step(model, cases, columns)
    bad = np.flatnonzero(~np.isfinite(loglik))
    if len(bad) == len(cases):
        raise CaseFileError(cases.source, [Problem("", f"none of the {len(cases)} cases is "
                                                   "possible under the priors; nothing learned")])
    if not len(bad):
        return cases, columns, omega, []
    skipped = _skipped(model, cases, bad)
    cases = cases.subset(np.isfinite(loglik))
    return cases, _Columns.of(model, cases), omega, skipped


def fit(
    cases: Cases,
    model: ToeTwitchModel,
    *,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
    progress: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Learn the numbers from ``cases`` by MAP-EM, with ``model``'s priors as the prior.

    Parameters
    ----------
    cases
        From :func:`read_cases` or :func:`parse_cases`.
    model
        A model built from a priors file (the ranges are the prior).
    tolerance, max_iterations
        Stop when no learned number moves more than ``tolerance`` (log-odds; log for
        odds ratios), or after ``max_iterations``.
    progress
        Called after each iteration with (iteration, largest change).

    Returns
    -------
    FitResult
        The learned priors (a valid priors file), every learned number and the notes.
        Cases the priors make impossible are skipped and listed; if every case is, a
        :class:`CaseFileError` is raised.
    """
    model.require_priors("learning from cases")
    started = time.perf_counter()
    em = _EMMap(model, cases)
    x = em.vector(em.plan.start)
    estimates, current, change = em.step(x, first=True)
    converged = change < tolerance
    while not converged and em.steps < max_iterations:
        if progress is not None:
            progress(em.steps, change)
        x, estimates, current, change = em.squarem(x, estimates, tolerance)
        converged = change < tolerance
    if progress is not None:
        progress(em.steps, change)
    _, loglik = _e_step(current, em.cases, em.columns)  # every case, for the conflict measure
    return _result(model, em.plan, estimates, current, em.cases, loglik, em.skipped, em.trace,
                   em.steps, converged, time.perf_counter() - started)


class _EMMap:
    """One EM step as a map of the learned numbers (log-odds; log for odds ratios), and
    SQUAREM's extrapolation of it (Varadhan & Roland 2008, scheme S3): two EM steps give
    the direction ``r`` and the curvature ``v``, the step length is ``-|r| / |v|`` (at
    most -1), and one more EM step from the extrapolated point keeps it stable. The fixed
    point is EM's; it is reached in a fraction of the E-steps."""

    def __init__(self, model: ToeTwitchModel, cases: Cases):
        self.model, self.plan = model, _plan(model)
        k = len(model.causes)
        self.bits = ((np.arange(1 << k)[None, :] >> np.arange(k)[:, None]) & 1).astype(float)
        self.cases, self.columns, self._first, self.skipped = _usable(model, cases)
        latent = (self.cases.rows.age < 0) | (self.cases.confirmed < 0)
        shape = self._first.shape
        self._known = _known_weights(self.cases, self.columns, shape[1], shape[2])
        self._latent = self.cases.subset(latent)
        self._latent_columns = _Columns(self.columns.index, self.columns.indicators[latent])
        self.steps, self.trace = 0, []
        self._odds = np.array([self.plan.kinds[p] == "odds ratio" for p in self.plan.paths])
        self._edge = np.array([1e-12 if self.plan.kinds[p] == "prevalence" else _EDGE
                               for p in self.plan.paths])

    def vector(self, values: dict[str, float]) -> np.ndarray:
        x = np.array([values[p] for p in self.plan.paths])
        return np.where(self._odds, np.log(x), _logit(x))

    def values(self, x: np.ndarray) -> dict[str, float]:
        odds = np.exp(np.clip(x, -math.log(1e4), math.log(1e4)))
        p = np.clip(_expit(x), self._edge, 1 - self._edge)
        return dict(self.plan.start) | dict(zip(self.plan.paths, np.where(self._odds, odds, p).tolist(),
                                               strict=True))

    def step(self, x: np.ndarray, first: bool = False) -> tuple[dict[str, _Estimate], ToeTwitchModel, float]:
        """EM once from ``x``: the estimates, the model of ``x`` and the largest change."""
        values = self.values(x)
        if first:
            current, omega = self.model, self._first
        else:
            current = _model_for(self.model, self.plan, values)
            omega, partial = _e_step(current, self._latent, self._latent_columns)
            omega += self._known
            self.trace.append(float(partial.sum()))
        self.steps += 1
        estimates = _m_step(current, self.plan, values, omega, self.columns, self.bits)
        moved = self.vector({p: e.value for p, e in estimates.items()})
        return estimates, current, float(np.max(np.abs(moved - x), initial=0.0))

    def squarem(self, x0: np.ndarray, first: dict[str, _Estimate], tolerance: float) -> tuple:
        """One SQUAREM cycle from ``x0`` (whose EM step gave ``first``): the point reached,
        its EM step's estimates, its model and how far that step moved."""
        x1 = self.vector({p: e.value for p, e in first.items()})
        second, current, change = self.step(x1)
        x2 = self.vector({p: e.value for p, e in second.items()})
        r, v = x1 - x0, x2 - 2 * x1 + x0
        if change < tolerance or not np.any(v):
            return x1, second, current, change
        alpha = min(-1.0, -float(np.linalg.norm(r) / np.linalg.norm(v)))
        jump = x0 - 2 * alpha * r + alpha**2 * v
        try:
            third, current, change = self.step(jump)
        except ToeTwitchError:  # the jump left what the priors allow: take the plain step
            return x2, *self.step(x2)
        return jump, third, current, change


def _result(model: ToeTwitchModel, plan: _Plan, estimates: dict[str, _Estimate],
            current: ToeTwitchModel, cases: Cases, loglik: np.ndarray, skipped: list[CaseNote],
            trace: list[float], iterations: int, converged: bool, seconds: float) -> FitResult:
    refs = {p.path: p for p in model.structure.parameters}
    numbers = [
        LearnedNumber(p, plan.kinds[p], refs[p].value, refs[p].low, refs[p].high, e.value,
                      e.low, e.high, e.cases, e.weight, e.surprise)
        for p, e in estimates.items()
    ]
    order = {p: i for i, p in enumerate(plan.paths)}
    numbers.sort(key=lambda n: order[n.path])
    source = Path(cases.source).name[:100]
    conf = case_conflicts(current, cases, loglik)
    flagged = sorted(np.flatnonzero(conf > CONFLICT_THRESHOLD), key=lambda i: -conf[i])
    conflicting = [CaseNote(cases.numbers[i], cases.labels[i], conflict=float(conf[i])) for i in flagged]
    header = (
        f"Priors learned from the cases in {source} by toe-twitch fit (MAP by EM).",
        f"Started from: {model.priors.name}. {len(cases)} cases used, {len(skipped)} skipped; "
        f"{iterations} iterations ({'converged' if converged else 'stopped at the limit'}).",
        "Each learned number's range is its 90% credible interval; its source says how many",
        "cases informed it. Check it with: toe-twitch validate-priors FILE",
    )
    return FitResult(source, _learned_priors(model, numbers, source), tuple(numbers), iterations,
                     converged, len(cases), tuple(skipped), tuple(conflicting), tuple(trace),
                     seconds, header)


def write_learned(result: FitResult, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the learned priors file atomically (never over a file without ``overwrite``)."""
    write_atomic(path, result.yaml_text(), overwrite=overwrite)
    return Path(path)


def check_output(path: str | Path, *, overwrite: bool = False) -> None:
    """Refuse an output path before the fit runs (exists without ``overwrite``, a
    directory, a missing folder), so that a long fit never ends in a refusal."""
    check_target(path, overwrite=overwrite)


# ---------------------------------------------------------------- one call for the page
@dataclass(frozen=True)
class LearnOutcome:
    """A fit of an uploaded case file, with the vignette scores before and after (plain
    data, cheap to send back from a worker process). ``problems`` is non-empty (and
    ``result`` None) when the file could not be used."""

    source: str
    result: FitResult | None = None
    problems: tuple[str, ...] = ()
    scores_before: dict[str, Any] = field(default_factory=dict)
    scores_after: dict[str, Any] = field(default_factory=dict)


def learn_from_upload(priors: PriorsFile | None, data: bytes, name: str) -> LearnOutcome:
    """Check and fit an uploaded case file against ``priors`` (None: the shipped ones),
    and score the shipped vignettes with the priors before and after."""
    from toe_twitch.loading import load_model
    from toe_twitch.vignettes import evaluate, load_vignettes

    try:
        model = load_model() if priors is None else ToeTwitchModel.from_priors(priors, "priors in use")
        cases = parse_cases(data, name, model)
        result = fit(cases, model)
        learned = ToeTwitchModel.from_priors(result.priors, "learned priors")
        vignettes = load_vignettes()
    except InputFileError as exc:
        return LearnOutcome(name, problems=tuple(str(p) for p in exc.problems))
    except ToeTwitchError as exc:
        return LearnOutcome(name, problems=(str(exc),))
    before = evaluate(model, vignettes).summary
    after = evaluate(learned, vignettes).summary
    return LearnOutcome(name, result, (), dict(before), dict(after))


# ---------------------------------------------------------------- simulated clinics
def _draw(model: ToeTwitchModel, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """Forward draws from the model's tables, kept with probability P(twitching | causes):
    exactly the distribution of people who notice twitching."""
    s, t = model.structure, model.tables
    age = rng.choice(t.age.shape[1], size=size, p=t.age[0])
    draw: dict[str, np.ndarray] = {AGE_FINDING: age}
    for rf in s.risk_factors:
        draw[rf] = (rng.random(size) < t.risk_factor[rf][0, 1, age]).astype(np.int64)

    def parents_index(parents: Sequence[str]) -> np.ndarray:
        return sum((draw[p] << i for i, p in enumerate(parents)), np.zeros(size, dtype=np.int64))

    for c in s.causes:
        p = t.cause[c][0, 1, age, parents_index(s.cause_parents[c])]
        draw[c] = (rng.random(size) < p).astype(np.int64)
    twitching = next(f for f in model.vocabulary.implicit_evidence if f in s.findings)
    p = t.finding[twitching][0, 1, age, parents_index(s.finding_parents[twitching])]
    keep = rng.random(size) < p
    for f in s.findings:
        if f != twitching:
            p = t.finding[f][0, 1, age, parents_index(s.finding_parents[f])]
            draw[f] = (rng.random(size) < p).astype(np.int64)
    return {k: v[keep] for k, v in draw.items()}


def sample_cases(model: ToeTwitchModel, n: int, *, seed: int = 0, unknown: float = 0.3,
                 undiagnosed: float = 0.4) -> list[dict[str, str]]:
    """``n`` cases of people with toe twitching drawn from ``model``, as case-file rows.

    Each answer is left empty (unknown) with probability ``unknown``, and the diagnosis
    with probability ``undiagnosed`` (at random: a real clinic's confirmed diagnoses are
    not a random sample, see ``notebooks/08_learning``). A diagnosis lists every cause
    present, or ``none``.
    """
    rng = np.random.default_rng(seed)
    parts, got = [], 0
    while got < n:
        part = _draw(model, rng, max(2000, 25 * (n - got)))
        parts.append(part)
        got += len(part[AGE_FINDING])
    draw = {k: np.concatenate([p[k] for p in parts])[:n] for k in parts[0]}
    rows = []
    for i in range(n):
        row = {"id": f"case-{i + 1}"}
        for f in model.findings:
            x = int(draw[f][i])
            state = model.states[f][x] if f == AGE_FINDING else ("yes" if x else "no")
            row[f] = "" if rng.random() < unknown else state
        present = [c for c in model.causes if draw[c][i]]
        row[DIAGNOSIS_COLUMN] = "" if rng.random() < undiagnosed else (";".join(present) or NONE_DIAGNOSED)
        rows.append(row)
    return rows


def moved_links(model: ToeTwitchModel, count: int = 12, share: float = 0.8) -> dict[str, float]:
    """A simulated clinic's truth: ``count`` links of the four commonest causes (the widest
    ranges first), each moved ``share`` of the way from its value to the farther end of
    its range. Returns ``{path: true value}``."""
    common = sorted(model.prior, key=model.prior.get, reverse=True)[:4]
    chosen = []
    for p in model.structure.parameters:
        parts = p.path.split(".")
        if (len(parts) == 4 and parts[0] == "findings" and parts[2] == "links"
                and parts[3] in common and parts[1] not in model.vocabulary.implicit_evidence
                and 0 < p.value < 1 and p.low < p.high):
            far = p.high if p.high - p.value >= p.value - p.low else p.low
            chosen.append((abs(far - p.value), p.path, p.value + share * (far - p.value)))
    return {path: value for _, path, value in sorted(chosen, reverse=True)[:count]}


def model_with(model: ToeTwitchModel, changes: dict[str, float]) -> ToeTwitchModel:
    """``model`` with some numbers replaced (each range widened to hold its new value)."""
    data = priors_to_data(model.priors)
    for path, value in changes.items():
        node: Any = data
        for part in path.split("."):
            node = node[part]
        node.update(value=value, low=min(node["low"], value), high=max(node["high"], value))
    return ToeTwitchModel.from_priors(validate_priors_data(data, "<changed>"), "<changed>")


def cases_csv(rows: list[dict[str, str]]) -> str:
    """Case-file rows (as from :func:`sample_cases`) as CSV text."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


__all__ = [
    "CONFLICT_THRESHOLD", "MAX_CASE_FILE_BYTES", "MAX_ITERATIONS", "SURPRISE_P", "TOLERANCE",
    "BetaPrior", "CaseFileError", "CaseNote", "Cases", "FitResult", "LearnOutcome", "LearnedNumber",
    "beta_prior", "case_conflicts", "cases_csv", "check_output", "fit", "log_normal_sd",
    "learn_from_upload", "model_with", "moved_links", "parse_cases", "read_cases", "sample_cases", "write_learned",
]
