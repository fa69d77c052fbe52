"""The pieces every page shares: the disclaimer, the urgency banner, the ranking, the
messages for impossible answers and unexpected errors, uploads and long error lists.

Each is drawn by exactly one function here, so a page never writes its own copy.
Text from outside (links, files, notes) is only ever shown with ``st.text``/``st.code``
or in table cells, after :func:`ui.text.plain`.
"""

from __future__ import annotations

import functools
import html
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, NamedTuple, TypeVar

import streamlit as st

from toe_twitch import DISCLAIMER, Diagnosis, ToeTwitchModel
from toe_twitch.ui import answers, charts, keys, loaders, session_priors
from toe_twitch.ui.text import answer_label, every, finding_label, plain, plural, urgency_title

LOG = logging.getLogger("toe_twitch.page")
F = TypeVar("F", bound=Callable[..., Any])

#: How often a wait for background work looks for a newer click (seconds).
POLL_SECONDS = 0.025
#: Problems of a file listed on the page; the rest are counted and downloadable.
SHOWN_PROBLEMS = 12
#: Largest upload the page reads (the YAML reader's own limit).
MAX_UPLOAD_BYTES = 1_000_000
#: What the upload widget lets through, so that a larger file reaches the page and is
#: refused in visible words (the browser's own refusal is only a hover tooltip).
UPLOAD_WIDGET_MB = 10

BANNER_ICONS = {
    "self_care": ":material/check_circle:",
    "see_doctor": ":material/stethoscope:",
    "emergency": ":material/e911_emergency:",
}
#: Reason codes that explain the level (the notes are shown apart, or not at all).
NOTE_OUTSIDE = "note.outside_listed_causes"
NOTE_UNANSWERED_FLAGS = "note.unanswered_red_flags"
NOTE_SELF_CARE = "note.self_care"

PAGE_CSS = f"""<style>
{charts.CSS}
.st-key-disclaimer [data-testid="stMarkdownContainer"] {{ background: #eef4fb;
  border-radius: .5rem; padding: .5rem .75rem; }}
.st-key-disclaimer p {{ font-size: .92rem; margin: 0 !important; }}
[data-testid="stMainBlockContainer"] {{ padding-top: 3.5rem !important; }}
[data-testid="stMainBlockContainer"] h2 {{ font-size: 1.5rem; }}
[data-testid="stAlertContainer"] h2 {{ font-size: 1.25rem; padding: 0 0 .25rem 0; }}
/* Captions in a grey with 7:1 contrast on white (Streamlit fades them to 3.9:1). */
[data-testid="stCaptionContainer"] {{ opacity: 1 !important; }}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {{ color: #4b5563 !important; }}
[class*="st-key-iv_"] button {{ min-height: 3.1rem; font-size: 1.1rem; }}
[class*="st-key-iv_"] button p {{ font-size: 1.1rem; }}
.st-key-link_check, .st-key-reconnect_watch {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] span {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{
  content: "YAML, at most 1 MB"; font-size: .85rem; color: #4b5563; }}
[class*="st-key-rf_"] p, [class*="st-key-hs_"] p {{ font-size: 1rem; }}
/* Tap targets of at least 44 px (WCAG 2.5.5): the boxes' whole rows, the sidebar control. */
[class*="st-key-rf_"] label, [class*="st-key-hs_"] label {{ min-height: 44px; align-items: center;
  width: 100%; }}
.st-key-box_list {{ gap: .25rem !important; }}
[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapseButton"] button {{
  min-width: 44px !important; min-height: 44px !important; }}
/* An answer button keeps the focus into the next question (for the keyboard); without a
   keyboard that focus, or a finger's lingering hover or press, must not look like a
   choice on the next question: the button's resting look (the light theme's). */
[class*="st-key-iv_"] button[data-testid="stBaseButton-secondary"]:focus:not(:focus-visible):not(:active) {{
  border-color: rgba(47, 45, 43, 0.2); color: inherit; background-color: #fff; }}
@media (hover: none) {{
  [class*="st-key-iv_"] button[data-testid="stBaseButton-secondary"]:is(:hover, :active, :focus):not(:focus-visible) {{
    border-color: rgba(47, 45, 43, 0.2); color: inherit; background-color: #fff; }}
}}
[data-testid="stPageLink"] p {{ white-space: normal; }}
.tt-caution {{ color: #7c2d12; font-size: .9rem; margin: .1rem 0 .4rem 0; }}
.tt-caution::before {{ content: "⚠ "; }}
.tt-tip {{ margin: 0 0 .6rem 0; }}
.tt-left-out {{ background: #fff7ed; border-left: 4px solid #c2410c; border-radius: .25rem;
  padding: .4rem .75rem; margin: 0 0 .75rem 0; }}
.tt-left-out p, .tt-left-out ul {{ margin: 0; }}
@media (min-width: 1024px) {{
  .st-key-results_panel {{ position: sticky; top: 3.75rem; max-height: calc(100vh - 4.5rem);
    overflow-y: auto; padding-right: .5rem; }}
}}
@media (max-width: 640px) {{
  h1 {{ font-size: 1.25rem !important; padding: .25rem 0 .5rem 0 !important; }}
  .st-key-disclaimer p {{ font-size: .85rem !important; }}
  h2 {{ font-size: 1.2rem !important; padding: .5rem 0 .25rem 0 !important; }}
  h3 {{ font-size: 1.15rem !important; }}
  [data-testid="stMainBlockContainer"] {{ padding-top: 3.75rem !important; }}
}}
</style>"""


