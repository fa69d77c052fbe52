"""Guided questions: the interview, one screen at a time (the landing page on a phone).

Above every screen, always: the urgency so far and the three likeliest causes with their
bars.
Then the emergency signs (one screen), the age, the health history (one screen), and one
question at a time chosen by the model (:mod:`ui.interview`), with large Yes / No /
Don't know buttons and Back, until the stop rule says no question is worth asking; then
the full results with the advice checked for the person.

The whole screen is one fragment: an answer redraws only it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from toe_twitch import Diagnosis, ImpossibleEvidenceError, ToeTwitchModel, interview
from toe_twitch.analysis import Question
from toe_twitch.priors import AGE_FINDING
from toe_twitch.ui import answers, keys, session_priors, widgets
from toe_twitch.ui.answers import UNKNOWN
from toe_twitch.ui.text import answer_label, bits, finding_label, percent

#: The answers offered for a yes/no question, in order, and their button keys' suffix.
YES_NO = ("present", "absent")
TOP_SHOWN = 3
#: The container of a screen's boxes (its rows are drawn close together).
BOX_LIST = "box_list"
UNSURE_OF_THE_SIGNS = (
    "Not sure? If any of these might be happening now, call emergency services (911, 999 "
    "or 112): they would rather check. If you are only unsure what a sign means, go on: "
    "the results will remind you of these signs."
)
SKIPPED_SIGNS = (
    "You were not sure about the emergency signs. If any of them might be happening now, "
    "call emergency services (911, 999 or 112)."
)


def _answer(finding: str, state: str) -> None:
    answers.answer({finding: state})


def _none_of_the_signs(flags: list[str]) -> None:
    answers.answer({f: "absent" for f in flags})


def _unsure_of_the_signs(flags: list[str]) -> None:
    answers.answer({f: UNKNOWN for f in flags})


def _tick_sign(finding: str) -> None:
    ticked = st.session_state.get(keys.red_flag_key(finding))
    answers.answer({finding: "present" if ticked else "absent"})


def _history_done(findings: list[str], rest: str) -> None:
    """The health screen's answers as one step: a ticked box is a Yes, the others
    ``rest`` ("absent" on Continue or None of these, "unknown" on I'm not sure)."""
    answers.answer(
        {f: "present" if st.session_state.get(keys.history_key(f)) else rest for f in findings}
    )


def _more() -> None:
    st.session_state[keys.INTERVIEW_MORE] = True


def _restart() -> None:
    answers.reset()


# ---------------------------------------------------------------- the screens
def red_flag_screen(model: ToeTwitchModel, evidence: dict[str, str], skipped: list[str]) -> None:
    flags = [f for f in model.vocabulary.red_flags if f not in evidence and f not in skipped]
    st.header("First: is any of these happening now?", anchor=False)
    st.caption("Tick any that applies.")
    with st.container(key=BOX_LIST):  # rows of 44 px, close together
        for f in flags:
            st.session_state[keys.red_flag_key(f)] = False  # unanswered (after Back, too)
            st.checkbox(
                finding_label(model, f),
                key=keys.red_flag_key(f),
                on_change=_tick_sign,
                args=(f,),
            )
    st.button(
        "None of these",
        key=keys.RED_FLAGS_NONE,
        on_click=_none_of_the_signs,
        args=(flags,),
        type="primary",
        width="stretch",
        icon=":material/check:",
    )
    st.caption(UNSURE_OF_THE_SIGNS)
    st.button(
        "I'm not sure",
        key=keys.RED_FLAGS_UNSURE,
        on_click=_unsure_of_the_signs,
        args=(flags,),
        width="stretch",
    )


def history_screen(model: ToeTwitchModel, findings: list[str]) -> None:
    """ "Does any of this apply to you?": the health history that changes the advice a
    person may be given (or the urgency), answered together as one step."""
    st.header("Does any of this apply to you?", anchor=False)
    st.caption(
        "Tick each that applies. Some home advice is not right with these (heat with "
        "diabetes, sports drinks with kidney disease), so we ask before giving it."
    )
    with st.container(key=BOX_LIST):
        for f in findings:
            st.checkbox(finding_label(model, f), key=keys.history_key(f))
    ticked = any(st.session_state.get(keys.history_key(f)) for f in findings)
    st.button(
        "Continue" if ticked else "None of these",
        key=keys.HISTORY_CONTINUE if ticked else keys.HISTORY_NONE,
        on_click=_history_done,
        args=(findings, "absent"),
        type="primary",
        width="stretch",
        icon=":material/arrow_forward:" if ticked else ":material/check:",
    )
    st.button(
        "I'm not sure",
        key=keys.HISTORY_UNSURE,
        on_click=_history_done,
        args=(findings, UNKNOWN),
        width="stretch",
        help="A ticked box still counts; the others are left unanswered.",
    )


def age_screen(model: ToeTwitchModel) -> None:
    st.header("How old is the person with the twitching?", anchor=False)
    st.caption(
        "Some causes are far more common at some ages (spinal muscular atrophy in babies, Parkinson's later in life)."
    )
    for state in model.states[AGE_FINDING]:
        st.button(
            answer_label(state),
            key=keys.interview_answer_key(AGE_FINDING, state),
            on_click=_answer,
            args=(AGE_FINDING, state),
            width="stretch",
        )
    st.button(
        "Don't know",
        key=keys.interview_answer_key(AGE_FINDING, UNKNOWN),
        on_click=_answer,
        args=(AGE_FINDING, UNKNOWN),
        width="stretch",
        type="tertiary",
    )


def question_screen(model: ToeTwitchModel, plan: interview.Plan) -> None:
    q: Question = plan.question
    candidate = plan.candidates[0]
    st.header(model.vocabulary.findings[q.finding].question, anchor=False)
    st.caption(interview.why_we_ask(model, candidate))
    states = model.states[q.finding]
    choices = YES_NO if tuple(sorted(states)) == ("absent", "present") else states
    # The same keys on every question: after a key press the focus stays on the buttons.
    with st.container(horizontal=True, key="iv_answers"):
        for state in choices:
            st.button(
                answer_label(state),
                key=f"iv_{state}",
                on_click=_answer,
                args=(q.finding, state),
                width="stretch",
            )
        st.button(
            "Don't know",
            key="iv_unknown",
            on_click=_answer,
            args=(q.finding, UNKNOWN),
            width="stretch",
        )
    with st.expander("Details for the curious", icon=":material/science:"):
        yes = q.predictive.get("present")
        lines = [
            f"- Expected information gain: {bits(q.gain_bits)} (how much the answer is "
            "expected to narrow down the causes).",
            f"- Expected move of the likeliest-moved cause: {candidate.expected_shift * 100:.1f} "
            "percentage points.",
        ]
        if yes is not None:
            lines.append(
                f"- People with the answers so far say Yes about {percent(yes)} of the time."
            )
        if candidate.changes_urgency:
            lines.append("- One of its answers would change the advice on urgency.")
        if candidate.changes_advice:
            lines.append("- Its answer could change the home advice shown.")
        st.markdown("\n".join(lines))


def progress(model: ToeTwitchModel, plan: interview.Plan, evidence: dict[str, str]) -> None:
    """Where the person is, saying only what is known: the first screens by name, then
    the number of this question (how many more depends on the answers)."""
    if plan.step in interview.FIRST_SCREENS:
        done = interview.FIRST_SCREENS.index(plan.step)
        names = ["Emergency signs", "Age", "Health history"]
        text = " · ".join(
            f"{name} ✓" if i < done else (f"**{name}**" if i == done else name)
            for i, name in enumerate(names)
        )
    else:
        n = interview.questions_asked(model, evidence, answers.skipped()) + 1
        text = (
            f"**Question {n}.** The questions stop as soon as no answer could change the "
            "advice or the picture much."
        )
    st.caption(text)


def emergency_screen() -> None:
    st.markdown("If you reported this by mistake, go back and change the answer.")


def done_screen(
    model: ToeTwitchModel, d: Diagnosis, evidence: dict[str, str]
) -> Callable[[], None]:
    st.header("That is enough questions for a fair picture", anchor=False)
    st.caption(interview.STOP_RULE)
    widgets.unanswered_flags_note(d)
    finish = widgets.ranked_with_ranges(model, d, evidence, answered=True)
    st.html(widgets.next_steps_html(d) + widgets.advice_html(d))
    explore_page = st.session_state.get(keys.PAGES, {}).get("explore")
    left, right = st.columns(2)
    left.button(
        "Answer more questions",
        key=keys.INTERVIEW_MORE_BUTTON,
        on_click=_more,
        width="stretch",
        icon=":material/add:",
    )
    if explore_page is not None:
        right.page_link(
            explore_page,
            label="Why, and what if: see the details",
            icon=":material/insights:",
            query_params=answers.link_params(),
        )
    return finish


# ---------------------------------------------------------------- the fragment
def nav_buttons() -> None:
    with st.container(horizontal=True, key="iv_nav"):
        st.button(
            "Back",
            key=keys.INTERVIEW_BACK,
            on_click=answers.back,
            disabled=not answers.can_go_back(),
            icon=":material/arrow_back:",
            width="stretch",
        )
        st.button(
            "Start again",
            key=keys.INTERVIEW_RESTART,
            on_click=_restart,
            disabled=not (st.session_state.get(keys.ANSWERS) or st.session_state.get(keys.SKIPPED)),
            icon=":material/restart_alt:",
            width="stretch",
            type="tertiary",
        )


@st.fragment(key=keys.INTERVIEW_FRAGMENT)
@widgets.guarded("interview")
def interview_screen() -> None:
    model = session_priors.session_model()
    evidence = answers.evidence(model)
    skipped = answers.skipped()
    try:
        case = model.case(evidence)
        d = case.diagnosis
        plan = interview.plan(case, skipped, more=bool(st.session_state.get(keys.INTERVIEW_MORE)))
    except ImpossibleEvidenceError:
        widgets.impossible(model, evidence, "interview")
        nav_buttons()
        answers.sync_link()
        return
    answered = bool(evidence)
    finish = None
    with st.container(key="iv_summary"):
        if plan.step == interview.EMERGENCY:
            widgets.banner(model, d, answered=True)
        else:
            widgets.banner(model, d, answered, compact=plan.step != interview.DONE)
            if plan.step != interview.DONE:
                widgets.ranking(model, d, answered, top=TOP_SHOWN, heading=False, compact=True)
    if plan.step == interview.EMERGENCY:
        emergency_screen()
    elif plan.step == interview.DONE:
        finish = done_screen(model, d, evidence)
    else:
        if plan.step != interview.RED_FLAGS:  # the first screen: as short as it can be
            if any(f in skipped for f in model.vocabulary.red_flags):
                st.warning(SKIPPED_SIGNS, icon=":material/flag:")
            progress(model, plan, evidence)
        if plan.step == interview.RED_FLAGS:
            red_flag_screen(model, evidence, skipped)
        elif plan.step == interview.AGE:
            age_screen(model)
        elif plan.step == interview.HISTORY:
            history_screen(model, interview.health_screen(model, evidence))
        else:
            question_screen(model, plan)
    nav_buttons()
    answers.sync_link()
    if finish is not None:
        finish()


def render() -> None:
    st.title("What might cause toe twitching?", anchor=False)
    widgets.disclaimer()
    widgets.link_notes()
    interview_screen()
