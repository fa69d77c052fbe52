"""Every page of the app (ui/app.py), run headless with Streamlit's AppTest.

Expected values come from the model's public API (``load_model``, ``with_values``,
``model.vignettes.evaluate``), never from numbers copied into the test. Widgets are found
by key. The Explore page has its own, longer file (tests/test_ui_app.py).
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import yaml
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from model import ToeTwitchModel
from model.priors import DEFAULT_PRIORS_PATH, load_priors, with_values
from model.vignettes import evaluate, load_vignettes
from tests.conftest import VIGNETTES
from tests.test_ui_app import APP, ranking, widget
from ui import priors_state as ps
from ui import tune
from ui.explore import ask_key
from ui.network import CPT_NODE
from ui.validation import UPLOAD as VIGNETTE_UPLOAD

PAGES = {
    "explore": ("pages_/explore.py", "What might be causing your toe twitching?"),
    "tune": ("pages_/tune.py", "Tune the priors"),
    "network": ("pages_/network.py", "The network"),
    "validation": ("pages_/validation.py", "Validation: clinical vignettes"),
}
#: A prior whose change visibly moves the ranking: how common hypnic jerks are in adults.
HYPNIC_ADULT = "causes.hypnic_jerk.prevalence.adult"


def open_app(**query: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update(query)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def go(app: AppTest, page: str) -> AppTest:
    app.switch_page(PAGES[page][0]).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def edit_value(app: AppTest, path: str, value: float) -> AppTest:
    """Type ``value`` into the value cell of the parameter ``path`` on the Tune page."""
    editor = app.data_editor[0]
    table = editor.value
    row = int(table.index[table["path"] == path][0])
    app.session_state[editor.key] = {
        "edited_rows": {row: {"value": value}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def table_with(app: AppTest, column: str):
    """The first table on the page that has this column, as a DataFrame."""
    return next(d.value for d in app.dataframe if column in d.value.columns)


def alerts(elements) -> str:
    """The texts of the elements as read on screen (Markdown escapes removed)."""
    return re.sub(r"\\(.)", r"\1", "\n".join(e.value for e in elements))


def file_digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- every page
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_an_exception(page):
    """Each page opens with its title, the same case in the URL, and no exception."""
    app = go(open_app(leg_pain="present"), page)
    assert app.title[0].value == PAGES[page][1]
    assert not app.error
    assert app.query_params == {"leg_pain": "present"}
    if page != "explore":  # the other pages show the case from Explore in the sidebar
        assert app.sidebar.header[0].value == "Your case"
        assert "Noticeable pain in the leg: **Yes**" in app.sidebar.markdown[0].value


def test_answers_survive_a_visit_to_another_page():
    """Answers and the URL stay while the Network page is shown, and come back on Explore."""
    app = open_app()
    widget(app, "onset_falling_asleep").set_value("present").run()
    before = ranking(app)
    go(app, "network")
    assert app.query_params == {"onset_falling_asleep": "present"}
    go(app, "explore")
    assert widget(app, "onset_falling_asleep").value == "present"
    assert ranking(app) == before


# ---------------------------------------------------------------- explore: in place
def test_answering_in_place_changes_the_ranking(model):
    """A "Yes" under "What to ask next" answers the question: sidebar, URL and ranking follow."""
    app = open_app(onset_falling_asleep="present")
    finding = next(
        q.finding
        for q in model.next_questions({"onset_falling_asleep": "present"}, k=5)
        if not q.red_flag
    )
    before = ranking(app)
    app.button(key=ask_key(finding, "present")).click().run()
    evidence = {"onset_falling_asleep": "present", finding: "present"}
    assert widget(app, finding).value == "present"
    assert app.query_params == evidence
    expected = [model.vocabulary.causes[c].label for c, _ in model.diagnose(evidence).ranking]
    assert ranking(app) == expected != before


def test_a_red_flag_answered_in_place_shows_the_emergency_banner():
    """The red flags are offered first; "Yes" to one turns the page into the emergency banner."""
    app = open_app()
    app.button(key=ask_key("confusion_or_fainting", "present")).click().run()
    assert app.error and "Seek emergency care now" in app.error[0].value
    assert not app.success and not app.warning and not ranking(app)


def test_why_shows_each_answer_with_its_weight(model):
    """ "Why?" lists every answer for or against the chosen cause, with the model's weights."""
    evidence = {"onset_falling_asleep": "present", "caffeine_or_stimulants": "absent"}
    app = open_app(**evidence)
    app.selectbox(key="why_cause").set_value("plmd").run()
    table = table_with(app, "Weight")
    explanation = model.explain(evidence, "plmd")
    answers = {"present": "Yes", "absent": "No"}
    weights = {  # the answers given (the implicit "toe twitching" is not one of them)
        f"{model.vocabulary.findings[c.finding].label}: {answers[c.state]}": c.weight
        for c in explanation.contributions
        if c.finding in evidence
    }
    assert dict(zip(table["Your answer"], table["Weight"], strict=True)) == pytest.approx(weights)
    assert set(table["Effect"]) <= {"supports", "opposes"}


