"""Validation: how the model does on clinical vignettes (cases with expected answers).

The shipped vignettes are ``tests/vignettes.yaml``; an uploaded vignette file is
validated first and used only if valid. Scores come from ``model.vignettes.evaluate``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from model import ToeTwitchModel, VignetteError
from ui.common import BAR_COLOUR, error_block, markdown_escape, short_cause, urgency_label
from ui.priors_state import current, key_of, session_model
from ui.vignette_data import (
    MAX_UPLOAD_MB,
    VignetteSet,
    default_vignettes,
    mark,
    outcomes,
    vignettes_from_upload,
)

UPLOAD = "val_upload"
MISSES_ONLY = "val_misses_only"


def _share(summary: dict, key: str) -> str:
    value = summary.get(key)
    return "–" if value is None else f"{value:.1%}"


def draw_scores(summary: dict) -> None:
    with st.container(key="val_scores"):
        a, b, c, d = st.columns(4)
        a.metric(
            "First cause as expected",
            _share(summary, "top1_accuracy"),
            help=f"Top-1: of the {summary['top1_judged']} vignettes that name an expected first cause.",
            border=True,
        )
        b.metric(
            "Expected causes in the top 3",
            _share(summary, "top3_accuracy"),
            help=f"Top-3: of the {summary['top3_judged']} vignettes that name causes for the top 3.",
            border=True,
        )
        c.metric(
            "Urgency as expected",
            _share(summary, "urgency_accuracy"),
            help=f"Of all {summary['vignettes']} vignettes.",
            border=True,
        )
        d.metric(
            "Under-triaged",
            f"{summary['under_triaged']}",
            help="Vignettes given a lower urgency than the lowest one expected "
            f"(emergencies among them: {summary['under_triaged_emergencies']}).",
            border=True,
        )


def results_table(model: ToeTwitchModel, rows: list[dict]) -> pd.DataFrame:
    def expected(r: dict) -> str:
        return ", ".join(short_cause(model, c) for c in r["expected"]) or "–"

    return pd.DataFrame(
        {
            "Vignette": [r["id"] for r in rows],
            "Top-1": [mark(r["top1_ok"]) for r in rows],
            "Top-3": [mark(r["top3_ok"]) for r in rows],
            "Urgency ok": [mark(r["urgency_ok"]) for r in rows],
            "Expected cause": [expected(r) for r in rows],
            "Rank of expected": [r["expected_rank"] for r in rows],
            "First cause": [short_cause(model, r["top"]) for r in rows],
            "Probability": [r["top_probability"] for r in rows],
            "Expected urgency": [
                " or ".join(urgency_label(model, u) for u in r["expected_urgency"]) for r in rows
            ],
            "Urgency": [urgency_label(model, r["urgency"]) for r in rows],
            "Under-triaged": ["⚠" if r["under_triaged"] else "" for r in rows],
            "Story": [r["story"] for r in rows],
        }
    )


def choose_vignettes() -> VignetteSet | None:
    """The uploaded file if one is given and valid, else the shipped one (None: unreadable)."""
    up = st.file_uploader(
        f"Check your own vignette file instead (YAML, at most {MAX_UPLOAD_MB} MB)",
        type=["yaml", "yml"],
        max_upload_size=MAX_UPLOAD_MB,
        key=UPLOAD,
        help="Same format as tests/vignettes.yaml. It is checked first and used only if valid; "
        "nothing in it is ever run.",
    )
    if up is not None:
        try:
            vs = vignettes_from_upload(up.name, up.getvalue())
        except VignetteError as exc:
            n = len(exc.problems)
            st.error(
                error_block(
                    f"{markdown_escape(up.name)} was not used: {n} problem{'s' if n != 1 else ''} "
                    "found. The shipped vignettes are shown instead.",
                    str(exc),
                )
            )
        else:
            return vs
    try:
        return default_vignettes()
    except (VignetteError, OSError) as exc:
        st.error(error_block("The shipped vignettes could not be read.", str(exc)))
        return None


def render() -> None:
    st.title("Validation: clinical vignettes")
    st.markdown(
        "Each vignette is a short case with the findings a clinician would note and the "
        "answer they expect: the first cause (or the causes that belong in the top 3) and the "
        "urgency. The model ranks every vignette; the scores say how often it agrees."
    )
    model = session_model()
    vs = choose_vignettes()
    if vs is None:
        return
    rows, summary = outcomes(key_of(current().priors), vs.key, model, vs.vignettes)
    st.caption(
        f"{summary['vignettes']} vignettes from {markdown_escape(vs.label)}, ranked with "
        f"{current().describe()}."
    )
    draw_scores(summary)
    misses_only = st.toggle("Only the vignettes that miss something", key=MISSES_ONLY)
    if misses_only:
        rows = [
            r
            for r in rows
            if r["top1_ok"] is False
            or r["top3_ok"] is False
            or not r["urgency_ok"]
            or r["under_triaged"]
        ]
    if not rows:
        st.caption("No vignette misses anything.")
        return
    st.dataframe(
        results_table(model, rows),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 640),
        key="val_results",
        column_config={
            "Vignette": st.column_config.TextColumn(pinned=True),
            "Top-1": st.column_config.TextColumn(width="small"),
            "Top-3": st.column_config.TextColumn(width="small"),
            "Urgency ok": st.column_config.TextColumn(width="small"),
            "Probability": st.column_config.ProgressColumn(
                "Its probability", format="percent", min_value=0, max_value=1, color=BAR_COLOUR
            ),
            "Rank of expected": st.column_config.NumberColumn(
                help="Where the best-placed expected cause ranks (1 = first)."
            ),
            "Story": st.column_config.TextColumn(width="large"),
        },
    )
    st.caption(
        "✓ as expected · ✗ not as expected · – the vignette does not judge this · ⚠ under-triaged"
    )
