"""Many people at once: browser sessions use the page together (load and soak runs).

Run ``python -m benchmarks.load --sessions 20 --seconds 300 --mix soak`` (the soak of
issue 15) or ``--mix answers`` (answers only, the load run). It starts the page as
``toe-twitch serve`` does, from a temporary working directory, on 127.0.0.1, opens one
Debian chromium (``/usr/bin/chromium``, never a downloaded browser) with one context per
session, and lets every session work until the time is up, pausing a moment between
actions as a person would. The rounds a session picks from:

* **interview**: the guided questions from the start (emergency signs, age, then
  questions answered mostly "No", sometimes "Yes" or "Don't know");
* **list**: answers in the full list, now and then an emergency sign (then taken back);
* **what-if**: a question picked under "What if";
* **tune**: an edit in the priors table, an upload of a valid priors file (different
  numbers each time), an upload of an invalid one, and back to the shipped priors;
* **vignettes**: an upload of a valid and of an invalid vignette file on Validation.

After every answer the session waits until its page shows exactly what the model
computes for *its own* answers (the next question the interview plan picks, or the
ranking with every percentage) and the address bar holds them: the time from the click
to that frame, in the browser's clock, is one click-to-update time. The other actions
wait for their own result (a message, a table).

Counted as errors: an exception box or the "Something went wrong" message on a page, a
console or script error from the page, an expected view not reached in time, and a
traceback in the server's log. Streamlit's own base-path probe when a page other than
the first is opened directly (``/tune/_stcore/health``, ``/tune/_stcore/host-config``,
answered 404 before it tries ``/``) is listed apart: it is not an error of the page; so
is a file upload that a rerun cancelled (the run chooses the file again, as a person
would, and counts it; an upload that fails three times is an error).

The server's memory (RSS) is sampled every few seconds, and so is the worker process's
(the uploads' reader). Prints a table and writes JSON (``--out``, default
``benchmarks/results/load.json``). Exit status 1 when there were errors.
``tests/test_soak.py`` runs a reduced form of the same code (four sessions, every kind of
round).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from toe_twitch import NO_LISTED_CAUSE_LABEL, ToeTwitchModel, files, interview, load_model
from toe_twitch.cli.commands import serve_command
from toe_twitch.priors import DEFAULT_PRIORS_PATH
from toe_twitch.ui.text import cause_name, percent

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
    # Every session is "in front": none is slowed down for being a background page.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/150.0 Mobile Safari/537.36"
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
#: A session's pause between actions (seconds, uniform): a person reading the page.
PAUSE_SECONDS = (1.0, 3.0)
#: Longest wait for one view (ms); generous for a loaded 2-core machine.
TIMEOUT_MS = 60_000
#: Streamlit's probe of a page path as a base path (see the module docstring).
BASE_PATH_PROBE = re.compile(r"/[^/]+/_stcore/(health|host-config)$")
ROUNDS = {
    "answers": {"interview": 1, "list": 1},
    "soak": {"interview": 3, "list": 3, "what-if": 2, "tune": 2, "vignettes": 1},
}

# ---------------------------------------------------------------- in-page measurement
#: Streamlit's console message when a rerun cancels a file being sent.
UPLOAD_CANCELLED = "File uploader error on file upload - CanceledError"

#: Click, then wait frame by frame until ``done(arg)`` holds; returns milliseconds.
CLICK_AND_WAIT = """
async ([selector, check, arg, timeout]) => {
  const done = new Function("arg", check);
  const button = document.querySelector(selector);
  if (!button) throw new Error("no element " + selector);
  const start = performance.now();
  button.click();
  while (!done(arg)) {
    await new Promise(requestAnimationFrame);
    if (performance.now() - start > timeout) throw new Error("timed out after " + selector);
  }
  return performance.now() - start;
}
"""
NOTHING_STALE = "!document.querySelector('[data-stale=\"true\"]')"
#: The interview shows this screen (a question's heading, or the age or end screen).
SCREEN_SHOWN = (
    "const heads = Array.from(document.querySelectorAll('[data-testid=\"stMain\"] h2'))"
    ".map(e => e.textContent.trim());"
    "return heads.includes(arg.heading) && (!arg.param || location.search.includes(arg.param)) && "
    + NOTHING_STALE
    + ";"
)
#: The ranking shows exactly these names and values, and the link holds this answer.
RANKING_SHOWN = (
    "const list = document.querySelector('ol[aria-label=\"Possible causes, most likely first\"]');"
    "if (!list || (arg.param && !location.search.includes(arg.param))) return false;"
    "const names = Array.from(list.querySelectorAll('.tt-name')).map(e => e.textContent);"
    "const values = Array.from(list.querySelectorAll('.tt-value'))"
    ".map(e => e.firstChild ? e.firstChild.textContent : '');"
    "return JSON.stringify(names) === JSON.stringify(arg.names) && "
    "JSON.stringify(values) === JSON.stringify(arg.values) && " + NOTHING_STALE + ";"
)
#: The emergency banner shows and no ranking.
EMERGENCY_SHOWN = (
    "const e = document.querySelector('[data-testid=\"stAlertContentError\"]');"
    "return !!e && e.textContent.includes('Seek emergency care now') && location.search.includes(arg.param) && "
    "!document.querySelector('ol[aria-label=\"Possible causes, most likely first\"]') && "
    + NOTHING_STALE
    + ";"
)
TEXT_SHOWN = "return document.body.textContent.includes(arg.text) && " + NOTHING_STALE + ";"
PAGE_FAILED_JS = """() => !!document.querySelector('[data-testid="stException"]')
  || document.body.textContent.includes('Something went wrong on this page')"""


# ---------------------------------------------------------------- what a page must show
def heading_for(m: ToeTwitchModel, evidence: dict[str, str], skipped: list[str]) -> str:
    """The heading of the interview's screen for these answers (as the page decides it)."""
    plan = interview.plan(m.case(evidence), skipped)
    if plan.step == interview.QUESTION:
        return m.vocabulary.findings[plan.question.finding].question
    return {
        interview.RED_FLAGS: "First: is any of these happening now?",
        interview.AGE: "How old is the person with the twitching?",
        interview.HISTORY: "Does any of this apply to you?",
        interview.DONE: "That is enough questions for a fair picture",
    }.get(plan.step, "")


