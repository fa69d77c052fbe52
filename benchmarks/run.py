"""Benchmark: the cause-space engine against pgmpy (and pyAgrum) on the same queries.

Run ``python -m benchmarks.run`` (full) or ``python -m benchmarks.run --quick`` (the CI
smoke size). Prints the machine, the library versions and the thread counts (BLAS, numba)
with a table, and writes the figures as JSON (``--out``, default
``benchmarks/results/latest.json``, written atomically). Each figure is the median of
repeated runs after a warm-up; a ratio is pgmpy's time over ours on the same queries in
the same process (never an absolute time against a fixed target: machines are noisy).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")

from benchmarks import scale  # noqa: E402
from toe_twitch import files, load_model, next_questions, sensitivity, uncertainty, what_if  # noqa: E402
from toe_twitch.analysis import sample_parameters  # noqa: E402
from toe_twitch.engine import Encoded  # noqa: E402
from toe_twitch.network import build_tables, pgmpy_network  # noqa: E402

#: One differential: the age group and four answers.
TYPICAL = {
    "age_group": "older_adult",
    "persists_2_weeks": "present",
    "numbness_tingling": "present",
    "diabetes": "present",
    "leg_pain": "absent",
}
#: The 15 answerable findings of the exhaustive sweep (the twitching itself is assumed).
SWEEP = (
    "onset_falling_asleep", "during_sleep", "after_exertion", "dehydration_or_missed_meals",
    "persists_2_weeks", "interferes_with_walking", "leg_pain", "cramp_stiffness",
    "numbness_tingling", "muscle_weakness", "widespread_twitching", "toe_curling",
    "resting_tremor", "cold_pale_feet", "joint_pain_swelling",
)


def median_time(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def random_frame(model, n: int, seed: int):
    """``n`` random evidence sets as a DataFrame of categoricals: each answerable finding
    answered with probability 1/2, in a uniformly random state (empty = unknown)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns = {}
    for f in model.findings:
        states = model.states[f]
        codes = rng.integers(len(states), size=n)
        codes[rng.random(n) < 0.5] = -1
        columns[f] = pd.Categorical.from_codes(codes, categories=list(states))
    return pd.DataFrame(columns)


def blas_threads() -> list[dict[str, Any]]:
    from threadpoolctl import threadpool_info

    return [
        {"api": i.get("user_api"), "library": i.get("internal_api"), "threads": i.get("num_threads")}
        for i in threadpool_info()
    ]


