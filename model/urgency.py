"""Urgency guidance: the level (self care, see a doctor, emergency), its reasons, advice.

Everything about urgency lives here: the rules, the serious-cause thresholds' check,
the reasons (records with a code, the plain text and the source) and the unanswered red
flags. :func:`assess` is the one function the model, the analyses, the command line and
the page call; nothing else decides a level, and no code reads a reason's text.

Rules are *floors*: each names the findings that trigger it and the least level it
calls for; they look only at answers given as "yes" (and at the age group), so no
probability can lower them and answering "yes" to more questions can never lower the
level they set. The rules (:data:`RULES`), from the source article and the published
triage advice in ``docs/clinical-sources.md``:

* any red flag                                         -> emergency (Cleveland Clinic, Mayo;
                                                          seizure-like jerking: Healthier Together)
* a baby with a fever                                  -> emergency (NICE NG143)
* a baby's twitching or jerks                          -> at least see a doctor (benign neonatal
                                                          sleep myoclonus is confirmed, not assumed)
* a hot, red, swollen joint without an injury          -> at least see a doctor (BSR 2006)
* muscle pain, cramps or weakness on a statin or a
  new medicine                                         -> at least see a doctor (NHS)
* weight loss with the twitching                       -> at least see a doctor (NICE NG42)
* tingling around the mouth or hand/foot spasm         -> at least see a doctor (low calcium)
* an infant with weakness, floppiness or widespread
  twitching who also feeds weakly                      -> emergency (Queensland floppy infant)
* an infant with weakness, floppiness or widespread
  twitching                                            -> at least see a doctor (AAP, Queensland)
* new muscle weakness (weakness, weakness getting
  worse, proximal weakness, wasting)                   -> at least see a doctor (NICE NG127, MSD)
* a floppy child or lost milestones                    -> at least see a doctor (AAP, NICE NG127)
* twitching of the tongue                              -> at least see a doctor (AAP, Lurio 2015)
* a raised CK on a blood test                          -> at least see a doctor (AAP)
* cramps with weakness or numbness                     -> at least see a doctor (Merck)
* cramps that disturb sleep; cramps with swelling      -> at least see a doctor (NHS)
* twitching for two weeks or more; twitching that gets
  in the way of walking                                -> at least see a doctor (the article)
* fever or fatigue with persistent twitching           -> at least see a doctor (the article)
* fever with a painful, swollen joint                  -> at least see a doctor (NHS)

On top of the floors, a serious cause whose probability reaches its threshold (kept in
the priors file) raises the level to at least "see a doctor". Posteriors can move either
way when a finding is added; so that reporting fever or fatigue (the article's warning
signs) can never *lower* the level, the threshold check also runs on every variant of the
evidence with those answers unknown or "no" (:func:`threshold_variants`), and the
highest level wins.
"""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from toe_twitch.vocabulary import Vocabulary

LEVELS = ("self_care", "see_doctor", "emergency")
RANK = {level: i for i, level in enumerate(LEVELS)}
#: Findings the article ties to seeing a doctor together with persistence.
WARNING_SIGNS = ("fever", "fatigue")
#: Findings that mean new muscle weakness, in any of its forms.
WEAKNESS = ("muscle_weakness", "weakness_getting_worse", "proximal_weakness", "muscle_wasting")
#: What an infant with these needs checking for (SMA, congenital myopathy).
INFANT_WARNING = ("muscle_weakness", "floppy_or_lost_milestones", "widespread_twitching")

#: Emergencies a red flag may come from that no listed cause explains.
OUTSIDE_CAUSES = "a stroke, a seizure, cauda equina syndrome, a spinal cord problem or another emergency"


@dataclass(frozen=True)
class Reason:
    """One reason for the urgency level: a stable ``code``, the plain ``text`` a person
    reads, the ``source`` it rests on, and the least ``level`` it calls for."""

    code: str
    level: str
    text: str
    source: str

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "level": self.level, "text": self.text, "source": self.source}


@dataclass(frozen=True)
class Urgency:
    """The level, why (floors first, then thresholds, then notes), and the red flags."""

    level: str
    reasons: tuple[Reason, ...]
    unanswered_red_flags: tuple[str, ...]
    red_flags_present: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """A floor, as data: when every clause of ``when`` holds (one of its findings answered
    "yes") in one of ``ages`` (empty: any age, answered or not), the level is at least
    ``level``. Only "yes" answers and the age count, so answering more can never lower it.
    """

    code: str
    level: str
    when: tuple[tuple[str, ...], ...]
    text: str
    source: str
    ages: tuple[str, ...] = ()

    def applies(self, present: frozenset[str], age: str | None) -> bool:
        if self.ages and age not in self.ages:
            return False
        return all(any(f in present for f in clause) for clause in self.when)

    def triggers(self) -> list[dict[str, str]]:
        """Every smallest set of answers that sets it off (one finding of each clause, in
        each of its ages): what the exhaustive tests start from."""
        rows = []
        for age in self.ages or (None,):
            for choice in itertools.product(*self.when):
                row = dict.fromkeys(choice, "present")
                rows.append({**row, "age_group": age} if age else row)
        return rows


