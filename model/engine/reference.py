"""The numpy reference: the engine's numbers without numba, vectorised over rows.

Used when numba is missing or ``compiled=False`` is asked for; the tests hold the compiled
kernels (:mod:`toe_twitch.engine.kernels`) to these numbers within 1e-12. It enumerates
plainly (every configuration of a component's shared risk factors; one answer at a time)
where the kernels are clever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from toe_twitch.engine.plan import SCALE_BITS, Component

if TYPE_CHECKING:
    from toe_twitch.engine import CauseSpace, Encoded


def marginal_sums(weight: np.ndarray) -> np.ndarray:
    """``(m, S)`` weights over cause states to ``(m, K)`` sums over the states with each
    cause present (bit p set): one strided view per cause, no K x S matrix."""
    m, s = weight.shape
    k = s.bit_length() - 1
    out = np.empty((m, k))
    for p in range(k):
        out[:, p] = weight.reshape(m, s >> (p + 1), 2, 1 << p)[:, :, 1, :].sum(axis=(1, 2))
    return out



def component_priors(
    engine: CauseSpace, comp: Component, groups: np.ndarray, ages: np.ndarray, evidence: np.ndarray
) -> np.ndarray:
    """Component prior vectors for each (group, age, risk-factor evidence) row: the
    kernel's schedule (shared risk factors summed out after their last cause), vectorised
    over rows."""
    rf0 = engine.rf_absent[groups, :, ages]  # (U, R)
    rf1 = engine.rf_present[groups, :, ages]
    cpt0 = comp.cpt0[groups, ages]  # (U, total)
    cpt1 = comp.cpt1[groups, ages]
    cur = np.ones((len(groups), 1))
    for q in range(len(comp.positions)):
        gtab = _cause_table(comp, q, evidence, rf0, rf1, cpt0, cpt1)
        cur = _cause_step(comp, q, gtab, cur, evidence, rf0, rf1)
    return cur


def _cause_table(comp: Component, q: int, evidence: np.ndarray, rf0: np.ndarray, rf1: np.ndarray,
                 cpt0: np.ndarray, cpt1: np.ndarray) -> np.ndarray:
    """``(U, 2, 2**shared parents)``: P(cause q absent / present | its shared parents),
    its private parents summed out against the answers."""
    npar = int(comp.n_parents[q])
    shared = [i for i in range(npar) if comp.parent_shared[q, i] >= 0]
    private = [i for i in range(npar) if comp.parent_shared[q, i] < 0]
    gtab = np.zeros((len(evidence), 2, 1 << len(shared)))
    for c in range(1 << len(shared)):
        for pcfg in range(1 << len(private)):
            m = 0
            pw = np.ones(len(evidence))
            for k, i in enumerate(shared):
                m |= ((c >> k) & 1) << i
            for k, i in enumerate(private):
                bit = (pcfg >> k) & 1
                rf = comp.parent_rf[q, i]
                e = evidence[:, rf]
                pw = pw * np.where((e >= 0) & (e != bit), 0.0, rf1[:, rf] if bit else rf0[:, rf])
                m |= bit << i
            gtab[:, 0, c] += pw * cpt0[:, comp.cpt_offset[q] + m]
            gtab[:, 1, c] += pw * cpt1[:, comp.cpt_offset[q] + m]
    return gtab


def _cause_step(comp: Component, q: int, gtab: np.ndarray, cur: np.ndarray, evidence: np.ndarray,
                rf0: np.ndarray, rf1: np.ndarray) -> np.ndarray:
    """The table after adding cause ``q`` (see :class:`~toe_twitch.engine.plan.Schedule`)."""
    sch = comp.schedule
    states = 1 << q
    nxt = np.zeros((len(cur), int(sch.n_out[q]) * 2 * states))
    for d in range(1 << int(sch.n_during[q])):
        weight = np.ones(len(cur))
        for b in range(int(sch.n_during[q])):  # rows whose answers contradict d get 0
            e = evidence[:, comp.shared[sch.during_shared[q, b]]]
            weight = np.where((e >= 0) & (e != ((d >> b) & 1)), 0.0, weight)
        for i in range(sch.new_shared.shape[1]):  # the prior of the risk factors opening at q
            sh = sch.new_shared[q, i]
            if sh < 0:
                break
            rf = comp.shared[sh]
            weight = weight * (rf1[:, rf] if (d >> sch.new_pos[q, i]) & 1 else rf0[:, rf])
        c = 0
        k = 0
        for i in range(int(comp.n_parents[q])):
            if sch.parent_pos[q, i] >= 0:
                c |= ((d >> sch.parent_pos[q, i]) & 1) << k
                k += 1
        src = cur[:, sch.proj_in[q, d] * states : (sch.proj_in[q, d] + 1) * states]
        dst = sch.proj_out[q, d] * 2 * states
        nxt[:, dst : dst + states] += src * (gtab[:, 0, c] * weight)[:, None]
        nxt[:, dst + states : dst + 2 * states] += src * (gtab[:, 1, c] * weight)[:, None]
    return nxt


def enumerated_component_priors(
    engine: CauseSpace, comp: Component, groups: np.ndarray, ages: np.ndarray, evidence: np.ndarray
) -> np.ndarray:
    """Component prior vectors by plain enumeration of every configuration of the shared
    risk factors (exponential in their number: for tests on a few rows)."""
    u = len(groups)
    kc = len(comp.positions)
    out = np.zeros((u, comp.size))
    rf0 = engine.rf_absent[groups, :, ages]  # (U, R)
    rf1 = engine.rf_present[groups, :, ages]
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


def posterior_rows(
    engine: CauseSpace, rows: Encoded, groups: np.ndarray, allowed: np.ndarray, flat: np.ndarray,
    offsets: np.ndarray, joint: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The reference path: the same numbers as the kernel, vectorised over rows.

    Returns log P(evidence), marginals (internal cause order), no-listed-cause shares and
    the joint (when asked for); impossible rows have ``-inf`` and NaN."""
    n, a_count = allowed.shape
    s = engine.n_states
    log_pe = np.full(n, -np.inf)
    marg = np.full((n, len(engine.causes)), np.nan)
    none = np.full(n, np.nan)
    joint_out = np.zeros((n, a_count, s)) if joint else None
    if n == 0:
        return log_pe, marg, none, joint_out
    stack = np.zeros((n, a_count, s))
    exps = np.zeros((n, a_count))  # stored value = true value * 2**exps
    for a in range(a_count):
        rows_a = np.flatnonzero(allowed[:, a])
        if len(rows_a):
            stack[rows_a, a], exps[rows_a, a] = _at_age(engine, rows, groups, rows_a, a, flat, offsets)
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