def page_style() -> None:
    st.html(PAGE_CSS)


def disclaimer() -> None:
    with st.container(key="disclaimer"):
        st.markdown(f":material/info: **{DISCLAIMER}**")


def link_notes() -> None:
    """What was left out of the link this page was opened with (plain text only)."""
    notes = st.session_state.get(keys.LINK_NOTES) or []
    if not notes:
        return
    with st.container(key="link_notes", border=True):
        st.markdown(":material/link_off: **Parts of the link you opened were not used:**")
        st.text("\n".join(f"• {n}" for n in answers.summarise_notes(notes)))


# ---------------------------------------------------------------- urgency
def _level_reasons(d: Diagnosis) -> list[str]:
    return [r.text for r in d.reasons if not r.code.startswith("note.")]


def banner(model: ToeTwitchModel, d: Diagnosis, answered: bool, compact: bool = False) -> None:
    """The urgency first: neutral before any answer, then the level, why, and what to do.

    ``compact`` (above the interview's question): the level and its first reason only.
    """
    if not answered and compact:  # above the interview's first screen: one short line
        st.caption("How common each cause is, before any answer:")
        return
    if not answered:
        st.info(
            "**Answer a few questions** to see how urgent this is and which causes fit best. "
            "Until then, the list shows how common each cause is in people with toe twitching.",
            icon=":material/quiz:",
        )
        return
    level = d.urgency
    alert = {"self_care": st.success, "see_doctor": st.warning, "emergency": st.error}[level]
    title = urgency_title(model, level)
    reasons = _level_reasons(d)
    if compact and level != "emergency":
        first = reasons[0] if reasons else "Nothing you have said so far calls for a doctor."
        alert(f"**So far: {title}.** {first}", icon=BANNER_ICONS[level])
        return
    if level != "emergency":
        # Short, so the ranking starts within the first phone screen; what to do comes
        # after the ranking (:func:`next_steps`).
        why = reasons or [d.advice.summary]
        body = [f"## {title}", "\n".join(f"- {r}" for r in why)]
        alert("\n\n".join(body), icon=BANNER_ICONS[level])
        return
    body = [f"## {title}", d.advice.summary]
    if reasons:
        body.append("**Why:**\n" + "\n".join(f"- {r}" for r in reasons))
    outside = [r.text for r in d.reasons if r.code == NOTE_OUTSIDE]
    if outside:
        body.append(outside[0])
    if d.advice.next_steps:
        body.append(
            "**Do this now:**\n"
            + "\n".join(f"{i}. {s}" for i, s in enumerate(d.advice.next_steps, 1))
        )
    alert("\n\n".join(body), icon=BANNER_ICONS[level])


def next_steps_html(d: Diagnosis) -> str:
    """What to do at this level (the article's advice), shown after the ranking."""
    a = d.advice
    parts = [f"<p>{html.escape(a.summary)}</p>"]
    if d.urgency == "see_doctor" and a.next_steps:
        parts.append(
            "<p><strong>Next steps</strong></p><ol>"
            + "".join(f"<li>{html.escape(x)}</li>" for x in a.next_steps)
            + "</ol>"
        )
    if d.urgency == "self_care" and a.when_to_see_doctor:
        parts.append(
            "<p><strong>See a doctor if</strong></p><ul>"
            + "".join(f"<li>{html.escape(x)}</li>" for x in a.when_to_see_doctor)
            + "</ul>"
        )
    return '<h2 class="tt-heading">What to do</h2>' + "".join(parts)


