"""Several people at once, for hours, in a couple of minutes: the reduced, CI form of the
load and soak runs of ``benchmarks/load.py``.

Four browser sessions (half of them phones) on one server, each going through every kind
of round (the interview, the full list with an emergency sign, what-if, a priors edit,
valid and invalid priors and vignette uploads, back to the shipped priors), then more at
random until about 20 seconds have passed. Every click is checked in the page against the
view the model computes for that session's own answers. The run happens once for the
module; each test checks one thing about it. The full run is ``python -m benchmarks.load
--sessions 20 --seconds 300 --mix soak``. Never downloads a browser: without
/usr/bin/chromium or the playwright package the tests are skipped with the reason,
except under CI (the CI variable is set), where they fail.
"""

from __future__ import annotations

import pytest

from benchmarks import load
from tests.conftest import require_browser

SESSIONS = 4
SECONDS = 20
#: The server's memory may grow this much over the run (MiB): caches fill, then hold.
RSS_GROWTH_MIB = 250

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def run() -> dict:
    require_browser("playwright.async_api")
    return load.run(SESSIONS, SECONDS, "soak")


def test_no_error_in_a_mixed_soak(run):
    """Answers, edits, uploads of good and bad files and what-if together: no error on any
    page, no console error, no traceback, every expected view reached.

    Would catch: an upload or an edit in one session breaking another's answers, a cache
    race, a page left broken by a bad file.
    """
    assert run["errors"] == []


def test_each_session_saw_its_own_answers(run):
    """Every click was followed by exactly the view the model computes for that
    session's own answers (the expected view is checked in the page), and every session
    answered several questions.

    Would catch: answers or results leaking between sessions.
    """
    assert all(s["clicks"] >= 3 for s in run["per_session"])
    assert run["clicks"] == sum(s["clicks"] for s in run["per_session"])


def test_every_kind_of_round_ran(run):
    """Each session went through every kind of round at least once."""
    for kind in (
        "interview",
        "list",
        "what-if",
        "upload good priors",
        "upload bad priors",
        "vignettes",
    ):
        assert run["actions"].get(kind, 0) >= SESSIONS, kind


def test_the_servers_memory_stays_bounded(run):
    """RSS at the end is within a bounded growth of the start (models, reports and
    ranges are kept in caches bounded by count and memory)."""
    assert run["rss_end_mib"]["server"] - run["rss_start_mib"]["server"] < RSS_GROWTH_MIB
    assert run["rss_max_mib"]["server"] < 600


def test_click_times_are_reported(run):
    """The run reports the median and 95th percentile of click to updated page."""
    assert 0 < run["click_p50_ms"] <= run["click_p95_ms"] < load.TIMEOUT_MS
