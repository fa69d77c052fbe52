"""The clinician's and the researcher's pages in a real browser (Debian's chromium, as
tests/test_ui_browser.py drives it): Tune priors after loading a file (its changes against
the shipped priors, the edits table, a refused edit), the Network matrix, the Validation
cards and table, and uploaded files whose names are written to look like a link or an
alarm. axe-core finds no serious or critical violation on these views at phone and
desktop size. Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import pytest
import yaml

from benchmarks import load
from tests.conftest import edited_priors, require_browser
from tests.test_ui_browser import ARTIFACTS, Watched, serious_violations, shot
from toe_twitch import load_model
from toe_twitch.priors import priors_to_data
from toe_twitch.ui.text import cause_name
from toe_twitch.ui.views import tune_labels

pytestmark = pytest.mark.browser

#: A prior whose change shows in the ranking: how common hypnic jerks are in adults.
HYPNIC_ADULT = "causes.hypnic_jerk.prevalence.adult"
HOSTILE_NAMES = (
    "[Official priors](https:example.org).yaml",
    ":red[**Emergency - call 911 now**].yaml",
)


@pytest.fixture(scope="module")
def site():
    """``(base url, browser)``: one server and one chromium for the module."""
    require_browser("playwright.sync_api", "axe_playwright_python.sync_playwright")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (
        load.server(log=ARTIFACTS / "streamlit-server-research.log") as srv,
        load.chromium() as browser,
    ):
        yield srv.url, browser
        tracebacks = srv.tracebacks()
    assert tracebacks == [], tracebacks[:1]


def clinic_file(name: str) -> dict:
    """A priors file (as Playwright uploads it) with one number changed from the shipped."""
    m = load_model()
    high = next(p.high for p in m.structure.parameters if p.path == HYPNIC_ADULT)
    data = priors_to_data(edited_priors({HYPNIC_ADULT: high}))
    data["name"] = "clinic"
    body = yaml.safe_dump(data, sort_keys=False).encode()
    return {"name": name, "mimeType": "application/x-yaml", "buffer": body}


def choose_file(page, selector: str, file: dict, expected: str) -> None:
    page.locator(selector).set_input_files(file)
    page.wait_for_function(
        "(t) => document.body.innerText.includes(t)", arg=expected, timeout=load.TIMEOUT_MS
    )
    load.settle(page)


def formatted_text(page, words: str) -> list[str]:
    """Links, emphasis and coloured Markdown spans in the page that hold ``words``."""
    return page.evaluate(
        """(w) => [...document.querySelectorAll('[data-testid="stMain"] a, [data-testid="stMain"] strong, '
             + '[data-testid="stMain"] em, [data-testid="stMain"] [class*="colored"], [data-testid="stMain"] span[style*="color"]')]
             .map(e => e.outerHTML).filter(h => h.includes(w))""",
        words,
    )


def test_a_priors_file_with_a_hostile_name_shows_its_changes_and_its_name_as_text(site):
    """Tune priors on a desktop: a file named like a Markdown link is loaded; "What the
    edits change" lists its change against the shipped priors by label; its name is plain
    text on Tune, All questions and Validation (no link to example.org anywhere)."""
    base, browser = site
    m = load_model()
    w = Watched(browser, load.DESKTOP, phone=False)
    page = w.page
    w.show(base + "/tune?age_group=adult", '[data-testid="stDataFrame"]')
    choose_file(page, ".st-key-tune_upload input[type=file]", clinic_file(HOSTILE_NAMES[0]),
                "Loaded this priors file")  # fmt: skip
    page.wait_for_selector(
        '[aria-label="Numbers that differ from the shipped priors"]', timeout=load.TIMEOUT_MS
    )
    diff = page.locator('[aria-label="Numbers that differ from the shipped priors"]')
    assert tune_labels.row_label(m, HYPNIC_ADULT) in diff.inner_text()
    assert HYPNIC_ADULT not in diff.inner_text()
    assert page.get_by_text("Nothing differs from the shipped priors").count() == 0
    shot(page, "research-desktop-tune-file.png")
    assert serious_violations(page) == []
    for path, ready in (("/tune", '[data-testid="stDataFrame"]'), ("/explore", ".tt-bars"),
                        ("/validation", ".st-key-val_scores")):  # fmt: skip
        page.get_by_role("link", name={"/tune": "Tune priors", "/explore": "All questions",
                                       "/validation": "Validation"}[path], exact=True).first.click()  # fmt: skip
        page.wait_for_selector(ready, timeout=load.TIMEOUT_MS)
        page.wait_for_function(
            "(n) => document.querySelector('[data-testid=\"stMain\"]').innerText.includes(n)",
            arg=HOSTILE_NAMES[0],
            timeout=load.TIMEOUT_MS,
        )
        load.settle(page)
        links = page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=\"stMain\"] a')].map(a => a.href)"
        )
        assert not any("example.org" in h for h in links), (path, links)
        assert formatted_text(page, "Official priors") == [], path
        assert HOSTILE_NAMES[0] in page.locator('[data-testid="stMain"]').inner_text(), path
    assert w.errors == []
    w.close()


def test_an_alarm_written_in_a_file_name_stays_plain(site):
    """A vignette file and a priors file named ':red[**Emergency - call 911 now**].yaml':
    no red or bold text anywhere, the name shown as written."""
    base, browser = site
    w = Watched(browser, load.DESKTOP, phone=False)
    page = w.page
    w.show(base + "/tune", '[data-testid="stDataFrame"]')
    choose_file(page, ".st-key-tune_upload input[type=file]", clinic_file(HOSTILE_NAMES[1]),
                "Loaded this priors file")  # fmt: skip
    assert formatted_text(page, "911") == []
    page.get_by_role("link", name="Validation", exact=True).first.click()
    page.wait_for_selector(".st-key-val_scores", timeout=load.TIMEOUT_MS)
    vignettes = yaml.safe_dump(
        {
            "vignettes": [
                {
                    "id": "one",
                    "findings": {"leg_pain": "present"},
                    "expect": {"urgency": ["self_care", "see_doctor"]},
                }
            ]
        }  # fmt: skip
    ).encode()
    file = {"name": HOSTILE_NAMES[1], "mimeType": "application/x-yaml", "buffer": vignettes}
    choose_file(page, ".st-key-val_upload input[type=file]", file, "From the uploaded file")
    assert formatted_text(page, "911") == []
    assert page.locator('[data-testid="stMain"]').inner_text().count(HOSTILE_NAMES[1]) >= 2
    assert w.errors == []
    w.close()


def type_into_row(page, row: int, value: str, expected: str) -> None:
    """Type into the value cell of a row of the Tune grid (rows and header 35 px high);
    a grid that did not take the keys yet (still being drawn) is typed into again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    for attempt in range(3):
        page.mouse.click(box["x"] + 230 + 45, box["y"] + 35 * (row + 1) + 17)
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)
        page.keyboard.press("Control+A")
        page.keyboard.type(value, delay=30)
        page.keyboard.press("Enter")
        try:
            page.wait_for_function(
                "(t) => document.body.innerText.includes(t)", arg=expected, timeout=20_000
            )
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    load.settle(page)


