"""The page in a real browser: Debian's chromium driven by Playwright, the page served as
``toe-twitch serve`` serves it (from another working directory, on 127.0.0.1).

The interview on a phone by taps and by keyboard alone, hostile links, and on every page
at phone and desktop size: axe-core (axe-playwright-python) with no serious or critical
violation, and no console error. Never downloads a browser: without /usr/bin/chromium or
the playwright package the tests are skipped with the reason, except under CI (the CI
variable is set), where they fail. Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

from benchmarks import load
from tests.conftest import require_browser
from toe_twitch import load_model

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
PAGES = [
    ("Guided questions", "guided", ".st-key-interview, .st-key-iv_summary"),
    ("All questions", "explore", ".st-key-reset_answers"),
    ("Tune priors", "tune", '[data-testid="stDataFrame"]'),
    ("Network", "network", ".tt-bars"),
    ("Validation", "validation", ".st-key-val_scores"),
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site():
    """``(base url, browser)``: one server and one chromium for the module."""
    require_browser("playwright.sync_api", "axe_playwright_python.sync_playwright")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with load.server(log=ARTIFACTS / "streamlit-server.log") as srv, load.chromium() as browser:
        yield srv.url, browser
        tracebacks = srv.tracebacks()
    assert tracebacks == [], tracebacks[:1]


class Watched:
    """A page with its console errors recorded (Streamlit's base-path probe apart)."""

    def __init__(self, browser, viewport: dict, phone: bool):
        self.context = load.new_context(browser, viewport, phone)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.probes = 0
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"script error: {e}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "").split("?")[0]
        if load.BASE_PATH_PROBE.search(url):
            self.probes += 1
        else:
            self.errors.append(f"{message.text} ({url})")

    def show(self, url: str, ready: str) -> None:
        """Open ``url`` and wait until ``ready`` is drawn and no rerun is running."""
        self.page.goto(url)
        self.page.wait_for_selector(ready, timeout=load.TIMEOUT_MS)
        load.settle(self.page)

    def close(self) -> None:
        self.context.close()


def shot(page, name: str) -> None:
    """The whole page (the app scrolls inside its own box, so the window grows)."""
    size = page.viewport_size
    tall = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(int(tall) + 40, 8000)})
    page.wait_for_timeout(300)
    page.screenshot(path=ARTIFACTS / name)
    page.set_viewport_size(size)


def serious_violations(page) -> list[tuple]:
    """axe-core's serious and critical violations on the page: (rule, impact, first node)."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [
        (v["id"], v["impact"], v["nodes"][0]["target"])
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def heading(page) -> str:
    return page.locator('[data-testid="stMain"] h2').last.inner_text()


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(s) => { const e = document.querySelector(s); if (!e) return false;
        const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }""",
        selector,
    )


# ---------------------------------------------------------------- the interview
def test_the_interview_on_a_phone_by_taps(site):
    """A phone lands on the interview: the disclaimer, the emergency signs and "None of
    these" on the first screen; then age, then questions answered "No" until the stop
    rule, each time with the urgency and three causes above the question."""
    base, browser = site
    w = Watched(browser, load.PHONE, phone=True)
    page = w.page
    w.show(base + "/", ".st-key-iv_none button")
    assert in_viewport(page, ".st-key-disclaimer")
    assert in_viewport(page, ".st-key-iv_none button")
    page.screenshot(path=ARTIFACTS / "phone-1-first-screen.png")
    page.click(".st-key-iv_none button")
    page.wait_for_selector(".st-key-iv_age_group_adult button", timeout=load.TIMEOUT_MS)
    page.click(".st-key-iv_age_group_adult button")
    page.wait_for_selector(".st-key-iv_history_none button", timeout=load.TIMEOUT_MS)
    load.settle(page)
    page.click(".st-key-iv_history_none button")
    page.wait_for_selector(".st-key-iv_absent button", timeout=load.TIMEOUT_MS)
    load.settle(page)
    assert in_viewport(page, 'ol[aria-label="Possible causes, most likely first"]')
    assert in_viewport(page, ".st-key-iv_absent button")
    page.screenshot(path=ARTIFACTS / "phone-2-question.png")
    m = load_model()
    for _ in range(len(m.findings)):
        if not page.locator(".st-key-iv_absent button").count():
            break
        before = heading(page)
        page.click(".st-key-iv_absent button")
        page.wait_for_function(
            "(h) => { const hs = [...document.querySelectorAll('[data-testid=\"stMain\"] h2')];"
            " return hs.length && hs[hs.length - 1].innerText !== h && !document.querySelector('[data-stale=\"true\"]'); }",
            arg=before,
            timeout=load.TIMEOUT_MS,
        )
    page.wait_for_selector(
        "text=That is enough questions for a fair picture", timeout=load.TIMEOUT_MS
    )
    # The 90% ranges: with the answer, or a moment later by themselves (no tap needed).
    page.wait_for_selector(".tt-range", timeout=load.TIMEOUT_MS)
    assert "being computed" not in page.inner_text('[data-testid="stMain"]')
    shot(page, "phone-3-results.png")
    assert w.errors == []
    w.close()


