"""One exact engine over the cause space.

The network has a small hidden layer: ``K`` binary causes (12 here), so ``S = 2**K``
joint cause states (4,096), with age and risk factors above them and findings below.
The engine enumerates that layer exactly. For evidence ``e`` (answers to some of the
questions) and a cause state ``s``::

    P(age = a, s, e) = P(a) * prior(s | a, e_R) * prod over answered findings f of L_f(e_f | a, s)

1. **Findings** are children of causes (and, where the priors give figures by age, of
   age). For each finding, state and age the engine keeps the vector ``L_f(x | a, s)``
   over all ``S`` cause states (the *bank*). A noisy-OR finding answered *absent*
   factorises, ``L = (1 - leak) * prod_j (1 - link_j)**s_j``, so it is folded into one
   factor per cause instead of a vector product.
2. **The prior over cause states** given age and the answered risk factors: given age,
   risk factors are independent and each cause depends only on its own risk factors, so
   the causes split into *components* that share no risk factor (here three: nine causes
   tied by dehydration, kidney disease, spine injury, diabetes, autoimmune disease,
   family history, medicines and alcohol; PLMD with hypnic jerks through caffeine,
   anxiety and evening exercise; Parkinson's alone). Within a component, risk factors of
   one cause only are summed into that cause's table; those shared by two or more causes
   are summed out as soon as their last cause is in (the causes in the order that makes
   this cheapest, :class:`~toe_twitch.engine.plan.Schedule`; the numpy reference
   enumerates them all instead, a sum of Kronecker products). The prior over all ``S``
   states is the Kronecker product of the components' vectors, built component by
   component in the order that makes the answers cheapest (an answer is applied as soon
   as its causes are in, over the states built so far: the PLMD component last, since
   few findings need it). Component vectors are computed once per (age, answer pattern)
   and remembered for single queries.
3. **Marginals**: P(cause j | e) is the share of the posterior over cause states with bit
   ``j`` set; P(e) is the total and ``no_listed_cause`` = P(all causes absent | e) is
   the entry of state 0. An unknown age sums the four ages.

4. **Every combination** of answers to ``n`` yes/no findings (:meth:`CauseSpace.combinations`):
   the likelihood of a combination is a product of two halves' likelihoods, so all
   ``2**n`` sums over cause states are matrix products of ``2**(n/2)``-row matrices.

The answers applied at one stage are multiplied in one pass over the states. Products of
many small numbers are kept in range by scaling each row's vector by an exact power of
two (so scaling never changes a digit): a vector whose sum falls below
``2**-SCALE_BITS`` is multiplied by ``2**SCALE_BITS``. The one-pass product is kept when
its sum is at least ``2**-SCALE_BITS`` (every entry that matters is then a normal double,
so it equals the step-by-step product to rounding); otherwise the stage is redone one
answer at a time, rescaled after each. Rows with P(e) = 0 are reported
as impossible. Everything is batched: a query is any number of rows, each with its own
evidence and, for parameter sweeps, its own parameter set (*group*).

The package, one file per concern: :mod:`~toe_twitch.engine.plan` (components, their
order, the schedule, where each answer's vector is applied), this module (the query and
its caches), :mod:`~toe_twitch.engine.reference` (the numpy path) and
:mod:`~toe_twitch.engine.kernels` (the numba loops, used when numba is installed: the
normal case; tests hold the two paths to 1e-12 of each other).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toe_twitch.engine import kernels, plan, reference
from toe_twitch.engine.kernels import HAVE_NUMBA, PARALLEL_ROWS
from toe_twitch.engine.plan import SCALE_BITS, Component, FindingBank
from toe_twitch.engine.reference import marginal_sums
from toe_twitch.errors import EngineError
from toe_twitch.network import Structure, Tables

#: The engine holds vectors over 2**K cause states; beyond this it refuses before allocating.
MAX_CAUSES = 22
#: Memory the engine's arrays (finding vectors, state bits, buffers) may take, in bytes.
BANK_BUDGET_BYTES = 512 * 2**20
#: Below this, a combination's probability is recomputed with the kernel's exact scaling.
PLAIN_PRODUCT_FLOOR = 1e-280
#: Rows per slice of a large batch (bounds the component vectors held at once).
CHUNK_ROWS = 4096
#: Component vectors remembered per engine (single queries reuse them).
_CACHE_ENTRIES = 4096
#: Batches up to this size find their component vectors through the cache, row by row.
_FEW_ROWS = 8
#: Rows whose component vectors are remembered whole (up to 4 ages x 2,050 numbers each).
_ROW_CACHE_ENTRIES = 256

__all__ = [
    "BANK_BUDGET_BYTES",
    "HAVE_NUMBA",
    "MAX_CAUSES",
    "SCALE_BITS",
    "CauseSpace",
    "Encoded",
    "Posteriors",
    "marginal_sums",
]


@dataclass(frozen=True)
class Encoded:
    """Evidence as state indices, ``-1`` = unknown: one row per evidence set.

    ``age`` is ``(n,)``; ``risk_factors`` is ``(n, R)`` and ``findings`` is ``(n, F)`` in
    the structure's order (0 = absent, 1 = present).
    """

    age: np.ndarray
    risk_factors: np.ndarray
    findings: np.ndarray

    def __len__(self) -> int:
        return int(self.age.shape[0])

    def rows(self, index: np.ndarray | slice) -> Encoded:
        return Encoded(self.age[index], self.risk_factors[index], self.findings[index])


@dataclass(frozen=True)
class Posteriors:
    """What the engine computes for a batch of evidence sets (rows): the one posterior
    record of the project (:mod:`toe_twitch.records` shows it to the API).

    ``marginals[i, j]`` = P(cause j present | evidence i) in the structure's cause order;
    ``no_listed_cause[i]`` = P(every cause absent | evidence i); ``log_evidence[i]`` =
    log P(evidence i), the twitching included (``-inf``, with NaN marginals, where the
    evidence is impossible: :attr:`impossible`); ``joint`` (only when asked for) is
    ``(n, A, S)``: P(age, cause state | evidence).
    """

    marginals: np.ndarray
    no_listed_cause: np.ndarray
    log_evidence: np.ndarray
    joint: np.ndarray | None = None

    @property
    def impossible(self) -> np.ndarray:
        return ~np.isfinite(self.log_evidence)

    def rows(self, start: int, stop: int) -> Posteriors:
        """The rows ``start:stop`` of the batch."""
        joint = None if self.joint is None else self.joint[start:stop]
        return Posteriors(self.marginals[start:stop], self.no_listed_cause[start:stop],
                          self.log_evidence[start:stop], joint)


class CauseSpace:
    """Exact inference over the cause space of one structure (see the module docstring).

    Parameters
    ----------
    structure, tables
        The network (:mod:`toe_twitch.network`); ``tables`` may hold several parameter sets
        (groups) along its batch axis.
    vectors
        Which finding vectors to build: ``None`` for all of them; otherwise a collection of
        ``(finding, state, age index)`` (a parameter sweep only needs those it answers).
    compiled
        Use the numba kernels (default: when numba is available).
    """

    def __init__(
        self,
        structure: Structure,
        tables: Tables,
        vectors: Sequence[tuple[str, int, int]] | None = None,
        compiled: bool | None = None,
    ):
        self.compiled = HAVE_NUMBA if compiled is None else (compiled and HAVE_NUMBA)
        self.causes = structure.causes
        self.risk_factors = structure.risk_factors
        self.findings = structure.findings
        k = len(self.causes)
        if k > MAX_CAUSES:
            raise EngineError(
                f"the network has {k} causes; the cause-space engine enumerates 2**K cause "
                f"states and allows at most {MAX_CAUSES} causes"
            )
        self.n_ages = max(1, len(structure.age_states))
        self.groups = tables.batch
        self._check_structure(structure)
        self.n_states = 1 << k
        fixed = self.n_states * (k + 8 * 8)  # state bits, and a few vectors per thread
        if fixed > BANK_BUDGET_BYTES:
            raise EngineError(
                f"{k} causes need {fixed / 2**20:.0f} MiB for the cause states alone; the limit "
                f"is {BANK_BUDGET_BYTES / 2**20:.0f} MiB"
            )
        #: The components in build order; ``internal_order[p]`` is the structure's index of
        #: the cause at the engine's bit ``p``.
        self.components, self.internal_order = plan.build_components(structure, tables)
        self.bits = ((np.arange(self.n_states)[None, :] >> np.arange(k)[:, None]) & 1).astype(bool)
        self.age_prior = np.ascontiguousarray(tables.age, dtype=float)
        r = len(self.risk_factors)
        #: P(risk factor absent / present | age): ``(G, R, A)``.
        self.rf_absent = np.zeros((self.groups, max(r, 1), self.n_ages))
        self.rf_present = np.zeros((self.groups, max(r, 1), self.n_ages))
        for i, rf in enumerate(self.risk_factors):
            self.rf_absent[:, i] = tables.risk_factor[rf][:, 0]
            self.rf_present[:, i] = tables.risk_factor[rf][:, 1]
        self.bank: FindingBank = plan.build_bank(
            structure, tables, self.components, self.internal_order, self.n_ages, vectors,
            BANK_BUDGET_BYTES - self.bits.nbytes,
        )
        self._sizes = np.array([c.size for c in self.components], dtype=np.int64)
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._row_cache: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._vectors: dict[tuple[int, int, int], np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def _internal_order(self) -> np.ndarray:  # the name an earlier caller used
        return self.internal_order

    # ------------------------------------------------------------------ building
    def _check_structure(self, structure: Structure) -> None:
        causes = set(structure.causes)
        rfs = set(structure.risk_factors)
        for f, parents in structure.finding_parents.items():
            bad = [p for p in parents if p not in causes]
            if bad:
                raise EngineError(
                    f"finding {f!r} has the parent {bad[0]!r}; in the cause-space engine a "
                    "finding's parents must be causes (and age_group)"
                )
        for c, parents in structure.cause_parents.items():
            bad = [p for p in parents if p not in rfs]
            if bad:
                raise EngineError(
                    f"cause {c!r} has the parent {bad[0]!r}; a cause's parents must be risk "
                    "factors (and age_group)"
                )

    # ------------------------------------------------------------------ querying
    def query(self, rows: Encoded, groups: np.ndarray | None = None, joint: bool = False) -> Posteriors:
        """Posterior marginals, P(evidence) and the no-listed-cause share for every row.

        ``groups[i]`` is the parameter set of row ``i`` (default 0). ``joint=True`` also
        returns P(age, cause state | evidence) per row (keep ``n`` small: ``n * A * S``).
        """
        n = len(rows)
        groups = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        if n > CHUNK_ROWS:  # bounded memory: component vectors and outputs per chunk
            parts = [
                self.query(rows.rows(slice(i, i + CHUNK_ROWS)), groups[i : i + CHUNK_ROWS], joint)
                for i in range(0, n, CHUNK_ROWS)
            ]
            return Posteriors(
                np.concatenate([p.marginals for p in parts]),
                np.concatenate([p.no_listed_cause for p in parts]),
                np.concatenate([p.log_evidence for p in parts]),
                np.concatenate([p.joint for p in parts]) if joint else None,
            )
        allowed = self._allowed_ages(rows.age)
        self._check_vectors(rows, allowed)
        flat, offsets = self._component_tables(rows, groups, allowed)
        if self.compiled:
            return self._compiled_rows(rows, groups, allowed, flat, offsets, joint)
        log_pe, marg_internal, none, joint_arr = reference.posterior_rows(
            self, rows, groups, allowed, flat, offsets, joint
        )
        marginals = np.empty_like(marg_internal)
        # A certain cause's share can come out 1 ulp above 1 from summation order: clamp.
        marginals[:, self.internal_order] = np.clip(marg_internal, 0.0, 1.0)
        return Posteriors(marginals, np.clip(none, 0.0, 1.0), log_pe, joint_arr if joint else None)

    def _allowed_ages(self, age: np.ndarray) -> np.ndarray:
        """``(n, A)``: the ages each row sums over (its own, or every age if unknown)."""
        if len(age) == 1:  # a single query: no fancy indexing
            return np.arange(self.n_ages)[None, :] == age[0] if age[0] >= 0 else np.ones((1, self.n_ages), bool)
        allowed = np.ones((len(age), self.n_ages), dtype=np.bool_)
        known = age >= 0
        allowed[known] = False
        allowed[np.flatnonzero(known), age[known]] = True
        return allowed

    def _compiled_rows(
        self, rows: Encoded, groups: np.ndarray, allowed: np.ndarray, flat: np.ndarray,
        offsets: np.ndarray, joint: bool,
    ) -> Posteriors:
        n = len(rows)
        record = kernels.PosteriorRecord(
            findings=np.ascontiguousarray(rows.findings, dtype=np.int8), groups=groups,
            allowed=allowed, flat=flat, offsets=offsets, sizes=self._sizes,
            age_prior=self.age_prior, bank=self.bank.bank, vid_of=self.bank.vid_of,
            vec_offset=self.bank.vec_offset, stage_ptr=self.bank.stage_ptr,
            stage_findings=self.bank.stage_findings, fold=self.bank.fold,
            foldable=self.bank.foldable, order=self.internal_order, log_pe=np.empty(n),
            marg=np.empty((n, len(self.causes))), none=np.empty(n),
            joint=np.zeros((n if joint else 0, self.n_ages, self.n_states)),
        )
        threads = kernels.threads() if n >= PARALLEL_ROWS else 1
        chunk = max(1, min(256, -(-n // (4 * threads)))) if threads > 1 else max(n, 1)
        kernels.posterior_rows(record, chunk, parallel=threads > 1)
        impossible = record.log_pe == -np.inf
        if impossible.any():
            record.marg[impossible] = np.nan
            record.none[impossible] = np.nan
        return Posteriors(record.marg, record.none, record.log_pe, record.joint if joint else None)

    def _check_vectors(self, rows: Encoded, allowed: np.ndarray) -> None:
        """Every answer that needs a vector must have one (a restricted bank)."""
        if not len(rows) or self.bank.full:
            return
        codes = rows.findings
        for fi in range(len(self.findings)):
            col = codes[:, fi]
            for x in (0, 1):
                hit = col == x
                if x == 0 and self.bank.foldable[fi]:
                    continue
                if hit.any() and (self.bank.vid_of[fi, x][allowed[hit].any(axis=0)] < 0).any():
                    raise EngineError(
                        f"this engine was built without the vector for {self.findings[fi]}={x}"
                    )

    # ------------------------------------------------------------------ component priors
    def _component_tables(
        self, rows: Encoded, groups: np.ndarray, allowed: np.ndarray, few: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """The prior vector of every component for every (row, allowed age).

        Returns ``flat`` (all vectors one after another) and ``offsets`` ``(n, A, C)``:
        where in ``flat`` the vector of component ``C`` for row ``n`` at age ``a`` starts
        (-1 where the age is not allowed).
        """
        n, a_count = allowed.shape
        if few and n <= _FEW_ROWS:
            return self._few_component_tables(rows, groups, allowed)
        chunks: list[np.ndarray] = []
        offsets = np.full((n, a_count, len(self.components)), -1, dtype=np.int64)
        used = 0
        row_idx, age_idx = np.nonzero(allowed)
        for ci, comp in enumerate(self.components):
            codes = np.zeros(len(row_idx), dtype=np.int64)
            for rf in comp.risk_factors[::-1]:
                codes = codes * 3 + (rows.risk_factors[row_idx, rf].astype(np.int64) + 1)
            width = 3 ** len(comp.risk_factors)
            keys = (groups[row_idx] * a_count + age_idx) * width + codes
            unique, inverse = np.unique(keys, return_inverse=True)
            vectors = self._vectors_for(ci, comp, unique, width)
            chunks.append(vectors.ravel())
            offsets[row_idx, age_idx, ci] = used + inverse.reshape(-1) * comp.size
            used += vectors.size
        flat = np.concatenate(chunks) if chunks else np.zeros(0)
        return flat, offsets

    def _few_component_tables(
        self, rows: Encoded, groups: np.ndarray, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_component_tables` for a few rows, each row's vectors remembered whole
        under its (group, age, risk-factor answers): numpy's per-call overhead dominates
        at this size, a dictionary look-up does not."""
        n, a_count = allowed.shape
        ages = rows.age.tolist()
        answers = rows.risk_factors.tolist()
        found = []
        for r, g in enumerate(groups.tolist()):
            key = (g, ages[r], tuple(answers[r]))
            hit = self._row_cache.get(key)
            if hit is None:
                hit = self._component_tables(rows.rows(slice(r, r + 1)), groups[r : r + 1],
                                             allowed[r : r + 1], few=False)
                with self._lock:
                    self._row_cache[key] = hit
                    if len(self._row_cache) > _ROW_CACHE_ENTRIES:
                        self._row_cache.popitem(last=False)
            found.append(hit)
        if n == 1:
            return found[0]
        sizes = np.cumsum([0] + [len(flat) for flat, _ in found[:-1]])
        offsets = np.concatenate([np.where(o >= 0, o + used, -1) for (_, o), used in zip(found, sizes, strict=True)])
        return np.concatenate([flat for flat, _ in found]), offsets

    def _vectors_for(self, ci: int, comp: Component, keys: np.ndarray, width: int) -> np.ndarray:
        if len(keys) > 64:  # a batch: compute every pattern at once, no per-key cache work
            return self._compute_vectors(comp, keys, width)
        out = np.empty((len(keys), comp.size))
        missing = []
        with self._lock:
            for i, key in enumerate(keys.tolist()):
                hit = self._cache.get((ci, key))
                if hit is None:
                    missing.append(i)
                else:
                    out[i] = hit
                    self._cache.move_to_end((ci, key))
        if missing:
            todo = keys[missing]
            fresh = self._compute_vectors(comp, todo, width)
            out[missing] = fresh
            with self._lock:  # remember what single queries ask
                for key, vector in zip(todo.tolist(), fresh, strict=True):
                    self._cache[(ci, key)] = vector
                    if len(self._cache) > _CACHE_ENTRIES:
                        self._cache.popitem(last=False)
        return out

    def _compute_vectors(self, comp: Component, keys: np.ndarray, width: int) -> np.ndarray:
        """Component vectors for encoded (group, age, risk-factor pattern) keys."""
        groups, rest = np.divmod(keys, self.n_ages * width)
        ages, codes = np.divmod(rest, width)
        evidence = np.full((len(keys), max(len(self.risk_factors), 1)), -1, dtype=np.int8)
        for rf in comp.risk_factors:
            evidence[:, rf] = (codes % 3) - 1
            codes = codes // 3
        if not self.compiled:
            return reference.component_priors(self, comp, groups, ages, evidence)
        return self._compiled_priors(comp, groups, ages, evidence)

    def _compiled_priors(
        self, comp: Component, groups: np.ndarray, ages: np.ndarray, evidence: np.ndarray
    ) -> np.ndarray:
        """Component prior vectors by the numba kernel, one row per (group, age, evidence)."""
        sch = comp.schedule
        record = kernels.ComponentRecord(
            groups=np.asarray(groups, dtype=np.int64), ages=np.asarray(ages, dtype=np.int64),
            evidence=np.ascontiguousarray(evidence, dtype=np.int8), rf0=self.rf_absent,
            rf1=self.rf_present, n_parents=comp.n_parents, parent_rf=comp.parent_rf,
            parent_shared=comp.parent_shared, cpt_offset=comp.cpt_offset, cpt0=comp.cpt0,
            cpt1=comp.cpt1, shared=comp.shared, n_during=sch.n_during,
            during_shared=sch.during_shared, parent_pos=sch.parent_pos,
            new_shared=sch.new_shared, new_pos=sch.new_pos, proj_in=sch.proj_in,
            proj_out=sch.proj_out, n_out=sch.n_out, out=np.zeros((len(groups), comp.size)),
        )
        parallel = len(groups) >= PARALLEL_ROWS and kernels.threads() > 1
        kernels.component_priors(record, max(sch.scratch, comp.size), parallel)
        return record.out

    def vector(self, fi: int, x: int, a: int, g: int = 0) -> np.ndarray:
        """P(finding ``fi`` = ``x`` | age ``a``, cause state) over all ``S`` states
        (read-only: the engine keeps the vectors of its first parameter set)."""
        if g == 0:
            key = (fi, x, a)
            hit = self._vectors.get(key)
            if hit is None:
                hit = self._vector(fi, x, a, 0)
                hit.setflags(write=False)
                self._vectors[key] = hit
            return hit
        return self._vector(fi, x, a, g)

    def _vector(self, fi: int, x: int, a: int, g: int) -> np.ndarray:
        vid = self.bank.vid_of[fi, x, a]
        if vid < 0 or (x == 0 and self.bank.foldable[fi]):
            if self.bank.foldable[fi]:  # noisy-OR absent: the product of its factors (no 1 - p)
                factors = self.bank.fold[g, fi, a]
                out = np.full(self.n_states, factors[-1])
                for p in range(len(self.causes)):
                    if factors[p] != 1.0:
                        view = out.reshape(self.n_states >> (p + 1), 2, 1 << p)
                        view[:, 1, :] *= factors[p]
                return out
            if x == 1:
                raise EngineError(f"this engine was built without the vector for {self.findings[fi]}=1")
            return 1.0 - self._vector(fi, 1, a, g)
        start, width = self.bank.vec_offset[vid], self.bank.vec_width[vid]
        return np.tile(self.bank.bank[g, start : start + width], self.n_states // width)

    def combinations(
        self, joint: np.ndarray, log_evidence: np.ndarray, findings: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every combination of answers to binary ``findings``, from base posteriors.

        ``joint`` ``(P, A, S)`` is P(age, cause state | base evidence) of ``P`` base rows
        and ``log_evidence`` ``(P,)`` their log P. For ``n`` findings there are ``2**n``
        combinations, the first finding changing slowest. The findings are split in two
        halves ``a`` and ``b``: the likelihood of a combination is ``M_a[x_a, s] *
        M_b[x_b, s]``, so every sum over cause states (the total, each cause's share, and
        the all-absent state) is one matrix product ``(M_a * w) @ M_b.T``. Returns log P
        ``(P, 2**n)``, marginals ``(P, 2**n, K)`` in the structure's cause order and the
        no-listed-cause shares ``(P, 2**n)``. A combination whose probability is too small
        for plain float64 products is recomputed through :meth:`query` by the caller
        (it comes back with ``log P = nan``).
        """
        p_count = joint.shape[0]
        n = len(findings)
        k = len(self.causes)
        half = n // 2
        first, second = list(findings[:half]), list(findings[half:])
        total = np.zeros((p_count, 1 << half, 1 << (n - half)))
        shares = np.zeros((p_count, k, 1 << half, 1 << (n - half)))
        none = np.zeros_like(total)
        for a in range(joint.shape[1]):
            live = joint[:, a].any(axis=1)
            if not live.any():
                continue
            m_a = self._answer_matrix(first, a)  # (2**half, S)
            m_b = self._answer_matrix(second, a)  # (2**(n-half), S)
            for pi in np.flatnonzero(live):
                w = m_a * joint[pi, a][None, :]
                total[pi] += w @ m_b.T
                none[pi] += np.outer(w[:, 0], m_b[:, 0])
                for j in range(k):
                    bit = self.bits[j]
                    shares[pi, j] += w[:, bit] @ m_b[:, bit].T
        total = total.reshape(p_count, -1)
        none = none.reshape(p_count, -1)
        shares = shares.reshape(p_count, k, -1).transpose(0, 2, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = total > PLAIN_PRODUCT_FLOOR  # else recompute with the kernel's scaling
            log_pe = np.where(safe, np.log(np.where(safe, total, 1.0)) + log_evidence[:, None], np.nan)
            log_pe = np.where(np.isfinite(log_evidence)[:, None], log_pe, -np.inf)
            internal = np.clip(shares / total[..., None], 0.0, 1.0)
            share_none = np.clip(none / total, 0.0, 1.0)
        marginals = np.empty_like(internal)
        marginals[..., self.internal_order] = internal
        return log_pe, marginals, share_none

    def _answer_matrix(self, findings: Sequence[int], a: int) -> np.ndarray:
        """``(2**n, S)``: the likelihood of each combination of answers (first slowest)."""
        out = np.ones((1, self.n_states))
        for fi in findings:
            out = np.stack([out * self.vector(fi, 0, a), out * self.vector(fi, 1, a)], axis=1)
            out = out.reshape(-1, self.n_states)
        return out

    def extend(
        self, joint: np.ndarray, answers: Sequence[tuple[int, int]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The posterior after each one extra answer to a finding, from the current one.

        ``joint`` is P(age, cause state | evidence) ``(A, S)`` of one row (from
        :meth:`query` with ``joint=True``); ``answers`` are ``(finding index, state)``.
        A finding is a child of the causes, so P(cause state | evidence, answer) is the
        current posterior times the answer's vector, renormalised; P(answer | evidence) is
        the normaliser. Returns marginals ``(m, K)``, no-listed-cause shares ``(m,)`` and
        the predictive probabilities ``(m,)``; an impossible answer has NaN posteriors.
        """
        ages = np.flatnonzero(joint.sum(axis=1) > 0)
        weight = np.zeros((len(answers), self.n_states))
        for i, (fi, x) in enumerate(answers):
            for a in ages:
                weight[i] += joint[a] * self.vector(fi, x, a)
        predictive = weight.sum(axis=1)
        ok = predictive > 0
        safe = np.where(ok, predictive, 1.0)
        internal = marginal_sums(weight) / safe[:, None]
        marginals = np.empty_like(internal)
        marginals[:, self.internal_order] = np.clip(internal, 0.0, 1.0)
        marginals[~ok] = np.nan
        none = np.where(ok, np.clip(weight[:, 0] / safe, 0.0, 1.0), np.nan)
        return marginals, none, predictive

    # ------------------------------------------------------------------ sizes
    @property
    def nbytes(self) -> int:
        """Memory held by the engine's arrays (bank, fold, tables), for cache budgets."""
        arrays = [self.bank.bank, self.bank.fold, self.bits, self.rf_absent, self.rf_present]
        arrays += [c.cpt0 for c in self.components] + [c.cpt1 for c in self.components]
        cached = len(self._cache) * max((c.size for c in self.components), default=1) * 8
        cached += len(self._vectors) * self.n_states * 8
        cached += sum(flat.nbytes + offsets.nbytes for flat, offsets in list(self._row_cache.values()))
        return int(sum(a.nbytes for a in arrays) + cached)