def test_what_if_shows_the_ranking_after_one_more_answer(model):
    """ "What if" with a chosen finding shows the ranking the model gives with that answer."""
    app = open_app(onset_falling_asleep="present")
    app.selectbox(key="whatif_finding").set_value("during_sleep").run()
    app.segmented_control(key="whatif_state").set_value("present").run()
    table = table_with(app, "If so")
    after = model.diagnose({"onset_falling_asleep": "present", "during_sleep": "present"})
    labels = [
        f"{i}. {model.vocabulary.causes[c].label}" for i, (c, _) in enumerate(after.ranking, 1)
    ]
    assert list(table["Cause"]) == labels
    assert list(table["If so"]) == pytest.approx([p for _, p in after.ranking], abs=1e-9)


# ---------------------------------------------------------------- tune priors
def test_an_invalid_prior_edit_is_shown_and_changes_nothing(model):
    """A prevalence of 1.5 is refused with the validator's message; the ranking stays."""
    app = go(open_app(onset_falling_asleep="present"), "tune")
    before = ranking(go(app, "explore"))
    go(app, "tune")
    edit_value(app, HYPNIC_ADULT, 1.5)
    message = alerts(app.error)
    assert "was not applied" in message
    assert f"edited priors: {HYPNIC_ADULT}: value = 1.5 is out of (0, 1)" in message
    assert app.session_state[ps.EDITS] == {}
    assert ranking(go(app, "explore")) == before
    assert not any("tuned priors" in c.value for c in app.caption)


def test_a_valid_prior_edit_changes_the_ranking(model):
    """Hypnic jerks as common in adults as their range allows: the ranking is the tuned
    model's, and the vignettes listed as changed are those whose result changes."""
    evidence = {"age_group": "adult"}
    app = go(open_app(**evidence), "tune")
    high = next(p.high for p in model.structure.parameters if p.path == HYPNIC_ADULT)
    edit_value(app, HYPNIC_ADULT, high)
    assert not app.error
    assert app.session_state[ps.EDITS] == {HYPNIC_ADULT: high}
    tuned = ToeTwitchModel(with_values(model.priors, {HYPNIC_ADULT: high}))
    after = tuned.diagnose(evidence)
    case = table_with(app, "Was #")  # the Tune page's before/after table of the case
    assert list(case["After"]) == pytest.approx([p for _, p in after.ranking], abs=1e-9)
    vignettes = load_vignettes(VIGNETTES)
    pairs = zip(evaluate(model, vignettes).results, evaluate(tuned, vignettes).results, strict=True)
    changed = [  # the vignettes whose first cause or urgency the edit changes
        a.vignette.id
        for a, b in pairs
        if (a.diagnosis.top, a.diagnosis.urgency) != (b.diagnosis.top, b.diagnosis.urgency)
    ]
    assert changed  # else this edit would not test the list
    assert list(table_with(app, "First cause after")["Vignette"]) == changed
    go(app, "explore")
    expected = [tuned.vocabulary.causes[c].label for c, _ in after.ranking]
    default = [model.vocabulary.causes[c].label for c, _ in model.diagnose(evidence).ranking]
    assert ranking(app) == expected
    assert expected != default
    assert any("your tuned priors (1 edit" in c.value for c in app.caption)


def test_the_download_holds_the_edits_and_the_note(model, monkeypatch):
    """The downloaded file is valid priors with the edited value and the note as description."""
    saved: list[bytes] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        if filename and filename.endswith(".yaml"):
            saved.append(path_or_data)
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    before = file_digest(DEFAULT_PRIORS_PATH)
    app = go(open_app(), "tune")
    value = 0.06
    edit_value(app, HYPNIC_ADULT, value)
    app.text_area(key=tune.NOTE).input("Fewer adult hypnic jerks (clinic audit)").run()
    text = saved[-1].decode() if isinstance(saved[-1], bytes) else saved[-1]
    data = yaml.safe_load(text)
    assert data["causes"]["hypnic_jerk"]["prevalence"]["adult"]["value"] == value
    assert data["description"] == "Fewer adult hypnic jerks (clinic audit)"
    old = model.priors.causes["hypnic_jerk"].prevalence.adult.value
    assert f"{HYPNIC_ADULT}: {old:g} -> {value:g}" in text
    with_values(load_priors(), {HYPNIC_ADULT: value})  # the same edit is valid on its own
    assert file_digest(DEFAULT_PRIORS_PATH) == before  # the shipped file is never written


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.yaml", b"# " + b"x" * 1_100_000, "the limit is 1 MB"),
        ("photo.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8 text"),
        ("broken.yaml", b"causes: [unclosed\n  - a: b", "not valid YAML"),
        (
            "tag.yaml",
            b"!!python/object/apply:os.system ['echo hacked']\n",
            "YAML tags that build objects are not allowed",
        ),
    ],
    ids=["oversize", "binary", "not-yaml", "object-tag"],
)
def test_a_bad_priors_upload_is_refused_with_a_clear_message(name, content, message):
    """An upload that is too big, not text, not YAML or builds objects is refused; priors stay."""
    app = go(open_app(), "tune")
    app.file_uploader(key=tune.UPLOAD).set_value((name, content, "application/x-yaml")).run()
    assert not app.exception
    text = alerts(app.error)
    assert f"{name} was not loaded" in text and message in text
    assert ps.BASE not in app.session_state or app.session_state[ps.BASE] is None
    assert not app.success


