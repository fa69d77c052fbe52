"""A network read from a file, checked against the vocabulary and the engine's shape, and
turned into the engine's tables (noisy-OR tables factorised back where they factorise)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from toe_twitch.errors import NetworkFileError, Problem
from toe_twitch.interop.formats import COLUMN_SUM_TOLERANCE
from toe_twitch.network import Structure, Tables
from toe_twitch.priors import AGE_FINDING
from toe_twitch.vocabulary import CAUSE_STATES, Vocabulary, load_vocabulary

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork


def expected_states(vocabulary: Vocabulary, variable: str) -> tuple[str, ...]:
    if variable in vocabulary.causes:
        return CAUSE_STATES
    return vocabulary.findings[variable].states


def _column_name(variables: tuple[str, ...], states: Mapping[str, tuple[str, ...]], index) -> str:
    return ", ".join(f"{v}={states[v][i]}" for v, i in zip(variables, index, strict=True))


def _canonical(table: np.ndarray, variables: tuple[str, ...], order: Sequence[str],
               n_ages: int) -> np.ndarray:
    """A CPT with axes ``(child, *parents in file order)`` as ``(card, A, 2**n)``: age on
    its own axis (broadcast if it is not a parent), then the parents ``order`` as bits."""
    axes = {v: i for i, v in enumerate(variables)}
    has_age = AGE_FINDING in axes
    wanted = [0] + ([axes[AGE_FINDING]] if has_age else []) + [axes[v] for v in reversed(order)]
    t = np.transpose(table, wanted)
    card = t.shape[0]
    if not has_age:
        t = np.broadcast_to(t[:, None], (card, n_ages, *t.shape[1:]))
    return np.ascontiguousarray(t.reshape(card, n_ages, 2 ** len(order)))


def _noisy_or_factors(absent: np.ndarray) -> np.ndarray | None:
    """``(A, n + 1)`` noisy-OR factors if ``absent`` ``(A, 2**n)`` factorises, else None."""
    n = int(round(np.log2(absent.shape[-1])))
    base = absent[:, 0]
    if np.any(base <= 0):
        return None
    factors = np.empty((absent.shape[0], n + 1))
    for i in range(n):
        factors[:, i] = absent[:, 1 << i] / base
    factors[:, n] = base
    rebuilt = base[:, None] * np.ones_like(absent)
    for m in range(absent.shape[-1]):
        for i in range(n):
            if (m >> i) & 1:
                rebuilt[:, m] *= factors[:, i]
    if np.allclose(rebuilt, absent, rtol=1e-12, atol=0.0):
        return factors
    return None


def structure_from_network(network: DiscreteBayesianNetwork, source: str) -> tuple[Structure, Tables]:
    """Check a network against the vocabulary and the engine's shape; return its tables.

    Every variable must be a cause or finding of the vocabulary with exactly the
    vocabulary's states (in any order: tables are reordered to the vocabulary's order),
    and every CPT column must be a probability distribution. The cause-space engine
    needs the network's shape too: ``age_group`` (if present) is a root; a risk factor
    (a parent of a cause) has at most ``age_group`` as parent; a cause's parents are risk
    factors and ``age_group``; every other finding's parents are causes and
    ``age_group``. All problems are reported at once as a
    :class:`~toe_twitch.errors.NetworkFileError` naming ``source``.
    """
    vocabulary = load_vocabulary()
    known = [*vocabulary.causes, *vocabulary.findings]
    problems: list[Problem] = []
    for node in network.nodes():
        where = f"variable {node!r}"
        if node not in vocabulary.causes and node not in vocabulary.findings:
            close = difflib.get_close_matches(str(node), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(where, f"not a cause or finding of the vocabulary{hint}"))
            continue
        cpd = network.get_cpds(node)
        if cpd is None:
            problems.append(Problem(where, "has no probability table"))
            continue
        expected = expected_states(vocabulary, node)
        got = [str(s) for s in cpd.state_names[node]]
        if sorted(got) != sorted(expected):
            problems.append(
                Problem(where, f"states {got} do not match the vocabulary's {list(expected)}")
            )
    if problems:
        raise NetworkFileError(source, problems)
    nodes = set(network.nodes())
    causes = tuple(c for c in vocabulary.causes if c in nodes)
    if not causes:
        raise NetworkFileError(source, [Problem("", "the network has no cause variable")])
    parents = {v: [str(p) for p in network.get_parents(v)] for v in nodes}
    risk_factors = tuple(
        f for f in vocabulary.findings
        if f in nodes and f != AGE_FINDING and any(f in parents[c] for c in causes)
    )
    findings = tuple(
        f for f in vocabulary.findings if f in nodes and f != AGE_FINDING and f not in risk_factors
    )
    implicit = {f: state for f, state in vocabulary.implicit_evidence.items() if f in nodes}
    property_of = {
        f: next(p for p in parents[f] if p in implicit)
        for f in findings
        if f in vocabulary.twitching_properties and any(p in implicit for p in parents[f])
    }
    for v in sorted(nodes, key=known.index):
        others = [p for p in parents[v] if p != AGE_FINDING and p != property_of.get(v)]
        where = f"variable {v!r}"
        if v == AGE_FINDING and parents[v]:
            problems.append(Problem(where, "age_group must have no parents"))
        elif v in risk_factors and others:
            problems.append(Problem(where, f"a risk factor (a parent of a cause) may only have "
                                           f"age_group as parent, not {others[0]!r}"))
        elif v in causes and any(p not in risk_factors for p in others):
            bad = next(p for p in others if p not in risk_factors)
            problems.append(Problem(where, f"a cause's parents must be risk factors and age_group, "
                                           f"not {bad!r}"))
        elif v in findings and any(p not in causes for p in others):
            bad = next(p for p in others if p not in causes)
            problems.append(Problem(where, f"has the parent {bad!r}; in the cause-space engine a "
                                           "finding's parents must be causes and age_group"))
    if problems:
        raise NetworkFileError(source, problems)

    states = {node: expected_states(vocabulary, node) for node in nodes}
    age_states = states.get(AGE_FINDING, ())
    n_ages = max(1, len(age_states))
    tables_by_variable: dict[str, np.ndarray] = {}
    for node in sorted(nodes, key=known.index):
        cpd = network.get_cpds(node)
        variables = tuple(str(v) for v in cpd.variables)
        table = np.asarray(cpd.get_values(), dtype=float).reshape(cpd.cardinality)
        for axis, variable in enumerate(variables):
            file_states = [str(s) for s in cpd.state_names[variable]]
            table = np.take(table, [file_states.index(s) for s in states[variable]], axis=axis)
        where = f"variable {node!r}"
        if not np.all(np.isfinite(table)) or np.any(table < 0):
            problems.append(Problem(where, "has a probability that is negative or not a number"))
            continue
        sums = table.sum(axis=0)
        worst = np.unravel_index(int(np.argmax(np.abs(sums - 1.0))), sums.shape)
        if abs(sums[worst] - 1.0) > COLUMN_SUM_TOLERANCE:
            given = _column_name(variables[1:], states, worst) or "no parents"
            problems.append(
                Problem(
                    where,
                    f"probabilities given {given} sum to {sums[worst]:.9g}, not 1 "
                    f"(tolerance {COLUMN_SUM_TOLERANCE:g})",
                )
            )
            continue
        tables_by_variable[node] = (variables, table / sums)
    if problems:
        raise NetworkFileError(source, problems)

    for f, twitching in property_of.items():  # keep the slice where the twitching is present
        variables, table = tables_by_variable[f]
        axis = variables.index(twitching)
        index = states[twitching].index(implicit[twitching])
        tables_by_variable[f] = (
            variables[:axis] + variables[axis + 1 :],
            np.take(table, index, axis=axis),
        )
    cause_parents = {c: tuple(r for r in risk_factors if r in parents[c]) for c in causes}
    finding_parents = {f: tuple(c for c in causes if c in parents[f]) for f in findings}
    by_age = {f: AGE_FINDING in parents[f] for f in findings}
    structure = Structure(
        age_states=age_states,
        risk_factors=risk_factors,
        causes=causes,
        cause_parents=cause_parents,
        findings=findings,
        finding_parents=finding_parents,
        finding_by_age=by_age,
        property_of=property_of,
    )
    if AGE_FINDING in tables_by_variable:
        age = tables_by_variable[AGE_FINDING][1][None, :]
    else:
        age = np.ones((1, 1))
    risk = {}
    for r in risk_factors:
        variables, table = tables_by_variable[r]
        risk[r] = _canonical(table, variables, (), n_ages)[None, :, :, 0]
    cause_tables = {
        c: _canonical(tables_by_variable[c][1], tables_by_variable[c][0], cause_parents[c], n_ages)[None]
        for c in causes
    }
    finding_tables, noisy_or = {}, {}
    for f in findings:
        variables, table = tables_by_variable[f]
        canonical = _canonical(table, variables, finding_parents[f], n_ages)
        finding_tables[f] = canonical[None]
        factors = None if f in property_of else _noisy_or_factors(canonical[0])
        if factors is not None:
            noisy_or[f] = factors[None]
    return structure, Tables(age, risk, cause_tables, finding_tables, noisy_or)