def _any(*findings: str) -> tuple[tuple[str, ...], ...]:
    return (findings,)


def _both(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return (first, second)


INFANT = ("infant",)


RULES: tuple[Rule, ...] = (
    Rule(
        "floor.infant_fever", "emergency", _any("fever"),
        "A baby with a fever and twitching or jerks needs to be seen urgently, now: a fever "
        "of 38 °C or more in a baby under 3 months is an emergency, and jerks with a fever "
        "can be a seizure.",
        "NICE NG143, Fever in under 5s (red: 38 °C or more under 3 months); Healthier "
        "Together (NHS), seizures with fever",
        ages=INFANT,
    ),
    Rule(
        "floor.infant_weak_feeding", "emergency", _both(INFANT_WARNING, ("weak_feeding",)),
        "A baby who is weak, floppy or twitching all over and also feeds weakly needs "
        "emergency care now.",
        "Queensland Children's Health: a floppy infant with breathing or swallowing "
        "difficulty goes to the emergency department",
        ages=INFANT,
    ),
    Rule(
        "floor.infant_weakness", "see_doctor", _any(*INFANT_WARNING),
        "A baby who is weak, floppy or twitching all over needs a doctor's assessment "
        "soon (conditions such as spinal muscular atrophy are treatable when found early).",
        "AAP (Noritz et al., Pediatrics 2013); Queensland Children's Health floppy infant guidance",
        ages=INFANT,
    ),
    Rule(
        "floor.infant_twitching", "see_doctor", (),
        "A baby's twitching or jerks should be checked by a doctor. Most are harmless sleep "
        "jerks that stop at once when the baby wakes, but a doctor should confirm it.",
        "Benign neonatal sleep myoclonus is often mistaken for seizures (35% of reported "
        "newborns were given anti-epileptic drugs: Alfonso; case series of 18, PMID "
        "19380069); AAP (Noritz et al., Pediatrics 2013) for twitching with weakness",
        ages=INFANT,
    ),
    Rule(
        "floor.hot_swollen_joint", "see_doctor", _any("hot_swollen_joint"),
        "A hot, red, swollen joint without an injury needs a doctor's check the same day: "
        "it can be gout or an infected joint, which needs treatment quickly.",
        "BSR guideline (Coakley et al., Rheumatology 2006): a hot swollen joint is septic "
        "until proven otherwise; NHS Gout",
    ),
    Rule(
        "floor.medicine_muscle_symptoms", "see_doctor",
        _both(("statin_or_new_medicine",), ("leg_pain", "cramp_stiffness", "cramps_disturb_sleep", *WEAKNESS)),
        "Muscle pain, cramps or weakness while taking a statin or a new medicine: contact "
        "your doctor or pharmacist today (do not stop a prescribed medicine without advice).",
        "NHS statin pages (S): unexplained muscle pain or weakness on a statin, call the GP or "
        "111 the same day; NICE CKS, Leg cramps (medicines that cause cramps)",
    ),
    Rule(
        "floor.weight_loss", "see_doctor", _any("weight_loss"),
        "Twitching together with weight loss you were not trying for should be checked by "
        "a doctor.",
        "NICE NG42 (motor neurone disease); weight loss in 67.5% of 2,420 people with ALS "
        "at diagnosis (population cohort, JNNP)",
    ),
    Rule(
        "floor.tetany", "see_doctor", _any("mouth_tingling_or_hand_spasm"),
        "Tingling around the mouth, or hands and feet that cramp into a fixed position, can "
        "mean a low calcium level: see a doctor today, and call emergency services for noisy "
        "breathing, a seizure or a racing heart.",
        "NHS Dumfries & Galloway medical handbook 2021 (hypocalcaemia)",
    ),
    Rule(
        "floor.new_weakness", "see_doctor", _any(*WEAKNESS),
        "New muscle weakness (or wasting) should be checked by a doctor.",
        "NICE NG127 (suspected neurological conditions); MSD Manual, Weakness",
    ),
    Rule(
        "floor.floppy_or_lost_milestones", "see_doctor", _any("floppy_or_lost_milestones"),
        "A floppy child, or one who has lost skills such as sitting or walking, needs a "
        "doctor's assessment soon.",
        "AAP (Noritz et al., Pediatrics 2013): loss of milestones; NICE NG127: motor regression",
    ),
    Rule(
        "floor.tongue_twitching", "see_doctor", _any("tongue_twitching"),
        "Twitching of the tongue should be checked by a doctor.",
        "AAP (Noritz et al., Pediatrics 2013); Lurio et al., Am Fam Physician 2015; NICE NG42",
    ),
    Rule(
        "floor.raised_ck", "see_doctor", _any("raised_ck_on_blood_test"),
        "A raised muscle enzyme (CK) on a blood test should be followed up by a doctor.",
        "AAP (Noritz et al., Pediatrics 2013): CK above 3 times normal",
    ),
    Rule(
        "floor.cramps_with_weakness_or_numbness", "see_doctor",
        _both(("cramp_stiffness", "cramps_disturb_sleep"), (*WEAKNESS, "numbness_tingling")),
        "Cramps together with weakness or numbness: see a doctor soon.",
        "Merck Manual (consumer), Leg cramps",
    ),
    Rule(
        "floor.cramps_disturb_sleep", "see_doctor", _any("cramps_disturb_sleep"),
        "Cramps that disturb your sleep are worth seeing a doctor about.",
        "NHS, Leg cramps",
    ),
    Rule(
        "floor.cramps_with_swelling", "see_doctor",
        _both(("cramp_stiffness", "cramps_disturb_sleep"), ("leg_swelling",)),
        "Cramps with swelling of the foot, ankle or leg: see a doctor.",
        "NHS, Leg cramps; NICE CKS, Leg cramps",
    ),
    Rule(
        "floor.persists_2_weeks", "see_doctor", _any("persists_2_weeks"),
        "The twitching has gone on for two weeks or more; the article says to see a doctor.",
        "the source article: see a doctor if twitching persists for two weeks or more",
    ),
    Rule(
        "floor.interferes_with_walking", "see_doctor", _any("interferes_with_walking"),
        "It gets in the way of walking, running or other activities; the article says to see a doctor.",
        "the source article: see a doctor if twitching gets in the way of walking",
    ),
    Rule(
        "floor.warning_signs_with_persistence", "see_doctor",
        _both(WARNING_SIGNS, ("persists_2_weeks",)),
        "Fever or tiredness together with persistent twitching; the article says to see a doctor.",
        "the source article: fatigue or fever with twitching that persists",
    ),
    Rule(
        "floor.fever_with_swollen_joint", "see_doctor", _both(("fever",), ("joint_pain_swelling",)),
        "Fever together with a painful, swollen joint; a doctor should check for an "
        "inflamed or infected joint.",
        "NHS: see a GP for cramps or pain with swelling; a hot joint with fever may be infected",
    ),
)


def red_flag_rules(vocab: Vocabulary) -> tuple[Rule, ...]:
    """One emergency rule per red flag of the vocabulary (each alone means emergency)."""
    return tuple(
        Rule(
            f"red_flag.{f}",
            "emergency",
            ((f,),),
            f"Emergency sign: {vocab.findings[f].label.lower()}. This needs emergency care now.",
            "Cleveland Clinic, Numbness: when to call the doctor; Mayo Clinic; Healthier "
            "Together (NHS), seizures",
        )
        for f in vocab.red_flags
    )


def all_rules(vocab: Vocabulary) -> tuple[Rule, ...]:
    """The red flags, then the floors: every rule that sets a least level."""
    return (*red_flag_rules(vocab), *RULES)


def _present(evidence: Mapping[str, str]) -> frozenset[str]:
    return frozenset(f for f, s in evidence.items() if s == "present")


def rule_reasons(evidence: Mapping[str, str], vocab: Vocabulary) -> list[Reason]:
    """Every rule the answers set off (red flags first), with no probability used."""
    present, age = _present(evidence), evidence.get("age_group")
    return [Reason(r.code, r.level, r.text, r.source) for r in all_rules(vocab)
            if r.applies(present, age)]


def rule_level(evidence: Mapping[str, str], vocab: Vocabulary) -> str:
    """The least level the rules allow for these answers (the level of :func:`rule_reasons`)."""
    return _rule_level(_present(evidence), evidence.get("age_group"), all_rules(vocab))


@functools.lru_cache(maxsize=8192)  # what-if asks it for every answer to every question
def _rule_level(present: frozenset[str], age: str | None, rules: tuple[Rule, ...]) -> str:
    levels = [r.level for r in rules if r.applies(present, age)]
    return max(levels, key=RANK.__getitem__, default="self_care")


def _serious(
    posteriors: Sequence[Mapping[str, float]], thresholds: Mapping[str, float]
) -> list[tuple[str, float, float, bool]]:
    """The serious causes at or above their thresholds: (cause, probability, threshold,
    reached with these answers (False: only in a variant without a warning sign))."""
    main = posteriors[0] if posteriors else {}
    hits = []
    for cause, threshold in thresholds.items():
        p = main.get(cause, 0.0)
        if p >= threshold or any(v.get(cause, 0.0) >= threshold for v in posteriors[1:]):
            hits.append((cause, p, threshold, p >= threshold))
    return hits


def urgency_level(
    evidence: Mapping[str, str],
    posteriors: Sequence[Mapping[str, float]],
    thresholds: Mapping[str, float],
    vocab: Vocabulary,
) -> str:
    """``assess(...).level`` without writing the reasons (what-if asks it for every answer):
    the same rules and the same threshold check, so the two cannot differ."""
    return raised(rule_level(evidence, vocab), bool(_serious(posteriors, thresholds)))


def raised(floor: str, serious_cause_reached: bool) -> str:
    """The rules' level, raised to "see a doctor" when a serious cause reached its
    threshold (the one place this step is written; the analyses call it per draw)."""
    if serious_cause_reached and RANK[floor] < RANK["see_doctor"]:
        return "see_doctor"
    return floor


def threshold_variants(evidence: dict[str, str]) -> list[dict[str, str]]:
    """Variants of the evidence with each warning sign answered "yes" made unknown or "no".

    Their posteriors go to :func:`assess`, so that reporting fever or fatigue can never
    lower the level through the thresholds.
    """
    present = [f for f in WARNING_SIGNS if evidence.get(f) == "present"]
    variants = []
    for choice in itertools.product(("present", None, "absent"), repeat=len(present)):
        if all(c == "present" for c in choice):
            continue  # the evidence itself
        variant = copy.copy(evidence)  # keeps the type: checked answers stay checked
        for f, state in zip(present, choice, strict=True):
            if state is None:
                variant.pop(f)
            else:
                variant[f] = state
        variants.append(variant)
    return variants


def _threshold_reason(cause: str, p: float, threshold: float, reached: bool,
                      vocab: Vocabulary) -> Reason:
    name = vocab.causes[cause].label
    if reached:
        return Reason(
            f"threshold.{cause}", "see_doctor",
            f"A doctor should check for {name}: your answers make it about "
            f"{p:.0%} likely, and from {threshold:.0%} on it needs a doctor's look.",
            "priors file: urgency.serious_cause_threshold",
        )
    return Reason(
        f"threshold.{cause}", "see_doctor",
        f"{name} reaches its {threshold:.0%} threshold when fever or tiredness is "
        "left out; a warning sign never lowers the advice.",
        "the source article: fatigue or fever are warning signs",
    )


def assess(
    evidence: Mapping[str, str],
    posteriors: Sequence[Mapping[str, float]],
    thresholds: Mapping[str, float],
    vocab: Vocabulary,
) -> Urgency:
    """The urgency for these answers: the level, its reasons and the red flags.

    ``posteriors[0]`` is P(cause | evidence); the rest are those of
    :func:`threshold_variants` (in any order). Floors come first; a serious cause at or
    above its threshold (in the evidence or a variant) raises the level to at least
    "see a doctor"; notes are added for self care and for red flags.
    """
    reasons = rule_reasons(evidence, vocab)
    reasons += [_threshold_reason(cause, p, t, reached, vocab)
                for cause, p, t, reached in _serious(posteriors, thresholds)]
    level = max((r.level for r in reasons), key=RANK.__getitem__, default="self_care")
    flags = tuple(f for f in vocab.red_flags if evidence.get(f) == "present")
    unanswered = tuple(f for f in vocab.red_flags if f not in evidence)
    if flags:
        reasons.append(
            Reason(
                "note.outside_listed_causes",
                "emergency",
                f"This sign can come from {OUTSIDE_CAUSES}, which this tool does not list; "
                "the causes it ranks do not explain it.",
                "Cleveland Clinic; NHS cauda equina guidance",
            )
        )
    if level == "self_care":
        reasons.append(
            Reason(
                "note.self_care",
                "self_care",
                "No emergency sign and nothing the article or the triage guidance ties to "
                "seeing a doctor was reported; benign twitching usually settles on its own "
                "within days.",
                "the source article",
            )
        )
        if unanswered:
            reasons.append(
                Reason(
                    "note.unanswered_red_flags",
                    "self_care",
                    "You have not answered every emergency-sign question: check them. If any "
                    "applies, call emergency services.",
                    "Semigran et al., BMJ 2015: symptom checkers miss emergencies",
                )
            )
    return Urgency(level, tuple(reasons), unanswered, flags)
