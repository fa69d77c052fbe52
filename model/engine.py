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
   this cheapest, ``_Schedule``; the numpy reference enumerates them all instead, a sum of
   Kronecker products). The prior over all ``S`` states is the Kronecker product of the
   components' vectors. Component vectors are computed once per (age, answer pattern).
3. **Marginals**: P(cause j | e) is the share of the posterior over cause states with bit
   ``j`` set; P(e) is the total and ``no_listed_cause`` = P(all causes absent | e) is
   the entry of state 0. An unknown age sums the four ages.

4. **Every combination** of answers to ``n`` yes/no findings (:meth:`CauseSpace.combinations`):
   the likelihood of a combination is a product of two halves' likelihoods, so all
   ``2**n`` sums over cause states are matrix products of ``2**(n/2)``-row matrices.

Products of many small numbers are kept in range by scaling each row's vector by an
exact power of two (so scaling never changes a digit). Rows with P(e) = 0 are reported
as impossible. Everything is batched: a query is any number of rows, each with its own
evidence and, for parameter sweeps, its own parameter set (*group*).

The loop over rows is compiled with numba when it is installed (the normal case); the
pure-numpy path below computes the same numbers (tests hold them to 1e-12) and is used
when numba is missing or ``compiled=False`` is asked for.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toe_twitch.errors import EngineError
from toe_twitch.network import Structure, Tables

try:  # numba is a dependency; the numpy path keeps the project usable without it
    import numba

    HAVE_NUMBA = os.environ.get("TOE_TWITCH_ENGINE", "") != "numpy"
except ImportError:  # pragma: no cover - exercised by the compiled=False tests
    numba = None
    HAVE_NUMBA = False

#: The engine holds vectors over 2**K cause states; beyond this it refuses before allocating.
MAX_CAUSES = 22
#: Memory the engine's arrays (finding vectors, state bits, buffers) may take, in bytes.
BANK_BUDGET_BYTES = 512 * 2**20
#: Risk factors shared inside one component are enumerated: at most this many.
MAX_SHARED_RISK_FACTORS = 14
#: Below this, a combination's probability is recomputed with the kernel's exact scaling.
PLAIN_PRODUCT_FLOOR = 1e-280
#: Entries of the table a component's prior is built in (see ``_Schedule``).
MAX_COMPONENT_TABLE = 1 << 23
#: Power-of-two scaling that keeps products in range (exact: only the exponent changes).
_SCALE_BITS = 400
#: Rows per slice of a large batch (bounds the component vectors held at once).
CHUNK_ROWS = 4096
#: Batches smaller than this run on one thread (starting threads costs more than it saves).
PARALLEL_ROWS = 64
#: Component vectors remembered per engine (single queries reuse them).
_CACHE_ENTRIES = 4096


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

    @staticmethod
    def concat(parts: Sequence[Encoded]) -> Encoded:
        return Encoded(
            np.concatenate([p.age for p in parts]),
            np.concatenate([p.risk_factors for p in parts]),
            np.concatenate([p.findings for p in parts]),
        )


@dataclass(frozen=True)
class Result:
    """What the engine computed for each row.

    ``marginals[i, j]`` = P(cause j present | evidence i) in the structure's cause order;
    ``no_listed_cause[i]`` = P(every cause absent | evidence i); ``log_evidence[i]`` =
    log P(evidence i) (``-inf``, with NaN marginals, where the evidence is impossible);
    ``joint`` (only when asked for) is ``(n, A, S)``: P(age, cause state | evidence).
    """

    log_evidence: np.ndarray
    marginals: np.ndarray
    no_listed_cause: np.ndarray
    joint: np.ndarray | None = None

    @property
    def impossible(self) -> np.ndarray:
        return ~np.isfinite(self.log_evidence)


@dataclass(frozen=True)
class _Component:
    """Causes that share risk factors, with what the prior computation needs."""

    positions: np.ndarray  # internal positions of its causes (contiguous)
    risk_factors: np.ndarray  # global risk-factor indices of the component (pattern order)
    shared: np.ndarray  # global indices of risk factors with two or more causes here
    n_parents: np.ndarray  # (Kc,)
    parent_rf: np.ndarray  # (Kc, P): global risk-factor index of each parent (-1 pad)
    parent_shared: np.ndarray  # (Kc, P): position in `shared`, or -1 if private
    cpt_offset: np.ndarray  # (Kc,): start of the cause's table in the flat CPT arrays
    cpt0: np.ndarray  # (G, A, total): P(absent | age, parents) flat
    cpt1: np.ndarray  # (G, A, total): P(present | age, parents) flat
    schedule: _Schedule  # the order in which shared risk factors are summed out

    @property
    def size(self) -> int:
        return 1 << len(self.positions)


@dataclass(frozen=True)
class _Schedule:
    """Summing out a component's shared risk factors as early as possible.

    The component's prior is built cause by cause (cause ``q`` is bit ``q``) as a table
    over (configurations of the *open* shared risk factors, states of the causes so far).
    A shared risk factor opens at the first cause it is a parent of and is summed out
    after the last one, so the table never spans every shared risk factor at once (for
    the nine-cause component: at most 2**7 configurations instead of 2**8 at every step).
    At step ``q`` the *during* set is the open risk factors plus those opening; a
    configuration ``d`` of it maps to ``proj_in[q, d]`` in the table before the step and
    ``proj_out[q, d]`` after the factors closing at ``q`` are summed out.
    """

    n_during: np.ndarray  # (Kc,) size of the during set
    during_shared: np.ndarray  # (Kc, W) shared index of each bit of the during set
    parent_pos: np.ndarray  # (Kc, P) bit of each shared parent in the during set (-1 private)
    new_shared: np.ndarray  # (Kc, W) shared index of each risk factor opening at q (-1 pad)
    new_pos: np.ndarray  # (Kc, W) its bit in the during set
    proj_in: np.ndarray  # (Kc, 2**max during)
    proj_out: np.ndarray  # (Kc, 2**max during)
    n_in: np.ndarray  # (Kc,) configurations of the table before step q
    n_out: np.ndarray  # (Kc,) configurations after step q
    scratch: int  # the largest table, in entries