def test_the_interview_by_keyboard_alone(site):
    """Tab and Enter are enough: the emergency signs, the age and several questions."""
    base, browser = site
    w = Watched(browser, load.PHONE, phone=True)
    page = w.page
    w.show(base + "/", ".st-key-iv_none button")

    def focused() -> str:
        return page.evaluate("() => (document.activeElement?.innerText || '').trim()")

    def tab_to(text: str) -> None:
        for _ in range(80):
            page.keyboard.press("Tab")
            if focused().endswith(text):
                return
        raise AssertionError(f"Tab never reached {text!r} (stopped on {focused()!r})")

    tab_to("None of these")
    page.keyboard.press("Enter")
    page.wait_for_selector(".st-key-iv_age_group_adult button", timeout=load.TIMEOUT_MS)
    load.settle(page)
    tab_to("Adult (18 to 59)")
    page.keyboard.press("Enter")
    page.wait_for_selector(".st-key-iv_history_none button", timeout=load.TIMEOUT_MS)
    load.settle(page)
    tab_to("None of these")
    page.keyboard.press("Enter")
    page.wait_for_selector(".st-key-iv_absent button", timeout=load.TIMEOUT_MS)
    load.settle(page)
    tab_to("No")
    for _ in range(3):
        before = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
        page.keyboard.press("Enter")  # the focus stays on "No" from one question to the next
        page.wait_for_function(
            "(n) => new URLSearchParams(location.search).size > n && !document.querySelector('[data-stale=\"true\"]')",
            arg=len(before),
            timeout=load.TIMEOUT_MS,
        )
    assert (
        sum(
            v == ["absent"]
            for v in urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query).values()
        )
        >= 8
    )
    assert w.errors == []
    w.close()


# ---------------------------------------------------------------- hostile links
def test_a_hostile_link_shows_as_plain_text(site):
    """A phishing link, emphasis, HTML and control characters in the link: no link,
    emphasis or HTML element carries them; the note shows them as plain text."""
    base, browser = site
    w = Watched(browser, load.DESKTOP, phone=False)
    page = w.page
    query = urllib.parse.urlencode(
        {
            "leg_pain": "[Call 555-0100 now](https://example.com)",
            "**key**": "present",
            "<b>bold</b>": "present",
            "fatigue": "present\u202eevil\x07",
            "onset_falling_asleep": "present",
        }
    )
    w.show(f"{base}/explore?{query}", ".st-key-link_notes")
    found = page.evaluate(
        """() => ({
          links: [...document.querySelectorAll('[data-testid="stMain"] a')].map(a => a.href),
          emphasis: [...document.querySelectorAll('[data-testid="stMain"] strong, [data-testid="stMain"] em, [data-testid="stMain"] b')]
             .map(e => e.textContent).filter(t => /555|key|bold/.test(t)),
          notes: document.querySelector('.st-key-link_notes').innerText,
        })"""
    )
    assert all(
        urllib.parse.urlparse(h).netloc == urllib.parse.urlparse(base).netloc
        for h in found["links"]
    )
    assert found["emphasis"] == []
    assert "Call 555-0100 now" in found["notes"] and "\u202e" not in found["notes"]
    assert "onset_falling_asleep=present" in page.url and "leg_pain" not in page.url
    page.screenshot(path=ARTIFACTS / "desktop-hostile-link.png")
    assert w.errors == []
    w.close()


def test_a_link_over_streamlits_limit_is_reported_and_its_answers_kept(site):
    """5,000 parameters and a 100 KB value: Streamlit drops such a query string; the page
    says so and still takes the valid answers out of it."""
    base, browser = site
    w = Watched(browser, load.DESKTOP, phone=False)
    page = w.page
    junk = "&".join(f"junk{i}=1" for i in range(5000))
    w.show(
        f"{base}/explore?leg_pain=present&fever=" + "y" * 50_000 + "&" + junk,
        "text=The link was too long",
    )
    assert re.search(r"leg_pain=present", page.url) and "junk1" not in page.url
    assert w.errors == []
    w.close()


