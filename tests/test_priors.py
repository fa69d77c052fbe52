"""The priors file: every number sourced and ranged; every bad file rejected clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from model.errors import PriorsError
from model.priors import (
    DEFAULT_PRIORS_PATH,
    iter_parameters,
    load_priors,
    parse_priors_text,
    with_values,
)
from tests.conftest import ROOT

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
    assert len(list(iter_parameters(priors))) > 200


def test_every_parameter_has_a_source_and_a_range_around_its_value():
    """Each number carries a source and low <= value <= high."""
    for p in iter_parameters(load_priors()):
        assert len(p.source.strip()) >= 3, p.path
        assert p.low <= p.value <= p.high, p.path


def test_probability_out_of_range_is_named_with_its_path():
    data = _data()
    data["causes"]["plmt"]["prevalence"]["older_adult"]["value"] = 1.5
    message = _problems(data)
    assert "causes.plmt.prevalence.older_adult" in message
    assert "out of (0, 1)" in message


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
        "value": 2.0, "low": 1.0, "high": 3.0, "source": "test"
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
    edited = with_values(priors, {"causes.als.prevalence.adult": 0.00005})
    assert edited.causes["als"].prevalence.adult.value == 0.00005
    assert edited.causes["plmt"] == priors.causes["plmt"]
    with pytest.raises(PriorsError, match="causes.als.prevalence.adult"):
        with_values(priors, {"causes.als.prevalence.adult": 5.0})


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_validate_priors_accepts_the_default_file():
    result = _cli("validate-priors", str(DEFAULT_PRIORS_PATH))
    assert result.returncode == 0
    assert "valid priors 'default'" in result.stdout


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
