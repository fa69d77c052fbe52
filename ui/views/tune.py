"""Tune priors: edit any number of the model and see what it does (for clinicians).

Every parameter is one row of a table; only its value can be edited. Each edit is
checked at once (:func:`toe_twitch.priors.with_values`, then a model is built): a refused
value is not used, its cell goes back to the value in force and is marked, and the
reason stands beside the table. Accepted edits rebuild the model (once per distinct set
of numbers) and show their effect on the current case and on the shipped vignettes.
Edits live in this browser session only; ``priors/default.yaml`` is never written.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st
import yaml

from toe_twitch import PriorsError, ToeTwitchError, ToeTwitchModel
from toe_twitch.priors import (
    DEFINITIONS,
    JUDGEMENT_PREFIX,
    MAX_SOURCE_CHARS,
    definition_key,
    iter_parameters,
    parse_priors_text,
    priors_to_data,
    source_counts,
)
from toe_twitch.ui import charts, keys, loaders, session_priors, widgets
from toe_twitch.ui.session_priors import SessionPriors
from toe_twitch.ui.text import (
    cause_name,
    plain,
    plural,
)
from toe_twitch.ui.views.learn import render_learn
from toe_twitch.ui.views.tune_effects import draw_effects
from toe_twitch.ui.views.tune_labels import cause_of, grid_label, row_label

SECTIONS = {
    "age_groups": "Age groups: share of the population",
    "risk_factors": "Risk factors: prevalence by age group",
    "causes": "Causes: prevalence by age group and odds ratios",
    "findings": "Findings: leaks and link probabilities",
    "urgency": "Urgency: thresholds of the serious causes",
}
SHARED = {
    "age_groups": "(all) age groups",
    "risk_factors": "(all) risk factors",
    "findings": "(all) leaks",
}
EDITABLE = "value"
#: The parameter (pinned) and its value first: on a phone they are what fits. The cause's
#: name leads the parameter's (one name per cause, the one every page uses).
COLUMNS = ["parameter", "value", "check", "low", "high", "kind", "source", "path"]
REFUSED_MARK = "✗ refused"
#: The row whose full label, numbers and source stand beside the grid.
DETAIL = "tune_detail"


def editor_key(version: int, view: str) -> str:
    """The table's key: a fresh table per version (after a refusal or an undo) and view."""
    return f"tune_editor_{version}_{view.replace(':', '_')}"


def _bump_editor() -> None:
    st.session_state[keys.TUNE_EDITOR_VERSION] = (
        st.session_state.get(keys.TUNE_EDITOR_VERSION, 0) + 1
    )


# ---------------------------------------------------------------- the table
def one_cause(view: str) -> bool:
    """Whether the view shows one cause's parameters only (so its name need not repeat)."""
    return view.partition(":")[0] == "cause"


def in_view(path: str, view: str) -> bool:
    kind, _, what = view.partition(":")
    if kind == "section":
        return path.split(".")[0] == what
    if kind == "cause":
        return cause_of(path) == what
    return True


def parameter_table(
    model: ToeTwitchModel, sp: SessionPriors, view: str, refused: dict[str, tuple[object, str]]
) -> pd.DataFrame:
    """The parameters in view, grouped by cause (then the shared ones), values in force;
    rows of refused edits first, so that the fresh grid shows them."""
    order = {c: i for i, c in enumerate(model.causes)}
    sections = list(SECTIONS)
    values = {**session_priors.base_values(sp.base), **sp.edits}
    rows = []
    for p in iter_parameters(sp.base):
        if not in_view(p.path, view):
            continue
        cause = cause_of(p.path)
        section = p.path.split(".")[0]
        tried = refused.get(p.path)
        rows.append(
            {
                "parameter": grid_label(model, p.path, with_cause=not one_cause(view)),
                "value": float(values[p.path]),
                "check": f"{REFUSED_MARK}: {plain(tried[0], 16)}"
                if tried
                else ("✎ edited" if p.path in sp.edits else ""),
                "low": p.low,
                "high": p.high,
                "kind": p.kind,
                "source": plain(p.source, 300),
                "path": p.path,
                "_order": (
                    p.path not in refused,
                    (0, order[cause]) if cause in order else (1, sections.index(section)),
                ),
            }
        )
    rows.sort(key=lambda r: r["_order"])
    return pd.DataFrame(rows, columns=COLUMNS)


