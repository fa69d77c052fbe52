"""XDSL (GeNIe), through pgmpy's ``XDSLWriter`` and ``XDSLReader``, with node names and a
layout GeNIe can show."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from toe_twitch.interop.formats import (
    FORMATS,
    NETWORK_NAME,
    export_ready_network,
    label,
    read_with_pgmpy,
)
from toe_twitch.priors import AGE_FINDING
from toe_twitch.vocabulary import Vocabulary

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from toe_twitch.core import ToeTwitchModel


def _layout(network: DiscreteBayesianNetwork, vocabulary: Vocabulary) -> dict[str, tuple[int, int]]:
    """Deterministic positions for GeNIe: age, risk factors, causes, findings in rows."""
    risk_factors = {
        p for c in vocabulary.causes if c in network for p in network.predecessors(c)
    } - {AGE_FINDING}
    rows: dict[int, list[str]] = {0: [], 1: [], 2: [], 3: []}
    for node in network.nodes():
        row = (
            0
            if node == AGE_FINDING
            else 1
            if node in risk_factors
            else 2
            if node in vocabulary.causes
            else 3
        )
        rows[row].append(node)
    order = {v: i for i, v in enumerate([*vocabulary.causes, *vocabulary.findings])}
    positions = {}
    for row, nodes in rows.items():
        for col, node in enumerate(sorted(nodes, key=lambda v: order.get(v, len(order)))):
            positions[node] = (20 + 110 * col, 20 + 160 * row)
    return positions




def write(model: ToeTwitchModel) -> bytes:
    """The network as XDSL for GeNIe (16 decimals; labels as node names; a layout)."""
    from pgmpy.readwrite import XDSLWriter

    network = export_ready_network(model, labels="none")
    writer = XDSLWriter(network, network_id=NETWORK_NAME)
    positions = _layout(network, model.vocabulary)
    for node in writer.root.iter("node"):
        variable = node.get("id")
        node.find("name").text = label(model.vocabulary, variable)
        x, y = positions[variable]
        node.find("position").text = f"{x} {y} {x + 96} {y + 48}"
    # XDSLWriter only writes to a path: let it, in a private folder, and keep the bytes.
    with tempfile.TemporaryDirectory(prefix="toe-twitch-xdsl-") as folder:
        staged = Path(folder) / "network.xdsl"
        writer.write(str(staged))
        return staged.read_bytes()


def read(text: str, source: str) -> DiscreteBayesianNetwork:
    """A network from XDSL text, by pgmpy's ``XDSLReader``."""
    from pgmpy.readwrite import XDSLReader

    return read_with_pgmpy(XDSLReader, text, FORMATS["xdsl"], source)
