"""The cause-space engine is exact: it agrees with pgmpy and pyAgrum on the same CPTs,
and its compiled and numpy paths agree with each other."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import edited_model
from toe_twitch import ToeTwitchModel, load_model
from toe_twitch.engine import HAVE_NUMBA, CauseSpace
from toe_twitch.errors import EngineError, EvidenceError, ImpossibleEvidenceError
from toe_twitch.network import Structure, Tables

TOLERANCE = 1e-9


def random_evidence(model, rng: np.random.Generator, n: int, p: float = 0.5) -> list[dict[str, str]]:
    """Each answerable finding observed with probability ``p``, in a uniformly random state."""
    out = []
    for _ in range(n):
        evidence = {}
        for f in model.findings:
            if rng.random() < p:
                states = model.states[f]
                evidence[f] = states[rng.integers(len(states))]
        out.append(evidence)
    return out


@pytest.fixture(scope="module")
def numpy_model():
    return load_model(compiled=False)


def test_agrees_with_pgmpy_on_thousands_of_random_evidence_sets(model):
    """1,500 random evidence sets (age and risk factors answered or not): every cause
    within 1e-9 of pgmpy's VariableElimination. Impossible sets are compared too: pgmpy
    cannot answer them, the engine must say so."""
    evidences = random_evidence(model, np.random.default_rng(2026), 1500, p=0.3)
    ours = model.query(evidences, impossible="mark")
    worst, compared = 0.0, 0
    for row, evidence in enumerate(evidences):
        if ours.impossible[row]:
            continue
        reference = model.reference_posterior(evidence)
        worst = max(worst, max(abs(ours.marginals[row, i] - reference[c]) for i, c in enumerate(model.causes)))
        compared += 1
    assert compared > 1000
    assert worst < TOLERANCE


def test_no_listed_cause_equals_pgmpys_joint_query(model):
    """P(every listed cause absent | evidence) equals pgmpy's joint query to 1e-9."""
    evidences = [{}] + random_evidence(model, np.random.default_rng(7), 60, p=0.25)
    ours = model.query(evidences, impossible="mark")
    ve = model._variable_elimination
    checked = 0
    for row, evidence in enumerate(evidences):
        if ours.impossible[row]:
            continue
        joint = ve.query(model.causes, evidence=model.reference_evidence(evidence), joint=True,
                         show_progress=False)
        reference = float(joint.get_value(**{c: "absent" for c in model.causes}))
        assert abs(ours.no_listed_cause[row] - reference) < TOLERANCE
        checked += 1
    assert checked > 40


@st.composite
def evidence_sets(draw, model):
    evidence = {}
    for f in model.findings:
        state = draw(st.sampled_from((None, *model.states[f])))
        if state is not None:
            evidence[f] = state
    return evidence


def test_agrees_with_pgmpy_property(model):
    """Property test: for any evidence hypothesis finds, the engine equals pgmpy (or both
    find it impossible)."""

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(evidence_sets(model))
    def check(evidence):
        ours = model.query([evidence], impossible="mark")
        if ours.impossible[0]:
            return
        reference = model.reference_posterior(evidence)
        for i, c in enumerate(model.causes):
            assert abs(ours.marginals[0, i] - reference[c]) < TOLERANCE

    check()


def pyagrum_network(model):
    """A pyAgrum BayesNet filled directly from the model's CPTs (no file in between)."""
    gum = pytest.importorskip("pyagrum")
    bn = gum.BayesNet("toe_twitch")
    network = model.network
    for node in network.nodes():
        states = [str(s) for s in network.get_cpds(node).state_names[node]]
        bn.add(gum.LabelizedVariable(node, node, states))
    for parent, child in network.edges():
        bn.addArc(parent, child)
    for node in network.nodes():
        cpd = network.get_cpds(node)
        values = np.asarray(cpd.get_values(), dtype=float).reshape(cpd.cardinality)
        # pgmpy: (child, parent 1, ..., parent k); pyAgrum's array: the variables of the
        # potential in its own order (child first, then parents as added).
        potential = bn.cpt(node)
        names = list(potential.names)
        order = [cpd.variables.index(name) for name in names]
        potential.fillWith(np.transpose(values, order[::-1]).ravel().tolist())
    return gum, bn