def view_options(model: ToeTwitchModel) -> list[str]:
    return ["all", *(f"section:{s}" for s in SECTIONS), *(f"cause:{c}" for c in model.causes)]


def view_label(model: ToeTwitchModel, view: str) -> str:
    kind, _, what = view.partition(":")
    if kind == "section":
        return SECTIONS[what]
    if kind == "cause":
        return f"Everything about {cause_name(model, what)}"
    return "All parameters, grouped by cause"


def draw_grid(table: pd.DataFrame, view: str) -> pd.DataFrame:
    """The editable grid (only the value column can change); returns what it holds."""
    version = st.session_state.get(keys.TUNE_EDITOR_VERSION, 0)
    edited = st.data_editor(
        table,
        key=editor_key(version, view),
        hide_index=True,
        width="stretch",
        height=380,
        disabled=[c for c in COLUMNS if c != EDITABLE],
        column_config={
            "parameter": st.column_config.TextColumn("parameter", width=230, pinned=True),
            "value": st.column_config.NumberColumn(
                "value ✎", format="plain", width=90,
                help="The number the model uses. Keep it within low and high, and within "
                "the bounds of its kind (a probability stays between 0 and 1).",
            ),
            "check": st.column_config.TextColumn("check", width=130),
            "low": st.column_config.NumberColumn("low", format="plain", width=70),
            "high": st.column_config.NumberColumn("high", format="plain", width=70),
            "kind": st.column_config.TextColumn("kind", width=110),
            "source": st.column_config.TextColumn("source", width="large"),
            "path": st.column_config.TextColumn("path", width="medium"),
        },
    )  # fmt: skip
    st.caption(
        "Only the **value ✎** column can be edited (double-click or Enter on a cell, type, "
        "Enter). Each edit is checked at once with the rules of `toe-twitch validate-priors`. "
        "Choose a row under **Row in full** to read its whole label and source."
    )
    return edited


def apply_grid(sp: SessionPriors, edited: pd.DataFrame) -> None:
    """Check what the grid holds against the edits in use; on a change, keep the valid
    edits, mark the refused ones, bring the changed row into the detail, and rerun."""
    base = session_priors.base_values(sp.base)
    wanted = dict(sp.edits)
    touched = []
    for path, value in zip(edited["path"], edited["value"], strict=True):
        number = session_priors.as_number(value)
        if path in base and number == base[path]:
            if wanted.pop(path, None) is not None:
                touched.append(path)
        elif number != wanted.get(path):
            wanted[path] = value
            touched.append(path)
    if not touched:
        return
    refused_before = bool(st.session_state.get(keys.PRIORS_REFUSED))
    outcome = session_priors.resolve_edits(sp.base, sp.edits, wanted)
    session_priors.store_edits(outcome)
    if outcome.refused or refused_before:
        _bump_editor()  # a fresh grid: values in force, refused rows first and marked
    st.session_state[DETAIL] = next(iter(outcome.refused), touched[-1])
    st.rerun()


def draw_editor(model: ToeTwitchModel, sp: SessionPriors) -> None:
    """The table, and beside it the chosen row in full and what became of the edits."""
    options = view_options(model)
    if st.session_state.get(keys.TUNE_FILTER) not in options:
        st.session_state[keys.TUNE_FILTER] = "all"
    view = st.selectbox(
        "Show",
        options,
        format_func=lambda v: view_label(model, v),
        key=keys.TUNE_FILTER,
        help="A group, or a cause: its prevalence, odds ratios, links and threshold.",
    )
    draw_definitions(sp, view)
    refused = dict(st.session_state.get(keys.PRIORS_REFUSED, {}))
    table = parameter_table(model, sp, view, refused)
    grid, side = st.columns([2, 1], gap="medium")  # the grid as wide as the status allows
    with grid:
        edited = draw_grid(table, view)
    apply_grid(sp, edited)
    with side:
        draw_detail(model, sp, list(table["path"]))
        draw_status(model, sp, refused)


