"""The Langevin page, headless (AppTest): defaults, both presets and their fixes, a blow-up, extreme
settings, and the learned score (missing, family unavailable, and from a trained diffusion session)."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_pages import ok, run_page
from page_figures import plotly_figures
from streamlit.testing.v1 import AppTest

from explorer.methods import FAMILIES
from explorer.methods.langevin import LangevinConfig, with_fields
from explorer.training.session import TrainingSession

PAGE = str(Path(__file__).resolve().parents[1] / "pages/langevin.py")


def _page(config: LangevinConfig | None = None, **state) -> AppTest:
    return run_page(PAGE, ({"config:langevin": config} if config is not None else {}) | state, timeout=60)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _text(at: AppTest) -> str:
    return " ".join(e.value for kind in (at.info, at.warning, at.error) for e in kind)


def test_default_page_runs_the_chains():
    at = _page()
    metrics = _metrics(at)
    assert float(metrics["final log-density gap (nats)"]) < 0.15
    assert float(metrics["final mode coverage TV"]) < 0.08
    assert len(plotly_figures(at)) == 3  # the animation and two marginals
    assert not at.error and at.latex  # the maths expander


def test_trapped_preset_and_the_annealing_fix():
    at = _page()
    at.button(key="lv.preset.trapped").click().run()
    ok(at)
    assert at.session_state["lv.density"] == "two_gaussians" and not at.session_state["lv.annealed"]
    assert float(_metrics(at)["final mode coverage TV"]) == pytest.approx(0.5)
    at.button(key="lv.fix.trapped").click().run()
    ok(at)
    assert at.session_state["lv.annealed"] and at.session_state["config:langevin"].annealed
    assert float(_metrics(at)["final mode coverage TV"]) < 0.1


def test_biased_preset_and_the_mala_fix():
    at = _page()
    at.button(key="lv.preset.biased").click().run()
    ok(at)
    assert float(_metrics(at)["final log-density gap (nats)"]) > 0.5
    at.button(key="lv.fix.biased").click().run()
    ok(at)
    metrics = _metrics(at)
    assert abs(float(metrics["final log-density gap (nats)"])) < 0.15
    assert 0.4 < float(metrics["MALA acceptance"].rstrip("%")) / 100 < 0.9


def test_a_step_that_blows_up_ends_in_a_message():
    at = _page()
    at.select_slider(key="lv.step_size").set_value(2.0).run()
    ok(at)
    assert any("blew up" in e.value and "ε must stay below" in e.value for e in at.error)


@pytest.mark.parametrize(
    "changes",
    [
        {"n_chains": 1, "n_steps": 1, "step_size": 1e-5, "init": "point", "init_x": 8.0, "init_y": -8.0},
        {"mala": True, "noise_scale": 0.0, "init": "mode", "init_mode": 63},
        {"annealed": True, "n_levels": 30, "n_steps": 10, "sigma_max": 0.01, "sigma_min": 10.0, "step_size": 10.0},
        {"density": "checkerboard"},
        {"density": "no_such_density", "n_chains": 10**9, "step_size": float("nan")},
    ],
)
def test_extreme_settings_end_in_a_result_or_a_message(changes):
    config = LangevinConfig()
    config = type(config)(**{**config.__dict__, **changes})  # unclamped, as a stale or hand-made state would be
    at = _page(config)
    assert _metrics(at) or _text(at)


def test_learned_score_without_a_model_says_so_and_offers_to_train():
    at = _page(with_fields(LangevinConfig(), score="learned"))
    assert "No diffusion model has been trained" in _text(at)
    if "diffusion" not in FAMILIES:
        assert "not part of this version" in _text(at)
        return
    at.button(key="lv.train").click().run()
    ok(at)
    assert at.session_state["session:diffusion"].step_count == 0
    assert at.button(key="lv.dm.train")  # Train / Pause / Step / Reset for the diffusion model


def test_learned_score_before_the_diffusion_family_exists(monkeypatch):
    monkeypatch.delitem(FAMILIES, "diffusion", raising=False)
    at = _page(with_fields(LangevinConfig(), score="learned"))
    assert "not part of this version" in _text(at)
    assert not [b for b in at.button if b.key == "lv.train"]


@pytest.mark.skipif("diffusion" not in FAMILIES, reason="the diffusion family has not landed")
def test_learned_score_from_a_trained_diffusion_session():
    config = FAMILIES["diffusion"].config(density="two_gaussians", device="cpu")
    session = TrainingSession("diffusion", config)
    session.step(20)
    assert session.step_count == 20
    at = _page(
        with_fields(LangevinConfig(), score="learned", density="two_gaussians", n_chains=200, n_steps=100),
        **{"session:diffusion": session},
    )
    assert "trained for 20 steps on Two Gaussians" in _text(at)
    assert "final log-density gap (nats)" in _metrics(at)
