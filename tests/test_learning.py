"""Learning the priors from a clinic's cases (issue 23): recovery, bad input, the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT
from toe_twitch import ToeTwitchModel, load_model
from toe_twitch.learning import (
    MAX_CASE_FILE_BYTES,
    CaseFileError,
    beta_prior,
    cases_csv,
    fit,
    model_with,
    moved_links,
    parse_cases,
    sample_cases,
)
from toe_twitch.priors import iter_parameters, load_priors, priors_to_data

#: Cases in the recovery test: enough for a dozen links of common causes to be seen
#: about a hundred times each, few enough for a fit of seconds.
RECOVERY_CASES = 1500


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toe_twitch", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def recovery(model):
    truth = moved_links(model)
    true_model = model_with(model, truth)
    rows = sample_cases(true_model, RECOVERY_CASES, seed=7, unknown=0.3, undiagnosed=0.4)
    cases = parse_cases(cases_csv(rows).encode(), "clinic.csv", model)
    return truth, fit(cases, model, tolerance=1e-2)


def test_learned_links_are_at_least_twice_as_close_to_the_truth_as_the_priors(recovery, model):
    truth, result = recovery
    learned = {n.path: n for n in result.numbers}
    closer = [abs(learned[p].after - v) * 2 <= abs(learned[p].before - v) for p, v in truth.items()]
    assert len(truth) == 12
    assert sum(closer) > len(truth) / 2, {p: (learned[p].before, learned[p].after, v) for p, v in truth.items()}


def test_ninety_percent_intervals_cover_most_moved_links(recovery):
    truth, result = recovery
    learned = {n.path: n for n in result.numbers}
    covered = [learned[p].low <= v <= learned[p].high for p, v in truth.items()]
    assert sum(covered) > len(truth) / 2


def test_numbers_that_were_not_moved_stay_near_their_priors(recovery):
    """Near: within the expert's own plausible range."""
    truth, result = recovery
    others = [n for n in result.numbers if n.path not in truth and n.kind in ("link", "leak")]
    inside = [n.prior_low <= n.after <= n.prior_high for n in others]
    assert np.mean(inside) >= 0.9


def test_the_fit_converges_and_counts_its_cases(recovery):
    _, result = recovery
    assert result.converged and result.iterations >= 2
    assert result.cases_used == RECOVERY_CASES and not result.skipped


def test_each_learned_source_names_the_file_the_cases_and_the_prior(recovery):
    _, result = recovery
    learned = {p.path: p for p in iter_parameters(result.priors)}
    informed = [n for n in result.numbers if n.cases >= 1]
    assert informed
    for n in informed[:20]:
        source = learned[n.path].source
        assert "clinic.csv" in source and f"{n.cases:.0f} cases" in source
        assert f"Started from {n.before:g}" in source


def test_the_range_becomes_the_prior_weight_in_cases():
    """A narrow range weighs more cases than a wide one around the same value."""
    assert beta_prior(0.2, 0.15, 0.26).weight > beta_prior(0.2, 0.05, 0.5).weight > 0


def test_a_diagnosis_fixes_the_causes_and_unknown_answers_add_nothing(model):
    text = "id,leg_pain,diagnosis\na,yes,plmt\nb,,none\nc,no,\n"
    cases = parse_cases(text.encode(), "three.csv", model)
    plmt = 1 << model.causes.index("plmt")
    assert cases.confirmed.tolist() == [plmt, 0, -1]
    assert cases.labels == ("a", "b", "c")
    leg = model.structure.findings.index("leg_pain")
    assert cases.rows.findings[:, leg].tolist() == [1, -1, 0]


def test_the_cause_state_posterior_sums_to_the_cause_marginals(model):
    post = model.cause_states([{"age_group": "adult", "leg_pain": "present"}])
    states = np.arange(post.joint.shape[-1])
    for j in range(len(model.causes)):
        share = post.joint[0][:, (states >> j) & 1 == 1].sum()
        assert share == pytest.approx(post.marginals[0, j], abs=1e-12)


def test_a_case_file_with_a_duplicated_column_is_refused(model):
    with pytest.raises(CaseFileError, match="appears twice"):
        parse_cases(b"leg_pain,leg_pain\nyes,no\n", "dup.csv", model)


