"""Explore: answer questions about your toe twitching and see which causes fit best.

The questions are in the sidebar, the results on the right. Every rerun makes exactly
one ``diagnose`` call; the reasoning tools (what to ask next, why, what if) share one
exact look-ahead of every possible next answer, and the 90% intervals are cached per
case and priors.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from model import DISCLAIMER, Diagnosis, ToeTwitchError, ToeTwitchModel
from model.analysis import LookAhead, Question, look_ahead, next_questions
from ui import state
from ui.common import (
    ANSWER_LABELS,
    answer_label,
    bullets,
    finding_label,
    numbered,
    percent,
    plain,
    points,
    relative_text,
    short_cause,
    urgency_badge,
)
from ui.loaders import GROUP_RED_FLAGS, is_binary, question_groups, state_label
from ui.priors_state import current, key_of, session_model

BINARY_OPTIONS = ("present", "absent", state.UNKNOWN)
BANNER = {
    "self_care": (st.success, ":material/check_circle:"),
    "see_doctor": (st.warning, ":material/stethoscope:"),
    "emergency": (st.error, ":material/e911_emergency:"),
}
RED_FLAG_REASON_START = "You have not answered every red-flag question"
#: Draws of the priors behind the 90% interval on each bar.
UNCERTAINTY_DRAWS = 200
#: How many of the most informative questions "What to ask next" suggests.
ASK_COUNT = 5
WHY_CAUSE = "why_cause"
WHY_PICKED = "why_picked"
WHATIF_FINDING = "whatif_finding"
WHATIF_STATE = "whatif_state"
WHATIF_APPLY = "whatif_apply"
BAR_COLOUR = "#4e8fd6"
SUPPORT_COLOUR = "#2f7ed8"
OPPOSE_COLOUR = "#f0a35e"
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


def ask_key(finding: str, value: str) -> str:
    """Key of the in-place answer button of a suggested question: ``ask_leg_pain_present``."""
    return f"ask_{finding}_{value}"


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


# ---------------------------------------------------------------- ranking with intervals
@st.cache_data(show_spinner=False, max_entries=512)
def intervals(
    priors_key: str, evidence: tuple[tuple[str, str], ...], _model: ToeTwitchModel
) -> dict[str, tuple[float, float]]:
    """5th and 95th percentile of each cause's probability over draws of the priors.

    Cached per case (``evidence``) and priors (``priors_key``, the hash of their numbers).
    """
    u = _model.uncertainty(dict(evidence), draws=UNCERTAINTY_DRAWS, seed=0)
    return {c.cause: (c.low, c.high) for c in u.causes}


def case_intervals(model: ToeTwitchModel, evidence: dict[str, str]) -> dict[str, tuple[float, float]]:
    return intervals(key_of(current().priors), tuple(evidence.items()), model)


def ranking_chart(
    model: ToeTwitchModel, d: Diagnosis, ranges: dict[str, tuple[float, float]]
) -> alt.LayerChart:
    """Bars of the probabilities, a 90%-interval line on each, the percentage at the end."""
    labels = model.vocabulary.causes
    df = pd.DataFrame(
        {
            "Cause": [labels[c].label for c, _ in d.ranking],
            "Probability": [p for _, p in d.ranking],
            "Shown": [percent(p) for _, p in d.ranking],
            "Low": [ranges[c][0] for c, _ in d.ranking],
            "High": [ranges[c][1] for c, _ in d.ranking],
        }
    )
    df["Range"] = [f"{percent(lo)} to {percent(hi)}" for lo, hi in zip(df["Low"], df["High"], strict=True)]
    df["LabelAt"] = np.maximum(df["Probability"], df["High"])
    y = alt.Y(
        "Cause:N",
        sort=list(df["Cause"]),
        axis=alt.Axis(title=None, labelLimit=560, labelFontSize=13, labelColor="#31333f"),
    )
    x_scale = alt.Scale(domain=[0, 1])
    tooltip = [
        alt.Tooltip("Cause:N"),
        alt.Tooltip("Probability:Q", format=".1%"),
        alt.Tooltip("Range:N", title="90% range"),
    ]
    base = alt.Chart(df).encode(y=y, tooltip=tooltip)
    bars = base.mark_bar(cornerRadiusEnd=3, height=18, color=BAR_COLOUR).encode(
        x=alt.X(
            "Probability:Q",
            scale=x_scale,
            axis=alt.Axis(format="%", title="Probability given your answers", tickCount=5),
        )
    )
    interval = base.mark_rule(color="#1f3b57", strokeWidth=2, opacity=0.75).encode(
        x=alt.X("Low:Q", scale=x_scale), x2="High:Q"
    )
    text = base.mark_text(align="left", dx=5, fontSize=12, fontWeight="bold").encode(
        x=alt.X("LabelAt:Q", scale=x_scale), text="Shown:N"
    )
    return (bars + interval + text).properties(height=32 * len(df))


def draw_chart(model: ToeTwitchModel, d: Diagnosis, evidence: dict[str, str]) -> None:
    top, p = d.ranking[0]
    st.subheader("Possible causes, most likely first")
    st.markdown(f"Most likely: **{model.vocabulary.causes[top].label}** ({percent(p)})")
    st.caption(
        "Each bar is the probability that this cause is behind the twitching, given your "
        "answers. Several causes can be present at once, so the bars need not add up to 100%. "
        f"The dark line on each bar is its 90% range: where the probability lands when every "
        f"number of the model is redrawn within its plausible range ({UNCERTAINTY_DRAWS} draws)."
    )
    ranges = case_intervals(model, evidence)
    st.altair_chart(ranking_chart(model, d, ranges), width="stretch")


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


# ---------------------------------------------------------------- urgency and advice
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


# ---------------------------------------------------------------- what to ask next
def answer_choices(model: ToeTwitchModel, finding: str) -> tuple[str, ...]:
    """The answers offered for a finding: Yes/No (or its states), then Don't know."""
    if is_binary(model, finding):
        return BINARY_OPTIONS
    return (*model.states[finding], state.UNKNOWN)


