"""The engine's plan: which causes form components, in which order they are built, and
where each answer's vector is applied (see the derivation in :mod:`toe_twitch.engine`).

Everything here depends on the structure and the tables only, never on a query: it is
built once per :class:`~toe_twitch.engine.CauseSpace`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toe_twitch.errors import EngineError
from toe_twitch.network import Structure, Tables

#: Risk factors shared inside one component are enumerated: at most this many.
MAX_SHARED_RISK_FACTORS = 14
#: Entries of the table a component's prior is built in (see ``Schedule``).
MAX_COMPONENT_TABLE = 1 << 23
#: Power-of-two scaling that keeps products in range (exact: only the exponent changes):
#: a vector whose sum falls below ``2**-SCALE_BITS`` is multiplied by ``2**SCALE_BITS``.
SCALE_BITS = 400
#: Components are put in the cheapest order by trying every order up to this many.
_MAX_ORDERED_COMPONENTS = 7


@dataclass(frozen=True)
class Schedule:
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
    n_out: np.ndarray  # (Kc,) configurations after step q
    scratch: int  # the largest table, in entries


@dataclass(frozen=True)
class Component:
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
    schedule: Schedule  # the order in which shared risk factors are summed out

    @property
    def size(self) -> int:
        return 1 << len(self.positions)



def cheapest_order(members: list[int], parents: list[set[str]]) -> list[int]:
    """The order of a component's causes that makes its prior cheapest to build.

    Adding cause ``c`` after the set ``P`` costs about ``2**|during| * 2**|P|`` (see
    :class:`Schedule`); the cost depends only on ``P`` and ``c``, so a dynamic programme
    over subsets finds the best order (up to 12 causes; beyond, the first-found order).
    """
    n = len(members)
    if n <= 2 or n > 12:
        return members
    order = _best_order(tuple(frozenset(ps) for ps in parents))
    return [members[i] for i in order]


@functools.lru_cache(maxsize=64)
def _best_order(parents: tuple[frozenset[str], ...]) -> tuple[int, ...]:
    """:func:`cheapest_order` on positions; it depends only on the structure, so every
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


def schedule(n_parents: np.ndarray, parent_shared: np.ndarray, n_shared: int) -> Schedule:
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
    return Schedule(
        n_during=np.array([len(d) for d in during], dtype=np.int64),
        during_shared=during_shared,
        parent_pos=parent_pos,
        new_shared=new_shared,
        new_pos=new_pos,
        proj_in=proj_in,
        proj_out=proj_out,
        n_out=np.array([1 << len(o) for o in open_out], dtype=np.int64),
        scratch=scratch,
    )


def noisy_or_stage(
    factors: np.ndarray, parents: Sequence[str], position: np.ndarray, causes: Sequence[str], width: int
) -> np.ndarray:
    """P(absent | cause state) over the first ``width`` states from noisy-OR factors
    ``(G, n + 1)``: ``(1 - leak)`` times ``(1 - link_j)`` for every parent present, built
    by doubling (the states with bit ``p`` set are those without it, times its factor)."""
    per_bit = np.ones((factors.shape[0], width.bit_length() - 1))
    for i, c in enumerate(parents):
        per_bit[:, int(position[list(causes).index(c)])] = factors[:, i]
    absent = np.empty((factors.shape[0], width))
    absent[:, 0] = factors[:, -1]
    span = 1
    for p in range(per_bit.shape[1]):
        np.multiply(absent[:, :span], per_bit[:, p : p + 1], out=absent[:, span : 2 * span])
        span *= 2
    return absent




def _groups_of_causes(structure: Structure) -> list[list[int]]:
    """Causes that share a risk factor, transitively (union-find), largest group first."""
    causes = list(structure.causes)
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
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def component_order(structure: Structure, groups: list[list[int]]) -> list[list[int]]:
    """The order of the components in the Kronecker build that makes the answers cheapest.

    An answer's vector is applied once every component holding one of its causes is in,
    over the states built so far; the cost of an order is the sum of those widths over
    the findings (each finding counted once). Every order is tried up to
    ``_MAX_ORDERED_COMPONENTS`` components (largest first breaks ties); beyond, largest first.
    """
    if not 2 < len(groups) <= _MAX_ORDERED_COMPONENTS:
        return groups
    where = {j: gi for gi, g in enumerate(groups) for j in g}
    index = {c: j for j, c in enumerate(structure.causes)}
    needs = [{where[index[c]] for c in structure.finding_parents[f]} for f in structure.findings]

    def cost(order: tuple[int, ...]) -> int:
        rank = {gi: i for i, gi in enumerate(order)}
        widths = np.cumprod([1 << len(groups[gi]) for gi in order])
        return sum(int(widths[max(rank[gi] for gi in need)]) for need in needs if need)

    best = min(itertools.permutations(range(len(groups))), key=cost)
    return [groups[gi] for gi in best]


