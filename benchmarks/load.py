"""Many people at once: browser sessions answer the Explore page's questions together.

Run ``python -m benchmarks.load --sessions 20 --seconds 60``. It starts the page
(``streamlit run ui/app.py``) on 127.0.0.1, opens one Debian chromium
(``/usr/bin/chromium``, never a downloaded browser) with one context per session, and
lets every session answer questions in the sidebar for the given time, pausing a
moment between answers as a person would.

After every answer the session waits until its page shows exactly what the model
computes for *its own* answers: the address bar holds them, the urgency banner has the
right level and title, and the list of causes has every cause with its rank and
percentage as the model ranks them. The time from the click to that moment
is one interaction time. Every fourth session answers a red flag with "Yes" (and later
"No"); once its emergency banner shows, every other session whose answers cannot be an
emergency is checked not to show one.

Each answer's time is also split into Playwright's click, the click to the rerun
request on the websocket, and that request to the server's "script finished" message;
the CPU the server and the browser used meanwhile is reported too. On one machine the
browsers compete with the server for the same cores, so these say where the time went.

Counted as errors: an exception box on a page, a console error or uncaught script error
from the page (requests to other hosts, which fail offline, are listed apart), a page
that does not reach its expected view in time, an emergency banner in the wrong session,
and a traceback in the server's log.

Prints a table and writes everything as JSON (``--out``, default
``benchmarks/results/load.json``, written atomically). The exit status is 1 when there
were errors. tests/test_load.py runs a reduced form of the same code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from model import ToeTwitchError, ToeTwitchModel, files, load_model
from ui.common import percent

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # All sessions are "in front": none is slowed down for being a background page.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
VIEWPORT = {"width": 1440, "height": 1000}
#: Every n-th session (0, n, 2n, ...) answers a red flag; the others never do.
RED_FLAG_EVERY = 4
#: Each session answers at least this often, even past the time limit, so that every
#: red-flag session turns its red flag on (interaction 1) and off again (interaction 3).
MIN_INTERACTIONS = 4
#: A session stops answering after this many answers its page did not show.
MAX_FAILURES = 2
#: How often the page is checked while waiting for it to show the answers (ms).
POLL_MS = 200
#: An answer's weight when a session picks a new answer (the current one is left out).
ANSWER_WEIGHTS = {"present": 0.45, "absent": 0.35, "unknown": 0.2}
ANSWER_BUTTONS = {"present": "Yes", "absent": "No", "unknown": "Don't know"}
BANNER_TEST_IDS = {
    "self_care": "stAlertContentSuccess",
    "see_doctor": "stAlertContentWarning",
    "emergency": "stAlertContentError",
}
IMPOSSIBLE_TITLE = "These answers cannot be combined"

#: True once the page shows ``exp`` (see :class:`PageExpectation`) and none of it is stale.
#: It reads textContent, not innerText, so that polling never forces a layout.
SHOWS_EXPECTED_JS = """
(exp) => {
  const stale = (el) => el.closest('[data-stale="true"]') || el.querySelector('[data-stale="true"]');
  const params = new URLSearchParams(location.search);
  const query = [...params.entries()].sort();
  if (JSON.stringify(query) !== JSON.stringify(exp.query)) return false;
  const banners = [...document.querySelectorAll(`[data-testid="${exp.banner}"]`)]
    .filter((b) => b.textContent.includes(exp.title));
  if (banners.length !== 1 || stale(banners[0])) return false;
  if (exp.urgency !== "emergency") {
    for (const b of document.querySelectorAll('[data-testid="stAlertContentError"]')) {
      if (b.textContent.includes(exp.emergency_title)) return false;
    }
  }
  if (exp.ranking.length) {
    const box = document.querySelector(".st-key-ranking");
    if (!box || stale(box)) return false;
    const text = box.textContent;
    let at = 0;
    for (const line of exp.ranking) {
      const found = text.indexOf(line, at);
      if (found < 0) return false;
      at = found + line.length;
    }
  }
  return true;
}
"""
#: True when no rerun is in progress (Streamlit marks the elements of a running rerun stale).
SETTLED_JS = """() => !document.querySelector('[data-stale="true"]')"""
#: What the page shows instead, for the message of a page that did not update in time.
SHOWN_JS = """
() => ({
  query: location.search,
  banners: [...document.querySelectorAll('[data-testid^="stAlertContent"]')]
    .map((b) => b.getAttribute("data-testid") + ": " + b.innerText.slice(0, 80)),
  ranking: (document.querySelector(".st-key-ranking")?.innerText ?? "").slice(0, 300),
  stale: document.querySelectorAll('[data-stale="true"]').length,
})
"""


# ---------------------------------------------------------------- what a page should show
@dataclass(frozen=True)
class PageExpectation:
    """What the Explore page shows for one set of answers, as the model computes it.

    ``query`` is the address bar's answers as sorted ``[finding, state]`` pairs;
    ``banner`` the test id of the urgency alert and ``title`` its heading; ``ranking``
    the start of each line of the list of causes (rank, label, percentage), in order; empty
    when an emergency folds the list away.
    """

    query: list[list[str]]
    urgency: str
    banner: str
    title: str
    emergency_title: str
    ranking: list[str]


def expected_page(model: ToeTwitchModel, evidence: dict[str, str]) -> PageExpectation:
    """The page's view of these answers, computed with the model the page uses."""
    ordered = {f: evidence[f] for f in model.findings if f in evidence}  # question order
    query = sorted([f, s] for f, s in ordered.items())
    emergency_title = model.vocabulary.urgency["emergency"].label
    try:
        d = model.diagnose(ordered)
    except ToeTwitchError:
        return PageExpectation(
            query, "impossible", "stAlertContentWarning", IMPOSSIBLE_TITLE, emergency_title, []
        )
    title = model.vocabulary.urgency[d.urgency].label
    ranking: list[str] = []
    if d.urgency != "emergency":
        ranking = [
            f"{i}. {model.vocabulary.causes[c].label} · {percent(p)} ·"
            for i, (c, p) in enumerate(d.ranking, start=1)
        ]
    return PageExpectation(
        query, d.urgency, BANNER_TEST_IDS[d.urgency], title, emergency_title, ranking
    )


