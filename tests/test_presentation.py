"""Presentation mode (explorer.ui.presentation): every page renders with it on, and it survives a page change."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_pages import router_app
from streamlit.testing.v1 import AppTest

from explorer.ui.presentation import CSS, KEY

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


def _styled(at: AppTest) -> bool:
    return any("stSidebar" in getattr(h, "proto", h).body for h in at.get("html"))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_in_presentation_mode(page: str) -> None:
    at = router_app()
    at.session_state[KEY] = True
    at.switch_page(f"pages/{page}").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.toggle(key=KEY).value
    assert _styled(at), "the projector styling is missing"


def test_the_switch_survives_page_changes_and_turns_off() -> None:
    at = router_app().run()
    assert not _styled(at)
    at.toggle(key=KEY).set_value(True).run()
    assert _styled(at)
    at.switch_page("pages/gan.py").run()
    assert at.toggle(key=KEY).value and _styled(at)
    at.switch_page("pages/densities.py").run()
    assert at.toggle(key=KEY).value and _styled(at)
    at.toggle(key=KEY).set_value(False).run()
    assert not _styled(at)
    assert "zoom" in CSS
