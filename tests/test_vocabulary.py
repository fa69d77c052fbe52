"""The project's copy of the vocabulary honours the shared contract."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import SHARED
from toe_twitch.vocabulary import load_vocabulary


@pytest.fixture(scope="module")
def shared_vocabulary():
    path = SHARED / "vocabulary.yaml"
    if not path.exists():
        pytest.skip(f"shared vocabulary not found at {path} (run beside ../shared)")
    return yaml.safe_load(path.read_text())


def test_every_shared_cause_exists_in_the_project(shared_vocabulary):
    """No cause of the contract is renamed or dropped."""
    ours = load_vocabulary()
    assert set(shared_vocabulary["causes"]) <= set(ours.causes)


def test_every_shared_finding_exists_with_the_same_states(shared_vocabulary):
    """Every finding of the contract exists with exactly its states (default present/absent)."""
    ours = load_vocabulary()
    for fid, spec in shared_vocabulary["findings"].items():
        assert fid in ours.findings, fid
        assert set(ours.findings[fid].states) == set(spec.get("states", ["absent", "present"])), fid
        assert ours.findings[fid].red_flag == bool(spec.get("red_flag", False)), fid


def test_urgency_levels_match_in_order(shared_vocabulary):
    """Urgency levels are the contract's, ordered from least to most urgent."""
    assert load_vocabulary().urgency_ids == list(shared_vocabulary["urgency"])


def test_the_model_uses_every_vocabulary_id(model):
    """All 12 causes and every finding of the vocabulary are nodes of the network."""
    vocab = load_vocabulary()
    assert model.causes == vocab.cause_ids
    assert set(vocab.finding_ids) <= set(model.network.nodes())
    # the five red flags of the shared contract, and seizure-like jerking (clinical review T2)
    assert len(vocab.red_flags) == 6
    for fid, finding in vocab.findings.items():
        assert tuple(model.network.get_cpds(fid).state_names[fid]) == finding.states
    for cid in vocab.cause_ids:
        assert model.network.get_cpds(cid).state_names[cid] == ["absent", "present"]
