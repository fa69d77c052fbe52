"""From priors to tables: the network structure and every CPT, derived, never typed.

* ``age_group`` is a root with the age distribution of people who twitch.
* Each risk factor is a binary child of ``age_group`` (its prevalence by age group).
* Each cause is a binary child of ``age_group`` and its risk factors, with a logistic
  CPT: ``logit P(present | age, r) = b[age] + sum_k log(OR_k) r_k``. The baseline ``b``
  is solved (bisection) so that the *marginal* prevalence in each age group equals the
  prevalence in the priors file: a clinician's "prevalence" keeps its ordinary meaning.
* Each finding is a leaky noisy-OR child of the causes that produce it:
  ``P(absent | causes) = (1 - leak) * prod over present causes of (1 - link)``.

All builders are vectorised over a leading batch of parameter vectors, so a sensitivity
sweep or a thousand uncertainty draws build their tables in one go.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from model.engine import Factor
from model.priors import AGE_FINDING, ParameterRef, PriorsFile, iter_parameters
from model.vocabulary import BINARY_STATES, CAUSE_STATES, Vocabulary


@dataclass(frozen=True)
class Structure:
    """Who is whose parent, and where each parameter sits in the flat vector."""

    age_states: tuple[str, ...]
    risk_factors: tuple[str, ...]
    causes: tuple[str, ...]
    cause_parents: dict[str, tuple[str, ...]]
    findings: tuple[str, ...]
    finding_parents: dict[str, tuple[str, ...]]
    parameters: tuple[ParameterRef, ...]
    index: dict[str, int]

    @property
    def variables(self) -> tuple[str, ...]:
        """All nodes, parents before children."""
        return (AGE_FINDING, *self.risk_factors, *self.causes, *self.findings)

    def states(self, variable: str) -> tuple[str, ...]:
        if variable == AGE_FINDING:
            return self.age_states
        if variable in self.causes:
            return CAUSE_STATES
        return BINARY_STATES

    def parents(self, variable: str) -> tuple[str, ...]:
        if variable == AGE_FINDING:
            return ()
        if variable in self.risk_factors:
            return (AGE_FINDING,)
        if variable in self.cause_parents:
            return (AGE_FINDING, *self.cause_parents[variable])
        return self.finding_parents[variable]

    def values(self) -> np.ndarray:
        return np.array([p.value for p in self.parameters])

    def ranges(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.array([p.low for p in self.parameters]),
            np.array([p.high for p in self.parameters]),
        )


def build_structure(priors: PriorsFile, vocab: Vocabulary) -> Structure:
    age_states = vocab.findings[AGE_FINDING].states
    causes = tuple(c for c in vocab.cause_ids if c in priors.causes)
    findings = tuple(f for f in vocab.finding_ids if f in priors.findings)
    risk_factors = tuple(f for f in vocab.finding_ids if f in priors.risk_factors)
    parameters = tuple(iter_parameters(priors))
    return Structure(
        age_states=age_states,
        risk_factors=risk_factors,
        causes=causes,
        cause_parents={
            c: tuple(rf for rf in risk_factors if rf in priors.causes[c].risk_factors)
            for c in causes
        },
        findings=findings,
        finding_parents={
            f: tuple(c for c in causes if c in priors.findings[f].links) for f in findings
        },
        parameters=parameters,
        index={p.path: i for i, p in enumerate(parameters)},
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


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
    ``sum_r P(r | age) sigmoid(b + log_or . r) == prevalence`` (to ~1e-15).
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

    # Newton's method from the no-risk-factor answer (a few steps), bisection as a fallback.
    b = _logit(prevalence)
    for _ in range(12):
        value, slope = marginal(b)
        b = b - np.clip((value - prevalence) / np.maximum(slope, 1e-300), -5.0, 5.0)
    value, _ = marginal(b)
    if np.all(np.abs(value - prevalence) <= 1e-14 + 1e-12 * prevalence):
        return b
    lo = np.full((batch, n_age), -60.0)
    hi = np.full((batch, n_age), 60.0)
    for _ in range(64):  # the marginal is increasing in b
        mid = 0.5 * (lo + hi)
        too_high = marginal(mid)[0] > prevalence
        hi = np.where(too_high, mid, hi)
        lo = np.where(too_high, lo, mid)
    return 0.5 * (lo + hi)


def build_tables(structure: Structure, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Every CPT as an array with a leading batch axis.

    ``theta`` has shape ``(B, n_parameters)`` (or ``(n_parameters,)`` for one model).
    ``tables[v][b, x_v, x_parent1, ...]`` is P(v | parents) for parameter vector ``b``.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    batch = theta.shape[0]
    idx = structure.index
    ages = structure.age_states
    tables: dict[str, np.ndarray] = {}

    age = theta[:, [idx[f"age_groups.{a}"] for a in ages]]
    age = age / age.sum(axis=1, keepdims=True)
    tables[AGE_FINDING] = age

    rf_prev: dict[str, np.ndarray] = {}
    for rf in structure.risk_factors:
        p = theta[:, [idx[f"risk_factors.{rf}.prevalence.{a}"] for a in ages]]  # (B, A)
        rf_prev[rf] = p
        tables[rf] = np.stack([1 - p, p], axis=1)  # (B, 2, A)

    for cause in structure.causes:
        rfs = structure.cause_parents[cause]
        prevalence = theta[:, [idx[f"causes.{cause}.prevalence.{a}"] for a in ages]]
        log_or = np.log(theta[:, [idx[f"causes.{cause}.risk_factors.{rf}"] for rf in rfs]])
        rf_p = (
            np.stack([rf_prev[rf] for rf in rfs], axis=1)
            if rfs
            else np.zeros((batch, 0, len(ages)))
        )
        baseline = calibrate_baseline(prevalence, log_or.reshape(batch, len(rfs)), rf_p)
        n_rf = len(rfs)
        logit = baseline.reshape(batch, len(ages), *([1] * n_rf))
        for k in range(n_rf):
            # r_k lives on axis 2 + k; its term is log(OR_k) * r_k.
            indicator = np.arange(2.0).reshape([1, 1] + [1] * k + [2] + [1] * (n_rf - k - 1))
            logit = logit + log_or[:, k].reshape(batch, *([1] * (1 + n_rf))) * indicator
        present = _sigmoid(logit)  # (B, A, 2, ..., 2)
        tables[cause] = np.stack([1 - present, present], axis=1)

    for finding in structure.findings:
        parents = structure.finding_parents[finding]
        leak = theta[:, idx[f"findings.{finding}.leak"]]
        absent = (1 - leak).reshape(batch, *([1] * len(parents)))
        for k, cause in enumerate(parents):
            link = theta[:, idx[f"findings.{finding}.links.{cause}"]]
            factor = np.stack([np.ones(batch), 1 - link], axis=1)  # cause absent, present
            shape = [batch] + [1] * len(parents)
            shape[1 + k] = 2
            absent = absent * factor.reshape(shape)
        absent = np.broadcast_to(absent, (batch, *([2] * len(parents))))
        tables[finding] = np.stack([absent, 1 - absent], axis=1)
    return tables


def factors_from_tables(structure: Structure, tables: dict[str, np.ndarray], row: int = 0):
    """The engine's factors for one parameter vector (row of the batch)."""
    return {
        v: Factor((v, *structure.parents(v)), np.ascontiguousarray(tables[v][row]))
        for v in structure.variables
    }


def pgmpy_network(structure: Structure, tables: dict[str, np.ndarray], row: int = 0):
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
        table = tables[v][row]
        card = len(structure.states(v))
        cpds.append(
            TabularCPD(
                variable=v,
                variable_card=card,
                values=table.reshape(card, -1),
                evidence=list(parents) or None,
                evidence_card=[len(structure.states(p)) for p in parents] or None,
                state_names={u: list(structure.states(u)) for u in (v, *parents)},
            )
        )
    network.add_cpds(*cpds)
    network.check_model()
    return network