def ranking_for(m: ToeTwitchModel, evidence: dict[str, str]) -> dict[str, list[str]]:
    d = m.diagnose(evidence)
    return {
        "names": [cause_name(m, c) for c, _ in d.ranking] + [NO_LISTED_CAUSE_LABEL],
        "values": [percent(p) for _, p in d.ranking] + [percent(d.no_listed_cause)],
    }


# ---------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def rss_mib(self) -> dict[str, float]:
        """Resident memory of the server and of its worker process(es), in MiB."""
        import psutil

        try:
            main = psutil.Process(self.process.pid)
            children = main.children(recursive=True)
            return {
                "server": main.memory_info().rss / 2**20,
                "worker": sum(c.memory_info().rss for c in children) / 2**20,
            }
        except psutil.Error:
            return {"server": float("nan"), "worker": float("nan")}

    def tracebacks(self) -> list[str]:
        text = self.log.read_text(errors="replace")
        # The first frames say where, the last lines what: keep both ends of each.
        return [
            chunk if len(chunk) <= 2000 else chunk[:400] + "\n  ...\n" + chunk[-1600:]
            for chunk in text.split("Traceback (most recent call last)")[1:]
        ]


def _wait_until_healthy(
    url: str, process: subprocess.Popen, log: Path, timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the page's server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(
        f"the page's server did not answer within {timeout:.0f} s:\n{log.read_text()}"
    )


@contextmanager
def server(log: Path | None = None) -> Iterator[Server]:
    """The page served as ``toe-twitch serve`` serves it, from another working directory."""
    import psutil

    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="toe-twitch-serve-"))
    log = log or folder / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            serve_command(port, "127.0.0.1"),
            cwd=folder,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(url, process, log)
        yield Server(url, process, log)
    finally:
        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            children = []
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for child in children:  # the worker process, if the server left it behind
            try:
                child.terminate()
                child.wait(timeout=10)
            except psutil.Error:
                pass


