"""Every session-state key of the page, and the rerun-safe filling of the missing ones.

Widget keys that depend on a finding or a page are built by the small functions at the
end; everything else is a constant here, so that a key is never spelled twice.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import streamlit as st

# ---------------------------------------------------------------- the case
#: The answers: ``{finding id: state id}``, in the order they were given.
ANSWERS = "answers"
#: Findings answered "Don't know" (asked, not answered): never asked again by the interview.
SKIPPED = "skipped"
#: The interview's steps, newest last: each the findings one screen answered (for Back).
HISTORY = "interview_history"
#: Set once this session's link has been read (the first run).
LINK_READ = "link_read"
#: The answers as this session last wrote them into the address bar: a run that finds
#: another link there was sent by the browser's Back or Forward button.
LINK_SYNCED = "link_synced"
#: Plain-text notes about parts of the link that were not used.
LINK_NOTES = "link_notes"
#: The in-browser check of links longer than Streamlit keeps (see :mod:`ui.link_check`).
LINK_CHECK = "link_check"
#: The browser's watch for a restarted server (see :mod:`ui.reconnect`).
RECONNECT = "reconnect_watch"
#: Set once an over-long link's report has been used.
LINK_CHECKED = "link_checked"
#: This session's last request for 90% ranges (cancelled when the answers change first).
PENDING_RANGES = "pending_ranges"
#: The pages of this session's navigation, by name (for links between them).
PAGES = "pages"
#: The interview goes on past its stop rule when asked to ("Answer more questions").
INTERVIEW_MORE = "interview_more"

# ---------------------------------------------------------------- the priors
#: The validated priors the edits apply to (absent: the shipped ones).
PRIORS_BASE = "priors_base"
#: Its key (:func:`ui.loaders.priors_key`).
PRIORS_BASE_KEY = "priors_base_key"
#: The base with the accepted edits applied (None: no edits), and its key.
PRIORS_ACTIVE = "priors_active"
PRIORS_ACTIVE_KEY = "priors_active_key"
#: Where they came from, in words.
PRIORS_BASE_LABEL = "priors_base_label"
#: The accepted edits, ``{parameter path: value}``.
PRIORS_EDITS = "priors_edits"
#: The edits refused on the last change: ``{path: (value tried, message)}``.
PRIORS_REFUSED = "priors_refused"
#: A message about the last upload of a priors file: ``(kind, title, details)``.
PRIORS_UPLOAD_MESSAGE = "tune_upload_message"

# ---------------------------------------------------------------- widgets
RESET = "reset_answers"
BACK_TO_SHIPPED = "back_to_shipped"
TUNE_UPLOAD = "tune_upload"
TUNE_BACK_TO_DEFAULT = "tune_back_to_default"
TUNE_FILTER = "tune_filter"
TUNE_EDITOR_VERSION = "tune_editor_version"
TUNE_NAME = "tune_name"
TUNE_NOTE = "tune_note"
TUNE_DOWNLOAD = "tune_download"
TUNE_SAVE_FORM = "tune_save_form"
TUNE_UNDO_ALL = "tune_undo_all"
#: The digest of the last priors file uploaded (handled once per file).
TUNE_UPLOAD_SEEN = "tune_upload_seen"
VALIDATION_UPLOAD = "val_upload"
VALIDATION_MISSES = "val_misses_only"
VALIDATION_ERRORS_DOWNLOAD = "val_errors_download"
VALIDATION_RESULTS_DOWNLOAD = "val_results_download"
NETWORK_FOCUS = "net_focus"
NETWORK_PICTURE = "net_picture"
NETWORK_NODE = "net_node"
WHY_CAUSE = "why_cause"
WHAT_IF_FINDING = "what_if_finding"
RED_FLAGS_NONE = "iv_none"
RED_FLAGS_UNSURE = "iv_unsure"
HISTORY_NONE = "iv_history_none"
HISTORY_UNSURE = "iv_history_unsure"
HISTORY_CONTINUE = "iv_history_continue"
INTERVIEW_BACK = "iv_back"
INTERVIEW_RESTART = "iv_restart"
INTERVIEW_MORE_BUTTON = "iv_more"
#: Settings of other pages kept when a page that does not draw them is shown.
KEPT_WIDGETS = (TUNE_FILTER, TUNE_NAME, TUNE_NOTE, NETWORK_FOCUS, NETWORK_PICTURE)

# ---------------------------------------------------------------- fragments
RESULTS_FRAGMENT = "results"
INTERVIEW_FRAGMENT = "interview"


def question_key(finding: str) -> str:
    """The full list's widget of a finding: ``q_leg_pain``."""
    return f"q_{finding}"


def interview_answer_key(finding: str, state: str) -> str:
    """An interview button: ``iv_leg_pain_present`` (``..._unknown`` for Don't know)."""
    return f"iv_{finding}_{state}"


def red_flag_key(finding: str) -> str:
    """A red flag's box on the interview's first screen: ``rf_fever``."""
    return f"rf_{finding}"


def history_key(finding: str) -> str:
    """A box on the interview's health-history screen: ``hs_diabetes``."""
    return f"hs_{finding}"


def ask_key(finding: str) -> str:
    """An in-place answer under "What to ask next": ``ask_leg_pain``."""
    return f"ask_{finding}"


def init_session_state(session: MutableMapping[str, Any] | None = None) -> None:
    """Fill the keys that are missing (safe on every rerun, never overwrites)."""
    session = st.session_state if session is None else session
    defaults: dict[str, Any] = {
        ANSWERS: {},
        SKIPPED: [],
        HISTORY: [],
        LINK_NOTES: [],
        PRIORS_EDITS: {},
        PRIORS_REFUSED: {},
        INTERVIEW_MORE: False,
    }
    for key, value in defaults.items():
        if key not in session:
            session[key] = value
    # Streamlit forgets a widget's value when a run does not draw it; writing it back
    # makes it the session's own value, kept across pages.
    for key in KEPT_WIDGETS:
        if key in session:
            session[key] = session[key]