# ---------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s:\n{log.read_text()}")


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state is [0], ppid [1])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process so far (Linux only; None elsewhere)."""
    fields = _stat(pid)
    return (
        None if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    )


def descendants_cpu_seconds(pid: int, *, leave_out: int | None = None) -> float | None:
    """CPU time so far of the living descendants of ``pid``, without the ``leave_out``
    process and its own descendants (Linux only; None elsewhere)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if fields is not None:
            parents[int(entry.name)] = int(fields[1])
    if not parents:
        return None
    tree, grew = {pid}, True
    while grew:
        more = {c for c, p in parents.items() if p in tree and c != leave_out} - tree
        tree |= more
        grew = bool(more)
    return sum(cpu_seconds(p) or 0.0 for p in tree - {pid})


@contextmanager
def streamlit_server(log: Path) -> Iterator[Server]:
    """``streamlit run ui/app.py`` on a free port of 127.0.0.1, stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "ui/app.py",
                "--server.headless", "true",
                "--server.port", str(port),
                "--server.address", "127.0.0.1",
                "--server.fileWatcherType", "none",
                "--browser.gatherUsageStats", "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_healthy(url, process, log)
        yield Server(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def server_log_errors(log: Path) -> list[str]:
    """Each traceback in the server's output (as its last line), and each ERROR line."""
    lines = log.read_text(errors="replace").splitlines()
    errors = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            last = next((x for x in lines[i + 1 :] if x and not x.startswith(" ")), "?")
            errors.append(f"traceback: {last}")
        elif " ERROR " in line:
            errors.append(line)
    return errors


# ---------------------------------------------------------------- one session
@dataclass
class Problem:
    """One error seen in a session: ``kind`` is ``page`` (an exception, console or
    script error), ``stale`` (the page did not show the answers in time) or ``leak``
    (an emergency banner in a session whose answers are no emergency)."""

    kind: str
    session: int
    message: str


