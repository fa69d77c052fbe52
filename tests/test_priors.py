"""The priors file: every number sourced and ranged; every bad file rejected clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT
from toe_twitch.errors import PriorsError
from toe_twitch.priors import (
    DEFAULT_PRIORS_PATH,
    DEFINITIONS,
    iter_parameters,
    load_priors,
    parse_priors_text,
    priors_to_data,
    source_counts,
    source_kind,
    validate_priors_data,
    with_values,
)

DEFAULT_TEXT = DEFAULT_PRIORS_PATH.read_text()


def _data():
    return yaml.safe_load(DEFAULT_TEXT)


def _problems(text_or_data) -> str:
    text = text_or_data if isinstance(text_or_data, str) else yaml.safe_dump(text_or_data)
    with pytest.raises(PriorsError) as info:
        parse_priors_text(text, source="bad.yaml")
    return str(info.value)


def test_default_priors_are_valid_and_complete():
    """The shipped file validates and holds a parameter for every cause and finding."""
    priors = load_priors()
    assert len(priors.causes) == 12
    assert len(list(iter_parameters(priors))) > 300


def test_every_parameter_has_a_source_and_a_range_around_its_value():
    """Each number carries a source and low <= value <= high; no bare 'expert judgement'."""
    for p in iter_parameters(load_priors()):
        assert len(p.source.strip()) >= 10, p.path
        assert p.low <= p.value <= p.high, p.path
        if p.source_kind == "judged":
            assert len(p.source.split(":", 1)[1].strip()) >= 25, p.path


def test_a_third_of_the_parameters_cite_a_published_figure():
    """The shipped file: the share citing a figure (the issue's target is a half; see the
    README for what is still judgement and why). Regression floor, not the goal."""
    counts = source_counts(load_priors())
    assert counts["cited"] / sum(counts.values()) >= 0.30


def test_a_bare_expert_judgement_is_refused():
    data = _data()
    data["findings"]["fever"]["leak"]["source"] = "expert judgement"
    assert "an expert judgement must give its reasoning" in _problems(data)
    assert source_kind("Hollowell 2002: 4.6%") == "cited"
    assert source_kind("definition: the toes move") == "definition"


def test_each_kind_of_number_is_defined_once_and_quoted_everywhere():
    """The one definition of each kind appears verbatim in priors/README.md, in the header
    of the shipped file, and as the docstring of its schema class."""
    from toe_twitch import priors as schema

    readme = " ".join((ROOT / "priors" / "README.md").read_text().split())
    header = " ".join(DEFAULT_TEXT[: DEFAULT_TEXT.index("schema_version")].replace("#", " ").split())
    classes = {
        "proportion": schema.Proportion, "risk factor prevalence": schema.RiskFactorPrevalence,
        "cause prevalence": schema.CausePrevalence, "odds ratio": schema.OddsRatio,
        "link probability": schema.LinkProbability, "leak probability": schema.Leak,
        "threshold": schema.Threshold,
    }
    for kind, text in DEFINITIONS.items():
        assert text in readme, kind
        assert text in header, kind
        assert classes[kind].__doc__ == text, kind


def test_leaks_and_links_may_be_given_by_age_group():
    priors = load_priors()
    by_age = [p.path for p in iter_parameters(priors) if p.path.startswith("findings.muscle_weakness.leak.")]
    assert len(by_age) == 4
    assert [p for p in iter_parameters(priors) if p.path == "findings.fever.leak"]


def test_the_shipped_file_round_trips_through_plain_data():
    priors = load_priors()
    assert validate_priors_data(priors_to_data(priors), "again") == priors


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        ("causes.als.prevalence.adult", 0.0, "out of [1e-12"),
        ("causes.als.prevalence.adult", 1e-300, "out of [1e-12"),
        ("findings.fever.leak", 1.0, "a leak of 1 would make the answer 'no' impossible"),
        ("causes.poor_circulation.risk_factors.vascular_risk", 1e15, "out of [0.0001, 10000]"),
        ("age_groups.infant", 0.0, "an age group with no one in it"),
        ("risk_factors.diabetes.prevalence.adult", 1.0, "would make one answer to the question impossible"),
    ],
)
def test_values_the_engine_cannot_answer_are_refused_with_the_reason(path, value, rule):
    """Issue 15 and 16: extreme values are either answered exactly or refused, with the
    field and the rule named (the same message on the command line and the page)."""
    data = _data()
    node = data
    for part in path.split("."):
        node = node[part]
    node.update(value=value, low=min(node["low"], value), high=max(node["high"], value))
    message = _problems(data)
    assert path in message and rule in message


def test_odds_ratios_beyond_the_bounds_are_still_calibrated_exactly():
    """Issue 16: odds ratios of 1e15 once broke the calibration silently (PLMT 0.0005
    became 0.03). The schema now refuses them, and the calibration itself (stable logistic,
    bisection on the log-odds scale) meets the prevalence even there."""
    from toe_twitch.network import build_structure, build_tables
    from toe_twitch.vocabulary import load_vocabulary

    structure = build_structure(load_priors(), load_vocabulary())
    theta = structure.values()
    theta[structure.index["causes.plmt.risk_factors.spine_or_nerve_injury"]] = 1e15
    tables = build_tables(structure, theta, "test")
    parents = structure.cause_parents["plmt"]  # risk factor i is bit i
    present = tables.cause["plmt"][0, 1]  # (A, 2**n)
    reached = 0.0
    for column in range(2 ** len(parents)):
        weight = 1.0
        for i, rf in enumerate(parents):
            weight = weight * tables.risk_factor[rf][0][(column >> i) & 1]  # (A,)
        reached = reached + weight * present[:, column]
    target = theta[[structure.index[f"causes.plmt.prevalence.{a}"] for a in structure.age_states]]
    assert np.allclose(reached, target, rtol=1e-9)


def test_a_calibration_that_misses_its_prevalence_is_refused(monkeypatch):
    """The check after fitting: if the baseline does not reproduce the prevalence, the file
    is refused naming the field (here the fit is broken on purpose)."""
    from toe_twitch import network
    from toe_twitch.vocabulary import load_vocabulary

    monkeypatch.setattr(network, "calibrate_baseline", lambda prevalence, *_: np.zeros_like(prevalence))
    structure = network.build_structure(load_priors(), load_vocabulary())
    with pytest.raises(PriorsError, match=r"causes\.benign_cramp\.prevalence\.\w+: cannot be met"):
        network.build_tables(structure, structure.values(), "test")


def test_probability_out_of_range_is_named_with_its_path():
    data = _data()
    data["causes"]["plmt"]["prevalence"]["older_adult"]["value"] = 1.5
    message = _problems(data)
    assert "causes.plmt.prevalence.older_adult" in message
    assert "out of [1e-12, 1 - 1e-12]" in message


def test_value_outside_its_range_is_rejected():
    data = _data()
    data["findings"]["leg_pain"]["links"]["plmt"].update(value=0.5, low=0.6, high=0.9)
    message = _problems(data)
    assert "findings.leg_pain.links.plmt" in message
    assert "low <= value <= high" in message


def test_unknown_cause_gets_a_suggestion():
    data = _data()
    data["causes"]["plmtt"] = data["causes"].pop("plmt")
    message = _problems(data)
    assert "causes.plmtt: unknown cause id 'plmtt'; did you mean 'plmt'?" in message
    assert "causes.plmt: missing parameter" in message


def test_unknown_finding_is_rejected():
    data = _data()
    data["findings"]["leg_pan"] = data["findings"].pop("leg_pain")
    message = _problems(data)
    assert "findings.leg_pan: unknown finding id 'leg_pan'; did you mean 'leg_pain'?" in message


def test_missing_parameter_is_named():
    data = _data()
    del data["findings"]["fever"]["leak"]
    message = _problems(data)
    assert "findings.fever.leak: missing parameter" in message


def test_a_cycle_is_rejected():
    """A finding produced by a cause cannot also be that cause's risk factor."""
    data = _data()
    data["causes"]["plmt"]["risk_factors"]["leg_pain"] = {
        "value": 2.0, "low": 1.0, "high": 3.0, "source": "a test of cycles"
    }
    message = _problems(data)
    assert "causes.plmt.risk_factors.leg_pain: cycle: plmt -> leg_pain -> plmt" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "file is empty"),
        ("   \n# only a comment\n", "file is empty"),
        ("causes: [unclosed", "not valid YAML"),
        ("!!python/object/apply:os.system ['echo hacked']", "tags that build objects are not allowed"),
        ("a: &x [1]\nb: *x\n", "not allowed"),
        ("- just\n- a list\n", "top level must be a mapping"),
    ],
)
def test_unusable_files_are_rejected_without_executing_anything(text, expected):
    assert expected in _problems(text)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True, "0.5"])
