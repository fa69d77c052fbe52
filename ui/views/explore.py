"""All questions: every question at once, the results beside them (the landing page on a
desktop; a click away from the guided questions).

The questions and the results (urgency, ranking, what to ask next, why, what if,
advice) are one fragment: an answer redraws them and nothing else of the page, in few
elements (each folded section, chart and table is one piece of HTML), and the 90%
ranges are drawn last, when they come.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import streamlit as st

from toe_twitch import Diagnosis, ImpossibleEvidenceError, ToeTwitchModel, interview
from toe_twitch.interview import CaseView, explore_case
from toe_twitch.priors import AGE_FINDING
from toe_twitch.ui import answers, charts, keys, session_priors, widgets
from toe_twitch.ui.answers import UNKNOWN
from toe_twitch.ui.text import (
    answer_label,
    bits,
    cause_label,
    cause_name,
    finding_question,
    percent,
    plural,
    points,
    times,
    urgency_title,
)
from toe_twitch.vocabulary import GROUPS

#: Emergency signs first, as in the interview; then as a clinician asks.
GROUP_ORDER = ("red_flags", "about_you", "when", "symptoms", "history")
ANSWER_OPTIONS = ("present", "absent", UNKNOWN)
IMPOSSIBLE = "impossible under these priors"


def question_groups(model: ToeTwitchModel, evidence: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Every question once, grouped; a question for other ages only if already answered."""
    groups: dict[str, list[str]] = {g: [] for g in GROUP_ORDER}
    for f in model.findings:
        group = model.vocabulary.findings[f].group or "history"
        if f in evidence or interview.applies(model, f, evidence):
            groups.setdefault(group, []).append(f)
    return [(GROUPS.get(g, g), fs) for g, fs in groups.items() if fs]


def _widget_value(finding: str) -> str | None:
    if finding in st.session_state.get(keys.ANSWERS, {}):
        return st.session_state[keys.ANSWERS][finding]
    return UNKNOWN if finding in st.session_state.get(keys.SKIPPED, []) else None


def _changed(finding: str) -> None:
    value = st.session_state.get(keys.question_key(finding))
    if value is None:
        answers.clear_answer(finding)
    else:
        answers.answer({finding: value})


def _answered_here(finding: str) -> None:
    state = st.session_state.get(keys.ask_key(finding))
    if state is not None:
        answers.answer({finding: state})


def question_list(model: ToeTwitchModel, evidence: dict[str, str]) -> None:
    st.html(
        '<h2 class="tt-heading">Your answers</h2><p class="tt-note">Answer what you know. '
        "An unanswered question is never read as a No.</p>"
    )
    for title, findings in question_groups(model, evidence):
        st.markdown(f"**{title}**")
        for f in findings:
            key = keys.question_key(f)
            st.session_state[key] = _widget_value(f)
            label = finding_question(model, f)
            if f == AGE_FINDING:
                st.selectbox(
                    label,
                    (*model.states[f], UNKNOWN),
                    index=None,
                    placeholder="Not answered",
                    format_func=answer_label,
                    key=key,
                    on_change=_changed,
                    args=(f,),
                )
            else:
                st.segmented_control(
                    label,
                    ANSWER_OPTIONS,
                    format_func=answer_label,
                    key=key,
                    on_change=_changed,
                    args=(f,),
                )
    st.button(
        "Clear every answer",
        key=keys.RESET,
        on_click=answers.reset,
        icon=":material/restart_alt:",
        width="stretch",
    )


# ---------------------------------------------------------------- look closer
def ask_next(model: ToeTwitchModel, found: list[interview.Candidate]) -> None:
    if not found:
        st.markdown("No question left to ask.")
        return
    st.caption("The questions that would tell the most now, best first. Answer them here.")
    for c in found:
        q = c.question
        st.segmented_control(
            finding_question(model, q.finding),
            ANSWER_OPTIONS,
            format_func=answer_label,
            key=keys.ask_key(q.finding),
            on_change=_answered_here,
            args=(q.finding,),
        )
        st.caption(interview.why_we_ask(model, c))
    st.html(
        '<div class="tt-details"><details><summary>Details: information gain</summary>'
        + charts.table(
            ["Question", "Expected gain", "Expected move", "Can change urgency"],
            [
                (
                    c.question.label,
                    bits(c.question.gain_bits),
                    f"{c.expected_shift * 100:.1f} pts",
                    "yes" if c.changes_urgency else "no",
                )
                for c in found
            ],
            "Information gain of each suggested question",
        )
        + "</details></div>"
    )


def why(model: ToeTwitchModel, view: CaseView) -> None:
    d, ex = view.diagnosis, view.why
    if st.session_state.get(keys.WHY_CAUSE) not in model.causes:
        st.session_state[keys.WHY_CAUSE] = ex.cause
    st.selectbox(
        "Why does this cause have its probability?",
        model.causes,
        format_func=lambda c: cause_label(model, c),
        key=keys.WHY_CAUSE,
    )
    summary = (
        f"{cause_name(model, ex.cause)}: {percent(ex.prior)} before any answer, "
        f"{percent(ex.posterior)} with these answers "
        f"({times(d.relative_to_prior.get(ex.cause))} than before)."
    )
    parts = [f"<p><strong>{html.escape(summary)}</strong></p>"]
    if not ex.contributions:
        parts.append(
            '<p class="tt-note">No answers yet: each answer will show here as for or against it.</p>'
        )
    else:
        parts.append(
            charts.bar_list(
                charts.weight_bars(model, ex.contributions), "Each answer's weight", "tt-weights"
            )
        )
        parts.append(
            '<p class="tt-note">Each answer\'s likelihood ratio: how many times more often it is '
            "seen when this cause is present than when it is absent, the other answers held as "
            "they are (above 1 points to the cause, below 1 away from it). The bar is its weight "
            "(the ratio's logarithm), relative to the strongest answer.</p>"
        )
    st.html("".join(parts))