def test_agrees_with_pyagrum_built_from_the_cpts(model):
    """pyAgrum's LazyPropagation on a network filled directly from the same CPTs: every
    cause within 1e-12 on 300 random evidence sets."""
    gum, bn = pyagrum_network(model)
    engine = gum.LazyPropagation(bn)
    evidences = random_evidence(model, np.random.default_rng(11), 300, p=0.3)
    ours = model.query(evidences, impossible="mark")
    worst, compared = 0.0, 0
    for row, evidence in enumerate(evidences):
        if ours.impossible[row]:
            continue
        engine.setEvidence(model.reference_evidence(evidence))
        engine.makeInference()
        for i, c in enumerate(model.causes):
            worst = max(worst, abs(engine.posterior(c)[1] - ours.marginals[row, i]))
        compared += 1
    assert compared > 200
    assert worst < 1e-12


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed: only the numpy path exists")
def test_compiled_and_numpy_paths_agree(model, numpy_model):
    """5,000 random rows, the joint posterior of 50 of them and P(evidence): the numba
    kernels and the numpy reference agree to 1e-12."""
    assert model.engine.compiled and not numpy_model.engine.compiled
    evidences = random_evidence(model, np.random.default_rng(5), 5000, p=0.5)
    a = model.query(evidences, impossible="mark")
    b = numpy_model.query(evidences, impossible="mark")
    assert np.array_equal(a.impossible, b.impossible)
    ok = ~a.impossible
    assert np.max(np.abs(a.marginals[ok] - b.marginals[ok])) < 1e-12
    assert np.max(np.abs(a.no_listed_cause[ok] - b.no_listed_cause[ok])) < 1e-12
    assert np.max(np.abs(a.log_evidence[ok] - b.log_evidence[ok])) < 1e-9
    some = [e for e, good in zip(evidences, ok, strict=True) if good][:50]
    ja = model.query(some, joint=True).joint
    jb = numpy_model.query(some, joint=True).joint
    assert np.max(np.abs(ja - jb)) < 1e-12


def test_a_dataframe_gives_the_same_posteriors_as_dicts(model):
    """One column per finding, empty cells unknown, plain strings or categoricals."""
    evidences = random_evidence(model, np.random.default_rng(3), 400, p=0.3)
    frame = pd.DataFrame(evidences, columns=model.findings)
    as_dicts = model.query(evidences, impossible="mark")
    as_frame = model.query(frame, impossible="mark")
    categorical = model.query(frame.astype("category"), impossible="mark")
    for other in (as_frame, categorical):
        assert np.array_equal(other.impossible, as_dicts.impossible)
        ok = ~as_dicts.impossible
        assert np.max(np.abs(other.marginals[ok] - as_dicts.marginals[ok])) == 0.0


def test_a_dataframe_with_a_bad_state_names_the_column_and_row(model):
    frame = pd.DataFrame({"leg_pain": ["present", "maybe"], "fever": [None, "absent"]}, index=["a", "b"])
    with pytest.raises(EvidenceError, match=r"column 'leg_pain', row 'b': unknown state 'maybe'"):
        model.posterior_batch(frame)
    with pytest.raises(EvidenceError, match="unknown finding 'leg_pan'"):
        model.posterior_batch(pd.DataFrame({"leg_pan": ["present"]}))


def test_impossible_evidence_names_the_answers_that_cannot_be_combined():
    """Leg pain in every PLMT (link 1) and saddle numbness only from PLMT (leak 0): "no leg
    pain" rules PLMT out, so "saddle numbness" cannot be true with it. The message names
    exactly those two answers, not row numbers."""
    changes = {
        "findings.leg_pain.links.plmt": 1.0,
        "findings.bladder_bowel_or_saddle_numbness.leak": 0.0,
    }
    model = edited_model(changes)
    assert model.posterior({"leg_pain": "absent"})["plmt"] == 0.0
    evidence = {"age_group": "adult", "leg_pain": "absent", "fever": "absent",
                "bladder_bowel_or_saddle_numbness": "present"}
    assert model.conflicting_answers(evidence) == {
        "leg_pain": "absent", "bladder_bowel_or_saddle_numbness": "present"
    }
    with pytest.raises(ImpossibleEvidenceError) as info:
        model.diagnose(evidence)
    message = str(info.value)
    assert "leg_pain=absent, bladder_bowel_or_saddle_numbness=present" in message
    assert "row" not in message and "fever" not in message


