"""What the edits to the priors change: the numbers that differ from the shipped priors,
a case's ranking and urgency before and after, and the vignette scores before and after
(the Tune priors page draws them under its grid)."""

from __future__ import annotations

import streamlit as st

from toe_twitch import ImpossibleEvidenceError, ToeTwitchError, ToeTwitchModel
from toe_twitch.ui import answers, charts, loaders, session_priors, widgets
from toe_twitch.ui.session_priors import SessionPriors
from toe_twitch.ui.text import (
    answer_label,
    cause_name,
    finding_label,
    percent,
    plain,
    plural,
    points,
    urgency_title,
)
from toe_twitch.ui.views.tune_labels import row_label

#: Rows of "What the edits change" shown on the page (the grid shows every number).
MAX_DIFF_ROWS = 40


def draw_case_effect(before: ToeTwitchModel, after: ToeTwitchModel, tuned: bool) -> None:
    st.subheader("The current case", anchor=False)
    evidence = answers.evidence(after)
    if evidence:
        shown = "; ".join(
            f"{finding_label(after, f)}: {answer_label(s)}" for f, s in evidence.items()
        )
        st.caption(f"Your answers: {shown}.")
    else:
        st.caption(
            "No answers yet, so the case is anyone with toe twitching (the ranking before any answer)."
        )
    try:
        was, now = before.diagnose(evidence), after.diagnose(evidence)
    except ImpossibleEvidenceError:
        widgets.impossible(after, evidence, "tune")
        return
    level = urgency_title(after, now.urgency)
    st.markdown(
        f"Urgency: **{level}**"
        + (
            f" (was {urgency_title(after, was.urgency)})"
            if was.urgency != now.urgency
            else " (unchanged)"
        )
    )
    old = was.probabilities
    rank_before = {c: i for i, (c, _) in enumerate(was.ranking, start=1)}
    if now.red_flags_present:
        st.caption("No cause is ranked while an emergency sign is reported.")
        return
    st.html(
        charts.table(
            ["cause", "before", "after", "change", "was #"],
            [
                (
                    f"{i}. {cause_name(after, c)}",
                    percent(old[c]),
                    percent(p),
                    points(p - old[c]),
                    rank_before[c],
                )
                for i, (c, p) in enumerate(now.ranking, 1)
            ],
            "The current case before and after the edits",
        )
    )
    if not tuned:
        st.caption("Nothing differs from the shipped priors: before and after are the same.")


def differences(sp: SessionPriors) -> list[tuple[str, float, float]]:
    """``(path, shipped value, value in force)`` of every number that differs from the
    shipped priors (an uploaded file's own changes and the edits on the page)."""
    shipped = session_priors.base_values(loaders.shipped_model().priors)
    now = session_priors.base_values(sp.priors)
    return [(p, shipped[p], v) for p, v in now.items() if p in shipped and shipped[p] != v]


def draw_differences(model: ToeTwitchModel, sp: SessionPriors) -> None:
    changed = differences(sp)
    if not changed:
        return
    n = len(changed)
    st.markdown(
        f"**{plural(n, 'number')} {'differs' if n == 1 else 'differ'} from the shipped priors**"
    )
    st.html(
        charts.table(
            ["parameter", "shipped", "now"],
            [
                (row_label(model, p), f"{was:g}", f"{now:g}")
                for p, was, now in changed[:MAX_DIFF_ROWS]
            ],
            "Numbers that differ from the shipped priors",
        )
    )
    if n > MAX_DIFF_ROWS:
        st.caption(f"The first {MAX_DIFF_ROWS} of {n}; the grid above shows every number.")


def draw_effects(sp: SessionPriors) -> None:
    """Before (the shipped priors) and after (the priors in use: an uploaded file and the
    edits on the page), on the current case and on the shipped vignettes."""
    st.header("What the edits change", anchor=False)
    after = session_priors.session_model()
    st.html(
        charts.note(
            "Before and after: the shipped priors (nothing changed yet)."
            if sp.is_shipped
            else f"Before: the shipped priors. After: {sp.describe()}."
        )
    )
    draw_differences(after, sp)
    left, right = st.columns(2, gap="large")
    with left:
        draw_case_effect(loaders.shipped_model(), after, not sp.is_shipped)
    with right:
        draw_vignette_effect(sp, loaders.shipped_model(), after)


def _score(summary: dict, key: str) -> str:
    value = summary.get(key)
    return "–" if value is None else f"{value:.1%}"


def draw_vignette_effect(sp: SessionPriors, before: ToeTwitchModel, after: ToeTwitchModel) -> None:
    """The shipped vignettes scored with the shipped priors (before) and these (after)."""
    st.subheader("The shipped vignettes", anchor=False)
    try:
        a = loaders.shipped_report(before, loaders.shipped_key())
        b = loaders.shipped_report(after, sp.key)
    except ToeTwitchError as exc:
        st.error("The vignettes could not be scored with these priors.", icon=":material/block:")
        st.code(plain(str(exc), 2000), language=None, wrap_lines=True)
        return
    parts = []
    for label, key in (
        ("First cause right", "top1_accuracy"),
        ("In the top 3", "top3_accuracy"),
        ("Urgency as expected", "urgency_accuracy"),
    ):
        was, now = _score(a.summary, key), _score(b.summary, key)
        parts.append(f"{label} **{now}**" + (f" (was {was})" if was != now else ""))
    parts.append(f"Under-triaged **{b.summary.get('under_triaged', 0)}**")
    st.markdown(" · ".join(parts))
    before_rows = {r.id: r for r in a.rows}
    changed = [
        (before_rows[r.id], r)
        for r in b.rows
        if r.id in before_rows
        and (before_rows[r.id].top != r.top or before_rows[r.id].urgency != r.urgency)
    ]
    if not changed:
        st.caption(f"None of the {len(b.rows)} vignettes changes its first cause or urgency.")
        return
    st.markdown(
        f"**{len(changed)} of {len(b.rows)} vignettes change** their first cause or urgency:"
    )
    st.html(
        charts.table(
            ["vignette", "first cause", "urgency"],
            [
                (
                    r.id,
                    f"{cause_name(after, x.top)} → {cause_name(after, r.top)}",
                    f"{urgency_title(after, x.urgency)} → {urgency_title(after, r.urgency)}",
                )
                for x, r in changed
            ],
            "Vignettes whose first cause or urgency changes",
        )
    )
