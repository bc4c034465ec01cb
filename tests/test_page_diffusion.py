"""The Diffusion page renders every tab under AppTest, trains, and handles changes as promised."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from page_figures import plotly_figures
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages/diffusion.py")
TABS = ["Forward noising", "Samplers side by side", "ε, score, x₀ (Tweedie)", "Score sharpening", "The maths"]


def _session(at: AppTest):
    return at.session_state["session:diffusion"]


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders(tab: str) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["df.tab"] = tab
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [b.label for b in at.button]
    assert labels[labels.index("Train") :][:4] == ["Train", "Pause", "Step", "Reset"]
    assert len(plotly_figures(at)) >= 2


def test_train_pause_and_a_sampler_change_without_reset() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.button(key="df.train").click().run()
    end = time.monotonic() + 30
    while _session(at).step_count < 200 and time.monotonic() < end:
        time.sleep(0.05)
    at.button(key="df.pause").click().run()
    steps = _session(at).step_count
    assert steps >= 200 and _session(at).status == "paused"
    at.selectbox(key="df.sampler").select("ddpm").run()
    assert not at.exception
    assert _session(at).step_count == steps and _session(at).config.sampler == "ddpm"


def test_changing_the_target_resets_with_a_notice() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.button(key="df.step").click().run()
    at.selectbox(key="df.target").select("x0").run()
    assert not at.exception
    assert _session(at).step_count == 0
    assert any("reset" in i.value for i in at.info)


@pytest.mark.parametrize(("schedule", "explained"), [("cosine", True), ("linear", False)])
def test_the_samplers_tab_says_why_ddim_trails_under_the_cosine_schedule(schedule: str, explained: bool) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["df.tab"] = "Samplers side by side"
    at.query_params["noise_schedule"] = schedule
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "All four start from the same noise" in captions
    assert ("DDIM's first steps divide" in captions) is explained
