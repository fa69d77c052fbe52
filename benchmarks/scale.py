"""Scale: synthetic noisy-OR networks with 12 to 24 causes, the engine against pgmpy.

The networks follow the project's scheme (risk factors -> binary causes -> leaky noisy-OR
findings): for ``n`` causes, ``n // 3`` risk factors (each a parent of two causes) and
``2 n`` findings with one to three parent causes each, from a fixed seed. Each row
reports one full differential (a third of the findings observed, two of them present)
against pgmpy's ``VariableElimination`` on the same query (in a child process with a time
limit), a batch of 1,000 random evidence sets, and the engine's memory. Sizes the engine
cannot hold are refused before anything is allocated, and the row says why.

Run alone with ``python -m benchmarks.scale``; ``benchmarks.run`` includes these rows.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
import warnings
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")

from toe_twitch.engine import CauseSpace, Encoded  # noqa: E402
from toe_twitch.errors import EngineError  # noqa: E402
from toe_twitch.network import Structure, Tables, _noisy_or_absent, _sigmoid, pgmpy_network  # noqa: E402

SIZES = (12, 14, 16, 18, 20, 22, 24)
QUICK_SIZES = (12, 16)
PGMPY_TIME_LIMIT_S = 60.0


def synthetic(n_causes: int, seed: int = 0) -> tuple[Structure, Tables]:
    """A network of ``n_causes`` causes in the engine's canonical tables."""
    rng = np.random.default_rng(seed)
    causes = tuple(f"cause_{i:02d}" for i in range(n_causes))
    risks = tuple(f"risk_{i:02d}" for i in range(max(1, n_causes // 3)))
    findings = tuple(f"finding_{i:03d}" for i in range(2 * n_causes))
    parents: dict[str, list[str]] = {c: [] for c in causes}
    for r in risks:
        for c in rng.choice(causes, size=2, replace=False):
            parents[str(c)].append(r)
    cause_parents = {c: tuple(r for r in risks if r in parents[c]) for c in causes}
    finding_parents = {
        f: tuple(sorted(str(c) for c in rng.choice(causes, size=int(rng.integers(1, 4)), replace=False)))
        for f in findings
    }
    structure = Structure(
        age_states=(), risk_factors=risks, causes=causes, cause_parents=cause_parents,
        findings=findings, finding_parents=finding_parents, finding_by_age={},
    )
    risk_factor = {}
    for r in risks:
        p = rng.uniform(0.05, 0.4)
        risk_factor[r] = np.array([1 - p, p]).reshape(1, 2, 1)
    cause = {}
    for c in causes:
        k = len(cause_parents[c])
        configs = np.array([[(m >> i) & 1 for i in range(k)] for m in range(2 ** k)], dtype=float)
        logit = rng.uniform(-4, -1) + configs @ np.log(rng.uniform(1.5, 5.0, size=k))
        present = _sigmoid(logit.reshape(1, 1, -1))
        cause[c] = np.stack([1 - present, present], axis=1)
    finding, noisy_or = {}, {}
    for f in findings:
        k = len(finding_parents[f])
        factors = np.concatenate([1 - rng.uniform(0.2, 0.9, size=k), [1 - rng.uniform(0.01, 0.1)]])
        factors = factors.reshape(1, 1, k + 1)
        absent = _noisy_or_absent(factors)
        finding[f] = np.stack([absent, 1 - absent], axis=1)
        noisy_or[f] = factors
    return structure, Tables(np.ones((1, 1)), risk_factor, cause, finding, noisy_or)


def _evidence(structure: Structure, rng: np.random.Generator) -> dict[str, str]:
    observed = rng.choice(structure.findings, size=len(structure.findings) // 3, replace=False)
    present = set(observed[:2])
    return {str(f): "present" if f in present else "absent" for f in observed}


def _encode(structure: Structure, evidences: list[dict[str, str]]) -> Encoded:
    n = len(evidences)
    findings = np.full((n, len(structure.findings)), -1, dtype=np.int8)
    index = {f: i for i, f in enumerate(structure.findings)}
    for row, e in enumerate(evidences):
        for f, s in e.items():
            findings[row, index[f]] = 1 if s == "present" else 0
    return Encoded(np.full(n, -1), np.full((n, len(structure.risk_factors)), -1, dtype=np.int8), findings)


def _pgmpy_time(n_causes: int, seed: int, queue) -> None:
    from pgmpy.inference import VariableElimination

    structure, tables = synthetic(n_causes, seed)
    network = pgmpy_network(structure, tables)
    evidence = _evidence(structure, np.random.default_rng(seed + 1))
    ve = VariableElimination(network)
    start = time.perf_counter()
    ve.query(list(structure.causes), evidence=evidence, joint=False, show_progress=False)
    queue.put(time.perf_counter() - start)


def pgmpy_one_differential(n_causes: int, seed: int) -> float | None:
    """pgmpy's time for the same differential, or None past the time limit."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_pgmpy_time, args=(n_causes, seed, queue))
    process.start()
    process.join(PGMPY_TIME_LIMIT_S)
    if process.is_alive():
        process.terminate()
        process.join()
        return None
    return queue.get() if not queue.empty() else None


def run(quick: bool) -> list[dict[str, Any]]:
    rows = []
    for n in QUICK_SIZES if quick else SIZES:
        structure, tables = synthetic(n, seed=n)
        start = time.perf_counter()
        try:
            engine = CauseSpace(structure, tables)
        except EngineError as exc:
            rows.append({"causes": n, "refused": str(exc), "refused_after_s": time.perf_counter() - start})
            continue
        build_s = time.perf_counter() - start
        rng = np.random.default_rng(n + 1)
        one = _encode(structure, [_evidence(structure, rng)])
        engine.query(one)  # warm-up (kernels compiled, caches filled)
        times = []
        for _ in range(5 if quick else 15):
            t = time.perf_counter()
            engine.query(one)
            times.append(time.perf_counter() - t)
        batch = _encode(structure, [_evidence(structure, rng) for _ in range(1000)])
        t = time.perf_counter()
        engine.query(batch)
        batch_s = time.perf_counter() - t
        reference = pgmpy_one_differential(n, seed=n)
        ours = statistics.median(times)
        rows.append({
            "causes": n,
            "states": 2**n,
            "compiled": engine.compiled,
            "build_s": build_s,
            "one_differential_s": ours,
            "pgmpy_s": reference,
            "speedup_vs_pgmpy": reference / ours if reference else None,
            "batch_1000_s": batch_s,
            "engine_mib": engine.nbytes / 2**20,
        })
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'causes':>6} {'states':>10} {'one differential':>17} {'pgmpy':>12} {'ratio':>8} "
             f"{'1,000 sets':>11} {'memory':>9}"]
    for r in rows:
        if "refused" in r:
            lines.append(f"{r['causes']:>6}  refused in {r['refused_after_s'] * 1e3:.1f} ms: {r['refused']}")
            continue
        ref = f"{r['pgmpy_s'] * 1e3:10.1f}ms" if r["pgmpy_s"] else f"{'> ' + str(int(PGMPY_TIME_LIMIT_S)) + 's':>12}"
        ratio = f"{r['speedup_vs_pgmpy']:7.0f}x" if r["speedup_vs_pgmpy"] else f"{'-':>8}"
        lines.append(
            f"{r['causes']:>6} {r['states']:>10,} {r['one_differential_s'] * 1e3:15.2f}ms {ref} {ratio} "
            f"{r['batch_1000_s'] * 1e3:9.1f}ms {r['engine_mib']:7.0f}MiB"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = run(args.quick)
    print(json.dumps(rows, indent=2) if args.json else format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
