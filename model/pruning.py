"""Evidence-aware pruning on top of the junction tree: the engine's fast path.

Two exact facts make most queries far cheaper than the full junction tree:

* A leaf (a variable with no children) that is not observed sums out to one: it is
  *barren* and can be dropped from the network for that query.
* A leaf observed in a state whose CPT slice is a product of one vector per parent
  (``P(leaf = s | parents) = prod_k v_k[parent_k]``) couples nothing: it is the same as
  soft evidence ``v_k`` on each parent. A noisy-OR finding observed *absent* is exactly
  this: ``(1 - leak) * prod_i (1 - link_i)^{x_i}``.

* A binary leaf observed in its other state (a noisy-OR finding observed *present*) is
  one minus a separable term, so by linearity
  ``P(x, e, f) = P(x, e) - P(x, e, not f)``: with k such findings the query expands
  into 2^k signed queries in which every finding is unobserved or separable
  (inclusion-exclusion, as in Heckerman's Quickscore). Those run on the small tree of
  the causes and their risk factors; the signed sums give the exact answer. A row whose
  signed sum would cancel badly (or has too many such findings) is answered directly.

So for each query row only the leaves that must couple their parents, and the leaves
asked for, stay in the network. Rows are grouped by that set, each group runs through
a junction tree compiled for it (cached), and many patterns at once fall back to the
full tree. Every answer is exact.
"""

from __future__ import annotations

import itertools
import weakref
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
#: Expand a row into 2^k signed rows only up to this many present findings.
MAX_EXPANDED_FINDINGS = 6
#: Rows handled at once by the pruned engine (bounds the memory of the signed expansion).
ROWS_PER_SLICE = 2048
#: Give up the signed sum for a row when sum |terms| / result exceeds this.
MAX_CANCELLATION = 1e5


def separable_factors(table: np.ndarray, batch: bool = False) -> list[np.ndarray] | None:
    """Split a strictly positive tensor into one vector per axis, or None if it is not rank one.

    With ``batch`` the first axis is a batch axis and each row is split on its own; the
    vectors then have shape ``(n, card)``. The first vector carries the constant. The
    vectors are read off the tensor's edges through its first corner, and the split is
    accepted only if their outer product rebuilds the whole tensor (to 1e-12 relative).
    """
    offset = 1 if batch else 0
    k = table.ndim - offset
    if k == 0 or np.any(table <= 0):
        return None
    corner = table[(slice(None),) * offset + (0,) * k]
    vectors = []
    for axis in range(k):
        index = [0] * k
        index[axis] = slice(None)
        edge = table[(slice(None),) * offset + tuple(index)]
        if axis > 0:
            edge = edge / (corner[..., None] if batch else corner)
        vectors.append(edge)
    rebuilt = vectors[0]
    for v in vectors[1:]:
        rebuilt = rebuilt[..., None] * v.reshape(v.shape[:offset] + (1,) * (rebuilt.ndim - offset) + v.shape[-1:])
    if not np.allclose(rebuilt, table, rtol=1e-12, atol=0):
        return None
    return vectors


#: Splits of per-row tables, by (id of the whole table, state): a shared set of tables
#: (the page's uncertainty draws) is split once. A weak reference checks the identity.
_SPLIT_CACHE: dict[tuple[int, int], tuple[weakref.ref, list[np.ndarray] | None]] = {}
_SPLIT_CACHE_SIZE = 512


def split_rows(table: np.ndarray, state: int) -> list[np.ndarray] | None:
    """``separable_factors(table[:, state], batch=True)``, computed once per table object.

    Valid because tables are never modified in place once built (the engine only reads).
    """
    key = (id(table), int(state))
    hit = _SPLIT_CACHE.get(key)
    if hit is not None and hit[0]() is table:
        return hit[1]
    vectors = separable_factors(table[:, state], batch=True)
    try:
        reference = weakref.ref(table)
    except TypeError:  # a view of a non-weakref-able base: do not cache
        return vectors
    if len(_SPLIT_CACHE) >= _SPLIT_CACHE_SIZE:
        _SPLIT_CACHE.clear()
    _SPLIT_CACHE[key] = (reference, vectors)
    return vectors


