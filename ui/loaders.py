"""What the server builds once and shares between sessions, each behind a bounded cache.

* the shipped model, and the models of tuned or uploaded priors (:class:`ModelCache`:
  least recently used first out, bounded by count *and* by the models' memory);
* the 90% intervals of a case (:class:`IntervalStore`: computed by
  :func:`model.uncertainty` in the worker process of :mod:`ui.background`, so that they
  arrive after the answer and never hold it back, nor anyone else's);
* the scores of vignette files (:class:`ReportCache`: once per priors and file content;
  an uploaded file is read and scored in the worker process of :mod:`ui.background`).

Everything shared is read-only once built. Sessions reach a model only through the hash
of its priors' numbers (:func:`priors_key`), never through another session's state.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future

import streamlit as st

from toe_twitch import ToeTwitchModel, load_model
from toe_twitch.priors import PriorsFile, priors_to_data
from toe_twitch.ui.background import (
    VignetteReport,
    Worker,
    ranges_in_worker,
    report_for,
    score_vignette_text,
)
from toe_twitch.ui.case import INTERVAL_DRAWS, Ranges
from toe_twitch.vignettes import Vignette, load_vignettes

#: Models kept besides the shipped one, and the memory they may hold together.
MAX_MODELS = 8
MAX_MODEL_BYTES = 96 * 2**20
#: Cases whose intervals are kept (each is a few hundred bytes).
MAX_INTERVALS = 2048
#: Vignette reports kept, and the rows they may hold together.
MAX_REPORTS = 8
MAX_REPORT_ROWS = 30_000


def priors_key(priors: PriorsFile) -> str:
    """A hash of every number and name of the priors: the key of their model."""
    data = json.dumps(priors_to_data(priors), sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:24]


@st.cache_resource(show_spinner="Loading the model…")
def shipped_model() -> ToeTwitchModel:
    """The model of the shipped priors, built once per server process."""
    return load_model()


@st.cache_resource(show_spinner=False)
def freeze_the_heap() -> bool:
    """Take what is built once (imported modules, the shipped model) out of the garbage
    collector's full passes, once per process.

    A full pass over the millions of objects that numpy, scipy, numba and pandas create
    on import took about 140 ms, holding the interpreter for every session, and ran
    every few answers; after this it only walks what was made since.
    """
    gc.collect()
    gc.freeze()
    return True


@st.cache_resource(show_spinner=False)
def shipped_key() -> str:
    return priors_key(shipped_model().priors)


# ---------------------------------------------------------------- models of other priors
class ModelCache:
    """Models by priors key, least recently used evicted first, bounded by count and memory.

    ``get`` builds a missing model outside the cache's lock but one build at a time, so
    two uploads arriving together never hold two half-built models.
    """

    def __init__(self, max_models: int = MAX_MODELS, max_bytes: int = MAX_MODEL_BYTES):
        self.max_models = max_models
        self.max_bytes = max_bytes
        self._models: OrderedDict[str, ToeTwitchModel] = OrderedDict()
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._models)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(m.nbytes for m in self._models.values())

    def _lookup(self, key: str) -> ToeTwitchModel | None:
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
            return model

    def get(self, key: str, build: Callable[[], ToeTwitchModel]) -> ToeTwitchModel:
        model = self._lookup(key)
        if model is not None:
            return model
        with self._build_lock:
            model = self._lookup(key)
            if model is not None:
                return model
            model = build()
            with self._lock:
                self._models[key] = model
                total = sum(m.nbytes for m in self._models.values())
                while len(self._models) > 1 and (
                    len(self._models) > self.max_models or total > self.max_bytes
                ):
                    _, evicted = self._models.popitem(last=False)
                    total -= evicted.nbytes
            return model


@st.cache_resource(show_spinner=False)
def model_cache() -> ModelCache:
    return ModelCache()


def model_for(priors: PriorsFile, key: str, source: str = "priors in use") -> ToeTwitchModel:
    """The model of these priors (the shared shipped one when they are the shipped ones).

    Raises :class:`model.ToeTwitchError` when no model can be built from them.
    """
    if key == shipped_key():
        return shipped_model()
    return model_cache().get(key, lambda: ToeTwitchModel.from_priors(priors, source=source))


# ---------------------------------------------------------------- 90% intervals
class IntervalStore:
    """Intervals by (priors key, answers): computed once, in the worker process."""

    def __init__(self, worker: Worker, draws: int = INTERVAL_DRAWS, kept: int = MAX_INTERVALS):
        self.draws = draws
        self.kept = kept
        self._done: OrderedDict[tuple, Ranges] = OrderedDict()
        self._pending: dict[tuple, Future] = {}
        self._lock = threading.Lock()
        self.worker = worker

    @staticmethod
    def key(model_key: str, evidence: Mapping[str, str]) -> tuple:
        return (model_key, tuple(sorted(evidence.items())))

    def known(self, key: tuple) -> Ranges | None:
        with self._lock:
            ranges = self._done.get(key)
            if ranges is not None:
                self._done.move_to_end(key)
            return ranges

    def request(
        self,
        key: tuple,
        priors: PriorsFile | None,
        evidence: Mapping[str, str],
        superseded: Future | None = None,
    ) -> Future:
        """A future of the case's intervals (``priors`` None: the shipped ones);
        ``superseded`` (this session's last request, for answers since changed) is
        cancelled if it has not started."""
        if superseded is not None and not superseded.done():
            superseded.cancel()
        with self._lock:
            if key in self._done:
                done: Future = Future()
                done.set_result(self._done[key])
                return done
            pending = self._pending.get(key)
            if pending is not None and not pending.cancelled():
                return pending
            future = self.worker.submit(
                ranges_in_worker, key[0], priors, dict(evidence), self.draws
            )
            self._pending[key] = future
        future.add_done_callback(lambda f, k=key: self._finished(k, f))
        return future

    def _finished(self, key: tuple, future: Future) -> None:
        with self._lock:
            if self._pending.get(key) is future:
                del self._pending[key]
            if future.cancelled() or future.exception() is not None:
                return
            self._done[key] = future.result()
            while len(self._done) > self.kept:
                self._done.popitem(last=False)


@st.cache_resource(show_spinner=False)
def interval_store() -> IntervalStore:
    """The intervals' store (the worker process starts, and warms up, at once)."""
    warm_worker()
    return IntervalStore(worker())


# ---------------------------------------------------------------- vignettes
class ReportCache:
    """Vignette reports by (priors key, file digest), bounded by count and by rows."""

    def __init__(self, max_reports: int = MAX_REPORTS, max_rows: int = MAX_REPORT_ROWS):
        self.max_reports = max_reports
        self.max_rows = max_rows
        self._reports: OrderedDict[tuple[str, str], VignetteReport] = OrderedDict()
        self._pending: dict[tuple[str, str], Future] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> VignetteReport | None:
        with self._lock:
            report = self._reports.get(key)
            if report is not None:
                self._reports.move_to_end(key)
            return report

    def put(self, key: tuple[str, str], report: VignetteReport) -> None:
        with self._lock:
            self._reports[key] = report
            self._reports.move_to_end(key)
            rows = sum(len(r.rows) for r in self._reports.values())
            while len(self._reports) > 1 and (
                len(self._reports) > self.max_reports or rows > self.max_rows
            ):
                _, evicted = self._reports.popitem(last=False)
                rows -= len(evicted.rows)

    def pending(self, key: tuple[str, str], start: Callable[[], Future]) -> Future:
        """The job scoring this file (started once, even if several runs ask for it; a
        job whose process ended, failed or was cancelled is started again)."""
        with self._lock:
            future = self._pending.get(key)
            if (
                future is not None
                and future.done()
                and (future.cancelled() or future.exception() is not None)
            ):
                future = None
            if future is None:
                future = start()
                self._pending[key] = future
                future.add_done_callback(lambda f, k=key: self._finished(k, f))
            return future

    def _finished(self, key: tuple[str, str], future: Future) -> None:
        with self._lock:
            self._pending.pop(key, None)
        if not future.cancelled() and future.exception() is None:
            self.put(key, future.result())


@st.cache_resource(show_spinner=False)
def report_cache() -> ReportCache:
    return ReportCache()


@st.cache_resource(show_spinner=False)
def worker() -> Worker:
    """The one worker process: 90% ranges and uploaded vignette files, one job at a time
    (a long upload delays ranges, which may come late, never anyone's answers)."""
    return Worker()


@st.cache_resource(show_spinner=False)
def warm_worker() -> bool:
    """Start the worker process (once per server) before the first upload needs it."""
    worker().warm_up(shipped_key())
    return True


@st.cache_resource(show_spinner=False)
def shipped_vignettes() -> list[Vignette]:
    """The shipped clinical vignettes (raises :class:`model.VignetteError` if unreadable)."""
    return load_vignettes()


SHIPPED_VIGNETTES = "shipped"
SHIPPED_VIGNETTES_LABEL = "the shipped vignettes"


def shipped_report(model: ToeTwitchModel, model_key: str) -> VignetteReport:
    """The shipped vignettes scored with this model (computed here: they are few)."""
    cache = report_cache()
    key = (model_key, SHIPPED_VIGNETTES)
    report = cache.get(key)
    if report is None:
        report = report_for(model, shipped_vignettes(), SHIPPED_VIGNETTES_LABEL)
        cache.put(key, report)
    return report


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def uploaded_report(
    model_key: str, priors: PriorsFile | None, data: bytes, name: str
) -> VignetteReport | Future:
    """The report of an uploaded vignette file, or the worker's job making it.

    ``priors`` None means the shipped priors (the worker builds its own copy once).
    """
    cache = report_cache()
    key = (model_key, file_digest(data))
    report = cache.get(key)
    if report is not None:
        return report
    text = data.decode("utf-8", errors="replace")
    return cache.pending(
        key, lambda: worker().submit(score_vignette_text, model_key, priors, text, name)
    )