def _cheapest_order(members: list[int], parents: list[set[str]]) -> list[int]:
    """The order of a component's causes that makes its prior cheapest to build.

    Adding cause ``c`` after the set ``P`` costs about ``2**|during| * 2**|P|`` (see
    :class:`_Schedule`); the cost depends only on ``P`` and ``c``, so a dynamic programme
    over subsets finds the best order (up to 12 causes; beyond, the first-found order).
    """
    n = len(members)
    if n <= 2 or n > 12:
        return members
    order = _best_order(tuple(frozenset(ps) for ps in parents))
    return [members[i] for i in order]


@functools.lru_cache(maxsize=64)
def _best_order(parents: tuple[frozenset[str], ...]) -> tuple[int, ...]:
    """:func:`_cheapest_order` on positions; it depends only on the structure, so every
    rebuild of the same network (uncertainty draws, sensitivity ends) reuses it."""
    n = len(parents)
    shared = {rf for i, ps in enumerate(parents) for rf in ps
              if any(rf in other for j, other in enumerate(parents) if j != i)}
    users = {rf: {i for i, ps in enumerate(parents) if rf in ps} for rf in shared}

    def open_after(placed: int) -> int:
        return sum(1 for u in users.values()
                   if any(placed >> i & 1 for i in u) and not all(placed >> i & 1 for i in u))

    best = {0: (0, [])}
    for placed in range(1 << n):
        if placed not in best:
            continue
        cost, order = best[placed]
        size = len(order)
        was_open = {rf for rf, u in users.items()
                    if any(placed >> i & 1 for i in u) and not all(placed >> i & 1 for i in u)}
        for c in range(n):
            if placed >> c & 1:
                continue
            after = placed | 1 << c
            during = len(was_open | (parents[c] & shared))
            step = (1 << during) * (1 << size) + (1 << open_after(after)) * (2 << size)
            if after not in best or cost + step < best[after][0]:
                best[after] = (cost + step, order + [c])
    return tuple(best[(1 << n) - 1][1])


