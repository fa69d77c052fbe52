"""What the command line refuses, and how it fails, as a person at a terminal meets it.

Issue 20 ("Safety that no file, link or restart can switch off"): each test runs the
installed ``toe-twitch`` in a subprocess with the input the issue reproduced the fault
with, and checks what the person sees: the exit status and one plain message naming the
file, the field and the rule, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from toe_twitch.resources import default_priors_path

TOE_TWITCH = str(Path(sys.executable).with_name("toe-twitch"))
SHIPPED = default_priors_path().read_text()
SHIPPED_DATA = yaml.safe_load(SHIPPED)
THRESHOLDS = SHIPPED_DATA["urgency"]["serious_cause_threshold"]
#: The whole urgency block of the shipped file (the last top-level block).
URGENCY_BLOCK = re.compile(r"^urgency:\n(?:[ #].*\n|\n)*", re.MULTILINE)


def run(*args: str, stdout=subprocess.PIPE, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TOE_TWITCH, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
        cwd=cwd, timeout=300, env={**os.environ, "TOE_TWITCH_DEBUG": ""},
    )


def with_urgency(block: str) -> str:
    """The shipped priors with their urgency block replaced by ``block``."""
    assert URGENCY_BLOCK.search(SHIPPED), "the shipped file has no urgency block"
    return URGENCY_BLOCK.sub(lambda _: block.rstrip("\n") + "\n", SHIPPED, count=1)


def thresholds_block(**values: str) -> str:
    """The shipped thresholds in block style, a value replaced where given (as typed)."""
    lines = ["urgency:", "  serious_cause_threshold:"]
    for cid, t in THRESHOLDS.items():
        lines += [
            f"    {cid}:",
            f"      value: {values.get(cid, t['value'])}",
            f"      low: {t['low']}",
            f"      high: {t['high']}",
            f"      source: {json.dumps(t['source'])}",
        ]
    return "\n".join(lines) + "\n"


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in (result.stdout or "")


# ------------------------------------------------------------ fault 1: thresholds
def test_a_file_that_drops_every_threshold_is_refused_by_validate_and_diagnose(tmp_path):
    """The issue's file: ``urgency: {serious_cause_threshold: {}}``. It validated and made
    'resting tremor at 60+' care-at-home; now both commands refuse it, naming each cause."""
    path = tmp_path / "no-thresholds.yaml"
    path.write_text(with_urgency("urgency: {serious_cause_threshold: {}}"))
    checked = run("validate-priors", str(path))
    assert checked.returncode == 2
    for cid in THRESHOLDS:
        assert f"{path}: urgency.serious_cause_threshold.{cid}: missing" in checked.stderr
    assert "cannot remove a safety rule" in checked.stderr
    used = run("diagnose", "--priors", str(path), "age_group=older_adult", "resting_tremor=yes")
    assert used.returncode == 2 and used.stdout == ""
    assert "urgency.serious_cause_threshold.parkinsons: missing" in used.stderr
    no_traceback(used)


def test_a_file_that_keeps_only_one_threshold_is_refused(tmp_path):
    path = tmp_path / "one.yaml"
    als = THRESHOLDS["als"]
    path.write_text(with_urgency(
        "urgency:\n  serious_cause_threshold:\n"
        f"    als: {{value: {als['value']}, low: {als['low']}, high: {als['high']}, "
        f"source: {json.dumps(als['source'])}}}\n"
    ))
    result = run("validate-priors", str(path))
    assert result.returncode == 2
    assert "urgency.serious_cause_threshold.als:" not in result.stderr
    assert "urgency.serious_cause_threshold.parkinsons: missing" in result.stderr


def test_thresholds_outside_the_shipped_rules_are_refused(tmp_path):
    """Above the shipped high, below the shipped low, on a cause that is not serious, or
    on an unknown cause: each refused in the same run, naming its field and rule."""
    made_up = 'source: "expert judgement: a made-up rule to test what a file may add here"'
    block = thresholds_block(
        als=str(THRESHOLDS["als"]["high"] * 2), plmt=str(THRESHOLDS["plmt"]["low"] / 2)
    ) + (
        f"    benign_cramp: {{value: 0.5, low: 0.2, high: 0.8, {made_up}}}\n"
        f"    gout: {{value: 0.5, low: 0.2, high: 0.8, {made_up}}}\n"
    )
    path = tmp_path / "moved.yaml"
    path.write_text(with_urgency(block))
    result = run("validate-priors", str(path))
    assert result.returncode == 2, result.stdout
    for field, rule in [
        ("als.value", "is above the highest see-a-doctor threshold allowed"),
        ("plmt.value", "is below the lowest see-a-doctor threshold allowed"),
        ("benign_cramp", "not a serious cause"),
        ("gout", "unknown cause id"),
    ]:
        where = re.escape(f"{path}: urgency.serious_cause_threshold.{field}: ")
        assert re.search(f"^{where}.*{rule}", result.stderr, re.MULTILINE), (field, result.stderr)
    no_traceback(result)


def test_a_file_cannot_widen_its_own_range_to_raise_a_threshold(tmp_path):
    """The allowed range is the shipped one, not the file's: high: 0.9 does not let 0.5 in."""
    block = thresholds_block(als="0.5").replace(
        f"      high: {THRESHOLDS['als']['high']}\n", "      high: 0.9\n", 1
    )
    path = tmp_path / "wide.yaml"
    path.write_text(with_urgency(block))
    result = run("validate-priors", str(path))
    assert result.returncode == 2
    assert "urgency.serious_cause_threshold.als.value: value = 0.5 is above the highest" in result.stderr


