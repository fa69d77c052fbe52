"""XMLBIF, through pgmpy's ``XMLBIFWriter`` and ``XMLBIFReader`` (exact; the format to use
for large exchanges)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toe_twitch.interop.formats import FORMATS, export_ready_network, read_with_pgmpy

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from toe_twitch.core import ToeTwitchModel


def write(model: ToeTwitchModel) -> bytes:
    """The network as XMLBIF (every digit; labels as ``<PROPERTY>``)."""
    from pgmpy.readwrite import XMLBIFWriter

    return str(XMLBIFWriter(export_ready_network(model))).encode("utf-8")


def read(text: str, source: str) -> DiscreteBayesianNetwork:
    """A network from XMLBIF text, by pgmpy's ``XMLBIFReader``."""
    from pgmpy.readwrite import XMLBIFReader

    return read_with_pgmpy(XMLBIFReader, text, FORMATS["xmlbif"], source)
