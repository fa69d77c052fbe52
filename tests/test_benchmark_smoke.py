"""The benchmark runs (smoke size). It measures; it does not assert timings."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_benchmark_quick_run_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "one differential" in result.stdout and "x pgmpy" in result.stdout
    data = json.loads(out.read_text())
    assert {"rows", "machine"} <= set(data)
    assert all(r["ours_s"] > 0 for r in data["rows"])
    assert [r["causes"] for r in data["scale"]] == [12, 16]
    assert all(r["compiled"] and r["one_differential_s"] > 0 for r in data["scale"])
    assert data["machine"]["blas"] and data["machine"]["numba_threads"] >= 1
