"""Hours of use in a couple of minutes: the reduced, CI form of the soak run of issue 15.

Four browser sessions on one server for about 40 seconds, each going through every kind
of round of ``benchmarks/load.py`` (the interview, the full list with an emergency sign,
what-if, a priors edit, valid and invalid priors and vignette uploads, back to the
shipped priors), then more at random. The full run is ``python -m benchmarks.load
--sessions 20 --seconds 300 --mix soak``. Never downloads a browser: without
/usr/bin/chromium or the playwright package the tests are skipped with the reason,
except under CI (the CI variable is set), where they fail.
"""

from __future__ import annotations

import pytest

from benchmarks import load
from tests.conftest import require_browser

SESSIONS = 4
SECONDS = 30
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
    assert 0 < run["click_p50_ms"] <= run["click_p95_ms"] < load.TIMEOUT_MS
