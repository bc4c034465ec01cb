"""VAE page views: shapes for every model kind and latent dimension, the aggregate posterior against the
mixture density it stands for, the decoded grid, the ELBO readout against the training objective, the
reparametrisation panel, holes, the colour code, setting notes and the presets."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from numerics import assert_close_to_scale, assert_rounded_to_float32

from explorer.configs import clamp
from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.methods import VAE, VAEConfig
from explorer.plotting import vae as vplot
from explorer.plotting import vae_panels as panels
from explorer.training.presets import shows_preset
from explorer.training.session import TrainingSession
from explorer.views import vae as views
from explorer.views import vae_holes as holes
from explorer.views import vae_reparam as reparam


def _vae(**kw) -> VAE:
    config = VAEConfig(hidden=16, depth=2, **kw)
    return VAE(config, get_density(config.density), torch.device("cpu"))


@pytest.mark.parametrize("kind", ["vae", "ae", "vqvae"])
@pytest.mark.parametrize("d", [1, 2])
def test_spaces_view_shapes_and_figures(kind: str, d: int) -> None:
    method = _vae(kind=kind, latent_dim=d, codebook_size=8)
    view = views.spaces_view(method, make_generator(0), n=50, m=40, from_sample=True, fine=12)
    assert view.data.shape == (50, 2) and view.recon.shape == (50, 2) and view.mean.shape == (50, d)
    assert view.samples.shape == (40, 2) and view.prior_z.shape == (40, d)
    grid = (12, 12) if d == 2 else (48,)
    assert view.prior_density.shape == grid
    assert (view.sigma is not None) == (view.aggregate is not None) == (kind == "vae")
    assert (view.codebook is not None) == (view.cells is not None) == (kind == "vqvae")
    if kind == "vqvae":
        assert view.codebook.shape == (8, d) and view.usage.sum() == pytest.approx(1.0) and view.cells.shape == grid
        assert view.holes is None
    else:
        assert 0.0 <= view.holes <= 1.0
    figures = [vplot.data_figure(view), vplot.latent_figure(view, samples=True)]
    json.dumps(figures)  # plain, serialisable dicts
    assert all(fig["data"] for fig in figures)


@pytest.mark.usefixtures("float64")
def test_reconstructions_decode_the_code_of_each_point() -> None:
    for kind in ("vae", "ae", "vqvae"):
        method = _vae(kind=kind)
        view = views.spaces_view(method, make_generator(1), n=30, m=10, fine=8)
        with torch.no_grad():
            expected = method.decode(method.code(torch.as_tensor(view.data, dtype=torch.float64)))
        # view.data and view.recon are float32 for the browser: the data's rounding passes through the networks
        assert_close_to_scale(view.recon, expected, ulps=2)  # measured: at most 0.4


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("d", [1, 2])
def test_aggregate_posterior_is_the_mixture_of_the_posteriors(d: int) -> None:
    g = torch.Generator().manual_seed(0)
    mu, sigma = torch.randn((7, d), generator=g), 0.2 + torch.rand((7, d), generator=g)
    points = 2 * torch.randn((50, d), generator=g)
    components = torch.distributions.Independent(torch.distributions.Normal(mu, sigma), 1)
    expected = components.log_prob(points[:, None, :]).exp().mean(1)
    assert expected.dtype == torch.float64
    torch.testing.assert_close(views.aggregate_posterior(points, mu, sigma), expected, rtol=1e-12, atol=1e-15)


def test_the_aggregate_posterior_on_the_grid_integrates_to_one() -> None:
    method = _vae()
    view = views.spaces_view(method, make_generator(2), n=100, m=10, fine=60)
    cell = (view.axis[1] - view.axis[0]) ** 2
    assert view.aggregate.sum() * cell == pytest.approx(1.0, abs=0.02)
    assert view.prior_density.sum() * cell == pytest.approx(1.0, abs=0.02)


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("d", [1, 2])
def test_the_manifold_is_the_decoder_applied_to_the_latent_grid(d: int) -> None:
    method = _vae(latent_dim=d)
    view = views.manifold_view(method, lines=5, vertices=9)
    grid = views.latent_lines(d, views.PRIOR_LIM, 5, 9)
    with torch.no_grad():
        expected = method.decode(grid.reshape(-1, d)).reshape(grid.shape[0], 9, 2).numpy()
    assert_rounded_to_float32(view.data_lines, expected)
    assert view.latent_lines.shape == ((10, 9, 2) if d == 2 else (1, 9, 1))
    if d == 2:  # lines of constant z2, then of constant z1
        assert (view.latent_lines[:5, :, 1] == view.latent_lines[:5, :1, 1]).all()
        assert (view.latent_lines[5:, :, 0] == view.latent_lines[5:, :1, 0]).all()
    fig = vplot.manifold_figure(view, np.zeros((3, 2)))
    assert len(fig["data"]) == (4 if d == 2 else 2)  # data, two line families and their crossings; or the curve


def test_the_elbo_readout_is_the_training_objective_on_fresh_data() -> None:
    method = _vae()
    view = views.elbo_view(method, make_generator(3), n=4000)
    x = method.density.sample(4000, make_generator(4))
    with torch.no_grad():
        terms = method.loss_terms(x, torch.randn((4000, 2), generator=torch.Generator().manual_seed(5)))
    assert view.recon == pytest.approx(float(terms["recon"]), rel=0.05)
    assert view.kl == pytest.approx(float(terms["kl"]), rel=0.05)
    assert view.neg_elbo == pytest.approx(view.recon + view.kl)
    assert view.kl_dims.sum() == pytest.approx(view.kl, rel=1e-5)
    vq = views.elbo_view(_vae(kind="vqvae", codebook_size=8), make_generator(3), n=100)
    assert vq.kl == pytest.approx(math.log(8))  # a uniform prior over K codes


def test_a_unit_whose_mean_ignores_x_is_inactive() -> None:
    method = _vae()
    with torch.no_grad():  # mu_1 made to vary with x; mu_2(x) = 0.7 whatever x (its output row zeroed)
        last = method.encoder_net.layers[-1]
        last.weight[0].mul_(50.0)
        last.weight[1].zero_()
        last.bias[1] = 0.7
    view = views.elbo_view(method, make_generator(6), n=500)
    assert view.active.tolist() == [True, False] and view.n_active == 1
    chart = vplot.kl_dims_chart(view)
    assert "1 of 2 active" in json.dumps(chart)


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("d", [1, 2])
def test_the_reparametrisation_panel_computes_z_from_mu_sigma_and_eps(d: int) -> None:
    method = _vae(latent_dim=d)
    x = reparam.reparam_point(method, 3)
    eps = reparam.eps_draws(4, d)
    view = reparam.reparam_view(method, x, eps)
    with torch.no_grad():
        mu, log_var = method.encode(x[None])
    assert_rounded_to_float32(view.mu, mu[0])
    assert_rounded_to_float32(view.z, mu + (0.5 * log_var).exp() * eps)
    assert view.x_hat.shape == (4, 2) and view.eps.shape == (4, d)
    latent, data = panels.reparam_figures(view)
    assert latent["data"] and data["data"]
    assert r"\odot" in panels.reparam_latex(view)


def test_eps_draws_keep_earlier_draws_and_cap_the_history() -> None:
    three, four = reparam.eps_draws(3, 2), reparam.eps_draws(4, 2)
    torch.testing.assert_close(four[:3], three)  # a new draw appends, earlier ones stay
    assert reparam.eps_draws(200, 2).shape == (reparam.MAX_DRAWS, 2)
    assert reparam.eps_draws(0, 1).shape == (1, 1)


def test_the_autoencoder_has_no_noise_to_reparametrise() -> None:
    for kind in ("ae", "vqvae"):
        method = _vae(kind=kind)
        view = reparam.reparam_view(method, reparam.reparam_point(method, 0), reparam.eps_draws(3, 2))
        assert (view.sigma == 0).all() and np.allclose(view.z, view.z[:1])


def test_hole_fraction_by_distance_or_posterior_spread() -> None:
    g = torch.Generator().manual_seed(7)
    prior = torch.randn((2000, 2), generator=g)
    dense = torch.randn((3000, 2), generator=g)
    assert holes.hole_fraction(prior, dense)[0] < 0.02  # codes that fill the prior leave no holes
    one_point = torch.zeros((1, 2))
    assert holes.hole_fraction(prior, one_point)[0] > 0.85  # everything beyond radius 0.5 is a hole
    # a collapsed posterior q(z|x) = N(0, I): only the prior's tail beyond 3 sigma (exp(-4.5) in 2D)
    fraction, _ = holes.hole_fraction(prior, one_point, torch.ones((1, 2)))
    assert fraction == pytest.approx(math.exp(-4.5), abs=0.01)


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_holes_view_agrees_with_the_live_readout(kind: str) -> None:
    method = _vae(kind=kind)
    view = holes.holes_view(method, make_generator(8), n=200, m=100)
    assert view.prior_z.shape == (100, 2) and view.decoded.shape == (100, 2) and view.in_hole.shape == (100,)
    assert view.fraction == views.spaces_view(method, make_generator(8), n=200, m=10, fine=8).holes
    assert abs(view.fraction - view.in_hole.mean()) < 0.15  # the drawn subset looks like the whole probe
    latent, data = panels.holes_figures(view)
    assert len(latent["data"]) == len(data["data"]) == 3


def test_the_colour_code_follows_position() -> None:
    points = np.array([[-3.0, -3.0], [3.0, -3.0], [-3.0, 3.0], [3.0, 3.0], [0.0, 0.0], [0.05, 0.0]])
    colors = vplot.position_colors(points)
    assert len(set(colors[:4])) == 4 and all(c.startswith("#") and len(c) == 7 for c in colors)
    near = [int(colors[k][i : i + 2], 16) for k in (4, 5) for i in (1, 3, 5)]
    assert max(abs(a - b) for a, b in zip(near[:3], near[3:], strict=True)) < 20  # neighbours look alike
    assert vplot.position_colors(np.zeros((0, 2))) == []


def test_terms_chart_per_model_kind() -> None:
    steps = np.array([10, 20, 30])
    vae = json.dumps(vplot.terms_chart(steps, {"recon": np.ones(3), "kl": np.ones(3)}))
    assert "KL" in vae and "ELBO" in vae
    vq = json.dumps(vplot.terms_chart(steps, {"recon": np.ones(3), "vq": np.ones(3)}))
    assert "z_e" in vq and "ELBO" not in vq
    assert "1 dead" in json.dumps(vplot.usage_chart(np.array([0.5, 0.5, 0.0])), ensure_ascii=False)


def test_setting_notes_explain_the_extremes() -> None:
    assert views.setting_notes(VAEConfig()) == []
    assert any("noisy autoencoder" in n for n in views.setting_notes(VAEConfig(beta=0.0)))
    assert any("posterior collapse" in n for n in views.setting_notes(VAEConfig(beta=20.0)))
    assert any("K = 1" in n for n in views.setting_notes(VAEConfig(kind="vqvae", codebook_size=1)))
    assert any("1/σ²" in n for n in views.setting_notes(VAEConfig(decoder_variance="fixed", decoder_std=0.001)))
    assert not views.setting_notes(VAEConfig(decoder_std=0.001))  # the fixed σ is not used when learned
    assert any("diverges" in n for n in views.setting_notes(VAEConfig(lr=0.1)))


@pytest.mark.parametrize("name", list(views.PRESETS))
def test_presets_are_valid_configs_and_keep_the_device(name: str) -> None:
    config = views.apply_preset(VAEConfig(device="cpu", seed=5), name)
    assert set(views.PRESETS[name].settings) <= {f.name for f in dataclasses.fields(VAEConfig)}
    assert config.device == "cpu" and config.seed == 0 and clamp(config) == config
    assert shows_preset(config, views.PRESETS[name])


def _preset_session(name: str, steps: int) -> TrainingSession:
    config = dataclasses.replace(views.apply_preset(VAEConfig(device="cpu"), name), steps=steps)
    session = TrainingSession("vae", config, quality_every=10**9, quality_period_s=math.inf)
    assert session.step(steps) == steps
    return session


def test_the_collapse_preset_collapses_and_the_autoencoder_preset_leaves_holes() -> None:
    """What the presets tell the lecturer to look at, measured (seed 0) after a short run."""
    collapse = views.elbo_view(_preset_session("collapse", 500).method, make_generator(9), 2000)
    assert collapse.n_active == 0 and collapse.kl < 0.01
    autoencoder = holes.holes_view(_preset_session("holes", 800).method, make_generator(9))
    assert autoencoder.fraction > 0.5
