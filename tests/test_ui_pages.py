"""Tune priors, Network and Validation, run headless with Streamlit's AppTest.

Expected values come from the model's public API (``with_values``, ``evaluate``), never
from numbers copied into the test. Widgets are found by key (:mod:`ui.keys`).
"""

from __future__ import annotations

import html
import re

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from tests.test_ui_app import (
    assert_fine,
    click,
    expected_ranking,
    go,
    htmls,
    impossible_priors,
    open_app,
    ranking,
    rerun,
    texts,
    with_priors,
)
from toe_twitch import ToeTwitchModel, load_model
from toe_twitch.priors import DEFAULT_PRIORS_PATH, with_values
from toe_twitch.ui import keys, loaders, widgets
from toe_twitch.ui.text import cause_name, percent
from toe_twitch.ui.views import tune, tune_labels
from toe_twitch.vignettes import evaluate, load_vignettes

#: A prior whose change visibly moves the ranking: how common hypnic jerks are in adults.
HYPNIC_ADULT = "causes.hypnic_jerk.prevalence.adult"
#: A link probability (bounded by [0, 1]).
LINK = "findings.leg_pain.links.plmt"


@pytest.fixture(autouse=True, scope="module")
def _stop_the_worker():
    """The Validation tests start the worker process; stop it after them."""
    yield
    loaders.worker().shutdown()