def run(quick: bool) -> dict[str, Any]:
    import numba
    from pgmpy.inference import VariableElimination
    from threadpoolctl import threadpool_limits

    m = load_model()
    ve = VariableElimination(m.network)
    rows: list[dict[str, Any]] = []
    repeats = 5 if quick else 15

    def row(name, ours, reference=None, note="", target=None, **extra):
        entry = {"benchmark": name, "ours_s": ours, "pgmpy_s": reference, "note": note,
                 "target": target, **extra}
        entry["speedup_vs_pgmpy"] = (reference / ours) if reference else None
        rows.append(entry)

    def pgmpy_query(evidence):
        return ve.query(m.causes, evidence=m.reference_evidence(evidence), joint=False, show_progress=False)

    # 1. One differential, and diagnose with urgency.
    ours = median_time(lambda: m.posterior_batch([TYPICAL]), repeats * 20)
    ref = median_time(lambda: pgmpy_query(TYPICAL), repeats)
    agrum = None
    try:
        import pyagrum as gum

        from tests.test_engine import pyagrum_network

        _, bn = pyagrum_network(m)
        lazy = gum.LazyPropagation(bn)

        def agrum_query():
            lazy.setEvidence(m.reference_evidence(TYPICAL))
            lazy.makeInference()
            return [lazy.posterior(c)[1] for c in m.causes]

        agrum = median_time(agrum_query, repeats * 5)
    except ImportError:
        pass
    row("one differential (age + 4 answers)", ours, ref, target=">= 30x pgmpy",
        pyagrum_s=agrum, speedup_vs_pyagrum=(agrum / ours) if agrum else None)
    ours = median_time(lambda: m.diagnose(TYPICAL), repeats * 20)
    row("diagnose with urgency (same answers)", ours, ref, target=">= 10x pgmpy",
        note="urgency needs no more engine work here; pgmpy: the same posterior query")

    # 2. What-if plus next questions: one look-ahead serves both.
    def interactive():
        ahead = m.look_ahead(TYPICAL)
        what_if(m, TYPICAL, ahead=ahead)
        return next_questions(m, TYPICAL, ahead=ahead)

    by_blas = {}
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            by_blas[threads] = median_time(interactive, repeats * 4)
    ours = min(by_blas.values())
    options = m.look_ahead(TYPICAL).options
    sample = options[:: max(1, len(options) // (6 if quick else 20))]
    per = median_time(lambda: [pgmpy_query({**TYPICAL, f: s}) for f, s in sample], 1) / len(sample)
    row("what-if + next questions", ours, per * (len(options) + 1), target="< 5 ms",
        note=f"{len(options)} answers; pgmpy timed on {len(sample)} and scaled; "
             f"{by_blas[1] * 1e3:.1f} ms with 1 BLAS thread, {by_blas[2] * 1e3:.1f} ms with 2 "
             "(the engine's products are numba loops and numpy reductions, not BLAS)",
        blas_one_thread_s=by_blas[1], blas_two_threads_s=by_blas[2])

    # 3. Uncertainty and sensitivity: parameter batches.
    draws = 200 if quick else 1000
    ours = median_time(lambda: uncertainty(m, TYPICAL, draws=draws, seed=0), repeats)
    theta = sample_parameters(m, 3, seed=0)
    tables = build_tables(m.structure, theta)

    def pgmpy_draws():
        for r in range(3):
            VariableElimination(pgmpy_network(m.structure, tables, row=r)).query(
                m.causes, evidence=m.reference_evidence(TYPICAL), joint=False, show_progress=False)

    per_draw = median_time(pgmpy_draws, 1, warmup=0) / 3
    row(f"uncertainty ({draws:,} draws)", ours, per_draw * draws, target="< 0.3 s (1,000 draws)",
        note="pgmpy rebuilds the network per draw; timed on 3 draws and scaled")
    ours = median_time(lambda: sensitivity(m, TYPICAL, "neuropathy"), repeats)
    n_models = 2 * len(m.structure.parameters)
    row(f"sensitivity sweep ({n_models} one-parameter models)", ours, per_draw * n_models,
        target="< 0.3 s", note="pgmpy per-model time from the uncertainty row")

    # 4. A batch of random evidence sets, given as a DataFrame.
    n = 10_000 if quick else 100_000
    frame = random_frame(m, n, seed=1)
    strings = frame.astype(object).where(frame.notna(), None) if not quick else None
    m.posterior_batch(frame.iloc[:100])  # warm-up
    threads = numba.get_num_threads()
    batch = {}
    for t in sorted({1, threads}):
        numba.set_num_threads(t)
        start = time.perf_counter()
        m.query(frame, impossible="mark")
        batch[t] = time.perf_counter() - start
    numba.set_num_threads(threads)
    ours = batch[threads]
    subset = [m.decode(m.encode(frame.iloc[:100]), i) for i in range(50 if quick else 100)]
    per = median_time(lambda: [pgmpy_query(e) for e in subset], 1, warmup=0) / len(subset)
    tracemalloc.start()
    m.query(frame, impossible="mark")
    batch_peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    note = (f"{n / ours:,.0f} sets/s with {threads} numba threads, {n / batch[1]:,.0f} with 1; "
            f"pgmpy timed on {len(subset)} and scaled; traced peak {batch_peak_mib:.0f} MiB")
    if strings is not None:
        start = time.perf_counter()
        m.query(strings, impossible="mark")
        note += f"; plain-string columns {n / (time.perf_counter() - start):,.0f} sets/s"
    row(f"batch of {n:,} random evidence sets (DataFrame)", ours, per * n,
        target=">= 100,000 sets/s, >= 1,000x pgmpy, peak < 256 MiB", note=note,
        sets_per_second=n / ours, sets_per_second_one_thread=n / batch[1], batch_peak_mib=batch_peak_mib)

    # 5. Every combination of 15 binary findings, age fixed: 32,768 coherent cases.
    k = 12 if quick else 15
    grid = np.array(list(itertools.product((0, 1), repeat=k)), dtype=np.int8)

    def sweep():
        base = m.encode([{"age_group": "adult"}])
        findings = np.repeat(base.findings, len(grid), axis=0)
        risks = np.repeat(base.risk_factors, len(grid), axis=0)
        for i, f in enumerate(SWEEP[:k]):
            if f in m.structure.risk_factors:
                risks[:, m.structure.risk_factors.index(f)] = grid[:, i]
            else:
                findings[:, m.structure.findings.index(f)] = grid[:, i]
        return m.query(Encoded(np.repeat(base.age, len(grid)), risks, findings))

    via_query = median_time(sweep, 1 if quick else 3)
    base = {"age_group": "adult"}
    ours = median_time(lambda: m.every_combination(SWEEP[:k], base), 3)
    row(f"every combination of {k} binary findings, age fixed ({2**k:,} cases)", ours, None,
        target="< 0.5 s (15 findings)",
        note=f"model.every_combination (two halves, matrix products); as {2**k:,} rows "
             f"through query(): {via_query:.2f} s", via_query_s=via_query)

    # 6. Loading the model: in this process (kernels cached) and in a fresh one.
    ours = median_time(load_model, 3)
    code = "import time; t = time.perf_counter(); from toe_twitch import load_model; load_model(); print(time.perf_counter() - t)"
    fresh = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 timeout=600).stdout.strip() or "nan")
    row("load_model", ours, None, target="< 1 s",
        note=f"{fresh:.2f} s in a fresh process, imports included (numba's compiled kernels cached on disk)",
        fresh_process_s=fresh)
    return {"rows": rows, "machine": machine(), "quick": quick}


