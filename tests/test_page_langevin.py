"""The Langevin page, headless (AppTest): defaults, both presets and their fixes, a blow-up, extreme
settings, and the learned score (missing, and from a trained diffusion session)."""

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


def _extreme(**changes) -> AppTest:
    config = LangevinConfig()
    return _page(type(config)(**{**config.__dict__, **changes}))  # unclamped, as a stale or hand-made state would be


def test_one_chain_one_tiny_step_far_away_stays_off_the_modes():
    """One chain from (8, -8), one step of 1e-5: all the mass (1 of 1) is off the modes and in one mode's cell,
    so the mode TV is 1 - 1/8."""
    metrics = _metrics(_extreme(n_chains=1, n_steps=1, step_size=1e-5, init="point", init_x=8.0, init_y=-8.0))
    assert metrics["steps / time"].startswith("1 in")
    assert float(metrics["final off-mode mass"]) == 1.0
    assert float(metrics["final mode coverage TV"]) == pytest.approx(0.875)


def test_mala_without_noise_is_switched_off_and_the_chains_stay_on_their_mode():
    """τ = 0 makes MALA's proposal a point mass: the page says so and runs plain noiseless Langevin, which is
    gradient ascent on log p, so chains started on one mode end on it (mode TV 1 - 1/8, none off the modes)."""
    at = _extreme(mala=True, noise_scale=0.0, init="mode", init_mode=63)
    assert "MALA is off: with noise scale τ = 0" in _text(at)
    metrics = _metrics(at)
    assert float(metrics["final mode coverage TV"]) == pytest.approx(0.875)
    assert float(metrics["final off-mode mass"]) == 0.0


def test_a_reversed_annealing_ladder_is_turned_round_and_its_blow_up_reported():
    at = _extreme(annealed=True, n_levels=30, n_steps=10, sigma_max=0.01, sigma_min=10.0, step_size=10.0)
    text = _text(at)
    assert "σ₁ was below σ_L: the ladder runs from the larger to the smaller" in text
    assert "one step per level" in text and "The chains blew up at step 1 of 30" in text
    assert not at.exception


def test_a_density_without_a_closed_form_score_asks_for_the_learned_one():
    at = _extreme(density="checkerboard")
    assert "Checkerboard has no closed-form score" in _text(at) and not _metrics(at)


def test_impossible_values_fall_back_to_the_defaults_and_still_sample_well():
    """An unknown density, 10⁹ chains and a NaN step size (a hand-made state): the page runs the default
    target with clamped values, and its chains read as a perfect sampler's (off-mode mass about 1%)."""
    metrics = _metrics(_extreme(density="no_such_density", n_chains=10**9, step_size=float("nan")))
    assert abs(float(metrics["final log-density gap (nats)"])) < 0.15
    assert float(metrics["final off-mode mass"]) < 0.03


def test_learned_score_without_a_model_says_so_and_offers_to_train():
    at = _page(with_fields(LangevinConfig(), score="learned"))
    assert "No diffusion model has been trained" in _text(at)
    at.button(key="lv.train").click().run()
    ok(at)
    assert at.session_state["session:diffusion"].step_count == 0
    assert at.button(key="lv.dm.train")  # Train / Pause / Step / Reset for the diffusion model


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