# ---------------------------------------------------------------- every page
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_passes_axe_and_logs_no_console_error(site, size):
    """Opened from the landing page by the navigation: every page has no serious or
    critical axe-core violation and the console stays clean; opening a page directly
    adds only Streamlit's base-path probe (two 404s it answers itself)."""
    from axe_playwright_python.sync_playwright import Axe

    base, browser = site
    phone = size == "phone"
    w = Watched(browser, load.PHONE if phone else load.DESKTOP, phone=phone)
    page = w.page
    page.goto(base + "/?persists_2_weeks=present&age_group=adult")
    page.wait_for_selector(".tt-bars", timeout=load.TIMEOUT_MS)
    axe = Axe()
    serious = {}
    for title, name, ready in PAGES:
        menu = page.locator('[data-testid="stExpandSidebarButton"]')
        if menu.count() and menu.first.is_visible():
            menu.first.click()
        page.get_by_role("link", name=title, exact=True).first.click()
        page.wait_for_selector(ready, timeout=load.TIMEOUT_MS)
        load.settle(page)
        page.wait_for_timeout(800)
        assert "persists_2_weeks=present" in page.url, (name, page.url)  # the same case everywhere
        result = axe.run(page)
        serious[name] = [
            (v["id"], v["impact"], v["nodes"][0]["target"])
            for v in result.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        shot(page, f"{size}-{name}.png")
    assert serious == {name: [] for _, name, _ in PAGES}
    assert w.errors == []
    page.goto(base + "/tune")
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=load.TIMEOUT_MS)
    assert w.errors == [] and w.probes <= 2
    w.close()


def test_on_a_phone_the_ranking_follows_the_banner_within_one_screen(site):
    """All questions on a phone with "see a doctor": the list of causes starts within
    one screen below the urgency banner."""
    base, browser = site
    w = Watched(browser, load.PHONE, phone=True)
    page = w.page
    w.show(base + "/explore?persists_2_weeks=present&age_group=older_adult", ".tt-bars")
    gap = page.evaluate(
        """() => document.querySelector('ol[aria-label="Possible causes, most likely first"]').getBoundingClientRect().top
               - document.querySelector('[data-testid="stAlertContainer"]').getBoundingClientRect().bottom"""
    )
    assert gap < load.PHONE["height"] / 2
    w.close()


# ---------------------------------------------------------------- saving a copy
def test_a_clinician_saves_a_copy_of_the_priors_with_a_note(site, tmp_path):
    """Tune priors: a name and a note typed in and applied, then "Download": the file is a
    valid priors file with the shipped values, the name and the note (as its
    description, shown on the page as plain text), and the shipped file is untouched."""
    from toe_twitch.priors import DEFAULT_PRIORS_PATH, iter_parameters, load_priors

    shipped = DEFAULT_PRIORS_PATH.read_bytes()
    base, browser = site
    w = Watched(browser, load.DESKTOP, phone=False)
    page = w.page
    w.show(base + "/tune?age_group=adult", '[data-testid="stDataFrame"]')
    page.locator(".st-key-tune_name input").fill("clinic-a")
    page.locator(".st-key-tune_note textarea").fill(
        "Checked against our clinic's figures, <b>not</b> [a link](x)"
    )
    page.get_by_role("button", name="Use this name and note").click()
    # The button is drawn again with the new name once the form's rerun has finished.
    page.wait_for_function(
        "() => (document.querySelector('.st-key-tune_download button')?.innerText || '')"
        ".trim().endsWith('clinic-a.yaml')",
        timeout=load.TIMEOUT_MS,
    )
    load.settle(page)
    assert page.get_by_text("Note in the file: Checked against", exact=False).count() == 1
    assert page.locator("[data-testid='stMain'] a:has-text('a link')").count() == 0
    button = page.locator(".st-key-tune_download button")
    with page.expect_download(timeout=load.TIMEOUT_MS) as info:
        button.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == "clinic-a.yaml"
    copy = load_priors(saved)
    assert copy.name == "clinic-a"
    assert copy.description == "Checked against our clinic's figures, <b>not</b> [a link](x)"
    assert [(p.path, p.value) for p in iter_parameters(copy)] == [
        (p.path, p.value) for p in iter_parameters(load_priors())
    ]
    assert DEFAULT_PRIORS_PATH.read_bytes() == shipped
    assert w.errors == []
    w.close()


def test_a_copys_name_shows_as_plain_text_on_the_download_button(site):
    """The name is part of a button label (which Streamlit reads as Markdown): a name
    written to look bold stays plain."""
    base, browser = site
    w = Watched(browser, load.DESKTOP, phone=False)
    w.show(base + "/tune", '[data-testid="stDataFrame"]')
    page = w.page
    page.locator(".st-key-tune_name input").fill("__bold__")
    page.get_by_role("button", name="Use this name and note").click()
    page.wait_for_function(
        "() => (document.querySelector('.st-key-tune_download button')?.innerText || '')"
        ".trim().endsWith('__bold__.yaml')",
        timeout=load.TIMEOUT_MS,
    )
    button = page.locator(".st-key-tune_download button")
    assert button.locator("strong, em").count() == 0
    assert w.errors == []
    w.close()