def draw_detail(model: ToeTwitchModel, sp: SessionPriors, paths: list[str]) -> None:
    """One row in full: what the grid cuts (its label and source) and its numbers."""
    if not paths:
        return
    if st.session_state.get(DETAIL) not in paths:
        st.session_state[DETAIL] = paths[0]
    path = st.selectbox(
        "Row in full", paths, format_func=lambda p: grid_label(model, p), key=DETAIL
    )
    ref = next(p for p in iter_parameters(sp.base) if p.path == path)
    shipped = session_priors.base_values(loaders.shipped_model().priors).get(path)
    now = sp.edits.get(path, ref.value)
    facts = [
        ("Parameter", row_label(model, path)),
        (
            "Value in force",
            f"{now:g}" + (f" (edited; was {ref.value:g})" if path in sp.edits else ""),
        ),
        ("Plausible range", f"{ref.low:g} to {ref.high:g} ({ref.kind})"),
        ("Source", plain(ref.source, 2000)),
    ]
    if shipped is not None and not sp.is_shipped and shipped != now:
        facts.insert(2, ("Shipped value", f"{shipped:g}"))
    facts.append(("Path in the file", path))
    with st.container(key="tune_detail_box", border=True):
        st.html(charts.facts(facts, "The chosen row in full"))


def draw_status(
    model: ToeTwitchModel, sp: SessionPriors, refused: dict[str, tuple[object, str]]
) -> None:
    if refused:
        values = {**session_priors.base_values(sp.base), **sp.edits}
        n = len(refused)
        st.error(
            f"**{plural(n, 'edit')} not applied**: {'they break' if n > 1 else 'it breaks'} a "
            "rule of the priors. The model keeps the value in force (marked ✗ at the top of "
            "the table).",
            icon=":material/block:",
        )
        st.code(
            "\n".join(
                f"{row_label(model, path)}: tried {plain(tried, 24)}, kept "
                f"{values.get(path, float('nan')):g}\n  {plain(message, 400)}"
                for path, (tried, message) in refused.items()
            ),
            language=None,
            wrap_lines=True,
        )
    if sp.edits:
        base = session_priors.base_values(sp.base)
        st.markdown(f"**{plural(len(sp.edits), 'edit')} in use**")
        st.html(
            charts.table(
                ["parameter", "was", "now"],
                [(row_label(model, p), f"{base[p]:g}", f"{v:g}") for p, v in sp.edits.items()],
                "Edits in use",
            )
        )
        st.button(
            "Undo all edits", key=keys.TUNE_UNDO_ALL, icon=":material/undo:", on_click=_undo_all
        )
    elif not refused:
        st.info(
            "No edits yet. Change a value in the table to see what it does.", icon=":material/edit:"
        )


def _undo_all() -> None:
    session_priors.clear_edits()
    _bump_editor()


def draw_definitions(sp: SessionPriors, view: str) -> None:
    """The one definition of each kind of number in view (:data:`toe_twitch.priors.DEFINITIONS`)."""
    kinds = list(
        dict.fromkeys(
            definition_key(p.path) for p in iter_parameters(sp.base) if in_view(p.path, view)
        )
    )
    with st.expander("What these numbers mean", icon=":material/menu_book:"):
        st.markdown("\n".join(f"- **{kind}**: {DEFINITIONS[kind]}" for kind in kinds))


# ---------------------------------------------------------------- save and load
def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "priors"


