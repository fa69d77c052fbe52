"""Network: how the model is built, one cause at a time (legible on a phone), or whole.

For one cause: what makes it more likely (its risk factors' odds ratios), how common it
is at each age, and what it produces (its findings' link probabilities), as bar lists,
and on request as a picture. The whole network is a cause x finding matrix of link
probabilities (strength as colour and as a number), filtered by cause, kind of finding
and strength: the picture of all of it was a tangle of some 200 arcs. Any node's table
can be shown as well.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import streamlit as st

from toe_twitch import ToeTwitchModel
from toe_twitch.priors import AGE_FINDING
from toe_twitch.ui import answers, charts, keys, session_priors, widgets
from toe_twitch.ui.text import AGE_LABELS, cause_name, percent
from toe_twitch.vocabulary import GROUPS

WHOLE = "__whole__"
CPT_ROWS = 64
#: The matrix's filters (widget keys).
MATRIX_CAUSES = "net_matrix_causes"
MATRIX_GROUP = "net_matrix_group"
MATRIX_MIN = "net_matrix_min"
#: Weakest link shown, as offered by the filter.
STRENGTHS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


def odds_bars(model: ToeTwitchModel, cause: str) -> list[charts.Bar]:
    """Risk factors of a cause: the bar is the odds ratio on a log scale (1 = no effect)."""
    bars = []
    for rf in model.structure.cause_parents[cause]:
        odds = charts.parameter_value(model, f"causes.{cause}.risk_factors.{rf}")
        if odds is None:
            continue
        length = min(abs(math.log(odds)) / math.log(100), 1.0)
        shown = f"× {odds:.3g}" if odds >= 1 else f"× {odds:.2g} (less likely)"
        bars.append(charts.Bar(model.vocabulary.findings[rf].label, length, shown))
    return sorted(bars, key=lambda b: -b.value)


def link_bars(model: ToeTwitchModel, cause: str) -> list[charts.Bar]:
    """Findings a cause produces: the bar is the link probability."""
    bars = []
    for f in model.structure.findings:
        if (
            cause not in model.structure.finding_parents[f]
            or f in model.vocabulary.implicit_evidence
        ):
            continue
        link = charts.parameter_value(model, f"findings.{f}.links.{cause}")
        if link is None:
            continue
        label = model.vocabulary.findings[f].label
        if model.vocabulary.findings[f].red_flag:
            label = f"{label} (emergency sign)"
        bars.append(charts.Bar(label, link, percent(link)))
    return sorted(bars, key=lambda b: -b.value)


def prevalence_bars(model: ToeTwitchModel, cause: str) -> list[charts.Bar]:
    bars = []
    for age in model.structure.age_states:
        p = charts.parameter_value(model, f"causes.{cause}.prevalence.{age}")
        if p is not None:
            bars.append(charts.Bar(AGE_LABELS.get(age, age), min(p * 10, 1.0), percent(p)))
    return bars


def one_cause(model: ToeTwitchModel, cause: str) -> None:
    twitching = charts.parameter_value(model, f"findings.toe_twitching.links.{cause}")
    st.header(cause_name(model, cause), anchor=False)
    if twitching is not None:
        st.caption(f"When present, it makes the toes twitch with probability {percent(twitching)}.")
    st.markdown("**How common it is** (share of people of each age who have it)")
    st.html(charts.bar_list(prevalence_bars(model, cause), "Prevalence by age group"))
    st.caption("Bars are drawn on a scale of 0 to 10%.")
    odds = odds_bars(model, cause)
    st.markdown("**What makes it more or less likely** (odds ratio of each risk factor)")
    if odds:
        st.html(charts.bar_list(odds, "Odds ratios of its risk factors"))
        st.caption("Bars on a log scale up to ×100; × 1 would be no effect.")
    else:
        st.caption("No risk factor changes it in these priors.")
    st.markdown("**What it produces** (the chance it causes each finding by itself)")
    st.html(charts.bar_list(link_bars(model, cause), "Link probabilities of its findings"))


def link_strengths(model: ToeTwitchModel) -> dict[str, dict[str, float]]:
    """``{finding: {cause: link probability}}`` as the priors give them; a link given per
    age group counts with its largest value."""
    strengths: dict[str, dict[str, float]] = {}
    for finding, spec in model.priors.findings.items():
        strengths[finding] = {
            cause: link.value
            if hasattr(link, "value")
            else max(getattr(link, age).value for age in type(link).model_fields)
            for cause, link in spec.links.items()
        }
    return strengths


def finding_group(model: ToeTwitchModel, finding: str) -> str:
    return model.vocabulary.findings[finding].group or "when"


def matrix_rows(
    model: ToeTwitchModel, causes: list[str], group: str, weakest: float
) -> list[tuple[str, list[float | None]]]:
    """The matrix's rows: each finding of the group with a link of at least ``weakest``
    to one of the causes; a cell is None where there is no such link."""
    rows = []
    for finding, links in link_strengths(model).items():
        if finding not in model.structure.findings:
            continue
        if group != "all" and finding_group(model, finding) != group:
            continue
        cells = [
            links.get(c) if (links.get(c) or 0) >= max(weakest, 1e-12) else None for c in causes
        ]
        if any(v is not None for v in cells):
            label = charts.node_label(model, finding)
            if model.vocabulary.findings[finding].red_flag:
                label = f"{label} (emergency sign)"
            rows.append((label, cells))
    return rows


def whole_network(model: ToeTwitchModel) -> None:
    """Every cause against every finding it can produce, filtered."""
    groups = [
        "all",
        *(g for g in GROUPS if any(finding_group(model, f) == g for f in model.structure.findings)),
    ]
    left, middle, right = st.columns([3, 2, 2])
    causes = left.multiselect(
        "Causes",
        list(model.causes),
        default=list(model.causes),
        format_func=lambda c: cause_name(model, c),
        key=MATRIX_CAUSES,
    )
    group = middle.selectbox(
        "Findings",
        groups,
        format_func=lambda g: "All findings" if g == "all" else GROUPS[g],
        key=MATRIX_GROUP,
    )
    weakest = right.select_slider(
        "Weakest link shown", STRENGTHS, format_func=lambda x: "any" if x == 0 else percent(x),
        key=MATRIX_MIN,
    )  # fmt: skip
    if not causes:
        st.caption("Choose at least one cause.")
        return
    rows = matrix_rows(model, causes, group, weakest)
    st.caption(
        "Each cell: the chance that the cause, when present, produces the finding by itself "
        "(the link probability; the largest over the age groups where it depends on age). "
        "Darker is stronger; a dash, no link. Scroll the matrix sideways on a small screen."
    )
    if not rows:
        st.caption("No finding has a link that strong to these causes.")
        return
    st.html(
        charts.matrix(
            ["Finding", *(cause_name(model, c) for c in causes)],
            rows,
            "Link probability of each cause (columns) to each finding (rows)",
        )
    )


def cpt_frame(model: ToeTwitchModel, node: str) -> tuple[pd.DataFrame, int]:
    """P(node | parents): one row per age group and combination of the parents' states
    (parent ``i`` present when bit ``i`` of the combination is set, as the tables store
    them), the first :data:`CPT_ROWS` rows."""
    s, t = model.structure, model.tables
    if node == AGE_FINDING:
        table, parents, states = t.age[0][:, None, None], (), s.age_states
    elif node in s.risk_factors:
        table, parents, states = t.risk_factor[node][0][..., None], (), s.states(node)
    elif node in s.causes:
        table, parents, states = t.cause[node][0], s.cause_parents[node], s.states(node)
    else:
        table, parents, states = t.finding[node][0], s.finding_parents[node], s.states(node)
    table = np.asarray(table)  # (states, ages, combinations)
    rows = []
    ages = s.age_states if node != AGE_FINDING else ("all",)
    for a, k in itertools.product(range(table.shape[1]), range(table.shape[2])):
        if len(rows) == CPT_ROWS:
            break
        row = {"age group": AGE_LABELS.get(ages[a], ages[a]) if table.shape[1] > 1 else "any"}
        for i, parent in enumerate(parents):
            row[charts.node_label(model, parent)] = "present" if (k >> i) & 1 else "absent"
        for j, state in enumerate(states):
            row[f"P({AGE_LABELS.get(state, state)})"] = f"{table[j, a, k]:.4f}"
        rows.append(row)
    return pd.DataFrame(rows), table.shape[1] * table.shape[2]


def render() -> None:
    st.title("The network", anchor=False)
    model = session_priors.session_model()
    widgets.case_line(model, st.session_state[keys.PAGES]["explore"])
    st.markdown(
        "The **age group** and **risk factors** set how likely each **cause** is; each cause "
        "can produce **findings**. Every number comes from the Tune priors page."
    )
    evidence = answers.evidence(model)
    try:
        top = model.diagnose(evidence).top
    except Exception:  # noqa: BLE001 - impossible answers: start with the first cause
        top = model.causes[0]
    options = [*model.causes, WHOLE]
    if st.session_state.get(keys.NETWORK_FOCUS) not in options:
        st.session_state[keys.NETWORK_FOCUS] = top
    focus = st.selectbox(
        "Show",
        options,
        format_func=lambda c: (
            "Every cause and finding: a matrix of link strengths"
            if c == WHOLE
            else f"One cause: {cause_name(model, c)}"
        ),
        key=keys.NETWORK_FOCUS,
    )
    if focus == WHOLE:
        whole_network(model)
    else:
        one_cause(model, focus)
        if st.toggle("Show it as a picture", key=keys.NETWORK_PICTURE):
            st.graphviz_chart(charts.network_dot(model, focus, vertical=True), width="stretch")
    st.header("The table of a node", anchor=False)
    node = st.selectbox(
        "Node",
        model.structure.variables,
        index=None,
        placeholder="Choose a node to see its conditional probability table…",
        format_func=lambda v: charts.node_label(model, v),
        key=keys.NETWORK_NODE,
    )
    if node is not None:
        df, total = cpt_frame(model, node)
        if total > len(df):
            st.caption(f"The first {len(df)} of {total:,} combinations of its parents' states.")
        st.dataframe(df, hide_index=True, width="stretch", key="cpt_table")
