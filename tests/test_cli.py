"""The toe-twitch command line: readable output, JSON, clear errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, VIGNETTES


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_diagnose_prints_a_ranked_table_urgency_and_advice():
    result = run("diagnose", "age_group=adult", "onset_falling_asleep=present")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Urgency: SELF CARE")
    lines = [line for line in out.splitlines() if line.startswith("hypnic_jerk")]
    assert lines and "%" in lines[0]
    assert "Toe raise" in out and "it does not diagnose" in out


def test_diagnose_json_has_ranking_urgency_reasons():
    result = run("diagnose", "--json", "age_group=older_adult", "speech_or_vision_change=present")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["urgency"] == "emergency"
    assert len(data["ranking"]) == 12
    probabilities = [r["probability"] for r in data["ranking"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert data["reasons"] and "emergency services" in data["advice"]["summary"].lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["leg_pan=present"], "Did you mean 'leg_pain'?"),
        (["leg_pain=yes"], "Valid states: absent, present"),
        (["leg_pain"], "must be written FINDING=STATE"),
        (["--priors", "missing.yaml", "leg_pain=present"], "missing.yaml: file not found"),
    ],
)
def test_diagnose_errors_exit_2_without_traceback(args, message):
    result = run("diagnose", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_evaluate_json_matches_the_documented_shape():
    result = run("evaluate", str(VIGNETTES), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    first = data["results"][0]
    assert {"id", "ranking", "urgency", "reasons"} <= set(first)
    assert {"cause", "probability"} == set(first["ranking"][0])
    assert {"top1_accuracy", "top3_accuracy", "urgency_accuracy", "under_triaged"} <= set(data["summary"])


def test_evaluate_rejects_a_bad_vignette_file_naming_the_vignette(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "vignettes:\n"
        "  - id: a\n    findings: {leg_pan: present}\n    expect: {top1: [plmt], urgency: [self_care]}\n"
        "  - id: a\n    findings: {}\n    expect: {top1: [plmtt], urgency: [soon]}\n"
    )
    result = run("evaluate", str(bad))
    assert result.returncode == 2
    for expected in ["(id 'a').findings.leg_pan: unknown finding id", "duplicate vignette id",
                     "findings must not be empty", "unknown cause id 'plmtt'", "unknown urgency level 'soon'"]:
        assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_subcommand_exits_2():
    result = run("diagnoze")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