def _schedule(n_parents: np.ndarray, parent_shared: np.ndarray, n_shared: int) -> _Schedule:
    kc = len(n_parents)
    users = [[q for q in range(kc) for i in range(n_parents[q]) if parent_shared[q, i] == sh]
             for sh in range(n_shared)]
    first = [min(u) for u in users]
    last = [max(u) for u in users]
    during = [[sh for sh in range(n_shared) if first[sh] <= q <= last[sh]] for q in range(kc)]
    open_in = [[sh for sh in during[q] if first[sh] < q] for q in range(kc)]
    open_out = [[sh for sh in during[q] if last[sh] > q] for q in range(kc)]
    width = max([len(d) for d in during] + [0])
    p_width = max(parent_shared.shape[1], 1)
    parent_pos = np.full((kc, p_width), -1, dtype=np.int64)
    new_shared = np.full((kc, max(width, 1)), -1, dtype=np.int64)
    new_pos = np.full((kc, max(width, 1)), -1, dtype=np.int64)
    during_shared = np.full((kc, max(width, 1)), -1, dtype=np.int64)
    proj_in = np.zeros((kc, 1 << width), dtype=np.int64)
    proj_out = np.zeros((kc, 1 << width), dtype=np.int64)
    scratch = 1
    for q in range(kc):
        pos = {sh: b for b, sh in enumerate(during[q])}
        during_shared[q, : len(during[q])] = during[q]
        for i in range(n_parents[q]):
            if parent_shared[q, i] >= 0:
                parent_pos[q, i] = pos[parent_shared[q, i]]
        opening = [sh for sh in during[q] if first[sh] == q]
        new_shared[q, : len(opening)] = opening
        new_pos[q, : len(opening)] = [pos[sh] for sh in opening]
        for d in range(1 << len(during[q])):
            proj_in[q, d] = sum(((d >> pos[sh]) & 1) << b for b, sh in enumerate(open_in[q]))
            proj_out[q, d] = sum(((d >> pos[sh]) & 1) << b for b, sh in enumerate(open_out[q]))
        scratch = max(scratch, (1 << len(open_out[q])) * (2 << q))
    return _Schedule(
        n_during=np.array([len(d) for d in during], dtype=np.int64),
        during_shared=during_shared,
        parent_pos=parent_pos,
        new_shared=new_shared,
        new_pos=new_pos,
        proj_in=proj_in,
        proj_out=proj_out,
        n_in=np.array([1 << len(o) for o in open_in], dtype=np.int64),
        n_out=np.array([1 << len(o) for o in open_out], dtype=np.int64),
        scratch=scratch,
    )


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
        self.structure = structure
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
        self._components = self._build_components(structure, tables)
        fixed = self.n_states * (k + 8 * 8)  # state bits, and a few vectors per thread
        if fixed > BANK_BUDGET_BYTES:
            raise EngineError(
                f"{k} causes need {fixed / 2**20:.0f} MiB for the cause states alone; the limit "
                f"is {BANK_BUDGET_BYTES / 2**20:.0f} MiB"
            )
        self._bits = ((np.arange(self.n_states)[None, :] >> np.arange(k)[:, None]) & 1).astype(bool)
        self._age_prior = np.ascontiguousarray(tables.age, dtype=float)
        r = len(self.risk_factors)
        self._rf0 = np.zeros((self.groups, max(r, 1), self.n_ages))
        self._rf1 = np.zeros((self.groups, max(r, 1), self.n_ages))
        for i, rf in enumerate(self.risk_factors):
            self._rf0[:, i] = tables.risk_factor[rf][:, 0]
            self._rf1[:, i] = tables.risk_factor[rf][:, 1]
        self._build_findings(structure, tables, vectors)
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._vectors: dict[tuple[int, int, int], np.ndarray] = {}
        self._lock = threading.Lock()

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

    def _build_components(self, structure: Structure, tables: Tables) -> list[_Component]:
        causes = list(structure.causes)
        rf_index = {rf: i for i, rf in enumerate(structure.risk_factors)}
        # Union-find over causes that share a risk factor.
        root = list(range(len(causes)))

        def find(i: int) -> int:
            while root[i] != i:
                root[i] = root[root[i]]
                i = root[i]
            return i

        children: dict[str, list[int]] = {}
        for j, c in enumerate(causes):
            for rf in structure.cause_parents[c]:
                children.setdefault(rf, []).append(j)
        for members in children.values():
            for j in members[1:]:
                root[find(j)] = find(members[0])
        groups: dict[int, list[int]] = {}
        for j in range(len(causes)):
            groups.setdefault(find(j), []).append(j)
        ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))  # largest first
        ordered = [_cheapest_order(g, [set(structure.cause_parents[causes[j]]) for j in g])
                   for g in ordered]
        self._internal_order = np.array([j for g in ordered for j in g], dtype=np.int64)
        components = []
        start = 0
        for members in ordered:
            rf_names = [rf for rf in structure.risk_factors
                        if any(rf in structure.cause_parents[causes[j]] for j in members)]
            shared = [rf for rf in rf_names if sum(rf in structure.cause_parents[causes[j]]
                                                   for j in members) >= 2]
            if len(shared) > MAX_SHARED_RISK_FACTORS:
                raise EngineError(
                    f"causes {', '.join(causes[j] for j in members)} share {len(shared)} risk "
                    f"factors; the engine enumerates shared risk factors and allows at most "
                    f"{MAX_SHARED_RISK_FACTORS}"
                )
            width = max([len(structure.cause_parents[causes[j]]) for j in members] + [1])
            n_par = np.zeros(len(members), dtype=np.int64)
            par_rf = np.full((len(members), width), -1, dtype=np.int64)
            par_sh = np.full((len(members), width), -1, dtype=np.int64)
            offsets = np.zeros(len(members), dtype=np.int64)
            tables0, tables1 = [], []
            total = 0
            for q, j in enumerate(members):
                parents = structure.cause_parents[causes[j]]
                n_par[q] = len(parents)
                for i, rf in enumerate(parents):
                    par_rf[q, i] = rf_index[rf]
                    par_sh[q, i] = shared.index(rf) if rf in shared else -1
                offsets[q] = total
                cpt = tables.cause[causes[j]]  # (G, 2, A, 2**n)
                tables0.append(cpt[:, 0])
                tables1.append(cpt[:, 1])
                total += cpt.shape[-1]
            schedule = _schedule(n_par, par_sh, len(shared))
            if schedule.scratch > MAX_COMPONENT_TABLE:
                raise EngineError(
                    f"causes {', '.join(causes[j] for j in members)} need a table of "
                    f"{schedule.scratch:,} entries to sum out their shared risk factors; the "
                    f"limit is {MAX_COMPONENT_TABLE:,}"
                )
            components.append(
                _Component(
                    positions=np.arange(start, start + len(members), dtype=np.int64),
                    risk_factors=np.array([rf_index[rf] for rf in rf_names], dtype=np.int64),
                    shared=np.array([rf_index[rf] for rf in shared], dtype=np.int64),
                    n_parents=n_par,
                    parent_rf=par_rf,
                    parent_shared=par_sh,
                    cpt_offset=offsets,
                    cpt0=np.ascontiguousarray(np.concatenate(tables0, axis=-1)),
                    cpt1=np.ascontiguousarray(np.concatenate(tables1, axis=-1)),
                    schedule=schedule,
                )
            )
            start += len(members)
        return components

    def _build_findings(
        self,
        structure: Structure,
        tables: Tables,
        vectors: Sequence[tuple[str, int, int]] | None,
    ) -> None:
        f_count, a_count, s = len(self.findings), self.n_ages, self.n_states
        position = np.empty(len(self.causes), dtype=np.int64)
        position[self._internal_order] = np.arange(len(self.causes))
        wanted = None if vectors is None else set(vectors)
        vid_of = np.full((f_count, 2, a_count), -1, dtype=np.int64)
        specs: list[tuple[int, int, int]] = []  # (finding index, state, age) per vector
        for fi, f in enumerate(self.findings):
            by_age = structure.finding_by_age.get(f, False)
            # "absent" answers to a noisy-OR finding are folded, never multiplied in as a
            # vector, so only the "present" vector is kept (absent = 1 - present).
            states = (1,) if f in tables.noisy_or else (0, 1)
            for x in states:
                for a in range(a_count):
                    if wanted is not None and (f, x, a) not in wanted:
                        continue
                    if not by_age and a > 0 and vid_of[fi, x, 0] >= 0:
                        vid_of[fi, x, a] = vid_of[fi, x, 0]  # same vector at every age
                        continue
                    vid_of[fi, x, a] = len(specs)
                    specs.append((fi, x, a if by_age else 0))
        # Each finding is applied at the first stage of the Kronecker build that holds all
        # its causes (components are built largest first, at the lowest bits), so its vector
        # has that stage's width: P(f = x | a, s) depends on the low bits of s only.
        sizes = [c.size for c in self._components]
        widths = np.cumprod([1, *sizes])  # width after 0, 1, ... components
        component_of = np.empty(len(self.causes), dtype=np.int64)
        for ci, comp in enumerate(self._components):
            component_of[comp.positions] = ci
        stage = np.zeros(f_count, dtype=np.int64)
        for fi, f in enumerate(self.findings):
            parents = structure.finding_parents[f]
            stage[fi] = max((component_of[position[self.causes.index(c)]] for c in parents), default=0)
        vec_width = np.array([widths[stage[fi] + 1] if len(sizes) else 1 for fi, _, _ in specs], dtype=np.int64)
        vec_offset = np.concatenate([[0], np.cumsum(vec_width)[:-1]]).astype(np.int64) if specs else np.zeros(0, np.int64)
        total = int(vec_width.sum())
        need = self.groups * total * 8 + self._bits.nbytes
        if need > BANK_BUDGET_BYTES:
            raise EngineError(
                f"the finding vectors would take {need / 2**20:.0f} MiB ({len(specs)} vectors "
                f"over up to {s:,} cause states, {self.groups} parameter sets); the limit is "
                f"{BANK_BUDGET_BYTES / 2**20:.0f} MiB"
            )
        bank = np.empty((self.groups, total))
        for v, (fi, x, a) in enumerate(specs):
            f = self.findings[fi]
            width = int(vec_width[v])
            block = bank[:, vec_offset[v] : vec_offset[v] + width]
            factors = tables.noisy_or.get(f)
            if factors is not None:  # straight from the noisy-OR factors (no table needed)
                absent = _noisy_or_stage(factors[:, a], structure.finding_parents[f], position, self.causes, width)
                block[:] = 1.0 - absent if x == 1 else absent
                continue
            idx = np.zeros(width, dtype=np.int64)
            for i, c in enumerate(structure.finding_parents[f]):
                idx |= self._bits[position[self.causes.index(c)], :width].astype(np.int64) << i
            block[:] = tables.finding[f][:, x, a][:, idx]
        self._bank = bank
        self._vid_of = vid_of
        self._vec_offset = vec_offset
        self._vec_width = vec_width
        self._full_bank = wanted is None
        order = np.argsort(stage, kind="stable")
        self._stage_findings = order.astype(np.int64)  # findings by stage
        self._stage_ptr = np.searchsorted(stage[order], np.arange(len(sizes) + 1)).astype(np.int64)
        # Noisy-OR fold: per internal cause position, the factor of "absent"; last = 1 - leak.
        fold = np.ones((self.groups, f_count, a_count, len(self.causes) + 1))
        foldable = np.zeros(f_count, dtype=np.bool_)
        for fi, f in enumerate(self.findings):
            factors = tables.noisy_or.get(f)
            if factors is None:
                continue
            foldable[fi] = True
            parents = structure.finding_parents[f]
            for i, c in enumerate(parents):
                fold[:, fi, :, position[self.causes.index(c)]] = factors[:, :, i]
            fold[:, fi, :, -1] = factors[:, :, len(parents)]
        self._fold = fold
        self._foldable = foldable

    # ------------------------------------------------------------------ querying
    def query(self, rows: Encoded, groups: np.ndarray | None = None, joint: bool = False) -> Result:
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
            return Result(
                np.concatenate([p.log_evidence for p in parts]),
                np.concatenate([p.marginals for p in parts]),
                np.concatenate([p.no_listed_cause for p in parts]),
                np.concatenate([p.joint for p in parts]) if joint else None,
            )
        allowed = np.ones((n, self.n_ages), dtype=np.bool_)
        known = rows.age >= 0
        allowed[known] = False
        allowed[np.flatnonzero(known), rows.age[known]] = True
        self._check_vectors(rows, allowed)
        flat, offsets = self._component_tables(rows, groups, allowed)
        if self.compiled:
            out = _kernel_rows(
                self, rows, groups, allowed, flat, offsets, joint
            )
        else:
            out = _numpy_rows(self, rows, groups, allowed, flat, offsets, joint)
        log_pe, marg_internal, none, joint_arr = out
        marginals = np.empty_like(marg_internal)
        # A certain cause's share can come out 1 ulp above 1 from summation order: clamp.
        marginals[:, self._internal_order] = np.clip(marg_internal, 0.0, 1.0)
        return Result(log_pe, marginals, np.clip(none, 0.0, 1.0), joint_arr if joint else None)

    def _check_vectors(self, rows: Encoded, allowed: np.ndarray) -> None:
        """Every answer that needs a vector must have one (a restricted bank)."""
        if not len(rows) or self._full_bank:
            return
        codes = rows.findings
        for fi in range(len(self.findings)):
            col = codes[:, fi]
            for x in (0, 1):
                hit = col == x
                if x == 0 and self._foldable[fi]:
                    continue
                if hit.any() and (self._vid_of[fi, x][allowed[hit].any(axis=0)] < 0).any():
                    raise EngineError(
                        f"this engine was built without the vector for {self.findings[fi]}={x}"
                    )

    # ------------------------------------------------------------------ component priors
    def _component_tables(
        self, rows: Encoded, groups: np.ndarray, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The prior vector of every component for every (row, allowed age).

        Returns ``flat`` (all vectors one after another) and ``offsets`` ``(n, A, C)``:
        where in ``flat`` the vector of component ``C`` for row ``n`` at age ``a`` starts
        (-1 where the age is not allowed).
        """
        n, a_count = allowed.shape
        chunks: list[np.ndarray] = []
        offsets = np.full((n, a_count, len(self._components)), -1, dtype=np.int64)
        used = 0
        row_idx, age_idx = np.nonzero(allowed)
        for ci, comp in enumerate(self._components):
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

    def _vectors_for(self, ci: int, comp: _Component, keys: np.ndarray, width: int) -> np.ndarray:
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

    def _compute_vectors(self, comp: _Component, keys: np.ndarray, width: int) -> np.ndarray:
        """Component vectors for encoded (group, age, risk-factor pattern) keys."""
        groups, rest = np.divmod(keys, self.n_ages * width)
        ages, codes = np.divmod(rest, width)
        evidence = np.full((len(keys), max(len(self.risk_factors), 1)), -1, dtype=np.int8)
        for rf in comp.risk_factors:
            evidence[:, rf] = (codes % 3) - 1
            codes = codes // 3
        compute = _component_priors_numba if self.compiled else _component_priors_numpy
        return compute(self, comp, groups, ages, evidence)

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
        vid = self._vid_of[fi, x, a]
        if vid < 0 or (x == 0 and self._foldable[fi]):
            if self._foldable[fi]:  # noisy-OR absent: the product of its factors (no 1 - p)
                factors = self._fold[g, fi, a]
                out = np.full(self.n_states, factors[-1])
                for p in range(len(self.causes)):
                    if factors[p] != 1.0:
                        view = out.reshape(self.n_states >> (p + 1), 2, 1 << p)
                        view[:, 1, :] *= factors[p]
                return out
            if x == 1:
                raise EngineError(f"this engine was built without the vector for {self.findings[fi]}=1")
            return 1.0 - self._vector(fi, 1, a, g)
        start, width = self._vec_offset[vid], self._vec_width[vid]
        return np.tile(self._bank[g, start : start + width], self.n_states // width)

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
                    bit = self._bits[j]
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
        marginals[..., self._internal_order] = internal
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
        marginals[:, self._internal_order] = np.clip(internal, 0.0, 1.0)
        marginals[~ok] = np.nan
        none = np.where(ok, np.clip(weight[:, 0] / safe, 0.0, 1.0), np.nan)
        return marginals, none, predictive

    # ------------------------------------------------------------------ sizes
    @property
    def nbytes(self) -> int:
        """Memory held by the engine's arrays (bank, fold, tables), for cache budgets."""
        arrays = [self._bank, self._fold, self._bits, self._rf0, self._rf1]
        arrays += [c.cpt0 for c in self._components] + [c.cpt1 for c in self._components]
        cached = len(self._cache) * max((c.size for c in self._components), default=1) * 8
        cached += len(self._vectors) * self.n_states * 8
        return int(sum(a.nbytes for a in arrays) + cached)


def marginal_sums(weight: np.ndarray) -> np.ndarray:
    """``(m, S)`` weights over cause states to ``(m, K)`` sums over the states with each
    cause present (bit p set): one strided view per cause, no K x S matrix."""
    m, s = weight.shape
    k = s.bit_length() - 1
    out = np.empty((m, k))
    for p in range(k):
        out[:, p] = weight.reshape(m, s >> (p + 1), 2, 1 << p)[:, :, 1, :].sum(axis=(1, 2))
    return out


def _noisy_or_stage(
    factors: np.ndarray, parents: Sequence[str], position: np.ndarray, causes: Sequence[str], width: int
) -> np.ndarray:
    """P(absent | cause state) over the first ``width`` states from noisy-OR factors
    ``(G, n + 1)``: ``(1 - leak)`` times ``(1 - link_j)`` for every parent present."""
    absent = np.repeat(factors[:, -1:], width, axis=1)
    g = absent.shape[0]
    for i, c in enumerate(parents):
        p = int(position[list(causes).index(c)])
        # the states with bit p set, as a strided view: (G, high, bit p, low)
        view = absent.reshape(g, width >> (p + 1), 2, 1 << p)
        view[:, :, 1, :] *= factors[:, i, None, None]
    return absent


# ---------------------------------------------------------------------- numpy path
def _component_priors_numpy(
    engine: CauseSpace, comp: _Component, groups: np.ndarray, ages: np.ndarray, evidence: np.ndarray
) -> np.ndarray:
    """Component prior vectors for each (group, age, risk-factor evidence) row."""
    u = len(groups)
    kc = len(comp.positions)
    out = np.zeros((u, comp.size))
    rf0 = engine._rf0[groups, :, ages]  # (U, R)
    rf1 = engine._rf1[groups, :, ages]
    cpt0 = comp.cpt0[groups, ages]  # (U, total)
    cpt1 = comp.cpt1[groups, ages]
    n_sh = len(comp.shared)
    for cfg in range(1 << n_sh):
        weight = np.ones(u)
        for i, rf in enumerate(comp.shared):
            bit = (cfg >> i) & 1
            e = evidence[:, rf]
            weight *= np.where((e >= 0) & (e != bit), 0.0, rf1[:, rf] if bit else rf0[:, rf])
        if not weight.any():
            continue
        kron = np.ones((u, 1))
        for q in range(kc):
            npar = int(comp.n_parents[q])
            private = [i for i in range(npar) if comp.parent_shared[q, i] < 0]
            g0 = np.zeros(u)
            g1 = np.zeros(u)
            for pcfg in range(1 << len(private)):
                m = 0
                pw = np.ones(u)
                for i in range(npar):
                    sh = comp.parent_shared[q, i]
                    if sh >= 0:
                        bit = (cfg >> sh) & 1
                    else:
                        bit = (pcfg >> private.index(i)) & 1
                        rf = comp.parent_rf[q, i]
                        e = evidence[:, rf]
                        pw = pw * np.where((e >= 0) & (e != bit), 0.0, rf1[:, rf] if bit else rf0[:, rf])
                    m |= bit << i
                g0 += pw * cpt0[:, comp.cpt_offset[q] + m]
                g1 += pw * cpt1[:, comp.cpt_offset[q] + m]
            kron = np.concatenate([kron * g0[:, None], kron * g1[:, None]], axis=1)
        out += weight[:, None] * kron
    return out


def _numpy_rows(engine, rows, groups, allowed, flat, offsets, joint):
    """The reference path: the same numbers as the kernel, vectorised over rows."""
    n, a_count = allowed.shape
    s = engine.n_states
    k = len(engine.causes)
    log_pe = np.full(n, -np.inf)
    marg = np.full((n, k), np.nan)
    none = np.full(n, np.nan)
    joint_out = np.zeros((n, a_count, s)) if joint else None
    if n == 0:
        return log_pe, marg, none, joint_out
    parts = []
    exps = []
    for a in range(a_count):
        rows_a = np.flatnonzero(allowed[:, a])
        v = np.zeros((n, s))
        exponent = np.zeros(n)
        if len(rows_a):
            g = groups[rows_a]
            vec = np.ones((len(rows_a), 1))
            for ci, comp in enumerate(engine._components):
                start = offsets[rows_a, a, ci]
                block = flat[start[:, None] + np.arange(comp.size)[None, :]]
                vec = (block[:, :, None] * vec[:, None, :]).reshape(len(rows_a), -1)
            vec = vec * engine._age_prior[g, a][:, None]
            # fold the absent noisy-OR answers
            absent = (rows.findings[rows_a] == 0) & engine._foldable[None, :]
            factors = np.ones((len(rows_a), k + 1))
            for fi in np.flatnonzero(absent.any(axis=0)):
                hit = absent[:, fi]
                factors[hit] *= engine._fold[g[hit], fi, a]
            weights = np.ones((len(rows_a), s))
            for p in range(k):
                weights = np.where(engine._bits[p][None, :], weights * factors[:, p : p + 1], weights)
            vec = vec * weights * factors[:, k : k + 1]
            scale = np.zeros(len(rows_a))
            for fi in range(len(engine.findings)):
                x = rows.findings[rows_a, fi].astype(np.int64)
                hit = (x == 1) | ((x == 0) & ~engine._foldable[fi])
                if not hit.any():
                    continue
                rows_hit = np.flatnonzero(hit)
                for r in rows_hit:
                    vec[r] = vec[r] * engine.vector(fi, int(x[r]), a, int(g[r]))
                small = vec[hit].sum(axis=1) < 2.0**-_SCALE_BITS  # as the kernel: the sum
                if small.any():
                    which = np.flatnonzero(hit)[small]
                    vec[which] = vec[which] * 2.0**_SCALE_BITS
                    scale[which] += _SCALE_BITS
            v[rows_a] = vec
            exponent[rows_a] = scale
        parts.append(v)
        exps.append(exponent)
    stack = np.stack(parts, axis=1)  # (n, A, S)
    exps = np.stack(exps, axis=1)  # (n, A): stored value = true value * 2**exps
    totals = stack.sum(axis=2)
    possible = allowed & (totals > 0)
    low = np.where(possible, exps, np.inf).min(axis=1)
    low = np.where(np.isfinite(low), low, 0.0)
    factor = np.where(possible, np.exp2(np.clip(low[:, None] - exps, -1100, 0)), 0.0)
    z = (totals * factor).sum(axis=1)
    ok = z > 0
    weighted = stack * factor[:, :, None]
    summed = weighted.sum(axis=1)  # (n, S)
    marg[ok] = marginal_sums(summed[ok]) / z[ok, None]
    none[ok] = summed[ok, 0] / z[ok]
    log_pe[ok] = np.log(z[ok]) - low[ok] * np.log(2.0)
    if joint:
        joint_out[ok] = weighted[ok] / z[ok, None, None]
    return log_pe, marg, none, joint_out


# ---------------------------------------------------------------------- compiled path
def _kernel_rows(engine, rows, groups, allowed, flat, offsets, joint):
    n = len(rows)
    k = len(engine.causes)
    a_count = engine.n_ages
    log_pe = np.empty(n)
    marg = np.empty((n, k))
    none = np.empty(n)
    joint_out = np.zeros((n if joint else 0, a_count, engine.n_states))
    sizes = np.array([c.size for c in engine._components], dtype=np.int64)
    findings = np.ascontiguousarray(rows.findings, dtype=np.int8)
    threads = numba.get_num_threads()
    parallel = threads > 1 and n >= PARALLEL_ROWS
    chunk = max(1, min(256, -(-n // (4 * threads)))) if parallel else max(n, 1)
    kernel = _posterior_parallel if parallel else _posterior_serial
    kernel(
        findings, groups, allowed, flat, offsets, sizes, engine._age_prior, engine._bank,
        engine._vid_of, engine._vec_offset, engine._stage_ptr, engine._stage_findings,
        engine._fold, engine._foldable, k, engine.n_states, chunk,
        bool(joint), log_pe, marg, none, joint_out,
    )
    impossible = ~np.isfinite(log_pe)
    marg[impossible] = np.nan
    none[impossible] = np.nan
    return log_pe, marg, none, joint_out if joint else None


def _component_priors_numba(engine, comp, groups, ages, evidence):
    out = np.zeros((len(groups), comp.size))
    parallel = numba.get_num_threads() > 1 and len(groups) >= PARALLEL_ROWS
    kernel = _component_parallel if parallel else _component_serial
    sch = comp.schedule
    kernel(
        groups.astype(np.int64), ages.astype(np.int64), evidence, engine._rf0, engine._rf1,
        comp.n_parents, comp.parent_rf, comp.parent_shared, comp.cpt_offset,
        comp.cpt0, comp.cpt1, sch.n_during, sch.parent_pos, sch.new_shared, sch.new_pos,
        sch.proj_in, sch.proj_out, sch.n_in, sch.n_out, comp.shared, sch.during_shared,
        max(sch.scratch, comp.size), out,
    )
    return out


if HAVE_NUMBA:

    def _component_row(row, groups, ages, evidence, rf0, rf1, n_parents, parent_rf,
                       parent_shared, cpt_offset, cpt0, cpt1, n_during, parent_pos,
                       new_shared, new_pos, proj_in, proj_out, n_in, n_out, shared,
                       during_shared, table_a, table_b, out):  # pragma: no cover
        """One component vector by summing out shared risk factors early (``_Schedule``)."""
        kc = n_parents.shape[0]
        g = groups[row]
        a = ages[row]
        cur = table_a
        nxt = table_b
        cur[0] = 1.0
        gtab = np.empty((2, 1 << parent_shared.shape[1]))
        for q in range(kc):
            states = 1 << q
            out_width = states << 1
            for t in range(n_out[q] * out_width):
                nxt[t] = 0.0
            npar = n_parents[q]
            # P(cause q absent / present) for each configuration c of its shared parents
            # (in parent order), the private parents summed out against their answers
            n_shp = 0
            for i in range(npar):
                if parent_shared[q, i] >= 0:
                    n_shp += 1
            for c in range(1 << n_shp):
                g0 = 0.0
                g1 = 0.0
                for pcfg in range(1 << (npar - n_shp)):
                    m = 0
                    pw = 1.0
                    ks = 0
                    kp = 0
                    for i in range(npar):
                        if parent_shared[q, i] >= 0:
                            bit = (c >> ks) & 1
                            ks += 1
                        else:
                            bit = (pcfg >> kp) & 1
                            kp += 1
                            rf = parent_rf[q, i]
                            e = evidence[row, rf]
                            if e >= 0 and e != bit:
                                pw = 0.0
                            else:
                                pw *= rf1[g, rf, a] if bit else rf0[g, rf, a]
                        m |= bit << i
                    if pw != 0.0:
                        g0 += pw * cpt0[g, a, cpt_offset[q] + m]
                        g1 += pw * cpt1[g, a, cpt_offset[q] + m]
                gtab[0, c] = g0
                gtab[1, c] = g1
            # configurations of the during set that contradict an answer are skipped
            fixed = 0
            value = 0
            for b in range(n_during[q]):
                e = evidence[row, shared[during_shared[q, b]]]
                if e >= 0:
                    fixed |= 1 << b
                    value |= e << b
            for d in range(1 << n_during[q]):
                if (d & fixed) != value:
                    continue
                weight = 1.0  # the prior of the risk factors opening at q
                for i in range(new_shared.shape[1]):
                    sh = new_shared[q, i]
                    if sh < 0:
                        break
                    rf = shared[sh]
                    weight *= rf1[g, rf, a] if (d >> new_pos[q, i]) & 1 else rf0[g, rf, a]
                c = 0
                ks = 0
                for i in range(npar):
                    if parent_pos[q, i] >= 0:
                        c |= ((d >> parent_pos[q, i]) & 1) << ks
                        ks += 1
                g0 = gtab[0, c] * weight
                g1 = gtab[1, c] * weight
                src = proj_in[q, d] * states
                dst = proj_out[q, d] * out_width
                for t in range(states):
                    val = cur[src + t]
                    nxt[dst + t] += val * g0
                    nxt[dst + states + t] += val * g1
            cur, nxt = nxt, cur
        for t in range(out.shape[1]):
            out[row, t] = cur[t]


    _component_row = numba.njit(cache=True)(_component_row)

    @numba.njit(cache=True)
    def _component_serial(groups, ages, evidence, rf0, rf1, n_parents, parent_rf,
                          parent_shared, cpt_offset, cpt0, cpt1, n_during, parent_pos,
                          new_shared, new_pos, proj_in, proj_out, n_in, n_out, shared,
                          during_shared, scratch, out):  # pragma: no cover
        table_a = np.empty(scratch)
        table_b = np.empty(scratch)
        for row in range(groups.shape[0]):
            _component_row(row, groups, ages, evidence, rf0, rf1, n_parents, parent_rf,
                           parent_shared, cpt_offset, cpt0, cpt1, n_during, parent_pos,
                           new_shared, new_pos, proj_in, proj_out, n_in, n_out, shared,
                           during_shared, table_a, table_b, out)

    @numba.njit(cache=True, parallel=True)
    def _component_parallel(groups, ages, evidence, rf0, rf1, n_parents, parent_rf,
                            parent_shared, cpt_offset, cpt0, cpt1, n_during, parent_pos,
                            new_shared, new_pos, proj_in, proj_out, n_in, n_out, shared,
                            during_shared, scratch, out):  # pragma: no cover
        n = groups.shape[0]
        block = 64
        for b in numba.prange((n + block - 1) // block):
            table_a = np.empty(scratch)
            table_b = np.empty(scratch)
            for row in range(b * block, min(n, (b + 1) * block)):
                _component_row(row, groups, ages, evidence, rf0, rf1, n_parents, parent_rf,
                               parent_shared, cpt_offset, cpt0, cpt1, n_during, parent_pos,
                               new_shared, new_pos, proj_in, proj_out, n_in, n_out, shared,
                               during_shared, table_a, table_b, out)

    def _posterior_chunk(c, findings, groups, allowed, flat, offsets, sizes, age_prior, bank,
                          vid_of, vec_offset, stage_ptr, stage_findings, fold, foldable, k, s,
                          chunk, want_joint, log_pe, marg, none, joint_out):  # pragma: no cover
        n = findings.shape[0]
        a_count = allowed.shape[1]
        n_comp = sizes.shape[0]
        n_find = findings.shape[1]
        boost = 2.0 ** 400
        tiny = 2.0 ** -400
        v = np.empty(s)
        acc = np.empty(s)
        work = np.empty(s)
        factors = np.empty(k + 1)
        exps = np.empty(a_count)  # per age: stored value = true value * 2**exps[a]
        live = np.zeros(a_count, dtype=np.bool_)
        for r in range(c * chunk, min(n, (c + 1) * chunk)):
            g = groups[r]
            have = False
            acc_exp = 0.0
            for a in range(a_count):
                live[a] = False
                if not allowed[r, a]:
                    continue
                # absent noisy-OR answers: one factor per cause; the product of the
                # (1 - leak) terms is kept as mantissa and exponent (it can be tiny)
                for p in range(k + 1):
                    factors[p] = 1.0
                exponent = 0.0
                for f in range(n_find):
                    if findings[r, f] == 0 and foldable[f]:
                        for p in range(k + 1):
                            factors[p] *= fold[g, f, a, p]
                        mant, ex = math.frexp(factors[k])
                        factors[k] = mant
                        exponent -= ex
                # Kronecker product of the component priors, each weighted by its folds;
                # after each component, the answers whose causes it completes
                width = 1
                v[0] = age_prior[g, a] * factors[k]
                pos = 0
                dead = False
                for ci in range(n_comp):
                    start = offsets[r, a, ci]
                    size = sizes[ci]
                    work[0] = 1.0  # fold weights by doubling, then the prior
                    span = 1
                    q = 0
                    while span < size:
                        fq = factors[pos + q]
                        for t in range(span):
                            work[span + t] = work[t] * fq
                        span *= 2
                        q += 1
                    for t in range(size):
                        work[t] *= flat[start + t]
                    # t = 0 last: it overwrites v[0:width] in place, after the others read it
                    for t in range(size - 1, -1, -1):
                        wt = work[t]
                        base = t * width
                        for i in range(width):
                            v[base + i] = v[i] * wt
                    width *= size
                    while size > 1:
                        size >>= 1
                        pos += 1
                    # the sum, not the max, decides scaling: entries are >= 0, so it is 0
                    # only when all are, and sum reductions vectorise (max scans do not)
                    top = 0.0
                    for t in range(width):
                        top += v[t]
                    while 0.0 < top < tiny:
                        for t in range(width):
                            v[t] *= boost
                        top *= boost
                        exponent += 400.0
                    for j in range(stage_ptr[ci], stage_ptr[ci + 1]):
                        f = stage_findings[j]
                        x = findings[r, f]
                        if x < 0 or (x == 0 and foldable[f]):
                            continue
                        off = vec_offset[vid_of[f, x, a]]
                        top = 0.0
                        for t in range(width):
                            val = v[t] * bank[g, off + t]
                            v[t] = val
                            top += val
                        if top == 0.0:
                            dead = True
                            break
                        while top < tiny:
                            for t in range(width):
                                v[t] *= boost
                            top *= boost
                            exponent += 400.0
                    if dead:
                        break
                if dead:
                    continue
                live[a] = True
                exps[a] = exponent
                if want_joint:
                    for t in range(s):
                        joint_out[r, a, t] = v[t]
                # add this age into acc, on the smaller of the two exponents
                if not have:
                    acc, v = v, acc
                    acc_exp = exponent
                    have = True
                elif exponent >= acc_exp:
                    fac = 2.0 ** (acc_exp - exponent)
                    for t in range(s):
                        acc[t] += v[t] * fac
                else:
                    fac = 2.0 ** (exponent - acc_exp)
                    for t in range(s):
                        acc[t] = acc[t] * fac + v[t]
                    acc_exp = exponent
            if not have:  # impossible: marked NaN by the caller
                log_pe[r] = -np.inf
                none[r] = 0.0
                for p in range(k):
                    marg[r, p] = 0.0
                if want_joint:
                    for a in range(a_count):
                        for t in range(s):
                            joint_out[r, a, t] = 0.0
                continue
            # total, marginals (halving sums) and the all-absent state, once for all ages
            # (the top bit's half of acc, then folding halves: about 2 S additions)
            if k == 0:
                total = acc[0]
            else:
                half = s >> 1
                hi_sum = 0.0
                lo_sum = 0.0
                for t in range(half):
                    hi = acc[half + t]
                    lo = acc[t]
                    hi_sum += hi
                    lo_sum += lo
                    work[t] = lo + hi
                marg[r, k - 1] = hi_sum
                total = hi_sum + lo_sum
                for p in range(k - 2, -1, -1):
                    half >>= 1
                    part = 0.0
                    for t in range(half):
                        part += work[half + t]
                        work[t] += work[half + t]
                    marg[r, p] = part
            for p in range(k):
                marg[r, p] /= total
            none[r] = acc[0] / total
            log_pe[r] = np.log(total) - acc_exp * np.log(2.0)
            if want_joint:
                for a in range(a_count):
                    fac = 2.0 ** (acc_exp - exps[a]) / total if live[a] else 0.0
                    for t in range(s):
                        joint_out[r, a, t] *= fac


    # fastmath: sums may be reassociated (results move by ~1e-16) and no value is NaN (the
    # kernel never makes one: impossible rows are marked by log P = -inf and filled in
    # Python), so reductions and max-scans vectorise.
    _FAST = {"reassoc", "contract", "nnan"}
    _posterior_chunk = numba.njit(cache=True, fastmath=_FAST)(_posterior_chunk)

    # Two drivers under two names: numba's disk cache keys compiled code by function name,
    # so one function compiled twice (serial and parallel) would share one cache entry.
    @numba.njit(cache=True, fastmath=_FAST)
    def _posterior_serial(findings, groups, allowed, flat, offsets, sizes, age_prior, bank,
                          vid_of, vec_offset, stage_ptr, stage_findings, fold, foldable, k, s,
                          chunk, want_joint, log_pe, marg, none, joint_out):  # pragma: no cover
        n_chunks = (findings.shape[0] + chunk - 1) // chunk
        for c in range(n_chunks):
            _posterior_chunk(c, findings, groups, allowed, flat, offsets, sizes, age_prior, bank,                           vid_of, vec_offset, stage_ptr, stage_findings, fold, foldable, k, s,                           chunk, want_joint, log_pe, marg, none, joint_out)

    @numba.njit(cache=True, parallel=True, fastmath=_FAST)
    def _posterior_parallel(findings, groups, allowed, flat, offsets, sizes, age_prior, bank,
                          vid_of, vec_offset, stage_ptr, stage_findings, fold, foldable, k, s,
                          chunk, want_joint, log_pe, marg, none, joint_out):  # pragma: no cover
        n_chunks = (findings.shape[0] + chunk - 1) // chunk
        for c in numba.prange(n_chunks):
            _posterior_chunk(c, findings, groups, allowed, flat, offsets, sizes, age_prior, bank,                           vid_of, vec_offset, stage_ptr, stage_findings, fold, foldable, k, s,                           chunk, want_joint, log_pe, marg, none, joint_out)
