"""The toe-twitch command line: readable output, JSON, clear errors, exit codes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, VIGNETTES
from toe_twitch import load_model


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toe_twitch", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_diagnose_prints_a_ranked_table_urgency_and_advice():
    result = run("diagnose", "age_group=adult", "onset_falling_asleep=present")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Urgency: CARE FOR IT AT HOME")
    assert "(none listed)" in out and "none of these causes" in out
    lines = [line for line in out.splitlines() if line.startswith("Hypnic (hypnagogic) jerks")]
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
        (["leg_pain=maybe"], "answered 'maybe'; answer yes or no (or present/absent)"),
        (["age_group=old"], "Did you mean 'older_adult'?"),
        (["toe_twitching=absent"], "every query assumes toe_twitching=present"),
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
    assert {"top1_accuracy", "top3_accuracy", "urgency_accuracy", "under_triaged"} <= set(
        data["summary"]
    )


def test_evaluate_rejects_a_bad_vignette_file_naming_the_vignette(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "vignettes:\n"
        "  - id: a\n    findings: {leg_pan: present}\n    expect: {top1: [plmt], urgency: [self_care]}\n"
        "  - id: a\n    findings: {}\n    expect: {top1: [plmtt], urgency: [soon]}\n"
    )
    result = run("evaluate", str(bad))
    assert result.returncode == 2
    for expected in [
        "(id 'a').findings.leg_pan: unknown finding id",
        "duplicate vignette id",
        "findings must not be empty",
        "unknown cause id 'plmtt'",
        "unknown urgency level 'soon'",
    ]:
        assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_subcommand_exits_2():
    result = run("diagnoze")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


# ---------------------------------------------------------------------- export
def test_export_writes_the_network_and_it_loads_back(tmp_path):
    """``export`` says what it wrote; ``--priors FILE.xdsl`` then diagnoses from it."""
    out = tmp_path / "toe_twitch.xdsl"
    result = run("export", "--format", "xdsl", str(out))
    assert result.returncode == 0, result.stderr
    network = load_model().network
    counts = f"{len(network.nodes())} variables, {len(network.edges())} arcs"
    assert f"wrote {out} (XDSL (GeNIe): {counts}" in result.stdout
    result = run(
        "diagnose", "--json", "--priors", str(out), "age_group=adult", "after_exertion=present"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ranking"][0]["cause"] == "benign_cramp"


def test_export_refuses_an_existing_file_without_force(tmp_path):
    out = tmp_path / "net.xmlbif"
    out.write_text("keep me")
    result = run("export", str(out))
    assert result.returncode == 2
    assert f"{out}: the file exists; replace it with --force\n" in result.stderr
    assert "Python" not in result.stderr  # a command-line user is told the command-line way
    assert "Traceback" not in result.stderr and out.read_text() == "keep me"
    result = run("export", "--force", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "bif", "x.net"], "a BIF file must end with .bif"),
        (["x.txt"], "cannot tell the format from the extension '.txt'"),
        (["--format", "dsl", "x.dsl"], "invalid choice: 'dsl'"),
        (["--priors", "missing.yaml", "x.bif"], "missing.yaml: file not found"),
    ],
)
def test_export_errors_exit_2_without_traceback(tmp_path, args, message):
    result = subprocess.run(
        [sys.executable, "-m", "toe_twitch", "export", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_bad_network_file_is_named_exit_2(tmp_path):
    bad = tmp_path / "bad.net"
    bad.write_text(
        'net {\n}\nnode leg_pain{\n    states = ("no"  "yes");\n}\npotential (leg_pain |){\n data = (0.5 0.5);\n}\n'
    )
    result = run("diagnose", "--priors", str(bad), "leg_pain=present")
    assert result.returncode == 2
    assert f"{bad}: variable 'leg_pain': states ['no', 'yes'] do not match" in result.stderr
    assert "Traceback" not in result.stderr


def test_sensitivity_needs_priors_so_a_network_model_says_why(tmp_path):
    """Features that need ranges name the file and what is missing (Python API)."""
    out = tmp_path / "n.xdsl"
    assert run("export", str(out)).returncode == 0
    code = (
        "from toe_twitch import load_model, sensitivity\n"
        f"m = load_model({str(out)!r})\n"
        "try:\n    sensitivity(m, {}, 'als')\nexcept Exception as e:\n    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert (
        f"this model was loaded from {out}, which has no ranges or sources; sensitivity needs a priors file"
        in result.stdout
    )


# ---------------------------------------------------------------------- issue 14
def test_yes_and_no_mean_present_and_absent():
    yes = json.loads(run("diagnose", "--json", "leg_pain=yes", "fever=no").stdout)
    ids = json.loads(run("diagnose", "--json", "leg_pain=present", "fever=absent").stdout)
    assert yes["ranking"] == ids["ranking"] and yes["evidence"] == {"leg_pain": "present", "fever": "absent"}


def test_findings_lists_every_finding_with_states_label_and_group():
    result = run("findings", "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    from toe_twitch.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    assert {r["id"] for r in records} == {f for f, x in vocab.findings.items() if not x.implicit}
    weak = next(r for r in records if r["id"] == "weak_feeding")
    assert weak["states"] == ["absent", "present"] and weak["group"] == "symptoms" and weak["asked_for"] == ["infant"]
    text = run("findings").stdout
    assert "Emergency signs:" in text and "sudden_weakness_or_paralysis" in text
    line = next(x for x in text.splitlines() if x.strip().startswith("leg_pain "))
    assert line.split()[1] == "yes/no"  # what the command line takes
    age = next(x for x in text.splitlines() if x.strip().startswith("age_group "))
    assert age.split()[1] == "infant/child/adult/older_adult"


def test_diagnose_help_points_to_the_findings_and_yes_no():
    out = run("diagnose", "--help").stdout
    assert "toe-twitch findings" in out and "yes or no" in out


def test_version_is_printed():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("toe-twitch ")


def test_json_errors_are_json_with_exit_2():
    result = run("diagnose", "--json", "leg_pan=yes")
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "EvidenceError" and "Did you mean 'leg_pain'" in error["message"]
    result = run("validate-priors", "--json", "no/such.yaml")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["problems"] == [{"location": "", "rule": "file not found"}]


def test_an_emergency_does_not_present_a_cause_as_the_explanation():
    out = run("diagnose", "age_group=older_adult", "sudden_weakness_or_paralysis=yes").stdout
    words = " ".join(out.split())  # the sentence is wrapped
    assert "causes are not ranked here" in words and "stroke" in words
    assert "Amyotrophic" not in out and "%" not in out.split("Advice:")[0]


def test_evaluate_without_a_file_scores_the_shipped_vignettes():
    result = run("evaluate")
    assert result.returncode == 0, result.stderr
    assert "vignettes: top-1" in result.stdout.splitlines()[-1]


def test_export_into_a_missing_folder_is_an_error_and_creates_nothing(tmp_path):
    result = run("export", str(tmp_path / "nowhere" / "a.bif"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_serve_runs_streamlit_on_loopback_with_safe_settings():
    from toe_twitch.cli.commands import serve_command

    command = serve_command(8600, "127.0.0.1")
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("app.py")
    for flag in ("--server.address=127.0.0.1", "--server.port=8600", "--browser.gatherUsageStats=false",
                 "--client.showErrorDetails=none"):
        assert flag in command
    # the settings come from the page's one config file, each given once
    assert "--server.maxUploadSize=10" in command
    assert len([f for f in command if f.startswith("--server.address=")]) == 1
    result = run("serve", "--port", "0")
    assert result.returncode == 2 and "--port must be between 1 and 65535" in result.stderr


def _complete(script: str, line: str) -> list[str]:
    """What bash completes for ``line`` with the generated script loaded."""
    words = line.split(" ")
    program = (
        f"source {script}; COMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}; "
        f'COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}; _shtab_toe_twitch; '
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_shell_completion_completes_commands_and_every_answer(tmp_path):
    result = run("completion", "bash")
    assert result.returncode == 0, result.stderr
    script = tmp_path / "toe-twitch.bash"
    script.write_text(result.stdout)
    assert subprocess.run(["bash", "-n", str(script)], timeout=60).returncode == 0
    assert _complete(script, "toe-twitch ev") == ["evaluate"]
    assert _complete(script, "toe-twitch diagnose leg_p") == ["leg_pain=yes", "leg_pain=no"]
    assert sorted(_complete(script, "toe-twitch diagnose age_group=")) == [
        "age_group=adult", "age_group=child", "age_group=infant", "age_group=older_adult"]
    assert _complete(script, "toe-twitch diagnose toe_tw") == []  # the twitching is never answered
    assert "--priors" in _complete(script, "toe-twitch diagnose --pr")
    zsh = run("completion", "zsh")
    assert zsh.returncode == 0 and "#compdef toe-twitch" in zsh.stdout and "leg_pain=yes" in zsh.stdout
    bad = run("completion", "fish")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


# ---------------------------------------------------------------------- issue 25
def _subcommands():
    from toe_twitch.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, sub


def test_every_subcommand_and_option_describes_itself_in_help():
    """``--help`` explains every command and every option, ``--priors`` and ``--json``
    included, wherever they appear."""
    parser, sub = _subcommands()
    assert parser.description
    listed = {a.dest: a.help for a in sub._choices_actions}
    assert {"diagnose", "findings", "evaluate", "validate-priors", "export", "serve",
            "completion"} <= set(sub.choices)
    for name, command in sub.choices.items():
        assert listed.get(name), f"{name} has no line in toe-twitch --help"
        assert command.description and len(command.description) > 40, f"{name} has no description"
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            what = "/".join(action.option_strings) or action.dest
            assert action.help, f"toe-twitch {name} {what} has no help"


def test_evaluate_prints_a_legend_for_its_marks_and_the_top3_rule():
    out = run("evaluate").stdout
    legend = out[out.index("Legend:"):]
    for word in ("ok =", "MISS =", "- = not judged", "UNDER-TRIAGED", "under-triaged N",
                 "emergencies M", "EVERY cause the vignette lists is among the three likeliest"):
        assert word in legend, word
    assert out.index("Legend:") < out.index("vignettes: top-1")


def test_text_output_names_causes_as_the_page_does_and_json_keeps_ids():
    from toe_twitch.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    text = run("diagnose", "age_group=adult", "during_sleep=yes").stdout
    table = text[text.index("cause "):text.index("(none listed)")]
    assert "Periodic limb movement disorder (PLMD)" in table
    assert "Poor blood circulation " in table  # the label without its list of examples
    first_words = {line.split()[0] for line in table.splitlines()[1:]}
    assert not first_words & set(vocab.cause_ids), "text output names causes by id"
    ranking = json.loads(run("diagnose", "--json", "age_group=adult", "during_sleep=yes").stdout)["ranking"]
    assert {r["cause"] for r in ranking} == set(vocab.cause_ids)
    evaluate = run("evaluate").stdout.splitlines()
    assert any(" benign cramp " in line for line in evaluate[1:])


def test_diagnose_explains_vs_before_and_says_when_it_averages_over_ages():
    without = run("diagnose", "leg_pain=yes").stdout
    assert "vs before = the probability now divided by the probability before any answer" in without
    assert "No age group given: these average over all age groups" in without
    assert "No age group given" not in run("diagnose", "age_group=adult", "leg_pain=yes").stdout


def test_finding_names_and_states_match_whatever_their_case():
    mixed = run("diagnose", "--json", "Leg_Pain=YES", "AGE_GROUP=Adult")
    assert mixed.returncode == 0, mixed.stderr
    plain = run("diagnose", "--json", "leg_pain=yes", "age_group=adult")
    assert json.loads(mixed.stdout)["ranking"] == json.loads(plain.stdout)["ranking"]
    assert json.loads(mixed.stdout)["evidence"] == {"age_group": "adult", "leg_pain": "present"}


@pytest.mark.parametrize(("word", "example"), [("fever", "fever=yes"), ("Fever", "fever=yes"),
                                                ("age_group", "age_group=adult"),
                                                ("tingling", "numbness_tingling=yes")])
def test_an_answer_without_a_state_suggests_its_own_finding(word, example):
    result = run("diagnose", word)
    assert result.returncode == 2
    assert f"must be written FINDING=STATE, e.g. {example} " in result.stderr


def test_a_baby_only_question_is_refused_for_another_age_group():
    result = run("diagnose", "age_group=adult", "weak_feeding=yes")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'weak_feeding'" in result.stderr and "asked only for age_group infant" in result.stderr
    assert "not for age_group=adult" in result.stderr
    assert run("diagnose", "age_group=infant", "weak_feeding=yes").returncode == 0