# ---------------------------------------------------------------- browser (sync helpers)
@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def context_options(viewport: dict, phone: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"viewport": viewport}
    if phone:
        options |= {"user_agent": PHONE_AGENT, "is_mobile": True, "has_touch": True}
    return options


def new_context(browser, viewport: dict, phone: bool):
    return browser.new_context(**context_options(viewport, phone))


def settle(page, timeout: int = TIMEOUT_MS) -> None:
    """Until no rerun is running and nothing on the page is stale."""
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]') && "
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=timeout,
    )


def warm(browser, url: str) -> None:
    """Open each landing page once, so the first measured visit finds the caches warm."""
    for viewport, phone in ((PHONE, True), (DESKTOP, False)):
        context = new_context(browser, viewport, phone)
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_selector(".tt-bars", timeout=TIMEOUT_MS)
        settle(page)
        page.wait_for_timeout(1500)  # the 90% ranges of the empty case, in the background
        context.close()


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomic(path, json.dumps(data, indent=2, default=str) + "\n", overwrite=True)


# ---------------------------------------------------------------- files the sessions upload
def upload_files(folder: Path, count: int) -> dict[str, Any]:
    """Valid priors files with different numbers, an invalid one, and vignette files."""
    text = DEFAULT_PRIORS_PATH.read_text()
    good = []
    for i in range(count):
        data = yaml.safe_load(text)
        data["name"] = f"soak-{i}"
        data["causes"]["hypnic_jerk"]["prevalence"]["adult"]["value"] = round(0.05 + 0.0005 * i, 6)
        data["causes"]["hypnic_jerk"]["prevalence"]["adult"]["high"] = 0.5
        path = folder / f"priors-{i}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        good.append(path)
    bad = folder / "bad-priors.yaml"
    broken = yaml.safe_load(text)
    broken["causes"]["plmt"]["prevalence"]["adult"]["value"] = 3.0
    broken["findings"]["leg_pain"]["links"]["plmt"] = {
        "value": 1.7,
        "low": 0,
        "high": 1,
        "source": "x",
    }
    bad.write_text(yaml.safe_dump(broken, sort_keys=False))
    vignettes = folder / "vignettes.yaml"
    vignettes.write_text(
        yaml.safe_dump(
            {
                "vignettes": [
                    {"id": f"soak-{i}", "findings": {"leg_pain": "present", "age_group": "adult"},
                     "expect": {"urgency": ["self_care", "see_doctor"]}}
                    for i in range(20)
                ]
            }
        )
    )  # fmt: skip
    bad_vignettes = folder / "bad-vignettes.yaml"
    bad_vignettes.write_text(
        "vignettes:\n  - id: x\n    findings: {leg_pn: present}\n    expect: {urgency: [self_care]}\n"
    )
    return {"good": good, "bad": bad, "vignettes": vignettes, "bad_vignettes": bad_vignettes}


# ---------------------------------------------------------------- one session (async)
@dataclass
class SessionReport:
    session: int
    clicks_ms: list[float] = field(default_factory=list)
    actions: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    probes: int = 0


