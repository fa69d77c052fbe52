"""Benchmark: the cause-space engine against pgmpy (and pyAgrum) on the same queries.

Run ``python -m benchmarks.run`` (full) or ``python -m benchmarks.run --quick`` (the CI
smoke size). Prints the machine, the library versions, the thread counts (BLAS, numba)
and the load average with a table, and writes the figures as JSON (``--out``, default
``benchmarks/results/latest.json``, written atomically).

Every row is timed over several runs (at least 5) after a warm-up and reported as
min / median / max. Where pgmpy answers the same queries, each run times ours and pgmpy
back to back, so a machine that others are using slows both alike; the ratio is pgmpy's
median over ours. A target is judged on the median.
"""

from __future__ import annotations

import argparse
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
from toe_twitch import files, load_model, sensitivity, uncertainty  # noqa: E402
from toe_twitch.analysis import sample_parameters  # noqa: E402
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


#: Runs per row (each run times ours and pgmpy back to back, so a busy machine slows both).
RUNS = 7
QUICK_RUNS = 5


def run_times(fn, runs: int, warmup: int = 1, inner: int = 1) -> list[float]:
    """Seconds per call of ``fn`` over ``runs`` runs (each the mean of ``inner`` calls)."""
    for _ in range(warmup):
        fn()
    return [_once(fn, inner) for _ in range(runs)]


def interleaved(ours, theirs, runs: int, inner: int = 1, scale: float = 1.0) -> tuple[list[float], list[float]]:
    """Run ours and the reference alternately ``runs`` times after a warm-up of each:
    seconds per call for ours (mean of ``inner`` calls) and for the reference (times
    ``scale``, when it is timed on a sample and scaled up)."""
    ours()
    theirs()
    mine, ref = [], []
    for _ in range(runs):
        mine.append(_once(ours, inner))
        ref.append(_once(theirs, 1) * scale)
    return mine, ref


