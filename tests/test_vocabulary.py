"""The project's vocabulary honours the contract: the base ids kept in
``tests/data/contract_ids.yaml`` (every cause, finding and urgency level fixed when the
project started) are never renamed or dropped."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import ROOT
from toe_twitch.vocabulary import load_vocabulary

CONTRACT = ROOT / "tests" / "data" / "contract_ids.yaml"


@pytest.fixture(scope="module")
def contract():
    return yaml.safe_load(CONTRACT.read_text())


def test_the_contract_lists_every_kind_of_id(contract):
    """The list itself is whole: 12 causes, the 33 base findings, the 3 urgency levels."""
    assert len(contract["causes"]) == 12
    assert len(contract["findings"]) == 33
    assert contract["urgency"] == ["self_care", "see_doctor", "emergency"]


def test_every_contract_cause_exists_in_the_project(contract):
    """No cause of the contract is renamed or dropped."""
    ours = load_vocabulary()
    assert set(contract["causes"]) <= set(ours.causes)


def test_every_contract_finding_exists_with_the_same_states(contract):
    """Every finding of the contract exists with exactly its states (default present/absent)."""
    ours = load_vocabulary()
    for fid, spec in contract["findings"].items():
        spec = spec or {}
        assert fid in ours.findings, fid
        assert set(ours.findings[fid].states) == set(spec.get("states", ["absent", "present"])), fid
        assert ours.findings[fid].red_flag == bool(spec.get("red_flag", False)), fid


def test_urgency_levels_match_in_order(contract):
    """Urgency levels are the contract's, ordered from least to most urgent."""
    assert load_vocabulary().urgency_ids == list(contract["urgency"])


def test_the_model_uses_every_vocabulary_id(model):
    """All 12 causes and every finding of the vocabulary are nodes of the network."""
    vocab = load_vocabulary()
    assert model.causes == vocab.cause_ids
    assert set(vocab.finding_ids) <= set(model.network.nodes())
    # the five red flags of the contract, and seizure-like jerking (clinical review T2)
    assert len(vocab.red_flags) == 6
    for fid, finding in vocab.findings.items():
        assert tuple(model.network.get_cpds(fid).state_names[fid]) == finding.states
    for cid in vocab.cause_ids:
        assert model.network.get_cpds(cid).state_names[cid] == ["absent", "present"]