@dataclass
class Session:
    """One person: a browser context, their answers and what they saw."""

    index: int
    model: ToeTwitchModel
    rng: random.Random
    red_flag: str | None
    answers: dict[str, str] = field(default_factory=dict)
    #: Urgencies the page may show now: of the confirmed answers and of a pending click.
    possible_urgencies: set[str] = field(default_factory=lambda: {"self_care"})
    interactions: int = 0
    times_s: list[float] = field(default_factory=list)
    #: Parts of an answer's time: Playwright's click (it first waits for the button to be
    #: still and visible), click to the rerun request on the websocket, and that request
    #: to the server's "script finished" message.
    click_s: list[float] = field(default_factory=list)
    request_s: list[float] = field(default_factory=list)
    server_s: list[float] = field(default_factory=list)
    rerun_sent: float | None = None
    rerun_finished: float | None = None
    first_load_s: float | None = None
    emergency_banners: int = 0
    isolation_checks: int = 0
    failures: int = 0
    external_requests: set[str] = field(default_factory=set)
    page: Any = None

    def next_answer(self, ordinary: list[str]) -> tuple[str, str]:
        """(finding, answer) of the next click: the red-flag plan, else a random change."""
        step = self.interactions % 6
        if self.red_flag and step == 1:
            return self.red_flag, "present"
        if self.red_flag and step == 3:
            return self.red_flag, "absent"
        finding = self.rng.choice(ordinary)
        current = self.answers.get(finding, "unknown")
        choices = [a for a in ANSWER_WEIGHTS if a != current]
        answer = self.rng.choices(choices, weights=[ANSWER_WEIGHTS[a] for a in choices])[0]
        return finding, answer

    def answered(self, finding: str, answer: str) -> dict[str, str]:
        evidence = {f: s for f, s in self.answers.items() if f != finding}
        if answer != "unknown":
            evidence[finding] = answer
        return evidence


