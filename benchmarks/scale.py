"""Scale: synthetic noisy-OR networks of growing size, our engine against pgmpy.

The networks follow the project's own scheme (risk factors -> binary causes -> leaky
noisy-OR findings), with the proportions of the toe-twitching network: for ``n`` causes,
``n // 3`` risk factors (each a parent of two causes), ``2 * n`` findings with one to
three parent causes each. Every size is built from a fixed seed, so a run is repeatable.

For each size the row reports the compile time, the largest clique table, one full
differential (all cause posteriors; a third of the findings observed, two present)
against pgmpy's ``VariableElimination`` on the same query, a batch of random evidence
sets, and the memory the engine holds. Where the treewidth makes exact inference
impossible within the table limit, the engine refuses at compile time with
:class:`~model.errors.EngineError` (checked before any table is allocated) and the row
says so; pgmpy is then not run, since it would need the same tables or more.

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

from model.engine import DEFAULT_MAX_TABLE_ENTRIES, engine_from_pgmpy  # noqa: E402
from model.errors import EngineError  # noqa: E402
from model.pruning import PrunedEngine  # noqa: E402

SIZES = (12, 24, 48, 96)
PGMPY_TIME_LIMIT_S = 60.0


def synthetic_network(n_causes: int, seed: int = 0):
    """A pgmpy network of ``n_causes`` causes built with the project's noisy-OR scheme."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    rng = np.random.default_rng(seed)
    causes = [f"cause_{i:02d}" for i in range(n_causes)]
    risks = [f"risk_{i:02d}" for i in range(max(1, n_causes // 3))]
    findings = [f"finding_{i:03d}" for i in range(2 * n_causes)]
    binary = ["absent", "present"]
    edges, cpds = [], []
    risk_of: dict[str, list[str]] = {c: [] for c in causes}
    for r in risks:
        p = rng.uniform(0.05, 0.4)
        cpds.append(TabularCPD(r, 2, [[1 - p], [p]], state_names={r: binary}))
        for c in rng.choice(causes, size=2, replace=False):
            risk_of[str(c)].append(r)
    for c in causes:
        parents = risk_of[c]
        edges += [(r, c) for r in parents]
        base = rng.uniform(0.005, 0.1)
        odds_ratios = rng.uniform(1.5, 6.0, size=len(parents))
        columns = []
        for combo in np.ndindex(*(2,) * len(parents)):
            odds = (
                base / (1 - base) * np.prod(np.where(np.array(combo, dtype=bool), odds_ratios, 1.0))
            )
            columns.append(odds / (1 + odds))
        present = np.array(columns)
        cpds.append(
            TabularCPD(
                c, 2, [1 - present, present], evidence=parents or None,
                evidence_card=[2] * len(parents) or None,
                state_names={c: binary, **{r: binary for r in parents}},
            )
        )  # fmt: skip
    for f in findings:
        parents = [str(c) for c in rng.choice(causes, size=int(rng.integers(1, 4)), replace=False)]
        edges += [(c, f) for c in parents]
        leak = rng.uniform(0.01, 0.1)
        links = rng.uniform(0.2, 0.9, size=len(parents))
        absent = np.array(
            [
                (1 - leak) * np.prod(np.where(np.array(combo, dtype=bool), 1 - links, 1.0))
                for combo in np.ndindex(*(2,) * len(parents))
            ]
        )
        cpds.append(
            TabularCPD(
                f, 2, [absent, 1 - absent], evidence=parents, evidence_card=[2] * len(parents),
                state_names={f: binary, **{c: binary for c in parents}},
            )
        )  # fmt: skip
    network = DiscreteBayesianNetwork(edges)
    network.add_nodes_from(risks + causes + findings)
    network.add_cpds(*cpds)
    network.check_model()
    return network, causes, findings


def _median(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def scale_row(n_causes: int, batch: int, repeats: int, seed: int = 0) -> dict[str, Any]:
    """Compile, time and compare one synthetic size; never hangs on an intractable size."""
    network, causes, findings = synthetic_network(n_causes, seed)
    row: dict[str, Any] = {
        "causes": n_causes,
        "findings": len(findings),
        "nodes": network.number_of_nodes(),
    }
    start = time.perf_counter()
    try:
        full, states = engine_from_pgmpy(network)
        engine = PrunedEngine(full.cardinalities, full.factors)
    except EngineError as error:
        row.update(
            compiled=False,
            compile_s=time.perf_counter() - start,
            refused=str(error),
        )
        return row
    row.update(
        compiled=True,
        compile_s=time.perf_counter() - start,
        largest_clique_entries=int(engine.full.max_table_entries),
        engine_mib=sum(c.size for c in engine.full._base) * 8 / 2**20,
    )
    rng = np.random.default_rng(seed + 1)
    observed = [str(f) for f in rng.choice(findings, size=len(findings) // 3, replace=False)]
    evidence = {f: "present" if i < 2 else "absent" for i, f in enumerate(observed)}
    columns = {f: np.array([states[f].index(s)]) for f, s in evidence.items()}
    ours = _median(lambda: engine.query(columns, causes), repeats * 5)
    row["one_differential_s"] = ours
    grid = {f: rng.integers(0, 2, size=batch) for f in observed}
    start = time.perf_counter()
    engine.query(grid, causes)
    row["batch_sets_per_s"] = batch / (time.perf_counter() - start)
    row.update(_pgmpy_differential(network, causes, evidence, repeats))
    if row.get("pgmpy_one_differential_s"):
        row["speedup_vs_pgmpy"] = row["pgmpy_one_differential_s"] / ours
    return row


def _pgmpy_worker(network, causes, evidence, repeats, queue) -> None:
    from pgmpy.inference import VariableElimination

    try:
        ve = VariableElimination(network)
        queue.put(
            {
                "pgmpy_one_differential_s": _median(
                    lambda: ve.query(causes, evidence=evidence, joint=False, show_progress=False),
                    repeats,
                )
            }
        )
    except MemoryError as error:
        queue.put({"pgmpy_failed": f"out of memory: {str(error)[:60]}"})


def _pgmpy_differential(network, causes, evidence, repeats: int) -> dict[str, Any]:
    """pgmpy's time for the same query, in a child process so a blow-up cannot hang the run."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_pgmpy_worker, args=(network, causes, evidence, repeats, queue))
    child.start()
    child.join(PGMPY_TIME_LIMIT_S)
    if child.is_alive():
        child.kill()
        child.join()
        return {"pgmpy_failed": f"no answer within {PGMPY_TIME_LIMIT_S:.0f} s"}
    if queue.empty():
        return {"pgmpy_failed": f"crashed (exit code {child.exitcode})"}
    return queue.get()


def run(quick: bool) -> list[dict[str, Any]]:
    sizes = SIZES[:2] if quick else SIZES
    return [
        scale_row(n, batch=1_000 if quick else 10_000, repeats=3 if quick else 7) for n in sizes
    ]


def format_rows(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'causes':>6} {'nodes':>6} {'compile':>9} {'largest clique':>15} {'ours':>9} "
        f"{'pgmpy':>9} {'x pgmpy':>8} {'batch sets/s':>13}"
    ]
    for r in rows:
        if not r["compiled"]:
            lines.append(
                f"{r['causes']:>6} {r['nodes']:>6} {r['compile_s']:>8.2f}s  refused: {r['refused']}"
            )
            continue
        if r.get("pgmpy_one_differential_s"):
            reference = (
                f"{r['pgmpy_one_differential_s'] * 1e3:>7.1f}ms {r['speedup_vs_pgmpy']:>7.1f}x"
            )
        else:
            reference = f"{'failed':>9} {'-':>8}"
        line = (
            f"{r['causes']:>6} {r['nodes']:>6} {r['compile_s']:>8.2f}s {r['largest_clique_entries']:>15,} "
            f"{r['one_differential_s'] * 1e3:>7.2f}ms {reference} {r['batch_sets_per_s']:>13,.0f}"
        )
        if r.get("pgmpy_failed"):
            line += f"  pgmpy: {r['pgmpy_failed']}"
        lines.append(line)
    lines.append(f"(table limit {DEFAULT_MAX_TABLE_ENTRIES:,} entries)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the two smallest sizes only")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = run(args.quick)
    print(json.dumps(rows, indent=2) if args.json else format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