def test_a_valid_priors_upload_is_used(model):
    """A valid priors file (the shipped one with one value changed) replaces the priors."""
    data = yaml.safe_load(DEFAULT_PRIORS_PATH.read_text())
    data["causes"]["hypnic_jerk"]["prevalence"]["adult"]["value"] = 0.06
    app = go(open_app(), "tune")
    upload = ("mine.yaml", yaml.safe_dump(data).encode(), "application/x-yaml")
    app.file_uploader(key=tune.UPLOAD).set_value(upload).run()
    assert "Loaded **mine.yaml**" in alerts(app.success)
    assert app.session_state[ps.BASE].causes["hypnic_jerk"].prevalence.adult.value == 0.06


# ---------------------------------------------------------------- network
def test_the_network_draws_link_strength_as_line_width(model):
    """The picture is Graphviz with one line per link, wider for stronger links."""
    app = go(open_app(), "network")
    dot = app.get("graphviz_chart")[0].proto.spec
    links = model.priors.findings["leg_pain"].links
    strong, weak = (
        max(links, key=lambda c: links[c].value),
        min(links, key=lambda c: links[c].value),
    )

    def width(cause: str) -> float:
        line = next(x for x in dot.splitlines() if x.strip().startswith(f"{cause} -> leg_pain "))
        return float(line.split("penwidth=")[1].split(",")[0])

    assert width(strong) > width(weak)


def test_the_table_of_a_node_is_shown_on_request(model):
    """Choosing a finding shows P(finding | its causes), equal to the model's table."""
    app = go(open_app(), "network")
    assert not [d for d in app.dataframe if "P(present)" in d.value.columns]
    app.selectbox(key=CPT_NODE).set_value("fever").run()
    table = table_with(app, "P(present)")
    parents = model.structure.parents("fever")
    assert list(table.columns) == [*parents, "P(absent)", "P(present)"]
    first = model.tables["fever"][0][(slice(None), *([0] * len(parents)))]
    assert table.iloc[0][["P(absent)", "P(present)"]].tolist() == pytest.approx(first.tolist())


# ---------------------------------------------------------------- validation
def test_the_validation_page_shows_the_scores_of_model_vignettes(model):
    """The four scores and each vignette's rank and urgency are those of ``evaluate``."""
    evaluation = evaluate(model, load_vignettes(VIGNETTES))
    summary = evaluation.summary
    app = go(open_app(), "validation")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {
        "First cause as expected": f"{summary['top1_accuracy']:.1%}",
        "Expected causes in the top 3": f"{summary['top3_accuracy']:.1%}",
        "Urgency as expected": f"{summary['urgency_accuracy']:.1%}",
        "Under-triaged": str(summary["under_triaged"]),
    }
    table = table_with(app, "Rank of expected")
    assert list(table["Vignette"]) == [r.vignette.id for r in evaluation.results]
    urgency = {u: model.vocabulary.urgency[u].label for u in model.vocabulary.urgency}
    assert list(table["Urgency"]) == [urgency[r.diagnosis.urgency] for r in evaluation.results]
    for shown, r in zip(table["Rank of expected"], evaluation.results, strict=True):
        expected = r.vignette.expect.top1 or r.vignette.expect.top3
        ranks = [i for i, (c, _) in enumerate(r.diagnosis.ranking, 1) if c in expected]
        assert (shown if shown == shown else None) == (min(ranks) if ranks else None)


def test_a_vignette_upload_with_an_object_tag_is_refused():
    """A vignette file that tries to build an object is not used; the shipped ones are shown."""
    app = go(open_app(), "validation")
    bad = ("cases.yaml", b"vignettes: !!python/object/new:list []\n", "application/x-yaml")
    app.file_uploader(key=VIGNETTE_UPLOAD).set_value(bad).run()
    text = alerts(app.error)
    assert "cases.yaml was not used" in text and "tags that build objects" in text
    assert "vignettes from tests/vignettes.yaml" in alerts(app.caption)


def test_an_uploaded_vignette_file_is_scored(model):
    """A valid uploaded file (two of the shipped vignettes) is scored instead."""
    data = yaml.safe_load(VIGNETTES.read_text())
    data["vignettes"] = data["vignettes"][:2]
    app = go(open_app(), "validation")
    upload = ("two.yaml", json.dumps(data).encode(), "application/x-yaml")
    app.file_uploader(key=VIGNETTE_UPLOAD).set_value(upload).run()
    assert not app.error
    assert len(table_with(app, "Rank of expected")) == 2