def edited_source(was: float, source: str, shipped: bool) -> str:
    """The source of a number edited on the page: the edit (who and when are not known),
    then the source it replaces, cut to the longest source a file may hold. It begins
    as an expert judgement, which an edit is, so the file's counts stay true."""
    where = "shipped source" if shipped else "source in the file it started from"
    text = (
        f"{JUDGEMENT_PREFIX} edited on the page from {was:g}; {where}: {' '.join(source.split())}"
    )
    return text if len(text) <= MAX_SOURCE_CHARS else text[: MAX_SOURCE_CHARS - 1] + "…"


def _set_source(data: dict, path: str, source: str) -> None:
    node = data
    for part in path.split("."):
        node = node[part]
    node["source"] = source


def priors_yaml(sp: SessionPriors, name: str, note: str) -> str:
    """The session's priors as a YAML file, with ``name`` and the note as ``description``;
    each edited number says so in its source."""
    base = {p.path: p for p in iter_parameters(sp.base)}
    header = [
        "# Priors of the toe-twitching model, saved from the Tune priors page.",
        f"# Started from the {plain(sp.base_label, 120)}.",
    ]
    if sp.edits:
        header.append("# Edits (path: was -> now):")
        header += [f"#   {p}: {base[p].value:g} -> {v:g}" for p, v in sp.edits.items()]
    header.append("# Check it with: toe-twitch validate-priors FILE")
    data = priors_to_data(sp.priors)
    for path in sp.edits:
        _set_source(
            data, path, edited_source(base[path].value, base[path].source, sp.base_is_shipped)
        )
    data["name"] = " ".join(name.split())[:200] or sp.priors.name
    data["description"] = " ".join(note.split())[:5000] or sp.priors.description
    body = yaml.safe_dump(
        data, sort_keys=False, default_flow_style=None, allow_unicode=True, width=4096
    )
    return "\n".join(header) + "\n" + body


def _back_to_shipped() -> None:
    session_priors.use_shipped()
    st.session_state.pop(keys.PRIORS_UPLOAD_MESSAGE, None)
    _bump_editor()


def load_upload(name: str, data: bytes) -> None:
    """Use an uploaded priors file if it is valid and a model can be built from it."""
    edits_before = len(st.session_state.get(keys.PRIORS_EDITS, {}))
    try:
        priors = parse_priors_text(data.decode("utf-8"), source=name)
    except PriorsError as exc:
        st.session_state[keys.PRIORS_UPLOAD_MESSAGE] = (
            "error",
            name,
            [str(p) for p in exc.problems],
        )
        return
    try:
        session_priors.set_base(priors, f"uploaded file {name}")
    except ToeTwitchError as exc:
        st.session_state[keys.PRIORS_UPLOAD_MESSAGE] = ("error", name, [str(exc)])
        return
    _bump_editor()
    count = sum(1 for _ in iter_parameters(priors))
    dropped = (
        f" Your {plural(edits_before, 'earlier edit')} {'was' if edits_before == 1 else 'were'} "
        "set aside."
        if edits_before
        else ""
    )
    st.session_state[keys.TUNE_NAME] = slug(f"{priors.name}-tuned")
    st.session_state[keys.PRIORS_UPLOAD_MESSAGE] = (
        "success",
        name,
        [f"{count} parameters; every page of this session now uses these priors.{dropped}"],
    )