def test_a_higher_threshold_within_the_shipped_range_is_reported_as_weaker(tmp_path):
    """Valid, but said plainly by validate-priors, by diagnose (stderr) and in --json."""
    high = THRESHOLDS["parkinsons"]["high"]
    path = tmp_path / "weaker.yaml"
    path.write_text(with_urgency(thresholds_block(parkinsons=str(high))))
    checked = run("validate-priors", str(path))
    assert checked.returncode == 0, checked.stderr
    assert (
        f"{path}: warning: urgency.serious_cause_threshold.parkinsons: a weaker safety rule "
        "than the shipped priors"
    ) in checked.stdout
    used = run("diagnose", "--priors", str(path), "age_group=older_adult")
    assert used.returncode == 0 and "weaker safety rule" in used.stderr
    data = json.loads(run("diagnose", "--json", "--priors", str(path), "age_group=adult").stdout)
    assert len(data["warnings"]) == 1 and "parkinsons" in data["warnings"][0]
    shipped = json.loads(run("diagnose", "--json", "age_group=adult").stdout)
    assert shipped["warnings"] == []


# ------------------------------------------------------------ fault 4: duplicate keys
@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda t: t.replace("name: default\n", "name: default\nname: official\n", 1), "name"),
        (lambda t: t.replace("{value: 0.05, low: 0.01,", "{value: 0.05, value: 0.9, low: 0.01,", 1), "value"),
        (lambda t: t + "urgency: {serious_cause_threshold: {}}\n", "urgency"),
    ],
    ids=["name", "value", "urgency-block"],
)
def test_a_key_given_twice_in_a_priors_file_is_refused_with_its_line(tmp_path, edit, key):
    text = edit(SHIPPED)
    assert text != SHIPPED
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    result = run("validate-priors", str(path))
    assert result.returncode == 2
    line = re.search(rf"^{path}: line (\d+): duplicate key '{key}' \(first given on line (\d+)\)",
                     result.stderr, re.MULTILINE)
    assert line, result.stderr
    lines = text.splitlines()
    assert f"{key}:" in lines[int(line.group(1)) - 1] and f"{key}:" in lines[int(line.group(2)) - 1]


