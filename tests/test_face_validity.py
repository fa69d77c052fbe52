"""Face validity as properties (issue 19, part 5): what a clinician checks the ranking and
the rules against, drawn over every age group in which a cause occurs and random other
answers.

* A cause whose defining finding is answered "no" does not lead: hypnic jerks when the
  twitching does not come as you fall asleep (for a baby, nor in sleep: benign neonatal
  sleep myoclonus comes in quiet sleep), PLMD when it does not come during sleep, PLMT
  when there is no leg pain.
* The textbook picture of each serious cause, told with the common questions, puts it in
  the top three in the age groups where it occurs.
* No answer lowers the urgency through a rule.

"Leads" means what the page shows first: the cause's probability is above every other
cause's and above the share no listed cause explains ("none of these causes", shown with
the ranking). The model ranks how likely each cause is *present*; a common cause keeps
most of its prior when its defining finding is denied, because it may be present while
the twitching comes from elsewhere. So the random answers never say "yes" to the cause's
own evidence (its risk factors, and PLMD's fatigue or PLMT's constant toe movements);
the expected failures ``test_limits_*`` below show what those answers do.

Each drawn case is one batch query (every age group at once).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toe_twitch.urgency import RANK, rule_level
from toe_twitch.vocabulary import load_vocabulary

AGES = ("infant", "child", "adult", "older_adult")
VOCAB = load_vocabulary()
#: Deterministic draws (the same cases every run), enough to find the corners.
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

#: The questions of the original contract, asked of everyone: the symptoms, when it comes
#: and how long it lasts, the emergency signs, plus the properties of the twitching itself
#: (which every interview asks, ``toes_move_constantly_awake`` among them). The project's
#: added discriminators (weakness getting worse, wasting, tongue twitching, slowness, weight
#: loss, blood tests, ...) are left unanswered: the pictures must rank without them.
COMMON_SYMPTOMS = (
    "after_exertion", "dehydration_or_missed_meals", "interferes_with_walking", "leg_pain",
    "cramp_stiffness", "numbness_tingling", "muscle_weakness", "widespread_twitching",
    "toe_curling", "resting_tremor", "cold_pale_feet", "joint_pain_swelling", "fever", "fatigue",
    *VOCAB.twitching_properties,
    *VOCAB.red_flags,
)
#: The health-history questions of the original contract.
COMMON_HISTORY = (
    "diabetes", "kidney_disease", "autoimmune_disease", "vascular_risk", "spine_or_nerve_injury",
    "caffeine_or_stimulants", "anxiety_or_stress", "exercise_near_bedtime", "poor_diet",
    "family_history_neuromuscular",
)


def _leads(model, rows: list[dict[str, str]], cause: str) -> list[dict[str, str]]:
    """The rows (possible under the priors) in which ``cause`` leads."""
    result = model.query(rows, impossible="mark")
    marginals = result.marginals
    j = model.causes.index(cause)
    led = []
    for i, row in enumerate(rows):
        if result.impossible[i]:
            continue
        others = np.delete(marginals[i], j).max()
        if marginals[i, j] > others and marginals[i, j] > result.no_listed_cause[i]:
            led.append(row)
    return led


# ------------------------------------------------------------------ defining finding "no"
#: Each cause, its defining answers "no" by age group, and its own evidence (never drawn
#: "yes" by the random answers; see the module docstring).
DEFINING: dict[str, tuple[dict[str, dict[str, str]], tuple[str, ...]]] = {
    "hypnic_jerk": (
        {"infant": {"onset_falling_asleep": "absent", "during_sleep": "absent"},
         **{age: {"onset_falling_asleep": "absent"} for age in AGES[1:]}},
        (),
    ),
    "plmd": ({age: {"during_sleep": "absent"} for age in AGES}, ("fatigue",)),
    # painless legs and moving toes is a described variant: constant toe movements stay PLMT's
    "plmt": ({age: {"leg_pain": "absent"} for age in AGES}, ("toes_move_constantly_awake",)),
}


def _other_answers(model, cause: str, fixed: set[str]) -> st.SearchStrategy[dict[str, str]]:
    """Random answers (unknown, no or yes) to every other question of the vocabulary; the
    cause's own evidence is never "yes"."""
    own = set(model.structure.cause_parents[cause]) | set(DEFINING[cause][1])
    names = [f for f in model.findings
             if f != "age_group" and not VOCAB.findings[f].implicit and f not in fixed]

    return st.fixed_dictionaries({
        f: st.sampled_from((None, "absent") if f in own else (None, *model.states[f]))
        for f in names
    }).map(lambda drawn: {f: s for f, s in drawn.items() if s is not None})


