"""Validation: how the model does on clinical vignettes (cases with expected answers).

The shipped vignettes are scored here (they are few); an uploaded file (at most 5,000
vignettes, 1 MB) is read, checked and scored in the worker process, once per file
content and priors, and the page waits for it without holding up anyone else. Rows
that cannot be scored are listed with their vignette id and left out of the scores.
"""

from __future__ import annotations

from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
import streamlit as st

from toe_twitch import ToeTwitchError, ToeTwitchModel
from toe_twitch.ui import charts, keys, loaders, session_priors, widgets
from toe_twitch.ui.background import Row, VignetteReport
from toe_twitch.ui.text import cause_name, every, plain, plural, urgency_title
from toe_twitch.vignettes import MAX_VIGNETTES

#: Rows of the results table drawn at most (the download has them all).
MAX_TABLE_ROWS = 500


#: Text colours of the marks (7:1 and 5.9:1 on white); the mark's word says it too.
OK_COLOUR = "#166534"
MISS_COLOUR = "#b42318"
#: The button that scores an uploaded file again after its background process ended.
RETRY = "val_retry"


def _share(summary: dict, key: str) -> str:
    value = summary.get(key)
    return "–" if value is None else f"{value:.1%}"


def mark(ok: bool | None) -> str:
    """A judgement in a cell: a sign and a word (colour alone would not reach everyone)."""
    return "–" if ok is None else ("✓ yes" if ok else "✗ no")


def score_cards(summary: dict) -> list[charts.Card]:
    """The scores, each with how many vignettes it is out of."""
    return [
        charts.Card("First cause as expected", _share(summary, "top1_accuracy"),
                    f"of {plural(summary.get('top1_judged', 0), 'vignette')} that name a first cause"),
        charts.Card("Expected causes in the top 3", _share(summary, "top3_accuracy"),
                    f"of {plural(summary.get('top3_judged', 0), 'vignette')} that name causes for the top 3"),
        charts.Card("Urgency as expected", _share(summary, "urgency_accuracy"),
                    f"of all {plural(summary.get('vignettes', 0), 'vignette')} scored"),
        charts.Card("Under-triaged", f"{summary.get('under_triaged', 0)}",
                    f"of {plural(summary.get('vignettes', 0), 'vignette')} given a lower urgency "
                    "than the lowest expected (emergencies among them: "
                    f"{summary.get('under_triaged_emergencies', 0)})"),
    ]  # fmt: skip


def draw_scores(summary: dict) -> None:
    with st.container(key="val_scores"):
        st.html(charts.cards(score_cards(summary), "Scores on the vignettes"))


#: The judgements first, then what the model said and the story, then what was expected.
TABLE_COLUMNS = ["vignette", "top-1", "top-3", "urgency ok", "urgency", "under-triaged",
                 "story", "first cause", "expected", "rank of expected"]  # fmt: skip


def results_table(model: ToeTwitchModel, rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vignette": [plain(r.id, 40) for r in rows],
            "top-1": [mark(r.top1_ok) for r in rows],
            "top-3": [mark(r.top3_ok) for r in rows],
            "urgency ok": [mark(r.urgency_ok) for r in rows],
            "urgency": [urgency_title(model, r.urgency) for r in rows],
            "under-triaged": ["⚠ yes" if r.under_triaged else "" for r in rows],
            "story": [plain(r.story, 200) for r in rows],
            "first cause": [cause_name(model, r.top) for r in rows],
            "expected": [", ".join(cause_name(model, c) for c in r.expected) or "–" for r in rows],
            "rank of expected": [r.expected_rank for r in rows],
        },
        columns=TABLE_COLUMNS,
    )


def _mark_colour(cell: object) -> str:
    text = str(cell)
    if text.startswith("✓"):
        return f"color: {OK_COLOUR}; font-weight: 600"
    if text.startswith(("✗", "⚠")):
        return f"color: {MISS_COLOUR}; font-weight: 600"
    return ""


