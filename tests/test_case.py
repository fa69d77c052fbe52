"""One case, computed once: the answers checked once, the engine run twice, every view
reads the case (issue 22).

A validation is a real check of answers (not the hand-back of answers the same model
already checked); an engine batch is one call of the engine's query. Counted on the
model alone and for one click on each page (Streamlit's AppTest runs the page in this
process, so the class-level counters see it).
"""

from __future__ import annotations

import collections

import numpy as np
import pytest

from tests.test_ui_app import RED_FLAGS_NONE, open_app
from toe_twitch import explain, interview, load_model, next_questions, what_if
from toe_twitch.core import ToeTwitchModel
from toe_twitch.engine import CauseSpace
from toe_twitch.records import CheckedAnswers
from toe_twitch.ui import keys


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture
def counted(monkeypatch):
    """Counts validations and engine batches from here on."""
    counts: collections.Counter = collections.Counter()
    check, query = ToeTwitchModel.check_evidence, CauseSpace.query

    def counting_check(self, evidence):
        if not (isinstance(evidence, CheckedAnswers) and evidence.checked_by is self):
            counts["validations"] += 1
        return check(self, evidence)

    def counting_query(self, rows, **kwargs):
        counts["engine"] += 1
        return query(self, rows, **kwargs)

    monkeypatch.setattr(ToeTwitchModel, "check_evidence", counting_check)
    monkeypatch.setattr(CauseSpace, "query", counting_query)
    return counts


CASES = [
    {"age_group": "adult", "leg_pain": "present", "fever": "present", "fatigue": "present"},
    {},
    {"onset_falling_asleep": "present", "caffeine_or_stimulants": "present"},
    {"age_group": "older_adult", "muscle_weakness": "present", "numbness_tingling": "absent"},
]


@pytest.mark.parametrize("answers", CASES)
def test_every_view_of_a_case_checks_once_and_runs_the_engine_twice(model, counted, answers):
    case = model.case(answers)
    _ = case.diagnosis, case.look_ahead, case.what_ifs, case.questions, case.explanation()
    assert counted == {"validations": 1, "engine": 2}


@pytest.mark.parametrize("answers", CASES)
def test_the_views_of_a_case_are_what_the_functions_give(model, answers):
    """The case's views equal the one-off functions that compute them separately."""
    case = model.case(answers)
    d = model.diagnose(answers)
    assert case.diagnosis.ranking == d.ranking and case.diagnosis.reasons == d.reasons
    alone = what_if(model, answers)
    assert [(w.finding, w.state, w.possible, w.urgency) for w in case.what_ifs] == [
        (w.finding, w.state, w.possible, w.urgency) for w in alone
    ]
    assert np.allclose([w.probability for w in case.what_ifs], [w.probability for w in alone],
                       rtol=0, atol=1e-12)
    assert [q.finding for q in next_questions(model, answers, k=5)] == [
        q.finding for q in case.questions[: len(next_questions(model, answers, k=5))]
    ]
    for cause in model.causes:
        one, two = explain(model, answers, cause), case.explanation(cause)
        pairs = zip(one.supporting + one.opposing, two.supporting + two.opposing, strict=True)
        for a, b in pairs:
            assert a.finding == b.finding
            assert a.sequential_weight == pytest.approx(b.sequential_weight, abs=1e-9)


def test_a_case_refuses_bad_answers_when_made(model):
    from toe_twitch import EvidenceError

    with pytest.raises(EvidenceError, match="unknown finding"):
        model.case({"leg_pian": "present"})


def test_one_answer_on_the_full_list_checks_once_and_runs_the_engine_twice(counted):
    at = open_app({"age_group": "adult", **RED_FLAGS_NONE}, page="explore")
    counted.clear()
    at.segmented_control(key=keys.question_key("leg_pain")).set_value("present").run()
    assert not at.exception
    assert counted == {"validations": 1, "engine": 2}


def test_one_answer_in_the_guided_interview_checks_once_and_runs_the_engine_twice(model, counted):
    answers = {"age_group": "adult", **RED_FLAGS_NONE}
    answers |= dict.fromkeys(interview.health_screen(model, answers), "absent")
    at = open_app(answers, page="questions")
    counted.clear()
    at.button(key="iv_present").click().run()
    assert not at.exception
    assert counted == {"validations": 1, "engine": 2}