class Session:
    """One person: a browser context, their answers, and what they saw."""

    def __init__(self, number: int, context, base: str, m: ToeTwitchModel, files_: dict, seed: int):
        self.number = number
        self.context = context
        self.base = base
        self.m = m
        self.files = files_
        self.random = random.Random(seed)
        self.report = SessionReport(number)
        self.page = None
        self.uploads = 0

    # -------------------------------------------------- bookkeeping
    def count(self, action: str) -> None:
        self.report.actions[action] = self.report.actions.get(action, 0) + 1

    def error(self, message: str) -> None:
        self.report.errors.append(message[:500])

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        location = (message.location or {}).get("url", "")
        if BASE_PATH_PROBE.search(location.split("?")[0]):
            self.report.probes += 1
        elif UPLOAD_CANCELLED in message.text:
            # A rerun that starts while a file is being sent cancels the sending; the
            # person (and this run) chooses the file again. Counted, and the upload is
            # still an error if choosing again does not work (see upload()).
            self.count("upload cancelled by a rerun")
        else:
            self.error(f"console: {message.text} ({location})")

    async def open(self) -> None:
        self.page = await self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda e: self.error(f"script error: {e}"))
        await self.page.goto(self.base + "/")
        await self.page.wait_for_selector(".tt-bars", timeout=TIMEOUT_MS)

    async def measure(self, selector: str, check: str, arg: dict) -> float:
        """Click ``selector`` (once it is there) and wait until ``check`` holds: ms."""
        await self.page.wait_for_selector(selector, timeout=TIMEOUT_MS)
        ms = await self.page.evaluate(CLICK_AND_WAIT, [selector, check, arg, TIMEOUT_MS])
        await self.check_page()
        return ms

    async def check_page(self) -> None:
        if await self.page.evaluate(PAGE_FAILED_JS):
            self.error("the page shows an error")

    async def nav(self, title: str, ready: str) -> None:
        """Open a page from the navigation (on a phone, from its menu)."""
        menu = self.page.locator('[data-testid="stExpandSidebarButton"]')
        if await menu.count() and await menu.first.is_visible():
            await menu.first.click()
        await self.page.get_by_role("link", name=title, exact=True).first.click()
        await self.until(ready, {})

    async def until(self, check: str, arg: dict) -> None:
        """Wait until ``check`` (a function body of ``arg``) holds on the page."""
        await self.page.wait_for_function(
            "([check, arg]) => new Function('arg', check)(arg)",
            arg=[check, arg],
            timeout=TIMEOUT_MS,
        )

    async def wait_text(self, text: str) -> None:
        await self.until(TEXT_SHOWN, {"text": text})

    async def js_click(self, selector: str) -> None:
        """Click in the page (a button far down a long page can keep moving while other
        parts are drawn, and Playwright waits for it to hold still)."""
        await self.page.wait_for_selector(selector, timeout=TIMEOUT_MS)
        await self.page.evaluate("(s) => document.querySelector(s).click()", selector)

    async def pause(self) -> None:
        """A person reads the page before the next action."""
        await asyncio.sleep(self.random.uniform(*PAUSE_SECONDS))

    # -------------------------------------------------- rounds
    async def interview(self, answers: int) -> None:
        await self.nav(
            "Guided questions",
            "return !!document.querySelector('.st-key-interview, .st-key-iv_summary')",
        )
        if await self.page.locator(".st-key-iv_restart button:not([disabled])").count():
            await self.page.click(".st-key-iv_restart button")
            await self.page.wait_for_selector(".st-key-iv_none button", timeout=TIMEOUT_MS)
        evidence: dict[str, str] = {}
        skipped: list[str] = []
        await self.until(SCREEN_SHOWN, {"heading": heading_for(self.m, {}, []), "param": ""})
        evidence |= {f: "absent" for f in self.m.vocabulary.red_flags}
        arg = {
            "heading": heading_for(self.m, evidence, skipped),
            "param": "confusion_or_fainting=absent",
        }
        self.report.clicks_ms.append(
            await self.measure(".st-key-iv_none button", SCREEN_SHOWN, arg)
        )
        age = self.random.choice(["child", "adult", "older_adult"])
        evidence["age_group"] = age
        arg = {"heading": heading_for(self.m, evidence, skipped), "param": f"age_group={age}"}
        self.report.clicks_ms.append(
            await self.measure(f".st-key-iv_age_group_{age} button", SCREEN_SHOWN, arg)
        )
        screen = interview.health_screen(self.m, evidence)
        evidence |= dict.fromkeys(screen, "absent")
        arg = {"heading": heading_for(self.m, evidence, skipped), "param": f"{screen[-1]}=absent"}
        self.report.clicks_ms.append(
            await self.measure(".st-key-iv_history_none button", SCREEN_SHOWN, arg)
        )
        for _ in range(answers):
            heading = arg["heading"]
            finding = next(
                (f for f in self.m.findings if self.m.vocabulary.findings[f].question == heading),
                None,
            )
            if finding is None:
                break
            state = self.random.choices(["absent", "present", "unknown"], [0.7, 0.2, 0.1])[0]
            if state == "unknown":
                skipped.append(finding)
            else:
                evidence[finding] = state
            arg = {"heading": heading_for(self.m, evidence, skipped), "param": f"{finding}={state}"}
            self.report.clicks_ms.append(
                await self.measure(f".st-key-iv_{state} button", SCREEN_SHOWN, arg)
            )
            self.count("answer")
            await self.pause()
        self.count("interview")

    async def full_list(self, answers: int) -> None:
        await self.nav(
            "All questions", "return !!document.querySelector('.st-key-reset_answers button')"
        )
        await self.page.click(".st-key-reset_answers button")
        evidence: dict[str, str] = {}
        await self.until(RANKING_SHOWN, {**ranking_for(self.m, {}), "param": ""})
        pool = [
            f
            for f in self.m.findings
            if f != "age_group" and not self.m.vocabulary.findings[f].applies_to
        ]
        pool = [f for f in pool if not self.m.vocabulary.findings[f].red_flag]
        for finding in self.random.sample(pool, answers):
            state = self.random.choice(["present", "absent"])
            evidence[finding] = state
            index = 1 if state == "present" else 2
            selector = (
                f".st-key-q_{finding} [data-testid='stButtonGroup'] button:nth-of-type({index})"
            )
            arg = {**ranking_for(self.m, evidence), "param": f"{finding}={state}"}
            self.report.clicks_ms.append(await self.measure(selector, RANKING_SHOWN, arg))
            self.count("answer")
            await self.pause()
        if self.random.random() < 0.3:  # an emergency sign, then taken back
            flag = self.random.choice(self.m.vocabulary.red_flags)
            selector = f".st-key-q_{flag} [data-testid='stButtonGroup'] button:nth-of-type(1)"
            await self.measure(selector, EMERGENCY_SHOWN, {"param": f"{flag}=present"})
            evidence[flag] = "absent"
            selector = f".st-key-q_{flag} [data-testid='stButtonGroup'] button:nth-of-type(2)"
            await self.measure(
                selector,
                RANKING_SHOWN,
                {**ranking_for(self.m, evidence), "param": f"{flag}=absent"},
            )
            self.count("emergency")
        self.count("list")

    async def what_if(self) -> None:
        await self.nav(
            "All questions", "return !!document.querySelector('.st-key-reset_answers button')"
        )
        await self.page.get_by_role("tab", name=re.compile("What if")).click()
        box = self.page.locator(".st-key-what_if_finding input[role='combobox']")
        options = self.page.get_by_role("option")
        for attempt in range(3):  # a rerun that redraws the box closes its list: tap again
            await self.settled()
            await box.click()
            try:
                await options.first.wait_for(timeout=20_000)
                n = await options.count()
                await options.nth(self.random.randrange(max(n, 1))).click(timeout=20_000)
                break
            except Exception:  # noqa: BLE001 - the list closed before the tap landed
                if attempt == 2:
                    raise
                self.count("list opened again")
        await self.page.wait_for_function(
            "() => !!document.querySelector('[aria-label=\"What each answer would change\"]') && "
            + NOTHING_STALE,
            timeout=TIMEOUT_MS,
        )
        await self.check_page()
        await self.page.keyboard.press("Escape")
        self.count("what-if")

    async def tune(self) -> None:
        await self.nav(
            "Tune priors", "return !!document.querySelector('[data-testid=\"stDataFrame\"]')"
        )
        good = self.files["good"][(self.number * 97 + self.uploads) % len(self.files["good"])]
        self.uploads += 1
        await self.upload(".st-key-tune_upload input[type=file]", good, "Loaded this priors file")
        self.count("upload good priors")
        await self.edit_cell()
        await self.upload(
            ".st-key-tune_upload input[type=file]", self.files["bad"], "This file was not used"
        )
        self.count("upload bad priors")
        await self.js_click(".st-key-tune_back_to_default button")
        await self.wait_text("No edits yet")
        self.count("back to shipped")

    async def settled(self) -> None:
        await self.page.wait_for_function(
            "() => !document.querySelector('[data-stale=\"true\"]') && "
            "!document.querySelector('[data-testid=\"stStatusWidget\"]')",
            timeout=TIMEOUT_MS,
        )

    async def upload(self, selector: str, path: Path, expected: str) -> None:
        """Choose a file in an uploader and wait for the page's word on it. A browser
        cancels an upload that a rerun of the page overtakes; a person would choose the
        file again, and so does this (counted)."""
        uploader = self.page.locator(selector)
        for attempt in range(3):
            await self.settled()
            await uploader.set_input_files(str(path))
            try:
                await self.page.wait_for_function(
                    "([text, name]) => document.body.textContent.includes(text) && "
                    "document.body.textContent.includes(name) && " + NOTHING_STALE,
                    arg=[expected, path.name],
                    timeout=20_000,
                )
                break
            except Exception:  # noqa: BLE001 - the upload was cancelled
                if attempt == 2:
                    raise
                self.count("file chosen again")
                await uploader.set_input_files([])
        await self.check_page()

    async def edit_cell(self) -> None:
        """Type a new value into the first row's value cell of the priors table."""
        grid = self.page.locator('[data-testid="stDataFrame"]').first
        box = await grid.bounding_box()
        if box is None:
            return
        # Columns: parameter (230 px, pinned), then value (90 px); rows 35 px.
        await self.page.mouse.click(box["x"] + 230 + 45, box["y"] + 35 + 17)
        await self.page.keyboard.press("Enter")  # opens the cell's editor
        await asyncio.sleep(0.3)
        await self.page.keyboard.press("Control+A")
        await self.page.keyboard.type(f"{self.random.uniform(0.0012, 0.0018):.4f}", delay=40)
        await self.page.keyboard.press("Enter")
        try:
            await self.page.wait_for_function(
                "() => (document.body.textContent.includes('in use') || document.body.textContent.includes('not applied')) && "
                + NOTHING_STALE,
                timeout=TIMEOUT_MS,
            )
            self.count("edit")
        except Exception:  # noqa: BLE001 - the grid did not take the keys: not a page error
            self.count("edit not taken")
        await self.check_page()

    async def vignettes(self) -> None:
        await self.nav("Validation", "return !!document.querySelector('.st-key-val_scores')")
        await self.upload(
            ".st-key-val_upload input[type=file]", self.files["vignettes"], "From the uploaded file"
        )
        await self.upload(
            ".st-key-val_upload input[type=file]",
            self.files["bad_vignettes"],
            "This file was not used",
        )
        self.count("vignettes")

    async def run(self, deadline: float, mix: str) -> SessionReport:
        try:
            await self.open()
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            self.error(f"could not open the page: {exc}")
            return self.report
        rounds = ROUNDS[mix]
        names, weights = list(rounds), list(rounds.values())
        # Every kind of round once first (each session in its own order), then at random.
        shift = self.number % len(names)
        planned = ["interview", *[n for n in names[shift:] + names[:shift] if n != "interview"]]
        while planned or time.monotonic() < deadline:
            name = planned.pop(0) if planned else self.random.choices(names, weights)[0]
            try:
                if name == "interview":
                    await self.interview(self.random.randint(3, 6))
                elif name == "list":
                    await self.full_list(self.random.randint(2, 4))
                elif name == "what-if":
                    await self.what_if()
                elif name == "tune":
                    await self.tune()
                else:
                    await self.vignettes()
            except Exception as exc:  # noqa: BLE001 - a view not reached in time is an error
                self.error(f"{name}: {type(exc).__name__}: {str(exc)[:300]}")
                try:
                    await self.page.goto(self.base + "/")
                    await self.page.wait_for_selector(".tt-bars", timeout=TIMEOUT_MS)
                except Exception:  # noqa: BLE001
                    break
            await self.pause()
        return self.report


