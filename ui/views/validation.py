"""Validation: how the model does on clinical vignettes (cases with expected answers).

The shipped vignettes are scored here (they are few); an uploaded file (at most 5,000
vignettes, 1 MB) is read, checked and scored in the worker process, once per file
content and priors, and the page waits for it without holding up anyone else. Rows
that cannot be scored are listed with their vignette id and left out of the scores.
"""

from __future__ import annotations

from concurrent.futures import Future

import pandas as pd
import streamlit as st

from toe_twitch import ToeTwitchError, ToeTwitchModel
from toe_twitch.ui import keys, loaders, session_priors, widgets
from toe_twitch.ui.background import Row, VignetteReport
from toe_twitch.ui.text import cause_name, plain, plural, urgency_title
from toe_twitch.vignettes import MAX_VIGNETTES

#: Rows of the results table drawn at most (the download has them all).
MAX_TABLE_ROWS = 500


def _share(summary: dict, key: str) -> str:
    value = summary.get(key)
    return "–" if value is None else f"{value:.1%}"


def mark(ok: bool | None) -> str:
    return "–" if ok is None else ("✓" if ok else "✗")


def draw_scores(summary: dict) -> None:
    scores = [
        ("First cause as expected", _share(summary, "top1_accuracy"),
         f"Of the {summary.get('top1_judged', 0)} vignettes that name a first cause."),
        ("Expected causes in the top 3", _share(summary, "top3_accuracy"),
         f"Of the {summary.get('top3_judged', 0)} vignettes that name causes for the top 3."),
        ("Urgency as expected", _share(summary, "urgency_accuracy"),
         f"Of all {summary.get('vignettes', 0)} vignettes scored."),
        ("Under-triaged", f"{summary.get('under_triaged', 0)}",
         "Given a lower urgency than the lowest expected (emergencies among them: "
         f"{summary.get('under_triaged_emergencies', 0)})."),
    ]  # fmt: skip
    with st.container(key="val_scores", horizontal=True):
        for label, value, help_text in scores:
            st.metric(label, value, help=help_text, border=True, width=170)


def results_table(model: ToeTwitchModel, rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vignette": [plain(r.id, 40) for r in rows],
            "top-1": [mark(r.top1_ok) for r in rows],
            "top-3": [mark(r.top3_ok) for r in rows],
            "urgency ok": [mark(r.urgency_ok) for r in rows],
            "expected": [", ".join(cause_name(model, c) for c in r.expected) or "–" for r in rows],
            "rank of expected": [r.expected_rank for r in rows],
            "first cause": [cause_name(model, r.top) for r in rows],
            "urgency": [urgency_title(model, r.urgency) for r in rows],
            "under-triaged": ["⚠" if r.under_triaged else "" for r in rows],
            "story": [plain(r.story, 200) for r in rows],
        }
    )


def uploaded(sp: session_priors.SessionPriors) -> VignetteReport | None:
    """The report of the uploaded file (waiting for the worker if needed), or None."""
    got = widgets.upload(
        "Score your own vignette file instead",
        keys.VALIDATION_UPLOAD,
        f"The format of the shipped vignettes, at most {MAX_VIGNETTES:,} vignettes. Checked "
        "first and used only if valid; nothing in it is ever run.",
    )
    if got is None:
        return None
    name, data = got.name, got.data
    result = loaders.uploaded_report(sp.key, None if sp.is_shipped else sp.priors, data, name)
    if isinstance(result, Future):
        with st.spinner(f"Reading, checking and scoring {name} in the background…", show_time=True):
            result = widgets.wait_for(result)
    return result


def draw_report(model: ToeTwitchModel, report: VignetteReport, label: str) -> None:
    st.caption(
        f"{plural(report.summary.get('vignettes', 0), 'vignette')} scored with {session_priors.current().describe()}."
    )
    st.text(label)
    draw_scores(report.summary)
    if report.skipped:
        widgets.problem_list(
            f"{plural(len(report.skipped), 'vignette')} could not be scored and were left out "
            "(their answers are impossible under these priors, or they name an unknown question).",
            [message for _, message in report.skipped],
            "val_skipped_download",
            "vignettes-skipped.txt",
        )
    only = st.toggle("Only the vignettes that miss something", key=keys.VALIDATION_MISSES)
    rows = [r for r in report.rows if r.missed] if only else report.rows
    if not rows:
        st.caption("No vignette misses anything.")
        return
    if len(rows) > MAX_TABLE_ROWS:
        st.caption(
            f"The first {MAX_TABLE_ROWS:,} of {len(rows):,} rows; the download has them all."
        )
    st.dataframe(
        results_table(model, rows[:MAX_TABLE_ROWS]),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 560),
        key="val_results",
        column_config={
            "vignette": st.column_config.TextColumn(pinned=True),
            "story": st.column_config.TextColumn(width="large"),
        },
    )
    st.caption("✓ as expected · ✗ not as expected · – not judged by the vignette · ⚠ under-triaged")
    st.download_button(
        f"Download the results of all {plural(len(report.rows), 'vignette')} (CSV)",
        data=report.csv,
        file_name="vignette-results.csv",
        mime="text/csv",
        key=keys.VALIDATION_RESULTS_DOWNLOAD,
        icon=":material/download:",
        on_click="ignore",
    )


def render() -> None:
    st.title("Validation: clinical vignettes", anchor=False)
    model = session_priors.session_model()
    widgets.case_line(model, st.session_state[keys.PAGES]["explore"])
    st.markdown(
        "Each vignette is a short case with the findings a clinician would note and what they "
        "expect: the first cause (or the causes that belong in the top 3) and the urgency. "
        "The model ranks every vignette; the scores say how often it agrees."
    )
    sp = session_priors.current()
    loaders.warm_worker()
    report = uploaded(sp)
    if report is not None and not report.usable:
        widgets.problem_list(
            f"This file was not used: {plural(len(report.problems), 'problem')} found. The shipped vignettes are shown instead.",
            report.problems,
            keys.VALIDATION_ERRORS_DOWNLOAD,
            "vignette-problems.txt",
            report.source,
        )
        report = None
    if report is not None:
        draw_report(model, report, f"From the uploaded file: {report.source}")
        return
    try:
        shipped = loaders.shipped_report(model, sp.key)
    except (ToeTwitchError, OSError) as exc:  # a shipped file that cannot be read: say so
        st.error("The shipped vignettes could not be read.", icon=":material/block:")
        st.code(plain(str(exc), 2000), language=None, wrap_lines=True)
        return
    draw_report(model, shipped, "The shipped vignettes (model/data/vignettes.yaml)")