#: The kinds of advice item, as the page heads them.
ADVICE_KINDS = {
    "remedy": "Home remedies",
    "exercise": "Toe exercises",
    "prevention": "Prevention tips",
}


def _advice_item_html(item: Any) -> str:
    """One tip: its title and text, its steps, then its caution and notes, each in plain
    words under it."""
    head = f"<strong>{html.escape(item.title)}.</strong> " if item.title else ""
    parts = [f"<p>{head}{html.escape(item.text.strip())}</p>"]
    if item.steps:
        parts.append("<ol>" + "".join(f"<li>{html.escape(s)}</li>" for s in item.steps) + "</ol>")
    for line in (item.caution, *item.notes):
        if line:
            parts.append(f'<p class="tt-caution">{html.escape(line)}</p>')
    return f'<div class="tt-tip">{"".join(parts)}</div>'


def advice_html(d: Diagnosis) -> str:
    """The home advice of the diagnosis, as :func:`toe_twitch.advice.advice_for` checked it
    for these answers: one folded section per kind of tip, each caution under its tip, and
    what was left out for this person in one short note. Empty for an emergency."""
    a = d.advice
    if not a.items and not a.withheld_lines:
        return ""
    title = "Meanwhile, at home" if d.urgency == "see_doctor" else "What you can do at home"
    parts = [f'<h2 class="tt-heading">{title}</h2>']
    notes = [*a.withheld_lines, *a.general_notes]
    if notes:
        parts.append(
            '<div class="tt-left-out" role="note"><p><strong>Left out for you</strong></p><ul>'
            + "".join(f"<li>{html.escape(line)}</li>" for line in notes)
            + "</ul></div>"
        )
    parts.append('<div class="tt-details">')
    for kind, heading in ADVICE_KINDS.items():
        items = a.of_kind(kind)
        if items:
            body = "".join(_advice_item_html(i) for i in items)
            parts.append(f"<details><summary>{heading} ({len(items)})</summary>{body}</details>")
    parts.append("</div>")
    return "".join(parts)


def unanswered_flags_note(d: Diagnosis) -> None:
    if any(r.code == NOTE_UNANSWERED_FLAGS for r in d.reasons):
        n = len(d.unanswered_red_flags)
        st.caption(
            f":material/flag: {plural(n, 'emergency-sign question')} not answered yet. "
            "If any of them applies, call emergency services."
        )


# ---------------------------------------------------------------- ranking
RANKING_LABEL = "Possible causes, most likely first"


def ranking_note(ranges: loaders.Ranges | None, pending: bool) -> str:
    text = (
        "Each bar is the chance that this cause is behind the twitching, given the answers. "
        "Several causes can be present at once, so the bars need not add up to 100%. "
    )
    if ranges is not None and ranges.message:
        text += f"No 90% range: {ranges.message}"
    elif ranges is not None:
        text += (
            "The dark line on each bar, and the figures under each percentage, give its 90% "
            "range: where the probability lands when every number of the model is redrawn "
            f"within its plausible range ({ranges.draws} draws)."
        )
    elif pending:
        text += "The 90% ranges are being computed…"
    return text


def ranking_html(
    model: ToeTwitchModel,
    d: Diagnosis,
    answered: bool,
    ranges: loaders.Ranges | None = None,
    top: int | None = None,
    heading: bool = True,
    compact: bool = False,
    note: str = "",
) -> str:
    """The causes with their bars and the "none of these causes" row, as one piece of
    HTML (a heading, the list, a note): one element to send and draw."""
    usable = ranges if ranges and not ranges.message else None
    bars = charts.ranking_bars(
        model,
        d,
        usable.causes if usable else None,
        usable.no_listed_cause if usable else None,
        top=top,
    )
    title = RANKING_LABEL if answered else "How common each cause is, before any answer"
    parts = [f'<h2 class="tt-heading">{html.escape(title)}</h2>'] if heading else []
    parts.append(charts.bar_list(bars, RANKING_LABEL, "tt-compact" if compact else ""))
    if note:
        parts.append(f'<p class="tt-note">{html.escape(note)}</p>')
    return "".join(parts)


def emergency_instead_of_ranking(d: Diagnosis) -> None:
    """With an emergency sign no cause's percentage is shown as the explanation."""
    outside = [r.text for r in d.reasons if r.code == NOTE_OUTSIDE]
    st.markdown(
        "**No cause is ranked while an emergency sign is reported.** "
        + (outside[0] if outside else "")
    )


