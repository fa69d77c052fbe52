"""Loading a model: from the shipped priors, a priors file, or a network file.

The one place that knows both the priors and the network formats: :mod:`toe_twitch.core`
builds a model from its parts and reads no file; :mod:`toe_twitch.interop` reads and
writes networks and imports the model's class only to type it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toe_twitch.core import ToeTwitchModel
from toe_twitch.interop import format_for_path, read_network, structure_from_network
from toe_twitch.priors import DEFAULT_PRIORS_PATH, load_priors


def model_from_network(network: Any, source: str = "<network>") -> ToeTwitchModel:
    """An inference-only model from a pgmpy ``DiscreteBayesianNetwork`` (no priors).

    The network's variables must be causes and findings of the vocabulary with the
    vocabulary's states, in the shape the engine enumerates (see
    :func:`toe_twitch.interop.structure_from_network`). Features that need the priors'
    ranges or sources raise :class:`~toe_twitch.errors.PriorsRequiredError`. A network has
    no urgency thresholds, so those of the default priors file are used (for the
    causes the network has); :attr:`~toe_twitch.core.ToeTwitchModel.thresholds_source`
    says so.
    """
    structure, tables = structure_from_network(network, source)
    defaults = load_priors(None).urgency.serious_cause_threshold
    model = ToeTwitchModel(
        structure,
        tables,
        source=source,
        thresholds={c: t.value for c, t in defaults.items() if c in structure.causes},
        thresholds_source=(
            f"{DEFAULT_PRIORS_PATH.name} (the default priors: {Path(source).name} has no "
            "urgency thresholds)"
        ),
    )
    model.__dict__["network"] = network  # the cached property, already known
    return model


def load_model(path: str | Path | None = None, compiled: bool | None = None) -> ToeTwitchModel:
    """Build the model from the default priors, a priors file, or a network file.

    ``path`` ending in a network format's extension (``.bif``, ``.xmlbif``/``.bifxml``/
    ``.xml``, ``.xdsl``, ``.net``, ``.uai``; see :mod:`toe_twitch.interop`) loads that network
    for inference only: no ranges or sources, so sensitivity and uncertainty raise
    :class:`~toe_twitch.errors.PriorsRequiredError`; urgency uses the default priors'
    thresholds. Any other path is read as a priors YAML file.

    Raises :class:`toe_twitch.errors.PriorsError` listing every problem in a bad priors file,
    :class:`toe_twitch.errors.NetworkFileError` for a bad network file.
    """
    if path is not None and format_for_path(path) is not None:
        return model_from_network(read_network(path), source=str(path))
    priors = load_priors(path)
    return ToeTwitchModel.from_priors(
        priors, source=str(path) if path else "priors/default.yaml", compiled=compiled
    )
