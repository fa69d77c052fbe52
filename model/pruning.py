"""Evidence-aware pruning on top of the junction tree: the engine's fast path.

Two exact facts make most queries far cheaper than the full junction tree:

* A leaf (a variable with no children) that is not observed sums out to one: it is
  *barren* and can be dropped from the network for that query.
* A leaf observed in a state whose CPT slice is a product of one vector per parent
  (``P(leaf = s | parents) = prod_k v_k[parent_k]``) couples nothing: it is the same as
  soft evidence ``v_k`` on each parent. A noisy-OR finding observed *absent* is exactly
  this: ``(1 - leak) * prod_i (1 - link_i)^{x_i}``.

So for each query row only the leaves observed in a non-separable state (a noisy-OR
finding observed *present*) and the leaves asked for stay in the network. Rows are
grouped by that set, each group runs through a junction tree compiled for it (cached),
and many patterns at once fall back to the full tree. Every answer is exact.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np

from model.engine import (
    DEFAULT_MAX_TABLE_ENTRIES,
    Factor,
    JunctionTreeEngine,
    QueryResult,
)

#: More distinct row patterns than this in one batch: use the full junction tree.
MAX_PATTERNS = 12
#: Compiled sub-networks kept per engine.
CACHE_SIZE = 256


def separable_factors(table: np.ndarray, batch: bool = False) -> list[np.ndarray] | None:
    """Split a strictly positive tensor into one vector per axis, or None if it is not rank one.

    With ``batch`` the first axis is a batch axis and each row is split on its own; the
    vectors then have shape ``(n, card)``. The first vector carries the constant.
    """
    offset = 1 if batch else 0
    if table.ndim == offset:  # no parents
        return None
    if np.any(table <= 0):
        return None
    log_t = np.log(table)
    axes = list(range(offset, table.ndim))
    grand = log_t.mean(axis=tuple(axes), keepdims=True)
    parts = []
    for axis in axes:
        others = tuple(a for a in axes if a != axis)
        parts.append(log_t.mean(axis=others, keepdims=True) - grand)
    rebuilt = grand + sum(parts)
    if not np.allclose(rebuilt, log_t, rtol=0, atol=1e-12):
        return None
    vectors = []
    for k, (axis, part) in enumerate(zip(axes, parts, strict=True)):
        shape = (table.shape[0], table.shape[axis]) if batch else (table.shape[axis],)
        v = part.reshape(shape)
        if k == 0:
            v = v + grand.reshape((table.shape[0], 1) if batch else ())
        vectors.append(np.exp(v))
    return vectors


class PrunedEngine:
    """Exact batched inference that prunes barren and separable leaves per query row.

    Same :meth:`query` contract as :class:`JunctionTreeEngine`, which it uses inside.
    """

    def __init__(
        self,
        cardinalities: Mapping[str, int],
        factors: Mapping[str, Factor],
        max_table_entries: int = DEFAULT_MAX_TABLE_ENTRIES,
    ):
        self.full = JunctionTreeEngine(cardinalities, factors, max_table_entries)
        self.cardinalities = self.full.cardinalities
        self.factors = self.full.factors
        self.max_table_entries = max_table_entries
        has_children = {p for f in self.factors.values() for p in f.variables[1:]}
        self.leaves = [
            v for v, f in self.factors.items() if v not in has_children and len(f.variables) > 1
        ]
        self.separable: dict[str, dict[int, list[np.ndarray]]] = {}
        for leaf in self.leaves:
            table = self.factors[leaf].table
            split = {}
            for s in range(table.shape[0]):
                vectors = separable_factors(table[s])
                if vectors is not None:
                    split[s] = vectors
            self.separable[leaf] = split
        self._cache: OrderedDict[frozenset[str], JunctionTreeEngine] = OrderedDict()

    def sub_engine(self, kept_leaves: frozenset[str]) -> JunctionTreeEngine:
        """The junction tree of the network without the leaves not in ``kept_leaves``."""
        engine = self._cache.get(kept_leaves)
        if engine is not None:
            self._cache.move_to_end(kept_leaves)
            return engine
        dropped = set(self.leaves) - kept_leaves
        variables = {v: c for v, c in self.cardinalities.items() if v not in dropped}
        engine = JunctionTreeEngine(
            variables, {v: self.factors[v] for v in variables}, self.max_table_entries
        )
        self._cache[kept_leaves] = engine
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return engine

    def query(
        self,
        evidence: Mapping[str, np.ndarray],
        targets: Sequence[str],
        tables: Mapping[str, np.ndarray] | None = None,
        soft_evidence: Mapping[str, np.ndarray] | None = None,
    ) -> QueryResult:
        tables = dict(tables or {})
        soft_evidence = dict(soft_evidence or {})
        n = self.full._batch_size(evidence, tables, soft_evidence)
        leaf_set = set(self.leaves)
        always = frozenset(t for t in targets if t in leaf_set) | frozenset(
            v for v in soft_evidence if v in leaf_set
        )
        # Which leaves each row must keep: observed in a state that does not split.
        keep = np.zeros((n, len(self.leaves)), dtype=bool)
        splits: dict[str, list[np.ndarray] | None] = {}
        for j, leaf in enumerate(self.leaves):
            column = evidence.get(leaf)
            if column is None or leaf in always:
                continue
            column = np.broadcast_to(np.asarray(column), (n,))
            observed = column >= 0
            if leaf in tables:
                # Per-row tables: split each observed state's slice row by row.
                separable_states = set()
                for s in np.unique(column[observed]):
                    vectors = separable_factors(tables[leaf][:, s], batch=True)
                    splits[(leaf, int(s))] = vectors
                    if vectors is not None:
                        separable_states.add(int(s))
            else:
                separable_states = set(self.separable[leaf])
            keep[:, j] = observed & ~np.isin(column, list(separable_states))
        patterns, inverse = np.unique(keep, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        if len(patterns) > MAX_PATTERNS:
            return self.full.query(evidence, targets, tables, soft_evidence)
        marginals = {t: np.empty((n, self.cardinalities[t])) for t in targets}
        log_evidence = np.empty(n)
        for g, pattern in enumerate(patterns):
            rows = np.flatnonzero(inverse == g)
            kept = frozenset(leaf for leaf, k in zip(self.leaves, pattern, strict=True) if k) | always
            engine = self.sub_engine(kept)
            sub_evidence, sub_soft = {}, {}
            for v, column in evidence.items():
                column = np.broadcast_to(np.asarray(column), (n,))[rows]
                if v in engine.cardinalities:
                    sub_evidence[v] = column
                    continue
                # A dropped leaf: unobserved rows need nothing; observed ones are soft
                # evidence on the parents.
                parents = self.factors[v].variables[1:]
                for s in np.unique(column[column >= 0]):
                    picked = column == s
                    if v in tables:
                        vectors = splits[(v, int(s))]
                        vectors = [vec if vec.shape[0] == 1 else vec[rows] for vec in vectors]
                    else:
                        vectors = [vec[None, :] for vec in self.separable[v][int(s)]]
                    for parent, vec in zip(parents, vectors, strict=True):
                        lik = np.where(picked[:, None], np.broadcast_to(vec, (len(rows), vec.shape[1])), 1.0)
                        sub_soft[parent] = lik if parent not in sub_soft else sub_soft[parent] * lik
            for v, lik in soft_evidence.items():
                lik = lik if lik.shape[0] == 1 else lik[rows]
                sub_soft[v] = lik if v not in sub_soft else sub_soft[v] * lik
            sub_tables = {
                v: (t if t.shape[0] == 1 else t[rows]) for v, t in tables.items() if v in engine.cardinalities
            }
            result = engine.query(sub_evidence, targets, sub_tables, sub_soft)
            for t in targets:
                marginals[t][rows] = result.marginals[t]
            log_evidence[rows] = result.log_evidence
        return QueryResult(marginals=marginals, log_evidence=log_evidence)
