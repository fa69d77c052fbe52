"""How fast the page feels in a real browser: click to updated page, and first load.

Run ``python -m benchmarks.page_speed`` (``--quick`` for the small CI form). It starts
the page as ``toe-twitch serve`` does (``streamlit run`` of the installed ``ui/app.py``
with the serve settings) on 127.0.0.1, opens Debian's chromium (``/usr/bin/chromium``,
never a downloaded browser) and measures, in the browser's own clock:

* **first load**: from navigation to the questions and the ranking drawn, for the
  guided questions at phone size and the full list at desktop size;
* **click to updated page**: the interview answered "No" question after question (the
  next question expected is the one :func:`toe_twitch.interview.plan` picks for those answers),
  and answers in the full list (the ranking expected is the model's). The time runs from
  the click to the frame in which the page shows exactly what the model says for the new
  answers, and the address bar holds them.

Prints a table and writes JSON (``--out``, default ``benchmarks/results/page_speed.json``).
``benchmarks/load.py`` holds the server and browser helpers shared with the load and
soak runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import load
from toe_twitch import interview, load_model

RESULTS = load.RESULTS
PHONE = load.PHONE
DESKTOP = load.DESKTOP


def expected_question(m, evidence: dict[str, str]) -> str | None:
    plan = interview.plan(m.case(evidence), [])
    if plan.step != interview.QUESTION:
        return None
    return m.vocabulary.findings[plan.question.finding].question


def expected_ranking(m, evidence: dict[str, str]) -> dict[str, list[str]]:
    return load.ranking_for(m, evidence)


def first_load(browser, url: str, viewport: dict, phone: bool, ready: str) -> float:
    """Milliseconds from navigation to ``ready`` (a JS condition) in a fresh context."""
    context = load.new_context(browser, viewport, phone)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(ready, timeout=30_000, polling="raf")
    ms = page.evaluate("performance.now()")
    context.close()
    return ms


def interview_clicks(browser, base: str, m, count: int) -> list[float]:
    """Answer "No" to ``count`` interview questions; each click's time to the next one."""
    red = {f: "absent" for f in m.vocabulary.red_flags}
    evidence = {**red, "age_group": "adult"}
    evidence |= dict.fromkeys(interview.health_screen(m, evidence), "absent")
    context = load.new_context(browser, PHONE, phone=True)
    page = context.new_page()
    page.goto(base + "/?" + "&".join(f"{f}={s}" for f, s in evidence.items()))
    page.wait_for_selector(".st-key-iv_absent button", timeout=30_000)
    load.settle(page)
    times = []
    for _ in range(count):
        label = expected_question(m, evidence)
        if label is None:
            break
        finding = next(f for f in m.findings if m.vocabulary.findings[f].question == label)
        evidence[finding] = "absent"
        following = expected_question(m, evidence)
        if following is None:
            break
        arg = {"heading": following, "param": f"{finding}=absent"}
        times.append(
            page.evaluate(
                load.CLICK_AND_WAIT,
                [".st-key-iv_absent button", load.SCREEN_SHOWN, arg, load.TIMEOUT_MS],
            )
        )
        load.settle(page)
        page.wait_for_timeout(150)  # a person reads the next question
    context.close()
    return times


def list_clicks(browser, base: str, m, count: int) -> list[float]:
    """Answer questions of the full list one by one; each click's time to the ranking."""
    context = load.new_context(browser, DESKTOP, phone=False)
    page = context.new_page()
    page.goto(base + "/explore")
    page.wait_for_selector(".st-key-q_onset_falling_asleep button", timeout=30_000)
    load.settle(page)
    evidence: dict[str, str] = {}
    order = [f for f in m.findings if f != "age_group" and not m.vocabulary.findings[f].red_flag]
    order = [f for f in order if not m.vocabulary.findings[f].applies_to]
    times = []
    for i, finding in enumerate(order[:count]):
        state = "present" if i % 3 == 0 else "absent"
        evidence[finding] = state
        arg = {**expected_ranking(m, evidence), "param": f"{finding}={state}"}
        index = 1 if state == "present" else 2
        selector = f".st-key-q_{finding} [data-testid='stButtonGroup'] button:nth-of-type({index})"
        times.append(
            page.evaluate(load.CLICK_AND_WAIT, [selector, load.RANKING_SHOWN, arg, load.TIMEOUT_MS])
        )
        load.settle(page)
        page.wait_for_timeout(150)
    context.close()
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {
        "n": len(times),
        "median_ms": statistics.median(times),
        "p90_ms": p90,
        "max_ms": max(times),
    }


def run(quick: bool) -> dict[str, Any]:
    m = load_model()
    with load.server() as srv, load.chromium() as browser:
        load.warm(browser, srv.url)
        guided_ready = (
            "document.querySelector('.tt-bars') && document.querySelector('.st-key-iv_none button')"
        )
        explore_ready = (
            "document.querySelector('.tt-bars') && "
            "document.querySelectorAll('[data-testid=\"stButtonGroup\"]').length > 40"
        )
        loads = {"guided_phone": [], "explore_desktop": []}
        for _ in range(2 if quick else 5):
            loads["guided_phone"].append(
                first_load(browser, srv.url + "/", PHONE, True, guided_ready)
            )
            loads["explore_desktop"].append(
                first_load(browser, srv.url + "/", DESKTOP, False, explore_ready)
            )
        clicks = {
            "interview_phone": interview_clicks(browser, srv.url, m, 6 if quick else 12),
            "full_list_desktop": list_clicks(browser, srv.url, m, 6 if quick else 20),
        }
        if not quick:
            clicks["interview_phone"] += interview_clicks(browser, srv.url, m, 12)
            clicks["full_list_desktop"] += list_clicks(browser, srv.url, m, 20)
    every = [t for ts in clicks.values() for t in ts]
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average": os.getloadavg(),
        "first_load_ms": {
            k: {"median": statistics.median(v), "max": max(v), "all": v} for k, v in loads.items()
        },
        "clicks": {k: summary(v) | {"all": v} for k, v in clicks.items()},
        "all_clicks": summary(every),
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [f"load average at the end: {', '.join(f'{x:.2f}' for x in result['load_average'])}"]
    lines.append("first load (navigation to questions and ranking drawn):")
    for k, v in result["first_load_ms"].items():
        lines.append(f"  {k:20s} median {v['median']:7.0f} ms   max {v['max']:7.0f} ms")
    lines.append("click to updated page:")
    for k, v in [*result["clicks"].items(), ("all", result["all_clicks"])]:
        lines.append(
            f"  {k:20s} n={v['n']:3d}  median {v['median_ms']:6.0f} ms  p90 {v['p90_ms']:6.0f} ms  max {v['max_ms']:6.0f} ms"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few clicks and loads (CI)")
    parser.add_argument("--out", type=Path, default=RESULTS / "page_speed.json")
    args = parser.parse_args(argv)
    result = run(args.quick)
    print(format_table(result))
    load.write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