def _component(structure: Structure, tables: Tables, members: list[int], start: int) -> Component:
    causes = list(structure.causes)
    rf_index = {rf: i for i, rf in enumerate(structure.risk_factors)}
    parents_of = [structure.cause_parents[causes[j]] for j in members]
    rf_names = [rf for rf in structure.risk_factors if any(rf in ps for ps in parents_of)]
    shared = [rf for rf in rf_names if sum(rf in ps for ps in parents_of) >= 2]
    names = ", ".join(causes[j] for j in members)
    if len(shared) > MAX_SHARED_RISK_FACTORS:
        raise EngineError(
            f"causes {names} share {len(shared)} risk factors; the engine enumerates shared risk "
            f"factors and allows at most {MAX_SHARED_RISK_FACTORS}"
        )
    width = max([len(ps) for ps in parents_of] + [1])
    n_par = np.array([len(ps) for ps in parents_of], dtype=np.int64)
    par_rf = np.full((len(members), width), -1, dtype=np.int64)
    par_sh = np.full((len(members), width), -1, dtype=np.int64)
    for q, parents in enumerate(parents_of):
        for i, rf in enumerate(parents):
            par_rf[q, i] = rf_index[rf]
            par_sh[q, i] = shared.index(rf) if rf in shared else -1
    cpts = [tables.cause[causes[j]] for j in members]  # (G, 2, A, 2**n) each
    offsets = np.cumsum([0] + [c.shape[-1] for c in cpts[:-1]]).astype(np.int64)
    plan = schedule(n_par, par_sh, len(shared))
    if plan.scratch > MAX_COMPONENT_TABLE:
        raise EngineError(
            f"causes {names} need a table of {plan.scratch:,} entries to sum out their shared "
            f"risk factors; the limit is {MAX_COMPONENT_TABLE:,}"
        )
    return Component(
        positions=np.arange(start, start + len(members), dtype=np.int64),
        risk_factors=np.array([rf_index[rf] for rf in rf_names], dtype=np.int64),
        shared=np.array([rf_index[rf] for rf in shared], dtype=np.int64),
        n_parents=n_par,
        parent_rf=par_rf,
        parent_shared=par_sh,
        cpt_offset=offsets,
        cpt0=np.ascontiguousarray(np.concatenate([c[:, 0] for c in cpts], axis=-1)),
        cpt1=np.ascontiguousarray(np.concatenate([c[:, 1] for c in cpts], axis=-1)),
        schedule=plan,
    )


def build_components(structure: Structure, tables: Tables) -> tuple[list[Component], np.ndarray]:
    """The components in build order, and the internal cause order (``order[p]`` = the
    structure's index of the cause at internal position ``p``; a component's causes are
    contiguous, in their cheapest order)."""
    causes = list(structure.causes)
    groups = component_order(structure, _groups_of_causes(structure))
    groups = [cheapest_order(g, [set(structure.cause_parents[causes[j]]) for j in g]) for g in groups]
    components = []
    start = 0
    for members in groups:
        components.append(_component(structure, tables, members, start))
        start += len(members)
    return components, np.array([j for g in groups for j in g], dtype=np.int64)


@dataclass(frozen=True)
class FindingBank:
    """The answers' vectors and where each is applied.

    ``bank[g, vec_offset[v] : + vec_width[v]]`` is vector ``v`` of parameter set ``g``:
    P(finding = x | age, cause state) over the states built when it is applied (a
    finding's vector is applied at the first stage, ``stage``, whose components hold all
    its causes; the states are the low bits). ``vid_of[f, x, a]`` is the vector of
    finding ``f`` in state ``x`` at age ``a`` (-1: not built; noisy-OR "absent" answers
    are folded instead: ``fold[g, f, a, p]`` is the factor of internal cause ``p``, the
    last entry ``1 - leak``). ``stage_findings`` lists the findings by stage, stage ``c``
    from ``stage_ptr[c]``.
    """

    bank: np.ndarray
    vid_of: np.ndarray
    vec_offset: np.ndarray
    vec_width: np.ndarray
    full: bool
    stage_findings: np.ndarray
    stage_ptr: np.ndarray
    fold: np.ndarray
    foldable: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.bank.nbytes + self.fold.nbytes)


