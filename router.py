"""Generative Models Explorer: the router, run for every visit. Pages live in app_pages/ (a folder Streamlit
does not discover by itself, so only this navigation is ever shown); this file only declares them. The
server around it is app.py."""

import streamlit as st

from explorer.device import configure_threads
from explorer.ui.presentation import presentation_switch

configure_threads()
st.set_page_config(page_title="Generative Models Explorer", page_icon=":material/blur_on:", layout="wide")

PAGES = {
    "Explorer": [st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Foundations": [
        st.Page("app_pages/densities.py", title="Densities", icon=":material/scatter_plot:"),
        st.Page("app_pages/divergences.py", title="Divergences", icon=":material/straighten:"),
    ],
    "Models": [
        st.Page("app_pages/gan.py", title="GANs", icon=":material/compare_arrows:"),
        st.Page("app_pages/vae.py", title="VAEs", icon=":material/hub:"),
        st.Page("app_pages/normalizing_flows.py", title="Normalizing flows", icon=":material/swap_horiz:"),
        st.Page("app_pages/flow_matching.py", title="Flow matching", icon=":material/waves:"),
        st.Page("app_pages/diffusion.py", title="Diffusion and score", icon=":material/blur_on:"),
        st.Page("app_pages/langevin.py", title="Langevin dynamics", icon=":material/grain:"),
    ],
    "Compare": [st.Page("app_pages/compare.py", title="Compare models", icon=":material/leaderboard:")],
}

page = st.navigation(PAGES)
presentation_switch()
page.run()