def question_row(model: ToeTwitchModel, q: Question) -> None:
    text, buttons = st.columns([5, 4], vertical_alignment="center")
    with text:
        if q.red_flag:
            st.markdown(f"**{q.label}**")
        else:
            reason = q.reason[:1].upper() + q.reason[1:]
            chance = ""
            if "present" in q.predictive:
                chance = f" · Yes for about {percent(q.predictive['present'])} of people with your answers"
            st.markdown(
                f"**{q.label}**  \n:gray[{q.gain_bits:.2f} bits · {reason}{chance}]"
            )
    with buttons, st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        for value in answer_choices(model, q.finding):
            st.button(
                answer_label(value),
                key=ask_key(q.finding, value),
                on_click=state.set_answer,
                args=(q.finding, value),
                type="tertiary" if value == state.UNKNOWN else "secondary",
            )


def suggested_questions(
    model: ToeTwitchModel, evidence: dict[str, str], ahead: LookAhead
) -> tuple[list[Question], list[Question]]:
    """(unanswered red flags to check first, the most informative other questions)."""
    skipped = set(st.session_state.get(state.ASK_SKIPPED, []))
    questions = next_questions(model, evidence, k=ASK_COUNT + len(skipped), ahead=ahead)
    questions = [q for q in questions if q.finding not in skipped]
    flags = [q for q in questions if q.red_flag]
    others = [q for q in questions if not q.red_flag][:ASK_COUNT]
    return flags, others


def draw_ask_next(model: ToeTwitchModel, flags: list[Question], others: list[Question]) -> None:
    with st.container(key="ask_next"):
        if not flags and not others:
            st.markdown("Nothing left to ask: every question is answered (or set aside).")
            return
        st.caption(
            "Answer here or in the sidebar: it is the same answer. “Don't know” leaves the "
            "question open and stops suggesting it."
        )
        if flags:
            st.markdown(
                "**First, the red-flag questions.** They rarely change the ranking, but if "
                "any of them is happening now, call emergency services."
            )
            for q in flags:
                question_row(model, q)
        if others:
            st.markdown(
                f"**The {len(others)} most informative questions**, by how much the answer "
                "is expected to narrow down the causes (information gain, in bits)"
            )
            for q in others:
                question_row(model, q)