def test_conflicting_answers_is_a_smallest_impossible_subset():
    """The deletion filter keeps only answers needed for the conflict."""
    paths = [p.path for p in load_model().structure.parameters
             if p.path.startswith("findings.muscle_weakness.")]
    model = edited_model({p: 0.0 for p in paths})
    evidence = {"age_group": "adult", "muscle_weakness": "present", "fever": "absent", "leg_pain": "absent"}
    assert model.query([evidence], impossible="mark").impossible[0]
    assert model.conflicting_answers(evidence) == {"muscle_weakness": "present"}
    with pytest.raises(ImpossibleEvidenceError, match="muscle_weakness=present"):
        model.diagnose(evidence)


def test_products_of_many_tiny_probabilities_keep_their_digits(model):
    """Every leak and link at 1e-10 and every finding answered 'yes': P(evidence) is far
    below the smallest double (1e-308), yet both paths answer, agree to 1e-12 and give
    probabilities in [0, 1] (the engine scales each row by exact powers of two)."""
    paths = [p.path for p in model.structure.parameters
             if p.path.startswith("findings.") and not p.path.startswith("findings.toe_twitching")]
    tiny = edited_model({p: 1e-10 for p in paths})
    numpy_tiny = ToeTwitchModel.from_priors(tiny.priors, "<test>", compiled=False)
    everything = {f: "present" for f in tiny.findings if f != "age_group"}
    everything["age_group"] = "older_adult"
    a = tiny.query([everything])
    b = numpy_tiny.query([everything])
    assert a.log_evidence[0] < np.log(1e-308)
    assert abs(a.log_evidence[0] - b.log_evidence[0]) < 1e-9 * abs(a.log_evidence[0])
    assert np.max(np.abs(a.marginals - b.marginals)) < 1e-12
    assert np.all((a.marginals >= 0) & (a.marginals <= 1))


def _synthetic(causes: int, findings: int = 4) -> tuple[Structure, Tables]:
    names = tuple(f"c{i}" for i in range(causes))
    fnames = tuple(f"f{i}" for i in range(findings))
    structure = Structure(
        age_states=(), risk_factors=(), causes=names, cause_parents={c: () for c in names},
        findings=fnames, finding_parents={f: names[:3] for f in fnames}, finding_by_age={},
    )
    cause = {c: np.array([[[[0.9]], [[0.1]]]]).reshape(1, 2, 1, 1) for c in names}
    factors = np.full((1, 1, 4), 0.5)
    absent = np.array([[[0.5, 0.25, 0.25, 0.125, 0.25, 0.125, 0.125, 0.0625]]])
    finding = {f: np.stack([absent, 1 - absent], axis=1) for f in fnames}
    return structure, Tables(np.ones((1, 1)), {}, cause, finding, {f: factors for f in fnames})


def test_too_many_causes_is_refused_before_allocating():
    structure, tables = _synthetic(30)
    with pytest.raises(EngineError, match=r"30 causes.*at most 22"):
        CauseSpace(structure, tables)


def test_a_finding_with_a_non_cause_parent_is_refused_with_its_name():
    structure, tables = _synthetic(3)
    bad = Structure(**{**structure.__dict__, "finding_parents": {**structure.finding_parents, "f0": ("c0", "f1")}})
    with pytest.raises(EngineError, match=r"finding 'f0' has the parent 'f1'"):
        CauseSpace(bad, tables)


