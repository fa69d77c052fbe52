"""Tune priors, "Learn from your cases": fit the priors to a clinic's case file (issue 23).

The fit runs in the worker process of :mod:`toe_twitch.ui.background` (one job at a time,
never in the server process), so a long fit never holds up anyone's answers; this
session waits for it with a spinner that shows the time. Everything that comes from the
file (its name, ids, problems) is shown as plain text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
import streamlit as st

from toe_twitch import ToeTwitchError
from toe_twitch.learning import CONFLICT_THRESHOLD, SURPRISE_P, LearnOutcome, learn_from_upload
from toe_twitch.ui import loaders, session_priors, widgets
from toe_twitch.ui.session_priors import SessionPriors
from toe_twitch.ui.text import percent, plain, plural

UPLOAD_KEY = "learn_upload"
USE_KEY = "learn_use"
DOWNLOAD_KEY = "learn_download"
PROBLEMS_KEY = "learn_problems"
MESSAGE_KEY = "learn_message"
FITTED_KEY = "learn_fitted"
#: Fits kept per server (by priors and file), finished or running.
KEPT_FITS = 8


class FitStore:
    """The worker's fit jobs by (priors key, file digest): started once, kept a while."""

    def __init__(self, kept: int = KEPT_FITS):
        self.kept = kept
        self._jobs: OrderedDict[tuple[str, str], Future] = OrderedDict()
        self._lock = threading.Lock()

    def job(self, key: tuple[str, str], start) -> Future:
        with self._lock:
            future = self._jobs.get(key)
            if future is not None and future.done() and (
                future.cancelled() or future.exception() is not None
            ):
                future = None
            if future is None:
                future = start()
                self._jobs[key] = future
            self._jobs.move_to_end(key)
            while len(self._jobs) > self.kept:
                self._jobs.popitem(last=False)
            return future


@st.cache_resource(show_spinner=False)
def fit_store() -> FitStore:
    return FitStore()


def _upload() -> tuple[str, bytes] | None:
    file = st.file_uploader(
        "A case file (CSV, at most 1 MB)",
        type=["csv"],
        key=UPLOAD_KEY,
        help="One row per case: one column per finding id (yes/no, or age_group's states; "
        "empty = unknown) and a 'diagnosis' column (confirmed causes separated by ';', "
        "'none', or empty). Checked first; nothing in it is ever run.",
    )
    if file is None:
        return None
    return plain(file.name, 80), file.getvalue()


def _outcome(sp: SessionPriors, name: str, data: bytes) -> LearnOutcome | None:
    # A file is fitted against the priors in use when it was chosen; using the learned
    # priors afterwards must not start a second fit from them.
    digest = loaders.file_digest(data)
    held = st.session_state.get(FITTED_KEY)
    if held is None or held[0] != digest:
        held = (digest, sp.key, None if sp.is_shipped else sp.priors)
        st.session_state[FITTED_KEY] = held
    _, priors_key, priors = held
    key = (priors_key, digest)
    future = fit_store().job(key, lambda: loaders.worker().submit(learn_from_upload, priors, data, name))
    # The spinner's text is Markdown: the file's name stays out of it.
    with st.spinner("Learning from the cases in the background (a few seconds per 100 cases)…",
                    show_time=True):
        try:
            return widgets.wait_for(future)
        except (BrokenProcessPool, CancelledError):
            st.warning("The fit stopped before it finished: the background process ended. "
                       "Nothing is wrong with the file; choose it again to run the fit again.")
            return None


def moved_table(outcome: LearnOutcome) -> pd.DataFrame:
    """The numbers that moved or contradict their prior, as plain values."""
    rows = outcome.result.moved()
    return pd.DataFrame(
        {
            "number": [n.path for n in rows],
            "before": [f"{n.before:.4g}" for n in rows],
            "after": [f"{n.after:.4g}" for n in rows],
            "90% interval": [f"{n.low:.4g} to {n.high:.4g}" for n in rows],
            "cases behind it": [round(n.cases) for n in rows],
            "data contradict the prior": ["⚠ yes" if n.conflict else "" for n in rows],
        }
    )


def _scores(outcome: LearnOutcome) -> None:
    parts = []
    for key, label in (("top1_accuracy", "Top-1"), ("top3_accuracy", "Top-3"),
                       ("urgency_accuracy", "Urgency")):
        parts.append(f"{label} {percent(outcome.scores_before.get(key))} → "
                     f"{percent(outcome.scores_after.get(key))}")
    parts.append(f"under-triaged {outcome.scores_before.get('under_triaged')} → "
                 f"{outcome.scores_after.get('under_triaged')}")
    st.markdown("**Shipped vignettes, before → after:** " + " · ".join(parts))


def _use(outcome: LearnOutcome) -> None:
    try:
        session_priors.set_base(outcome.result.priors, f"priors learned from {outcome.source}")
    except ToeTwitchError as exc:
        st.session_state[MESSAGE_KEY] = f"The learned priors were not used: {exc}"
        return
    st.session_state[MESSAGE_KEY] = "Every page of this session now uses the learned priors."


def draw_result(outcome: LearnOutcome) -> None:
    result = outcome.result
    state = "converged" if result.converged else "stopped at the iteration limit"
    st.text(f"{outcome.source}: {plural(result.cases_used, 'case')} used, "
            f"{len(result.skipped)} skipped; {result.iterations} iterations ({state}), "
            f"{result.seconds:.0f} s.")
    moved = moved_table(outcome)
    st.markdown(
        f"**{plural(len(moved), 'number')}** of {len(result.numbers)} moved outside their 90% "
        f"interval or contradict their prior (prior-predictive p below {SURPRISE_P:g}):"
    )
    st.dataframe(moved, hide_index=True, key="learn_moved")
    _scores(outcome)
    if result.skipped or result.conflicting_cases:
        notes = [f"row {c.row} {c.label}: {c.reason}" for c in result.skipped]
        notes += [f"row {c.row} {c.label}: fits the learned model badly (conf {c.conflict:.1f} "
                  f"above {CONFLICT_THRESHOLD:.2f})" for c in result.conflicting_cases]
        st.caption("Cases skipped or fitting badly:")
        st.code("\n".join(plain(n, 300) for n in notes[:20]), language=None, wrap_lines=True)
    left, right = st.columns(2)
    with left:
        st.button("Use the learned priors in this session", key=USE_KEY, on_click=_use,
                  args=(outcome,), icon=":material/check:")
    with right:
        st.download_button("Download the learned priors", data=result.yaml_text(),
                           file_name="learned-priors.yaml", mime="text/yaml", key=DOWNLOAD_KEY,
                           icon=":material/download:")
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        st.info(plain(message, 500))


def render_learn(sp: SessionPriors) -> None:
    """The "Learn from your cases" section (the Tune priors page calls this)."""
    st.header("Learn from your cases", anchor=False)
    st.markdown(
        "Upload your clinic's cases: the answers people gave (many may be unknown) and the "
        "diagnosis when one was confirmed. Each number then moves as far as the cases "
        "justify, with the priors in use as the starting point (their ranges say how much "
        "each number resists). The result is an ordinary priors file whose ranges are the "
        "90% credible intervals."
    )
    got = _upload()
    if got is None:
        return
    name, data = got
    outcome = _outcome(sp, name, data)
    if outcome is None:
        return
    if outcome.problems:
        widgets.problem_list(
            f"This file was not used: {plural(len(outcome.problems), 'problem')} found.",
            list(outcome.problems), PROBLEMS_KEY, "case-file-problems.txt", name,
        )
        return
    draw_result(outcome)
