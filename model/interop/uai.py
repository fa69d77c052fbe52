"""UAI (``BAYES``): numbers only, no names. Written with pgmpy's ``UAIWriter`` preamble and
tables in the format's own order; read by :func:`read_uai`, which follows the format and
names the variables from the toe-twitch network of the default priors."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from toe_twitch.errors import NetworkFileError, Problem
from toe_twitch.interop.formats import export_ready_network
from toe_twitch.interop.structure import expected_states
from toe_twitch.vocabulary import load_vocabulary

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from toe_twitch.core import ToeTwitchModel


def _plain_decimal(x: float) -> str:
    return np.format_float_positional(float(x), unique=True, trim="0")


def write(model: ToeTwitchModel) -> bytes:
    """The network as a ``BAYES`` UAI file: pgmpy's preamble, tables in the format's order
    (child changing fastest) in plain decimals, one function per variable in order."""
    from pgmpy.readwrite import UAIWriter

    network = export_ready_network(model, labels="none")
    writer = UAIWriter(network)
    numbered = [name for name, _ in sorted(writer.domain.items(), key=lambda x: (x[1], x[0]))]
    index = {name: i for i, name in enumerate(numbered)}
    functions, tables = [], []
    for variable in numbered:
        cpd = network.get_cpds(variable)
        scope = [*reversed(cpd.variables[1:]), variable]  # pgmpy's scope: child last
        values = np.asarray(cpd.get_values(), dtype=float).reshape(cpd.cardinality)
        # cpd axes are (child, parent 1, ..., parent k); the file wants the scope's order
        # with the child's state changing fastest.
        axes = [*range(len(scope) - 1, 0, -1), 0]
        functions.append([str(index[v]) for v in scope])
        tables.append([_plain_decimal(x) for x in np.transpose(values, axes).ravel()])
    writer.functions, writer.tables = functions, tables
    return str(writer).encode("utf-8")


@cache
def reference_variables() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], dict[str, int]]:
    """Variables of the network built from the default priors, numbered as UAI files are.

    Returns ``(numbered names, parents of each, number of states of each)``.
    """
    from toe_twitch.network import build_structure
    from toe_twitch.priors import load_priors

    structure = build_structure(load_priors(None), load_vocabulary())
    cards = {v: len(structure.states(v)) for v in structure.variables}
    numbered = tuple(sorted(structure.variables, key=lambda v: (str(cards[v]), v)))
    return numbered, {v: structure.parents(v) for v in structure.variables}, cards


def read_uai(text: str, source: str = "<uai>") -> DiscreteBayesianNetwork:
    """Read a ``BAYES`` UAI file (tables with the last scope variable changing fastest).

    UAI files have no names: variable ``i`` is the ``i``-th variable of the toe-twitch
    network (default priors) in the order :func:`export_network` numbers them
    (:func:`reference_variables`). A file whose domains or parent sets differ from that
    network is refused, since its variables could not be named.
    """
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    tokens = text.split()
    position = 0

    def fail(rule: str) -> NetworkFileError:
        return NetworkFileError(source, [Problem(f"token {position + 1}", rule)])

    def take_int(what: str) -> int:
        nonlocal position
        if position >= len(tokens):
            raise fail(f"the file ends where {what} should be")
        token = tokens[position]
        if not token.isdigit():
            raise fail(f"{what} must be a whole number, got {token!r}")
        position += 1
        return int(token)

    if not tokens or tokens[0] != "BAYES":
        raise fail(
            f"a UAI Bayesian network starts with BAYES, got {tokens[0] if tokens else 'nothing'!r}"
        )
    position = 1
    n = take_int("the number of variables")
    cards = [take_int(f"the number of states of variable {i}") for i in range(n)]
    m = take_int("the number of functions")
    scopes = []
    for j in range(m):
        size = take_int(f"the scope size of function {j}")
        scope = [take_int(f"a variable of function {j}") for _ in range(size)]
        if not scope or any(v >= n for v in scope):
            raise fail(f"function {j} has an empty scope or a variable outside 0..{n - 1}")
        scopes.append(scope)
    tables = []
    for j, scope in enumerate(scopes):
        count = take_int(f"the table size of function {j}")
        expected = int(np.prod([cards[v] for v in scope]))
        if count != expected:
            raise fail(f"function {j} has {count} values; its scope needs {expected}")
        chunk = tokens[position : position + count]
        if len(chunk) < count:
            raise fail(f"the file ends inside the table of function {j}")
        try:
            values = np.array([float(x) for x in chunk])
        except ValueError:
            raise fail(f"the table of function {j} holds something that is not a number") from None
        position += count
        tables.append(values.reshape([cards[v] for v in scope]))
    if position != len(tokens):
        raise fail("unexpected text after the last table")

    numbered, parents, ref_cards = reference_variables()
    problems = []
    if n != len(numbered):
        problems.append(
            Problem(
                "",
                f"UAI files carry no variable names; this one has {n} variables and the "
                f"toe-twitch network has {len(numbered)}, so they cannot be named",
            )
        )
        raise NetworkFileError(source, problems)
    children = [scope[-1] for scope in scopes]
    for i, name in enumerate(numbered):
        if cards[i] != ref_cards[name]:
            problems.append(
                Problem(
                    f"variable {i}",
                    f"has {cards[i]} states; {name} (its name by position) has {ref_cards[name]}",
                )
            )
        count = children.count(i)
        if count != 1:
            problems.append(
                Problem(f"variable {i}", f"is the child of {count} functions, expected 1")
            )
    for j, scope in enumerate(scopes):
        child = numbered[scope[-1]]
        got = {numbered[v] for v in scope[:-1]}
        if got != set(parents[child]):
            problems.append(
                Problem(
                    f"function {j}",
                    f"gives {child} the parents {sorted(got)}; the toe-twitch network has "
                    f"{sorted(parents[child])}",
                )
            )
    if problems:
        raise NetworkFileError(source, problems)

    vocabulary = load_vocabulary()
    states = {v: expected_states(vocabulary, v) for v in numbered}
    network = DiscreteBayesianNetwork()
    network.add_nodes_from(numbered)
    cpds = []
    for scope, table in zip(scopes, tables, strict=True):
        child = numbered[scope[-1]]
        parent_names = [numbered[v] for v in scope[:-1]]
        network.add_edges_from((p, child) for p in parent_names)
        values = np.moveaxis(table, -1, 0)  # (child, parents in scope order)
        cpds.append(
            TabularCPD(
                child,
                cards[scope[-1]],
                values.reshape(cards[scope[-1]], -1),
                evidence=parent_names or None,
                evidence_card=[cards[v] for v in scope[:-1]] or None,
                state_names={v: list(states[v]) for v in [child, *parent_names]},
            )
        )
    network.add_cpds(*cpds)
    return network




def read(text: str, source: str) -> DiscreteBayesianNetwork:
    """A network from UAI text (:func:`read_uai`)."""
    return read_uai(text, source)