def ranking(
    model: ToeTwitchModel,
    d: Diagnosis,
    answered: bool,
    top: int | None = None,
    heading: bool = True,
    compact: bool = False,
) -> None:
    """The ranking without its ranges (above the interview's questions)."""
    if d.red_flags_present:
        emergency_instead_of_ranking(d)
        return
    st.html(ranking_html(model, d, answered, None, top, heading, compact))


#: How long a run waits for a case's 90% ranges (s) before drawing without them.
RANGES_INLINE_WAIT = 0.3


def ranked_with_ranges(
    model: ToeTwitchModel, d: Diagnosis, evidence: dict[str, str], answered: bool, extra: str = ""
) -> Callable[[], None]:
    """Draw the ranking now; return ``finish``, to call last in the run, which adds the
    90% ranges.

    The ranges come from :func:`model.uncertainty` in the worker process. ``finish``
    waits for them at most :data:`RANGES_INLINE_WAIT` (giving way to any newer click);
    later than that (a busy worker), the note says they are being computed and a small
    fragment looks every :data:`RANGES_LOOK_SECONDS` whether they have come, and then
    draws the page again with them (:func:`_ranges_watch`): the note never stays wrong
    while the page is open. ``extra`` is added to the note.
    """
    if d.red_flags_present:
        emergency_instead_of_ranking(d)
        return _nothing
    sp = session_priors.current()
    store = loaders.interval_store()
    key = store.key(sp.key, evidence)
    ranges = store.known(key)
    if ranges is not None:
        st.html(ranking_html(model, d, answered, ranges, note=ranking_note(ranges, False) + extra))
        return _nothing
    priors = None if sp.is_shipped else sp.priors
    future = store.request(
        key, priors, evidence, superseded=st.session_state.get(keys.PENDING_RANGES)
    )
    st.session_state[keys.PENDING_RANGES] = future
    slot = st.empty()
    waiting = ranking_html(model, d, answered, None, note=ranking_note(None, True) + extra)
    slot.html(waiting)

    def finish() -> None:
        ready = wait_for(future, RANGES_INLINE_WAIT)
        if ready is not None:
            slot.html(
                ranking_html(model, d, answered, ready, note=ranking_note(ready, False) + extra)
            )
            return
        # The watch is drawn *into* the slot (not into a container made in it): its own
        # container then takes the slot's place. Drawn into ``slot.container()``, the
        # container would belong to this run and the watch's first drawing to the watch,
        # and a click that interrupts this run makes Streamlit drop the first and send
        # the second, which the browser cannot place ("'setIn' cannot be called on an
        # ElementNode"; the page then loses its connection).
        with slot:
            _ranges_watch(future, waiting)

    return finish


#: How often an open page looks whether its 90% ranges have come (seconds).
RANGES_LOOK_SECONDS = 1.0


@st.fragment(run_every=RANGES_LOOK_SECONDS)
def _ranges_watch(future: Future, waiting: str) -> None:
    """The ranking while its ranges are computed; once they have come (or the work has
    ended otherwise), the page is drawn again, which shows them and ends this watch."""
    if future.done():
        st.rerun()
    st.html(waiting)


def _nothing() -> None:
    """Nothing left to draw."""


