"""Explore: answer questions about your toe twitching and see which causes fit best.

Run with ``streamlit run ui/app.py``. The questions are in the sidebar, the results on
the right. Every rerun makes exactly one ``diagnose`` call on a model built once per
server process.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts only ui/ on the path
    sys.path.insert(0, str(ROOT))

import altair as alt  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from model import DISCLAIMER, Diagnosis, ToeTwitchError, ToeTwitchModel  # noqa: E402
from ui import state  # noqa: E402
from ui.loaders import (  # noqa: E402
    GROUP_RED_FLAGS,
    get_model,
    is_binary,
    question_groups,
    state_label,
)

ANSWER_LABELS = {"present": "Yes", "absent": "No", state.UNKNOWN: "Don't know"}
BINARY_OPTIONS = ("present", "absent", state.UNKNOWN)
BANNER = {
    "self_care": (st.success, ":material/check_circle:"),
    "see_doctor": (st.warning, ":material/stethoscope:"),
    "emergency": (st.error, ":material/e911_emergency:"),
}
RED_FLAG_REASON_START = "You have not answered every red-flag question"
#: "Don't know" is the resting state of every question: when selected it is drawn in quiet
#: grey instead of the accent colour, so the answers actually given stand out.
QUIET_UNKNOWN_CSS = """
<style>
[data-testid="stSidebar"] [data-testid="stButtonGroup"] button[aria-checked="true"]:nth-of-type(3) {
  background-color: rgba(151, 166, 195, 0.15);
  border-color: rgba(49, 51, 63, 0.3);
  color: rgba(49, 51, 63, 0.75);
}
</style>
"""


# ---------------------------------------------------------------- formatting helpers
def percent(p: float) -> str:
    if p < 0.001:
        return "<0.1%"
    if p < 0.1:
        return f"{p:.1%}"
    return f"{p:.0%}"


def relative_text(ratio: float) -> str:
    """``3.2× more likely than before your answers`` and the like."""
    if 1 / 1.1 < ratio < 1.1:
        return "about as likely as before your answers"
    if ratio >= 1:
        return f"{times(ratio)} more likely than before your answers"
    return f"{times(1 / ratio)} less likely than before your answers"


def times(x: float) -> str:
    return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×"


def plain(seed: str) -> str:
    """The article's words about a cause, as one readable line."""
    text = " ".join(seed.split()).replace(" ... ", " … ")
    return f"“{text[0].upper()}{text[1:]}”" if text else ""


def bullets(lines) -> str:
    return "\n".join(f"- {line}" for line in lines)


def numbered(lines) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1))


# ---------------------------------------------------------------- questions
def draw_questions(model: ToeTwitchModel) -> None:
    """All findings in the sidebar, grouped, each with a stable key ``f_<finding>``."""
    groups = question_groups(model)
    findings = [f for g in groups for f in g.findings]
    bar = st.sidebar
    bar.header("Your answers")
    bar.caption("Answer what you know. Leave the rest on “Don't know”: it is never read as a no.")
    bar.button(
        "Reset answers",
        key=state.RESET_BUTTON,
        icon=":material/restart_alt:",
        on_click=state.reset_answers,
        args=(findings,),
        width="stretch",
    )
    for group in groups:
        if group.title == GROUP_RED_FLAGS:
            bar.subheader(":material/warning: Red flags", divider="red")
            bar.caption("If any of these is happening now, call emergency services.")
        else:
            bar.subheader(group.title, divider="gray")
        for finding in group.findings:
            label = model.vocabulary.findings[finding].label
            key = state.widget_key(finding)
            if is_binary(model, finding):
                bar.segmented_control(
                    label,
                    BINARY_OPTIONS,
                    format_func=ANSWER_LABELS.__getitem__,
                    required=True,
                    key=key,
                )
            else:
                bar.selectbox(
                    label,
                    (state.UNKNOWN, *model.states[finding]),
                    format_func=lambda s: "Don't know" if s == state.UNKNOWN else state_label(s),
                    key=key,
                )


# ---------------------------------------------------------------- results
def ranking_chart(model: ToeTwitchModel, d: Diagnosis) -> alt.Chart:
    labels = model.vocabulary.causes
    df = pd.DataFrame(
        {
            "Cause": [labels[c].label for c, _ in d.ranking],
            "Probability": [p for _, p in d.ranking],
            "Shown": [percent(p) for _, p in d.ranking],
        }
    )
    base = alt.Chart(df).encode(
        y=alt.Y(
            "Cause:N",
            sort=list(df["Cause"]),
            axis=alt.Axis(title=None, labelLimit=560, labelFontSize=13, labelColor="#31333f"),
        ),
        x=alt.X(
            "Probability:Q",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%", title="Probability given your answers", tickCount=5),
        ),
        tooltip=[
            alt.Tooltip("Cause:N"),
            alt.Tooltip("Probability:Q", format=".1%"),
        ],
    )
    bars = base.mark_bar(cornerRadiusEnd=3, height=18)
    text = base.mark_text(align="left", dx=4, fontSize=12, fontWeight="bold").encode(text="Shown:N")
    return (bars + text).properties(height=32 * len(df))


