"""Heavy work done in worker processes, so that it never stalls another person's answers.

Reading an uploaded vignette file of up to 5,000 cases is seconds of pure-Python YAML
parsing and validation, and the 90% ranges of a case are a few hundred parameter draws;
in the server process either would hold the interpreter lock that every session's
answers need. They run here instead, one job at a time, in one worker process started by
:class:`Worker` (``spawn``: nothing of the server's threads is copied; one process, as
each holds its own copy of numpy, scipy and numba, about 250 MB). The worker keeps the
models it built, a few at most, by the priors' key.

Nothing here imports Streamlit: the worker only imports ``model``.
"""

from __future__ import annotations

import csv
import gc
import io
import multiprocessing
import os
import sys
import threading
import types
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

try:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
except RuntimeError as exc:
    # Importing the process pool registers an exit handler, which Python refuses once it
    # is shutting down: the server was stopped while a first page was loading. Nothing
    # is left to serve, so this page's run ends quietly instead of printing a traceback.
    if "after shutdown" not in str(exc):
        raise
    raise SystemExit(0) from None
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from toe_twitch import ToeTwitchError, ToeTwitchModel, VignetteError, load_model
from toe_twitch.priors import PriorsFile
from toe_twitch.safe_text import spreadsheet_cell
from toe_twitch.ui.case import Ranges, compute_ranges
from toe_twitch.vignettes import Vignette, evaluate, parse_vignettes_text

_MAIN_LOCK = threading.Lock()
#: Models a worker keeps (by priors key); each is a few megabytes.
WORKER_MODELS = 3
_models: OrderedDict[str, ToeTwitchModel] = OrderedDict()


class Row(NamedTuple):
    """One scored vignette, as plain values (cheap to send back from the worker)."""

    id: str
    story: str
    top: str
    top_probability: float
    expected: tuple[str, ...]
    expected_rank: int | None
    urgency: str
    expected_urgency: tuple[str, ...]
    top1_ok: bool | None
    top3_ok: bool | None
    urgency_ok: bool
    under_triaged: bool

    @property
    def missed(self) -> bool:
        return (
            self.top1_ok is False
            or self.top3_ok is False
            or not self.urgency_ok
            or self.under_triaged
        )


@dataclass(frozen=True)
class VignetteReport:
    """A vignette file scored against one set of priors, as plain rows for the page.

    ``problems`` (the file is unusable: every problem the validator found) and
    ``skipped`` (rows that could not be scored: ``(vignette id, message)``) are complete;
    the page shows the first few and offers the whole list as a download, as it does the
    results (``csv``).
    """

    source: str
    rows: list[Row] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    csv: str = ""

    @property
    def usable(self) -> bool:
        return not self.problems


CSV_COLUMNS = ("id", "first cause", "its probability", "expected", "rank of expected", "urgency",
               "expected urgency", "top-1 ok", "top-3 ok", "urgency ok", "under-triaged")  # fmt: skip


def _csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:  # an id such as "=cmd|..." is text in a spreadsheet, never a formula
        writer.writerow(map(spreadsheet_cell,
            [r.id, r.top, f"{r.top_probability:.6f}", " ".join(r.expected), r.expected_rank or "",
             r.urgency, " ".join(r.expected_urgency), r.top1_ok, r.top3_ok, r.urgency_ok, r.under_triaged])
        )  # fmt: skip
    return out.getvalue()


def report_for(model: ToeTwitchModel, vignettes: list[Vignette], source: str) -> VignetteReport:
    """Score vignettes with :func:`toe_twitch.vignettes.evaluate` (one engine batch)."""
    evaluation = evaluate(model, vignettes)
    rows = []
    for r in evaluation.results:
        v, d = r.vignette, r.diagnosis
        expected = tuple(v.expect.top1 or v.expect.top3)
        ranks = [i for i, (c, _) in enumerate(d.ranking, start=1) if c in expected]
        rows.append(
            Row(v.id, v.story, d.top, d.ranking[0][1], expected, min(ranks) if ranks else None,
                d.urgency, tuple(v.expect.urgency), r.top1_ok, r.top3_ok, r.urgency_ok, r.under_triaged)
        )  # fmt: skip
    skipped = [(s.vignette, s.message) for s in evaluation.skipped]
    return VignetteReport(source, rows, dict(evaluation.summary), skipped, csv=_csv(rows))


def _worker_model(priors_key: str, priors: PriorsFile | None) -> ToeTwitchModel:
    model = _models.get(priors_key)
    if model is None:
        model = (
            load_model() if priors is None else ToeTwitchModel.from_priors(priors, source="priors")
        )
        _models[priors_key] = model
        while len(_models) > WORKER_MODELS:
            _models.popitem(last=False)
    _models.move_to_end(priors_key)
    return model


def score_vignette_text(
    priors_key: str, priors: PriorsFile | None, text: str, source: str
) -> VignetteReport:
    """Parse, validate and score an uploaded vignette file (run in the worker).

    ``priors`` None means the shipped priors. A file that breaks the format comes back
    with its problems; a model that cannot be built, with that one problem.
    """
    try:
        vignettes = parse_vignettes_text(text, source=source)
    except VignetteError as exc:
        return VignetteReport(source, problems=[str(p) for p in exc.problems])
    try:
        model = _worker_model(priors_key, priors)
        return report_for(model, vignettes, source)
    except ToeTwitchError as exc:
        return VignetteReport(source, problems=[str(exc)])


def ranges_in_worker(
    priors_key: str, priors: PriorsFile | None, evidence: dict[str, str], draws: int
) -> Ranges:
    """The 90% ranges of a case (run in the worker; ``priors`` None: the shipped ones)."""
    return compute_ranges(_worker_model(priors_key, priors), evidence, draws)


def _initialise() -> None:
    """The worker gives way to the server and the browsers: lower priority, one thread
    (numba's parallel kernels and BLAS would otherwise take both cores from everyone)."""
    try:
        os.nice(10)
    except OSError:  # not allowed here: the work is the same, only less polite
        pass
    try:
        import numba

        numba.set_num_threads(1)
    except (ImportError, ValueError):
        pass
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _warm_up(shipped_key: str) -> bool:
    """Import the model, build the shipped one and draw its parameters once (the first
    draw fits every range's distribution), so the first real job is quick."""
    compute_ranges(_worker_model(shipped_key, None), {}, 10)
    gc.collect()
    gc.freeze()  # see ui.loaders.freeze_the_heap: full collections would slow every job
    return True


class Worker:
    """One worker process (started on first use, started again if it dies)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_initialise,
                )
            return self._pool

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        try:
            return self._submit(function, *args)
        except (BrokenProcessPool, RuntimeError):
            with self._lock:  # the process died (or was shut down): start a new one
                self._pool = None
            return self._submit(function, *args)

    def _submit(self, function: Callable[..., Any], *args: Any) -> Future:
        """Submit; the process starts here (on the first job) without the page's script.

        Streamlit runs the page's script as ``__main__``, and ``spawn`` would run
        ``__main__`` again in the new process; for the moment it starts, ``__main__`` is
        an empty module, so the worker imports only what its jobs need.
        """
        executor = self._executor()
        with _MAIN_LOCK:
            main = sys.modules.get("__main__")
            sys.modules["__main__"] = types.ModuleType("__main__")
            try:
                return executor.submit(function, *args)
            finally:
                if main is not None:
                    sys.modules["__main__"] = main

    def warm_up(self, shipped_key: str) -> Future:
        return self.submit(_warm_up, shipped_key)

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
