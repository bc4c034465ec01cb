"""Generative Models Explorer: the server. `streamlit run app.py` finds `app` below and serves router.py
(the pages) with two additions of the explorer's own:

- `/explorer-assets/...`: plotly.js with long-lived caching (`explorer.ui.assets`), fetched once per browser;
- `/explorer-status`: this process's sessions and training slots, as JSON (`explorer.ui.status`; the class
  launcher in deploy/ and its test read it);
- `/explorer-live/<token>`: a live panel's newest charts and readouts while training runs (`explorer.ui.live_feed`);
- a warm-up at start: every family's kernels are compiled once in a background thread (`explorer.training.warmup`),
  so that the first student to open a page does not wait for it.

Streamlit's legacy discovery of a `pages/` folder is switched off before the first session: router.py's
`st.navigation` is the one page list (left on, the first run after a start listed the file names in the sidebar and
sent a deep link straight to a page script, around the router).
"""

import contextlib
import threading

import streamlit as st
from streamlit import config
from streamlit.runtime.pages_manager import PagesManager

from explorer.ui import assets, live_feed, status


@contextlib.asynccontextmanager
async def lifespan(_app):
    from explorer.training.warmup import import_modules, warm_up

    import_modules()  # before the first request, in one thread (concurrent imports can break)
    threading.Thread(target=warm_up, name="explorer-warm-up", daemon=True).start()
    yield


PagesManager.uses_pages_directory = False  # what st.navigation sets on its first call, set before any run
BASE_URL = config.get_option("server.baseUrlPath")
app = st.App(
    "router.py",
    routes=assets.routes(BASE_URL) + status.routes(BASE_URL) + live_feed.routes(BASE_URL),
    lifespan=lifespan,
)
