"""Generative Models Explorer: the router, run for every visit. Page scripts live in pages/; this file declares
them with one `st.navigation`, the only page list ever shown (app.py turns Streamlit's own discovery of pages/
off). The server around it is app.py."""

from pathlib import Path

import streamlit as st

from explorer.device import configure_training_thread
from explorer.methods import FAMILIES
from explorer.ui.presentation import presentation_switch

ICON = Path(__file__).with_name("assets") / "icon.png"  # served by the app itself: nothing asks another host

configure_training_thread()
st.set_page_config(page_title="Generative Models Explorer", page_icon=str(ICON), layout="wide")

PAGES = {
    "Explorer": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Foundations": [
        st.Page("pages/densities.py", title="Densities", icon=":material/scatter_plot:"),
        st.Page("pages/divergences.py", title="Divergences", icon=":material/straighten:"),
    ],
    "Models": [  # the trained families from the registry, in the lecture notes' order; then Langevin
        *(st.Page(f.page, title=f.page_title, icon=f.icon) for f in sorted(FAMILIES.values(), key=lambda f: f.course)),
        st.Page("pages/langevin.py", title="Langevin dynamics", icon=":material/grain:"),
    ],
    "Compare": [
        st.Page("pages/compare.py", title="Compare models", icon=":material/leaderboard:"),
        st.Page("pages/retrain.py", title="Retraining on its own samples", icon=":material/autorenew:"),
    ],
}

page = st.navigation(PAGES)
presentation_switch()
page.run()
