"""Does one heavy upload stall another person? A 5,000-vignette file against answers.

Run ``python -m benchmarks.page_stall``. It serves the page as ``toe-twitch serve``
does, then in one chromium: session B (a phone) answers interview questions alone to
set a baseline; session A uploads a vignette file of 5,000 cases (under the 1 MB limit)
on the Validation page; while A's file is read, checked and scored, B goes on answering.
Reported: how long A waited for its scores, and B's click-to-update times before and
during A's job (the time from the click to the frame showing the next question the
interview plan picks). Writes JSON (``--out``, default
``benchmarks/results/page_stall.json``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks import load
from toe_twitch import interview, load_model
from toe_twitch.vignettes import MAX_VIGNETTES, load_vignettes


def vignette_file(folder: Path, count: int = MAX_VIGNETTES) -> Path:
    """``count`` vignettes made from the shipped ones (a few findings each), in flow
    style so that 5,000 fit in the 1 MB limit."""
    shipped = load_vignettes()
    lines = ["vignettes:"]
    for i in range(count):
        v = shipped[i % len(shipped)]
        row = {
            "id": f"v{i}",
            "findings": dict(list(v.findings.items())[:4]),
            "expect": {"urgency": list(v.expect.urgency), "top3": list(v.expect.top3)[:1]},
        }
        lines.append("- " + yaml.safe_dump(row, default_flow_style=True, width=10**9).strip())
    path = folder / "vignettes-5000.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


class Interview:
    """Session B: answers "No" to one interview question after another."""

    def __init__(self, browser, base: str):
        self.m = load_model()
        self.context = load.new_context(browser, load.PHONE, phone=True)
        self.page = self.context.new_page()
        self.base = base
        self.restart()

    def restart(self) -> None:
        self.evidence = {f: "absent" for f in self.m.vocabulary.red_flags} | {"age_group": "adult"}
        self.evidence |= dict.fromkeys(interview.health_screen(self.m, self.evidence), "absent")
        self.page.goto(
            self.base + "/questions?" + "&".join(f"{f}={s}" for f, s in self.evidence.items())
        )
        self.page.wait_for_selector(".st-key-iv_absent button", timeout=load.TIMEOUT_MS)
        load.settle(self.page)

    def click(self) -> float:
        heading = load.heading_for(self.m, self.evidence, [])
        finding = next(
            (f for f in self.m.findings if self.m.vocabulary.findings[f].question == heading), None
        )
        if finding is None:
            self.restart()
            return self.click()
        self.evidence[finding] = "absent"
        arg = {"heading": load.heading_for(self.m, self.evidence, []), "param": f"{finding}=absent"}
        ms = self.page.evaluate(
            load.CLICK_AND_WAIT,
            [".st-key-iv_absent button", load.SCREEN_SHOWN, arg, load.TIMEOUT_MS],
        )
        if not self.page.locator(".st-key-iv_absent button").count():
            self.restart()
        return ms


def run(baseline_clicks: int = 10) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="toe-twitch-stall-"))
    upload = vignette_file(folder)
    with load.server() as srv, load.chromium() as browser:
        load.warm(browser, srv.url)
        b = Interview(browser, srv.url)
        baseline = []
        for _ in range(baseline_clicks):
            baseline.append(b.click())
            b.page.wait_for_timeout(200)
        a_context = load.new_context(browser, load.DESKTOP, phone=False)
        a = a_context.new_page()
        a.goto(srv.url + "/validation")
        a.wait_for_selector(".st-key-val_scores", timeout=load.TIMEOUT_MS)
        load.settle(a)
        started = time.monotonic()
        a.locator(".st-key-val_upload input[type=file]").set_input_files(str(upload))
        during = []
        while not a.get_by_text("From the uploaded file").count():
            during.append(b.click())
            b.page.wait_for_timeout(200)
            if time.monotonic() - started > 120:
                raise RuntimeError("the upload was not scored within 2 minutes")
        waited = time.monotonic() - started
        scored = a.locator('[data-testid="stMetricValue"]').first.inner_text()
        rss = srv.rss_mib()
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "file_bytes": upload.stat().st_size,
        "vignettes": MAX_VIGNETTES,
        "upload_scored_after_s": waited,
        "first_score_shown": scored,
        "baseline_ms": {
            "median": statistics.median(baseline),
            "max": max(baseline),
            "all": baseline,
        },
        "during_upload_ms": {
            "n": len(during),
            "median": statistics.median(during) if during else None,
            "max": max(during) if during else None,
            "all": during,
        },
        "rss_mib_after": rss,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=load.RESULTS / "page_stall.json")
    args = parser.parse_args(argv)
    result = run()
    d, base = result["during_upload_ms"], result["baseline_ms"]
    print(
        f"5,000-vignette upload ({result['file_bytes'] / 1e6:.2f} MB) scored after "
        f"{result['upload_scored_after_s']:.1f} s; another session's clicks meanwhile: "
        f"n={d['n']}, median {d['median']:.0f} ms, max {d['max']:.0f} ms "
        f"(alone: median {base['median']:.0f} ms, max {base['max']:.0f} ms)"
    )
    load.write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