def test_a_finding_given_twice_in_a_vignette_is_refused(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text(
        "vignettes:\n"
        "  - id: twice\n"
        "    findings: {age_group: adult, leg_pain: present, leg_pain: absent}\n"
        "    expect: {urgency: [self_care, see_doctor]}\n"
    )
    result = run("evaluate", str(path))
    assert result.returncode == 2
    assert f"{path}: line 3: duplicate key 'leg_pain'" in result.stderr


# ------------------------------------------------------------ fault 5: number forms
#: Each serious cause's threshold typed in one of YAML 1.1's other number forms, and what
#: YAML 1.1 (PyYAML's default resolver) makes of it.
NUMBER_FORMS = {
    "als": ("010", "the octal number 8"),
    "sma": ("1:20", "the base-60 number 80"),
    "parkinsons": ("0x6", "the hexadecimal number 6"),
    "myopathy": ("0b110", "the binary number 6"),
    "neuropathy": ("1_0", "the underscored number 10"),
    "poor_circulation": (".inf", "infinity"),
    "plmt": (".nan", "not a number (NaN)"),
}


def test_yaml_1_1_number_forms_are_refused_naming_the_field(tmp_path):
    path = tmp_path / "forms.yaml"
    typed = {cid: form for cid, (form, _) in NUMBER_FORMS.items()}
    path.write_text(with_urgency(thresholds_block(**typed)))
    result = run("validate-priors", str(path))
    assert result.returncode == 2
    for cid, (form, read_as) in NUMBER_FORMS.items():
        assert (
            f"{path}: urgency.serious_cause_threshold.{cid}.value: must be a number in plain "
            f"decimals, optionally with an exponent (such as 0.05 or 5e-2), got '{form}', which "
            f"YAML 1.1 would read as {read_as}"
        ) in result.stderr


def test_plain_decimals_and_exponents_are_numbers(tmp_path):
    path = tmp_path / "exponent.yaml"
    path.write_text(with_urgency(thresholds_block(als="5e-2", sma="5.0E-2")))
    result = run("validate-priors", str(path))
    assert result.returncode == 0, result.stderr


def test_an_id_that_looks_like_a_number_stays_the_text_typed(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("vignettes:\n" + "".join(
        f"  - id: {typed}\n"
        "    findings: {age_group: adult, onset_falling_asleep: present}\n"
        "    expect: {urgency: [self_care]}\n"
        for typed in ("010", "10", "1:20")
    ))
    result = run("evaluate", "--json", str(path))
    assert result.returncode == 0, result.stdout
    assert [r["id"] for r in json.loads(result.stdout)["results"]] == ["010", "10", "1:20"]


# ------------------------------------------------------------ fault 7: crashes
def test_a_twitching_leak_of_zero_does_not_crash_diagnose(tmp_path):
    data = yaml.safe_load(SHIPPED)
    for age in ("infant", "child", "adult", "older_adult"):
        data["findings"]["toe_twitching"]["leak"][age].update(value=0.0, low=0.0)
    path = tmp_path / "l.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    result = run("diagnose", "--priors", str(path), "age_group=adult")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("(none listed)"))
    assert row.split()[2] == "0.0%" and row.endswith("n/a")
    assert json.loads(run("diagnose", "--json", "--priors", str(path), "age_group=adult").stdout)[
        "prior_no_listed_cause"] == 0


@pytest.fixture(scope="module")
def fixed_networks(tmp_path_factory):
    """XMLBIF networks with ALS fixed at 0 and myopathy fixed at 1."""
    from toe_twitch import load_model
    from toe_twitch.interop import export_network

    folder = tmp_path_factory.mktemp("fixed")
    text = export_network(load_model(), folder / "net.xmlbif").read_text()

    def fixed(cause: str, table: str) -> Path:
        found = re.search(rf"(<FOR>{cause}</FOR>.*?<TABLE>)(.*?)(</TABLE>)", text, re.S)
        columns = len(found.group(2).split()) // 2
        path = folder / f"{cause}.xmlbif"
        path.write_text(text[: found.start(2)] + " ".join([table] * columns) + text[found.end(2):])
        return path

    return {"never": ("als", fixed("als", "1 0")), "always": ("myopathy", fixed("myopathy", "0 1"))}


@pytest.mark.parametrize("kind", ["never", "always"])
def test_a_network_with_a_cause_fixed_at_0_or_1_does_not_crash(fixed_networks, kind):
    cause, path = fixed_networks[kind]
    text = run("diagnose", "--priors", str(path), "age_group=adult")
    assert text.returncode == 0, text.stderr
    assert "n/a" in text.stdout
    result = run("diagnose", "--json", "--priors", str(path), "age_group=adult")
    assert result.returncode == 0, result.stdout
    data = json.loads(result.stdout)
    ratio = {r["cause"]: r["relative_to_prior"] for r in data["ranking"]}[cause]
    if kind == "never":  # no prior to compare with
        assert ratio is None
    else:  # certain before and after; nothing is left unexplained
        assert ratio == pytest.approx(1.0) and data["prior_no_listed_cause"] == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_ends_with_one_plain_line():
    with open("/dev/full", "w") as full:
        result = run("diagnose", "--json", "age_group=adult", stdout=full)
    assert result.returncode == 1
    assert result.stderr == "toe-twitch: cannot write the output: No space left on device\n"


def test_a_closed_pipe_ends_quietly():
    """``toe-twitch findings | head -0``: the reader has gone; no message, no traceback."""
    read, write = os.pipe()
    os.close(read)
    try:
        result = run("findings", stdout=write)
    finally:
        os.close(write)
    assert result.returncode == 141
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("address", "rule"),
    [("999.1.1.1", "is not a valid IP address"), ("192.0.2.1", "the page cannot listen there")],
)
def test_serve_refuses_an_address_it_cannot_listen_on(address, rule):
    result = run("serve", "--address", address, "--port", "8599")
    assert result.returncode == 2
    assert result.stderr.startswith(f"toe-twitch: error: --address '{address}'")
    assert rule in result.stderr and len(result.stderr.splitlines()) == 1
    assert "serving the page" not in result.stdout


#: Runs the installed toe-twitch script as the shell does, sending it Ctrl-C (SIGINT) the
#: moment a given module starts to import.
INTERRUPT_AT_IMPORT = """
import os, runpy, signal, sys
module, script, sys.argv = sys.argv[1], sys.argv[2], sys.argv[2:]
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == module:
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
runpy.run_path(script, run_name="__main__")
"""


@pytest.mark.parametrize(
    ("module", "command"),
    [("numpy", ["diagnose", "age_group=adult"]), ("toe_twitch.vignettes", ["evaluate"])],
    ids=["while-starting", "while-running"],
)
def test_ctrl_c_ends_with_one_line_and_status_130(module, command):
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT_AT_IMPORT, module, TOE_TWITCH, *command],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 130
    assert result.stderr == "toe-twitch: interrupted\n"
    assert result.stdout == ""


