"""Network: a picture of the Bayesian network, and the table of any node.

The picture is DOT text built here and drawn by ``st.graphviz_chart`` in the browser
(Graphviz compiled to WebAssembly: no system graphviz is needed). Left to right: age
group, risk factors, causes, findings; line width shows how strong a link is.
"""

from __future__ import annotations

import itertools
import math
import textwrap

import numpy as np
import pandas as pd
import streamlit as st

from model import ToeTwitchModel
from model.priors import AGE_FINDING
from ui.common import short_cause
from ui.loaders import state_label
from ui.priors_state import current, session_model

FOCUS = "net_focus"
AGE_EDGES = "net_age_edges"
CPT_NODE = "cpt_node"
CPT_ROWS = 64
RED = "#d93025"
QUOTE = '"'
STYLE = {
    "age": {"fillcolor": "#eef0f4", "color": "#9aa3b2", "shape": "ellipse"},
    "risk factor": {"fillcolor": "#fbf6e9", "color": "#c9a95b"},
    "cause": {"fillcolor": "#e8f1fb", "color": "#4e8fd6"},
    "finding": {"fillcolor": "#ffffff", "color": "#9aa3b2"},
    "red flag": {"fillcolor": "#fdecea", "color": RED, "fontcolor": "#a1261b"},
}


def quote(text: str) -> str:
    """A DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrapped(text: str, width: int = 26) -> str:
    """A DOT label broken into centred lines (``\\n`` in DOT)."""
    lines = textwrap.wrap(text, width) or [text]
    return '"' + "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines) + '"'


def node_kind(model: ToeTwitchModel, node: str) -> str:
    s = model.structure
    if node == AGE_FINDING:
        return "age"
    if node in s.risk_factors:
        return "risk factor"
    if node in s.causes:
        return "cause"
    return "red flag" if model.vocabulary.findings[node].red_flag else "finding"


def node_label(model: ToeTwitchModel, node: str) -> str:
    if node in model.structure.causes:
        return short_cause(model, node)
    label = model.vocabulary.findings[node].label
    if node in model.vocabulary.implicit_evidence:
        return "Toe twitching (always assumed)"
    return label


def odds_ratio_width(odds_ratio: float) -> float:
    return round(min(0.8 + 1.3 * abs(math.log(odds_ratio)), 6.0), 2)


def link_width(link: float) -> float:
    return round(0.4 + 4.6 * link, 2)


def network_dot(
    model: ToeTwitchModel,
    focus: str | None = None,
    age_edges: bool = True,
    highlight: str | None = None,
) -> str:
    """DOT text of the network (or of one cause with its parents and findings)."""
    s = model.structure
    priors = model.priors
    rf_edges = [
        (rf, c, priors.causes[c].risk_factors[rf].value)
        for c in s.causes
        for rf in s.cause_parents[c]
    ]
    link_edges = [
        (c, f, priors.findings[f].links[c].value) for f in s.findings for c in s.finding_parents[f]
    ]
    if focus:
        rf_edges = [e for e in rf_edges if e[1] == focus]
        link_edges = [e for e in link_edges if e[0] == focus]
        nodes = {focus, *(e[0] for e in rf_edges), *(e[1] for e in link_edges)}
    else:
        nodes = set(s.variables)
    if age_edges:
        nodes.add(AGE_FINDING)
    else:
        nodes.discard(AGE_FINDING)

    def node_line(v: str) -> str:
        kind = node_kind(model, v)
        attrs = dict(STYLE[kind])
        attrs["label"] = wrapped(node_label(model, v))
        attrs["tooltip"] = quote(f"{node_label(model, v)} ({kind}, id {v})")
        if v == highlight:
            attrs["penwidth"] = "3"
        if v in model.vocabulary.implicit_evidence:
            attrs["style"] = quote("rounded,filled,dashed")
        body = ", ".join(
            f"{k}={val if val.startswith(QUOTE) else quote(val)}" for k, val in attrs.items()
        )
        return f"    {v} [{body}];"

    def cluster(
        name: str, title: str, members: list[str], colour: str, inner: tuple[str, ...] = ()
    ) -> list[str]:
        members = [v for v in members if v in nodes]
        if not members and not inner:
            return []
        return [
            f"  subgraph cluster_{name} {{",
            f'    label={quote(title)}; labeljust=l; fontsize=13; fontcolor="#31333f";',
            f'    style="rounded"; color={quote(colour)}; margin=12;',
            *(node_line(v) for v in members),
            *inner,
            "  }",
        ]

    red = [f for f in s.findings if model.vocabulary.findings[f].red_flag]
    plain_findings = [f for f in s.findings if f not in red]
    red_block = cluster("red_flags", "Red flags", red, RED)
    lines = [
        "digraph network {",
        '  graph [rankdir=LR, bgcolor="transparent", fontname="Helvetica", nodesep=0.12, ranksep=1.1, newrank=true];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin="0.12,0.05", penwidth=1.2];',
        '  edge [arrowsize=0.5, color="#7d8797a0"];',
    ]
    if AGE_FINDING in nodes:
        lines.append(node_line(AGE_FINDING))
    lines += cluster("risk_factors", "Risk factors", list(s.risk_factors), "#e4d6ad")
    lines += cluster("causes", "Causes", list(s.causes), "#b8d2f0")
    lines += cluster(
        "findings", "Findings", plain_findings, "#d5d9e0", tuple(f"  {x}" for x in red_block)
    )
    if AGE_FINDING in nodes:
        for v in (*s.risk_factors, *s.causes):
            if v in nodes:
                lines.append(
                    f'  {AGE_FINDING} -> {v} [color="#c3c9d3", penwidth=0.5, arrowsize=0.3];'
                )
    for rf, c, odds in rf_edges:
        style = ', style="dashed"' if odds < 1 else ""
        tip = quote(f"{node_label(model, rf)} → {node_label(model, c)}: odds ratio {odds:g}")
        lines.append(
            f'  {rf} -> {c} [penwidth={odds_ratio_width(odds)}, color="#b8913a"{style}, tooltip={tip}];'
        )
    for c, f, link in link_edges:
        colour = f"{RED}b0" if f in red else "#5f6f86a0"
        tip = quote(f"{node_label(model, c)} → {node_label(model, f)}: link probability {link:g}")
        lines.append(
            f'  {c} -> {f} [penwidth={link_width(link)}, color="{colour}", tooltip={tip}];'
        )
    lines.append("}")
    return "\n".join(lines)


# ---------------------------------------------------------------- node tables
def cpt_frame(model: ToeTwitchModel, node: str, limit: int = CPT_ROWS) -> tuple[pd.DataFrame, int]:
    """P(node | parents) with one row per combination of parent states (the first ``limit``).

    Returns the table and the total number of parent combinations.
    """
    s = model.structure
    parents = s.parents(node)
    states = s.states(node)
    table = np.asarray(model.tables[node][0])
    flat = np.moveaxis(table, 0, -1).reshape(-1, len(states))
    total = flat.shape[0]
    combos = list(itertools.islice(itertools.product(*(s.states(p) for p in parents)), limit))
    if parents:
        df = pd.DataFrame(combos, columns=list(parents))
        if AGE_FINDING in df:
            df[AGE_FINDING] = df[AGE_FINDING].map(state_label)
    else:
        df = pd.DataFrame({"parents": ["(none: a root node)"]})
    for j, state in enumerate(states):
        df[f"P({state_label(state) if node == AGE_FINDING else state})"] = flat[: len(df), j]
    return df, total


def derivation(model: ToeTwitchModel, node: str) -> str:
    """How the node's table is derived from the priors, in one short paragraph."""
    p = model.priors
    kind = node_kind(model, node)
    if kind == "age":
        return "Share of each age group among people with toe twitching (priors: `age_groups`)."
    if kind == "risk factor":
        return f"How common it is in each age group (priors: `risk_factors.{node}.prevalence`)."
    if kind == "cause":
        ors = p.causes[node].risk_factors
        listed = ", ".join(f"{node_label(model, rf).lower()} {v.value:g}" for rf, v in ors.items())
        text = (
            "Logistic: a baseline odds per age group, solved so that the cause's prevalence in "
            f"each age group matches the priors (`causes.{node}.prevalence`)"
        )
        return text + (
            f", times the odds ratio of each risk factor present: {listed}." if ors else "."
        )
    f = p.findings[node]
    links = ", ".join(f"{short_cause(model, c)} {v.value:g}" for c, v in f.links.items())
    return (
        f"Leaky noisy-OR: each present cause produces it with its link probability ({links}); "
        f"the leak {f.leak.value:g} covers every other reason. "
        "P(absent) = (1 − leak) × the product of (1 − link) over the present causes."
    )


