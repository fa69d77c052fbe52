"""Several people answering at once: the reduced, CI form of ``benchmarks/load.py``.

Four browser sessions (one Debian chromium, one context each, half of them phones) go
through the interview and the full list together for about 15 seconds. The run happens
once for the module; each test checks one thing about it. Never downloads a browser:
without /usr/bin/chromium or the playwright package the tests are skipped with the
reason, except under CI (the CI variable is set), where they fail.
"""

from __future__ import annotations

import pytest

from benchmarks import load
from tests.conftest import require_browser

SESSIONS = 4
SECONDS = 12

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def run() -> dict:
    require_browser("playwright.async_api")
    return load.run(SESSIONS, SECONDS, "answers")


def test_no_page_shows_an_error_under_load(run):
    """With four people answering at once: no error on any page, no console or script
    error, no traceback in the server's log, every expected view reached in time.

    Would catch: a race between sessions in the shared caches, a front-end error, a
    page that stops updating under load.
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


def test_click_times_are_reported(run):
    """The run reports the median and 95th percentile of click to updated page."""
    assert 0 < run["click_p50_ms"] <= run["click_p95_ms"] <= run["click_max_ms"] < load.TIMEOUT_MS