def test_an_edit_is_listed_by_label_without_overlap_and_a_refusal_stays_in_sight(site):
    """An accepted edit: the "Edits in use" table names the row (no path) and its cells
    do not overlap. A refused one: its row moves to the top of the fresh grid and stands
    in full beside it."""
    base, browser = site
    m = load_model()
    w = Watched(browser, load.DESKTOP, phone=False)
    page = w.page
    w.show(base + "/tune?age_group=adult", '[data-testid="stDataFrame"]')

    rows = [p for p in m.structure.parameters if tune_labels.cause_of(p.path) == m.causes[0]]
    first, fourth = rows[0], rows[3]
    type_into_row(page, 0, f"{(first.low + first.high) / 2:g}", "1 edit in use")
    table = page.locator('[aria-label="Edits in use"]')
    assert tune_labels.row_label(m, first.path) in table.inner_text()
    assert first.path not in table.inner_text()
    overlaps = page.evaluate(
        """() => [...document.querySelectorAll('[aria-label="Edits in use"] [role="row"]')].flatMap(row => {
             const r = [...row.children].map(c => c.getBoundingClientRect());
             return r.slice(1).filter((b, i) => b.left < r[i].right - 1).map(() => row.innerText);
           })"""
    )
    assert overlaps == []
    type_into_row(page, 3, "17", "not applied")
    top_row = page.wait_for_function(
        """() => { const cells = [...document.querySelectorAll(
                     '[data-testid="stDataFrame"] tr[aria-rowindex="2"] td')].map(c => c.innerText);
                   return cells.length > 2 && cells; }""",
        timeout=load.TIMEOUT_MS,
    ).json_value()
    assert top_row[0] == tune_labels.grid_label(m, fourth.path) and top_row[2].startswith("✗ refused")
    detail = page.locator('[aria-label="The chosen row in full"]').inner_text()
    assert tune_labels.row_label(m, fourth.path) in detail
    assert " ".join(fourth.source.split()) in " ".join(detail.split())
    assert page.locator('[aria-label="Edits in use"]').count() == 1  # the first edit stays
    shot(page, "research-desktop-tune-refused.png")
    assert w.errors == []
    w.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_network_matrix_and_the_validation_table_pass_axe(size, site):
    """The whole network as a cause x finding matrix (every cause a column, cells with
    the link as text), and the Validation cards (labels whole, each out of a count) and
    table: no serious or critical axe-core violation at this size."""
    base, browser = site
    m = load_model()
    phone = size == "phone"
    w = Watched(browser, load.PHONE if phone else load.DESKTOP, phone=phone)
    page = w.page
    w.show(base + "/network?age_group=adult", ".tt-bars")
    page.locator(".st-key-net_focus").click()
    page.get_by_role("option", name="Every cause and finding: a matrix of link strengths").click()
    page.wait_for_selector(".tt-matrix", timeout=load.TIMEOUT_MS)
    load.settle(page)
    heads = page.locator('.tt-matrix [role="columnheader"]').all_inner_texts()
    assert [" ".join(h.split()) for h in heads[1:]] == [cause_name(m, c) for c in m.causes]
    assert page.locator('.tt-matrix [role="cell"]').count() > 100
    assert page.evaluate("() => document.querySelector('.tt-matrix-wrap').tabIndex") == 0
    shot(page, f"research-{size}-network-matrix.png")
    violations = {"network": serious_violations(page)}
    page.goto(base + "/validation")
    page.wait_for_selector(".st-key-val_scores .tt-card", timeout=load.TIMEOUT_MS)
    load.settle(page)
    cards = page.evaluate(
        """() => [...document.querySelectorAll('.tt-card')].map(c => ({
             cut: [...c.children].some(e => e.scrollWidth > e.clientWidth + 1),
             of: c.querySelector('.tt-card-of').innerText }))"""
    )
    assert len(cards) == 4 and not any(c["cut"] for c in cards)
    assert all(c["of"].startswith("of ") and "vignette" in c["of"] for c in cards)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=load.TIMEOUT_MS)
    shot(page, f"research-{size}-validation.png")
    violations["validation"] = serious_violations(page)
    assert violations == {"network": [], "validation": []}
    assert w.errors == []
    w.close()