def wait_for(future: Future, timeout: float | None = None) -> Any:
    """The future's result (None after ``timeout`` seconds); a newer click in this
    session stops the wait (not the work)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except TimeoutError:
            if deadline is not None and time.monotonic() >= deadline:
                return None
            # Reading the session state is where Streamlit notices a newer rerun request
            # and stops this run; the background work goes on and keeps its result.
            _ = keys.ANSWERS in st.session_state


# ---------------------------------------------------------------- impossible answers
def impossible(model: ToeTwitchModel, evidence: dict[str, str], where: str) -> None:
    """Answers that cannot all be true under the priors in use: say which, offer a fix."""
    try:
        conflict = model.conflicting_answers(evidence)
    except Exception:  # noqa: BLE001 - the message below stands without the list
        conflict = {}
    st.warning(
        "**These answers cannot all be true under the priors in use**, so there is nothing "
        "to rank. Change one of them, or go back to the shipped priors.",
        icon=":material/block:",
    )
    if conflict:
        st.markdown(
            "\n".join(
                f"- {finding_label(model, f)}: **{answer_label(s)}**" for f, s in conflict.items()
            )
        )
        cols = st.columns(min(len(conflict), 3))
        for i, finding in enumerate(conflict):
            cols[i % len(cols)].button(
                f"Forget: {finding_label(model, finding)}",
                key=f"{where}_forget_{finding}",
                on_click=answers.clear_answer,
                args=(finding,),
                icon=":material/undo:",
            )
    if not session_priors.current().is_shipped:
        st.button(
            "Back to the shipped priors",
            key=f"{where}_{keys.BACK_TO_SHIPPED}",
            on_click=session_priors.use_shipped,
            icon=":material/settings_backup_restore:",
        )


# ---------------------------------------------------------------- unexpected errors
def _recover() -> None:
    session_priors.use_shipped()


def failure(where: str) -> None:
    """An unexpected error: logged on the server, a plain message and a way back here."""
    LOG.exception("unexpected error in %s", where)
    st.error(
        "**Something went wrong on this page.** Your answers are kept. Go back to the "
        "shipped priors, or reload the page.",
        icon=":material/error:",
    )
    st.button(
        "Back to the shipped priors",
        key=f"failure_{where}_{keys.BACK_TO_SHIPPED}",
        on_click=_recover,
        icon=":material/settings_backup_restore:",
        type="primary",
    )


def guarded(where: str) -> Callable[[F], F]:
    """Run a page or fragment so that an unexpected error never reaches the visitor.

    Streamlit's own control flow (reruns, stops) passes through: it is not an ``Exception``.
    """

    def decorate(render: F) -> F:
        @functools.wraps(render)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return render(*args, **kwargs)
            except Exception:  # noqa: BLE001 - the visitor sees a plain message instead
                failure(where)
                return None

        return run  # type: ignore[return-value]

    return decorate


# ---------------------------------------------------------------- files in and out
class Upload(NamedTuple):
    """A file a person chose: its name (plain, shortened), its bytes, and the id of this
    choice (choosing the same file again is a new choice, with a new id)."""

    name: str
    data: bytes
    choice: str


def upload(label: str, key: str, help_text: str) -> Upload | None:
    """An uploaded YAML file, or None; too large or not text is refused here in visible
    words."""
    file = st.file_uploader(
        f"{label} (YAML, at most 1 MB)",
        type=["yaml", "yml"],
        max_upload_size=UPLOAD_WIDGET_MB,
        key=key,
        help=help_text,
    )
    if file is None:
        return None
    name = plain(file.name, 80)
    if file.size > MAX_UPLOAD_BYTES:
        st.error(
            f"This file was not used: it is {file.size / 1e6:.1f} MB, and the limit is 1 MB.",
            icon=":material/block:",
        )
        st.text(name)
        return None
    data = file.getvalue()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        st.error(
            "This file was not used: it is not UTF-8 text (a YAML file is).",
            icon=":material/block:",
        )
        st.text(name)
        return None
    return Upload(name, data, file.file_id)


def problem_list(
    title: str, problems: Sequence[str], key: str, file_name: str, shown_name: str = ""
) -> None:
    """The first problems of a file as plain text, a count of the rest, and all of them as
    a download; ``shown_name`` (the file's, already plain) under the title."""
    st.error(title, icon=":material/block:")
    if shown_name:
        st.text(shown_name)
    shown = [plain(p, 300) for p in problems[:SHOWN_PROBLEMS]]
    st.code("\n".join(shown), language=None, wrap_lines=True)
    if len(problems) > SHOWN_PROBLEMS:
        st.caption(f"… and {plural(len(problems) - SHOWN_PROBLEMS, 'more problem')}.")
    st.download_button(
        f"Download {every(len(problems), 'problem')}",
        data="\n".join(problems) + "\n",
        file_name=file_name,
        mime="text/plain",
        key=key,
        icon=":material/download:",
        on_click="ignore",
    )


# ---------------------------------------------------------------- the case on other pages
def case_line(model: ToeTwitchModel, explore_page: Any) -> None:
    """One line on the other pages: how many answers, and the way back to change them."""
    evidence = answers.evidence(model)
    left, right = st.columns([3, 2], vertical_alignment="center")
    if evidence:
        shown = "; ".join(
            f"{finding_label(model, f)}: {answer_label(s)}" for f, s in list(evidence.items())[:4]
        )
        more = f" and {len(evidence) - 4} more" if len(evidence) > 4 else ""
        left.caption(f"Your case: {shown}{more}.")
    else:
        left.caption("Your case: no answers yet.")
    right.page_link(
        explore_page,
        label="Change the answers",
        icon=":material/edit:",
        query_params=answers.link_params(),
    )
