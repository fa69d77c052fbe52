"""The toe-twitching page: entry point of a multipage app (``streamlit run ui/app.py``).

Pages (``ui/pages_/``): Explore (the default: questions in the sidebar, the likely
causes and the urgency), Tune priors (for clinicians: edit any number of the priors and
see the effect), Network (the picture of the network and any node's table) and
Validation (the clinical vignettes). Each page only presents what ``model/`` computes.

Every run of any page starts here: the answers are read from the URL on the first run,
kept when another page is shown, and the model of this session's priors is found
(built once per distinct set of priors, shared through ``st.cache_resource``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts only ui/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui import state  # noqa: E402
from ui.explore import draw_case_summary  # noqa: E402
from ui.priors_state import session_model  # noqa: E402

PAGES = Path(__file__).resolve().parent / "pages_"


def main() -> None:
    st.set_page_config(
        page_title="Toe twitching: explore the causes",
        page_icon="🦶",
        layout="wide",
        initial_sidebar_state="auto",
    )
    state.keep_widget_values()
    model = session_model()
    state.init_state(model.findings, model.states, st.query_params.to_dict())
    pages = [
        st.Page(PAGES / "explore.py", title="Explore", icon=":material/directions_walk:", default=True),
        st.Page(PAGES / "tune.py", title="Tune priors", icon=":material/tune:", url_path="tune"),
        st.Page(PAGES / "network.py", title="Network", icon=":material/hub:", url_path="network"),
        st.Page(PAGES / "validation.py", title="Validation", icon=":material/fact_check:", url_path="validation"),
    ]  # fmt: skip
    page = st.navigation(pages, position="top")
    if page.url_path != pages[0].url_path:  # the other pages show the case in the sidebar
        draw_case_summary(model, pages[0])
    page.run()


main()