def test_a_synthetic_network_is_exact_against_brute_force():
    """Three findings on three of eight causes: the engine equals summing the joint by hand."""
    structure, tables = _synthetic(8, 3)
    engine = CauseSpace(structure, tables)
    from toe_twitch.engine import Encoded

    rows = Encoded(np.array([-1]), np.zeros((1, 0), dtype=np.int8), np.array([[1, 0, -1]], dtype=np.int8))
    result = engine.query(rows)
    # brute force over 2**8 states
    states = np.array([[(s >> j) & 1 for j in range(8)] for s in range(256)])
    prior = np.prod(np.where(states == 1, 0.1, 0.9), axis=1)
    m = states[:, 0] + 2 * states[:, 1] + 4 * states[:, 2]
    absent = tables.finding["f0"][0, 0, 0][m]
    weight = prior * (1 - absent) * absent  # f0 present, f1 absent
    expected = (weight[:, None] * states).sum(axis=0) / weight.sum()
    assert np.max(np.abs(result.marginals[0] - expected)) < 1e-14
    assert abs(result.no_listed_cause[0] - weight[0] / weight.sum()) < 1e-14


def test_pgmpy_inference_still_works_on_the_network(model):
    """The pgmpy network checks (model.check_model) and answers a query (the reference)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert model.network.check_model()
    assert set(model.reference_posterior({})) == set(model.causes)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed: only the numpy path exists")
def test_component_priors_sum_out_shared_risk_factors_exactly(model):
    """The compiled prior of each component (shared risk factors summed out early, causes
    in the cheapest order) equals the numpy path's (the same schedule, vectorised over rows)
    for 30 parameter sets, every age and risk factors unanswered, answered, or mixed; and
    both equal a plain enumeration of every shared risk factor on a few rows."""
    from toe_twitch.analysis import sample_parameters
    from toe_twitch.engine.reference import component_priors, enumerated_component_priors
    from toe_twitch.network import build_tables

    tables = build_tables(model.structure_, sample_parameters(model, 30, seed=2))
    engine = CauseSpace(model.structure_, tables)
    rng = np.random.default_rng(0)
    n = 600
    groups = rng.integers(0, 30, n)
    ages = rng.integers(0, engine.n_ages, n)
    r = len(engine.risk_factors)
    evidence = np.concatenate([np.full((200, r), -1), rng.integers(0, 2, (200, r)),
                               rng.integers(-1, 2, (200, r))]).astype(np.int8)
    few = np.array([0, 1, 200, 201, 400, 401])
    for comp in engine.components:
        fast = engine._compiled_priors(comp, groups, ages, evidence)
        plain = component_priors(engine, comp, groups, ages, evidence)
        enumerated = enumerated_component_priors(engine, comp, groups[few], ages[few], evidence[few])
        # sums of non-negative terms in another order: every entry to a relative 1e-12
        assert np.all(np.abs(fast - plain) <= 1e-12 * plain + 1e-300)
        assert np.all(np.abs(fast[few] - enumerated) <= 1e-12 * enumerated + 1e-300)
        assert np.allclose(fast[:200].sum(axis=1), 1.0, atol=1e-13)  # nothing answered: a distribution


def test_the_cheapest_cause_order_is_found_and_used():
    """The dynamic programme over subsets beats (or ties) the file's order on the
    nine-cause component, and every order it returns is a permutation."""
    from toe_twitch.engine.plan import cheapest_order

    parents = [{"a", "b"}, {"c", "d"}, {"c", "e", "f", "d", "g"}, {"a", "e", "b", "g"},
               {"c", "e"}, {"f"}, {"h"}, {"h"}, {"f", "h", "b"}]
    order = cheapest_order(list(range(9)), parents)
    assert sorted(order) == list(range(9))

    def cost(order):
        first, last = {}, {}
        for q, c in enumerate(order):
            for rf in parents[c]:
                first.setdefault(rf, q)
                last[rf] = q
        total = 0
        for q in range(len(order)):
            during = [rf for rf in first if first[rf] <= q <= last[rf] and first[rf] != last[rf]]
            out = [rf for rf in during if last[rf] > q]
            total += 2 ** len(during) * 2 ** q + 2 ** len(out) * 2 ** (q + 1)
        return total

    assert cost(order) < cost(list(range(9))) / 2
