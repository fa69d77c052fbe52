"""Two people at once, and what the server shares between them.

Answers and tuned priors live in each session's own state; models are shared (by the
hash of their priors) and must never change in place. The caches that hold shared
things are bounded by count and by memory (:mod:`ui.loaders`).
"""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import numpy as np

from tests.test_ui_app import click, expected_ranking, go, open_app, ranking, ranking_values
from tests.test_ui_pages import HYPNIC_ADULT, edit_value
from toe_twitch import ToeTwitchModel, load_model
from toe_twitch.priors import priors_to_data, with_values
from toe_twitch.ui import keys, loaders
from toe_twitch.ui.background import VignetteReport
from toe_twitch.ui.text import percent


def fingerprint(m: ToeTwitchModel) -> str:
    """A hash of what a query reads: the priors, every table, the prior probabilities."""
    h = hashlib.sha256()
    h.update(json.dumps(priors_to_data(m.priors), sort_keys=True, default=str).encode())
    t = m.tables
    for name, table in [
        ("age", t.age),
        *t.risk_factor.items(),
        *t.cause.items(),
        *t.finding.items(),
    ]:
        h.update(name.encode())
        h.update(np.ascontiguousarray(table).tobytes())
    h.update(json.dumps(m.prior, sort_keys=True).encode())
    return h.hexdigest()


def test_answers_and_tuned_priors_stay_in_their_own_session():
    """Alice answers a red flag and tunes a prior; Bob, on the same server, sees neither,
    and the shared model is exactly as built."""
    alice, bob = open_app(), open_app()
    # Built again from the shared model's own priors (the file may be edited meanwhile).
    fresh = fingerprint(ToeTwitchModel.from_priors(loaders.shipped_model().priors))
    go(alice, "questions")
    alice.checkbox(key=keys.red_flag_key("sudden_weakness_or_paralysis")).check().run()
    alice.run()
    bob.run()
    assert "Seek emergency care now" in alice.error[0].value
    assert not bob.error and bob.session_state[keys.ANSWERS] == {}
    assert bob.query_params == {} or dict(bob.query_params) == {}

    click(alice, keys.INTERVIEW_BACK)
    m = load_model()
    high = next(p.high for p in m.structure.parameters if p.path == HYPNIC_ADULT)
    edit_value(go(alice, "tune"), HYPNIC_ADULT, high)
    assert alice.session_state[keys.PRIORS_EDITS] == {HYPNIC_ADULT: high}
    go(bob, "tune")
    assert bob.session_state[keys.PRIORS_EDITS] == {}

    go(alice, "explore")
    go(bob, "explore")
    tuned = ToeTwitchModel.from_priors(with_values(m.priors, {HYPNIC_ADULT: high}))
    assert ranking_values(alice) == expected_values(tuned) != expected_values(m)
    assert ranking_values(bob) == expected_values(m)
    assert ranking(bob) == expected_ranking({}, m)
    assert fingerprint(loaders.shipped_model()) == fresh  # nobody changed it in place


def expected_values(m: ToeTwitchModel) -> list[str]:
    d = m.diagnose({})
    return [percent(p) for _, p in d.ranking] + [percent(d.no_listed_cause)]


def fake_model(megabytes: int) -> SimpleNamespace:
    return SimpleNamespace(nbytes=megabytes * 2**20)


def test_the_model_cache_is_bounded_by_memory_and_count():
    """Least recently used models go first once the count or the memory is over its
    limit; a model just used stays."""
    cache = loaders.ModelCache(max_models=4, max_bytes=30 * 2**20)
    for i in range(10):
        cache.get(f"k{i}", lambda: fake_model(8))
        assert cache.nbytes <= 30 * 2**20 and len(cache) <= 4
    cache.get("k8", lambda: fake_model(8))  # used again: the most recent
    cache.get("new", lambda: fake_model(8))
    assert "k8" in cache._models and "k7" not in cache._models


def test_a_model_larger_than_the_budget_is_still_kept_alone():
    """One model over the memory budget is kept (the session needs it), alone."""
    cache = loaders.ModelCache(max_models=4, max_bytes=10 * 2**20)
    cache.get("a", lambda: fake_model(4))
    cache.get("huge", lambda: fake_model(50))
    assert list(cache._models) == ["huge"]


def test_the_report_cache_is_bounded_by_rows():
    cache = loaders.ReportCache(max_reports=8, max_rows=100)
    for i in range(5):
        cache.put(("p", f"f{i}"), VignetteReport("x", rows=[{}] * 40))
    assert sum(len(r.rows) for r in cache._reports.values()) <= 100
    assert cache.get(("p", "f4")) is not None and cache.get(("p", "f0")) is None


def test_many_uploads_of_distinct_priors_keep_the_cache_within_its_budget():
    """Twelve sessions upload twelve different priors files; the cache never holds more
    than its count and memory allow (benchmarks/page_memory.py measures the RSS of 100)."""
    base = load_model().priors
    from toe_twitch.ui import session_priors

    for i in range(12):
        priors = with_values(base, {HYPNIC_ADULT: 0.05 + i * 0.001})
        at = open_app()
        session_priors.set_base(priors, f"upload {i}", at.session_state)
    cache = loaders.model_cache()
    assert len(cache) <= loaders.MAX_MODELS
    assert cache.nbytes <= loaders.MAX_MODEL_BYTES
