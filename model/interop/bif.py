"""BIF, through pgmpy's ``BIFWriter`` and ``BIFReader``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toe_twitch.interop.formats import FORMATS, export_ready_network, read_with_pgmpy

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from toe_twitch.core import ToeTwitchModel


def write(model: ToeTwitchModel) -> bytes:
    """The network as BIF text (every digit; labels as ``property label = ...``)."""
    from pgmpy.readwrite import BIFWriter

    return str(BIFWriter(export_ready_network(model))).encode("utf-8")


def read(text: str, source: str) -> DiscreteBayesianNetwork:
    """A network from BIF text, by pgmpy's ``BIFReader``."""
    from pgmpy.readwrite import BIFReader

    return read_with_pgmpy(BIFReader, text, FORMATS["bif"], source)
