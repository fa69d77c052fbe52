"""Hugin NET, through pgmpy's ``NETWriter`` and ``NETReader`` with two fixes: every digit
written (not 8 decimals) and each node's states read in one pass (not one scan per node)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from toe_twitch.interop.formats import FORMATS, export_ready_network, read_with_pgmpy

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from toe_twitch.core import ToeTwitchModel


@cache
def _pgmpy_classes():
    """pgmpy's NET writer and reader with the two fixes described above (built on first use,
    so importing this module does not import pgmpy)."""
    from pgmpy.readwrite import NETReader, NETWriter

    class FullPrecisionNETWriter(NETWriter):
        """pgmpy's NETWriter, printing every digit of each probability (not 8 decimals)."""

        def net_cpd(self, var_name: str) -> str:
            table = np.moveaxis(np.asarray(self.tables[var_name], dtype=float), 0, -1)

            def nest(block: np.ndarray) -> str:
                if block.ndim == 1:
                    return "(" + " ".join(repr(float(x)) for x in block) + ")"
                return "(" + "\n  ".join(nest(b) for b in block) + ")"

            return nest(table)

    class LinearNETReader(NETReader):
        """pgmpy's NETReader, reading every node's states in one pass over the file."""

        def get_states(self) -> dict[str, list[str]]:
            names = [match[0].nodename for match in self.name_expr.scan_string(self.network)]
            found = [match[0].statenames for match in self.state_expr.scan_string(self.network)]
            return {
                name: [state.replace('"', "") for state in states]
                for name, states in zip(names, found, strict=False)
            }

    return FullPrecisionNETWriter, LinearNETReader




def write(model: ToeTwitchModel) -> bytes:
    """The network as Hugin NET text, every digit (pgmpy's writer rounds to 8 decimals)."""
    writer_class, _ = _pgmpy_classes()
    return str(writer_class(export_ready_network(model, labels="quoted"))).encode("utf-8")


def read(text: str, source: str) -> DiscreteBayesianNetwork:
    """A network from Hugin NET text, by pgmpy's ``NETReader`` reading states in one pass."""
    _, reader = _pgmpy_classes()
    return read_with_pgmpy(reader, text, FORMATS["net"], source)
