"""Benchmark: the project's engine against pgmpy (and pyAgrum) on the same queries.

Run ``python -m benchmarks.run`` (full) or ``python -m benchmarks.run --quick`` (the CI
smoke size). Prints a table and writes it as JSON (``--out``, default
``benchmarks/results/latest.json``, written atomically). Each figure is the median of
repeated runs after a warm-up; ratios are pgmpy's time over ours on the same queries in
the same process.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")

from benchmarks import scale  # noqa: E402
from model import files, load_model  # noqa: E402
from model.analysis import look_ahead, next_questions, sample_parameters, what_if  # noqa: E402
from model.network import build_tables, pgmpy_network  # noqa: E402

TYPICAL = {
    "age_group": "older_adult",
    "persists_2_weeks": "present",
    "numbness_tingling": "present",
    "diabetes": "present",
    "leg_pain": "absent",
    "fever": "absent",
}


def median_time(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pgmpy_query(ve, causes, evidence):
    return ve.query(causes, evidence=evidence, joint=False, show_progress=False)


def random_evidences(model, n: int, seed: int) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        e = {}
        for f in model.findings:
            if rng.random() < 0.5:
                e[f] = model.states[f][rng.integers(len(model.states[f]))]
        out.append(e)
    return out


def run(quick: bool) -> dict[str, Any]:
    from pgmpy.inference import VariableElimination

    m = load_model()
    ve = VariableElimination(m.network)
    rows: list[dict[str, Any]] = []
    repeats = 3 if quick else 7

    def row(name, ours, reference=None, unit="s", note="", **extra):
        entry = {"benchmark": name, "ours_s": ours, "pgmpy_s": reference, "note": note, **extra}
        entry["speedup_vs_pgmpy"] = (reference / ours) if reference else None
        rows.append(entry)

    # 1. One full differential for a typical partial evidence.
    ours = median_time(lambda: m.posterior_batch([TYPICAL]), repeats * 5)
    ref = median_time(lambda: pgmpy_query(ve, m.causes, TYPICAL), repeats)
    agrum_t = None
    try:
        import pyagrum as gum

        from tests.test_engine import pyagrum_network

        _, bn = pyagrum_network(m)
        lazy = gum.LazyPropagation(bn)

        def agrum():
            lazy.setEvidence(TYPICAL)
            lazy.makeInference()
            return [lazy.posterior(c)[1] for c in m.causes]

        agrum_t = median_time(agrum, repeats * 5)
    except ImportError:
        pass
    row("one differential (12 causes)", ours, ref, pyagrum_s=agrum_t,
        speedup_vs_pyagrum=(agrum_t / ours) if agrum_t else None)

    # 2. What-if plus next question (one shared look-ahead) vs pgmpy on the same rows.
    def interactive():
        ahead = look_ahead(m, TYPICAL)
        next_questions(m, TYPICAL, ahead=ahead)
        return what_if(m, TYPICAL)

    ours = median_time(interactive, repeats)
    options = look_ahead(m, TYPICAL).options
    sample = options[:: max(1, len(options) // (6 if quick else 20))]
    per = median_time(lambda: [pgmpy_query(ve, m.causes, {**TYPICAL, f: s}) for f, s in sample], 1) / len(sample)
    row("what-if + next questions", ours, per * (len(options) + 1),
        note=f"{len(options)} answers; pgmpy timed on {len(sample)} of them and scaled")

    # 3. Uncertainty: 1,000 parameter draws (per-row tables) as one batch.
    draws = 200 if quick else 1000
    ours = median_time(lambda: m.uncertainty(TYPICAL, draws=draws, seed=0), repeats)
    theta = sample_parameters(m, 3, seed=0)
    tables = build_tables(m.structure, theta)

    def pgmpy_draws():
        for r in range(3):
            net = pgmpy_network(m.structure, tables, row=r)
            pgmpy_query(VariableElimination(net), m.causes, TYPICAL)

    per = median_time(pgmpy_draws, 1, warmup=0) / 3
    row(f"uncertainty ({draws} draws)", ours, per * draws,
        note="pgmpy rebuilds the network per draw; timed on 3 draws and scaled")

    # 4. Full sensitivity sweep (every parameter at both range ends).
    ours = median_time(lambda: m.sensitivity(TYPICAL, "neuropathy"), repeats)
    n_models = 2 * len(m.structure.parameters)
    row(f"sensitivity sweep ({n_models} models)", ours, per * n_models,
        note="pgmpy per-model time from the uncertainty row")

    # 5. Batch of random evidence sets.
    n = 2_000 if quick else 100_000
    evidences = random_evidences(m, n, seed=1)
    columns = m.encode(evidences)
    start = time.perf_counter()
    m.posterior_indices(columns)
    ours = time.perf_counter() - start
    # The batch's own peak: numpy reports its allocations to tracemalloc (a second run,
    # so the tracing overhead does not enter the time above).
    rows_for_memory = {f: c[:20_000] for f, c in columns.items()}
    tracemalloc.start()
    m.posterior_indices(rows_for_memory)
    batch_peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    subset = evidences[:50 if quick else 200]
    per = median_time(lambda: [pgmpy_query(ve, m.causes, e) for e in subset], 1, warmup=0) / len(subset)
    row(f"batch of {n:,} random evidence sets", ours, per * n,
        note=(f"{n / ours:,.0f} sets/s; pgmpy timed on {len(subset)} and scaled; memory traced"
              f" on {min(n, 20_000):,} sets (the engine works in bounded slices)"),
        sets_per_second=n / ours, peak_rss_mib=peak_mib, batch_peak_mib=batch_peak_mib)

    # 6. Exhaustive sweep over 15 binary findings.
    symptoms = [f for f in m.structure.findings if f not in m.vocabulary.red_flags][:15]
    k = 10 if quick else 15
    grid = np.array(list(itertools.product((0, 1), repeat=k)))
    start = time.perf_counter()
    m.posterior_indices({f: grid[:, i] for i, f in enumerate(symptoms[:k])})
    ours = time.perf_counter() - start
    row(f"exhaustive sweep, {k} binary findings ({2**k:,} cases)", ours, None)

    # 7. pgmpy's shipped networks: one all-node differential, ours vs pgmpy.
    from pgmpy.utils import get_example_model

    from model.pruning import PrunedEngine

    for name in (["asia", "alarm"] if quick else ["asia", "sachs", "child", "alarm", "insurance", "hepar2"]):
        net = get_example_model(name)
        from model.engine import engine_from_pgmpy

        full, states = engine_from_pgmpy(net)
        engine = PrunedEngine(full.cardinalities, full.factors)
        nodes = list(net.nodes())
        observed = nodes[:2]
        evidence = {v: states[v][0] for v in observed}
        targets = [v for v in nodes if v not in evidence][:8]
        columns = {v: np.array([states[v].index(s)]) for v, s in evidence.items()}
        ours = median_time(lambda e=engine, c=columns, t=targets: e.query(c, t), repeats * 3)
        ref_ve = VariableElimination(net)
        ref = median_time(
            lambda v=ref_ve, t=targets, e=evidence: v.query(t, evidence=e, joint=False, show_progress=False),
            repeats,
        )
        row(f"pgmpy example '{name}' ({len(nodes)} nodes, 8 targets)", ours, ref,
            note=f"largest clique {full.max_table_entries:,} entries")

    # 8. The Explore page: what one changed answer costs the server (ui/case.py, the calls
    # the page makes), ours against pgmpy doing the same queries.
    row(PAGE_ROW, **page_answer_change(m, ve, quick))
    return {"rows": rows, "machine": machine(), "quick": quick}


PAGE_ROW = (
    "page: one answer change (diagnose + what-if + next questions + intervals as the page "
    "computes them)"
)


def page_answer_change(m, ve, quick: bool) -> dict[str, Any]:
    """Time the Explore page's calls for a walk of answers, one more answer per step.

    Each step is a case the page has not seen (so nothing of it is cached): the ranking,
    urgency, what to ask next, why and what-if (``explore_case``), then the 90% intervals
    on the draws built once per priors (``case_intervals``; the page draws them last).
    pgmpy is timed on the same kind of queries and scaled to the page's count of them.
    """
    from pgmpy.inference import VariableElimination

    from ui.case import UNCERTAINTY_DRAWS, case_intervals, explore_case, interval_tables

    start = time.perf_counter()
    tables = interval_tables(m)
    tables_s = time.perf_counter() - start
    rng = np.random.default_rng(2)
    order = [f for f in rng.permutation(m.findings) if f not in m.vocabulary.red_flags]
    walk: list[dict[str, str]] = [{}]
    for f in order[: 6 if quick else 12]:
        walk.append({**walk[-1], f: m.states[f][rng.integers(len(m.states[f]))]})
    explore_case(m, walk[0])  # warm-up: the case before any answer
    case_intervals(m, walk[0], tables)
    interactive, intervals, queries = [], [], []
    for evidence in walk[1:]:
        start = time.perf_counter()
        view = explore_case(m, evidence)
        interactive.append(time.perf_counter() - start)
        start = time.perf_counter()
        case_intervals(m, evidence, tables)
        intervals.append(time.perf_counter() - start)
        # diagnose, one query per possible next answer, explain (leave-one-out and chain)
        queries.append(1 + len(view.what_if_options) * 2 + 2 * len(evidence) + 1)
    sample = walk[1 : 3 if quick else 5]
    per_query = median_time(
        lambda: [pgmpy_query(ve, m.causes, m.check_evidence(e)) for e in sample], 1
    ) / len(sample)
    theta = sample_parameters(m, 2, seed=0)
    draw_tables = build_tables(m.structure, theta)

    def pgmpy_draws():
        for r in range(2):
            net = pgmpy_network(m.structure, draw_tables, row=r)
            pgmpy_query(VariableElimination(net), m.causes, m.check_evidence(walk[-1]))

    per_draw = median_time(pgmpy_draws, 1, warmup=0) / 2
    ours_interactive = statistics.median(interactive)
    ours_intervals = statistics.median(intervals)
    ours = statistics.median(a + b for a, b in zip(interactive, intervals, strict=True))
    reference = per_query * statistics.median(queries) + per_draw * UNCERTAINTY_DRAWS
    return {
        "ours": ours,
        "reference": reference,
        "note": (
            f"median of {len(interactive)} steps: ranking, urgency, what-if, next questions "
            f"and why {ours_interactive * 1e3:.1f}ms (max {max(interactive) * 1e3:.1f}ms), "
            f"then 90% intervals {ours_intervals * 1e3:.1f}ms, drawn last; the "
            f"{UNCERTAINTY_DRAWS} draws' tables are built once per priors "
            f"({tables_s:.2f}s); pgmpy scaled from {len(sample)} queries and 2 draws"
        ),
        "interactive_s": ours_interactive,
        "interactive_max_s": max(interactive),
        "intervals_s": ours_intervals,
        "tables_once_s": tables_s,
    }


def machine() -> dict[str, Any]:
    import pgmpy

    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "pgmpy": pgmpy.__version__,
    }
    try:
        import pyagrum

        info["pyagrum"] = pyagrum.__version__
    except ImportError:
        pass
    return info


def write_atomic(path: Path, text: str) -> None:
    """The benchmark's own output is replaced atomically (it is regenerated each run)."""
    files.write_atomic(path, text, overwrite=True)


