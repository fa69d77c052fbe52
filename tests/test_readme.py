"""The README's examples are ones we ran: every ``$ toe-twitch ...`` line in a ``console``
block is run, and every output line the README shows must come out, in order (a line
``...`` stands for lines left out). A comment ``# exit status N`` on the command line is
checked too. Commands run in a temporary folder (exports write there), with the
checkout's files reachable by the paths the README uses.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT

README = ROOT / "README.md"


def _examples() -> list[tuple[str, int, list[str]]]:
    """``(command, expected exit status, shown output lines)`` for each example."""
    text = README.read_text()
    out = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        command = None
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    out.append(command)
                cmd, _, comment = line[2:].partition("#")
                status = re.search(r"exit status (\d+)", comment)
                command = (cmd.strip(), int(status.group(1)) if status else 0, [])
            elif command is not None:
                command[2].append(line)
        if command is not None:
            out.append(command)
    return out


EXAMPLES = _examples()


def test_the_readme_has_examples_to_run():
    assert len(EXAMPLES) >= 5
    assert all(cmd.startswith("toe-twitch ") for cmd, _, _ in EXAMPLES)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """One folder for all examples, in README order (an export, then the same export
    refused because the file now exists)."""
    path = tmp_path_factory.mktemp("readme")
    (path / "priors").symlink_to(ROOT / "priors")
    shutil.copy(ROOT / "priors" / "default.yaml", path / "my-priors.yaml")
    # "bad-priors.yaml is one with a prevalence typed as 7"
    data = yaml.safe_load((ROOT / "priors" / "default.yaml").read_text())
    data["risk_factors"]["after_exertion"]["prevalence"]["infant"]["value"] = 7
    (path / "bad-priors.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("command, status, shown", EXAMPLES, ids=[c for c, _, _ in EXAMPLES])
def test_a_readme_example_prints_what_the_readme_shows(command, status, shown, workdir):
    args = shlex.split(command)[1:]
    result = subprocess.run([sys.executable, "-m", "toe_twitch", *args], capture_output=True,
                            text=True, cwd=workdir, timeout=600)
    assert result.returncode == status, result.stderr
    printed = (result.stdout + result.stderr).splitlines()
    at = 0
    for line in shown:
        if line.strip() in ("...", ""):
            continue
        while at < len(printed) and printed[at].rstrip() != line.rstrip():
            at += 1
        assert at < len(printed), f"the README shows {line!r}, which {command!r} did not print in order"
        at += 1


def test_the_readme_python_example_runs(workdir):
    """Every ``python`` block runs as it stands, from a folder outside the checkout."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    for code in blocks:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                cwd=workdir, timeout=600)
        assert result.returncode == 0, result.stderr


def test_the_python_api_section_says_what_the_functions_do(model):
    """What the README says of ``next_questions`` and ``uncertainty(...).causes`` holds."""
    from toe_twitch import next_questions, uncertainty

    text = " ".join(README.read_text().split())
    assert "every unanswered emergency sign comes first" in text
    assert "in the vocabulary's cause order" in text
    evidence = {"age_group": "adult", "onset_falling_asleep": "present", "persists_2_weeks": "absent"}
    assert model.diagnose(evidence).urgency == "self_care"
    questions = next_questions(model, evidence, k=2)
    flags = [q for q in questions if q.red_flag]
    assert len(flags) == len(model.vocabulary.red_flags) and questions[: len(flags)] == flags
    u = uncertainty(model, evidence, draws=20, seed=1)
    assert [c.cause for c in u.causes] == list(model.causes)