async def _run_sessions(
    srv: Server, sessions: int, seconds: float, mix: str, seed: int
) -> tuple[list[SessionReport], list[dict]]:
    from playwright.async_api import async_playwright

    m = load_model()
    folder = Path(tempfile.mkdtemp(prefix="toe-twitch-load-"))
    files_ = upload_files(folder, 40)
    samples: list[dict] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            contexts = []
            for i in range(sessions):
                phone = i % 2 == 0
                contexts.append(
                    await browser.new_context(**context_options(PHONE if phone else DESKTOP, phone))
                )
            people = [Session(i, c, srv.url, m, files_, seed + i) for i, c in enumerate(contexts)]
            deadline = time.monotonic() + seconds
            stop = asyncio.Event()

            async def sample() -> None:
                while not stop.is_set():
                    samples.append({"t": time.monotonic(), **srv.rss_mib()})
                    try:
                        await asyncio.wait_for(stop.wait(), timeout=5)
                    except TimeoutError:
                        pass

            sampler = asyncio.create_task(sample())
            reports = await asyncio.gather(*(person.run(deadline, mix) for person in people))
            stop.set()
            await sampler
            samples.append({"t": time.monotonic(), **srv.rss_mib()})
        finally:
            await browser.close()
    return list(reports), samples


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(sessions: int, seconds: float, mix: str, seed: int = 1) -> dict[str, Any]:
    with server() as srv:
        with chromium() as browser:
            warm(browser, srv.url)
        start_rss = srv.rss_mib()
        started = time.monotonic()
        reports, samples = asyncio.run(_run_sessions(srv, sessions, seconds, mix, seed))
        elapsed = time.monotonic() - started
        tracebacks = srv.tracebacks()
    clicks = [t for r in reports for t in r.clicks_ms]
    errors = [{"session": r.session, "message": e} for r in reports for e in r.errors]
    errors += [{"session": None, "message": "server traceback: " + t} for t in tracebacks]
    actions: dict[str, int] = {}
    for r in reports:
        for k, v in r.actions.items():
            actions[k] = actions.get(k, 0) + v
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "sessions": sessions,
        "seconds": seconds,
        "elapsed_s": elapsed,
        "mix": mix,
        "load_average": os.getloadavg(),
        "clicks": len(clicks),
        "click_p50_ms": percentile(clicks, 0.5),
        "click_p95_ms": percentile(clicks, 0.95),
        "click_max_ms": max(clicks, default=float("nan")),
        "actions": actions,
        "errors": errors,
        "base_path_probes": sum(r.probes for r in reports),
        "rss_start_mib": start_rss,
        "rss_end_mib": samples[-1] if samples else None,
        "rss_max_mib": {k: max(s[k] for s in samples) for k in ("server", "worker")}
        if samples
        else None,
        "per_session": [
            asdict(r) | {"clicks_ms": None, "clicks": len(r.clicks_ms)} for r in reports
        ],
    }


