"""Keep every visit on the `st.navigation` router declared in app.py.

Streamlit (1.67) decides once per server process whether the app uses the legacy pages/-folder
routing: if the first run of the process enters at a deep URL such as /flow_matching, it runs
pages/flow_matching.py directly with auto-generated navigation, and app.py (our router, with the
page titles, icons and wide layout) never runs until someone opens the root URL. DESIGN.md wants
page scripts in pages/, so each page calls `use_app_router()` first: in legacy mode it switches
the flag off and reruns, which executes app.py and resolves the same URL through st.navigation.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def use_app_router() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