def _at_age(
    engine: CauseSpace, rows: Encoded, groups: np.ndarray, rows_a: np.ndarray, a: int,
    flat: np.ndarray, offsets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """P(age a, cause state, answers) of rows ``rows_a``, scaled, and the scaling exponents."""
    k = len(engine.causes)
    g = groups[rows_a]
    vec = np.ones((len(rows_a), 1))
    for ci, comp in enumerate(engine.components):
        start = offsets[rows_a, a, ci]
        block = flat[start[:, None] + np.arange(comp.size)[None, :]]
        vec = (block[:, :, None] * vec[:, None, :]).reshape(len(rows_a), -1)
    vec = vec * engine.age_prior[g, a][:, None]
    # fold the absent noisy-OR answers
    absent = (rows.findings[rows_a] == 0) & engine.bank.foldable[None, :]
    factors = np.ones((len(rows_a), k + 1))
    for fi in np.flatnonzero(absent.any(axis=0)):
        hit = absent[:, fi]
        factors[hit] *= engine.bank.fold[g[hit], fi, a]
    weights = np.ones((len(rows_a), engine.n_states))
    for p in range(k):
        weights = np.where(engine.bits[p][None, :], weights * factors[:, p : p + 1], weights)
    vec = vec * weights * factors[:, k : k + 1]
    scale = np.zeros(len(rows_a))
    for fi in range(len(engine.findings)):
        x = rows.findings[rows_a, fi].astype(np.int64)
        hit = (x == 1) | ((x == 0) & ~engine.bank.foldable[fi])
        if not hit.any():
            continue
        for r in np.flatnonzero(hit):
            vec[r] = vec[r] * engine.vector(fi, int(x[r]), a, int(g[r]))
        small = vec[hit].sum(axis=1) < 2.0**-SCALE_BITS  # as the kernel: the sum
        if small.any():
            which = np.flatnonzero(hit)[small]
            vec[which] = vec[which] * 2.0**SCALE_BITS
            scale[which] += SCALE_BITS
    return vec, scale
