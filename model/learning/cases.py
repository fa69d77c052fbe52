"""Reading a clinic's case file: one case per row, answers and the confirmed diagnosis;
every problem named by file, row, column and rule (see :mod:`toe_twitch.learning`)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toe_twitch.core import ToeTwitchModel
from toe_twitch.engine import Encoded
from toe_twitch.errors import InputFileError, Problem
from toe_twitch.files import read_bounded
from toe_twitch.priors import (
    AGE_FINDING,
    AGE_STATES,
)
from toe_twitch.vocabulary import suggest

#: The largest case file read, in bytes (about 300,000 cases of 50 answers).
MAX_CASE_FILE_BYTES = 32 * 2**20
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
