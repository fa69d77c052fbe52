"""The compiled loops of the engine (numba), one record of arrays per kernel.

Two kernels: the prior of a component (``component_priors``: shared risk factors summed
out in the order of :class:`~toe_twitch.engine.plan.Schedule`) and the posterior of each
row (``posterior_rows``: the Kronecker product of the component priors, the answers'
vectors, the sums). Each takes one record (a ``NamedTuple`` of arrays) instead of two
dozen positional arguments. The numpy reference (:mod:`toe_twitch.engine.reference`)
computes the same numbers.
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import numpy as np

from toe_twitch.engine.plan import SCALE_BITS

try:  # numba is a dependency; the numpy path keeps the project usable without it
    import numba

    HAVE_NUMBA = os.environ.get("TOE_TWITCH_ENGINE", "") != "numpy"
except ImportError:  # pragma: no cover - exercised by the compiled=False tests
    numba = None
    HAVE_NUMBA = False

#: Batches smaller than this run on one thread: waking threads costs more than it saves
#: (a 128-row parameter chunk ran 5-8x slower on 2 threads of a busy 2-core machine).
PARALLEL_ROWS = 512
#: States multiplied per block when several answers' vectors are applied in one pass.
_BLOCK = 512
_BOOST = 2.0**SCALE_BITS
_TINY = 2.0**-SCALE_BITS


class ComponentRecord(NamedTuple):
    """What the component kernel reads (see :class:`~toe_twitch.engine.plan.Component`
    and :class:`~toe_twitch.engine.plan.Schedule`), and ``out`` ``(U, 2**Kc)`` it fills."""

    groups: np.ndarray
    ages: np.ndarray
    evidence: np.ndarray
    rf0: np.ndarray
    rf1: np.ndarray
    n_parents: np.ndarray
    parent_rf: np.ndarray
    parent_shared: np.ndarray
    cpt_offset: np.ndarray
    cpt0: np.ndarray
    cpt1: np.ndarray
    shared: np.ndarray
    n_during: np.ndarray
    during_shared: np.ndarray
    parent_pos: np.ndarray
    new_shared: np.ndarray
    new_pos: np.ndarray
    proj_in: np.ndarray
    proj_out: np.ndarray
    n_out: np.ndarray
    out: np.ndarray


class PosteriorRecord(NamedTuple):
    """What the posterior kernel reads, and the outputs it fills.

    Rows: ``findings`` ``(n, F)``, ``groups`` ``(n,)``, ``allowed`` ``(n, A)`` ages,
    ``flat`` and ``offsets`` ``(n, A, C)`` the component priors. Engine: ``sizes`` of
    the components, ``age_prior`` ``(G, A)``, the finding vectors (``bank``, ``vid_of``,
    ``vec_offset``, by stage ``stage_ptr``/``stage_findings``), the noisy-OR folds
    (``fold``, ``foldable``), ``order`` (internal cause position -> output column).
    Outputs: ``log_pe``, ``marg`` (structure order, clipped to [0, 1]), ``none``,
    ``joint`` (``(n, A, S)``, or ``(0, A, S)`` when not asked for).
    """

    findings: np.ndarray
    groups: np.ndarray
    allowed: np.ndarray
    flat: np.ndarray
    offsets: np.ndarray
    sizes: np.ndarray
    age_prior: np.ndarray
    bank: np.ndarray
    vid_of: np.ndarray
    vec_offset: np.ndarray
    stage_ptr: np.ndarray
    stage_findings: np.ndarray
    fold: np.ndarray
    foldable: np.ndarray
    order: np.ndarray
    log_pe: np.ndarray
    marg: np.ndarray
    none: np.ndarray
    joint: np.ndarray


def posterior_rows(rec: PosteriorRecord, chunk: int, parallel: bool) -> None:
    """Fill the record's outputs, in chunks of ``chunk`` rows (threads when ``parallel``)."""
    (_posterior_parallel if parallel else _posterior_serial)(rec, chunk)


def component_priors(rec: ComponentRecord, scratch: int, parallel: bool) -> None:
    """Fill ``rec.out`` with one component prior per row of ``rec.groups``."""
    (_component_parallel if parallel else _component_serial)(rec, scratch)


def threads() -> int:
    return numba.get_num_threads()


