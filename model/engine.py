"""Exact inference for discrete Bayesian networks: a batched junction tree in numpy.

The engine is compiled once from a network's conditional probability tables (CPTs) and
then answers many queries at once. Every query row has its own evidence; the CPTs may
also carry a leading batch dimension (one set of tables per row), which is how parameter
sweeps and uncertainty draws run as one batch.

How it works (Lauritzen-Spiegelhalter / Hugin propagation):

1. Moralise the DAG, triangulate it with networkx's min-fill heuristic, and keep the
   maximal bags of the resulting tree decomposition: the cliques of a junction tree.
2. Each CPT is multiplied into one clique that holds its family (the clique's base
   potential, computed once); each observed variable's indicator is multiplied into one
   clique that holds it.
3. Collect messages towards the root, then distribute them back (Hugin division in
   separator space). Every message is rescaled to sum to one per row and the scale is
   kept in log space, so long products never underflow and P(evidence) is exact.

Variables are kept in one global order inside every clique and separator, so a message
broadcasts into a clique by a reshape, without transposes at query time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from networkx.algorithms.approximation import treewidth_min_fill_in

from model.errors import EngineError

#: Largest clique table (entries, per query row) the engine agrees to build.
DEFAULT_MAX_TABLE_ENTRIES = 2**24
#: Memory budget for one chunk of a batch, in float64 entries (about 256 MB).
CHUNK_BUDGET_ENTRIES = 2**25
#: Neighbouring cliques are merged while their union has at most this many entries.
MERGE_LIMIT = 256


@dataclass(frozen=True)
class Factor:
    """A CPT as a plain array: ``table[x_var, x_parent1, ...]`` = P(var | parents)."""

    variables: tuple[str, ...]
    table: np.ndarray


@dataclass
class _Clique:
    variables: tuple[str, ...]
    shape: tuple[int, ...]
    parent: int = -1
    separator: tuple[str, ...] = ()
    children: list[int] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    evidence_vars: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueryResult:
    """Marginals and the log-probability of the evidence, one row per query.

    ``marginals[v]`` has shape ``(n, card(v))``; rows whose evidence is impossible hold NaN
    and have ``log_evidence == -inf``.
    """

    marginals: dict[str, np.ndarray]
    log_evidence: np.ndarray

    @property
    def impossible(self) -> np.ndarray:
        return ~np.isfinite(self.log_evidence)


class JunctionTreeEngine:
    """Exact batched inference over a fixed DAG with discrete variables.

    Parameters
    ----------
    cardinalities
        Number of states of every variable.
    factors
        One CPT per variable: ``factors[v].variables == (v, *parents)``.
    max_table_entries
        Refuse to compile (with :class:`EngineError`) if a clique table would be larger.

    Examples
    --------
    >>> import numpy as np
    >>> rain = Factor(("rain",), np.array([0.8, 0.2]))
    >>> wet = Factor(("wet", "rain"), np.array([[0.9, 0.1], [0.1, 0.9]]))
    >>> engine = JunctionTreeEngine({"rain": 2, "wet": 2}, {"rain": rain, "wet": wet})
    >>> result = engine.query({"wet": np.array([1])}, ["rain"])
    >>> np.round(result.marginals["rain"], 4).tolist()
    [[0.3077, 0.6923]]
    """

    def __init__(
        self,
        cardinalities: Mapping[str, int],
        factors: Mapping[str, Factor],
        max_table_entries: int = DEFAULT_MAX_TABLE_ENTRIES,
    ):
        self.cardinalities = {v: int(c) for v, c in cardinalities.items()}
        self.order = {v: i for i, v in enumerate(self.cardinalities)}
        missing = set(self.cardinalities) - set(factors)
        if missing:
            raise EngineError(f"no CPT for variable(s): {sorted(missing)}")
        self.factors = dict(factors)
        for v, f in self.factors.items():
            expected = tuple(self.cardinalities[u] for u in f.variables)
            if f.variables[0] != v or f.table.shape[-len(expected):] != expected:
                raise EngineError(
                    f"CPT of {v!r}: expected variables starting with {v!r} and shape "
                    f"{expected}, got {f.variables} with shape {f.table.shape}"
                )
        self._plans: dict = {}
        self._compile(max_table_entries)

    # ------------------------------------------------------------------ compilation
    def _sorted(self, variables) -> tuple[str, ...]:
        return tuple(sorted(variables, key=self.order.__getitem__))

    def _compile(self, max_table_entries: int) -> None:
        moral = nx.Graph()
        moral.add_nodes_from(self.cardinalities)
        for f in self.factors.values():
            family = list(f.variables)
            moral.add_edges_from(
                (a, b) for i, a in enumerate(family) for b in family[i + 1 :]
            )
        bags: list[frozenset[str]] = []
        for component in nx.connected_components(moral):
            sub = moral.subgraph(component)
            if sub.number_of_nodes() == 1:
                bags.append(frozenset(component))
                continue
            _, decomposition = treewidth_min_fill_in(sub)
            bags.extend(decomposition.nodes)
        # Keep maximal bags only: a bag inside another adds work and no information.
        bags = sorted(set(bags), key=len, reverse=True)
        maximal: list[frozenset[str]] = []
        for bag in bags:
            if not any(bag <= kept for kept in maximal):
                maximal.append(bag)
        sizes = [int(np.prod([self.cardinalities[v] for v in bag])) for bag in maximal]
        self.max_table_entries = max(sizes)
        if self.max_table_entries > max_table_entries:
            raise EngineError(
                f"exact inference needs a clique table of {self.max_table_entries:,} entries "
                f"(limit {max_table_entries:,}); the network's treewidth is too large for "
                "exact inference here"
            )
        # Junction tree: maximum spanning tree on separator sizes (running intersection).
        graph = nx.Graph()
        graph.add_nodes_from(range(len(maximal)))
        for i in range(len(maximal)):
            for j in range(i + 1, len(maximal)):
                graph.add_edge(i, j, weight=len(maximal[i] & maximal[j]))
        tree = nx.maximum_spanning_tree(graph) if len(maximal) > 1 else graph
        maximal, tree = self._merge_small(maximal, tree)
        sizes = [self._entries(bag) for bag in maximal]
        self.max_table_entries = max(sizes)
        self.cliques = [
            _Clique(
                variables=self._sorted(bag),
                shape=tuple(self.cardinalities[v] for v in self._sorted(bag)),
            )
            for bag in maximal
        ]
        self.root = int(np.argmax(sizes))
        self.bfs_order = [self.root] + [v for _, v in nx.bfs_edges(tree, self.root)]
        for parent, child in nx.bfs_edges(tree, self.root):
            c = self.cliques[child]
            c.parent = parent
            c.separator = self._sorted(maximal[child] & maximal[parent])
            self.cliques[parent].children.append(child)
        # Each CPT goes to the smallest clique holding its family.
        self.factor_home: dict[str, int] = {}
        for v, f in self.factors.items():
            family = set(f.variables)
            home = min(
                (i for i, c in enumerate(self.cliques) if family <= set(c.variables)),
                key=lambda i: sizes[i],
            )
            self.factor_home[v] = home
            self.cliques[home].factors.append(v)
        # Each variable's evidence and marginal live in the smallest clique holding it.
        self.var_home: dict[str, int] = {}
        for v in self.cardinalities:
            home = min(
                (i for i, c in enumerate(self.cliques) if v in c.variables),
                key=lambda i: sizes[i],
            )
            self.var_home[v] = home
            self.cliques[home].evidence_vars.append(v)
        self._base = [self._base_potential(i, {}) for i in range(len(self.cliques))]

    def _entries(self, bag) -> int:
        return int(np.prod([self.cardinalities[v] for v in bag]))

    def _merge_small(self, bags: list[frozenset[str]], tree: nx.Graph):
        """Contract tree edges whose merged clique stays small.

        Each clique costs a handful of numpy calls per query whatever its size, so tiny
        cliques are merged with a neighbour while the union has at most
        ``MERGE_LIMIT`` entries. Contracting a junction-tree edge keeps it a junction tree.
        """
        bags = dict(enumerate(bags))
        tree = tree.copy()
        merged = True
        while merged:
            merged = False
            for i, j in sorted(tree.edges(), key=lambda e: self._entries(bags[e[0]] | bags[e[1]])):
                if self._entries(bags[i] | bags[j]) <= MERGE_LIMIT:
                    bags[i] = bags[i] | bags.pop(j)
                    tree = nx.contracted_nodes(tree, i, j, self_loops=False)
                    merged = True
                    break
        order = sorted(bags)
        relabel = {old: new for new, old in enumerate(order)}
        return [bags[k] for k in order], nx.relabel_nodes(tree, relabel)

    def _broadcast(self, table: np.ndarray, variables: Sequence[str], clique: _Clique, batch_first: bool = True):
        """Reshape a table over ``variables`` so it broadcasts into ``clique``.

        Clique arrays keep the batch axis *last* (``(*clique shape, n)``), so numpy's inner
        loops run over the contiguous batch rather than over axes of size two. A table
        given with a leading batch axis (``batch_first``) is moved accordingly; one
        without a batch axis gets a trailing axis of length one.
        """
        key = (tuple(variables), clique.variables)
        plan = self._plans.get(key)
        if plan is None:
            ordered = self._sorted(variables)
            perm = [list(variables).index(v) for v in ordered] + [len(variables)]
            shape = [self.cardinalities[v] if v in variables else 1 for v in clique.variables]
            plan = self._plans[key] = (perm, shape)
        perm, shape = plan
        if table.ndim == len(variables):
            table = table[..., None]
        elif batch_first:
            table = np.moveaxis(table, 0, -1)
        table = np.transpose(table, perm)
        return table.reshape(shape + [table.shape[-1]])

    def _base_potential(self, index: int, tables: Mapping[str, np.ndarray]) -> np.ndarray:
        """Product of the CPTs assigned to a clique; shape ``(*clique shape, n or 1)``."""
        clique = self.cliques[index]
        potential = np.ones((*clique.shape, 1))
        for v in clique.factors:
            table = tables.get(v)
            if table is None:
                table = self.factors[v].table
            potential = potential * self._broadcast(table, self.factors[v].variables, clique)
        return potential

    # ------------------------------------------------------------------ queries
    def query(
        self,
        evidence: Mapping[str, np.ndarray],
        targets: Sequence[str],
        tables: Mapping[str, np.ndarray] | None = None,
        soft_evidence: Mapping[str, np.ndarray] | None = None,
    ) -> QueryResult:
        """Posterior marginals of ``targets`` for a batch of evidence rows.

        Parameters
        ----------
        evidence
            ``{variable: int array of shape (n,)}``: the observed state index per row,
            ``-1`` for unobserved. Variables not named are unobserved in every row.
        targets
            Variables whose posterior marginals are wanted.
        tables
            Optional per-row CPTs ``{variable: array (n or 1, card, *parent cards)}``
            replacing the compiled ones (parameter sweeps, uncertainty draws).
        soft_evidence
            Optional likelihood vectors ``{variable: array (n, card)}``.
        """
        tables = dict(tables or {})
        for v, t in tables.items():
            expected = self.factors[v].table.shape
            if v not in self.factors or t.shape[1:] != expected:
                raise EngineError(
                    f"replacement CPT of {v!r}: expected shape (n, {expected}), got {t.shape}"
                )
        n = self._batch_size(evidence, tables, soft_evidence or {})
        chunk = max(1, CHUNK_BUDGET_ENTRIES // max(1, sum(int(np.prod(c.shape)) for c in self.cliques)))
        if n <= chunk:
            return self._query_chunk(evidence, targets, tables, soft_evidence or {}, n)
        parts = []
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            part = self._query_chunk(
                {v: _rows(e, start, stop) for v, e in evidence.items()},
                targets,
                {v: _rows(t, start, stop) for v, t in tables.items()},
                {v: _rows(s, start, stop) for v, s in (soft_evidence or {}).items()},
                stop - start,
            )
            parts.append(part)
        return QueryResult(
            marginals={
                t: np.concatenate([p.marginals[t] for p in parts]) for t in targets
            },
            log_evidence=np.concatenate([p.log_evidence for p in parts]),
        )

    @staticmethod
    def _batch_size(evidence, tables, soft) -> int:
        sizes = {len(e) for e in evidence.values()}
        sizes |= {t.shape[0] for t in tables.values() if t.shape[0] != 1}
        sizes |= {len(s) for s in soft.values()}
        sizes.discard(1)
        if len(sizes) > 1:
            raise EngineError(f"evidence and tables disagree on the batch size: {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    def _query_chunk(self, evidence, targets, tables, soft, n) -> QueryResult:
        cliques = self.cliques
        touched = {self.factor_home[v] for v in tables}
        base = [
            self._base_potential(i, tables) if i in touched else self._base[i]
            for i in range(len(cliques))
        ]
        log_z = np.zeros(n)
        collected: list[np.ndarray | None] = [None] * len(cliques)
        upward: list[np.ndarray | None] = [None] * len(cliques)
        # Collect: leaves first. Arrays are (*clique shape, n): batch axis last.
        for i in reversed(self.bfs_order):
            c = cliques[i]
            belief = base[i]
            for v in c.evidence_vars:
                lik = self._likelihood(v, evidence.get(v), soft.get(v), n)
                if lik is not None:
                    belief = belief * self._broadcast(lik, (v,), c)
            for child in c.children:
                belief = belief * self._broadcast(
                    upward[child], cliques[child].separator, c, batch_first=False
                )
            if belief.shape[-1] != n:
                belief = np.broadcast_to(belief, (*c.shape, n))
            collected[i] = belief
            if c.parent >= 0:
                axes = tuple(k for k, v in enumerate(c.variables) if v not in c.separator)
                message = belief.sum(axis=axes) if axes else belief
                z = message.reshape(-1, n).sum(axis=0)
                log_z += _safe_log(z)
                upward[i] = message / _safe_divisor(z)
        log_z += _safe_log(collected[self.root].reshape(-1, n).sum(axis=0))
        # Distribute towards the cliques that hold a target, Hugin division in separators.
        full: list[np.ndarray | None] = [None] * len(cliques)
        full[self.root] = collected[self.root]
        needed = set()
        for i in {self.var_home[t] for t in targets}:
            while i >= 0 and i not in needed:
                needed.add(i)
                i = cliques[i].parent
        for i in self.bfs_order[1:]:
            if i not in needed:
                continue
            c = cliques[i]
            parent = cliques[c.parent]
            axes = tuple(k for k, v in enumerate(parent.variables) if v not in c.separator)
            summed = full[c.parent].sum(axis=axes) if axes else full[c.parent]
            old = upward[i]
            down = np.divide(summed, old, out=np.zeros_like(summed), where=old > 0)
            down = down / _safe_divisor(down.reshape(-1, n).sum(axis=0))
            full[i] = collected[i] * self._broadcast(down, c.separator, c, batch_first=False)
        impossible = ~np.isfinite(log_z)
        marginals = {}
        for t in targets:
            c = cliques[self.var_home[t]]
            axes = tuple(k for k, v in enumerate(c.variables) if v != t)
            m = full[self.var_home[t]].sum(axis=axes) if axes else full[self.var_home[t]]
            total = m.sum(axis=0, keepdims=True)
            m = (m / np.where(total > 0, total, 1.0)).T.copy()
            m[impossible] = np.nan
            marginals[t] = m
        return QueryResult(marginals=marginals, log_evidence=log_z)

    def _likelihood(self, v, index, soft, n) -> np.ndarray | None:
        card = self.cardinalities[v]
        lik = None
        if index is not None:
            index = np.asarray(index)
            if np.any(index >= card) or np.any(index < -1):
                raise EngineError(f"state index out of range for {v!r} (0..{card - 1}, or -1)")
            if np.any(index >= 0):
                # Row -1 of this table is all ones: unobserved rows pass through unchanged.
                indicator = np.vstack([np.eye(card), np.ones((1, card))])
                lik = indicator[index]
                if lik.shape[0] == 1 and n != 1:
                    lik = np.broadcast_to(lik, (n, card))
        if soft is not None:
            lik = soft if lik is None else lik * soft
        return lik


def _rows(array: np.ndarray, start: int, stop: int) -> np.ndarray:
    return array if array.shape[0] == 1 else array[start:stop]


def _safe_log(z: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(z)


def _safe_divisor(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, 1.0)


def engine_from_pgmpy(network, max_table_entries: int = DEFAULT_MAX_TABLE_ENTRIES):
    """Compile a :class:`JunctionTreeEngine` from a pgmpy ``DiscreteBayesianNetwork``.

    Returns ``(engine, state_names)`` where ``state_names[v]`` lists the states of ``v``
    in the order the engine indexes them.
    """
    cards: dict[str, int] = {}
    factors: dict[str, Factor] = {}
    states: dict[str, list[str]] = {}
    for node in network.nodes():
        cpd = network.get_cpds(node)
        if cpd is None:
            raise EngineError(f"node {node!r} has no CPD")
        variables = tuple(cpd.variables)
        table = np.asarray(cpd.get_values(), dtype=float).reshape(cpd.cardinality)
        factors[node] = Factor(variables, table)
        cards[node] = int(cpd.cardinality[0])
        states[node] = list(cpd.state_names[node])
    ordered = {v: cards[v] for v in network.nodes()}
    return JunctionTreeEngine(ordered, factors, max_table_entries), states