def styled(table: pd.DataFrame):
    """The table with its marks coloured: green for as expected, red for a miss."""
    return table.style.map(_mark_colour, subset=["top-1", "top-3", "urgency ok", "under-triaged"])


def _retry() -> None:
    """Nothing to undo: the rerun this click starts submits the file again."""


def uploaded(sp: session_priors.SessionPriors) -> VignetteReport | None:
    """The report of the uploaded file (waiting for the worker if needed), or None; if
    the worker process ended before it finished, says so and offers to score it again."""
    got = widgets.upload(
        "Score your own vignette file instead",
        keys.VALIDATION_UPLOAD,
        f"The format of the shipped vignettes, at most {MAX_VIGNETTES:,} vignettes. Checked "
        "first and used only if valid; nothing in it is ever run.",
    )
    if got is None:
        return None
    result = loaders.uploaded_report(
        sp.key, None if sp.is_shipped else sp.priors, got.data, got.name
    )
    if isinstance(result, Future):
        # The spinner's text is Markdown: the file's name stays out of it.
        with st.spinner(
            "Reading, checking and scoring the file in the background…", show_time=True
        ):
            try:
                result = widgets.wait_for(result)
            except (BrokenProcessPool, CancelledError):
                scoring_stopped(got.name)
                return None
    return result


def scoring_stopped(name: str) -> None:
    """The worker process ended mid-way (stopped by the system, or out of memory): the
    file and the priors are not at fault, and the scoring can simply run again."""
    with st.container(key="val_stopped"):
        st.warning(
            "**The scoring of this file stopped before it finished**: the background process "
            "that scores files ended. Nothing is wrong with the file or with the priors in "
            "use; run the scoring again.",
            icon=":material/restart_alt:",
        )
        st.text(name)
        st.button("Score the file again", key=RETRY, icon=":material/refresh:", on_click=_retry,
                  type="primary")  # fmt: skip
        st.caption("Until then, the shipped vignettes are shown below.")


def draw_table(model: ToeTwitchModel, rows: list[Row]) -> None:
    if len(rows) > MAX_TABLE_ROWS:
        st.caption(
            f"The first {MAX_TABLE_ROWS:,} of {len(rows):,} rows; the download has them all."
        )
    st.dataframe(
        styled(results_table(model, rows[:MAX_TABLE_ROWS])),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 560),
        key="val_results",
        column_config={
            "vignette": st.column_config.TextColumn(width=150, pinned=True),
            "top-1": st.column_config.TextColumn(width=70),
            "top-3": st.column_config.TextColumn(width=70),
            "urgency ok": st.column_config.TextColumn(width=90),
            "urgency": st.column_config.TextColumn(width=190),
            "under-triaged": st.column_config.TextColumn(width=100),
            "story": st.column_config.TextColumn(width=420),
        },
    )
    st.caption(
        "✓ yes: as expected · ✗ no: not as expected · – not judged by the vignette · "
        "⚠ yes: under-triaged. The story is cut in the grid: widen its column, or download "
        "the results."
    )


def draw_report(model: ToeTwitchModel, report: VignetteReport, label: str) -> None:
    n = report.summary.get("vignettes", 0)
    st.html(
        charts.note(f"{plural(n, 'vignette')} scored with {session_priors.current().describe()}.")
    )
    st.text(label)
    draw_scores(report.summary)
    if report.skipped:
        widgets.problem_list(
            f"{plural(len(report.skipped), 'vignette')} could not be scored and "
            f"{'was' if len(report.skipped) == 1 else 'were'} left out (their answers are "
            "impossible under these priors, or they name an unknown question).",
            [message for _, message in report.skipped],
            "val_skipped_download",
            "vignettes-skipped.txt",
        )
    only = st.toggle("Only the vignettes that miss something", key=keys.VALIDATION_MISSES)
    rows = [r for r in report.rows if r.missed] if only else report.rows
    if rows:
        draw_table(model, rows)
    else:
        st.caption("No vignette misses anything.")
    total = len(report.rows)
    st.download_button(
        f"Download the results of {every(total, 'vignette')} (CSV)",
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
