"""The GAN page, headless (AppTest): every loss with only its own parameters shown, every preset,
a conditional GAN, latent dimension 1, and extreme settings explained instead of a traceback.

No test presses Train (a worker thread would train on between calls): Step trains synchronously."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from apptest_pages import ok, open_groups, run_page
from page_figures import plotly_figures
from streamlit.testing.v1 import AppTest

from explorer.kernels.gan_losses import LOSSES
from explorer.methods import GANConfig
from explorer.views import gan as views

PAGE = str(Path(__file__).resolve().parents[1] / "pages/gan.py")
SMALL = {"g_hidden": 16, "d_hidden": 16, "batch_size": 64}  # keeps each Step cheap
LOSS_PARAMS = {
    "Gradient penalty λ",
    "Weight clipping c",
    "LSGAN a (fake target)",
    "LSGAN b (real target)",
    "DRAGAN noise std",
}


def _page(config: GANConfig | None = None) -> AppTest:
    return run_page(PAGE, {"config:gan": config} if config is not None else None)


def _labels(at: AppTest) -> set[str]:
    return {w.label for w in at.sidebar.number_input}


def _notes(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_renders_with_only_its_own_parameters(loss: str) -> None:
    at = _page(GANConfig(loss=loss, **SMALL))
    at.button(key="gan.step").click().run()
    ok(at)
    assert at.session_state["session:gan"].step_count == 1
    assert len(plotly_figures(at)) == 3  # D surface, G's image of the grid, the noise space
    expected = {
        "wgan": {"Weight clipping c"},
        "wgan_gp": {"Gradient penalty λ"},
        "dragan": {"Gradient penalty λ", "DRAGAN noise std"},
    }.get(loss, set())
    if loss == "lsgan":
        expected = {"LSGAN a (fake target)", "LSGAN b (real target)"}
    assert _labels(at) & LOSS_PARAMS == expected


def test_switching_the_loss_shows_its_parameter_in_the_same_run() -> None:
    at = _page(GANConfig(**SMALL))
    assert "Gradient penalty λ" in _labels(at) and "Weight clipping c" not in _labels(at)
    at.selectbox(key="gan.loss").select("wgan").run()
    ok(at)
    assert "Weight clipping c" in _labels(at) and "Gradient penalty λ" not in _labels(at)
    assert at.session_state["config:gan"].loss == "wgan"


def test_every_preset_sets_its_config_and_says_what_to_look_at() -> None:
    at = _page(GANConfig(seed=3, **SMALL))
    for name, preset in views.PRESETS.items():
        at.button(key=f"gan.preset.{name}").click().run()
        ok(at)
        config = at.session_state["config:gan"]
        session = at.session_state["session:gan"]
        assert session.config == config and session.step_count == 0
        for field, value in preset.settings.items():
            assert getattr(config, field) == value and at.session_state[f"gan.{field}"] == value
        assert config.seed == 0 and config.g_hidden == GANConfig().g_hidden  # the rest from the defaults
        assert any(preset.look in i.value for i in at.info)
        at.button(key="gan.step").click().run()
        ok(at)
        assert session.step_count == 1
    at.selectbox(key="gan.loss").select("hinge").run()  # off the preset: its advice goes
    assert not any(preset.look in i.value for i in ok(at).info)


def test_a_conditional_gan_shows_samples_per_class() -> None:
    at = open_groups(AppTest.from_file(PAGE, default_timeout=120), "gan", "data")
    at.session_state["config:gan"] = GANConfig(conditional=True, **SMALL)
    at.session_state["gan.tab"] = "Conditional GAN"
    ok(at.run())
    assert at.session_state["session:gan"].method.n_classes == 8
    at.selectbox(key="gan.y").select(5).run()
    ok(at)
    assert len(plotly_figures(at)) == 4  # the live three and the per-class figure
    assert not any("Turn on 'Conditional GAN'" in i.value for i in at.info)
    at.selectbox(key="gan.density").select("two_gaussians").run()  # class 5 no longer exists
    ok(at)
    assert at.session_state["session:gan"].method.n_classes == 2 and at.selectbox(key="gan.y").value == 0


def test_latent_dimension_one_draws_the_curve() -> None:
    at = _page(GANConfig(latent_dim=1, **SMALL))
    at.button(key="gan.step").click().run()
    ok(at)
    assert at.session_state["session:gan"].method.config.latent_dim == 1
    assert len(plotly_figures(at)) == 3


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"lr": 0.0}, "nothing moves"),
        ({"lr_d": 0.0}, "random initialisation"),
        ({"loss": "wgan", "clip": 1e-4}, "±0.0001"),
        ({"loss": "wgan", "n_critic": 1}, "One critic step"),
        ({"n_critic": 20}, "20 D steps"),
    ],
)
def test_extreme_settings_are_explained_not_raised(changes: dict, phrase: str) -> None:
    at = _page(GANConfig(**SMALL, **changes))
    assert phrase in _notes(at)
    at.button(key="gan.step").click().run()
    ok(at)
    assert at.session_state["session:gan"].step_count == 1


def test_the_maths_tab_renders_the_objectives() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["gan.tab"] = "The maths"
    ok(at.run())
    latex = " ".join(e.value for e in at.latex)
    assert r"\min_G \max_D" in latex and r"\|f\|_L \le 1" in latex and r"\nabla_{\hat x}" in latex


@pytest.mark.parametrize(
    ("changes", "marked"),
    [
        ({"loss": "dragan"}, "perturbed reals x + σε"),
        ({"penalty_at": "real_and_generated"}, "real and generated points"),
        ({"loss": "nonsaturating", "spectral_norm": True}, None),
    ],
)
def test_the_lipschitz_tab_maps_the_slope_and_marks_the_penalty_points(changes: dict, marked: str | None) -> None:
    at = _page(GANConfig(**SMALL, **changes))
    at.session_state["gan.tab"] = "Lipschitz: ‖∇ₓD‖"
    at.button(key="gan.step").click().run()
    ok(at)
    (fig,) = [f for f in plotly_figures(at) if "‖∇ₓD(x)‖" in f["layout"]["title"]["text"]]
    assert fig["data"][0]["type"] == "heatmap" and np.isfinite(np.asarray(fig["data"][0]["z"], float)).all()
    names = [t.get("name", "") for t in fig["data"][1:]]
    caption = " ".join(c.value for c in at.caption)
    if marked is None:
        assert names == [] and "Spectral normalisation divides every layer" in caption
    else:
        assert names == [f"penalty at: {marked}"] and "At the penalty's points" in caption
