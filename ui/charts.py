"""Charts as plain HTML and DOT text: light to draw, legible on a phone, read by screen readers.

The ranking is an ordered list of rows (name, bar, percentage): the bar is decoration
(``aria-hidden``), the name and the number are text. Drawing it needs no chart library,
so the first screen of the page does not wait for one, and a changed answer redraws a
few hundred bytes. Every text in these charts comes from the model's own vocabulary or
numbers, and is escaped all the same.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from toe_twitch import NO_LISTED_CAUSE_LABEL, Diagnosis, ToeTwitchModel
from toe_twitch.analysis import Contribution
from toe_twitch.priors import AGE_FINDING
from toe_twitch.ui.text import cause_name, percent

#: Colours with at least 4.5:1 contrast on white for text, 3:1 for the bars.
BAR_COLOUR = "#2f6fb7"
NONE_COLOUR = "#6b7280"
RANGE_COLOUR = "#0b2545"
SUPPORT_COLOUR = "#2f6fb7"
OPPOSE_COLOUR = "#b45309"
RED = "#b42318"

CSS = f"""
.tt-bars {{ list-style: none; margin: 0 0 .25rem 0 !important; padding: 0 !important; }}
.tt-bars li {{ margin: 0 !important; padding-left: 0; }}
.tt-row {{ display: grid; grid-template-columns: minmax(9rem, 17rem) 1fr 6.5rem;
  gap: .15rem .75rem; align-items: center; padding: .3rem 0; }}