def _once(fn, inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def spread(times: list[float] | None) -> dict[str, float] | None:
    """min, median and max of a list of run times."""
    if not times:
        return None
    return {"min": min(times), "median": statistics.median(times), "max": max(times)}


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
    m = load_model()
    rows: list[dict[str, Any]] = []
    runs = QUICK_RUNS if quick else RUNS
    for section in (_single, _interactive, _parameters, _batch, _combinations, _loading):
        rows += section(m, runs, quick)
    return {"rows": rows, "machine": machine(), "quick": quick, "runs": runs,
            "load_average": _load_average()}


def row(name: str, ours: list[float], reference: list[float] | None = None, *, target: str = "",
        met: bool | None = None, note: str = "", **extra) -> dict[str, Any]:
    """One table row: our run times, pgmpy's from the same runs, the target and whether the
    median meets it."""
    entry = {"benchmark": name, "ours": spread(ours), "pgmpy": spread(reference),
             "ours_runs": ours, "pgmpy_runs": reference, "target": target, "met": met,
             "note": note, **extra}
    entry["ours_s"] = entry["ours"]["median"]
    entry["pgmpy_s"] = entry["pgmpy"]["median"] if reference else None
    if reference:
        ratios = [r / o for o, r in zip(ours, reference, strict=True)]
        entry["speedup_vs_pgmpy"] = entry["pgmpy_s"] / entry["ours_s"]
        entry["speedup_runs"] = spread(ratios)
    else:
        entry["speedup_vs_pgmpy"] = None
    return entry


def _pgmpy(m):
    from pgmpy.inference import VariableElimination

    ve = VariableElimination(m.network)

    def query(evidence):
        return ve.query(m.causes, evidence=m.reference_evidence(evidence), joint=False, show_progress=False)

    return query


def _single(m, runs: int, quick: bool) -> list[dict[str, Any]]:
    pgmpy_query = _pgmpy(m)
    inner = 50
    ours, ref = interleaved(lambda: m.posterior_batch([TYPICAL]), lambda: pgmpy_query(TYPICAL), runs, inner)
    out = [row("one differential (age + 4 answers)", ours, ref, target=">= 30x pgmpy",
               met=statistics.median(ref) / statistics.median(ours) >= 30, **_pyagrum(m, runs))]
    ours, ref = interleaved(lambda: m.diagnose(TYPICAL), lambda: pgmpy_query(TYPICAL), runs, inner)
    out.append(row("diagnose with urgency (same answers)", ours, ref, target=">= 10x pgmpy",
                   met=statistics.median(ref) / statistics.median(ours) >= 10,
                   note="pgmpy: the same posterior query"))
    return out


def _pyagrum(m, runs: int) -> dict[str, Any]:
    try:
        import pyagrum as gum

        from tests.test_engine import pyagrum_network
    except ImportError:
        return {}
    _, bn = pyagrum_network(m)
    lazy = gum.LazyPropagation(bn)

    def agrum_query():
        lazy.setEvidence(m.reference_evidence(TYPICAL))
        lazy.makeInference()
        return [lazy.posterior(c)[1] for c in m.causes]

    times = run_times(agrum_query, runs, inner=5)
    return {"pyagrum": spread(times), "pyagrum_runs": times}


def _interactive(m, runs: int, quick: bool) -> list[dict[str, Any]]:
    """What-if plus next questions of one case (:meth:`ToeTwitchModel.case`)."""
    pgmpy_query = _pgmpy(m)

    def interactive():
        case = m.case(TYPICAL)  # one look-ahead serves both views
        return case.what_ifs, case.questions[:5]

    options = m.look_ahead(TYPICAL).options
    sample = options[:: max(1, len(options) // (4 if quick else 10))]
    ours, ref = interleaved(interactive, lambda: [pgmpy_query({**TYPICAL, f: s}) for f, s in sample], runs,
                            inner=3, scale=(len(options) + 1) / len(sample))
    return [row("what-if + next questions", ours, ref, target="< 5 ms", met=statistics.median(ours) < 5e-3,
                note=f"{len(options)} answers; pgmpy timed on {len(sample)} per run and scaled")]


def _parameters(m, runs: int, quick: bool) -> list[dict[str, Any]]:
    """Uncertainty and sensitivity: parameter batches; pgmpy rebuilds the network per model."""
    from pgmpy.inference import VariableElimination

    draws = 200 if quick else 1000
    tables = build_tables(m.structure, sample_parameters(m, 2, seed=0))

    def pgmpy_draws():
        for r in range(2):
            VariableElimination(pgmpy_network(m.structure, tables, row=r)).query(
                m.causes, evidence=m.reference_evidence(TYPICAL), joint=False, show_progress=False)

    ours, ref = interleaved(lambda: uncertainty(m, TYPICAL, draws=draws, seed=0), pgmpy_draws, runs,
                            scale=draws / 2)
    out = [row(f"uncertainty ({draws:,} draws)", ours, ref, target="< 0.3 s (1,000 draws)",
               met=None if quick else statistics.median(ours) < 0.3,
               note="pgmpy timed on 2 draws per run and scaled")]
    n_models = 2 * len(m.structure.parameters)
    ours, ref = interleaved(lambda: sensitivity(m, TYPICAL, "neuropathy"), pgmpy_draws, runs,
                            scale=n_models / 2)
    out.append(row(f"sensitivity sweep ({n_models} one-parameter models)", ours, ref, target="< 0.3 s",
                   met=statistics.median(ours) < 0.3, note="pgmpy timed on 2 models per run and scaled"))
    return out


def _batch(m, runs: int, quick: bool) -> list[dict[str, Any]]:
    """Random evidence sets as a DataFrame (categoricals, then plain strings)."""
    import numba

    pgmpy_query = _pgmpy(m)
    n = 10_000 if quick else 100_000
    frame = random_frame(m, n, seed=1)
    strings = frame.astype(object).where(frame.notna(), None)
    subset = [m.decode(m.encode(frame.iloc[:40]), i) for i in range(20 if quick else 40)]
    threads = numba.get_num_threads()
    out = []
    for name, data in (("categorical", frame), ("plain-string", strings)):
        ours, ref = interleaved(lambda data=data: m.query(data, impossible="mark"),
                                lambda: [pgmpy_query(e) for e in subset], runs, scale=n / len(subset))
        rate = n / statistics.median(ours)
        ratio = statistics.median(ref) / statistics.median(ours)
        out.append(row(f"batch of {n:,} random evidence sets ({name} DataFrame)", ours, ref,
                       target=">= 100,000 sets/s and >= 1,000x pgmpy", met=rate >= 1e5 and ratio >= 1000,
                       note=f"{rate:,.0f} sets/s (median) with {threads} numba threads; pgmpy timed on "
                            f"{len(subset)} per run and scaled", sets_per_second=rate, numba_threads=threads))
    numba.set_num_threads(1)
    try:
        part = frame.iloc[: n // 5]
        one = run_times(lambda: m.query(part, impossible="mark"), runs)
    finally:
        numba.set_num_threads(threads)
    out.append(row(f"the same, {n // 5:,} categorical sets on 1 numba thread", one,
                   note=f"{len(part) / statistics.median(one):,.0f} sets/s (median)",
                   sets_per_second=len(part) / statistics.median(one), numba_threads=1))
    tracemalloc.start()
    m.query(frame, impossible="mark")
    out[0]["batch_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out


def _combinations(m, runs: int, quick: bool) -> list[dict[str, Any]]:
    """Every combination of 15 yes/no findings, age fixed: 32,768 coherent cases."""
    k = 12 if quick else 15
    names = [f for f in SWEEP if f in m.states][:k]
    ours = run_times(lambda: m.every_combination(names, {"age_group": "adult"}), runs)
    return [row(f"every combination of {k} yes/no answers, age fixed ({2**k:,} cases)", ours,
                target="< 0.1 s (15 answers)", met=None if quick else statistics.median(ours) < 0.1,
                note="model.every_combination (two halves, matrix products)")]


def _loading(m, runs: int, quick: bool) -> list[dict[str, Any]]:
    code = ("import time; t = time.perf_counter(); from toe_twitch import load_model; load_model(); "
            "print(time.perf_counter() - t)")

    def fresh() -> float:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
        return float(done.stdout.strip() or "nan")

    fresh()  # numba's compiled kernels are cached on disk by the first
    times = [fresh() for _ in range(runs)]
    return [row("load_model in a fresh process (imports included)", times, target="< 0.5 s",
                met=statistics.median(times) < 0.5),
            row("load_model again in this process", run_times(load_model, runs))]


def _load_average() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


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
    load = result.get("load_average")
    lines = [
        f"machine: {info.get('platform', '?')}, {info.get('cpus', '?')} CPUs; Python "
        f"{info.get('python', '?')}, numpy {info.get('numpy', '?')}, numba {info.get('numba', '?')} "
        f"({info.get('numba_threads', '?')} threads, {info.get('numba_threading_layer', '?')}), "
        f"pgmpy {info.get('pgmpy', '?')}, pyAgrum {info.get('pyagrum', '-')}",
        f"BLAS: {blas}; load average {', '.join(f'{x:.1f}' for x in load) if load else '?'}; "
        f"{result.get('runs', '?')} runs per row, ours and pgmpy interleaved",
        "",
        f"{'benchmark':<58} {'ours min / median / max':>27} {'pgmpy median':>13} "
        f"{'x pgmpy (runs)':>20}  target: met?; note",
    ]
    for r in result["rows"]:
        o = r["ours"]
        ours = f"{_ms(o['min'])} / {_ms(o['median'])} / {_ms(o['max'])}"
        ref = _ms(r["pgmpy_s"]) if r["pgmpy_s"] else "-"
        ratio = "-"
        if r["speedup_vs_pgmpy"]:
            runs = r["speedup_runs"]
            ratio = f"{r['speedup_vs_pgmpy']:.0f}x ({runs['min']:.0f}-{runs['max']:.0f})"
        met = {True: "met", False: "MISSED", None: "-"}[r.get("met")]
        note = r["note"]
        if r.get("pyagrum"):
            note = f"pyAgrum median {_ms(r['pyagrum']['median'])}; {note}"
        lines.append(f"{r['benchmark']:<58} {ours:>27} {ref:>13} {ratio:>20}  "
                     f"{r.get('target') or '-'}: {met}; {note}")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}ms" if seconds < 1 else f"{seconds:.2f}s"


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
