"""Tune priors: edit any number of the model and see what it does (for clinicians).

Every parameter of the priors is one row of a table; only its value can be edited. Each
edit is validated on the spot (``model.priors.with_values``): an invalid one is refused
with the validator's message and the model keeps the previous value; a valid one
rebuilds the model (once per distinct set of numbers) and shows its effect on the case
from the Explore page and on the clinical vignettes. The edits live in this browser
session only; ``priors/default.yaml`` is never written. Download them to keep them.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st
import yaml

from model import PriorsError, ToeTwitchError, ToeTwitchModel
from model.priors import PriorsFile, iter_parameters, parse_priors_text, priors_to_data
from ui import priors_state as ps
from ui import state
from ui.common import (
    BAR_COLOUR,
    answer_label,
    error_block,
    finding_label,
    markdown_escape,
    points,
    short_cause,
    urgency_badge,
    urgency_label,
)
from ui.loaders import state_label
from ui.vignette_data import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, default_vignettes, mark, outcomes

EDITOR_VERSION = "tune_editor_version"
FILTER = "tune_filter"
NAME = "tune_name"
NOTE = "tune_note"
UPLOAD = "tune_upload"
UPLOAD_SEEN = "tune_upload_seen"
UPLOAD_MESSAGE = "tune_upload_message"
DOWNLOAD = "tune_download"
UNDO_REJECTED = "tune_undo_rejected"
UNDO_ALL = "tune_undo_all"
BACK_TO_DEFAULT = "tune_back_to_default"
GROUPS = {
    "age_groups": "age group",
    "risk_factors": "risk factor",
    "causes": "cause",
    "findings": "finding",
    "urgency": "urgency",
}
SECTION_TITLES = {
    "age_groups": "Age groups: share of people with toe twitching",
    "risk_factors": "Risk factors: prevalence by age group",
    "causes": "Causes: prevalence by age group and odds ratios",
    "findings": "Findings: leaks and link probabilities",
    "urgency": "Urgency: thresholds of the serious causes",
}
EDITABLE = "value"
COLUMNS = ["cause", "parameter", "value", "low", "high", "kind", "source", "path"]
LOCKED = [c for c in COLUMNS if c != EDITABLE]
#: The "cause" of parameters that belong to no single cause, by section.
SHARED = {
    "age_groups": "(all) age groups",
    "risk_factors": "(all) risk factors",
    "findings": "(all) leaks",
}


def editor_key(version: int, view: str) -> str:
    """Key of the parameter table: a new key (a fresh table) per version and per view."""
    return f"tune_editor_{version}_{view}"


# ---------------------------------------------------------------- the parameter table
def cause_of(path: str) -> str | None:
    """The cause a parameter belongs to (prevalence, odds ratio, link, threshold), or None.

    >>> cause_of("findings.leg_pain.links.plmt"), cause_of("findings.leg_pain.leak")
    ('plmt', None)
    """
    parts = path.split(".")
    if parts[0] == "causes":
        return parts[1]
    if parts[0] == "findings" and parts[2] == "links":
        return parts[3]
    if parts[0] == "urgency":
        return parts[-1]
    return None


def parameter_label(model: ToeTwitchModel, path: str) -> str:
    """What the number is, in words: ``odds ratio if: has diabetes``."""
    parts = path.split(".")
    findings = model.vocabulary.findings

    def named(finding: str) -> str:
        return findings[finding].label if finding in findings else finding

    section = parts[0]
    if section == "age_groups":
        return f"share of people with toe twitching: {state_label(parts[1]).lower()}"
    if section == "risk_factors":
        return f"{named(parts[1])}: prevalence, {state_label(parts[3]).lower()}"
    if section == "causes" and parts[2] == "prevalence":
        return f"prevalence, {state_label(parts[3]).lower()}"
    if section == "causes":
        return f"odds ratio if: {named(parts[3])[:1].lower()}{named(parts[3])[1:]}"
    if section == "findings" and parts[2] == "leak":
        return f"{named(parts[1])}: leak (any other reason)"
    if section == "findings":
        return f"link → {named(parts[1])}"
    return "urgency: threshold for seeing a doctor"


def parameter_table(
    model: ToeTwitchModel, priors: PriorsFile, values: dict[str, float]
) -> pd.DataFrame:
    """Every parameter, one row each, grouped by cause (then the shared ones)."""
    order = {c: i for i, c in enumerate(model.causes)}
    sections = list(GROUPS)
    rows = []
    for p in iter_parameters(priors):
        cause = cause_of(p.path)
        section = p.path.split(".")[0]
        rows.append(
            {
                "cause": short_cause(model, cause) if cause else SHARED[section],
                "parameter": parameter_label(model, p.path),
                "value": float(values.get(p.path, p.value)),
                "low": p.low,
                "high": p.high,
                "kind": p.kind,
                "source": p.source,
                "path": p.path,
                "_order": (0, order.get(cause, len(order)))
                if cause
                else (1, sections.index(section)),
            }
        )
    rows.sort(key=lambda r: r["_order"])  # stable: file order within each group
    return pd.DataFrame(rows, columns=COLUMNS)


def about_cause(path: str, cause: str) -> bool:
    """Whether a parameter concerns the cause: its prevalence, odds ratios, links, threshold."""
    parts = path.split(".")
    return (
        (parts[0] == "causes" and parts[1] == cause)
        or (parts[0] == "findings" and parts[2:4] == ["links", cause])
        or (parts[0] == "urgency" and parts[-1] == cause)
    )


def in_view(path: str, view: str) -> bool:
    kind, _, what = view.partition(":")
    if kind == "section":
        return path.split(".")[0] == what
    if kind == "cause":
        return about_cause(path, what)
    return True


def view_options(model: ToeTwitchModel) -> list[str]:
    return ["all", *(f"section:{s}" for s in GROUPS), *(f"cause:{c}" for c in model.causes)]


def view_label(model: ToeTwitchModel, view: str, paths: list[str]) -> str:
    n = sum(in_view(p, view) for p in paths)
    kind, _, what = view.partition(":")
    if kind == "section":
        return f"{SECTION_TITLES[what]} ({n})"
    if kind == "cause":
        return f"Everything about {short_cause(model, what)} ({n})"
    return f"All parameters, grouped by cause ({n})"


def _bump_editor() -> None:
    st.session_state[EDITOR_VERSION] = st.session_state.get(EDITOR_VERSION, 0) + 1


def _undo_all() -> None:
    ps.store_edits(ps.EditResult({}, None, {}))
    _bump_editor()


def _back_to_default() -> None:
    ps.use_default()
    st.session_state.pop(UPLOAD_MESSAGE, None)
    st.session_state[NAME] = "default-tuned"
    _bump_editor()


def draw_editor(model: ToeTwitchModel, sp: ps.SessionPriors) -> ps.SessionPriors:
    """The table of every parameter; returns the session's priors after this run's edits."""
    paths = [p.path for p in iter_parameters(sp.base)]
    options = view_options(model)
    if st.session_state.get(FILTER) not in options:
        st.session_state[FILTER] = "all"
    view = st.selectbox(
        "Show",
        options,
        format_func=lambda v: view_label(model, v, paths),
        key=FILTER,
        help="Pick a group, or a cause to see its prevalence, odds ratios, links and threshold.",
    )
    values = {**ps.base_values(sp.base), **sp.edits}
    table = parameter_table(model, sp.base, values)
    table = table[[in_view(p, view) for p in table["path"]]].reset_index(drop=True)
    version = st.session_state.get(EDITOR_VERSION, 0)
    edited = st.data_editor(
        table,
        key=editor_key(version, view),
        hide_index=True,
        width="stretch",
        height=420,
        disabled=LOCKED,
        column_config={
            "cause": st.column_config.TextColumn("cause", width=150, pinned=True),
            "parameter": st.column_config.TextColumn("parameter", width=320),
            "value": st.column_config.NumberColumn(
                "value ✎",
                format="plain",
                width=90,
                help="The number the model uses. Keep it within low and high and within the "
                "bounds of its kind (a probability stays between 0 and 1).",
            ),
            "low": st.column_config.NumberColumn("low", format="plain", width=70),
            "high": st.column_config.NumberColumn("high", format="plain", width=70),
            "kind": st.column_config.TextColumn("kind", width=110),
            "source": st.column_config.TextColumn("source", width="large"),
            "path": st.column_config.TextColumn(
                "path", width="medium", help="The parameter's place in the priors file."
            ),
        },
    )
    base = ps.base_values(sp.base)
    wanted = dict(sp.edits)
    for path, value in zip(edited["path"], edited["value"], strict=True):
        if value == base[path]:
            wanted.pop(path, None)
        else:
            wanted[path] = value
    if wanted != sp.edits:
        result = ps.resolve_edits(sp.base, sp.edits, wanted)
        ps.store_edits(result)
        if result.rejected:
            draw_rejected(result.rejected, values)
    sp = ps.current()
    st.caption(
        "Only the **value** column can be edited (double-click a cell, type, press Enter). "
        "Each edit is checked at once, with the same rules as `toe-twitch validate-priors`."
    )
    draw_edit_list(sp)
    return sp


def draw_rejected(rejected: dict[str, PriorsError], previous: dict[str, float]) -> None:
    problems = [p for exc in rejected.values() for p in exc.problems]
    text = str(PriorsError(ps.EDIT_SOURCE, problems))
    n = len(rejected)
    keeps = "; ".join(f"{markdown_escape(path)} stays {previous[path]:g}" for path in rejected)
    st.error(
        error_block(
            f"{n} edit{'s were' if n > 1 else ' was'} not applied: "
            f"{'they break' if n > 1 else 'it breaks'} a rule of the priors.",
            text,
        )
        + f"\n\nThe model keeps the previous value ({keeps}). Correct the cell, or undo it.",
        icon=":material/block:",
    )
    st.button(
        "Undo the edits that were not applied",
        key=UNDO_REJECTED,
        icon=":material/undo:",
        on_click=_bump_editor,
    )


def draw_edit_list(sp: ps.SessionPriors) -> None:
    if not sp.edits:
        return
    base = ps.base_values(sp.base)
    df = pd.DataFrame(
        {
            "path": list(sp.edits),
            "was": [base[p] for p in sp.edits],
            "now": list(sp.edits.values()),
        }
    )
    n = len(sp.edits)
    st.markdown(f"**Your {n} edit{'s' if n != 1 else ''}** (applied to the model)")
    st.dataframe(
        df,
        hide_index=True,
        width="content",
        key="tune_edit_list",
        column_config={
            "path": st.column_config.TextColumn(width="large"),
            "was": st.column_config.NumberColumn(format="plain"),
            "now": st.column_config.NumberColumn(format="plain"),
        },
    )
    st.button("Undo all edits", key=UNDO_ALL, icon=":material/restart_alt:", on_click=_undo_all)


# ---------------------------------------------------------------- live effect
def case_text(model: ToeTwitchModel, evidence: dict[str, str]) -> str:
    if not evidence:
        return (
            "No answers on the Explore page yet, so the case is “anyone with toe twitching”: "
            "the ranking before any answer."
        )
    answers = "; ".join(
        f"{finding_label(model, f)}: {answer_label(v)}" for f, v in evidence.items()
    )
    return f"The case is your answers on the Explore page: {answers}."


def draw_case_effect(
    before_model: ToeTwitchModel, after_model: ToeTwitchModel, tuned: bool
) -> None:
    st.subheader("The current case")
    evidence = state.evidence_from_state(after_model.findings)
    st.caption(case_text(after_model, evidence))
    try:
        before = before_model.diagnose(evidence)
        after = after_model.diagnose(evidence)
    except ToeTwitchError as exc:
        st.warning(f"These answers cannot be combined: {exc}")
        return
    was = before.probabilities
    if before.urgency != after.urgency:
        st.markdown(
            f"Urgency: {urgency_badge(after_model, before.urgency)} → "
            f"{urgency_badge(after_model, after.urgency)}"
        )
    else:
        st.markdown(f"Urgency: {urgency_badge(after_model, after.urgency)} (unchanged)")
    rank_before = {c: i for i, (c, _) in enumerate(before.ranking, start=1)}
    df = pd.DataFrame(
        {
            "Cause": [
                f"{i}. {short_cause(after_model, c)}"
                for i, (c, _) in enumerate(after.ranking, start=1)
            ],
            "Before": [was[c] for c, _ in after.ranking],
            "After": [p for _, p in after.ranking],
            "Change": [points(p - was[c]) for c, p in after.ranking],
            "Was #": [rank_before[c] for c, _ in after.ranking],
        }
    )
    with st.container(key="tune_case"):
        st.dataframe(
            df,
            hide_index=True,
            width="stretch",
            column_config={
                "Cause": st.column_config.TextColumn(width=160),
                "Before": st.column_config.ProgressColumn(
                    format="percent", min_value=0, max_value=1, color=BAR_COLOUR, width=90
                ),
                "After": st.column_config.ProgressColumn(
                    format="percent", min_value=0, max_value=1, color=BAR_COLOUR, width=90
                ),
                "Change": st.column_config.TextColumn(width=65),
                "Was #": st.column_config.NumberColumn(width=60, help="Its rank before the edits"),
            },
        )
    if not tuned:
        st.caption("No edits yet: before and after are the same.")


def _score(summary: dict, key: str) -> str:
    value = summary.get(key)
    return "–" if value is None else f"{value:.1%}"


def draw_vignette_effect(
    sp: ps.SessionPriors, before_model: ToeTwitchModel, after_model: ToeTwitchModel
) -> None:
    st.subheader("The clinical vignettes")
    try:
        vs = default_vignettes()
    except Exception as exc:  # VignetteError or a missing file: say so, keep the page
        st.error(error_block("The vignettes could not be read.", str(exc)))
        return
    rows_before, sum_before = outcomes(ps.key_of(sp.base), vs.key, before_model, vs.vignettes)
    rows_after, sum_after = outcomes(ps.key_of(sp.priors), vs.key, after_model, vs.vignettes)
    scores = [
        ("First cause right", "top1_accuracy"),
        ("Expected in top 3", "top3_accuracy"),
        ("Urgency as expected", "urgency_accuracy"),
    ]
    parts = []
    for label, key in scores:
        a, b = _score(sum_before, key), _score(sum_after, key)
        parts.append(f"{label} **{b}**" + (f" (was {a})" if a != b else ""))
    ua, ub = sum_before["under_triaged"], sum_after["under_triaged"]
    parts.append(f"Under-triaged **{ub}**" + (f" (was {ua})" if ua != ub else ""))
    st.markdown(" · ".join(parts))
    changed = [
        (a, b)
        for a, b in zip(rows_before, rows_after, strict=True)
        if a["top"] != b["top"] or a["urgency"] != b["urgency"]
    ]
    if not changed:
        st.caption(
            f"None of the {len(rows_after)} vignettes in {vs.label} changes its first cause "
            "or its urgency with these priors."
        )
        return
    st.markdown(
        f"**{len(changed)} of {len(rows_after)} vignettes change** their first cause or urgency:"
    )
    df = pd.DataFrame(
        {
            "Vignette": [b["id"] for _, b in changed],
            "First cause before": [short_cause(after_model, a["top"]) for a, _ in changed],
            "First cause after": [short_cause(after_model, b["top"]) for _, b in changed],
            "Top-1": [f"{mark(a['top1_ok'])} → {mark(b['top1_ok'])}" for a, b in changed],
            "Urgency before": [urgency_label(after_model, a["urgency"]) for a, _ in changed],
            "Urgency after": [urgency_label(after_model, b["urgency"]) for _, b in changed],
            "Urgency ok": [
                f"{mark(a['urgency_ok'])} → {mark(b['urgency_ok'])}" for a, b in changed
            ],
        }
    )
    st.dataframe(df, hide_index=True, width="stretch", key="tune_vignettes")


# ---------------------------------------------------------------- save and load
def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "priors"


@st.cache_data(show_spinner=False, max_entries=32)
def _yaml_text(
    priors_key: str, name: str, description: str, header: str, _priors: PriorsFile
) -> str:
    data = priors_to_data(_priors)
    data["name"] = name
    data["description"] = description
    body = yaml.safe_dump(
        data, sort_keys=False, default_flow_style=None, allow_unicode=True, width=4096
    )
    return header + body


def priors_yaml(sp: ps.SessionPriors, name: str, note: str) -> str:
    """The session's priors as a YAML file, with ``name`` and the note as ``description``."""
    base = ps.base_values(sp.base)
    header = [
        "# Priors of the toe-twitching model, saved from the Tune priors page.",
        f"# Started from the {sp.base_label}.",
    ]
    if sp.edits:
        header.append("# Edits (path: was -> now):")
        header += [f"#   {p}: {base[p]:g} -> {v:g}" for p, v in sp.edits.items()]
    else:
        header.append("# No edits.")
    header.append("# Check it with: toe-twitch validate-priors FILE")
    description = " ".join(note.split()) or sp.priors.description
    return _yaml_text(
        ps.key_of(sp.priors),
        name.strip() or sp.priors.name,
        description,
        "\n".join(header) + "\n",
        sp.priors,
    )