if HAVE_NUMBA:
    # fastmath: sums may be reassociated (results move by ~1e-16) and no value is NaN (the
    # kernel never makes one: impossible rows are marked by log P = -inf), so reductions
    # vectorise.
    _FAST = {"reassoc", "contract", "nnan"}
    # The helpers are inlined into their callers: a call that passes the record would
    # otherwise count every array in it up and down (atomic operations) every time.
    _jit = numba.njit(cache=True, fastmath=_FAST, inline="always")

    # ------------------------------------------------------------------ component priors
    @numba.njit(cache=True)
    def _cause_tables(rec, row, gtab):  # pragma: no cover
        """``gtab[q, x, c]``: P(cause q = x) for each configuration c of its shared parents
        (in parent order), its private parents summed out against the row's answers."""
        g = rec.groups[row]
        a = rec.ages[row]
        for q in range(rec.n_parents.shape[0]):
            npar = rec.n_parents[q]
            n_shp = 0
            for i in range(npar):
                if rec.parent_shared[q, i] >= 0:
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
                        if rec.parent_shared[q, i] >= 0:
                            bit = (c >> ks) & 1
                            ks += 1
                        else:
                            bit = (pcfg >> kp) & 1
                            kp += 1
                            rf = rec.parent_rf[q, i]
                            e = rec.evidence[row, rf]
                            if e >= 0 and e != bit:
                                pw = 0.0
                            else:
                                pw *= rec.rf1[g, rf, a] if bit else rec.rf0[g, rf, a]
                        m |= bit << i
                    if pw != 0.0:
                        g0 += pw * rec.cpt0[g, a, rec.cpt_offset[q] + m]
                        g1 += pw * rec.cpt1[g, a, rec.cpt_offset[q] + m]
                gtab[q, 0, c] = g0
                gtab[q, 1, c] = g1

    @numba.njit(cache=True)
    def _component_row(rec, row, cur, nxt, gtab):  # pragma: no cover
        """One component prior, cause by cause (``Schedule``): cause ``q`` added to the
        table, the shared risk factors whose last cause it is summed out; configurations
        that contradict an answer skipped. (One function: a call per cause would count the
        record's arrays up and down each time.)"""
        g = rec.groups[row]
        a = rec.ages[row]
        _cause_tables(rec, row, gtab)
        cur[0] = 1.0
        for q in range(rec.n_parents.shape[0]):
            states = 1 << q
            for t in range(rec.n_out[q] * 2 * states):
                nxt[t] = 0.0
            fixed = 0
            value = 0
            for b in range(rec.n_during[q]):
                e = rec.evidence[row, rec.shared[rec.during_shared[q, b]]]
                if e >= 0:
                    fixed |= 1 << b
                    value |= e << b
            for d in range(1 << rec.n_during[q]):
                if (d & fixed) != value:
                    continue
                weight = 1.0  # the prior of the risk factors opening at q
                for i in range(rec.new_shared.shape[1]):
                    sh = rec.new_shared[q, i]
                    if sh < 0:
                        break
                    rf = rec.shared[sh]
                    weight *= rec.rf1[g, rf, a] if (d >> rec.new_pos[q, i]) & 1 else rec.rf0[g, rf, a]
                c = 0
                ks = 0
                for i in range(rec.n_parents[q]):
                    if rec.parent_pos[q, i] >= 0:
                        c |= ((d >> rec.parent_pos[q, i]) & 1) << ks
                        ks += 1
                g0 = gtab[q, 0, c] * weight
                g1 = gtab[q, 1, c] * weight
                src = rec.proj_in[q, d] * states
                dst = rec.proj_out[q, d] * 2 * states
                for t in range(states):
                    val = cur[src + t]
                    nxt[dst + t] += val * g0
                    nxt[dst + states + t] += val * g1
            cur, nxt = nxt, cur
        for t in range(rec.out.shape[1]):
            rec.out[row, t] = cur[t]

    @numba.njit(cache=True)
    def _component_serial(rec, scratch):  # pragma: no cover
        table_a = np.empty(scratch)
        table_b = np.empty(scratch)
        gtab = np.empty((rec.n_parents.shape[0], 2, 1 << rec.parent_shared.shape[1]))
        for row in range(rec.groups.shape[0]):
            _component_row(rec, row, table_a, table_b, gtab)

    @numba.njit(cache=True, parallel=True)
    def _component_parallel(rec, scratch):  # pragma: no cover
        n = rec.groups.shape[0]
        block = 64
        for b in numba.prange((n + block - 1) // block):
            table_a = np.empty(scratch)
            table_b = np.empty(scratch)
            gtab = np.empty((rec.n_parents.shape[0], 2, 1 << rec.parent_shared.shape[1]))
            for row in range(b * block, min(n, (b + 1) * block)):
                _component_row(rec, row, table_a, table_b, gtab)

    # ------------------------------------------------------------------ posterior
    @_jit
    def _fold_factors(rec, r, a, factors):  # pragma: no cover
        """The absent noisy-OR answers as one factor per cause (and ``1 - leak`` last, as
        mantissa: the returned exponent says ``stored = true * 2**exponent``)."""
        g = rec.groups[r]
        k = factors.shape[0] - 1
        for p in range(k + 1):
            factors[p] = 1.0
        exponent = 0.0
        for f in range(rec.findings.shape[1]):
            if rec.findings[r, f] == 0 and rec.foldable[f]:
                for p in range(k + 1):
                    factors[p] *= rec.fold[g, f, a, p]
                mant, ex = math.frexp(factors[k])
                factors[k] = mant
                exponent -= ex
        return exponent

    @_jit
    def _expand(rec, r, a, ci, pos, factors, v, width, work):  # pragma: no cover
        """``v`` (``width`` states) times component ``ci``'s prior weighted by its causes'
        fold factors, as a Kronecker product in place; returns that prior's sum."""
        start = rec.offsets[r, a, ci]
        size = rec.sizes[ci]
        work[0] = 1.0  # fold weights by doubling, then the prior
        span = 1
        q = 0
        while span < size:
            fq = factors[pos + q]
            for t in range(span):
                work[span + t] = work[t] * fq
            span *= 2
            q += 1
        wsum = 0.0
        for t in range(size):
            w = work[t] * rec.flat[start + t]
            work[t] = w
            wsum += w
        # t = 0 last: it overwrites v[0:width] in place, after the others read it
        for t in range(size - 1, -1, -1):
            wt = work[t]
            base = t * width
            for i in range(width):
                v[base + i] = v[i] * wt
        return wsum

    @_jit
    def _stage_vectors(rec, r, a, ci, offs):  # pragma: no cover
        """Where in the bank the vectors of row ``r``'s answers applied at stage ``ci`` start."""
        m = 0
        for j in range(rec.stage_ptr[ci], rec.stage_ptr[ci + 1]):
            f = rec.stage_findings[j]
            x = rec.findings[r, f]
            if x < 0 or (x == 0 and rec.foldable[f]):
                continue
            offs[m] = rec.vec_offset[rec.vid_of[f, x, a]]
            m += 1
        return m

    @_jit
    def _multiply(bank, offs, m, v, width):  # pragma: no cover
        """``v`` times ``m`` vectors in place, block by block (the block stays in the
        fastest cache while every vector passes over it); returns the sum."""
        total = 0.0
        for t0 in range(0, width, _BLOCK):
            t1 = min(width, t0 + _BLOCK)
            for i in range(m):
                o = offs[i]
                for t in range(t0, t1):
                    v[t] *= bank[o + t]
            for t in range(t0, t1):
                total += v[t]
        return total

    @_jit
    def _multiply_scaled(bank, offs, m, v, width):  # pragma: no cover
        """``v`` times ``m`` vectors one at a time, rescaled after each so nothing leaves
        the range of a double; returns the added exponent, or -1 if the product is 0."""
        exponent = 0.0
        for i in range(m):
            o = offs[i]
            top = 0.0
            for t in range(width):
                val = v[t] * bank[o + t]
                v[t] = val
                top += val
            if top == 0.0:
                return -1.0
            while top < _TINY:
                for t in range(width):
                    v[t] *= _BOOST
                top *= _BOOST
                exponent += SCALE_BITS
        return exponent

    @_jit
    def _rescale(v, width, top):  # pragma: no cover
        """Scale ``v`` by powers of two until its sum ``top`` is at least 2**-SCALE_BITS."""
        exponent = 0.0
        while 0.0 < top < _TINY:
            for t in range(width):
                v[t] *= _BOOST
            top *= _BOOST
            exponent += SCALE_BITS
        return exponent, top

    @_jit
    def _row_at_age(rec, r, a, v, work, factors, offs, careful):  # pragma: no cover
        """P(age a, cause state, answers of row r) into ``v``, scaled: returns (status,
        exponent), status 1 possible, 0 impossible, -1 to be redone ``careful``. Stage by
        stage: the Kronecker product with the next component, then every answer whose
        causes that component completes, all in one pass; if that product's sum falls
        below ``2**-SCALE_BITS`` (entries may have left the range of a double) the row is
        redone ``careful``: one answer at a time, rescaled after each."""
        g = rec.groups[r]
        exponent = _fold_factors(rec, r, a, factors)
        v[0] = rec.age_prior[g, a] * factors[factors.shape[0] - 1]
        top = v[0]
        width = 1
        pos = 0
        bank = rec.bank[g]
        for ci in range(rec.sizes.shape[0]):
            top *= _expand(rec, r, a, ci, pos, factors, v, width, work)
            size = rec.sizes[ci]
            width *= size
            while size > 1:
                size >>= 1
                pos += 1
            if top == 0.0:
                return 0, exponent
            more, top = _rescale(v, width, top)
            exponent += more
            m = _stage_vectors(rec, r, a, ci, offs)
            if m == 0:
                continue
            if not careful:
                top = _multiply(bank, offs, m, v, width)
                if top < _TINY:  # some entries may have left the range of a double
                    return -1, exponent
                continue
            more = _multiply_scaled(bank, offs, m, v, width)
            if more < 0.0:
                return 0, exponent
            exponent += more
            top = 0.0
            for t in range(width):
                top += v[t]
        return 1, exponent

    @_jit
    def _finish_row(rec, r, acc, acc_exp, spare):  # pragma: no cover
        """Total, marginals (halving sums) and the all-absent share from ``acc``."""
        k = rec.order.shape[0]
        s = acc.shape[0]
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
                spare[t] = lo + hi
            rec.marg[r, rec.order[k - 1]] = hi_sum
            total = hi_sum + lo_sum
            for p in range(k - 2, -1, -1):
                half >>= 1
                part = 0.0
                for t in range(half):
                    part += spare[half + t]
                    spare[t] += spare[half + t]
                rec.marg[r, rec.order[p]] = part
        for p in range(k):  # a certain cause can come out 1 ulp above 1: clamp
            rec.marg[r, p] = min(max(rec.marg[r, p] / total, 0.0), 1.0)
        rec.none[r] = min(max(acc[0] / total, 0.0), 1.0)
        rec.log_pe[r] = np.log(total) - acc_exp * np.log(2.0)
        return total

    @_jit
    def _impossible_row(rec, r):  # pragma: no cover
        """P(evidence) = 0: ``log_pe = -inf`` (the caller marks the numbers NaN)."""
        rec.log_pe[r] = -np.inf
        rec.none[r] = 0.0
        for p in range(rec.marg.shape[1]):
            rec.marg[r, p] = 0.0
        if rec.joint.shape[0]:
            rec.joint[r] = 0.0

    @_jit
    def _posterior_row(rec, r, bufs, factors, offs, exps, live):  # pragma: no cover
        """One row: every allowed age, added on the smaller exponent, then the sums."""
        want_joint = rec.joint.shape[0] > 0
        left = 0
        for a in range(rec.allowed.shape[1]):
            left += rec.allowed[r, a]
        acc = bufs[2]
        have = False
        acc_exp = 0.0
        for a in range(rec.allowed.shape[1]):
            live[a] = False
            if not rec.allowed[r, a]:
                continue
            left -= 1
            res = bufs[0]
            status, exponent = _row_at_age(rec, r, a, res, bufs[1], factors, offs, False)
            if status < 0:
                status, exponent = _row_at_age(rec, r, a, res, bufs[1], factors, offs, True)
            if status == 0:
                continue
            exps[a] = exponent
            live[a] = True
            if want_joint:
                rec.joint[r, a] = res
            if not have:
                acc_exp = exponent
                have = True
                if left == 0:  # the only age: no copy
                    acc = res
                else:
                    acc[:] = res
            elif exponent >= acc_exp:
                fac = 2.0 ** (acc_exp - exponent)
                for t in range(acc.shape[0]):
                    acc[t] += res[t] * fac
            else:
                fac = 2.0 ** (exponent - acc_exp)
                for t in range(acc.shape[0]):
                    acc[t] = acc[t] * fac + res[t]
                acc_exp = exponent
        if not have:
            _impossible_row(rec, r)
            return
        total = _finish_row(rec, r, acc, acc_exp, bufs[3])
        if want_joint:
            for a in range(rec.allowed.shape[1]):
                fac = 2.0 ** (acc_exp - exps[a]) / total if live[a] else 0.0
                for t in range(acc.shape[0]):
                    rec.joint[r, a, t] *= fac

    @numba.njit(cache=True, fastmath=_FAST)
    def _posterior_chunk(rec, c, chunk):  # pragma: no cover
        s = rec.joint.shape[2]
        bufs = np.empty((4, s))
        factors = np.empty(rec.order.shape[0] + 1)
        offs = np.empty(rec.findings.shape[1], dtype=np.int64)
        exps = np.empty(rec.allowed.shape[1])
        live = np.zeros(rec.allowed.shape[1], dtype=np.bool_)
        for r in range(c * chunk, min(rec.findings.shape[0], (c + 1) * chunk)):
            _posterior_row(rec, r, bufs, factors, offs, exps, live)

    # Two drivers under two names: numba's disk cache keys compiled code by function name,
    # so one function compiled twice (serial and parallel) would share one cache entry.
    @numba.njit(cache=True, fastmath=_FAST)
    def _posterior_serial(rec, chunk):  # pragma: no cover
        for c in range((rec.findings.shape[0] + chunk - 1) // chunk):
            _posterior_chunk(rec, c, chunk)

    @numba.njit(cache=True, parallel=True, fastmath=_FAST)
    def _posterior_parallel(rec, chunk):  # pragma: no cover
        for c in numba.prange((rec.findings.shape[0] + chunk - 1) // chunk):
            _posterior_chunk(rec, c, chunk)
