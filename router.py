"""Generative Models Explorer: the router, run for every visit. Pages live in app_pages/ (a folder Streamlit
does not discover by itself, so only this navigation is ever shown); this file only declares them. The
server around it is app.py."""

import streamlit as st

from explorer.device import configure_training_thread
from explorer.methods import FAMILIES
from explorer.ui.presentation import presentation_switch

configure_training_thread()
st.set_page_config(page_title="Generative Models Explorer", page_icon=":material/blur_on:", layout="wide")

PAGES = {
    "Explorer": [st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Foundations": [
        st.Page("app_pages/densities.py", title="Densities", icon=":material/scatter_plot:"),
        st.Page("app_pages/divergences.py", title="Divergences", icon=":material/straighten:"),
    ],
    "Models": [  # the trained families from the registry, in the lecture notes' order; then Langevin
        *(st.Page(f.page, title=f.page_title, icon=f.icon) for f in sorted(FAMILIES.values(), key=lambda f: f.course)),
        st.Page("app_pages/langevin.py", title="Langevin dynamics", icon=":material/grain:"),
    ],
    "Compare": [st.Page("app_pages/compare.py", title="Compare models", icon=":material/leaderboard:")],
}

page = st.navigation(PAGES)
presentation_switch()
page.run()
