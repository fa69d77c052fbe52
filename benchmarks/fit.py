"""Fit: learning the priors from 10,000 cases to convergence (issue 23).

A clinic's cases are drawn from the shipped model with a dozen links of the common causes
moved within their ranges (``toe_twitch.learning.sample_cases``: 30% of answers unknown,
40% of cases without a diagnosis), then :func:`toe_twitch.learning.fit` learns every
number from them with the shipped priors as the prior. Printed: the cases, the seconds,
the iterations, whether it converged, the peak memory of the process (its largest
resident set, which includes the interpreter, numpy, numba and the model), the CPU
seconds (all threads: on a shared machine the wall time says more about the others) and how close
the moved links came back. The target is under 60 s on 2 cores.

Run ``python -m benchmarks.fit`` (``--cases N`` for another size, ``--json`` for the
figures as one JSON object).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from typing import Any

import numpy as np

from toe_twitch import load_model
from toe_twitch.learning import cases_csv, fit, model_with, moved_links, parse_cases, sample_cases

TARGET_S = 60.0


def peak_memory_mb() -> float:
    """The process's largest resident set so far, in MB (ru_maxrss: KiB on Linux)."""
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def run(n_cases: int, seed: int = 0) -> dict[str, Any]:
    model = load_model()
    truth = moved_links(model)
    truth_model = model_with(model, truth)
    rows = sample_cases(truth_model, n_cases, seed=seed)
    cases = parse_cases(cases_csv(rows).encode(), f"simulated-{n_cases}.csv", model)
    before_fit = peak_memory_mb()
    started, cpu = time.perf_counter(), time.process_time()
    result = fit(cases, model)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    learned = {n.path: n for n in result.numbers}
    closer = sum(abs(learned[p].after - v) * 2 <= abs(learned[p].before - v) for p, v in truth.items())
    covered = sum(learned[p].low <= v <= learned[p].high for p, v in truth.items())
    return {
        "cases": n_cases, "seconds": seconds, "cpu_seconds": cpu, "iterations": result.iterations,
        "converged": result.converged, "target_s": TARGET_S,
        "peak_memory_mb": peak_memory_mb(), "peak_memory_before_fit_mb": before_fit,
        "moved_links": len(truth), "twice_as_close": int(closer), "covered_by_90": int(covered),
        "machine": platform.machine(), "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = run(args.cases)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    verdict = "within" if figures["seconds"] < TARGET_S else "OVER"
    print(f"fit of {figures['cases']:,} cases: {figures['seconds']:.1f} s ({verdict} the "
          f"{TARGET_S:.0f} s target), {figures['iterations']} iterations "
          f"({'converged' if figures['converged'] else 'not converged'}); "
          f"{figures['cpu_seconds']:.1f} s of CPU (all threads; on a busy machine the wall time "
          "is longer than the work)")
    print(f"peak memory {figures['peak_memory_mb']:.0f} MB (the process; "
          f"{figures['peak_memory_before_fit_mb']:.0f} MB before the fit)")
    print(f"moved links: {figures['twice_as_close']} of {figures['moved_links']} at least twice "
          f"as close to the truth as the prior; {figures['covered_by_90']} inside their 90% interval")
    print(f"({np.__name__} {np.__version__}, {figures['machine']}, Python {figures['python']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
