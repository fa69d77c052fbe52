"""Probabilistic differential-likelihood model for toe twitching.

It explains likelihoods; it does not diagnose. In an emergency, call emergency services.

>>> from toe_twitch import load_model
>>> m = load_model()
>>> m.diagnose({"age_group": "adult", "after_exertion": "present"}).ranking[0][0]
'benign_cramp'
"""

from toe_twitch.analysis import explain, next_questions, sensitivity, uncertainty, what_if
from toe_twitch.core import (
    DISCLAIMER,
    NO_LISTED_CAUSE_LABEL,
    Diagnosis,
    LookAhead,
    Posteriors,
    ToeTwitchModel,
    load_model,
)
from toe_twitch.errors import (
    EngineError,
    EvidenceError,
    ImpossibleEvidenceError,
    NetworkFileError,
    OutputExistsError,
    PriorsError,
    PriorsRequiredError,
    ToeTwitchError,
    UnknownCauseError,
    VignetteError,
)

__all__ = [
    "DISCLAIMER",
    "NO_LISTED_CAUSE_LABEL",
    "Diagnosis",
    "LookAhead",
    "Posteriors",
    "EngineError",
    "EvidenceError",
    "ImpossibleEvidenceError",
    "NetworkFileError",
    "OutputExistsError",
    "PriorsError",
    "PriorsRequiredError",
    "ToeTwitchError",
    "ToeTwitchModel",
    "UnknownCauseError",
    "VignetteError",
    "explain",
    "load_model",
    "next_questions",
    "sensitivity",
    "uncertainty",
    "what_if",
]