def _vector_specs(
    structure: Structure, tables: Tables, n_ages: int, vectors: Sequence[tuple[str, int, int]] | None
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Which vectors to build: ``vid_of`` and ``(finding, state, age)`` per vector."""
    wanted = None if vectors is None else set(vectors)
    vid_of = np.full((len(structure.findings), 2, n_ages), -1, dtype=np.int64)
    specs: list[tuple[int, int, int]] = []
    for fi, f in enumerate(structure.findings):
        by_age = structure.finding_by_age.get(f, False)
        # "absent" answers to a noisy-OR finding are folded, never multiplied in as a
        # vector, so only the "present" vector is kept (absent = 1 - present).
        for x in (1,) if f in tables.noisy_or else (0, 1):
            for a in range(n_ages):
                if wanted is not None and (f, x, a) not in wanted:
                    continue
                if not by_age and a > 0 and vid_of[fi, x, 0] >= 0:
                    vid_of[fi, x, a] = vid_of[fi, x, 0]  # same vector at every age
                    continue
                vid_of[fi, x, a] = len(specs)
                specs.append((fi, x, a if by_age else 0))
    return vid_of, specs


def _folds(structure: Structure, tables: Tables, position: np.ndarray, n_ages: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy-OR folds: per internal cause position, the factor of "absent"; last = 1 - leak."""
    causes = list(structure.causes)
    fold = np.ones((tables.batch, len(structure.findings), n_ages, len(causes) + 1))
    foldable = np.zeros(len(structure.findings), dtype=np.bool_)
    for fi, f in enumerate(structure.findings):
        factors = tables.noisy_or.get(f)
        if factors is None:
            continue
        foldable[fi] = True
        parents = structure.finding_parents[f]
        for i, c in enumerate(parents):
            fold[:, fi, :, position[causes.index(c)]] = factors[:, :, i]
        fold[:, fi, :, -1] = factors[:, :, len(parents)]
    return fold, foldable


def build_bank(
    structure: Structure,
    tables: Tables,
    components: list[Component],
    order: np.ndarray,
    n_ages: int,
    vectors: Sequence[tuple[str, int, int]] | None,
    budget: int,
) -> FindingBank:
    """Every vector the queries may need (``vectors``: only those; ``None``: all)."""
    causes = list(structure.causes)
    position = np.empty(len(causes), dtype=np.int64)
    position[order] = np.arange(len(causes))
    vid_of, specs = _vector_specs(structure, tables, n_ages, vectors)
    sizes = [c.size for c in components]
    widths = np.cumprod([1, *sizes])  # width after 0, 1, ... components
    component_of = np.empty(len(causes), dtype=np.int64)
    for ci, comp in enumerate(components):
        component_of[comp.positions] = ci
    stage = np.array([max((component_of[position[causes.index(c)]] for c in structure.finding_parents[f]),
                          default=0) for f in structure.findings], dtype=np.int64)
    vec_width = np.array([widths[stage[fi] + 1] if sizes else 1 for fi, _, _ in specs], dtype=np.int64)
    vec_offset = np.concatenate([[0], np.cumsum(vec_width)[:-1]]).astype(np.int64) if specs else np.zeros(0, np.int64)
    need = tables.batch * int(vec_width.sum()) * 8
    if need > budget:
        raise EngineError(
            f"the finding vectors would take {need / 2**20:.0f} MiB ({len(specs)} vectors over up to "
            f"{1 << len(causes):,} cause states, {tables.batch} parameter sets); the limit is "
            f"{budget / 2**20:.0f} MiB"
        )
    bank = np.empty((tables.batch, int(vec_width.sum())))
    bits = (np.arange(int(widths[-1]))[None, :] >> np.arange(len(causes))[:, None]) & 1
    for v, (fi, x, a) in enumerate(specs):
        f = structure.findings[fi]
        block = bank[:, vec_offset[v] : vec_offset[v] + vec_width[v]]
        factors = tables.noisy_or.get(f)
        if factors is not None:  # straight from the noisy-OR factors (no table needed)
            absent = noisy_or_stage(factors[:, a], structure.finding_parents[f], position, causes, int(vec_width[v]))
            block[:] = 1.0 - absent if x == 1 else absent
            continue
        idx = np.zeros(int(vec_width[v]), dtype=np.int64)
        for i, c in enumerate(structure.finding_parents[f]):
            idx |= bits[position[causes.index(c)], : vec_width[v]] << i
        block[:] = tables.finding[f][:, x, a][:, idx]
    by_stage = np.argsort(stage, kind="stable")
    fold, foldable = _folds(structure, tables, position, n_ages)
    return FindingBank(
        bank=bank, vid_of=vid_of, vec_offset=vec_offset, vec_width=vec_width, full=vectors is None,
        stage_findings=by_stage.astype(np.int64),
        stage_ptr=np.searchsorted(stage[by_stage], np.arange(len(sizes) + 1)).astype(np.int64),
        fold=fold, foldable=foldable,
    )
