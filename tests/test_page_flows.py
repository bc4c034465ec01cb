"""The Normalizing flows page, headless (AppTest): every tab, training and pausing, extreme settings
explained instead of a traceback, a diverging run, and an uploaded point cloud without a density."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from apptest_pages import ok, run_page
from page_figures import plotly_figures
from streamlit.testing.v1 import AppTest

from explorer.data.userdata import example_csv, parse_points_csv
from explorer.methods import FlowConfig
from explorer.views import realnvp as views

PAGE = str(Path(__file__).resolve().parents[1] / "pages/normalizing_flows.py")
SMALL = {"hidden": 16, "batch_size": 64}  # keeps each Step cheap


def _page(config: FlowConfig | None = None, tab: str | None = None, **state) -> AppTest:
    prepared = {"config:flow": config, "nf.tab": tab}
    return run_page(PAGE, {k: v for k, v in prepared.items() if v is not None} | state)


def _notes(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("tab", ["Layer by layer", "Density check", "The maths"])
def test_every_tab_renders(tab: str) -> None:
    at = _page(FlowConfig(**SMALL), tab)
    labels = [b.label for b in at.button]
    assert labels[labels.index("Train") :][:4] == ["Train", "Pause", "Step", "Reset"]
    at.button(key="nf.step").click().run()
    ok(at)
    assert at.session_state["session:flow"].step_count == 1
    charts = plotly_figures(at)
    # live: learned density, target, samples, the layer strip, the log-det strip; plus the tab's own
    assert len(charts) == {"Layer by layer": 7, "Density check": 7, "The maths": 5}[tab]
    if tab == "The maths":
        latex = " ".join(e.value for e in at.latex)
        assert r"p_x(x) = p_z\big(f^{-1}(x)\big)" in latex and r"\det" in latex
        assert not at.get("help")  # no stray magic output (an expression statement would st.write its value)
    if tab == "Layer by layer":
        assert sum("frames" in c and "sliders" in c["layout"] for c in charts) == 2  # both directions
    if tab == "Density check":
        labels = [m.label for m in at.metric]
        assert "entropy H(p)" in labels and at.metric[1].value == "3.466"  # log 32, the checkerboard


def test_train_then_pause_keeps_the_steps() -> None:
    at = _page(FlowConfig(**SMALL))
    at.button(key="nf.train").click().run()
    session = at.session_state["session:flow"]
    end = time.monotonic() + 60
    while session.step_count < 100 and time.monotonic() < end:
        time.sleep(0.05)
    at.button(key="nf.pause").click().run()
    ok(at)
    at.session_state["worker:flow"].join(5)
    assert session.status == "paused" and session.step_count >= 100
    assert len(session.snapshot().loss) > 0


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"n_layers": 1}, "With one coupling"),
        ({"n_layers": 2}, "Two couplings"),
        ({"n_layers": 64, "hidden": 8, "depth": 1}, "64 couplings"),
        ({"scale_bound": 0.05}, "S = 0.05"),
        ({"scale_bound": 10.0}, "S = 10"),
        ({"hidden": 4}, "Width 4"),
        ({"lr": 10.0}, "learning rate this large"),
    ],
)
def test_extreme_settings_are_explained_not_raised(changes: dict, phrase: str) -> None:
    at = _page(FlowConfig(**{**SMALL, **changes}), "Layer by layer")
    assert phrase in _notes(at)
    at.button(key="nf.step").click().run()
    ok(at)
    assert at.session_state["session:flow"].step_count <= 1


def test_a_diverging_run_shows_the_message_and_keeps_the_weights() -> None:
    at = _page(FlowConfig(**SMALL, lr=10.0, n_layers=4), "Density check")
    session = at.session_state["session:flow"]
    for _ in range(300):
        at.button(key="nf.step").click().run()
        if session.status == "diverged":
            break
    ok(at)
    assert session.status == "diverged"
    assert any("Training diverged" in e.value and "last good weights" in e.value for e in at.error)
    assert torch.isfinite(session.method.flat.flat).all()


def test_an_uploaded_point_cloud_trains_without_a_floor() -> None:
    upload = parse_points_csv(example_csv(300), "heart.csv")
    at = _page(FlowConfig(**SMALL, density=upload.name), "Density check", custom_densities={upload.name: upload})
    assert "no closed-form log p" in _notes(at)
    at.button(key="nf.step").click().run()
    ok(at)
    assert at.session_state["session:flow"].density is upload
    assert any("no entropy" in c.value.lower() for c in at.caption)


def test_every_preset_sets_its_config_and_says_what_to_look_at() -> None:
    at = _page(FlowConfig(seed=3, **SMALL))
    for name, preset in views.PRESETS.items():
        at.button(key=f"nf.preset.{name}").click().run()
        ok(at)
        config, session = at.session_state["config:flow"], at.session_state["session:flow"]
        assert session.config == config and session.step_count == 0
        for field, value in preset.settings.items():
            assert getattr(config, field) == value and at.session_state[f"nf.{field}"] == value
        assert config.seed == 0 and config.hidden == FlowConfig().hidden  # the rest from the defaults
        assert any(preset.look in i.value for i in at.info)
        at.button(key="nf.step").click().run()
        assert ok(at).session_state["session:flow"].step_count == 1
    at.selectbox(key="nf.density").select("two_moons").run()  # off the preset: its advice goes
    assert not any(preset.look in i.value for i in ok(at).info)


def test_a_share_link_sets_the_flow_and_the_tab() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for name, value in {"n_layers": "4", "activation": "silu", "density": "two_gaussians", "tab": "The maths"}.items():
        at.query_params[name] = value
    at.query_params["n_layers_typo"] = "3"
    ok(at.run())
    config = at.session_state["session:flow"].config
    assert (config.n_layers, config.activation, config.density) == (4, "silu", "two_gaussians")
    assert at.latex  # the maths tab is open
    assert any("n_layers_typo" in w.value for w in at.warning)


def test_a_checkpoint_round_trip_restores_the_weights() -> None:
    from explorer.training import checkpoint

    at = _page(FlowConfig(**SMALL))
    session = at.session_state["session:flow"]
    session.step(5)
    blob = checkpoint.save("flow", session.config, session.step_count, session.method.state_dict())
    trained = session.method.flat.flat.clone()
    session.reset()
    assert not torch.equal(session.method.flat.flat, trained)
    state, step, _ = checkpoint.load(blob, "flow", session.config, session.method.state_dict())
    session.load_weights(state, step)
    assert step == 5 and torch.equal(session.method.flat.flat, trained)