@pytest.mark.parametrize("cause", list(DEFINING))
def test_a_cause_whose_defining_finding_is_answered_no_does_not_lead(model, cause):
    """Hypnic jerks with no twitching at sleep onset, PLMD with none in sleep, PLMT without
    leg pain: never first, in any age group, whatever else is answered."""
    by_age = DEFINING[cause][0]
    fixed = {f for answers in by_age.values() for f in answers}

    @SETTINGS
    @given(_other_answers(model, cause, fixed))
    def check(others):
        rows = [{**others, "age_group": age, **by_age[age]} for age in AGES]
        assert _leads(model, rows, cause) == []

    check()


@pytest.mark.xfail(strict=True, reason="ranks presence, not what explains the twitching")
def test_limits_hypnic_jerks_with_all_three_triggers_do_not_lead_when_not_at_sleep_onset(model):
    """Why the random answers never say "yes" to a cause's own risk factors: a child who
    drinks a lot of coffee, is anxious and exercises late has hypnic jerks at night with an
    odds ratio of 12.5 (judged, no published figure), and "not as you fall asleep" cannot
    take that away: the model ranks how likely each cause is present, not which one
    explains this twitching (a model limitation, not a number to tune)."""
    case = {"age_group": "child", "onset_falling_asleep": "absent", "caffeine_or_stimulants": "present",
            "anxiety_or_stress": "present", "exercise_near_bedtime": "present",
            "after_exertion": "absent", "joint_pain_swelling": "absent", "cramp_stiffness": "absent"}
    assert _leads(model, [case], "hypnic_jerk") == []


@pytest.mark.xfail(strict=True, reason="ranks presence, not what explains the twitching")
def test_limits_plmd_with_tiredness_does_not_lead_when_not_in_sleep(model):
    """Why PLMD's fatigue is its own evidence: a sleep complaint or daytime tiredness is
    required for PLMD (ICSD-3) and most people never notice their periodic movements, so an
    adult who is tired with twitching for weeks keeps PLMD first even when the twitching
    does not come in sleep; PLMD is then the likely cause of the tiredness, not of the
    twitching, which the ranking of presence cannot say (a model limitation)."""
    case = {"age_group": "adult", "during_sleep": "absent", "persists_2_weeks": "present",
            "fatigue": "present", "after_exertion": "absent", "cramp_stiffness": "absent",
            "numbness_tingling": "absent", "onset_falling_asleep": "absent"}
    assert _leads(model, [case], "plmd") == []