class LoadRun:
    """All sessions against one server, and the problems they saw."""

    def __init__(
        self, model: ToeTwitchModel, url: str, server_pid: int, timeout_s: float, think_s: float
    ) -> None:
        self.model = model
        self.url = url
        self.server_pid = server_pid
        self.cpu_before: dict[str, float | None] = {}
        self.cpu_after: dict[str, float | None] = {}
        self.timeout_ms = timeout_s * 1000
        self.think_s = think_s
        self.sessions: list[Session] = []
        self.problems: list[Problem] = []
        red = model.vocabulary.findings
        self.red_flags = [f for f in model.findings if red[f].red_flag]
        self.ordinary = [
            f
            for f in model.findings
            if not red[f].red_flag and set(model.states[f]) == {"present", "absent"}
        ]

    def cpu_now(self) -> dict[str, float | None]:
        """CPU seconds so far of the server, and of the browser (Playwright's driver and
        every chromium process: all other children of this process)."""
        return {
            "server": cpu_seconds(self.server_pid),
            "browser": descendants_cpu_seconds(os.getpid(), leave_out=self.server_pid),
        }

    def cpu_used(self, who: str) -> float | None:
        """CPU seconds ``who`` (server or browser) used while the sessions answered."""
        before, after = self.cpu_before.get(who), self.cpu_after.get(who)
        return None if before is None or after is None else after - before

    def problem(self, kind: str, session: Session, message: str) -> None:
        self.problems.append(Problem(kind, session.index, message))

    def watch(self, session: Session, page: Any) -> None:
        """Record console errors and uncaught script errors of the page."""

        def on_console(msg: Any) -> None:
            if msg.type != "error":
                return
            source = (msg.location or {}).get("url", "")
            if source and not source.startswith(self.url):
                session.external_requests.add(source)
            else:
                self.problem("page", session, f"console error: {msg.text[:300]}")

        def on_request_failed(request: Any) -> None:
            if not request.url.startswith(self.url):
                session.external_requests.add(request.url)

        def on_websocket(ws: Any) -> None:
            ws.on("framesent", lambda payload: self.sent(session, payload))
            ws.on("framereceived", lambda payload: self.received(session, payload))

        page.on("console", on_console)
        page.on("websocket", on_websocket)
        page.on("pageerror", lambda exc: self.problem("page", session, f"script error: {exc}"))
        page.on("crash", lambda _: self.problem("page", session, "the page crashed"))
        page.on("requestfailed", on_request_failed)

    @staticmethod
    def sent(session: Session, payload: str | bytes) -> None:
        """Note when the page asked the server for the rerun of the pending answer."""
        if session.rerun_sent is None and isinstance(payload, bytes):
            try:
                kind = BackMsg.FromString(payload).WhichOneof("type")
            except Exception:  # not a Streamlit message
                return
            if kind == "rerun_script":
                session.rerun_sent = time.perf_counter()

    @staticmethod
    def received(session: Session, payload: str | bytes) -> None:
        """Note when the server said that rerun was finished."""
        if session.rerun_sent is None or session.rerun_finished is not None:
            return
        if not isinstance(payload, bytes):
            return
        try:
            msg = ForwardMsg.FromString(payload)
        except Exception:  # not a Streamlit message
            return
        if (
            msg.WhichOneof("type") == "script_finished"
            and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY
        ):
            session.rerun_finished = time.perf_counter()

    async def shows(self, session: Session, expected: PageExpectation, what: str) -> bool:
        """Wait until the session's page shows ``expected``; record a problem if it does not."""
        page = session.page
        shown = True
        try:
            await page.wait_for_function(
                SHOWS_EXPECTED_JS, arg=asdict(expected), polling=POLL_MS, timeout=self.timeout_ms
            )
        except Exception as exc:  # Playwright's TimeoutError, or the page went away
            shown = False
            try:
                view = await page.evaluate(SHOWN_JS)
            except Exception:
                view = "(page not readable)"
            self.problem(
                "stale",
                session,
                f"{what}: expected {expected.title} with answers {expected.query} and "
                f"{expected.ranking[:1]}; the page shows {view} ({type(exc).__name__})",
            )
        await self.check_no_exception(session, what)
        return shown

    async def check_no_exception(self, session: Session, what: str) -> None:
        boxes = session.page.locator('[data-testid="stException"]')
        try:
            if await boxes.count():
                text = await boxes.first.inner_text()
                self.problem("page", session, f"{what}: exception on the page: {text[:300]}")
        except Exception as exc:  # the page went away
            self.problem("page", session, f"{what}: page not readable ({type(exc).__name__})")

    async def open(self, browser: Any, session: Session) -> None:
        context = await browser.new_context(viewport=VIEWPORT)
        session.page = await context.new_page()
        self.watch(session, session.page)
        start = time.perf_counter()
        try:
            await session.page.goto(self.url, timeout=self.timeout_ms)
        except Exception as exc:
            self.problem("stale", session, f"first load: the page did not open ({exc})")
            session.failures = MAX_FAILURES
            return
        if await self.shows(session, expected_page(self.model, {}), "first load"):
            session.first_load_s = time.perf_counter() - start
        else:
            session.failures = MAX_FAILURES  # nothing to answer on

    async def check_others_calm(self, session: Session) -> None:
        """After this session's emergency banner: no other session (that is no emergency) shows one."""
        title = self.model.vocabulary.urgency["emergency"].label
        for other in self.sessions:
            if other is session or other.page is None or "emergency" in other.possible_urgencies:
                continue
            banner = other.page.locator('[data-testid="stAlertContentError"]', has_text=title)
            shown = await banner.count()
            if "emergency" in other.possible_urgencies:  # it clicked meanwhile: no verdict
                continue
            session.isolation_checks += 1
            if shown:
                self.problem(
                    "leak",
                    other,
                    f"shows the emergency banner after session {session.index} answered "
                    f"a red flag; its own answers are {other.answers}",
                )

    async def interact(self, session: Session) -> None:
        finding, answer = session.next_answer(self.ordinary)
        evidence = session.answered(finding, answer)
        expected = expected_page(self.model, evidence)
        before = expected_page(self.model, session.answers).urgency
        session.possible_urgencies = {before, expected.urgency}
        control = session.page.locator(f".st-key-f_{finding}")
        button = control.get_by_role("radio", name=ANSWER_BUTTONS[answer], exact=True)
        what = f"interaction {session.interactions} ({finding} = {answer})"
        session.rerun_sent = session.rerun_finished = None
        start = time.perf_counter()
        session.interactions += 1
        try:
            await button.click(timeout=self.timeout_ms)
            session.click_s.append(time.perf_counter() - start)
        except Exception as exc:  # Playwright's TimeoutError, or the page went away
            self.problem("stale", session, f"{what}: could not click ({type(exc).__name__})")
            session.possible_urgencies = {before}
            session.failures += 1
            return
        ok = await self.shows(session, expected, what)
        elapsed = time.perf_counter() - start
        session.answers = evidence
        session.possible_urgencies = {expected.urgency}
        if not ok:
            session.failures += 1
            return
        session.times_s.append(elapsed)
        if session.rerun_sent is not None and session.rerun_finished is not None:
            session.request_s.append(session.rerun_sent - start)
            session.server_s.append(session.rerun_finished - session.rerun_sent)
        if expected.urgency == "emergency":
            session.emergency_banners += 1
            await self.check_others_calm(session)
        try:
            await session.page.wait_for_function(
                SETTLED_JS, polling=POLL_MS, timeout=self.timeout_ms
            )
        except Exception as exc:
            self.problem(
                "stale", session, f"{what}: the rerun did not finish ({type(exc).__name__})"
            )

    async def answer_until(self, session: Session, deadline: float) -> None:
        await asyncio.sleep(session.rng.uniform(0, self.think_s))  # not all in the same instant
        while time.monotonic() < deadline or session.interactions < MIN_INTERACTIONS:
            if session.failures >= MAX_FAILURES:
                self.problem("stale", session, f"stopped after {MAX_FAILURES} failed answers")
                return
            await self.interact(session)
            await asyncio.sleep(session.rng.uniform(0.5, 1.5) * self.think_s)

    async def run(self, sessions: int, seconds: float, seed: int) -> float:
        """Open every session, then let them all answer for ``seconds``; returns the wall time."""
        from playwright.async_api import async_playwright

        self.sessions = [
            Session(
                index=i,
                model=self.model,
                rng=random.Random(seed * 1000 + i),
                red_flag=self.red_flags[(i // RED_FLAG_EVERY) % len(self.red_flags)]
                if i % RED_FLAG_EVERY == 0
                else None,
            )
            for i in range(sessions)
        ]
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                await asyncio.gather(*(self.open(browser, s) for s in self.sessions))
                self.cpu_before = self.cpu_now()
                start = time.monotonic()
                await asyncio.gather(
                    *(self.answer_until(s, start + seconds) for s in self.sessions)
                )
                wall = time.monotonic() - start
                self.cpu_after = self.cpu_now()
                for s in self.sessions:  # a last look: nothing broke after the final answer
                    if s.page is not None:
                        await self.check_no_exception(s, "at the end")
            finally:
                await browser.close()
        return wall


# ---------------------------------------------------------------- the whole run
def nearest_rank(values: list[float], q: float) -> float | None:
    """The ``q`` quantile by the nearest-rank method (p95 of 20 values is the 19th)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def spread(values: list[float]) -> dict[str, float | None]:
    """Median, 95th percentile (nearest rank) and largest of some times."""
    return {
        "median_s": statistics.median(values) if values else None,
        "p95_s": nearest_rank(values, 0.95),
        "max_s": max(values) if values else None,
        "count": len(values),
    }


def run_load(
    sessions: int,
    seconds: float,
    *,
    log: Path,
    seed: int = 0,
    timeout_s: float = 300,
    think_s: float = 1.0,
) -> dict[str, Any]:
    """Start the page, run the sessions, stop the page; the results as plain data."""
    model = load_model()
    load_before = os.getloadavg()
    with streamlit_server(log) as server:
        load = LoadRun(model, server.url, server.process.pid, timeout_s, think_s)
        wall = asyncio.run(load.run(sessions, seconds, seed))
    for line in server_log_errors(log):
        load.problems.append(Problem("page", -1, f"server log: {line[:300]}"))
    times = [t for s in load.sessions for t in s.times_s]
    loads = [s.first_load_s for s in load.sessions if s.first_load_s is not None]
    return {
        "sessions": sessions,
        "seconds": seconds,
        "wall_s": wall,
        "think_s": think_s,
        "interactions": sum(s.interactions for s in load.sessions),
        "timed_interactions": len(times),
        "errors": len(load.problems),
        "problems": [asdict(p) for p in load.problems],
        "median_s": statistics.median(times) if times else None,
        "p95_s": nearest_rank(times, 0.95),
        "max_s": max(times) if times else None,
        # The parts of an answer's time (see Session): where the time goes.
        "parts": {
            part: spread([t for s in load.sessions for t in getattr(s, f"{part}_s")])
            for part in ("click", "request", "server")
        },
        "first_load_median_s": statistics.median(loads) if loads else None,
        "first_load_max_s": max(loads) if loads else None,
        "emergency_banners": sum(s.emergency_banners for s in load.sessions),
        "isolation_checks": sum(s.isolation_checks for s in load.sessions),
        # CPU seconds used while the sessions answered (after every first load).
        "server_cpu_s": load.cpu_used("server"),
        "browser_cpu_s": load.cpu_used("browser"),
        "external_requests": sorted({u for s in load.sessions for u in s.external_requests}),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            # Other work on the machine slows the browsers and the server alike.
            "load_average_1min_before": round(load_before[0], 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
        },
        "per_session": [
            {
                "session": s.index,
                "red_flag": s.red_flag,
                "interactions": s.interactions,
                "failed": s.failures,
                "median_s": statistics.median(s.times_s) if s.times_s else None,
                "max_s": max(s.times_s) if s.times_s else None,
                "times_s": [round(t, 3) for t in s.times_s],
                "first_load_s": s.first_load_s,
                "emergency_banners": s.emergency_banners,
                "isolation_checks": s.isolation_checks,
                "answers_at_end": s.answers,
            }
            for s in load.sessions
        ],
    }


def _seconds(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}s"


def format_table(result: dict[str, Any]) -> str:
    lines = [f"machine: {result['machine']}", ""]
    lines.append(
        f"{'session':>7} {'red flag':<34} {'answers':>7} {'median':>8} {'max':>8} "
        f"{'1st load':>8} {'emergency':>9} {'checked others':>14}"
    )
    for s in result["per_session"]:
        lines.append(
            f"{s['session']:>7} {s['red_flag'] or '-':<34} {s['interactions']:>7} "
            f"{_seconds(s['median_s']):>8} {_seconds(s['max_s']):>8} {_seconds(s['first_load_s']):>8} "
            f"{s['emergency_banners']:>9} {s['isolation_checks']:>14}"
        )
    cores = result["machine"]["cpus"] or 1
    busy = "".join(
        f", {who} CPU {cpu:.0f}s ({cpu / (result['wall_s'] * cores):.0%} of the {cores} cores)"
        for who, cpu in (("server", result["server_cpu_s"]), ("browser", result["browser_cpu_s"]))
        if cpu is not None
    )
    lines += [
        "",
        f"{result['sessions']} sessions for {result['wall_s']:.0f}s (asked {result['seconds']:g}s, "
        f"pause about {result['think_s']:g}s between answers): {result['interactions']} answers, "
        f"{result['errors']} errors{busy}",
        f"time from click to the page showing the answer: median {_seconds(result['median_s'])}, "
        f"p95 {_seconds(result['p95_s'])}, max {_seconds(result['max_s'])}; first load median "
        f"{_seconds(result['first_load_median_s'])}, max {_seconds(result['first_load_max_s'])}",
        "  of which: "
        + "; ".join(
            f"{name} median {_seconds(result['parts'][part]['median_s'])}, p95 "
            f"{_seconds(result['parts'][part]['p95_s'])}"
            for part, name in (
                ("click", "Playwright's click"),
                ("request", "click to rerun request"),
                ("server", "request to server's 'finished'"),
            )
        ),
        f"emergency banners shown {result['emergency_banners']}; other sessions checked calm "
        f"{result['isolation_checks']} times",
    ]
    if result["external_requests"]:
        lines.append(
            f"requests to other hosts (fail offline): {', '.join(result['external_requests'])}"
        )
    for p in result["problems"][:20]:
        lines.append(f"ERROR [{p['kind']}] session {p['session']}: {p['message']}")
    if len(result["problems"]) > 20:
        lines.append(f"... and {len(result['problems']) - 20} more errors (see the JSON)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="browser sessions at once")
    parser.add_argument("--seconds", type=float, default=60, help="how long they answer")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between answers (s)")
    parser.add_argument(
        "--timeout", type=float, default=300, help="longest wait for one answer (s)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json")
    parser.add_argument("--log", type=Path, default=None, help="server log (default: beside --out)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)",
            file=sys.stderr,
        )
        return 2
    log = args.log or args.out.with_name(args.out.stem + "-server.log")
    result = run_load(
        args.sessions,
        args.seconds,
        log=log,
        seed=args.seed,
        timeout_s=args.timeout,
        think_s=args.think,
    )
    print(format_table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)  # benchmarks/results/ is not in git
    files.write_atomic(args.out, json.dumps(result, indent=2), overwrite=True)
    print(f"\nwritten: {args.out}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