def edit_value(at: AppTest, path: str, value: object) -> AppTest:
    """Type ``value`` into the value cell of the parameter ``path`` on the Tune page."""
    editor = at.data_editor[0]
    table = editor.value
    row = int(table.index[table["path"] == path][0])
    at.session_state[editor.key] = {
        "edited_rows": {row: {"value": value}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    return rerun(at)


def grid(at: AppTest):
    return at.data_editor[0].value.set_index("path")


def upload(at: AppTest, key: str, name: str, data: bytes) -> AppTest:
    at.file_uploader(key=key).set_value((name, data, "application/x-yaml")).run()
    return rerun(at)


# ---------------------------------------------------------------- Tune priors
def test_a_valid_edit_is_used_on_every_page():
    """An edit within its range is accepted, and the All questions page ranks with it."""
    m = load_model()
    high = next(p.high for p in m.structure.parameters if p.path == HYPNIC_ADULT)
    at = open_app({"age_group": "adult"}, page="tune")
    edit_value(at, HYPNIC_ADULT, high)
    assert at.session_state[keys.PRIORS_EDITS] == {HYPNIC_ADULT: high}
    assert grid(at).loc[HYPNIC_ADULT, "check"] == "✎ edited"
    go(at, "explore")
    tuned = ToeTwitchModel.from_priors(with_values(m.priors, {HYPNIC_ADULT: high}))
    assert ranking(at) == expected_ranking({"age_group": "adult"}, tuned)
    assert "tuned priors (1 edit to the shipped priors" in "".join(htmls(at))


def test_a_refused_value_is_marked_and_the_value_in_force_shown():
    """A link of 1.7 is refused: the model keeps the old value, the cell shows it again
    and is marked, and the reason stands beside the table."""
    m = load_model()
    before = next(p.value for p in m.structure.parameters if p.path == LINK)
    at = open_app(page="tune")
    edit_value(at, LINK, 1.7)
    assert at.session_state[keys.PRIORS_EDITS] == {}
    assert LINK in at.session_state[keys.PRIORS_REFUSED]
    row = grid(at).loc[LINK]
    assert row["value"] == before
    assert row["check"].startswith(tune.REFUSED_MARK) and "1.7" in row["check"]
    assert "not applied" in at.error[0].value
    assert "is out of [0, 1]" in at.code[0].value and f"kept {before:g}" in at.code[0].value


def test_an_emptied_cell_is_refused_too():
    """An emptied (or non-number) cell is refused like any invalid value."""
    at = open_app(page="tune")
    edit_value(at, LINK, None)
    assert at.session_state[keys.PRIORS_EDITS] == {}
    assert LINK in at.session_state[keys.PRIORS_REFUSED]


def test_an_oversize_upload_says_so_in_visible_text():
    """A 2 MB file is refused with its size and the limit in plain words."""
    at = open_app(page="tune")
    upload(at, keys.TUNE_UPLOAD, "big.yaml", b"a" * 2_000_000)
    assert any("2.0 MB, and the limit is 1 MB" in e.value for e in at.error)
    assert session_is_shipped(at)


def session_is_shipped(at: AppTest) -> bool:
    return at.session_state[keys.PRIORS_EDITS] == {} and keys.PRIORS_BASE not in at.session_state


def test_a_bad_priors_file_lists_its_first_problems_and_offers_all():
    """A file with many problems: the first ones in plain text, a count of the rest, and
    a download of the whole list; the priors in use are unchanged."""
    data = yaml.safe_load(DEFAULT_PRIORS_PATH.read_text())
    for cause in data["causes"].values():
        for by_age in cause["prevalence"].values():
            by_age["value"] = 7.0
    at = open_app(page="tune")
    upload(at, keys.TUNE_UPLOAD, "bad.yaml", yaml.safe_dump(data).encode())
    assert any("This file was not used" in e.value for e in at.error)
    assert len(at.code[-1].value.splitlines()) == widgets.SHOWN_PROBLEMS
    assert any("more problems" in c.value for c in at.caption)
    assert any(b.label.startswith("Download all") for b in at.get("download_button"))
    assert session_is_shipped(at)


def test_a_good_priors_file_is_used_and_the_way_back_works():
    """A valid upload is used by the session (its name shown as plain text); "Back to the
    shipped priors" returns to them."""
    text = DEFAULT_PRIORS_PATH.read_text().replace("name: default", "name: clinic", 1)
    text = text.replace("value: 0.022,", "value: 0.023,", 1).replace(
        "value: 0.199,", "value: 0.198,", 1
    )
    at = open_app(page="tune")
    upload(at, keys.TUNE_UPLOAD, "clinic**[x](y)**.yaml", text.encode())
    assert at.success and "clinic**[x](y)**.yaml" in [t.value for t in at.text]
    assert not session_is_shipped(at)
    click(at, keys.TUNE_BACK_TO_DEFAULT)
    assert session_is_shipped(at)


def test_the_same_file_chosen_again_after_going_back_is_used_again():
    """Back to the shipped priors, then the same file chosen again: it is used again (a
    good file) or its problems shown again (a bad one), not silently ignored."""
    text = DEFAULT_PRIORS_PATH.read_text().replace("name: default", "name: clinic", 1)
    at = open_app(page="tune")
    for _ in range(2):
        upload(at, keys.TUNE_UPLOAD, "clinic.yaml", text.encode())
        assert not session_is_shipped(at), texts(at)
        click(at, keys.TUNE_BACK_TO_DEFAULT)
        assert session_is_shipped(at)
    bad = b"name: [unclosed\n"
    upload(at, keys.TUNE_UPLOAD, "bad.yaml", bad)
    assert any("This file was not used" in e.value for e in at.error), texts(at)


def clinic_file(changes: dict[str, float]) -> bytes:
    """The shipped priors with some values changed, as an uploaded file would hold them."""
    from tests.conftest import edited_priors
    from toe_twitch.priors import priors_to_data

    data = priors_to_data(edited_priors(changes))
    data["name"] = "clinic"
    return yaml.safe_dump(data, sort_keys=False).encode()


def test_an_uploaded_file_is_compared_with_the_shipped_priors():
    """After a file is loaded (no edit yet), "What the edits change" lists the file's own
    changes against the shipped priors, by label, and the case before and after differ."""
    m = load_model()
    high = next(p.high for p in m.structure.parameters if p.path == HYPNIC_ADULT)
    at = open_app({"age_group": "adult"}, page="tune")
    upload(at, keys.TUNE_UPLOAD, "clinic.yaml", clinic_file({HYPNIC_ADULT: high}))
    page = "".join(htmls(at))
    assert 'aria-label="Numbers that differ from the shipped priors"' in page
    assert html.escape(tune_labels.row_label(m, HYPNIC_ADULT)) in page and HYPNIC_ADULT not in page
    assert "1 number differs from the shipped priors" in texts(at)
    assert "Nothing differs from the shipped priors" not in texts(at)
    assert "Before: the shipped priors. After: the priors of the uploaded file clinic.yaml." in page


def test_the_edits_in_use_are_listed_by_label_not_by_path():
    m = load_model()
    high = next(p.high for p in m.structure.parameters if p.path == HYPNIC_ADULT)
    at = open_app(page="tune")
    edit_value(at, HYPNIC_ADULT, high)
    table = next(b for b in htmls(at) if 'aria-label="Edits in use"' in b)
    assert html.escape(tune_labels.row_label(m, HYPNIC_ADULT)) in table
    assert HYPNIC_ADULT not in table


def test_a_refused_row_comes_first_and_is_shown_in_full():
    """After a refused edit the fresh grid starts with the refused row (in sight), and the
    row's full label, range and source stand beside the grid."""
    m = load_model()
    ref = next(p for p in m.structure.parameters if p.path == LINK)
    at = open_app(page="tune")
    edit_value(at, LINK, 1.7)
    assert at.data_editor[0].value["path"].iloc[0] == LINK
    assert at.selectbox(key=tune.DETAIL).value == LINK
    detail = next(b for b in htmls(at) if "The chosen row in full" in b)
    assert html.escape(tune_labels.row_label(m, LINK)) in detail
    assert f"{ref.low:g} to {ref.high:g}" in detail
    assert html.escape(" ".join(ref.source.split())) in detail


def test_a_copy_records_each_edit_in_its_source():
    """The downloaded copy says, beside an edited number, that it was edited on the page
    and from what, keeping the shipped source; the copy is a valid priors file."""
    from toe_twitch.priors import iter_parameters, parse_priors_text
    from toe_twitch.ui import session_priors

    m = load_model()
    ref = next(p for p in m.structure.parameters if p.path == HYPNIC_ADULT)
    at = open_app(page="tune")
    edit_value(at, HYPNIC_ADULT, ref.high)
    text = tune.priors_yaml(session_priors.current(at.session_state), "copy", "")
    copy = {p.path: p for p in iter_parameters(parse_priors_text(text, "copy.yaml"))}
    assert copy[HYPNIC_ADULT].value == ref.high
    assert copy[HYPNIC_ADULT].source.startswith(
        f"expert judgement: edited on the page from {ref.value:g}; shipped source: "
    )
    assert " ".join(ref.source.split()) in copy[HYPNIC_ADULT].source
    assert copy[LINK].source == next(p.source for p in m.structure.parameters if p.path == LINK)


def test_one_earlier_edit_set_aside_is_said_in_the_singular():
    m = load_model()
    high = next(p.high for p in m.structure.parameters if p.path == HYPNIC_ADULT)
    at = open_app(page="tune")
    edit_value(at, HYPNIC_ADULT, high)
    upload(at, keys.TUNE_UPLOAD, "clinic.yaml", clinic_file({}))
    assert "Your 1 earlier edit was set aside." in texts(at)


HOSTILE_NAMES = (
    "[Official priors](https:example.org).yaml",
    ":red[**Emergency - call 911 now**].yaml",
)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_an_uploaded_files_name_never_reaches_markdown(name):
    """A file's name is shown only where Markdown is never read (plain text, escaped
    HTML): on Tune, on All questions (the priors in use) and on Validation."""
    at = open_app(page="tune")
    upload(at, keys.TUNE_UPLOAD, name, clinic_file({}))
    assert not session_is_shipped(at), texts(at)
    for page in ("tune", "explore", "validation"):
        go(at, page)
        rerun(at)
        markdown = [e.value for kind in (at.markdown, at.caption, at.title, at.header,
                                         at.subheader, at.info, at.success, at.warning,
                                         at.error) for e in kind]  # fmt: skip
        assert not any("Official priors" in t or "911" in t for t in markdown), page
        assert any(html.escape(name) in b for b in htmls(at)) or name in [t.value for t in at.text]


def test_one_causes_view_names_its_parameters_without_repeating_the_cause():
    """The narrow pinned column starts with what tells neighbouring rows apart (the
    parameter), then the cause's name; in one cause's view the name is not repeated."""
    at = open_app(page="tune")
    assert grid(at).loc[HYPNIC_ADULT, "parameter"] == (
        "prevalence, adult (18 to 59) · Hypnic (hypnagogic) jerks"
    )
    at.selectbox(key=keys.TUNE_FILTER).set_value("cause:hypnic_jerk").run()
    rerun(at)
    assert grid(at).loc[HYPNIC_ADULT, "parameter"] == "prevalence, adult (18 to 59)"


def test_a_cause_has_one_name_on_the_tune_page():
    """The grid, the view list and the ranking call a cause by the same name: the one
    every page uses (text.cause_name), never a second, shorter one."""
    m = load_model()
    at = open_app(page="tune")
    name = cause_name(m, "benign_cramp")
    rows = grid(at)
    cramp = [p for p in rows.index if tune_labels.cause_of(p) == "benign_cramp"]
    assert cramp and all(rows.loc[p, "parameter"].endswith(f" · {name}") for p in cramp)
    assert f"Everything about {name}" in at.selectbox(key=keys.TUNE_FILTER).options
    assert not any("Benign cramp" in label for label in rows["parameter"])


def test_the_definitions_are_shown_on_the_tune_page():
    """Each kind of number in view is explained by its one definition."""
    from toe_twitch.priors import DEFINITIONS

    at = open_app(page="tune")
    shown = texts(at)
    assert DEFINITIONS["odds ratio"] in shown and DEFINITIONS["leak probability"] in shown


# ---------------------------------------------------------------- Network
def test_the_network_shows_one_cause_by_default():
    """On opening, the network shows the case's likeliest cause with its risk factors
    and findings as lists (legible on a phone), not the whole picture."""
    at = open_app({"onset_falling_asleep": "present"}, page="network")
    assert at.selectbox(key=keys.NETWORK_FOCUS).value == "hypnic_jerk"
    assert not at.get("graphviz_chart")
    assert any(
        "Link probabilities of its findings" in b for b in (h.proto.body for h in at.get("html"))
    )


def matrix_cells(at: AppTest) -> tuple[list[str], dict[str, list[str]]]:
    """The matrix's column headers and ``{row name: cell texts}``."""
    body = next(b for b in htmls(at) if 'class="tt-matrix"' in b)
    heads = [html.unescape(h) for h in re.findall(r'role="columnheader"><span>([^<]*)<', body)]
    rows = {}
    for row in re.findall(r'<div role="row">(.*?)</div></div>(?=<div role="row">|</div>)', body):
        name = html.unescape(re.search(r'role="rowheader">([^<]*)<', row).group(1))
        rows[name] = [html.unescape(c) for c in re.findall(r'role="cell"[^>]*>([^<]*)<', row)]
    return heads, rows


def test_the_whole_network_is_a_matrix_of_link_strengths():
    """Every cause against every finding: a cell holds the link probability the priors
    give (the largest over the age groups), a dash where there is no link."""
    from toe_twitch.ui.views.network import WHOLE

    m = load_model()
    at = open_app(page="network")
    at.selectbox(key=keys.NETWORK_FOCUS).set_value(WHOLE).run()
    assert not at.get("graphviz_chart")
    heads, rows = matrix_cells(at)
    assert heads == ["Finding", *(cause_name(m, c) for c in m.causes)]
    leg_pain = rows[m.vocabulary.findings["leg_pain"].label]
    links = m.priors.findings["leg_pain"].links
    plmt = links["plmt"]
    expected = (
        plmt.value
        if hasattr(plmt, "value")
        else max(getattr(plmt, a).value for a in type(plmt).model_fields)
    )
    assert leg_pain[m.causes.index("plmt")] == percent(expected)
    assert all(leg_pain[i] == "–" for i, c in enumerate(m.causes) if c not in links)


def test_the_matrix_filters_by_cause_and_strength():
    from toe_twitch.ui.views import network

    m = load_model()
    at = open_app(page="network")
    at.selectbox(key=keys.NETWORK_FOCUS).set_value(network.WHOLE).run()
    at.multiselect(key=network.MATRIX_CAUSES).set_value(["plmd", "als"]).run()
    at.select_slider(key=network.MATRIX_MIN).set_value(0.3).run()
    heads, rows = matrix_cells(at)
    assert heads == ["Finding", cause_name(m, "plmd"), cause_name(m, "als")]
    strengths = network.link_strengths(m)
    expected = {
        f for f in m.structure.findings
        if any(strengths[f].get(c, 0) >= 0.3 for c in ("plmd", "als"))
    }  # fmt: skip
    assert len(rows) == len(expected) > 0
    for cells in rows.values():
        assert all(c == "–" or float(c.rstrip("%")) >= 30 for c in cells)


def test_one_cause_keeps_its_picture_and_a_node_its_table():
    at = open_app(page="network")
    at.toggle(key=keys.NETWORK_PICTURE).set_value(True).run()
    assert at.get("graphviz_chart")
    at.selectbox(key=keys.NETWORK_NODE).set_value("plmt").run()
    table = at.dataframe[0].value
    assert "P(present)" in table.columns and len(table) > 1


# ---------------------------------------------------------------- Validation
def cards(at: AppTest) -> dict[str, tuple[str, str]]:
    """The score cards of the Validation page: ``{label: (value, what it is out of)}``."""
    body = next(b for b in htmls(at) if 'class="tt-cards"' in b)
    found = re.findall(
        r'tt-card-label">([^<]*)</span><span class="tt-card-value">([^<]*)</span>'
        r'<span class="tt-card-of">([^<]*)</span>',
        body,
    )
    return {html.unescape(k): (html.unescape(v), html.unescape(o)) for k, v, o in found}


def test_the_shipped_vignettes_are_scored_as_evaluate_scores_them():
    """Each card shows the score as evaluate computes it and how many vignettes it is out of."""
    m = load_model()
    summary = evaluate(m, load_vignettes()).summary
    at = open_app(page="validation")
    shown = cards(at)
    assert shown["First cause as expected"] == (
        f"{summary['top1_accuracy']:.1%}",
        f"of {summary['top1_judged']} vignettes that name a first cause",
    )
    assert shown["Urgency as expected"][1] == f"of all {summary['vignettes']} vignettes scored"
    assert shown["Under-triaged"][0] == str(summary["under_triaged"])


def vignette_file(findings_list: list[dict[str, str]]) -> bytes:
    rows = [
        {
            "id": f"case-{i}",
            "findings": f,
            "expect": {"urgency": ["self_care", "see_doctor", "emergency"]},
        }
        for i, f in enumerate(findings_list)
    ]
    return yaml.safe_dump({"vignettes": rows}).encode()


def test_an_upload_with_impossible_rows_skips_them_by_id(monkeypatch):
    """Rows impossible under the priors in use are listed with their id and left out;
    the file is scored once (a rerun, or the "only misses" toggle, does not score again)."""
    at = open_app(page="validation")
    with_priors(at, impossible_priors())
    calls = []
    real = loaders.Worker.submit
    monkeypatch.setattr(
        loaders.Worker, "submit", lambda self, *a: calls.append(a[0].__name__) or real(self, *a)
    )
    data = vignette_file(
        [{"leg_pain": "present"}, {"fever": "present"}, {"onset_falling_asleep": "present"}]
    )
    upload(at, keys.VALIDATION_UPLOAD, "mine.yaml", data)
    assert cards(at)["Urgency as expected"][0] == "100.0%"
    assert any("could not be scored" in e.value for e in at.error)
    assert "case-1" in at.code[0].value
    at.toggle(key=keys.VALIDATION_MISSES).set_value(True).run()
    rerun(at)
    assert calls.count("score_vignette_text") == 1


def test_a_bad_vignette_file_lists_its_problems_and_shows_the_shipped_ones():
    data = vignette_file([{"leg_pn": "present"} for _ in range(30)])
    at = open_app(page="validation")
    upload(at, keys.VALIDATION_UPLOAD, "bad.yaml", data)
    assert any("This file was not used" in e.value for e in at.error)
    assert len(at.code[0].value.splitlines()) == widgets.SHOWN_PROBLEMS
    assert "The shipped vignettes (model/data/vignettes.yaml)" in [t.value for t in at.text]
    assert_fine(at)


def test_the_results_table_shows_marks_in_words_and_the_story_early():
    """The judgements read as a sign and a word (colour is not the only carrier), and the
    urgency and the story come before the long columns."""
    from toe_twitch.ui.views import validation

    at = open_app(page="validation")
    table = at.dataframe[0].value
    assert list(table.columns) == validation.TABLE_COLUMNS
    assert list(table.columns).index("story") < list(table.columns).index("expected")
    assert set(table["top-1"]) <= {"✓ yes", "✗ no", "–"}
    assert validation._mark_colour("✗ no") and validation._mark_colour("✓ yes")


def test_a_killed_worker_offers_to_score_the_file_again(monkeypatch):
    """The worker process is killed while it holds the uploaded file: the page says the
    scoring stopped (not that the priors are at fault) and "Score the file again" scores it."""
    import multiprocessing
    import os
    import signal
    import threading
    import time

    from toe_twitch.ui.views import validation

    at = open_app(page="validation")
    busy = loaders.worker().submit(time.sleep, 600)  # the file waits behind this job
    submitted = threading.Event()
    real = loaders.Worker.submit

    def submit(self, function, *args):
        future = real(self, function, *args)
        if function.__name__ == "score_vignette_text":
            submitted.set()
        return future

    monkeypatch.setattr(loaders.Worker, "submit", submit)

    def kill_when_the_file_is_queued() -> None:
        submitted.wait(120)
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_when_the_file_is_queued)
    killer.start()
    file = ("mine.yaml", vignette_file([{"leg_pain": "present"}]), "application/x-yaml")
    at.file_uploader(key=keys.VALIDATION_UPLOAD).set_value(file).run()  # one run, no more
    killer.join()
    assert busy.exception() is not None
    shown = texts(at)
    assert "scoring of this file stopped before it finished" in shown
    assert "shipped priors" not in " ".join(w.value for w in at.warning)
    assert not any("Something went wrong" in e.value for e in at.error)
    monkeypatch.setattr(loaders.Worker, "submit", real)
    click(at, validation.RETRY)
    assert "From the uploaded file: mine.yaml" in [t.value for t in at.text]
    assert cards(at)["Urgency as expected"][1] == "of all 1 vignette scored"


# ---------------------------------------------------------------- server
FIRST_RUN_AT_SHUTDOWN = """
import atexit, threading
go, done = threading.Event(), threading.Event()
def first_run():
    go.wait()
    try:
        import toe_twitch.ui.background
    finally:
        print("import attempted", flush=True)
        done.set()
atexit.register(lambda: (go.set(), done.wait(120)))  # after threading's shutdown began
threading.Thread(target=first_run, daemon=True).start()
"""


def test_a_first_run_cut_short_by_the_server_stopping_prints_no_traceback():
    """The server stops while a first page is loading: the page's run imports the worker
    module after Python began shutting down (Streamlit's script threads are daemons).
    It ends quietly, without "can't register atexit after shutdown"."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", FIRST_RUN_AT_SHUTDOWN], capture_output=True, text=True, timeout=180
    )
    assert "import attempted" in done.stdout
    assert done.stderr == ""


def test_every_matrix_cell_reads_at_4_5_to_1_or_better():
    """WCAG AA for the matrix's text on every strength of blue (axe-core found a mid-blue
    cell at 4.2:1 with a near-black text)."""
    from toe_twitch.ui.charts import _luminance, strength_colours

    for i in range(1001):
        background, text = strength_colours(i / 1000)
        lum = _luminance(tuple(int(background[j : j + 2], 16) for j in (1, 3, 5)))
        other = _luminance(tuple(int(text[j : j + 2], 16) for j in (1, 3, 5)))
        ratio = (max(lum, other) + 0.05) / (min(lum, other) + 0.05)
        assert ratio >= 4.5, (i / 1000, background, text, ratio)
