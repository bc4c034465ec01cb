"""Lecture-demo presets on every training page: at least three, valid settings, one click applies
them (widgets, config, fresh model) and says what to watch."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.configs import clamp
from explorer.methods import FAMILIES
from explorer.training.presets import apply_preset
from explorer.ui import share

ROOT = Path(__file__).resolve().parents[1]
# family -> (page, widget key prefix, the views module that keeps the page's PRESETS)
PAGES = {
    "flow_matching": ("flow_matching", "fm", "flow_matching"),
    "diffusion": ("diffusion", "df", "diffusion"),
    "gan": ("gan", "gan", "gan"),
    "vae": ("vae", "vae", "vae"),
    "flow": ("normalizing_flows", "nf", "realnvp"),
}


def _presets(family: str) -> dict:
    return importlib.import_module(f"explorer.views.{PAGES[family][2]}").PRESETS


@pytest.mark.parametrize("family", list(PAGES))
def test_every_training_page_has_three_valid_presets(family: str) -> None:
    presets = _presets(family)
    assert len(presets) >= 3
    config_cls = FAMILIES[family].config
    for name, preset in presets.items():
        config = apply_preset(config_cls(device="cpu"), preset)
        assert clamp(config) == config, f"{name}: a setting is out of range"
        assert config.device == "cpu"
        assert len(preset.look) > 60, f"{name}: say what to watch"


@pytest.mark.parametrize("family", list(PAGES))
def test_one_click_applies_a_preset_and_explains_it(family: str) -> None:
    page, key, _ = PAGES[family]
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120).run()
    for name, preset in _presets(family).items():
        at.button(key=f"{key}.preset.{name}").click().run()
        assert not at.exception, [e.value for e in at.exception]
        config = at.session_state[f"config:{family}"]
        expected = apply_preset(FAMILIES[family].config(), preset)
        assert dataclasses.asdict(config) == dataclasses.asdict(expected), name
        assert any(preset.look in i.value for i in at.info), f"{name}: the advice is missing"
        assert at.session_state[f"session:{family}"].step_count == 0
        for field, value in preset.settings.items():
            assert at.session_state[f"{key}.{field}"] == value, (name, field)


@pytest.mark.parametrize("family", list(PAGES))
def test_a_shared_link_to_a_demo_shows_its_advice(family: str) -> None:
    """A student opening the lecturer's link (the demo's settings in the URL, no click in this browser)
    sees what to watch; the page at its defaults shows no demo's advice."""
    page, _, _ = PAGES[family]
    plain = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120).run()
    defaults = FAMILIES[family].config()
    assert not any(p.look in i.value for p in _presets(family).values() for i in plain.info)
    for name, preset in _presets(family).items():
        if all(getattr(defaults, field) == value for field, value in preset.settings.items()):
            continue  # a demo of the defaults: the plain page is that demo, without a note
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
        for field, value in share.query((apply_preset(defaults, preset), defaults)).items():
            at.query_params[field] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        shown = [i.value for i in at.info]
        assert any(preset.look in text for text in shown), f"{name}: no advice from the link; {shown}"
