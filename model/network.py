"""From priors to tables: the network structure and every CPT, derived, never typed.

* ``age_group`` is a root: the age distribution of the general population.
* Each risk factor is a binary child of ``age_group`` (its prevalence by age group).
* Each cause is a binary child of ``age_group`` and its risk factors, with a logistic
  CPT: ``logit P(present | age, r) = b[age] + sum_k log(OR_k) r_k``. The baseline ``b``
  is solved so that the *marginal* prevalence in each age group equals the prevalence in
  the priors file: a clinician's "prevalence" keeps its ordinary meaning.
* Each finding (the twitching itself included) is a leaky noisy-OR child of the causes
  that produce it: ``P(absent | age, causes) = (1 - leak[age]) * prod over present
  causes of (1 - link[age])``. A finding whose leak or links are given by age group has
  ``age_group`` as a parent too.
* A *property of the twitching* (it has lasted two weeks, it comes as you fall asleep,
  it comes during sleep) is not an independent symptom: it belongs to whichever cause
  produces the twitching. Its links ``r_c`` are the chance that twitching from cause
  ``c`` has the property (its leak ``r_0``: twitching with no listed cause behind it; a
  cause without a link of its own counts as ``r_0``). With ``t_c`` the twitching's own
  links, both are noisy-ORs over the same causes::

      P(property | twitching, causes) = P(twitching with the property | causes)
                                        / P(twitching | causes)
      P(twitching with the property | causes) = 1 - (1 - t_0 r_0) prod (1 - t_c r_c)

  so persistence points to the causes that make *persistent twitching*, not to any
  long-lasting condition a person happens to have. In the network the property is a
  child of the twitching and of its causes.

All builders are vectorised over a leading batch of parameter vectors, so a sensitivity
sweep or a thousand uncertainty draws build their tables in one go. Tables are kept in
one canonical layout (:class:`Tables`): a CPT over binary parents is indexed by
``m = sum_i x_i 2**i`` (parent ``i`` is bit ``i``), with age on its own axis.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from toe_twitch.errors import PriorsError, Problem
from toe_twitch.priors import AGE_FINDING, AGE_STATES, ParameterRef, PriorsFile, iter_parameters
from toe_twitch.vocabulary import BINARY_STATES, CAUSE_STATES, Vocabulary


@dataclass(frozen=True)
class Structure:
    """Who is whose parent, and where each parameter sits in the flat vector.

    ``findings`` are the children of causes (every symptom, sign and red flag, and the
    implicit twitching); ``risk_factors`` are the parents of causes. ``finding_by_age``
    says whether a finding's table depends on age (it has ``age_group`` as a parent).
    A structure read from a network file has no parameters.
    """

    age_states: tuple[str, ...]
    risk_factors: tuple[str, ...]
    causes: tuple[str, ...]
    cause_parents: dict[str, tuple[str, ...]]
    findings: tuple[str, ...]
    finding_parents: dict[str, tuple[str, ...]]
    finding_by_age: dict[str, bool]
    #: Each property of the twitching and the twitching finding it describes.
    property_of: dict[str, str] = field(default_factory=dict)
    parameters: tuple[ParameterRef, ...] = ()
    index: dict[str, int] = field(default_factory=dict)

    @property
    def variables(self) -> tuple[str, ...]:
        """All nodes, parents before children."""
        age = (AGE_FINDING,) if self.age_states else ()
        return (*age, *self.risk_factors, *self.causes, *self.findings)

    def states(self, variable: str) -> tuple[str, ...]:
        if variable == AGE_FINDING:
            return self.age_states
        if variable in self.causes:
            return CAUSE_STATES
        return BINARY_STATES

    def parents(self, variable: str) -> tuple[str, ...]:
        """Parents in the order of the CPT's parent axes (age first where it is one)."""
        age = (AGE_FINDING,) if self.age_states else ()
        if variable == AGE_FINDING:
            return ()
        if variable in self.risk_factors:
            return age
        if variable in self.cause_parents:
            return (*age, *self.cause_parents[variable])
        by_age = age if self.finding_by_age.get(variable) else ()
        twitching = (self.property_of[variable],) if variable in self.property_of else ()
        return (*by_age, *twitching, *self.finding_parents[variable])

    def values(self) -> np.ndarray:
        return np.array([p.value for p in self.parameters])

    def ranges(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.array([p.low for p in self.parameters]),
            np.array([p.high for p in self.parameters]),
        )