def draw_upload() -> None:
    st.subheader("Load a priors file", anchor=False)
    got = widgets.upload(
        "A priors file",
        keys.TUNE_UPLOAD,
        "Checked first with the rules of `toe-twitch validate-priors`; used only if valid. "
        "Nothing in the file is ever run.",
    )
    if got is not None:
        # Each choice of a file is used once (reruns keep the choice), and choosing the
        # same file again, after going back to the shipped priors, uses it again.
        if st.session_state.get(keys.TUNE_UPLOAD_SEEN) != got.choice:
            st.session_state[keys.TUNE_UPLOAD_SEEN] = got.choice
            load_upload(got.name, got.data)
            st.rerun()
    message = st.session_state.get(keys.PRIORS_UPLOAD_MESSAGE)
    if message:
        kind, name, lines = message
        if kind == "error":
            widgets.problem_list(
                f"This file was not used: {plural(len(lines), 'problem')} found. The priors in use are unchanged.",
                lines,
                "tune_problems_download",
                "priors-problems.txt",
                name,
            )
        else:
            st.success("Loaded this priors file:", icon=":material/check_circle:")
            st.text(name)
            st.caption(lines[0])
    if not session_priors.current().is_shipped or session_priors.current().edits:
        st.button(
            "Back to the shipped priors",
            key=keys.TUNE_BACK_TO_DEFAULT,
            icon=":material/settings_backup_restore:",
            on_click=_back_to_shipped,
        )


def draw_download(sp: SessionPriors) -> None:
    """A name and a note in a form, then the download of exactly what the form holds.

    In a form, typing never reruns the page, so clicking "Download" cannot race a rerun
    started by the text box losing focus (which handed out the file without the note just
    typed); the button's label and the line under it say what the file will hold.
    """
    st.subheader("Download these priors", anchor=False)
    if keys.TUNE_NAME not in st.session_state:
        st.session_state[keys.TUNE_NAME] = slug(f"{sp.base.name}-tuned")
    with st.form(keys.TUNE_SAVE_FORM, border=False, enter_to_submit=True):
        st.text_input("Name", key=keys.TUNE_NAME, max_chars=80)
        st.text_area(
            "Note, saved as the file's description",
            key=keys.TUNE_NOTE,
            max_chars=2000,
            placeholder="What you changed and why, with your sources",
            height=90,
        )
        st.form_submit_button("Use this name and note", icon=":material/check:")
    name = st.session_state.get(keys.TUNE_NAME) or ""
    note = st.session_state.get(keys.TUNE_NOTE) or ""
    # A button label is Markdown: escape the underscores, the only mark slug() keeps.
    shown_name = slug(name).replace("_", r"\_")
    st.download_button(
        f"Download {shown_name}.yaml",
        data=priors_yaml(sp, name, note),
        file_name=f"{slug(name)}.yaml",
        mime="application/x-yaml",
        key=keys.TUNE_DOWNLOAD,
        icon=":material/download:",
        on_click="ignore",
        type="primary",
    )
    # The note is the user's words: shown as plain text, never as Markdown.
    st.text(
        f"Note in the file: {plain(' '.join(note.split()), 120)}"
        if note.strip()
        else "No note in the file."
    )
    st.caption(
        "Use the file with `toe-twitch diagnose --priors FILE`, or load it here later. "
        "The shipped priors/default.yaml is never changed."
    )


# ---------------------------------------------------------------- page
def render() -> None:
    st.title("Tune the priors", anchor=False)
    st.markdown(
        "For clinicians: every number of the model, one row each, with its plausible range "
        "and its source. Change a **value** and see at once what it does to the current case "
        "and to the clinical vignettes."
    )
    sp = session_priors.current()
    counts = source_counts(sp.base)
    st.caption(
        ":material/lock: Your edits stay in this browser session and apply to every page of "
        "it; nobody else sees them."
    )
    # The starting point may name an uploaded file: shown as written, never as Markdown.
    st.html(
        charts.note(
            f"Starting point: the {sp.base_label} ({counts['cited']} numbers cite a published "
            f"figure, {counts['definition']} follow from a definition, {counts['judged']} are "
            "expert judgement)."
        )
    )
    widgets.case_line(session_priors.session_model(), st.session_state[keys.PAGES]["explore"])
    model = session_priors.session_model()
    draw_editor(model, sp)
    st.divider()
    draw_effects(session_priors.current())
    st.divider()
    st.header("Save or load", anchor=False)
    left, right = st.columns(2, gap="large")
    with right:
        draw_upload()
    with left:
        draw_download(session_priors.current())
    st.divider()
    render_learn(session_priors.current())
