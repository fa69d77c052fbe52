"""Links with more parameters than Streamlit keeps: noticed in the browser, reported.

Streamlit drops a query string of more than 1,000 parameters (or 512 Ki characters)
entirely, noting it only in the server's log, so the page would open as if the link had
no answers. This small component reads the address bar in the browser instead; when
the link is over the limit it sends back how long it was, every emergency sign the link
names (read first, wherever it stands in the link: a cut link must never show an urgency
lower than its signs demand), and of its other parameters at most :data:`MAX_KEPT` whose
name is a question of the page and whose value is short (plain data; the page checks
them like any link). Nothing else is sent, and it sends nothing for an ordinary link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit.runtime.state.query_params import (
    CLIENT_STATE_QUERY_STRING_MAX_FIELDS,
    CLIENT_STATE_QUERY_STRING_MAX_LENGTH,
)

from toe_twitch import ToeTwitchModel
from toe_twitch.ui import answers, keys
from toe_twitch.ui.text import plural

MAX_KEPT = 200
MAX_VALUE_CHARS = 40
#: Different values of one emergency sign sent back (more would only say "conflicting").
MAX_FLAG_VALUES = 3

_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const search = window.location.search || "";
  if (search.length < 2) return;
  const fields = search.slice(1).split("&");
  if (fields.length <= data.max_fields && search.length <= data.max_chars) return;
  const wanted = new Set(data.questions);
  const signs = new Set(data.red_flags);
  const kept = [];
  const flags = new Map();
  for (const field of fields) {
    const at = field.indexOf("=");
    if (at < 0) continue;
    let name, value;
    try {
      name = decodeURIComponent(field.slice(0, at).replace(/\\+/g, " "));
      value = decodeURIComponent(field.slice(at + 1).replace(/\\+/g, " "));
    } catch (e) {
      continue;
    }
    if (value.length > data.max_value) continue;
    if (signs.has(name)) {
      const values = flags.get(name) || new Set();
      if (values.size < data.max_flag_values) values.add(value);
      flags.set(name, values);
    } else if (wanted.has(name) && kept.length < data.max_kept) {
      kept.push([name, value]);
    }
  }
  const flagged = [];
  for (const [name, values] of flags) for (const v of values) flagged.push([name, v]);
  setStateValue("report", { fields: fields.length, chars: search.length, kept: kept, flags: flagged });
}
"""

_component = st.components.v2.component("toe_twitch_link_check", js=_JS)


def _report_changed() -> None:
    """Nothing to do here: the run that follows reads the report."""


def check_long_link(model: ToeTwitchModel) -> None:
    """Mount the check (only while the page's link is empty: a dropped link looks empty)."""
    if st.query_params:
        return
    result = _component(
        key=keys.LINK_CHECK,
        data={
            "questions": list(model.states),
            "red_flags": list(model.vocabulary.red_flags),
            "max_flag_values": MAX_FLAG_VALUES,
            "max_fields": CLIENT_STATE_QUERY_STRING_MAX_FIELDS,
            "max_chars": CLIENT_STATE_QUERY_STRING_MAX_LENGTH,
            "max_kept": MAX_KEPT,
            "max_value": MAX_VALUE_CHARS,
        },
        height=0,
        on_report_change=_report_changed,
    )
    report = getattr(result, "report", None)
    if isinstance(report, Mapping) and not st.session_state.get(keys.LINK_CHECKED):
        st.session_state[keys.LINK_CHECKED] = True
        use_report(report, model)


def _pairs(report: Mapping[str, Any], model: ToeTwitchModel) -> dict[str, list[str]]:
    """The report's parameters, checked for shape and length: every emergency sign first
    (at most :data:`MAX_FLAG_VALUES` values each), then at most :data:`MAX_KEPT` others."""
    params: dict[str, list[str]] = {}
    red = set(model.vocabulary.red_flags)
    flags = report.get("flags") or []
    kept = report.get("kept") or []
    for pairs, limit, is_flag in (
        (flags, len(red) * MAX_FLAG_VALUES, True),
        (kept, MAX_KEPT, False),
    ):
        for pair in pairs[:limit] if isinstance(pairs, list) else []:
            if isinstance(pair, list | tuple) and len(pair) == 2:
                name, value = str(pair[0]), str(pair[1])[:MAX_VALUE_CHARS]
                if (name in red) == is_flag:
                    params.setdefault(name, []).append(value)
    return params


def use_report(report: Mapping[str, Any], model: ToeTwitchModel) -> None:
    """Take the valid answers out of an over-long link and say what happened."""
    fields = int(report.get("fields") or 0)
    chars = int(report.get("chars") or 0)
    reading = answers.read_link(_pairs(report, model), model)
    if not st.session_state.get(keys.ANSWERS):
        st.session_state[keys.ANSWERS] = dict(reading.answers)
        st.session_state[keys.SKIPPED] = list(reading.skipped)
        st.session_state[keys.HISTORY] = answers.history_from_link(model, reading.answers)
    over = (
        f"{plural(fields, 'parameter')}"
        if fields > CLIENT_STATE_QUERY_STRING_MAX_FIELDS
        else f"{chars:,} characters"
    )
    answers.add_link_notes(
        [
            f"The link was too long ({over}; the page reads at most "
            f"{CLIENT_STATE_QUERY_STRING_MAX_FIELDS:,} parameters). Every emergency sign in "
            f"it was read; answers taken from it: {len(reading.answers)}; the rest was "
            "ignored. Check the answers below.",
            *reading.notes,
        ]
    )
    st.rerun()  # draw the page again with the answers the link held