# ------------------------------------------------------------------ textbook pictures
#: Each serious cause: the age groups it occurs in and its textbook picture in the common
#: questions (every other common symptom is answered "no", as the textbook patient would).
TEXTBOOK: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # progressive painless weakness with widespread fasciculations and cramps (NICE NG42)
    "als": (("adult", "older_adult"), ("muscle_weakness", "widespread_twitching", "cramp_stiffness",
                                       "persists_2_weeks", "interferes_with_walking")),
    # rest tremor or slowness with foot dystonia (the article: toe curling is dystonia)
    "parkinsons": (("adult", "older_adult"), ("resting_tremor", "toe_curling", "persists_2_weeks")),
    # weakness with fasciculations in a baby or child (AAP; 1976 international study)
    "sma": (("infant", "child"), ("muscle_weakness", "widespread_twitching", "persists_2_weeks")),
    # weakness, muscle pain and tiredness over weeks (MSD; juvenile dermatomyositis)
    "myopathy": (("child", "adult", "older_adult"), ("muscle_weakness", "leg_pain", "fatigue",
                                                      "persists_2_weeks", "interferes_with_walking")),
    # numb, burning feet with cramps (NHS inform; cramps in 63%)
    "neuropathy": (("adult", "older_adult"), ("numbness_tingling", "leg_pain", "cramp_stiffness",
                                              "persists_2_weeks")),
    # painful legs and toes that move constantly (Hassan 2012)
    "plmt": (("adult", "older_adult"), ("leg_pain", "toes_move_constantly_awake", "persists_2_weeks")),
}


#: Where the property does not hold on the shipped priors, and the clinical reason.
TEXTBOOK_MISSES = {
    ("als", "older_adult"): (
        "after 60 ALS (12 per 100,000) ties for third place with benign night cramps (12%) "
        "behind neuropathy (10%; motor neuropathy without numbness is a real ALS mimic, and "
        "cramps come in 63%) and PAD (12%; 'no cold foot or claudication' barely lowers it, "
        "as only 4-29% of PAD report claudication); the common questions cannot rule these "
        "out, and any one of weakness getting worse, wasting or weight loss puts ALS first "
        "(about 0.7)"
    ),
}


@pytest.mark.parametrize("cause, age", [
    pytest.param(cause, age, marks=pytest.mark.xfail(strict=True, reason=TEXTBOOK_MISSES[cause, age])
                 if (cause, age) in TEXTBOOK_MISSES else ())
    for cause, (ages, _) in TEXTBOOK.items() for age in ages
])
def test_the_textbook_picture_told_with_the_common_questions_ranks_the_cause_in_the_top_three(model, cause, age):
    """Every common question answered as the textbook patient would (the picture "yes", the
    rest "no"), the health history drawn at random (unknown or no; the cause's own risk
    factors also yes): the cause is among the first three."""
    picture = TEXTBOOK[cause][1]
    own = set(model.structure.cause_parents[cause])
    story = {f: ("present" if f in picture else "absent") for f in COMMON_SYMPTOMS}
    j = model.causes.index(cause)

    @SETTINGS
    @given(st.fixed_dictionaries({
        f: st.sampled_from((None, "absent", "present") if f in own else (None, "absent"))
        for f in COMMON_HISTORY
    }))
    def check(history):
        answered = {f: s for f, s in history.items() if s is not None}
        p = model.posterior_batch([{**answered, **story, "age_group": age}])[0]
        assert int((p > p[j]).sum()) < 3, (answered, dict(zip(model.causes, p.round(3), strict=True)))

    check()


# ------------------------------------------------------------------ urgency
@SETTINGS
@given(data=st.data())
def test_no_answer_lowers_the_urgency_through_a_rule(data):
    """Answering any unanswered question, whatever the answer ("no", "yes" or an age group),
    never lowers the level the rules give (tests/test_urgency.py checks "yes" over
    unanswered or "no"; this adds "no" and the age group, the answers a rule could be
    argued down by)."""
    evidence = {}
    for f in VOCAB.findings.values():
        if f.implicit:
            continue
        state = data.draw(st.sampled_from((None, None, *f.states)), label=f.id)
        if state is not None:
            evidence[f.id] = state
    before = RANK[rule_level(evidence, VOCAB)]
    for f in VOCAB.findings.values():
        if f.implicit or f.id in evidence:
            continue
        for state in f.states:
            after = RANK[rule_level({**evidence, f.id: state}, VOCAB)]
            assert after >= before, (f.id, state, evidence)
