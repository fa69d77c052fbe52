"""The Explore page in a real browser: Debian's chromium driven by Playwright.

Never downloads a browser. Without /usr/bin/chromium or the playwright package the test
is skipped with the reason, except under CI (the CI variable is set), where it fails.
Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required because CI is set)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"streamlit exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer within {timeout:.0f} s:\n{log.read_text()}")


@pytest.mark.browser
def test_answers_move_the_ranking_and_a_red_flag_shows_the_emergency_banner():
    """In a real browser, "Yes" to falling asleep changes the ranking and a red flag calls for emergency care."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("playwright is not importable: pip install playwright")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = ARTIFACTS / "streamlit-server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "ui/app.py",
                "--server.headless", "true",
                "--server.port", str(port),
                "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_healthy(url, server, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.goto(url)
                ranking = page.locator(".st-key-ranking")
                expect(ranking).to_contain_text("1.", timeout=30_000)
                expect(page.get_by_text("it does not diagnose")).to_be_visible()
                question = page.locator(".st-key-f_onset_falling_asleep")
                expect(question.get_by_role("radio", name="Yes", exact=True)).to_be_visible(
                    timeout=30_000
                )
                expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
                before = ranking.inner_text()
                page.screenshot(path=ARTIFACTS / "ui-1-start.png")

                question.get_by_role("radio", name="Yes", exact=True).click()
                expect(ranking).not_to_have_text(before, timeout=15_000)
                expect(page.get_by_text("Most likely: Hypnic")).to_be_visible()
                assert "onset_falling_asleep=present" in page.url
                page.set_viewport_size({"width": 1440, "height": 2600})  # the whole results column
                page.screenshot(path=ARTIFACTS / "ui-2-answered.png")
                page.set_viewport_size({"width": 1440, "height": 1000})

                flag = page.locator(".st-key-f_sudden_weakness_or_paralysis")
                flag.get_by_role("radio", name="Yes", exact=True).click()
                banner = page.locator('[data-testid="stAlertContentError"]')
                expect(banner).to_contain_text("Seek emergency care now", timeout=15_000)
                expect(banner).to_contain_text("Call your local emergency number")
                expect(page.get_by_text("Home remedies")).to_have_count(0)
                page.screenshot(path=ARTIFACTS / "ui-3-emergency.png")
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
