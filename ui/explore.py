"""Explore: answer questions about your toe twitching and see which causes fit best.

The questions are in the sidebar, the results on the right. Every rerun makes exactly
one ``diagnose`` call; the reasoning tools (what to ask next, why, what if) share one
exact look-ahead of every possible next answer, and the 90% intervals are cached per
case and priors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from model import DISCLAIMER, Diagnosis, ToeTwitchError, ToeTwitchModel
from model.analysis import Question
from ui import state
from ui.case import (
    UNCERTAINTY_DRAWS,
    CaseView,
    Intervals,
    case_intervals,
    explore_case,
    interval_tables,
    likelihood_ratio,
    what_if_states,
)
from ui.common import (
    ANSWER_LABELS,
    BAR_COLOUR,
    answer_label,
    bullets,
    finding_label,
    numbered,
    percent,
    plain,
    points,
    ratio_text,
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
#: Height of one cause in the ranking chart: its name, then its bar (pixels).
ROW_HEIGHT = 44
#: Longer cause names lose their bracketed examples in the chart (the list below has them).
CHART_NAME_CHARS = 48
#: The 90% intervals computed in this session: ``{(priors key, answers): intervals}``.
INTERVALS = "ui_intervals"
INTERVALS_KEPT = 64
WHY_CAUSE = "why_cause"
WHY_PICKED = "why_picked"
WHATIF_FINDING = "whatif_finding"
WHATIF_STATE = "whatif_state"
WHATIF_APPLY = "whatif_apply"
SUPPORT_COLOUR = "#2f7ed8"
OPPOSE_COLOUR = "#f0a35e"
#: "Don't know" is the resting state of every question: when selected it is drawn in quiet
#: grey instead of the accent colour, so the answers actually given stand out.
#: On a narrow screen the sidebar starts closed: a hint says where the questions are.
PAGE_CSS = """
<style>
[data-testid="stSidebar"] [data-testid="stButtonGroup"] button[aria-checked="true"]:nth-of-type(3) {
  background-color: rgba(151, 166, 195, 0.15);
  border-color: rgba(49, 51, 63, 0.3);
  color: rgba(49, 51, 63, 0.75);
}
.st-key-phone_hint { display: none; }
@media (max-width: 768px) {
  .st-key-phone_hint { display: block; }
  h1 { font-size: 2rem !important; }
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
@st.cache_resource(show_spinner=False, max_entries=16)
def shared_interval_tables(priors_key: str, _model: ToeTwitchModel) -> dict[str, np.ndarray]:
    """The tables of the priors' draws, built once per priors and shared read-only."""
    return interval_tables(_model)


def interval_key(evidence: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return key_of(current().priors), tuple(sorted(evidence.items()))


def known_intervals(evidence: dict[str, str]) -> Intervals | None:
    """The case's intervals if this session computed them already, else None."""
    return st.session_state.get(INTERVALS, {}).get(interval_key(evidence))


def compute_intervals(model: ToeTwitchModel, evidence: dict[str, str]) -> Intervals:
    """The case's 90% intervals (kept for the last cases of this session)."""
    key = interval_key(evidence)
    ranges = case_intervals(model, evidence, shared_interval_tables(key[0], model))
    kept = dict(st.session_state.get(INTERVALS, {}))
    kept[key] = ranges
    st.session_state[INTERVALS] = dict(list(kept.items())[-INTERVALS_KEPT:])
    return ranges


def chart_name(label: str) -> str:
    """A cause's label short enough for a phone: a long list of examples in brackets goes.

    >>> chart_name("Poor blood circulation (e.g. atherosclerosis, peripheral artery disease)")
    'Poor blood circulation'
    >>> chart_name("Periodic limb movement disorder (PLMD)")
    'Periodic limb movement disorder (PLMD)'
    """
    if len(label) > CHART_NAME_CHARS and label.endswith(")") and " (" in label:
        return label[: label.rindex(" (")]
    return label


def ranking_chart(model: ToeTwitchModel, d: Diagnosis, ranges: Intervals | None) -> dict:
    """Vega-Lite: bars of the probabilities, a 90%-interval line on each, the percentage at
    the end (written as plain data: building it through Altair costs ~50 ms a rerun).

    Without ``ranges`` (still being computed) the bars are drawn alone.
    """
    labels = model.vocabulary.causes
    df = pd.DataFrame(
        {
            "Cause": [labels[c].label for c, _ in d.ranking],
            "Name": [chart_name(labels[c].label) for c, _ in d.ranking],
            "Probability": [p for _, p in d.ranking],
            "Shown": [percent(p) for _, p in d.ranking],
            "Likelihood ratio": [ratio_text(likelihood_ratio(d.prior[c], p)) for c, p in d.ranking],
            "Low": [ranges[c][0] if ranges else p for c, p in d.ranking],
            "High": [ranges[c][1] if ranges else p for c, p in d.ranking],
        }
    )
    df["Range"] = [
        f"{percent(lo)} to {percent(hi)}" if ranges else "being computed"
        for lo, hi in zip(df["Low"], df["High"], strict=True)
    ]
    df["LabelAt"] = np.maximum(df["Probability"], df["High"])
    # The cause's name sits above its bar (not as an axis label), so the bars keep the full
    # width on a phone as well as on a desktop.
    y = {"field": "Cause", "type": "nominal", "sort": list(df["Cause"]), "axis": None}
    x_scale = {"domain": [0, 1.12], "nice": False}  # room for the label of a full bar
    tooltip = [
        {"field": "Cause", "type": "nominal"},
        {"field": "Probability", "type": "quantitative", "format": ".1%"},
        {"field": "Range", "type": "nominal", "title": "90% range"},
        {
            "field": "Likelihood ratio",
            "type": "nominal",
            "title": "Likelihood ratio of your answers",
        },
    ]

    def layer(mark: dict, **encoding: dict) -> dict:
        return {"mark": mark, "encoding": {"y": y, "tooltip": tooltip, **encoding}}

    on_bar = {"yOffset": 8}
    bars = layer(
        {"type": "bar", "cornerRadiusEnd": 3, "height": 14, "color": BAR_COLOUR, **on_bar},
        x={
            "field": "Probability",
            "type": "quantitative",
            "scale": x_scale,
            "axis": {
                "format": "%",
                "title": "Probability given your answers",
                "values": [0, 0.25, 0.5, 0.75, 1],
                "grid": True,
            },
        },
    )
    interval = layer(
        {"type": "rule", "color": "#1f3b57", "strokeWidth": 2, "opacity": 0.75, **on_bar},
        x={"field": "Low", "type": "quantitative", "scale": x_scale},
        x2={"field": "High"},
    )
    text = layer(
        {"type": "text", "align": "left", "dx": 5, "fontSize": 12, "fontWeight": "bold", **on_bar},
        x={"field": "LabelAt", "type": "quantitative", "scale": x_scale},
        text={"field": "Shown", "type": "nominal"},
    )
    names = layer(
        {"type": "text", "align": "left", "baseline": "bottom", "yOffset": -1, "fontSize": 13,
         "color": "#31333f"},
        x={"datum": 0, "type": "quantitative", "scale": x_scale},
        text={"field": "Name", "type": "nominal"},
    )  # fmt: skip
    layers = [bars, interval, text, names] if ranges else [bars, text, names]
    return {
        "data": {"values": df.to_dict("records")},
        "height": {"step": ROW_HEIGHT},
        "layer": layers,
    }


def draw_chart(slot, model: ToeTwitchModel, d: Diagnosis, ranges: Intervals | None) -> None:
    """The ranking chart in ``slot`` (an ``st.empty``): drawn again once the ranges are known."""
    with slot.container():
        top, p = d.ranking[0]
        st.subheader("Possible causes, most likely first")
        st.markdown(f"Most likely: **{model.vocabulary.causes[top].label}** ({percent(p)})")
        st.caption(
            "Each bar is the probability that this cause is behind the twitching, given your "
            "answers. Several causes can be present at once, so the bars need not add up to "
            "100%. The dark line on each bar is its 90% range: where the probability lands "
            "when every number of the model is redrawn within its plausible range "
            f"({UNCERTAINTY_DRAWS} draws)." + ("" if ranges else " The ranges are being computed…")
        )
        st.vega_lite_chart(ranking_chart(model, d, ranges), width="stretch")


def draw_cause_list(model: ToeTwitchModel, d: Diagnosis) -> None:
    """Every cause, ranked: probability, change since the start, the article's words."""
    st.subheader("What each cause means")
    rel = d.relative_to_prior
    with st.container(key="ranking"):
        for i, (cause, prob) in enumerate(d.ranking, start=1):
            info = model.vocabulary.causes[cause]
            lr = ratio_text(likelihood_ratio(d.prior[cause], prob))
            st.markdown(
                f"**{i}. {info.label}** · {percent(prob)} · *{relative_text(rel[cause])}* "
                f"· likelihood ratio {lr}  \n:gray[{plain(info.seed)}]"
            )
    st.caption(
        "“More likely than before your answers” compares the probability with the one before "
        "any answer. The likelihood ratio compares the odds: how much more often your answers "
        "are seen with this cause than without it (1 = no difference, above 1 points to it, "
        "below 1 away from it)."
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
            st.markdown(f"**{q.label}**  \n:gray[{q.gain_bits:.2f} bits · {reason}{chance}]")
    with buttons, st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        for value in answer_choices(model, q.finding):
            st.button(
                answer_label(value),
                key=ask_key(q.finding, value),
                on_click=state.set_answer,
                args=(q.finding, value),
                type="tertiary" if value == state.UNKNOWN else "secondary",
            )


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


def chosen_why_cause(model: ToeTwitchModel) -> str | None:
    """The cause picked in "Why?", or None to follow the first cause of the ranking."""
    cause = st.session_state.get(WHY_CAUSE)
    return cause if st.session_state.get(WHY_PICKED) and cause in model.causes else None


def weight_chart(df: pd.DataFrame) -> dict:
    """Vega-Lite: one bar per answer from zero, right for, left against; the answer above it."""
    order = list(df.sort_values("Weight", ascending=False)["Your answer"])
    low, high = min(0.0, df["Weight"].min()), max(0.0, df["Weight"].max())
    pad = 0.08 * (high - low or 1.0)
    x_scale = {"domain": [low - pad, high + pad], "nice": False}
    y = {"field": "Your answer", "type": "nominal", "sort": order, "axis": None}
    tooltip = [
        {"field": "Your answer", "type": "nominal"},
        {"field": "Likelihood ratio", "type": "quantitative", "format": ".3g"},
        {"field": "Weight", "type": "quantitative", "format": "+.2f"},
    ]
    bars = {
        "mark": {"type": "bar", "height": 14, "yOffset": 8, "cornerRadius": 2},
        "encoding": {
            "y": y,
            "tooltip": tooltip,
            "x": {
                "field": "Weight",
                "type": "quantitative",
                "scale": x_scale,
                "axis": {
                    "title": "Weight of evidence (natural log of the likelihood ratio)",
                    "tickCount": 6,
                },
            },
            "color": {
                "field": "Effect",
                "type": "nominal",
                "scale": {
                    "domain": ["supports", "opposes"],
                    "range": [SUPPORT_COLOUR, OPPOSE_COLOUR],
                },
                "legend": {"title": None, "orient": "top"},
            },
        },
    }
    names = {
        "mark": {"type": "text", "align": "left", "baseline": "bottom", "yOffset": -1,
                 "fontSize": 12, "color": "#31333f"},
        "encoding": {
            "y": y,
            "tooltip": tooltip,
            "x": {"datum": low - pad, "type": "quantitative", "scale": x_scale},
            "text": {"field": "Your answer", "type": "nominal"},
        },
    }  # fmt: skip
    data = {"values": df.to_dict("records")}
    return {"data": data, "height": {"step": ROW_HEIGHT}, "layer": [bars, names]}


def draw_why(model: ToeTwitchModel, view: CaseView) -> None:
    ex, evidence = view.why, view.evidence
    st.session_state[WHY_CAUSE] = ex.cause  # the picked cause, or the first one until one is
    st.selectbox(
        "Why does this cause have its probability?",
        model.causes,
        format_func=lambda c: model.vocabulary.causes[c].label,
        key=WHY_CAUSE,
        on_change=_pick_why,
    )
    name = short_cause(model, ex.cause)
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
            "Your answer": [
                f"{finding_label(model, c.finding)}: {answer_label(c.state)}" for c in rows
            ],
            "Effect": ["supports" if c.weight > 0 else "opposes" for c in rows],
            "Likelihood ratio": [c.likelihood_ratio for c in rows],
            "Weight": [c.weight for c in rows],
        }
    )
    st.vega_lite_chart(weight_chart(df), width="stretch")
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        column_config={
            "Your answer": st.column_config.TextColumn(width="large"),
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
def draw_what_if(model: ToeTwitchModel, view: CaseView) -> None:
    answer, d = view.what_if, view.diagnosis
    if answer is None:
        st.markdown("Every question is answered, so there is nothing left to try.")
        return
    session = st.session_state
    session[WHATIF_FINDING] = answer.finding  # as computed (a default until one is picked)
    session[WHATIF_STATE] = answer.state
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    left.selectbox(
        "If you answered…",
        view.what_if_options,
        format_func=lambda f: finding_label(model, f),
        key=WHATIF_FINDING,
    )
    right.segmented_control(
        "with",
        what_if_states(model, answer.finding),
        format_func=answer_label,
        required=True,
        key=WHATIF_STATE,
    )
    after = answer.diagnosis
    now = d.probabilities
    then = after.probabilities
    lines = [
        f"Chance of this answer, given your answers so far: **{percent(answer.chance)}**.",
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
            "Cause": [
                f"{i}. {model.vocabulary.causes[c].label}"
                for i, (c, _) in enumerate(after.ranking, start=1)
            ],
            "Now": [now[c] for c, _ in after.ranking],
            "If so": [p for _, p in after.ranking],
            "Change": [points(then[c] - now[c]) for c, _ in after.ranking],
            "Rank now": [rank_now[c] for c, _ in after.ranking],
        }
    )
    progress = {"format": "percent", "min_value": 0, "max_value": 1, "color": BAR_COLOUR}
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        key="what_if_table",
        column_config={
            "Cause": st.column_config.TextColumn(width="large"),
            "Now": st.column_config.ProgressColumn(width=90, **progress),
            "If so": st.column_config.ProgressColumn(width=90, **progress),
            "Rank now": st.column_config.NumberColumn(width="small"),
        },
    )
    st.button(
        f"Answer “{answer_label(answer.state)}” to this question",
        key=WHATIF_APPLY,
        icon=":material/check:",
        on_click=state.set_answer,
        args=(answer.finding, answer.state),
    )