def test_non_numbers_are_rejected(bad):
    data = _data()
    data["findings"]["fever"]["leak"]["value"] = bad
    assert "findings.fever.leak.value" in _problems(data)


def test_every_problem_is_reported_at_once():
    data = _data()
    data["findings"]["fever"]["leak"]["value"] = 2
    data["causes"]["als"]["prevalence"]["adult"]["low"] = -1
    message = _problems(data)
    assert "findings.fever.leak" in message and "causes.als.prevalence.adult" in message


def test_age_groups_must_sum_to_one():
    data = _data()
    data["age_groups"]["adult"].update(value=0.9, high=0.95)
    assert "age_groups: proportions must sum to 1" in _problems(data)


def test_with_values_changes_one_number_and_keeps_the_rest():
    priors = load_priors()
    edited = with_values(priors, {"causes.als.prevalence.adult": 0.00003})
    assert edited.causes["als"].prevalence.adult.value == 0.00003
    assert edited.causes["plmt"] == priors.causes["plmt"]
    with pytest.raises(PriorsError, match="causes.als.prevalence.adult"):
        with_values(priors, {"causes.als.prevalence.adult": 5.0})


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toe_twitch", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_validate_priors_accepts_the_default_file():
    result = _cli("validate-priors", str(DEFAULT_PRIORS_PATH))
    assert result.returncode == 0
    assert "valid priors 'default'" in result.stdout
    assert "cite a published figure" in result.stdout and "expert judgement with reasons" in result.stdout


def test_validate_priors_lists_every_problem_and_exits_2(tmp_path: Path):
    data = _data()
    data["findings"]["fever"]["leak"]["value"] = 2
    data["causes"]["plmtt"] = data["causes"].pop("plmt")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    before = bad.read_text()
    result = _cli("validate-priors", str(bad))
    assert result.returncode == 2
    assert f"{bad}: findings.fever.leak" in result.stderr
    assert f"{bad}: causes.plmtt" in result.stderr
    assert "Traceback" not in result.stderr
    assert bad.read_text() == before, "validation must never change the file"


def test_validate_priors_on_a_missing_file_exits_2():
    result = _cli("validate-priors", "no/such/file.yaml")
    assert result.returncode == 2
    assert "no/such/file.yaml: file not found" in result.stderr
