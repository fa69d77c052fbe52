"""The toe-twitching page: ``toe-twitch serve`` (or ``streamlit run ui/app.py``).

Five pages, each a function of its own module in ``ui/views``: Guided questions (the
interview; where a phone lands), All questions (every question with the results; where
a desktop lands), Tune priors, Network and Validation. Every run
starts here: the session's keys are filled, the answers are read from the link on the
first run, and the page runs under a handler that shows a plain message, never a
traceback, if anything unexpected fails.

Works from any working directory: it imports the installed ``ui`` and ``model``
packages, and ``ui/.streamlit/config.toml`` (next to this file) holds the settings.
"""

from __future__ import annotations

import streamlit as st

from toe_twitch.ui import answers, keys, link_check, loaders, reconnect, session_priors, widgets
from toe_twitch.ui.views import explore, guided, network, tune, validation

#: Words in a browser's User-Agent that mean a phone (Mozilla's advice: "Mobi").
PHONE_AGENTS = ("Mobi", "Android", "iPhone")


def is_phone() -> bool:
    agent = st.context.headers.get("User-Agent", "") if st.context.headers else ""
    return any(word in agent for word in PHONE_AGENTS)


def land() -> None:
    """The address without a page (``/``): the interview on a phone, the full list
    elsewhere, keeping the answers of the link. Every page keeps its own address, so a
    link copied on a phone opens the same page on a desktop."""
    name = "guided" if is_phone() else "explore"
    st.switch_page(st.session_state[keys.PAGES][name], query_params=answers.link_params())


def pages() -> dict[str, st.Page]:
    return {
        "landing": st.Page(land, title="Start", url_path="start", default=True, visibility="hidden"),
        "guided": st.Page(guided.render, title="Guided questions", icon=":material/quiz:",
                          url_path="questions"),
        "explore": st.Page(explore.render, title="All questions", icon=":material/checklist:",
                           url_path="explore"),
        "tune": st.Page(tune.render, title="Tune priors", icon=":material/tune:", url_path="tune"),
        "network": st.Page(network.render, title="Network", icon=":material/hub:", url_path="network"),
        "validation": st.Page(validation.render, title="Validation", icon=":material/fact_check:",
                              url_path="validation"),
    }  # fmt: skip


@widgets.guarded("page")
def main() -> None:
    keys.init_session_state()
    model = session_priors.session_model()
    answers.load_link_once(model)
    answers.follow_browser(model)
    nav = pages()
    st.session_state[keys.PAGES] = nav
    page = st.navigation(list(nav.values()), position="top")
    page.run()
    answers.sync_link()
    reconnect.watch()
    link_check.check_long_link(model)  # last: its script loads after the page is drawn
    loaders.freeze_the_heap()


st.set_page_config(
    page_title="Toe twitching: what might be causing it?",
    page_icon="🦶",
    layout="wide",
    initial_sidebar_state="collapsed",
)
widgets.page_style()
main()