_SUBSETS = {
    k: np.array(list(itertools.product((False, True), repeat=k)), dtype=bool).reshape(2**k, k)
    for k in range(MAX_EXPANDED_FINDINGS + 1)
}


def _take_splits(splits, rows):
    return {
        key: None if vectors is None else [v if v.shape[0] == 1 else v[rows] for v in vectors]
        for key, vectors in splits.items()
    }


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
        """Posterior marginals of ``targets``; same contract as :meth:`JunctionTreeEngine.query`.

        Large batches run in slices of ``ROWS_PER_SLICE`` rows, so the signed expansion
        never holds more than a bounded number of sub-rows in memory.
        """
        tables = dict(tables or {})
        soft_evidence = dict(soft_evidence or {})
        n = self.full._batch_size(evidence, tables, soft_evidence)
        if n > ROWS_PER_SLICE:
            parts = []
            for start in range(0, n, ROWS_PER_SLICE):
                rows = slice(start, min(n, start + ROWS_PER_SLICE))

                def cut(a, rows=rows):
                    a = np.asarray(a)
                    return a if a.shape[0] == 1 else a[rows]

                parts.append(
                    self._query_slice(
                        {v: cut(np.broadcast_to(np.asarray(c), (n,))) for v, c in evidence.items()},
                        targets,
                        {v: cut(t) for v, t in tables.items()},
                        {v: cut(s) for v, s in soft_evidence.items()},
                    )
                )
            return QueryResult(
                marginals={t: np.concatenate([p.marginals[t] for p in parts]) for t in targets},
                log_evidence=np.concatenate([p.log_evidence for p in parts]),
            )
        return self._query_slice(evidence, targets, tables, soft_evidence)

    def _query_slice(self, evidence, targets, tables, soft_evidence) -> QueryResult:
        n = self.full._batch_size(evidence, tables, soft_evidence)
        evidence = {v: np.broadcast_to(np.asarray(c), (n,)) for v, c in evidence.items()}
        leaf_targets = {t for t in targets if t in self.separable} | set(soft_evidence)
        # Binary leaves observed in the state whose complement is separable.
        expandable = {}
        splits: dict[tuple[str, int], list[np.ndarray] | None] = {}
        for leaf, split in self.separable.items():
            column = evidence.get(leaf)
            if column is None or leaf in leaf_targets or self.cardinalities[leaf] != 2:
                continue
            states = set(split)
            if leaf in tables:
                states = set()
                for s in (0, 1):
                    splits[(leaf, s)] = split_rows(tables[leaf], s)
                    if splits[(leaf, s)] is not None:
                        states.add(s)
            if len(states) == 1:
                (separable_state,) = states
                expandable[leaf] = (separable_state, 1 - separable_state)
        if not expandable:
            return self._query_grouped(evidence, targets, tables, soft_evidence, n, splits)
        positive = np.stack([evidence[leaf] == other for leaf, (_, other) in expandable.items()], axis=1)
        counts = positive.sum(axis=1)
        leaves = list(expandable)
        absent_state = np.array([expandable[leaf][0] for leaf in leaves])
        expand_rows = np.flatnonzero((counts > 0) & (counts <= MAX_EXPANDED_FINDINGS))
        if len(expand_rows) == 0:
            return self._query_grouped(evidence, targets, tables, soft_evidence, n, splits)
        # Signed sub-rows: each present finding either dropped (+) or made absent (-).
        origin_parts, sign_parts, column_parts = [], [], []
        base = np.stack([evidence[leaf] for leaf in leaves], axis=1)  # (n, L)
        for r in expand_rows:
            present = np.flatnonzero(positive[r])
            flips = _SUBSETS[len(present)]  # (2^k, k) booleans
            block = np.repeat(base[r][None, :], len(flips), axis=0)
            block[:, present] = np.where(flips, absent_state[present], -1)
            column_parts.append(block)
            origin_parts.append(np.full(len(flips), r))
            sign_parts.append(np.where(flips.sum(axis=1) % 2, -1.0, 1.0))
        origin = np.concatenate(origin_parts)
        sign = np.concatenate(sign_parts)
        columns = np.concatenate(column_parts)
        sub_evidence = {v: c[origin] for v, c in evidence.items()}
        sub_evidence.update({leaf: columns[:, j] for j, leaf in enumerate(leaves)})
        # Tables of the expanded leaves are not needed: their splits are passed instead.
        sub = self._query_grouped(
            sub_evidence,
            targets,
            {v: (t if t.shape[0] == 1 else t[origin]) for v, t in tables.items() if v not in expandable},
            {v: (s if s.shape[0] == 1 else s[origin]) for v, s in soft_evidence.items()},
            len(origin),
            _take_splits(splits, origin),
        )
        # Combine the signed terms per original row, scaled by each row's largest term.
        starts = np.flatnonzero(np.r_[True, origin[1:] != origin[:-1]])
        log_z = sub.log_evidence
        finite = np.isfinite(log_z)
        top = np.maximum.reduceat(np.where(finite, log_z, -np.inf), starts)
        top_rows = np.repeat(np.where(np.isfinite(top), top, 0.0), np.diff(np.r_[starts, len(origin)]))
        weights = np.where(finite, sign * np.exp(np.where(finite, log_z, 0.0) - top_rows), 0.0)
        total = np.add.reduceat(weights, starts)
        spread = np.add.reduceat(np.abs(weights), starts)
        ok = np.isfinite(top) & (total > 0)
        ok &= spread <= MAX_CANCELLATION * np.where(total > 0, total, 1.0)
        marginals = {t: np.full((n, self.cardinalities[t]), np.nan) for t in targets}
        log_evidence = np.full(n, -np.inf)
        good = expand_rows[ok]
        log_evidence[good] = top[ok] + np.log(total[ok])
        for t in targets:
            numerator = np.add.reduceat(weights[:, None] * np.nan_to_num(sub.marginals[t]), starts)
            marginals[t][good] = np.clip(numerator[ok] / total[ok, None], 0.0, 1.0)
        # Rows not expanded, and rows whose signed sum cancels too much: answer directly
        # (rows whose every term is impossible are impossible and stay so).
        impossible_rows = expand_rows[~np.isfinite(top)]
        redo = np.setdiff1d(np.arange(n), np.concatenate([good, impossible_rows]))
        if len(redo):
            direct = self._query_grouped(
                {v: c[redo] for v, c in evidence.items()},
                targets,
                {v: (t if t.shape[0] == 1 else t[redo]) for v, t in tables.items()},
                {v: (s if s.shape[0] == 1 else s[redo]) for v, s in soft_evidence.items()},
                len(redo),
                _take_splits(splits, redo),
            )
            for t in targets:
                marginals[t][redo] = direct.marginals[t]
            log_evidence[redo] = direct.log_evidence
        impossible = ~np.isfinite(log_evidence)
        for t in targets:
            marginals[t][impossible] = np.nan
        return QueryResult(marginals=marginals, log_evidence=log_evidence)

    def _query_grouped(self, evidence, targets, tables, soft_evidence, n, known_splits=None) -> QueryResult:
        """Rows grouped by the leaves they must keep; each group on its own tree.

        ``known_splits`` holds per-row splits of per-row tables already computed.
        """
        tables = dict(tables or {})
        soft_evidence = dict(soft_evidence or {})
        leaf_set = set(self.leaves)
        always = frozenset(t for t in targets if t in leaf_set) | frozenset(
            v for v in soft_evidence if v in leaf_set
        )
        # Which leaves each row must keep: observed in a state that does not split.
        keep = np.zeros((n, len(self.leaves)), dtype=bool)
        splits: dict[tuple[str, int], list[np.ndarray] | None] = {}
        per_row = set(tables) | {leaf for leaf, _ in (known_splits or {})}
        for j, leaf in enumerate(self.leaves):
            column = evidence.get(leaf)
            if column is None or leaf in always:
                continue
            column = np.broadcast_to(np.asarray(column), (n,))
            observed = column >= 0
            if leaf in per_row:
                # Per-row tables: split each observed state's slice row by row.
                separable_states = set()
                for s in np.unique(column[observed]):
                    key = (leaf, int(s))
                    if known_splits is not None and key in known_splits:
                        vectors = known_splits[key]
                    else:
                        vectors = split_rows(tables[leaf], s)
                    splits[key] = vectors
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
                    if v in per_row:
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