.tt-name {{ font-size: 1rem; line-height: 1.25; }}
.tt-track {{ position: relative; height: .9rem; background: #eef1f5; border-radius: 4px; }}
.tt-fill {{ position: absolute; left: 0; top: 0; bottom: 0; background: {BAR_COLOUR};
  border-radius: 4px; }}
.tt-none .tt-fill {{ background: {NONE_COLOUR}; }}
.tt-none .tt-name {{ font-style: italic; }}
.tt-range {{ position: absolute; top: 50%; height: 3px; margin-top: -1.5px;
  background: {RANGE_COLOUR}; }}
.tt-range::before, .tt-range::after {{ content: ""; position: absolute; top: -4px;
  width: 2px; height: 11px; background: {RANGE_COLOUR}; }}
.tt-range::before {{ left: 0; }}
.tt-range::after {{ right: 0; }}
.tt-value {{ font-weight: 600; font-variant-numeric: tabular-nums; text-align: right; }}
.tt-value small {{ display: block; font-weight: 400; color: #4b5563; font-size: .8rem; }}
.tt-weights .tt-fill.oppose {{ background: {OPPOSE_COLOUR}; }}
.tt-heading {{ font-size: 1.4rem; font-weight: 600; margin: .5rem 0 .5rem 0; }}
.tt-note {{ color: #4b5563; font-size: .875rem; margin: .25rem 0 0 0; }}
.tt-details details {{ border: 1px solid #d1d5db; border-radius: .5rem; margin: 0 0 .5rem 0;
  padding: .5rem .75rem; }}
.tt-details summary {{ cursor: pointer; font-weight: 600; }}
.tt-details summary:focus-visible {{ outline: 2px solid {BAR_COLOUR}; outline-offset: 2px; }}
.tt-table {{ display: grid; overflow-x: auto; font-size: .9rem; }}
.tt-table [role="rowgroup"], .tt-table [role="row"] {{ display: contents; }}
.tt-table [role="row"] > div {{ border-bottom: 1px solid #e5e7eb; padding: .3rem .5rem;
  min-width: 0; overflow-wrap: break-word; }}
.tt-table [role="rowheader"] {{ overflow-wrap: anywhere; }}
.tt-cards {{ list-style: none; margin: 0 0 .5rem 0 !important; padding: 0 !important;
  display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 13rem)); gap: .75rem; }}
.tt-cards li.tt-card {{ margin: 0 !important; padding: .6rem .8rem; border: 1px solid #d1d5db;
  border-radius: .5rem; display: flex; flex-direction: column; gap: .15rem; }}
.tt-card-label {{ font-size: .9rem; color: #374151; line-height: 1.25; }}
.tt-card-value {{ font-size: 1.75rem; font-weight: 600; font-variant-numeric: tabular-nums; }}
.tt-card-of {{ font-size: .82rem; color: #4b5563; line-height: 1.25; }}
.tt-matrix-wrap {{ overflow: auto; max-height: 75vh; border: 1px solid #e5e7eb;
  border-radius: .5rem; }}
.tt-matrix-wrap:focus-visible {{ outline: 2px solid {BAR_COLOUR}; outline-offset: 2px; }}
.tt-matrix {{ display: grid; font-size: .85rem; width: max-content;
  grid-template-columns: minmax(11rem, 18rem) repeat(var(--tt-columns), minmax(3.2rem, 4.2rem)); }}
.tt-matrix [role="rowgroup"], .tt-matrix [role="row"] {{ display: contents; }}
.tt-matrix [role="row"] > div {{ border-bottom: 1px solid #ffffff; border-right: 1px solid #ffffff;
  padding: .25rem .3rem; text-align: center; font-variant-numeric: tabular-nums; }}
.tt-matrix [role="rowheader"] {{ position: sticky; left: 0; z-index: 1; background: #ffffff;
  text-align: left !important; border-right: 1px solid #d1d5db !important; }}
.tt-matrix .tt-head > div {{ position: sticky; top: 0; z-index: 2; background: #ffffff;
  font-weight: 600; border-bottom: 2px solid #d1d5db; display: flex; align-items: flex-end;
  justify-content: center; }}
.tt-matrix .tt-head > div:first-child {{ left: 0; z-index: 3; justify-content: flex-start; }}
.tt-matrix .tt-head span {{ writing-mode: vertical-rl; transform: rotate(180deg);
  max-height: 11rem; text-align: left; line-height: 1.15; }}
.tt-matrix .tt-head > div:first-child span {{ writing-mode: horizontal-tb; transform: none; }}
.tt-matrix .tt-empty {{ color: #6b7280; }}
.tt-facts {{ margin: 0 !important; padding: 0 !important; font-size: .92rem; }}
.tt-facts dt {{ font-weight: 600; color: #374151; margin: 0 !important; padding: 0 !important; }}
.tt-facts dd {{ margin: 0 0 .45rem 0 !important; padding: 0 !important; overflow-wrap: anywhere; }}
.tt-table .tt-head > div {{ font-weight: 600; border-bottom: 2px solid #d1d5db; }}
.tt-compact .tt-row {{ grid-template-columns: minmax(0, 1fr) minmax(3rem, 9rem) 3.4rem;
  padding: .1rem 0; }}
.tt-compact .tt-name {{ font-size: .92rem; line-height: 1.2; }}
@media (max-width: 640px) {{
  .tt-compact .tt-row {{ grid-template-columns: minmax(0, 1fr) 4.5rem 3.2rem; gap: .1rem .5rem; }}
  .tt-bars:not(.tt-compact) .tt-row {{ grid-template-columns: 1fr 5.5rem; }}
  .tt-bars:not(.tt-compact) .tt-name {{ grid-column: 1 / span 2; }}
  .tt-cards {{ grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .5rem; }}
  .tt-card-value {{ font-size: 1.4rem; }}
  .tt-matrix {{ grid-template-columns: 8.5rem repeat(var(--tt-columns), 3.2rem); font-size: .8rem; }}
}}
"""


@dataclass(frozen=True)
class Bar:
    """One row of a bar list: a name, a value in [0, 1] and an optional 90% range."""

    name: str
    value: float
    shown: str
    low: float | None = None
    high: float | None = None
    detail: str = ""
    css_class: str = ""


def _width(x: float) -> str:
    x = 0.0 if not math.isfinite(x) else min(max(x, 0.0), 1.0)
    return f"{100 * x:.1f}%"


def bar_list(bars: Sequence[Bar], label: str, css_class: str = "") -> str:
    """An ordered list of bars as HTML (names and numbers escaped)."""
    items = []
    for b in bars:
        extra = ""
        if b.low is not None and b.high is not None:
            extra = (
                f'<span class="tt-range" style="left:{_width(b.low)};'
                f'width:{_width(max(b.high - b.low, 0.004))}"></span>'
            )
        detail = f"<small>{html.escape(b.detail)}</small>" if b.detail else ""
        items.append(
            f'<li class="tt-row {b.css_class}">'
            f'<span class="tt-name">{html.escape(b.name)}</span>'
            f'<span class="tt-track" aria-hidden="true"><span class="tt-fill" '
            f'style="width:{_width(b.value)}"></span>{extra}</span>'
            f'<span class="tt-value">{html.escape(b.shown)}{detail}</span></li>'
        )
    return (
        f'<ol class="tt-bars {css_class}" aria-label="{html.escape(label)}">'
        + "".join(items)
        + "</ol>"
    )


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], label: str) -> str:
    """A small table as HTML (every cell escaped), laid out with CSS grid and ARIA table
    roles: an HTML ``<table>`` would make the browser load Streamlit's data-grid code."""
    columns = list(columns)
    # Words are never cut in the other columns (a long id in the first may be).
    style = f'style="grid-template-columns: minmax(7rem, 2fr) repeat({len(columns) - 1}, minmax(min-content, 1fr))"'

    def cells(row: Sequence[object], header: bool) -> str:
        out = []
        for i, cell in enumerate(row):
            role = "columnheader" if header else ("rowheader" if i == 0 else "cell")
            out.append(f'<div role="{role}">{html.escape(str(cell))}</div>')
        return f'<div role="row" class="{"tt-head" if header else ""}">{"".join(out)}</div>'

    body = "".join(cells(row, False) for row in rows)
    return (
        f'<div class="tt-table" role="table" aria-label="{html.escape(label)}" {style}>'
        f'<div role="rowgroup">{cells(columns, True)}</div><div role="rowgroup">{body}</div></div>'
    )


@dataclass(frozen=True)
class Card:
    """A score on a card: what it is, the number, and what the number is out of."""

    label: str
    value: str
    out_of: str


def cards(items: Sequence[Card], label: str) -> str:
    """Score cards as a list (labels wrap, never cut; every text escaped)."""
    body = "".join(
        f'<li class="tt-card"><span class="tt-card-label">{html.escape(c.label)}</span>'
        f'<span class="tt-card-value">{html.escape(c.value)}</span>'
        f'<span class="tt-card-of">{html.escape(c.out_of)}</span></li>'
        for c in items
    )
    return f'<ul class="tt-cards" aria-label="{html.escape(label)}">{body}</ul>'


#: The matrix's colour scale: no link (white) to the strongest (a deep blue).
MATRIX_LOW = (243, 246, 251)
MATRIX_HIGH = (11, 61, 122)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def strength_colours(x: float) -> tuple[str, str]:
    """Background and text colour of a cell of strength ``x`` in [0, 1]: the background
    from white to deep blue; the text black or white, whichever has the more contrast.
    Pure black is what guarantees it: for any background, black or white reaches at
    least sqrt(1.05 / 0.05) = 4.58:1 (a near-black such as #111827 falls to 4.2:1 where
    the two cross, which axe-core flagged on a mid-blue cell)."""
    x = min(max(x, 0.0), 1.0) if math.isfinite(x) else 0.0
    rgb = tuple(round(lo + (hi - lo) * x) for lo, hi in zip(MATRIX_LOW, MATRIX_HIGH, strict=True))
    lum = _luminance(rgb)  # type: ignore[arg-type]
    dark = (lum + 0.05) / 0.05
    light = 1.05 / (lum + 0.05)
    return "#{:02x}{:02x}{:02x}".format(*rgb), "#000000" if dark >= light else "#ffffff"


def matrix(
    columns: Sequence[str],
    rows: Sequence[tuple[str, Sequence[float | None]]],
    label: str,
) -> str:
    """A matrix as HTML: one row per name, one cell per column, each cell's strength as
    its colour and as a percentage (None: no link, shown as a dash). The header and the
    names stay in place while it scrolls; the scrolling box takes the keyboard focus."""
    head = "".join(f'<div role="columnheader"><span>{html.escape(c)}</span></div>' for c in columns)
    body = []
    for name, values in rows:
        cells = []
        for column, v in zip(columns[1:], values, strict=True):
            if v is None:
                cells.append(
                    f'<div role="cell" class="tt-empty" title="{html.escape(column)}: no link">–</div>'
                )
                continue
            bg, fg = strength_colours(v)
            cells.append(
                f'<div role="cell" style="background:{bg};color:{fg}" '
                f'title="{html.escape(name)} ← {html.escape(column)}: {percent(v)}">{percent(v)}</div>'
            )
        body.append(
            f'<div role="row"><div role="rowheader">{html.escape(name)}</div>{"".join(cells)}</div>'
        )
    style = f"--tt-columns: {len(columns) - 1}"
    return (
        f'<div class="tt-matrix-wrap" tabindex="0" role="region" aria-label="{html.escape(label)}">'
        f'<div class="tt-matrix" role="table" aria-label="{html.escape(label)}" style="{style}">'
        f'<div role="rowgroup"><div role="row" class="tt-head">{head}</div></div>'
        f'<div role="rowgroup">{"".join(body)}</div></div></div>'
    )


def note(text: str) -> str:
    """A line of small grey text, shown exactly as written (a file's name stays plain:
    a caption would read it as Markdown)."""
    return f'<p class="tt-note">{html.escape(text)}</p>'


def facts(pairs: Iterable[tuple[str, str]], label: str) -> str:
    """Terms and their values as a definition list (every value escaped)."""
    body = "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(value)}</dd>" for term, value in pairs
    )
    return f'<dl class="tt-facts" aria-label="{html.escape(label)}">{body}</dl>'


def ranking_bars(
    model: ToeTwitchModel,
    d: Diagnosis,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    none_range: tuple[float, float] | None = None,
    top: int | None = None,
) -> list[Bar]:
    """The causes, most likely first (the first ``top``), then the share no listed cause
    explains, as its own row."""
    bars = []
    for cause, p in d.ranking[:top]:
        low, high = ranges[cause] if ranges and cause in ranges else (None, None)
        detail = f"{percent(low)} to {percent(high)}" if low is not None else ""
        bars.append(Bar(cause_name(model, cause), p, percent(p), low, high, detail))
    low, high = none_range if none_range else (None, None)
    bars.append(
        Bar(
            NO_LISTED_CAUSE_LABEL,
            d.no_listed_cause,
            percent(d.no_listed_cause),
            low,
            high,
            f"{percent(low)} to {percent(high)}" if low is not None else "",
            "tt-none",
        )
    )
    return bars


def weight_bars(model: ToeTwitchModel, contributions: Iterable[Contribution]) -> list[Bar]:
    """Each answer's weight of evidence for a cause: blue for, amber against.

    The bar's length is the weight relative to the largest one; the number is the
    likelihood ratio ("3.2× for", "0.40× against"); an answer that rules the cause in or
    out, or that others already settled, is shown without a bar.
    """
    from toe_twitch.ui.text import answer_label, finding_label

    rows = list(contributions)
    finite = [abs(c.weight) for c in rows if c.weight is not None and math.isfinite(c.weight)]
    scale = max(finite, default=1.0) or 1.0
    bars = []
    for c in rows:
        name = f"{finding_label(model, c.finding)}: {answer_label(c.state)}"
        if c.weight is None:
            bars.append(Bar(name, 0.0, "not defined", detail="settled by other answers"))
        elif not math.isfinite(c.weight):
            bars.append(Bar(name, 1.0, "rules it in" if c.weight > 0 else "rules it out"))
        else:
            ratio = c.likelihood_ratio if c.likelihood_ratio is not None else math.exp(c.weight)
            shown = f"{ratio:.2g}× for" if c.weight > 0 else f"{ratio:.2g}× against"
            css = "" if c.weight > 0 else "oppose"
            bars.append(Bar(name, abs(c.weight) / scale, shown, css_class=css))
    return bars


# ---------------------------------------------------------------- the network as DOT
QUOTE = '"'
STYLE = {
    "age": {"fillcolor": "#eef0f4", "color": "#6b7280", "shape": "ellipse"},
    "risk factor": {"fillcolor": "#fbf6e9", "color": "#8a6d1f"},
    "cause": {"fillcolor": "#e8f1fb", "color": BAR_COLOUR},
    "finding": {"fillcolor": "#ffffff", "color": "#6b7280"},
    "red flag": {"fillcolor": "#fdecea", "color": RED, "fontcolor": "#7a1a12"},
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrapped(text: str, width: int = 24) -> str:
    lines = textwrap.wrap(text, width) or [text]
    return '"' + "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines) + '"'


def parameter_value(model: ToeTwitchModel, path: str) -> float | None:
    """A parameter's value by path; for one given per age group, the largest of them."""
    s = model.structure
    if path in s.index:
        return s.parameters[s.index[path]].value
    by_age = [
        s.parameters[s.index[f"{path}.{a}"]].value for a in s.age_states if f"{path}.{a}" in s.index
    ]
    return max(by_age) if by_age else None


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
        return cause_name(model, node)
    if node in model.vocabulary.implicit_evidence:
        return "Toe twitching (always assumed)"
    return model.vocabulary.findings[node].label


def network_dot(model: ToeTwitchModel, focus: str | None = None, vertical: bool = False) -> str:
    """DOT text of the network, or of one cause with its risk factors and findings.

    Line width shows strength: the link probability (cause to finding) or the size of the
    odds ratio (risk factor to cause); dashed: an odds ratio below 1.
    """
    s = model.structure
    rf_edges = [
        (rf, c, odds)
        for c in s.causes
        for rf in s.cause_parents[c]
        if (odds := parameter_value(model, f"causes.{c}.risk_factors.{rf}")) is not None
    ]
    link_edges = [
        (c, f, link)
        for f in s.findings
        for c in s.finding_parents[f]
        if (link := parameter_value(model, f"findings.{f}.links.{c}")) is not None
    ]
    if focus:
        rf_edges = [e for e in rf_edges if e[1] == focus]
        link_edges = [e for e in link_edges if e[0] == focus]
        nodes = {focus, *(e[0] for e in rf_edges), *(e[1] for e in link_edges)}
    else:
        nodes = set(s.variables) - {AGE_FINDING}

    def node_line(v: str) -> str:
        attrs = dict(STYLE[node_kind(model, v)])
        attrs["label"] = _wrapped(node_label(model, v))
        attrs["tooltip"] = _quote(f"{node_label(model, v)} ({node_kind(model, v)})")
        if v in model.vocabulary.implicit_evidence:
            attrs["style"] = _quote("rounded,filled,dashed")
        body = ", ".join(
            f"{k}={val if val.startswith(QUOTE) else _quote(val)}" for k, val in attrs.items()
        )
        return f"  {v} [{body}];"

    lines = [
        "digraph network {",
        f'  graph [rankdir={"TB" if vertical else "LR"}, bgcolor="transparent", '
        'fontname="Helvetica", nodesep=0.15, ranksep=0.9];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=14, '
        'margin="0.14,0.06", penwidth=1.2];',
        '  edge [arrowsize=0.6, color="#6b7280"];',
    ]
    lines += [node_line(v) for v in sorted(nodes, key=lambda v: s.variables.index(v))]
    for rf, c, odds in rf_edges:
        width = round(min(0.8 + 1.3 * abs(math.log(odds)), 6.0), 2)
        style = ', style="dashed"' if odds < 1 else ""
        tip = _quote(f"{node_label(model, rf)} to {node_label(model, c)}: odds ratio {odds:g}")
        lines.append(f'  {rf} -> {c} [penwidth={width}, color="#8a6d1f"{style}, tooltip={tip}];')
    for c, f, link in link_edges:
        colour = RED if model.vocabulary.findings[f].red_flag else "#4b5563"
        tip = _quote(f"{node_label(model, c)} to {node_label(model, f)}: link probability {link:g}")
        lines.append(
            f'  {c} -> {f} [penwidth={round(0.4 + 4.6 * link, 2)}, color="{colour}", tooltip={tip}];'
        )
    lines.append("}")
    return "\n".join(lines)
