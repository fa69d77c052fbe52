"""The Explore page in a real browser: Debian's chromium driven by Playwright.

Never downloads a browser. Without /usr/bin/chromium or the playwright package the test
is skipped with the reason, except under CI (the CI variable is set), where it fails.
Screenshots of every page, at desktop and phone width, go to tests/artifacts/ (gitignored).
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


@pytest.fixture(scope="module")
def browser_page():
    """A page factory on a running server and Debian's chromium: ``new_page(width, height)``.

    Skips (or fails under CI) when chromium or playwright is missing.
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
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
            pages = []

            def new_page(width: int, height: int, path: str = "/"):
                page = browser.new_page(viewport={"width": width, "height": height})
                pages.append(page)
                page.goto(url + path)
                return page

            try:
                yield new_page
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def _settled(page) -> None:
    """Wait until no rerun is running and nothing on the page is stale."""
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
              && !document.querySelector('[data-stale="true"]')""",
        timeout=30_000,
    )


def _full_screenshot(page, name: str, width: int, height: int) -> None:
    """The whole page (the app scrolls inside its own box, so the window grows instead)."""
    page.set_viewport_size({"width": width, "height": height})
    _settled(page)
    page.wait_for_timeout(1500)  # charts and tables finish drawing
    page.screenshot(path=ARTIFACTS / name)


@pytest.mark.browser
def test_answers_by_clicking_then_every_page(browser_page):
    """Clicking "Yes" moves the ranking, a red flag calls for emergency care; then the Tune
    priors, Network and Validation pages open from the menu, and Explore keeps the answers."""
    from playwright.sync_api import expect

    page = browser_page(1440, 1000)
    ranking = page.locator(".st-key-ranking")
    expect(ranking).to_contain_text("1.", timeout=30_000)
    expect(page.get_by_text("it does not diagnose")).to_be_in_viewport()  # without scrolling
    expect(page.get_by_text("Tap » at the top left")).to_be_hidden()  # phones only
    question = page.locator(".st-key-f_onset_falling_asleep")
    expect(question.get_by_role("radio", name="Yes", exact=True)).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    expect(page.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text("Care for it")
    before = ranking.inner_text()
    _full_screenshot(page, "ui-1-start.png", 1440, 1000)

    question.get_by_role("radio", name="Yes", exact=True).click()
    expect(ranking).not_to_have_text(before, timeout=15_000)
    expect(page.get_by_text("Most likely: Hypnic")).to_be_visible()
    assert "onset_falling_asleep=present" in page.url
    _full_screenshot(page, "ui-2-answered.png", 1440, 2600)
    page.set_viewport_size({"width": 1440, "height": 1000})

    flag = page.locator(".st-key-f_sudden_weakness_or_paralysis")
    flag.get_by_role("radio", name="Yes", exact=True).click()
    banner = page.locator('[data-testid="stAlertContentError"]')
    expect(banner).to_contain_text("Seek emergency care now", timeout=15_000)
    expect(banner).to_contain_text("Call your local emergency number")
    expect(page.get_by_text("Home remedies")).to_have_count(0)
    expect(ranking).to_have_count(0)
    _full_screenshot(page, "ui-3-emergency.png", 1440, 1000)
    flag.get_by_role("radio", name="No", exact=True).click()
    expect(page.locator('[data-testid="stAlertContentSuccess"]')).to_be_visible(timeout=15_000)

    page.get_by_role("link", name="Tune priors", exact=True).click()
    expect(page.get_by_role("heading", name="Tune the priors")).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    expect(page.get_by_text("Only the value column can be edited")).to_be_visible()
    case = "Twitching comes as you fall asleep: Yes"  # the case from Explore, on the page
    expect(page.locator('[data-testid="stMain"]').get_by_text(case)).to_be_visible()
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Your case")
    _full_screenshot(page, "ui-4-tune.png", 1440, 2200)

    page.get_by_role("link", name="Network", exact=True).click()
    expect(page.get_by_role("heading", name="The network")).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stGraphVizChart"] svg g.node').first).to_be_visible(
        timeout=30_000
    )
    _full_screenshot(page, "ui-5-network.png", 1440, 2600)

    page.get_by_role("link", name="Validation", exact=True).click()
    expect(page.get_by_text("First cause as expected")).to_be_visible(timeout=30_000)
    _full_screenshot(page, "ui-6-validation.png", 1440, 1400)

    page.get_by_role("link", name="Change the answers on Explore").click()  # the sidebar's
    expect(page.get_by_text("Most likely: Hypnic")).to_be_visible(timeout=30_000)
    assert "onset_falling_asleep=present" in page.url


@pytest.mark.browser
def test_a_phone_sees_the_disclaimer_and_the_banner_first(browser_page):
    """At 390 px the questions wait behind the menu button, and the disclaimer, the hint to
    the questions and the urgency banner show without scrolling; every page is shot."""
    from playwright.sync_api import expect

    page = browser_page(390, 844, "/?onset_falling_asleep=present&age_group=adult")
    expect(page.locator(".st-key-ranking")).to_contain_text("1.", timeout=30_000)
    _settled(page)
    for text in ("it does not diagnose", "Tap » at the top left", "Care for it at home"):
        expect(page.get_by_text(text).first).to_be_in_viewport()
    expect(page.locator('[data-testid="stSidebarContent"]')).not_to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / "ui-phone-1-first-screen.png")
    _full_screenshot(page, "ui-phone-2-explore.png", 390, 5200)
    for name, path, ready in (
        ("tune", "/tune", page.get_by_text("Only the value column can be edited")),
        ("network", "/network", page.locator('[data-testid="stGraphVizChart"] svg').first),
        ("validation", "/validation", page.get_by_text("First cause as expected")),
    ):
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(page.url.split("?")[0].rsplit("/", 1)[0] + path)
        expect(ready).to_be_visible(timeout=30_000)
        _full_screenshot(page, f"ui-phone-3-{name}.png", 390, 3200)
