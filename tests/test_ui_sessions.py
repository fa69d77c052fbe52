"""Two people at once: one session's answers and tuned priors never reach the other.

The model is built once and shared by every session (``st.cache_resource``); answers and
edits live in each session's own state. Two AppTest sessions run side by side in this
process and so share the same cached model, exactly like two browsers on one server.
The shared model is fingerprinted (its priors, every table, its prior probabilities) and
must still match a freshly built model after both sessions have worked: a session that
changed the cached model in place would fail here (see the last test).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from model import ToeTwitchModel, load_model
from model.priors import priors_to_data, with_values
from tests.test_ui_app import ranking, widget
from tests.test_ui_pages import HYPNIC_ADULT, edit_value, go, open_app, table_with
from ui import priors_state as ps
from ui.case import interval_tables
from ui.loaders import get_model


def fingerprint(m: ToeTwitchModel) -> str:
    """A hash of everything a query reads: the priors, every table, the prior probabilities."""
    h = hashlib.sha256()
    h.update(json.dumps(priors_to_data(m.priors), sort_keys=True, default=str).encode())
    for name in sorted(m.tables):
        for table in m.tables[name]:
            h.update(name.encode())
            h.update(np.ascontiguousarray(table).tobytes())
    h.update(json.dumps(m.prior, sort_keys=True).encode())
    return h.hexdigest()


def labels(m: ToeTwitchModel, evidence: dict[str, str]) -> list[str]:
    return [m.vocabulary.causes[c].label for c, _ in m.diagnose(evidence).ranking]


def test_answers_and_tuned_priors_stay_in_their_own_session(model):
    """Alice answers a red flag and tunes a prior; Bob, on the same server, sees neither."""
    fresh = fingerprint(load_model())
    alice, bob = open_app(), open_app()

    widget(alice, "sudden_weakness_or_paralysis").set_value("present").run()
    bob.run()
    assert alice.error and "Seek emergency care now" in alice.error[0].value
    assert not bob.error and bob.success  # Bob has no answers: self care
    assert bob.query_params == {}
    assert all(widget(bob, f).value == "unknown" for f in model.findings)
    assert ranking(bob) == labels(model, {})

    widget(alice, "sudden_weakness_or_paralysis").set_value("absent")
    widget(alice, "age_group").set_value("adult").run()
    high = next(p.high for p in model.structure.parameters if p.path == HYPNIC_ADULT)
    edit_value(go(alice, "tune"), HYPNIC_ADULT, high)
    assert alice.session_state[ps.EDITS] == {HYPNIC_ADULT: high}

    go(bob, "tune")
    assert ps.EDITS not in bob.session_state or bob.session_state[ps.EDITS] == {}
    assert not any("Your 1 edit" in m.value for m in bob.markdown)
    before_after = table_with(bob, "Was #")
    shipped = model.diagnose({}).ranking
    assert list(before_after["After"]) == pytest.approx([p for _, p in shipped], abs=1e-12)
    assert list(before_after["Before"]) == list(before_after["After"])

    go(bob, "explore")
    go(alice, "explore")
    tuned = ToeTwitchModel(with_values(model.priors, {HYPNIC_ADULT: high}))
    evidence = {"age_group": "adult", "sudden_weakness_or_paralysis": "absent"}
    assert ranking(alice) == labels(tuned, evidence) != labels(model, evidence)
    assert ranking(bob) == labels(model, {})
    assert not any("tuned priors" in c.value for c in bob.caption)

    assert fingerprint(get_model()) == fresh  # the shared model is exactly as built


def test_the_shared_draws_of_the_intervals_are_read_only(model):
    """The tables behind the 90% intervals are shared by every session: writing one fails."""
    tables = interval_tables(model, draws=4)
    with pytest.raises(ValueError, match="read-only"):
        tables["fever"][...] = 0.5


def test_the_fingerprint_catches_a_model_changed_in_place():
    """The check above can fail: a table changed in place gives another fingerprint."""
    m = load_model()
    before = fingerprint(m)
    table = m.tables["leg_pain"][0]
    table.flat[0] = table.flat[0] * 0.5
    assert fingerprint(m) != before