# ---------------------------------------------------------------- the command line
def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(result: subprocess.CompletedProcess, out: Path, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert not out.exists()


def test_cli_names_the_unknown_column(tmp_path):
    cases = write(tmp_path, "c.csv", "id,leg_pian\na1,yes\n")
    out = tmp_path / "learned.yaml"
    refused(run("fit", str(cases), "--out", str(out)), out, "c.csv", "'leg_pian'", "leg_pain")


def test_cli_names_the_row_and_column_of_an_unknown_state(tmp_path):
    cases = write(tmp_path, "c.csv", "id,leg_pain\na1,yes\na2,maybe\n")
    out = tmp_path / "learned.yaml"
    refused(run("fit", str(cases), "--out", str(out)), out, "row 2 (id a2)", "'leg_pain'", "'maybe'")


def test_cli_names_an_unknown_cause_in_the_diagnosis(tmp_path):
    cases = write(tmp_path, "c.csv", "id,leg_pain,diagnosis\na1,yes,plmtt\n")
    out = tmp_path / "learned.yaml"
    refused(run("fit", str(cases), "--out", str(out)), out, "row 1 (id a1)", "'diagnosis'", "'plmt'")


def test_cli_refuses_an_empty_file(tmp_path):
    cases = write(tmp_path, "c.csv", "")
    out = tmp_path / "learned.yaml"
    refused(run("fit", str(cases), "--out", str(out)), out, "c.csv", "empty")


def test_cli_refuses_a_file_over_the_size_limit(tmp_path):
    cases = tmp_path / "big.csv"
    with open(cases, "wb") as handle:
        handle.truncate(MAX_CASE_FILE_BYTES + 1)  # sparse: nothing is written to disk
    out = tmp_path / "learned.yaml"
    refused(run("fit", str(cases), "--out", str(out)), out, "big.csv", "larger than the limit")


def impossible_priors(tmp_path: Path, model: ToeTwitchModel) -> tuple[Path, str, str]:
    """Priors in which finding ``f`` has no leak and comes only from cause ``c``, which
    always produces finding ``g``: answering f yes and g no is impossible."""
    data = priors_to_data(load_priors())
    f, g = "leg_pain", "cramp_stiffness"
    c = next(iter(data["findings"][f]["links"]))

    def set_all(node: dict, value: float) -> None:
        for leaf in ([node] if "value" in node else node.values()):
            leaf.update(value=value, low=value, high=value)

    set_all(data["findings"][f]["leak"], 0.0)
    for cause, link in data["findings"][f]["links"].items():
        set_all(link, 0.5 if cause == c else 0.0)
    data["findings"][g]["links"][c] = {"value": 1.0, "low": 1.0, "high": 1.0,
                                       "source": "test: this cause always produces it"}
    path = tmp_path / "impossible.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path, f, g


def test_cli_skips_and_counts_an_impossible_case_and_uses_the_rest(tmp_path, model):
    priors, f, g = impossible_priors(tmp_path, model)
    rows = sample_cases(load_model(priors), 30, seed=3)
    bad = {name: "" for name in rows[0]} | {"id": "bad-1", f: "yes", g: "no"}
    text = cases_csv([*rows, bad])
    cases = write(tmp_path, "c.csv", text)
    out = tmp_path / "learned.yaml"
    result = run("fit", str(cases), "--out", str(out), "--priors", str(priors), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["cases_used"] == 30
    assert [c["row"] for c in report["cases_skipped"]] == [31]
    assert "cannot all be true" in report["cases_skipped"][0]["reason"]
    assert out.exists()


def test_cli_writes_a_priors_file_that_validates_and_loads(tmp_path, model):
    cases = write(tmp_path, "c.csv", cases_csv(sample_cases(model, 40, seed=5)))
    out = tmp_path / "learned.yaml"
    result = run("fit", str(cases), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "40 cases" in result.stdout
    check = run("validate-priors", str(out))
    assert check.returncode == 0, check.stderr
    learned = load_model(out)
    assert learned.causes == model.causes
    assert "c.csv" in learned.priors.name


def test_cli_never_overwrites_without_force(tmp_path, model):
    cases = write(tmp_path, "c.csv", "id,leg_pain\na1,yes\n")
    out = write(tmp_path, "learned.yaml", "keep me")
    result = run("fit", str(cases), "--out", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--force" in result.stderr
    assert out.read_text() == "keep me"
    assert not any(name.startswith(".learned") for name in os.listdir(tmp_path))


# ---------------------------------------------------------------- the page
@pytest.fixture
def _worker_stopped():
    yield
    from toe_twitch.ui import loaders

    loaders.worker().shutdown()


def test_the_page_learns_from_an_upload_and_the_learned_priors_work_on_every_page(model, _worker_stopped):
    """Tune priors: the fit runs in the worker, the moved numbers and the vignette scores
    are shown, and after "Use" every page runs with the learned priors."""
    from streamlit.testing.v1 import AppTest

    from tests.test_ui_app import APP, PAGES, click, go, rerun
    from toe_twitch.ui import keys
    from toe_twitch.ui.views import learn

    # The fit starts the worker process and waits for it: longer than a page run.
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    go(at, "tune")
    text = cases_csv(sample_cases(model, 40, seed=11))
    at.file_uploader(key=learn.UPLOAD_KEY).set_value(("clinic**x**.csv", text.encode(), "text/csv"))
    rerun(at)
    assert any("clinic**x**.csv: 40 cases used" in t.value for t in at.text)
    assert any("Shipped vignettes, before → after" in m.value for m in at.markdown)
    click(at, learn.USE_KEY)
    assert keys.PRIORS_BASE in at.session_state
    assert "learned from clinic**x**.csv" in at.session_state[keys.PRIORS_BASE].name
    for page in PAGES:
        go(at, page)