def machine() -> dict[str, Any]:
    import numba
    import pgmpy

    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": _threading_layer(),
        "pgmpy": pgmpy.__version__,
        "blas": blas_threads(),
    }
    try:
        import pyagrum

        info["pyagrum"] = pyagrum.__version__
    except ImportError:
        pass
    return info


def _threading_layer() -> str:
    import numba

    try:
        return numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        return "not yet chosen"


def write_atomic(path: Path, text: str) -> None:
    """The benchmark's own output is replaced atomically (it is regenerated each run)."""
    files.write_atomic(path, text, overwrite=True)


def format_table(result: dict[str, Any]) -> str:
    info = result["machine"]
    blas = ", ".join(f"{b['library']} {b['threads']} threads" for b in info.get("blas", [])) or "none loaded"
    lines = [
        f"machine: {info.get('platform', '?')}, {info.get('cpus', '?')} CPUs; Python "
        f"{info.get('python', '?')}, numpy {info.get('numpy', '?')}, numba {info.get('numba', '?')} "
        f"({info.get('numba_threads', '?')} threads, {info.get('numba_threading_layer', '?')}), "
        f"pgmpy {info.get('pgmpy', '?')}, pyAgrum {info.get('pyagrum', '-')}",
        f"BLAS: {blas}",
        "",
        f"{'benchmark':<62} {'ours':>10} {'pgmpy':>11} {'x pgmpy':>9}  target; note",
    ]
    for r in result["rows"]:
        ref = f"{r['pgmpy_s'] * 1e3:9.1f}ms" if r["pgmpy_s"] else f"{'-':>11}"
        ratio = f"{r['speedup_vs_pgmpy']:8.1f}x" if r["speedup_vs_pgmpy"] else f"{'-':>9}"
        note = r["note"]
        if r.get("pyagrum_s"):
            note = f"pyAgrum {r['pyagrum_s'] * 1e3:.2f}ms ({r['speedup_vs_pyagrum']:.1f}x); {note}"
        target = r.get("target") or ""
        lines.append(f"{r['benchmark']:<62} {r['ours_s'] * 1e3:8.2f}ms {ref} {ratio}  {target}; {note}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (the CI smoke run)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "latest.json")
    args = parser.parse_args(argv)
    result = run(args.quick)
    if "numba" in result["machine"]:
        result["machine"]["numba_threading_layer"] = _threading_layer()
    print(format_table(result))
    result["scale"] = scale.run(args.quick)
    print("\nscale: synthetic noisy-OR networks, one differential and a batch of 1,000\n")
    print(scale.format_rows(result["scale"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)  # benchmarks/results/ is not in git
    write_atomic(args.out, json.dumps(result, indent=2))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