@dataclass(frozen=True)
class Tables:
    """Every CPT in the canonical layout, with a leading batch axis ``B``.

    ``A`` is the number of age states (1 if the network has no age variable).

    * ``age``: ``(B, A)``, P(age).
    * ``risk_factor[r]``: ``(B, 2, A)``, P(r = absent / present | age).
    * ``cause[c]``: ``(B, 2, A, 2**n)``, P(c = absent / present | age, risk factors),
      risk factor ``i`` of ``structure.cause_parents[c]`` as bit ``i``.
    * ``finding[f]``: ``(B, 2, A, 2**n)``, P(f = absent / present | age, causes), cause
      ``i`` of ``structure.finding_parents[f]`` as bit ``i`` (constant along age if the
      finding does not depend on it).
    * ``noisy_or[f]``: ``(B, A, n + 1)``, the factors of P(f = absent | ...) when it is a
      noisy-OR: ``[..., i]`` = 1 - link of cause ``i``, ``[..., n]`` = 1 - leak. Present
      for every finding built from priors; for a network file, where the table factorises.
    """

    age: np.ndarray
    risk_factor: dict[str, np.ndarray]
    cause: dict[str, np.ndarray]
    finding: dict[str, np.ndarray]
    noisy_or: dict[str, np.ndarray]

    @property
    def batch(self) -> int:
        return self.age.shape[0]


def build_structure(priors: PriorsFile, vocab: Vocabulary) -> Structure:
    causes = tuple(c for c in vocab.cause_ids if c in priors.causes)
    findings = tuple(f for f in vocab.finding_ids if f in priors.findings)
    risk_factors = tuple(f for f in vocab.finding_ids if f in priors.risk_factors)
    parameters = tuple(iter_parameters(priors))
    paths = {p.path for p in parameters}
    by_age = {
        f: any(path.startswith(f"findings.{f}.") and path.rsplit(".", 1)[-1] in AGE_STATES
               for path in paths)
        for f in findings
    }
    finding_parents = {
        f: tuple(c for c in causes if c in priors.findings[f].links) for f in findings
    }
    twitching = next((f for f in vocab.implicit_evidence if f in findings), None)
    property_of = {}
    if twitching is not None:
        for f in vocab.twitching_properties:
            if f in findings:
                property_of[f] = twitching
                finding_parents[f] = finding_parents[twitching]
                by_age[f] = by_age[f] or by_age[twitching]
    return Structure(
        age_states=vocab.findings[AGE_FINDING].states,
        risk_factors=risk_factors,
        causes=causes,
        cause_parents={
            c: tuple(rf for rf in risk_factors if rf in priors.causes[c].risk_factors)
            for c in causes
        },
        findings=findings,
        finding_parents=finding_parents,
        finding_by_age=by_age,
        property_of=property_of,
        parameters=parameters,
        index={p.path: i for i, p in enumerate(parameters)},
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(x / 2)) loses every digit below 1e-16 for very negative x; the two
    # branches below keep full relative precision at both ends.
    out = np.empty_like(x)
    negative = x < 0
    z = np.exp(x[negative])
    out[negative] = z / (1 + z)
    out[~negative] = 1 / (1 + np.exp(-x[~negative]))
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


#: The marginal prevalence after calibration must match the file within this (relative).
CALIBRATION_TOLERANCE = 1e-9


