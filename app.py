"""Generative Models Explorer: the server. `streamlit run app.py` finds `app` below and serves router.py
(the pages) with two additions of the explorer's own:

- `/explorer-assets/...`: plotly.js with long-lived caching (`explorer.ui.assets`), fetched once per browser;
- a warm-up at start: every family's kernels are compiled and its views drawn once in a background thread
  (`explorer.warmup`), so that the first student to open a page does not wait for it.
"""

import contextlib
import threading

import streamlit as st
from streamlit import config

from explorer.ui import assets


@contextlib.asynccontextmanager
async def lifespan(_app):
    from explorer.warmup import warm_up

    threading.Thread(target=warm_up, name="explorer-warm-up", daemon=True).start()
    yield


app = st.App("router.py", routes=assets.routes(config.get_option("server.baseUrlPath")), lifespan=lifespan)