def format_table(result: dict[str, Any]) -> str:
    lines = [f"machine: {result['machine']}", ""]
    lines.append(f"{'benchmark':<52} {'ours':>10} {'pgmpy':>10} {'x pgmpy':>8}  note")
    for r in result["rows"]:
        ref = f"{r['pgmpy_s'] * 1e3:9.1f}ms" if r["pgmpy_s"] else f"{'-':>10}"
        ratio = f"{r['speedup_vs_pgmpy']:7.1f}x" if r["speedup_vs_pgmpy"] else f"{'-':>8}"
        note = r["note"]
        if r.get("pyagrum_s"):
            note = f"pyAgrum {r['pyagrum_s'] * 1e3:.2f}ms ({r['speedup_vs_pyagrum']:.1f}x) {note}"
        if r.get("peak_rss_mib"):
            note += (
                f"; batch peak {r['batch_peak_mib']:.0f} MiB (traced),"
                f" process peak RSS {r['peak_rss_mib']:.0f} MiB"
            )
        lines.append(f"{r['benchmark']:<52} {r['ours_s'] * 1e3:8.1f}ms {ref} {ratio}  {note}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (the CI smoke run)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "latest.json")
    args = parser.parse_args(argv)
    result = run(args.quick)
    print(format_table(result))
    result["scale"] = scale.run(args.quick)
    print("\nscale: synthetic noisy-OR networks, one differential and a batch\n")
    print(scale.format_rows(result["scale"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)  # benchmarks/results/ is not in git
    write_atomic(args.out, json.dumps(result, indent=2))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
