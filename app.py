"""Generative Models Explorer: the router. Pages live in pages/; this file only declares them."""

import streamlit as st

from explorer.device import configure_threads
from explorer.ui.presentation import presentation_switch

configure_threads()
st.set_page_config(page_title="Generative Models Explorer", page_icon=":material/blur_on:", layout="wide")

PAGES = {
    "Explorer": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Foundations": [
        st.Page("pages/densities.py", title="Densities", icon=":material/scatter_plot:"),
        st.Page("pages/divergences.py", title="Divergences", icon=":material/straighten:"),
    ],
    "Models": [
        st.Page("pages/gan.py", title="GANs", icon=":material/compare_arrows:"),
        st.Page("pages/vae.py", title="VAEs", icon=":material/hub:"),
        st.Page("pages/normalizing_flows.py", title="Normalizing flows", icon=":material/swap_horiz:"),
        st.Page("pages/flow_matching.py", title="Flow matching", icon=":material/waves:"),
        st.Page("pages/diffusion.py", title="Diffusion and score", icon=":material/blur_on:"),
        st.Page("pages/langevin.py", title="Langevin dynamics", icon=":material/grain:"),
    ],
    "Compare": [st.Page("pages/compare.py", title="Compare models", icon=":material/leaderboard:")],
}

page = st.navigation(PAGES)
presentation_switch()
page.run()