def draw_reasoning(model: ToeTwitchModel, view: CaseView) -> None:
    """The three reasoning tools, in tabs, from one look-ahead of every next answer."""
    st.subheader("Look closer")
    ask, why, what_if = st.tabs(
        [":material/quiz: What to ask next", ":material/help: Why?", ":material/alt_route: What if"]
    )
    with ask:
        draw_ask_next(model, view.red_flag_questions, view.questions)
    with why, st.container(key="why"):
        draw_why(model, view)
    with what_if, st.container(key="what_if"):
        draw_what_if(model, view)


def draw_case_summary(model: ToeTwitchModel, explore_page) -> None:
    """The sidebar of the other pages: the case from Explore, and the way back to it."""
    evidence = state.evidence_from_state(model.findings)
    bar = st.sidebar
    bar.header("Your case")
    if evidence:
        bar.markdown(
            bullets(
                f"{finding_label(model, f)}: **{answer_label(v)}**" for f, v in evidence.items()
            )
        )
    else:
        bar.caption("No answers yet.")
    bar.page_link(explore_page, label="Change the answers on Explore", icon=":material/edit:")
    bar.caption(DISCLAIMER)


# ---------------------------------------------------------------- page
def render() -> None:
    st.html(PAGE_CSS)
    st.title("What might be causing your toe twitching?")
    st.info(f"**{DISCLAIMER}**", icon=":material/info:")

    model = session_model()
    draw_questions(model)
    evidence = state.evidence_from_state(model.findings)
    state.sync_url(evidence)
    draw_url_warnings()
    session = st.session_state
    try:
        view = explore_case(  # the one diagnose call and the one look-ahead of this rerun
            model,
            evidence,
            skipped=session.get(state.ASK_SKIPPED, []),
            why_cause=chosen_why_cause(model),
            what_if=(session.get(WHATIF_FINDING), session.get(WHATIF_STATE)),
        )
    except ToeTwitchError as exc:
        st.warning(f"These answers cannot be combined: {exc}")
        return
    d = view.diagnosis

    answered = len(evidence)
    st.caption(
        f"{answered} of {len(model.findings)} questions answered. "
        "The link in your address bar holds your answers: copy it to share or reload this case."
        if answered
        else "No answers yet: the ranking below is how common each cause is before any answer. "
        "Start with the questions in the sidebar."
    )
    with st.container(key="phone_hint"):
        st.caption(
            ":material/keyboard_double_arrow_right: **Tap » at the top left for all the "
            "questions.** The most useful ones can also be answered below, under “What to ask "
            "next”."
        )
    sp = current()
    if not sp.is_default:
        st.caption(f":material/tune: These results use {sp.describe()}; see the Tune priors page.")

    draw_banner(model, d)
    if d.urgency == "emergency":
        return  # nothing may distract from calling for help

    draw_red_flag_check(model, d)
    ranges = known_intervals(evidence)
    chart = st.empty()
    draw_chart(chart, model, d, ranges)
    draw_reasoning(model, view)
    left, right = st.columns([3, 2], gap="large")
    with left:
        draw_cause_list(model, d)
    with right:
        draw_when_to_see_doctor(d)
        draw_home_care(d)
    if ranges is None:  # last: the intervals never hold back the rest of the page
        draw_chart(chart, model, d, compute_intervals(model, evidence))
