"""Running a page script under AppTest with a prepared session state, failing on any exception it raised."""

from __future__ import annotations

from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROUTER = str(Path(__file__).resolve().parents[1] / "router.py")

# the training pages' widget-key prefixes (each page's KEY), by page file name
TRAINING_PAGE_KEYS = {"flow_matching": "fm", "diffusion": "df", "gan": "gan", "normalizing_flows": "nf", "vae": "vae"}


def _without_page_discovery(init):
    """PagesManager.__init__, then Streamlit's own discovery of the pages/ folder switched off, as app.py switches it
    off for the server: AppTest resets the switch before every run, and would otherwise run router.py through the
    legacy multipage path, which sends `switch_page("pages/x.py")` straight to the page, around the router."""

    def init_then_switch_off(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    return init_then_switch_off


PagesManager.__init__ = _without_page_discovery(PagesManager.__init__)


def router_app(timeout: float = 120) -> AppTest:
    """The whole app (router.py, its navigation and every page) as the server runs it."""
    return AppTest.from_file(ROUTER, default_timeout=timeout)


def ok(at: AppTest) -> AppTest:
    """`at`, after checking that its last run raised nothing (the exception's text is the failure message)."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_page(
    path: str, state: dict | None = None, params: dict[str, str] | None = None, timeout: float = 120
) -> AppTest:
    """The page at `path` run once with `state` in st.session_state and `params` in the URL; raising nothing."""
    at = AppTest.from_file(path, default_timeout=timeout)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    for key, value in (state or {}).items():
        at.session_state[key] = value
    return ok(at.run())


def open_groups(at: AppTest, key: str, *groups: str) -> AppTest:
    """`at` with these sidebar groups of the page keyed `key` open (a closed group builds no widgets)."""
    for group in groups:
        at.session_state[f"{key}.group.{group}"] = True
    return at
