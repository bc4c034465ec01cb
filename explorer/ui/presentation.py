"""Presentation mode: one switch for a projector, on every page.

On, it hides the sidebar (the settings; the page's presets and its Train / Pause / Step buttons stay
in the main column), uses the whole screen width, and enlarges everything in the main column by
`ZOOM` (type, figures, buttons; CSS `zoom`, so figures re-lay themselves out at the larger size
instead of being stretched bitmaps). The switch is rendered by the router (app.py) above every
page, so its state survives page changes.
"""

from __future__ import annotations

import streamlit as st

KEY = "presentation"
ZOOM = 1.3
CSS = f"""
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"] {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{
    max-width: 100% !important; padding: 1rem 2rem 2rem 2rem !important; zoom: {ZOOM};
}}
</style>
"""


def presentation_switch() -> bool:
    """The switch (top right of the page) and, when on, the projector styling; returns whether on."""
    _, right = st.columns([5, 1])
    on = right.toggle(
        "Presentation mode",
        key=KEY,
        help="For a projector: hides the sidebar, enlarges figures and text. Survives page changes.",
    )
    if on:
        st.html(CSS)
    return on