def load_upload(name: str, data: bytes, edits_before: int) -> tuple[str, str]:
    """Validate an uploaded priors file and use it if valid: ``(kind, message)``."""
    shown = markdown_escape(name)
    if len(data) > MAX_UPLOAD_BYTES:
        return (
            "error",
            f"**{shown} was not loaded**: it is {len(data) / 1e6:.1f} MB; the limit is 1 MB.",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "error", f"**{shown} was not loaded**: it is not UTF-8 text (a YAML file is)."
    try:
        priors = parse_priors_text(text, source=name)
    except PriorsError as exc:
        n = len(exc.problems)
        return "error", error_block(
            f"{shown} was not loaded: {n} problem{'s' if n != 1 else ''} found. "
            "The priors in use are unchanged.",
            str(exc),
        )
    ps.set_base(priors, f"uploaded file {name}")
    st.session_state[NAME] = f"{priors.name}-tuned"
    _bump_editor()
    dropped = f" Your {edits_before} earlier edit(s) were set aside." if edits_before else ""
    count = sum(1 for _ in iter_parameters(priors))
    return "success", (
        f"Loaded **{shown}** (“{markdown_escape(priors.name)}”, {count} parameters): the model "
        f"now uses it on every page of this session.{dropped}"
    )


def draw_upload(sp: ps.SessionPriors) -> None:
    st.subheader("Load a priors file", anchor=False)
    up = st.file_uploader(
        f"A priors YAML file (at most {MAX_UPLOAD_MB} MB)",
        type=["yaml", "yml"],
        max_upload_size=MAX_UPLOAD_MB,
        key=UPLOAD,
        help="Checked first with the same rules as `toe-twitch validate-priors`; used only "
        "if it is valid. Nothing in the file is ever run.",
    )
    session = st.session_state
    if up is None:
        session.pop(UPLOAD_SEEN, None)
        session.pop(UPLOAD_MESSAGE, None)
    elif session.get(UPLOAD_SEEN) != up.file_id:
        session[UPLOAD_SEEN] = up.file_id
        session[UPLOAD_MESSAGE] = load_upload(up.name, up.getvalue(), len(sp.edits))
        if session[UPLOAD_MESSAGE][0] == "success":
            st.rerun()  # draw the whole page again with the new priors
    message = session.get(UPLOAD_MESSAGE)
    if message:
        kind, text = message
        (st.error if kind == "error" else st.success)(text)
    if ps.current().base_label != ps.DEFAULT_LABEL:
        st.button(
            "Back to the shipped priors",
            key=BACK_TO_DEFAULT,
            icon=":material/settings_backup_restore:",
            on_click=_back_to_default,
        )


def draw_download(sp: ps.SessionPriors) -> None:
    st.subheader("Download these priors", anchor=False)
    if NAME not in st.session_state:
        st.session_state[NAME] = f"{sp.base.name}-tuned"
    name = st.text_input("Name", key=NAME, max_chars=80)
    note = st.text_area(
        "Note, saved as the file's description",
        key=NOTE,
        max_chars=2000,
        placeholder="What you changed and why, with your sources",
        height=90,
    )
    text = priors_yaml(sp, name, note)
    st.download_button(
        f"Download {slug(name)}.yaml",
        data=text,
        file_name=f"{slug(name)}.yaml",
        mime="application/x-yaml",
        key=DOWNLOAD,
        icon=":material/download:",
        on_click="ignore",
        type="primary",
    )
    st.caption(
        "Use the file with `toe-twitch diagnose --priors FILE` or load it here again later. "
        "The shipped priors/default.yaml is never changed."
    )


# ---------------------------------------------------------------- page
def render() -> None:
    st.title("Tune the priors")
    st.markdown(
        "For clinicians: every number of the model, one row each, with its plausible range "
        "and its source. Change a **value** and see at once what it does to the case on the "
        "Explore page and to the clinical vignettes."
    )
    sp = ps.current()
    st.caption(
        f":material/lock: Your edits stay in this browser session only and apply to every "
        f"page of it; nobody else sees them. Starting point: the {markdown_escape(sp.base_label)}."
    )
    model = ps.session_model()
    sp = draw_editor(model, sp)

    st.divider()
    before_model = ps.model_for(sp.base)
    after_model = ps.session_model()
    st.header("What the edits change", anchor=False)
    left, right = st.columns(2, gap="large")
    with left:
        draw_case_effect(before_model, after_model, bool(sp.edits))
    with right:
        draw_vignette_effect(sp, before_model, after_model)

    st.divider()
    st.header("Save or load", anchor=False)
    left, right = st.columns(2, gap="large")
    with right:  # first: a new file replaces the priors the download would save
        draw_upload(sp)
    with left:
        draw_download(ps.current())