def format_table(result: dict[str, Any]) -> str:
    rss0, rss1, peak = result["rss_start_mib"], result["rss_end_mib"], result["rss_max_mib"]
    lines = [
        f"{result['sessions']} sessions, {result['seconds']:.0f} s, mix {result['mix']} "
        f"(load average {', '.join(f'{x:.2f}' for x in result['load_average'])})",
        f"click to updated page: {result['clicks']} clicks, p50 {result['click_p50_ms']:.0f} ms, "
        f"p95 {result['click_p95_ms']:.0f} ms, max {result['click_max_ms']:.0f} ms",
        "actions: " + ", ".join(f"{k} {v}" for k, v in sorted(result["actions"].items())),
        f"server RSS: start {rss0['server']:.0f} MiB, end {rss1['server']:.0f} MiB, max {peak['server']:.0f} MiB; "
        f"worker process at the end {rss1['worker']:.0f} MiB",
        f"errors: {len(result['errors'])}; Streamlit base-path probes (not errors): {result['base_path_probes']}",
    ]
    lines += [f"  session {e['session']}: {e['message'][:200]}" for e in result["errors"][:20]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--mix", choices=sorted(ROUNDS), default="answers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args(argv)
    result = run(args.sessions, args.seconds, args.mix, args.seed)
    print(format_table(result))
    write_json(args.out, result)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