def draw_chart(model: ToeTwitchModel, d: Diagnosis) -> None:
    top, p = d.ranking[0]
    st.subheader("Possible causes, most likely first")
    st.markdown(f"Most likely: **{model.vocabulary.causes[top].label}** ({percent(p)})")
    st.caption(
        "Each bar is the probability that this cause is behind the twitching, given your "
        "answers. Several causes can be present at once, so the bars need not add up to 100%."
    )
    st.altair_chart(ranking_chart(model, d), width="stretch")


def draw_cause_list(model: ToeTwitchModel, d: Diagnosis) -> None:
    """Every cause, ranked: probability, change since the start, the article's words."""
    st.subheader("What each cause means")
    rel = d.relative_to_prior
    with st.container(key="ranking"):
        for i, (cause, prob) in enumerate(d.ranking, start=1):
            info = model.vocabulary.causes[cause]
            st.markdown(
                f"**{i}. {info.label}** · {percent(prob)} · *{relative_text(rel[cause])}*  \n"
                f":gray[{plain(info.seed)}]"
            )


def draw_banner(model: ToeTwitchModel, d: Diagnosis) -> None:
    alert, icon = BANNER[d.urgency]
    title = model.vocabulary.urgency[d.urgency].label
    reasons = [r for r in d.reasons if not r.startswith(RED_FLAG_REASON_START)]
    body = [f"### {title}", d.advice.summary]
    if reasons:
        body.append("**Why:**\n" + bullets(reasons))
    if d.urgency == "emergency" and d.advice.next_steps:
        body.append("**Do this now:**\n" + numbered(d.advice.next_steps))
    elif d.urgency == "see_doctor" and d.advice.next_steps:
        body.append("**Next steps:**\n" + numbered(d.advice.next_steps))
    alert("\n\n".join(body), icon=icon)


def draw_red_flag_check(model: ToeTwitchModel, d: Diagnosis) -> None:
    if d.urgency != "self_care" or not d.unanswered_red_flags:
        return
    n = len(d.unanswered_red_flags)
    st.info(
        f"**Please check the red-flag questions** (the last group in the sidebar): "
        f"{n} {'is' if n == 1 else 'are'} still unanswered. If any applies, call emergency "
        "services.",
        icon=":material/flag:",
    )


def draw_when_to_see_doctor(d: Diagnosis) -> None:
    """Self care only: when to see a doctor (see-a-doctor steps are in the banner)."""
    if d.urgency == "self_care" and d.advice.when_to_see_doctor:
        st.subheader("When to see a doctor")
        st.markdown(bullets(d.advice.when_to_see_doctor))


def draw_home_care(d: Diagnosis) -> None:
    a = d.advice
    st.subheader("Meanwhile, at home" if d.urgency == "see_doctor" else "What you can do at home")
    if a.home_remedies:
        with st.expander("Home remedies", icon=":material/hot_tub:", expanded=True):
            st.markdown("\n".join(f"- **{title}.** {text}" for title, text in a.home_remedies))
    if a.exercises:
        with st.expander(f"{len(a.exercises)} toe exercises", icon=":material/directions_walk:"):
            for ex in a.exercises:
                st.markdown(f"**{ex.title}**\n\n" + numbered(ex.steps))
    if a.walking_on_sand:
        with st.expander("Walking on sand", icon=":material/beach_access:"):
            st.markdown(a.walking_on_sand)
    if a.prevention:
        with st.expander("Prevention tips", icon=":material/shield:"):
            st.markdown(bullets(a.prevention))


def draw_url_warnings() -> None:
    problems = st.session_state.get(state.URL_WARNINGS) or []
    if problems:
        st.caption(
            ":orange[:material/warning: Some parts of the link were ignored: "
            + "; ".join(problems)
            + ".]"
        )


# ---------------------------------------------------------------- page
def main() -> None:
    st.set_page_config(
        page_title="Toe twitching: explore the causes",
        page_icon=":material/directions_walk:",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    st.html(QUIET_UNKNOWN_CSS)
    st.title("What might be causing your toe twitching?")
    st.info(f"**{DISCLAIMER}**", icon=":material/info:")

    model = get_model()
    state.init_state(model.findings, model.states, st.query_params.to_dict())
    draw_questions(model)
    evidence = state.evidence_from_state(model.findings)
    state.sync_url(evidence)
    draw_url_warnings()

    try:
        d = model.diagnose(evidence)  # the one model call of this rerun
    except ToeTwitchError as exc:
        st.warning(f"These answers cannot be combined: {exc}")
        return

    answered = len(evidence)
    st.caption(
        f"{answered} of {len(model.findings)} questions answered. "
        "The link in your address bar holds your answers: copy it to share or reload this case."
        if answered
        else "No answers yet: the ranking below is how common each cause is before any answer. "
        "Start with the questions in the sidebar."
    )

    draw_banner(model, d)
    if d.urgency == "emergency":
        # Nothing may distract from calling for help: the ranking stays folded away below.
        with st.expander("Show the likely causes anyway", expanded=False):
            draw_chart(model, d)
            draw_cause_list(model, d)
        return

    draw_red_flag_check(model, d)
    draw_chart(model, d)
    left, right = st.columns([3, 2], gap="large")
    with left:
        draw_cause_list(model, d)
    with right:
        draw_when_to_see_doctor(d)
        draw_home_care(d)


main()