def option_label(model: ToeTwitchModel, node: str) -> str:
    n = len(model.structure.parents(node))
    return (
        f"{node_label(model, node)} · {node_kind(model, node)}, {n} parent{'s' if n != 1 else ''}"
    )


# ---------------------------------------------------------------- page
def render() -> None:
    st.title("The network")
    model = session_model()
    sp = current()
    st.markdown(
        "Left to right: the **age group** and **risk factors** set how likely each **cause** "
        "is; each cause can produce **findings**. Every table is derived from the numbers on "
        "the Tune priors page."
    )
    st.caption(
        "Line width: the link probability (cause → finding) or the size of the odds ratio "
        "(risk factor → cause); dashed: an odds ratio below 1. Red: the red flags. Hover a "
        f"line or a box for its number; on a small screen, show one cause at a time. Drawn "
        f"from {sp.describe()}."
    )
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    focus = left.selectbox(
        "Show",
        [None, *model.causes],
        format_func=lambda c: (
            "The whole network" if c is None else f"One cause: {short_cause(model, c)}"
        ),
        key=FOCUS,
    )
    age_edges = right.toggle(
        "Age-group lines",
        key=AGE_EDGES,
        help="The age group is a parent of every risk factor and every cause.",
    )
    highlight = st.session_state.get(CPT_NODE)
    with st.container(key="network_graph", border=True):
        st.graphviz_chart(network_dot(model, focus, age_edges, highlight), width="stretch")

    st.subheader("The table of a node")
    node = st.selectbox(
        "Node",
        model.structure.variables,
        index=None,
        placeholder="Choose a node to see its conditional probability table…",
        format_func=lambda v: option_label(model, v),
        key=CPT_NODE,
    )
    if node is None:
        st.caption(
            "Each row is one combination of the parents' states; each column one state of the node."
        )
        return
    df, total = cpt_frame(model, node)
    st.markdown(derivation(model, node))
    if total > len(df):
        st.caption(
            f"Showing the first {len(df)} of {total:,} combinations of the parents' states "
            "(each parent present or absent); the others follow the same rule."
        )
    number_columns = {
        c: st.column_config.NumberColumn(format="%.4f") for c in df.columns if c.startswith("P(")
    }
    st.dataframe(
        df, hide_index=True, width="stretch", column_config=number_columns, key="cpt_table"
    )