def what_if_view(model: ToeTwitchModel, view: CaseView) -> None:
    d, finding = view.diagnosis, view.what_if_finding
    if finding is None:
        st.markdown("Every question is answered: nothing left to try.")
        return
    open_now = [f for f in model.findings if f not in view.evidence]
    st.session_state[keys.WHAT_IF_FINDING] = finding
    st.selectbox(
        "If you answered…",
        open_now,
        format_func=lambda f: finding_question(model, f),
        key=keys.WHAT_IF_FINDING,
    )
    now = d.probabilities
    columns = ["", "Now"]
    rows: list[list[str]] = [
        ["Chance of this answer", ""],
        ["Urgency", urgency_title(model, d.urgency)],
    ]
    rows += [[cause_name(model, c), percent(p)] for c, p in d.ranking]
    rows.append(["None of these causes", percent(d.no_listed_cause)])
    for w in view.what_if:
        columns.append(f"If {answer_label(w.state)}")
        if not w.possible:
            cells = [IMPOSSIBLE] + [""] * (len(rows) - 1)
        else:
            after = dict(w.ranking)
            cells = [percent(w.probability), urgency_title(model, w.urgency)]
            cells += [f"{percent(after[c])} ({points(after[c] - now[c])})" for c, _ in d.ranking]
            cells.append(percent(w.no_listed_cause))
        for row, cell in zip(rows, cells, strict=True):
            row.append(cell)
    st.html(charts.table(columns, rows, "What each answer would change"))


def look_closer(model: ToeTwitchModel, view: CaseView) -> None:
    st.header("Look closer", anchor=False)
    ask, reasons, whatif = st.tabs(
        [":material/quiz: What to ask next", ":material/help: Why?", ":material/alt_route: What if"]
    )
    with ask:
        ask_next(model, list(view.ask))
    with reasons:
        why(model, view)
    with whatif:
        what_if_view(model, view)


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{html.escape(summary)}</summary>{body}</details>"


def advice(model: ToeTwitchModel, d: Diagnosis) -> None:
    """The home advice checked for these answers (:func:`ui.widgets.advice_html`) and
    what each cause means, as one element. "What to do" is shown once, after the ranking."""
    causes = "".join(
        f"<p><strong>{html.escape(model.vocabulary.causes[c].label)}</strong> · {percent(p)} · "
        f"{times(d.relative_to_prior.get(c))} than before any answer<br>"
        f"{html.escape(model.vocabulary.causes[c].seed.strip())}</p>"
        for c, p in d.ranking
    )
    st.html(
        widgets.advice_html(d)
        + '<div class="tt-details">'
        + _details("What each cause means", causes)
        + "</div>"
    )


def results(model: ToeTwitchModel, evidence: dict[str, str]) -> Callable[[], None] | None:
    """The urgency first, then the ranking, what to ask next, why, what if and advice;
    returns what adds the 90% ranges (to call last), if anything."""
    sp = session_priors.current()
    skipped = answers.skipped()
    with st.container(key="results_panel"):
        try:
            view = explore_case(
                model.case(evidence),
                skipped,
                why_cause=st.session_state.get(keys.WHY_CAUSE),
                what_if_finding=st.session_state.get(keys.WHAT_IF_FINDING),
            )
        except ImpossibleEvidenceError:
            widgets.impossible(model, evidence, "results")
            return None
        d = view.diagnosis
        answered = bool(evidence)
        widgets.banner(model, d, answered)
        if not sp.is_shipped or sp.edits:
            session_priors.show_in_use(sp)
        if d.urgency == "emergency":
            return None
        widgets.unanswered_flags_note(d)
        finish = widgets.ranked_with_ranges(
            model,
            d,
            evidence,
            answered,
            f" {plural(len(evidence), 'question')} answered. The link in the address bar holds "
            "the answers: copy it to share or reload this case.",
        )
        st.html(widgets.next_steps_html(d))
        look_closer(model, view)
        advice(model, d)
    return finish


@st.fragment(key=keys.RESULTS_FRAGMENT)
@widgets.guarded("results")
def questions_and_results() -> None:
    """One fragment: an answer redraws the list and the results, nothing else (a rerun
    of a fragment named from a callback costs about 100 ms more than this)."""
    model = session_priors.session_model()
    evidence = answers.evidence(model)
    left, right = st.columns([3, 2], gap="large")
    with right:  # drawn first: the results end with their 90% ranges, the slowest part
        question_list(model, evidence)
    with left:
        finish = results(model, evidence)
    answers.sync_link()
    if finish is not None:
        finish()


def render() -> None:
    st.title("What might cause toe twitching?", anchor=False)
    widgets.disclaimer()
    guided_page = st.session_state.get(keys.PAGES, {}).get("guided")
    if guided_page is not None:
        st.page_link(
            guided_page,
            label="Prefer one question at a time? Use the guided questions",
            icon=":material/quiz:",
            query_params=answers.link_params(),
        )
    widgets.link_notes()
    questions_and_results()
