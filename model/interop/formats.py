"""What the five network formats share: their names and extensions, the labels written
into them, pgmpy's logger kept quiet, and one way of reporting a file pgmpy cannot read."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toe_twitch.errors import NetworkFileError, Problem, ToeTwitchError
from toe_twitch.vocabulary import Vocabulary

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from toe_twitch.core import ToeTwitchModel


#: Name written into the files that have one (BIF, XMLBIF, NET header; XDSL id).
NETWORK_NAME = "toe_twitch"
#: Largest network file read (bytes): the toe-twitch network is about 23 MB as BIF, the
#: largest of the five formats (see "Sizes and reading back" in the module docstring).
MAX_NETWORK_BYTES = 64 * 2**20
#: Agreement of the project's exact engine with pgmpy and pyAgrum (tests/test_engine.py).
ENGINE_TOLERANCE = 1e-9
#: Relative rounding of a reader that stores single-precision floats (pyAgrum 3.3.1 reads
#: BIF, NET and UAI numbers this way; XMLBIF and XDSL in double precision).
SINGLE_PRECISION = 2.0**-24
#: A CPT column may sum to 1 within this much (printed decimals, other tools' rounding).
COLUMN_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class NetworkFormat:
    """One network file format: how it is named, written and what it carries."""

    name: str
    title: str
    extensions: tuple[str, ...]
    #: Decimals the writer prints; ``None`` means every digit (lossless).
    decimals: int | None
    #: Whether variable and state names are in the file.
    carries_names: bool
    #: Where the vocabulary's labels go, or ``""`` if the format has no place for them.
    labels: str

    @property
    def extension(self) -> str:
        """The extension :func:`export_network` suggests."""
        return self.extensions[0]


FORMATS: dict[str, NetworkFormat] = {
    f.name: f
    for f in (
        NetworkFormat("bif", "BIF", (".bif",), None, True, "property label = ..."),
        NetworkFormat(
            "xmlbif", "XMLBIF", (".xmlbif", ".bifxml", ".xml"), None, True, "<PROPERTY>label = ..."
        ),
        NetworkFormat("xdsl", "XDSL (GeNIe)", (".xdsl",), 16, True, "GeNIe node name"),
        NetworkFormat("net", "NET (Hugin)", (".net",), None, True, 'label = "..."'),
        NetworkFormat("uai", "UAI", (".uai",), None, False, ""),
    )
}


def format_for_path(path: str | Path) -> NetworkFormat | None:
    """The network format a file name's extension stands for, or None."""
    suffix = Path(path).suffix.lower()
    return next((f for f in FORMATS.values() if suffix in f.extensions), None)


def get_format(name: str) -> NetworkFormat:
    """The :class:`NetworkFormat` called ``name``; a clear error listing the valid names."""
    if name not in FORMATS:
        raise ToeTwitchError(
            f"unknown network format {name!r}; valid formats: {', '.join(FORMATS)}"
        )
    return FORMATS[name]


@contextmanager
def quiet_pgmpy() -> Iterator[None]:
    """Silence pgmpy's logger (it warns about things this module checks itself)."""
    logger = logging.getLogger("pgmpy")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def label(vocabulary: Vocabulary, variable: str) -> str:
    """The vocabulary's label, without the characters the formats use as delimiters."""
    entry = vocabulary.causes.get(variable) or vocabulary.findings.get(variable)
    text = entry.label if entry is not None else variable
    for bad in ';={}"\n':
        text = text.replace(bad, " ")
    return " ".join(text.split())


def export_ready_network(model: ToeTwitchModel, labels: str = "plain") -> DiscreteBayesianNetwork:
    """A copy of ``model.network`` named ``model`` with a ``label`` on every node.

    ``labels`` is ``"plain"`` (BIF, XMLBIF), ``"quoted"`` (Hugin NET wants a string) or
    ``"none"``.
    """
    network = model.network.copy()
    network.name = NETWORK_NAME
    if labels != "none":
        for node in network.nodes():
            text = label(model.vocabulary, node)
            network.nodes[node]["label"] = f'"{text}"' if labels == "quoted" else text
    return network


def read_with_pgmpy(reader: Callable[..., Any], text: str, fmt: NetworkFormat, source: str) -> DiscreteBayesianNetwork:
    """``reader(string=text).get_model()``, with any parser error reported as a
    :class:`~toe_twitch.errors.NetworkFileError` naming the file."""
    try:
        with quiet_pgmpy():
            network = reader(string=text).get_model()
    except Exception as exc:  # pgmpy's parsers raise anything from KeyError to ParseException
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        if len(reason) > 300:
            reason = reason[:300] + " ..."
        raise NetworkFileError(
            source, [Problem("", f"cannot be read as {fmt.title} by pgmpy ({reason})")]
        ) from None
    return network