# ---------------------------------------------------------------- why
def _pick_why() -> None:
    st.session_state[WHY_PICKED] = True


def draw_why(model: ToeTwitchModel, d: Diagnosis, evidence: dict[str, str]) -> None:
    if not st.session_state.get(WHY_PICKED) or st.session_state.get(WHY_CAUSE) not in model.causes:
        st.session_state[WHY_CAUSE] = d.top  # follow the first cause until one is picked
    cause = st.selectbox(
        "Why does this cause have its probability?",
        model.causes,
        format_func=lambda c: model.vocabulary.causes[c].label,
        key=WHY_CAUSE,
        on_change=_pick_why,
    )
    ex = model.explain(evidence, cause)
    name = short_cause(model, cause)
    ratio = ex.posterior / ex.prior if ex.prior > 0 else 1.0
    st.markdown(
        f"**{name}**: {percent(ex.prior)} before your answers → **{percent(ex.posterior)}** "
        f"given your answers ({relative_text(ratio)})."
    )
    rows = [c for c in ex.contributions if c.finding in evidence]
    if not rows:
        st.caption(
            "No answers yet, so this is how common the cause is among people with toe "
            "twitching. Each answer you give will show here as for or against it."
        )
        return
    df = pd.DataFrame(
        {
            "Finding": [finding_label(model, c.finding) for c in rows],
            "Your answer": [answer_label(c.state) for c in rows],
            "Effect": ["supports" if c.weight > 0 else "opposes" for c in rows],
            "Likelihood ratio": [c.likelihood_ratio for c in rows],
            "Weight": [c.weight for c in rows],
        }
    )
    df["Row"] = [f"{f}: {a}" for f, a in zip(df["Finding"], df["Your answer"], strict=True)]
    order = list(df.sort_values("Weight", ascending=False)["Row"])
    chart = (
        alt.Chart(df)
        .mark_bar(height=16, cornerRadius=2)
        .encode(
            y=alt.Y("Row:N", sort=order, axis=alt.Axis(title=None, labelLimit=420, labelFontSize=12)),
            x=alt.X("Weight:Q", title="Weight of evidence (natural log of the likelihood ratio)"),
            color=alt.Color(
                "Effect:N",
                scale=alt.Scale(domain=["supports", "opposes"], range=[SUPPORT_COLOUR, OPPOSE_COLOUR]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=[
                alt.Tooltip("Row:N", title="Answer"),
                alt.Tooltip("Likelihood ratio:Q", format=".3g"),
                alt.Tooltip("Weight:Q", format="+.2f"),
            ],
        )
        .properties(height=30 * len(df) + 20)
    )
    st.altair_chart(chart, width="stretch")
    st.dataframe(
        df[["Finding", "Your answer", "Effect", "Likelihood ratio", "Weight"]],
        hide_index=True,
        width="stretch",
        column_config={
            "Likelihood ratio": st.column_config.NumberColumn(format="%.3g"),
            "Weight": st.column_config.NumberColumn(format="%+.2f"),
        },
    )
    st.caption(
        "Likelihood ratio: how many times more likely this answer is if the cause is present "
        "than if it is absent, your other answers held as they are. The weight is its natural "
        "log: above zero the answer supports the cause, below zero it speaks against it."
    )


# ---------------------------------------------------------------- what if
def draw_what_if(
    model: ToeTwitchModel,
    d: Diagnosis,
    evidence: dict[str, str],
    ahead: LookAhead,
    suggested: list[Question],
) -> None:
    options = [f for f in model.findings if f not in evidence]
    if not options:
        st.markdown("Every question is answered, so there is nothing left to try.")
        return
    session = st.session_state
    if session.get(WHATIF_FINDING) not in options:
        session[WHATIF_FINDING] = suggested[0].finding if suggested else options[0]
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    finding = left.selectbox(
        "If you answered…",
        options,
        format_func=lambda f: finding_label(model, f),
        key=WHATIF_FINDING,
    )
    choices = ("present", "absent") if is_binary(model, finding) else model.states[finding]
    if session.get(WHATIF_STATE) not in choices:
        session[WHATIF_STATE] = choices[0]
    value = right.segmented_control(
        "with", choices, format_func=answer_label, required=True, key=WHATIF_STATE
    )
    i = ahead.options.index((finding, value))
    checked = model.check_evidence(evidence)
    after = model.diagnoses_from_posteriors([{**checked, finding: value}], ahead.posteriors[i][None, :])[0]
    now = d.probabilities
    then = after.probabilities
    chance = ahead.predictive[finding][value]
    lines = [
        f"Chance of this answer, given your answers so far: **{percent(chance)}**.",
        f"Urgency would be {urgency_badge(model, after.urgency)}"
        + (
            f" (now {urgency_badge(model, d.urgency)})."
            if after.urgency != d.urgency
            else " (unchanged)."
        ),
    ]
    mover = max(model.causes, key=lambda c: abs(then[c] - now[c]))
    lines.append(
        f"Biggest change: **{short_cause(model, mover)}**, {percent(now[mover])} → "
        f"{percent(then[mover])}."
    )
    st.markdown("  \n".join(lines))
    rank_now = {c: i for i, (c, _) in enumerate(d.ranking, start=1)}
    df = pd.DataFrame(
        {
            "Rank": list(range(1, len(after.ranking) + 1)),
            "Cause": [model.vocabulary.causes[c].label for c, _ in after.ranking],
            "Now": [now[c] for c, _ in after.ranking],
            "If so": [p for _, p in after.ranking],
            "Change": [points(then[c] - now[c]) for c, _ in after.ranking],
            "Rank now": [rank_now[c] for c, _ in after.ranking],
        }
    )
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        column_config={
            "Rank": st.column_config.NumberColumn(width="small"),
            "Cause": st.column_config.TextColumn(width="large"),
            "Now": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            "If so": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            "Rank now": st.column_config.NumberColumn(width="small"),
        },
    )
    st.button(
        f"Answer “{answer_label(value)}” to this question",
        key=WHATIF_APPLY,
        icon=":material/check:",
        on_click=state.set_answer,
        args=(finding, value),
    )


def draw_reasoning(model: ToeTwitchModel, d: Diagnosis, evidence: dict[str, str]) -> None:
    """The three reasoning tools, in tabs, from one look-ahead of every next answer."""
    ahead = look_ahead(model, evidence)
    flags, others = suggested_questions(model, evidence, ahead)
    st.subheader("Look closer")
    ask, why, what_if = st.tabs(
        [":material/quiz: What to ask next", ":material/help: Why?", ":material/alt_route: What if"]
    )
    with ask:
        draw_ask_next(model, flags, others)
    with why, st.container(key="why"):
        draw_why(model, d, evidence)
    with what_if, st.container(key="what_if"):
        draw_what_if(model, d, evidence, ahead, others or flags)


# ---------------------------------------------------------------- page
def render() -> None:
    st.html(QUIET_UNKNOWN_CSS)
    st.title("What might be causing your toe twitching?")
    st.info(f"**{DISCLAIMER}**", icon=":material/info:")

    model = session_model()
    draw_questions(model)
    evidence = state.evidence_from_state(model.findings)
    state.sync_url(evidence)
    draw_url_warnings()

    try:
        d = model.diagnose(evidence)  # the one diagnose call of this rerun
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
    sp = current()
    if not sp.is_default:
        st.caption(f":material/tune: These results use {sp.describe()}; see the Tune priors page.")

    draw_banner(model, d)
    if d.urgency == "emergency":
        # Nothing may distract from calling for help: the ranking stays folded away below.
        with st.expander("Show the likely causes anyway", expanded=False):
            draw_chart(model, d, evidence)
            draw_cause_list(model, d)
        return

    draw_red_flag_check(model, d)
    draw_chart(model, d, evidence)
    draw_reasoning(model, d, evidence)
    left, right = st.columns([3, 2], gap="large")
    with left:
        draw_cause_list(model, d)
    with right:
        draw_when_to_see_doctor(d)
        draw_home_care(d)