def calibrate_baseline(
    prevalence: np.ndarray, log_odds_ratios: np.ndarray, rf_prevalence: np.ndarray
) -> np.ndarray:
    """Solve for the baseline log-odds so the marginal prevalence matches.

    Parameters
    ----------
    prevalence
        ``(B, A)``: target P(cause present | age group).
    log_odds_ratios
        ``(B, K)``: log odds ratio of each risk factor.
    rf_prevalence
        ``(B, K, A)``: P(risk factor present | age group); risk factors are independent
        given age in the network.

    Returns
    -------
    ``(B, A)`` baseline log-odds ``b`` with
    ``sum_r P(r | age) sigmoid(b + log_or . r) == prevalence``. The marginal is increasing
    in ``b``, so bisection on the log-odds scale always converges; Newton's method from
    the no-risk-factor answer gets there in a few steps first.
    """
    batch, n_age = prevalence.shape
    k = log_odds_ratios.shape[1]
    if k == 0:
        return _logit(prevalence)
    configs = np.array(list(itertools.product((0, 1), repeat=k)), dtype=float)  # (R, K)
    shift = log_odds_ratios @ configs.T  # (B, R)
    p = rf_prevalence[:, None, :, :]  # (B, 1, K, A)
    r = configs[None, :, :, None]  # (1, R, K, 1)
    weights = np.prod(np.where(r == 1, p, 1 - p), axis=2)  # (B, R, A)

    def marginal(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = _sigmoid(b[:, None, :] + shift[:, :, None])
        return np.einsum("bra,bra->ba", weights, s), np.einsum("bra,bra->ba", weights, s * (1 - s))

    def close(value: np.ndarray) -> bool:
        return bool(np.all(np.abs(value - prevalence) <= CALIBRATION_TOLERANCE * prevalence))

    b = _logit(prevalence)
    for _ in range(30):
        value, slope = marginal(b)
        if close(value):
            return b
        b = b - np.clip((value - prevalence) / np.maximum(slope, 1e-300), -5.0, 5.0)
    lo = np.full((batch, n_age), -800.0)
    hi = np.full((batch, n_age), 800.0)
    for _ in range(200):  # the marginal is increasing in b
        mid = 0.5 * (lo + hi)
        too_high = marginal(mid)[0] > prevalence
        hi = np.where(too_high, mid, hi)
        lo = np.where(too_high, lo, mid)
    return 0.5 * (lo + hi)


def _noisy_or_absent(factors: np.ndarray) -> np.ndarray:
    """P(absent | parents) over ``m = sum_i x_i 2**i`` from noisy-OR factors.

    ``factors[..., i]`` = 1 - link of parent ``i``, ``factors[..., n]`` = 1 - leak.
    Returns ``(..., 2**n)``.
    """
    n = factors.shape[-1] - 1
    table = np.empty((*factors.shape[:-1], 1 << n))
    table[..., 0] = factors[..., n]  # no parent present
    for i in range(n):
        width = 1 << i
        np.multiply(table[..., :width], factors[..., i : i + 1], out=table[..., width : 2 * width])
    return table


def _by_age(theta: np.ndarray, idx: dict[str, int], path: str) -> np.ndarray:
    """``(B, A)`` values of a parameter given once or per age group."""
    if path in idx:
        return np.repeat(theta[:, idx[path]][:, None], len(AGE_STATES), axis=1)
    return theta[:, [idx[f"{path}.{a}"] for a in AGE_STATES]]


def build_tables(
    structure: Structure,
    theta: np.ndarray,
    source: str = "<priors>",
    findings: Sequence[str] | None = None,
    age_columns: Sequence[int] | None = None,
) -> Tables:
    """Every CPT, for each parameter vector of ``theta``.

    ``theta`` has shape ``(B, n_parameters)`` (or ``(n_parameters,)`` for one model).
    ``findings`` limits the (large) finding tables to those named, and ``age_columns`` (indices
    of the age states) their age columns (the others are left 0); the noisy-OR factors
    of every finding are always built (they are small). Raises
    :class:`~toe_twitch.errors.PriorsError` if a prevalence cannot be met by any baseline.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    batch = theta.shape[0]
    idx = structure.index
    ages = structure.age_states

    age = theta[:, [idx[f"age_groups.{a}"] for a in ages]]
    age = age / age.sum(axis=1, keepdims=True)

    risk_factor: dict[str, np.ndarray] = {}
    for rf in structure.risk_factors:
        p = theta[:, [idx[f"risk_factors.{rf}.prevalence.{a}"] for a in ages]]  # (B, A)
        risk_factor[rf] = np.stack([1 - p, p], axis=1)

    cause: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    for c in structure.causes:
        rfs = structure.cause_parents[c]
        prevalence = theta[:, [idx[f"causes.{c}.prevalence.{a}"] for a in ages]]
        log_or = np.log(theta[:, [idx[f"causes.{c}.risk_factors.{rf}"] for rf in rfs]])
        log_or = log_or.reshape(batch, len(rfs))
        rf_p = (
            np.stack([risk_factor[rf][:, 1] for rf in rfs], axis=1)
            if rfs
            else np.zeros((batch, 0, len(ages)))
        )
        baseline = calibrate_baseline(prevalence, log_or, rf_p)
        configs = np.array(
            [[(m >> i) & 1 for i in range(len(rfs))] for m in range(2 ** len(rfs))], dtype=float
        ).reshape(2 ** len(rfs), len(rfs))
        logit = baseline[:, :, None] + (log_or @ configs.T)[:, None, :]  # (B, A, 2**n)
        present = _sigmoid(logit)
        # The check that the calibration met the prevalence, in double precision.
        weights = np.prod(
            np.where(configs.T[None, :, None, :] == 1, rf_p[:, :, :, None], 1 - rf_p[:, :, :, None]),
            axis=1,
        ) if rfs else np.ones((batch, len(ages), 1))
        reached = np.sum(weights * present, axis=-1)
        off = np.abs(reached - prevalence) > 1e-6 * prevalence
        if off.any():
            b, a = map(int, np.argwhere(off)[0])
            problems.append(
                Problem(
                    f"causes.{c}.prevalence.{ages[a]}",
                    f"cannot be met with these odds ratios: the calibrated prevalence is "
                    f"{reached[b, a]:.3g} for a target of {prevalence[b, a]:.3g}; make the "
                    "odds ratios smaller or the prevalence larger",
                )
            )
        cause[c] = np.stack([1 - present, present], axis=1)
    if problems:
        raise PriorsError(source, problems)

    finding: dict[str, np.ndarray] = {}
    noisy_or: dict[str, np.ndarray] = {}
    wanted = set(structure.findings if findings is None else findings)
    kept = list(range(len(ages))) if age_columns is None else sorted(set(age_columns))
    for f in structure.findings:
        if f in structure.property_of:
            continue
        parents = structure.finding_parents[f]
        columns = [_by_age(theta, idx, f"findings.{f}.links.{c}") for c in parents]
        leak = _by_age(theta, idx, f"findings.{f}.leak")
        factors = np.stack([1 - x for x in columns] + [1 - leak], axis=-1)  # (B, A, n+1)
        noisy_or[f] = factors[:, : len(ages)]
        if f in wanted:
            absent = _noisy_or_absent(noisy_or[f][:, kept])  # (B, A, 2**n)
            finding[f] = _by_state(absent, 1 - absent, kept, len(ages))
    for f, twitching in structure.property_of.items():
        if f not in wanted:
            continue
        # P(property | twitching, causes) = P(twitching with the property) / P(twitching)
        parents = structure.finding_parents[f]
        t = noisy_or[twitching][:, kept]  # (B, A, n+1): 1 - t_c, then 1 - t_0
        r0 = _by_age(theta, idx, f"findings.{f}.leak")[:, kept]
        r = [
            _by_age(theta, idx, f"findings.{f}.links.{c}")[:, kept]
            if f"findings.{f}.links.{c}" in idx or f"findings.{f}.links.{c}.{ages[0]}" in idx
            else r0
            for c in parents
        ]
        both = np.stack([1 - (1 - t[..., i]) * r[i] for i in range(len(parents))]
                        + [1 - (1 - t[..., -1]) * r0], axis=-1)
        with_property = 1 - _noisy_or_absent(both)
        twitch = 1 - _noisy_or_absent(t)
        present = np.divide(with_property, twitch, out=np.broadcast_to(r0[..., None], twitch.shape).copy(),
                            where=twitch > 0)
        present = np.clip(present, 0.0, 1.0)
        finding[f] = _by_state(1 - present, present, kept, len(ages))
    return Tables(age, risk_factor, cause, finding, noisy_or)


def _by_state(absent: np.ndarray, present: np.ndarray, kept: list[int], n_ages: int) -> np.ndarray:
    """``(B, 2, A, 2**n)`` from the two states' ``(B, len(kept), 2**n)`` tables, the
    ages not in ``kept`` left 0."""
    if len(kept) == n_ages:
        return np.stack([absent, present], axis=1)
    out = np.zeros((absent.shape[0], 2, n_ages, absent.shape[-1]))
    out[:, 0, kept] = absent
    out[:, 1, kept] = present
    return out


def _pgmpy_values(table: np.ndarray, n_binary: int) -> np.ndarray:
    """Canonical ``(card, A, 2**n)`` (or ``(card, 2**n)``) to pgmpy's ``(card, columns)``
    with the parents in the structure's order (the last parent changing fastest)."""
    card = table.shape[0]
    lead = table.shape[1:-1]
    t = table.reshape(card, *lead, *([2] * n_binary))  # binary axes: bit n-1 first
    k = len(lead)
    axes = [0, *range(1, 1 + k), *range(k + n_binary, k, -1)]  # reverse the binary axes
    return np.transpose(t, axes).reshape(card, -1)


def pgmpy_network(structure: Structure, tables: Tables, row: int = 0):
    """A pgmpy ``DiscreteBayesianNetwork`` holding the same CPTs, with state names."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    network = DiscreteBayesianNetwork()
    network.add_nodes_from(structure.variables)
    network.add_edges_from(
        (parent, v) for v in structure.variables for parent in structure.parents(v)
    )
    cpds = []
    for v in structure.variables:
        parents = structure.parents(v)
        card = len(structure.states(v))
        with_age = bool(structure.age_states)
        if v == AGE_FINDING:
            values = tables.age[row][:, None]
        elif v in tables.risk_factor:
            t = tables.risk_factor[v][row]  # (2, A)
            values = t if with_age else t[:, :1]
        elif v in tables.cause:
            t = tables.cause[v][row]  # (2, A, 2**n)
            values = _pgmpy_values(t if with_age else t[:, 0], len(structure.cause_parents[v]))
        else:
            t = tables.finding[v][row]  # (2, A, 2**n)
            by_age = with_age and structure.finding_by_age.get(v, False)
            t = t if by_age else t[:, 0]
            if v in structure.property_of:  # a twitching axis before the causes
                never = np.zeros_like(t)
                never[0] = 1.0  # no twitching: the twitching has no property
                t = np.stack([never, t], axis=-2)
            values = _pgmpy_values(t, len(structure.finding_parents[v]))
        cpds.append(
            TabularCPD(
                variable=v,
                variable_card=card,
                values=values.reshape(card, -1),
                evidence=list(parents) or None,
                evidence_card=[len(structure.states(p)) for p in parents] or None,
                state_names={u: list(structure.states(u)) for u in (v, *parents)},
            )
        )
    network.add_cpds(*cpds)
    network.check_model()
    return network
