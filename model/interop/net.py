"""Hugin NET, through pgmpy's ``NETWriter`` and ``NETReader`` with three fixes: every digit
written (not 8 decimals), each node's states read in one pass (not one scan per node), and
the node names and states read from the node declarations alone (not from a scan of the
whole file, whose potentials are nearly all of it)."""

from __future__ import annotations

import re
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
        """pgmpy's NETReader, reading every node's states in one pass over the node
        declarations."""

        def get_variables(self) -> list[str]:
            return [match[0].nodename for match in self.name_expr.scan_string(_nodes(self.network))]

        def get_states(self) -> dict[str, list[str]]:
            text = _nodes(self.network)
            names = [match[0].nodename for match in self.name_expr.scan_string(text)]
            found = [match[0].statenames for match in self.state_expr.scan_string(text)]
            return {
                name: [state.replace('"', "") for state in states]
                for name, states in zip(names, found, strict=False)
            }

    return FullPrecisionNETWriter, LinearNETReader


#: Where pgmpy's grammar finds a node ("node " and a name), and a whole plain declaration
#: (the name, then only white space before its braces: a failed try costs the name's length,
#: so a file of many "node" words and no braces is read in linear time).
_NODE_START = re.compile(r"node [ \t\r\n]*[A-Za-z0-9_-]")
_NODE_BLOCK = re.compile(r"node [ \t\r\n]*[A-Za-z0-9_-]+[ \t\r\n]*\{[^{}]*\}")


def _nodes(text: str) -> str:
    """The node declarations of a NET text, for pgmpy's name and state scans; the whole
    text when a declaration is not a plain ``node name { ... }`` block (braces in a
    label, say), so the scans find exactly what they would have found."""
    blocks = _NODE_BLOCK.findall(text)
    if len(blocks) != len(_NODE_START.findall(text)):
        return text
    return "\n".join(blocks)


def write(model: ToeTwitchModel) -> bytes:
    """The network as Hugin NET text, every digit (pgmpy's writer rounds to 8 decimals)."""
    writer_class, _ = _pgmpy_classes()
    return str(writer_class(export_ready_network(model, labels="quoted"))).encode("utf-8")


def read(text: str, source: str) -> DiscreteBayesianNetwork:
    """A network from Hugin NET text, by pgmpy's ``NETReader`` reading states in one pass."""
    _, reader = _pgmpy_classes()
    return read_with_pgmpy(reader, text, FORMATS["net"], source)
