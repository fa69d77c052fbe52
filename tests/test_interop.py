"""Network files: export through pgmpy's writers, read back by pgmpy and by pyAgrum.

Round trips compare P(cause present | evidence) of every cause on 300 random evidence sets
between the model and the network read back from the file, both run by the project's
engine. The tolerance of each format is set by the precision it prints
(:func:`toe_twitch.interop.posterior_error_bound`):

* bif, xmlbif, net, uai print every digit (shortest round-trip decimal), so the tables come
  back bit for bit (up to renormalising columns that sum to 1 within 1e-16): tolerance
  1e-9, the engine's own agreement with pgmpy and pyAgrum (tests/test_engine.py); only
  the order of floating-point operations differs.
* xdsl prints 16 decimals (pgmpy's XDSLWriter): each entry moves by at most 5e-17, which
  for the smallest entry (ALS prevalence in children, 9.2e-08) is a relative 5.5e-10;
  summed over the CPTs as log-odds that bounds the posterior change by about 6e-10, so
  the tolerance is 1e-9 + 6e-10.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from toe_twitch import (
    NetworkFileError,
    OutputExistsError,
    PriorsRequiredError,
    explain,
    load_model,
    next_questions,
    sensitivity,
    uncertainty,
    what_if,
)
from toe_twitch.errors import ToeTwitchError
from toe_twitch.interop import (
    ENGINE_TOLERANCE,
    FORMATS,
    SINGLE_PRECISION,
    export_network,
    posterior_error_bound,
    reference_variables,
)
from toe_twitch.loading import model_from_network
from toe_twitch.vignettes import load_vignettes

EVIDENCE_SETS = 300


def random_evidence(model, rng: np.random.Generator, n: int) -> list[dict[str, str]]:
    """Each finding observed with probability 0.4, in a uniformly random state."""
    evidences = []
    for _ in range(n):
        evidence = {}
        for f in model.findings:
            if rng.random() < 0.4:
                states = model.states[f]
                evidence[f] = states[rng.integers(len(states))]
        evidences.append(evidence)
    return evidences


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory) -> dict[str, Path]:
    """The default model exported once in every format."""
    folder = tmp_path_factory.mktemp("exports")
    return {
        name: export_network(model, folder / f"toe_twitch{fmt.extension}", name)
        for name, fmt in FORMATS.items()
    }


@pytest.fixture(scope="module")
def evidences(model) -> list[dict[str, str]]:
    return random_evidence(model, np.random.default_rng(5), EVIDENCE_SETS)


@pytest.fixture(scope="module")
def reference(model, evidences) -> np.ndarray:
    return model.posterior_batch(evidences)


@pytest.fixture(scope="module")
def loaded() -> dict[str, object]:
    """Exports read back by ``load_model``, filled on first use (see :func:`_loaded`)."""
    return {}


def _loaded(loaded, exported, fmt):
    """``load_model`` on the export in ``fmt`` (pgmpy's readers; UAI: the project's), once."""
    if fmt not in loaded:
        loaded[fmt] = load_model(exported[fmt])
    return loaded[fmt]


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_round_trip_through_load_model_keeps_every_posterior(
    model, exported, loaded, evidences, reference, fmt
):
    """load_model(file) gives every cause's posterior within the format's tolerance.

    bif, xmlbif, xdsl and net are read by pgmpy's readers; uai by the project's reader
    (pgmpy's UAIReader lays tables out child-first and takes minutes on this file).
    """
    again = _loaded(loaded, exported, fmt)
    assert again.causes == model.causes and again.findings == model.findings
    worst = np.abs(again.posterior_batch(evidences) - reference).max()
    assert worst <= posterior_error_bound(model, fmt)


def pyagrum_as_pgmpy(bn, fmt: str, model):
    """pyAgrum's CPTs as a pgmpy network under the project's names and state order."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    numbered = reference_variables()[0]

    def name(variable) -> str:
        if fmt == "uai":  # no names: numbered as the export numbers them
            return numbered[int(variable.name())]
        if fmt == "xdsl":  # pyAgrum names XDSL nodes by their GeNIe name (our label)
            return variable.description()
        return variable.name()

    def state_order(variable, our_name) -> list[int]:
        labels = list(variable.labels())
        if fmt == "uai":
            labels = [model.states[our_name][int(label)] for label in labels]
        return [labels.index(s) for s in model.states[our_name]]

    network = DiscreteBayesianNetwork()
    cpds = []
    for node in bn.nodes():
        cpt = bn.cpt(node)
        variables = [bn.variableFromName(n) for n in cpt.names]
        names = [name(v) for v in variables]
        array = np.asarray(cpt.toarray())  # axes: pyAgrum's variables in reverse
        if fmt in ("xdsl", "uai"):
            # pyAgrum keeps the file's numbers in the file's order but lets the first
            # parent change fastest after the child; both formats (SMILE's documented
            # layout, the UAI format) put (parents..., child) in C order: the last
            # parent changes fastest after the child. Lay the numbers out as they say.
            scope = [*variables[1:], variables[0]]
            table = np.moveaxis(array.ravel().reshape([v.domainSize() for v in scope]), -1, 0)
        else:
            table = np.transpose(array)
        for axis, (variable, our_name) in enumerate(zip(variables, names, strict=True)):
            table = np.take(table, state_order(variable, our_name), axis=axis)
        network.add_node(names[0])
        network.add_edges_from((p, names[0]) for p in names[1:])
        cpds.append(
            TabularCPD(
                names[0], table.shape[0], table.reshape(table.shape[0], -1),
                evidence=names[1:] or None, evidence_card=list(table.shape[1:]) or None,
                state_names={n: list(model.states[n]) for n in names},
            )
        )
    network.add_cpds(*cpds)
    return network


#: pyAgrum 3.3.1 stores the numbers it parses from BIF, NET and UAI as single-precision
#: floats (measured: 9.174312620707781e-08 comes back as 9.17431251e-08).
PYAGRUM_READER_ERROR = {"bif": SINGLE_PRECISION, "net": SINGLE_PRECISION, "uai": SINGLE_PRECISION}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_round_trip_through_pyagrum_keeps_every_posterior(
    model, exported, evidences, reference, fmt, tmp_path
):
    """pyAgrum (an independent reader) reads each export; posteriors within the bound.

    The bound adds pyAgrum's single-precision parsing for BIF, NET and UAI (relative
    6e-8 per entry, about 1.4e-6 on the posteriors). For XDSL and UAI, pyAgrum 3.3.1's
    numbers are laid out as the formats say (see :func:`pyagrum_factors`): it reads
    tables of nodes with two or more parents in its own parent order.
    """
    gum = pytest.importorskip("pyagrum", reason="pyAgrum is a test dependency")
    path = exported[fmt]
    if fmt == "xmlbif":  # pyAgrum knows XMLBIF by the .bifxml extension
        path = tmp_path / "toe_twitch.bifxml"
        path.write_bytes(exported[fmt].read_bytes())
    bn = gum.loadBN(str(path))
    assert bn.size() == len(model.states) and bn.sizeArcs() == len(model.network.edges())

    again = model_from_network(pyagrum_as_pgmpy(bn, fmt, model), f"pyAgrum {fmt}")
    got = again.posterior_batch(evidences)
    bound = posterior_error_bound(model, fmt, PYAGRUM_READER_ERROR.get(fmt, 0.0))
    assert np.abs(got - reference).max() <= bound


def test_tolerances_follow_the_printed_precision(model):
    """Lossless formats get the engine's tolerance; XDSL's 16 decimals add a bound set by
    the smallest table entry (ALS and Parkinson's in infants at 1e-9, the smallest
    prevalence the schema allows: a relative 5e-8 on that entry)."""
    for fmt in ("bif", "xmlbif", "net", "uai"):
        assert posterior_error_bound(model, fmt) == ENGINE_TOLERANCE
    extra = posterior_error_bound(model, "xdsl") - ENGINE_TOLERANCE
    assert 1e-10 < extra < 1e-6


@pytest.mark.parametrize("fmt", ["bif", "xmlbif", "xdsl", "net"])
def test_state_names_survive_the_round_trip(model, exported, loaded, fmt):
    """Every variable comes back with the vocabulary's state names, in the same order."""
    network = _loaded(loaded, exported, fmt).network
    for v in network.nodes():
        assert tuple(network.get_cpds(v).state_names[v]) == model.states[v]


def test_labels_are_written_where_each_format_keeps_them(model, exported):
    """BIF ``property label``, Hugin NET ``label = "..."``, XMLBIF ``<PROPERTY>``."""
    from pgmpy.readwrite import XMLBIFReader

    label = model.vocabulary.causes["neuropathy"].label
    bif = exported["bif"].read_text()
    block = bif[bif.index("variable neuropathy {") :]
    assert f"property label = {label} ;" in block[: block.index("\n}")]
    net = exported["net"].read_text()
    block = net[net.index("node neuropathy{") :]
    assert f'label = "{label}";' in block[: block.index("\n}")]
    network = XMLBIFReader(str(exported["xmlbif"])).get_model()
    assert network.nodes["neuropathy"]["label"] == label
    assert network.nodes["leg_pain"]["label"] == "Noticeable pain in the leg"


def test_xdsl_labels_are_genie_node_names(model, exported):
    """GeNIe (and pyAgrum) show an XDSL node by its name: the vocabulary's label."""
    gum = pytest.importorskip("pyagrum", reason="pyAgrum is a test dependency")
    bn = gum.loadBN(str(exported["xdsl"]))
    names = {bn.variable(n).description(): bn.variable(n).name() for n in bn.nodes()}
    assert names["als"] == "Amyotrophic lateral sclerosis (ALS)"


def test_exports_are_reproducible(model, exported, tmp_path):
    """The same model gives byte-identical files (no random layout, no timestamps)."""
    for name, path in exported.items():
        again = export_network(model, tmp_path / path.name, name)
        assert again.read_bytes() == path.read_bytes(), name


# ---------------------------------------------------------------------- writing safely
def test_export_refuses_to_overwrite_without_permission(model, tmp_path):
    target = tmp_path / "net.xdsl"
    target.write_text("keep me")
    with pytest.raises(OutputExistsError, match="replace it with --force"):
        export_network(model, target)
    assert target.read_text() == "keep me"
    export_network(model, target, overwrite=True)
    assert target.read_text().startswith("<?xml")


def test_export_failing_midway_leaves_the_old_file_and_nothing_else(model, tmp_path, monkeypatch):
    """A writer that raises halfway (or a failed rename) keeps the old file, leaves no stray file."""
    from pgmpy.readwrite import BIFWriter

    target = tmp_path / "net.bif"
    target.write_text("the old network")

    def broken(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(BIFWriter, "__str__", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        export_network(model, target, overwrite=True)
    assert target.read_text() == "the old network"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.bif"]
    monkeypatch.undo()

    def failed_rename(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failed_rename)
    with pytest.raises(OSError, match="rename failed"):
        export_network(model, target, overwrite=True)
    assert target.read_text() == "the old network"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.bif"]


def test_format_comes_from_the_extension_and_must_fit_it(model, tmp_path):
    assert export_network(model, tmp_path / "a.bifxml").read_text().find("<BIF") > 0
    with pytest.raises(ToeTwitchError, match=r"a BIF file must end with \.bif.*a\.bif"):
        export_network(model, tmp_path / "a.net", "bif")
    with pytest.raises(ToeTwitchError, match="cannot tell the format"):
        export_network(model, tmp_path / "a.txt")
    with pytest.raises(ToeTwitchError, match="unknown network format 'dsl'"):
        export_network(model, tmp_path / "a.dsl", "dsl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bifxml"]


# ---------------------------------------------------------------------- inference-only model
@pytest.fixture(scope="module")
def from_file(exported):
    return load_model(exported["xmlbif"])


def test_model_from_a_network_file_diagnoses_explains_and_asks(model, from_file):
    evidence = {"age_group": "older_adult", "numbness_tingling": "present", "diabetes": "present"}
    d, expected = from_file.diagnose(evidence), model.diagnose(evidence)
    assert [c for c, _ in d.ranking] == [c for c, _ in expected.ranking]
    assert d.urgency == expected.urgency == "see_doctor"
    why = explain(from_file, evidence, "neuropathy")
    assert why.posterior == pytest.approx(explain(model, evidence, "neuropathy").posterior, abs=1e-9)
    assert (
        next_questions(from_file, evidence, k=3)[0].finding
        == next_questions(model, evidence, k=3)[0].finding
    )
    assert len(what_if(from_file, evidence)) == len(what_if(model, evidence))


def test_network_model_uses_the_default_thresholds_and_says_so(model, from_file):
    assert from_file.thresholds == model.thresholds
    assert "default.yaml" in from_file.thresholds_source
    assert "no urgency thresholds" in from_file.thresholds_source


@pytest.mark.parametrize(
    ("feature", "call"),
    [
        ("sensitivity", lambda m: sensitivity(m, {"leg_pain": "present"}, "neuropathy")),
        ("uncertainty", lambda m: uncertainty(m, {"leg_pain": "present"}, draws=10)),
    ],
)
def test_features_needing_priors_say_so(from_file, feature, call):
    with pytest.raises(
        PriorsRequiredError,
        match=rf"loaded from .*toe_twitch\.xmlbif, which has no ranges or sources; {feature} needs a priors file",
    ):
        call(from_file)


def test_vignette_sensitivity_and_priors_need_a_priors_file(from_file):
    from toe_twitch.analysis import vignette_sensitivity

    vignettes = load_vignettes()[:2]
    with pytest.raises(PriorsRequiredError, match="which has no ranges or sources"):
        vignette_sensitivity(from_file, vignettes)
    with pytest.raises(PriorsRequiredError, match="priors export"):
        _ = from_file.priors
    assert not from_file.has_priors


def test_a_network_model_exports_again(from_file, tmp_path):
    """Export works without priors: the network is all it needs."""
    again = load_model(export_network(from_file, tmp_path / "again.xdsl"))
    evidence = {"age_group": "child", "fever": "present"}
    assert again.posterior(evidence) == pytest.approx(from_file.posterior(evidence), abs=1e-9)


# ---------------------------------------------------------------------- bad files
def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_foreign_network_is_refused_naming_each_unknown_variable(tmp_path):
    from pgmpy.readwrite import BIFWriter
    from pgmpy.utils import get_example_model

    path = _write(tmp_path, "asia.bif", str(BIFWriter(get_example_model("asia"))))
    with pytest.raises(NetworkFileError) as info:
        load_model(path)
    message = str(info.value)
    assert message.startswith(f"{path}: 8 problem(s) found")
    assert "variable 'smoke': not a cause or finding of the vocabulary" in message


def test_wrong_states_and_bad_columns_are_named(exported, tmp_path):
    text = exported["xmlbif"].read_text()
    bad_states = text.replace("<OUTCOME>present</OUTCOME>", "<OUTCOME>yes</OUTCOME>", 1)
    with pytest.raises(NetworkFileError, match=r"states \['absent', 'yes'\] do not match"):
        load_model(_write(tmp_path, "states.xmlbif", bad_states))
    start = text.index("<FOR>fever</FOR>")
    table = text.index("<TABLE>", start) + len("<TABLE>")
    bad_sum = text[:table] + "0.5 " + text[table:].split(" ", 1)[1]
    with pytest.raises(NetworkFileError, match=r"variable 'fever': probabilities given .* sum to"):
        load_model(_write(tmp_path, "sums.xmlbif", bad_sum))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty.bif", "", "file is empty"),
        ("junk.xdsl", "not xml at all", r"cannot be read as XDSL \(GeNIe\) by pgmpy"),
        ("junk.bif", "hello", "no variables found; is this really a BIF file?"),
        ("markov.uai", "MARKOV\n1\n2\n1\n1 0\n2\n0.5 0.5\n", "starts with BAYES"),
        ("small.uai", "BAYES\n1\n2\n1\n1 0\n2\n0.5 0.5\n", "UAI files carry no variable names"),
        ("short.uai", "BAYES\n2\n2 2\n", "the file ends where the number of functions"),
    ],
)
def test_bad_network_files_are_clear_errors_naming_the_file(tmp_path, name, text, message):
    path = _write(tmp_path, name, text)
    with pytest.raises(NetworkFileError, match=message) as info:
        load_model(path)
    assert str(info.value).startswith(str(path))


def test_a_missing_network_file_is_named(tmp_path):
    with pytest.raises(NetworkFileError, match=r"nothing\.net: file not found"):
        load_model(tmp_path / "nothing.net")


def test_uai_with_a_changed_structure_is_refused(exported, tmp_path):
    """UAI variables are named by position; a file whose parents differ cannot be named."""
    lines = exported["uai"].read_text().splitlines()
    n = int(lines[1])
    binary = [i for i, card in enumerate(lines[2].split()) if card == "2"]
    row, parent, child = next(
        (row, int(s.split()[1]), int(s.split()[2]))
        for row, s in enumerate(lines[4 : 4 + n], start=4)
        if s.startswith("2 ") and {int(x) for x in s.split()[1:]} <= set(binary)
    )
    other = next(i for i in binary if i not in (parent, child))
    lines[row] = f"2 {other} {child}"
    with pytest.raises(NetworkFileError, match="the toe-twitch network has"):
        load_model(_write(tmp_path, "moved.uai", "\n".join(lines)))


@pytest.mark.parametrize("label", ["plain words", "braces {inside} a label"])
def test_net_reader_finds_the_nodes_pgmpys_reader_finds(label):
    """The NET reader reads names and states from the node declarations alone (a scan of
    the whole file took most of its 46 s); when a declaration is not a plain block it
    scans the whole text, so both find what pgmpy's own NETReader finds."""
    from pgmpy.readwrite import NETReader

    from toe_twitch.interop import net

    text = (
        "net\n{\n}\n"
        f'node a\n{{\n  states = ("yes" "no");\n  label = "{label}";\n}}\n'
        'node b\n{\n  states = ("x" "y" "z");\n}\n'
        "potential ( a )\n{\n  data = ( 0.3 0.7 );\n}\n"
        "potential ( b | a )\n{\n  data = (( 0.1 0.2 0.7 ) ( 0.5 0.25 0.25 ));\n}\n"
    )
    ours = net._pgmpy_classes()[1](string=text)
    theirs = NETReader(string=text)
    assert ours.variable_names == theirs.variable_names == ["a", "b"]
    assert ours.variable_states == theirs.variable_states
    assert (net._nodes(text) == text) == ("{" in label)
