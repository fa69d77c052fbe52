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
from toe_twitch.ui.text import cause_name
from toe_twitch.ui.views import tune
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


def test_one_causes_view_names_its_parameters_without_repeating_the_cause():
    """In one cause's view every row is that cause's, so the narrow pinned column starts
    with what tells the rows apart; the mixed view leads with the cause's name."""
    at = open_app(page="tune")
    assert grid(at).loc[HYPNIC_ADULT, "parameter"].startswith("Hypnic (hypnagogic) jerks · ")
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
    cramp = [p for p in rows.index if tune.cause_of(p) == "benign_cramp"]
    assert cramp and all(rows.loc[p, "parameter"].startswith(f"{name} · ") for p in cramp)
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


def test_the_whole_network_and_a_node_table():
    """The whole network is a picture; a node's table lists its parents' states."""
    from toe_twitch.ui.views.network import WHOLE

    at = open_app(page="network")
    at.selectbox(key=keys.NETWORK_FOCUS).set_value(WHOLE).run()
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