# ------------------------------------------------------------ fault 8: terminal escapes
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_evaluate_prints_control_characters_in_ids_as_escapes(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text(
        "vignettes:\n"
        '  - id: "\\e[2J\\e[1;31mall clear\\r\\a\\x9b\\u202ex"\n'
        "    findings: {age_group: adult, onset_falling_asleep: present}\n"
        "    expect: {urgency: [self_care]}\n"
    )
    result = run("evaluate", str(path))
    assert result.returncode == 0, result.stderr
    assert not CONTROLS.search(result.stdout)
    assert "\\x1b[2J\\x1b[1;31mall clear\\x0d\\x07\\x9b\\u202ex" in result.stdout


def test_validate_priors_prints_control_characters_in_names_and_file_names_as_escapes(tmp_path):
    path = tmp_path / "name.yaml"
    path.write_text(SHIPPED.replace("name: default\n", 'name: "\\e[2Jcleared"\n', 1))
    result = run("validate-priors", str(path))
    assert result.returncode == 0, result.stderr
    assert "'\\x1b[2Jcleared'" in result.stdout and not CONTROLS.search(result.stdout)
    missing = run("validate-priors", str(tmp_path / "\x1b[2Jgone.yaml"))
    assert missing.returncode == 2
    assert "\\x1b[2Jgone.yaml: file not found" in missing.stderr
    assert not CONTROLS.search(missing.stderr)


def test_an_unknown_id_with_escapes_in_an_error_is_escaped(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(with_urgency(thresholds_block() + '    "\\e]0;pwned\\a": {value: 0.1}\n'))
    result = run("validate-priors", str(path))
    assert result.returncode == 2
    assert "\\x1b]0;pwned\\x07" in result.stderr and not CONTROLS.search(result.stderr)


def test_the_vignette_csv_download_neutralises_formulas():
    """The Validation page's download: a cell that begins with = + - @ is text."""
    from toe_twitch import load_model
    from toe_twitch.ui.background import report_for
    from toe_twitch.vignettes import parse_vignettes_text

    ids = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "plain"]
    text = "vignettes:\n" + "".join(
        f"  - id: {json.dumps(i)}\n    findings: {{age_group: adult}}\n"
        "    expect: {urgency: [self_care]}\n"
        for i in ids
    )
    report = report_for(load_model(), parse_vignettes_text(text), "upload.yaml")
    first_cells = [line.split(",")[0].strip('"') for line in report.csv.splitlines()[1:]]
    assert first_cells == ["'=cmd|' /C calc'!A0", "'+1+1", "'-2+3", "'@SUM(A1)", "plain"]


# ------------------------------------------------------------ fault 9: invisible text
def test_a_source_with_no_visible_words_is_refused(tmp_path):
    """Twelve zero-width spaces counted as "cited"; now they, a judgement whose reasoning
    is invisible and a string of direction controls are each refused by field."""
    invisible = {
        "als": ("\u200b" * 12, "must name the source in visible words"),
        "sma": ("expert judgement: " + "\u200b\u2060\ufeff" * 12, "an expert judgement must give"),
        "plmt": ("\u202e\u202d" * 8 + "12", "must name the source in visible words"),
    }
    block = thresholds_block()
    for cid, (source, _) in invisible.items():
        old = f"      source: {json.dumps(THRESHOLDS[cid]['source'])}"
        assert old in block
        block = block.replace(old, f"      source: {json.dumps(source)}", 1)
    path = tmp_path / "invisible.yaml"
    path.write_text(with_urgency(block))
    result = run("validate-priors", str(path))
    assert result.returncode == 2
    for cid, (_, rule) in invisible.items():
        assert f"{path}: urgency.serious_cause_threshold.{cid}.source: {rule}" in result.stderr


def test_direction_controls_are_taken_out_of_a_source(tmp_path):
    """A right-to-left override would show a citation backwards; it is removed on load."""
    from toe_twitch.priors import load_priors

    path = tmp_path / "rtl.yaml"
    block = thresholds_block().replace(
        f"      source: {json.dumps(THRESHOLDS['als']['source'])}",
        '      source: "Smith et al. \\u202e0202 ,lanruoJ\\u202c (cited)"',
    )
    path.write_text(with_urgency(block))
    source = load_priors(path).urgency.serious_cause_threshold["als"].source
    assert source == "Smith et al. 0202 ,lanruoJ (cited)"


def _results_line_with_weaker_priors() -> None:
    """A page drawing the line under the results for priors whose Parkinson's threshold
    is raised within its shipped range (as an uploaded file or an edit would)."""
    from toe_twitch.priors import iter_parameters, load_priors, with_values
    from toe_twitch.ui import session_priors

    path = "urgency.serious_cause_threshold.parkinsons"
    shipped = load_priors()
    high = next(p.high for p in iter_parameters(shipped) if p.path == path)
    weaker = with_values(shipped, {path: high})
    session_priors.show_in_use(session_priors.SessionPriors(weaker, "key", "uploaded file x.yaml"))


def test_the_page_says_when_the_priors_in_use_weaken_a_safety_rule():
    from streamlit.testing.v1 import AppTest

    page = AppTest.from_function(_results_line_with_weaker_priors, default_timeout=60).run()
    assert not page.exception
    [warning] = page.warning
    shown = re.sub(r"\\(.)", r"\1", warning.value)  # the Markdown escapes, as a reader sees it
    assert shown.startswith("Weaker safety rules than the shipped priors: ")
    assert "urgency.serious_cause_threshold.parkinsons: a weaker safety rule" in shown
