"""Probabilistic differential-likelihood model for toe twitching.

It explains likelihoods; it does not diagnose. In an emergency, call emergency services.

>>> from toe_twitch import load_model
>>> m = load_model()
>>> m.diagnose({"age_group": "adult", "after_exertion": "present"}).ranking[0][0]
'benign_cramp'
"""

# The model and its analyses (pgmpy, numba, pandas: about a second) are imported on
# first use, so that ``import toe_twitch.cli`` and the entry point (toe_twitch.__main__)
# start at once and can handle Ctrl-C before the heavy imports (PEP 562).
from importlib import import_module
from typing import TYPE_CHECKING, Any

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

_LAZY = {
    **dict.fromkeys(["explain", "next_questions", "sensitivity", "uncertainty", "what_if"],
                    "toe_twitch.analysis"),
    **dict.fromkeys(["DISCLAIMER", "NO_LISTED_CAUSE_LABEL", "Diagnosis", "LookAhead",
                     "Posteriors"], "toe_twitch.records"),
    "ToeTwitchModel": "toe_twitch.core",
    "Case": "toe_twitch.case",
    "load_model": "toe_twitch.loading",
}

if TYPE_CHECKING:
    from toe_twitch.analysis import explain, next_questions, sensitivity, uncertainty, what_if
    from toe_twitch.case import Case
    from toe_twitch.core import ToeTwitchModel
    from toe_twitch.loading import load_model
    from toe_twitch.records import (
        DISCLAIMER,
        NO_LISTED_CAUSE_LABEL,
        Diagnosis,
        LookAhead,
        Posteriors,
    )


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'toe_twitch' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Case",
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
