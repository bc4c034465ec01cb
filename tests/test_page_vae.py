"""The VAE page, headless (AppTest): every model kind with only its own parameters shown, every tab, every
preset, latent dimension 1, the reparametrisation panel's Draw button, an uploaded density, and extreme
settings explained instead of a traceback.

No test presses Train (a worker thread would train on between calls): Step trains synchronously."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_pages import ok, open_groups, run_page
from page_figures import plotly_figures
from streamlit.testing.v1 import AppTest

from explorer.data.userdata import example_csv, parse_points_csv
from explorer.methods import VAEConfig
from explorer.views import vae as views

PAGE = str(Path(__file__).resolve().parents[1] / "pages/vae.py")
SMALL = {"hidden": 16, "batch_size": 64}  # keeps each Step cheap
KIND_PARAMS = {"β (weight of the KL term)", "Codebook size K", "Commitment weight β_c", "Fixed decoder σ"}
TABS = ["Reparametrisation", "AE vs VAE: holes", "VQ-VAE", "The maths"]


def _page(config: VAEConfig | None = None, tab: str | None = None) -> AppTest:
    prepared = {"config:vae": config, "vae.tab": tab, "vae.group.data": True}
    return run_page(PAGE, {k: v for k, v in prepared.items() if v is not None})


def _labels(at: AppTest) -> set[str]:
    widgets = [*at.sidebar.number_input, *at.sidebar.select_slider, *at.sidebar.slider]
    return {w.label for w in widgets} & KIND_PARAMS


def _step(at: AppTest, steps: int = 1) -> None:
    at.button(key="vae.step").click().run()
    ok(at)
    assert at.session_state["session:vae"].step_count == steps


@pytest.mark.parametrize("kind", ["vae", "ae", "vqvae"])
@pytest.mark.parametrize("tab", TABS)
def test_every_model_kind_and_tab_renders(kind: str, tab: str) -> None:
    at = _page(VAEConfig(kind=kind, **SMALL), tab)
    _step(at)
    charts = len(plotly_figures(at))
    own = {"Reparametrisation": 2 if kind == "vae" else 0, "AE vs VAE: holes": 0 if kind == "vqvae" else 2}
    assert charts == 3 + own.get(tab, 0)  # data space, latent space, decoder manifold, then the tab's own
    expected = {
        "vae": {"β (weight of the KL term)"},
        "ae": set(),
        "vqvae": {"Codebook size K", "Commitment weight β_c"},
    }
    assert _labels(at) == expected[kind]
    if tab == "The maths":
        latex = " ".join(e.value for e in at.latex)
        assert r"\mathrm{ELBO}" in latex and r"\mathrm{KL}" in latex and r"\odot" in latex and "sg" in latex


def test_switching_the_model_kind_shows_its_parameters_in_the_same_run() -> None:
    at = _page(VAEConfig(**SMALL))
    at.selectbox(key="vae.kind").select("vqvae").run()
    ok(at)
    assert _labels(at) == {"Codebook size K", "Commitment weight β_c"}
    assert at.session_state["session:vae"].method.kind == "vqvae"
    at.selectbox(key="vae.decoder_variance").select("fixed").run()
    assert "Fixed decoder σ" in _labels(ok(at))


@pytest.mark.parametrize("d", [1, 2])
def test_both_latent_dimensions_render(d: int) -> None:
    at = _page(VAEConfig(latent_dim=d, **SMALL), "Reparametrisation")
    _step(at)
    assert at.session_state["session:vae"].method.latent_dim == d
    assert len(plotly_figures(at)) == 5


def test_every_preset_sets_its_config_and_says_what_to_look_at() -> None:
    at = _page(VAEConfig(seed=3, **SMALL))
    for name, preset in views.PRESETS.items():
        at.button(key=f"vae.preset.{name}").click().run()
        ok(at)
        config, session = at.session_state["config:vae"], at.session_state["session:vae"]
        assert session.config == config and session.step_count == 0
        for field, value in preset.settings.items():
            assert getattr(config, field) == value and at.session_state[f"vae.{field}"] == value
        assert config.seed == 0 and config.hidden == VAEConfig().hidden  # the rest from the defaults
        assert any(preset.look in i.value for i in at.info)
        _step(at)
    at.selectbox(key="vae.density").select("rings").run()  # off the preset: its advice goes
    assert not any(preset.look in i.value for i in ok(at).info)


def test_draw_eps_adds_a_draw_and_moves_z() -> None:
    at = _page(VAEConfig(**SMALL), "Reparametrisation")
    before = at.latex[0].value
    at.button(key="vae.rep_draw").click().run()
    ok(at)
    assert at.session_state["vae.rep_draws"] == 2 and at.latex[0].value != before
    at.slider(key="vae.rep_point").set_value(7).run()
    assert ok(at).session_state["vae.rep_draws"] == 2  # the same eps for another data point


def test_an_uploaded_density_can_be_chosen() -> None:
    points = parse_points_csv(example_csv(), "heart.csv")
    at = open_groups(AppTest.from_file(PAGE, default_timeout=120), "vae", "data")
    at.session_state["custom_densities"] = {points.name: points}
    at.session_state["config:vae"] = VAEConfig(**SMALL)
    ok(at.run())
    assert points.name in at.selectbox(key="vae.density").options
    at.selectbox(key="vae.density").select(points.name).run()
    _step(ok(at))
    assert at.session_state["session:vae"].density is points


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"beta": 0.0}, "noisy autoencoder"),
        ({"beta": 50.0}, "posterior collapse"),
        ({"kind": "vqvae", "codebook_size": 1}, "K = 1"),
        ({"decoder_variance": "fixed", "decoder_std": 0.001}, "1/σ²"),
        ({"lr": 0.1}, "usually diverges"),
    ],
)
def test_extreme_settings_are_explained_not_raised(changes: dict, phrase: str) -> None:
    at = _page(VAEConfig(**SMALL, **changes))
    assert phrase in " ".join(w.value for w in at.warning)
    _step(at)


def test_a_divergence_shows_the_message_and_the_hint() -> None:
    at = _page(VAEConfig(lr=10.0, decoder_variance="fixed", decoder_std=0.01, **SMALL))
    session = at.session_state["session:vae"]
    for _ in range(30):
        session.step(5)
        if session.status == "diverged":
            break
    ok(at.run())
    assert session.status == "diverged"
    assert any("diverged" in e.value and "1/σ²" in e.value for e in at.error)
