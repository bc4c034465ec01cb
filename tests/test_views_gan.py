"""GAN page views: shapes, the generator arrows against the generator loss, the warped noise grid,
per-mode mass, conditional samples, the setting notes and the presets' configs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from numerics import assert_rounded_to_float32

from explorer.configs import clamp
from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.kernels.gan_losses import LOSSES, generator_loss
from explorer.methods import GAN, GANConfig
from explorer.plotting import gan as gplot
from explorer.training.session import TrainingSession
from explorer.views import gan as views


def _gan(**kw) -> GAN:
    config = GANConfig(g_hidden=16, d_hidden=16, **kw)
    return GAN(config, get_density(config.density), torch.device("cpu"))


def _kick(method: GAN, scale: float = 1.5) -> None:
    """Random weights far from the initialisation, so that D has a non-trivial surface."""
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for net in (method.generator_net, method.discriminator_net):
            for p in net.parameters():
                p.copy_(scale * torch.randn(p.shape, generator=g) / max(1, p.shape[-1]) ** 0.5)


def _mean_generator_loss(method: GAN, x: torch.Tensor) -> float:
    cfg = method.config
    with torch.no_grad():
        return float(generator_loss(cfg.loss, method.discriminate(x), (cfg.lsgan_a, cfg.lsgan_b, cfg.lsgan_c)))


@pytest.mark.parametrize("loss", LOSSES)
def test_surface_view_shapes_and_kind(loss: str) -> None:
    method = _gan(loss=loss)
    view = views.surface_view(method, make_generator(0), n=40, fine=12)
    assert view.axis.shape == (12,) and view.values.shape == (12, 12)
    assert view.real.shape == (40, 2) and view.fake.shape == (40, 2) and view.arrows.shape == (40, 2)
    assert np.isfinite(view.values).all() and np.isfinite(view.arrows).all()
    if loss in ("minimax", "nonsaturating", "dragan"):
        assert view.kind == "probability" and ((view.values > 0) & (view.values < 1)).all()
    else:
        assert view.kind == ("critic" if loss.startswith("wgan") else "output")
    # the figure draws the surface, both clouds and the arrows, whatever the kind
    fig = gplot.surface_figure(view)
    assert [t["type"] for t in fig["data"]] == ["heatmap", "scatter", "scatter", "scatter"]


@pytest.mark.parametrize("loss", LOSSES)
def test_a_small_step_along_the_arrows_lowers_the_generator_loss(loss: str) -> None:
    """-grad_x l_G is a descent direction of L_G = mean_i l_G(D(x_i)): x + eps * arrows lowers it, and
    x - eps * arrows raises it (a sign error in the arrows fails one of the two)."""
    method = _gan(loss=loss, lsgan_c=3.0)
    _kick(method)
    x = method.sample(200, make_generator(1))
    arrows = views.generator_arrows(views.frozen(method), x)
    eps = 1e-3 / float(arrows.norm(dim=1).max())
    before = _mean_generator_loss(method, x)
    assert _mean_generator_loss(method, x + eps * arrows) < before < _mean_generator_loss(method, x - eps * arrows)


@pytest.mark.usefixtures("float64")
def test_arrows_are_per_sample_gradients() -> None:
    """Each arrow is -d l_G(D(x_i)) / d x_i, independent of the other samples in the batch."""
    method = _gan(loss="nonsaturating")
    _kick(method)
    x = method.sample(30, make_generator(2))
    together = views.generator_arrows(method, x)
    alone = torch.cat([views.generator_arrows(method, x[i : i + 1]) for i in range(len(x))])
    assert together.dtype == torch.float64  # a batch of 30 and 30 batches of 1: other reduction orders
    torch.testing.assert_close(together, alone, rtol=1e-12, atol=1e-12)


def test_the_minimax_arrows_vanish_where_d_rejects_and_the_non_saturating_ones_do_not() -> None:
    """The lecture's argument: with D confident that G(z) is fake, log(1 - D) is flat."""
    method = _gan(loss="minimax")
    _kick(method)
    with torch.no_grad():
        method.discriminator_net.layers[-1].bias.fill_(-12.0)  # D(x) ~ 6e-6 everywhere
    x = method.sample(100, make_generator(3))
    minimax = views.generator_arrows(method, x).norm(dim=1).median()
    method.config = dataclasses.replace(method.config, loss="nonsaturating")
    nonsaturating = views.generator_arrows(method, x).norm(dim=1).median()
    assert minimax < 1e-4 * nonsaturating


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("latent_dim", [1, 2])
def test_the_warped_grid_is_the_generator_applied_to_the_noise_grid(latent_dim: int) -> None:
    method = _gan(latent_dim=latent_dim)
    _kick(method)
    view = views.mapping_view(method, make_generator(0), n=50, lines=5, vertices=9)
    grid = views.noise_grid(latent_dim, 5, 9)
    with torch.no_grad():
        expected = method.generate(grid.reshape(-1, latent_dim)).reshape(grid.shape[0], 9, 2).numpy()
    assert_rounded_to_float32(view.data_lines, expected)  # the view's arrays are float32 for the browser
    lines = 10 if latent_dim == 2 else 1
    assert view.noise_lines.shape == (lines, 9, 2) and view.family.shape == (lines,)
    assert view.z.shape == (50, latent_dim) and view.fake.shape == (50, 2)
    if latent_dim == 1:  # the segment z in [-3, 3], drawn at height 0
        np.testing.assert_allclose(view.noise_lines[0, :, 0], np.linspace(-3, 3, 9), atol=1e-6)
        assert (view.noise_lines[0, :, 1] == 0).all()
    else:  # lines of constant z2 and of constant z1 cover [-3, 3]^2
        assert (view.noise_lines[:5, :, 1] == view.noise_lines[:5, :1, 1]).all()
        assert (view.noise_lines[5:, :, 0] == view.noise_lines[5:, :1, 0]).all()
    noise_fig, data_fig = gplot.mapping_figures(view, view.fake)
    assert noise_fig["data"] and data_fig["data"]


def test_mode_mass_counts_each_component_and_the_samples_between() -> None:
    density = get_density("eight_gaussians")
    means = density.means.numpy()
    # 60 on mode 0, 30 on mode 1, 10 halfway from the centre to mode 4 (6.7 std from it: between the modes)
    samples = np.concatenate([np.repeat(means[:2], [60, 30], axis=0), np.repeat(0.5 * means[4:5], 10, axis=0)])
    view = views.mode_mass_view(samples, density)
    assert view is not None and view.mass.shape == (8,) and view.target.shape == (8,)
    np.testing.assert_allclose(view.mass, [0.6, 0.3, 0, 0, 0.1, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(view.target, np.full(8, 1 / 8), atol=1e-7)
    assert view.off == pytest.approx(0.1) and view.covered == 3  # at least half of its weight (1/8) each
    assert views.mode_mass_view(samples, get_density("two_moons")) is None
    board = views.mode_mass_view(np.array([[-3.0, -3.0], [-1.0, 1.0]]), get_density("checkerboard"))
    assert board is not None and board.off == pytest.approx(0.5) and board.mass.sum() == pytest.approx(0.5)


def test_class_view_generates_every_class_from_the_same_noise() -> None:
    method = _gan(density="two_gaussians", conditional=True)
    _kick(method)
    view = views.class_view(method, make_generator(0), n=20)
    assert view is not None and view.names == ("left", "right") and view.fake.shape == (2, 20, 2)
    assert view.fidelity is not None and view.fidelity.shape == (2,)
    assert not np.allclose(view.fake[0], view.fake[1])  # the label changes the output
    assert views.class_view(_gan(), make_generator(0)) is None


def test_the_conditional_surface_is_evaluated_for_the_chosen_class() -> None:
    method = _gan(density="two_gaussians", conditional=True)
    _kick(method)
    a = views.surface_view(method, make_generator(0), n=20, fine=8, label=0)
    b = views.surface_view(method, make_generator(0), n=20, fine=8, label=1)
    assert a.label == 0 and b.label == 1 and not np.allclose(a.values, b.values)
    assert (a.real[:, 0] < 0).mean() > 0.9 and (b.real[:, 0] > 0).mean() > 0.9  # data of that class only


def test_frozen_copies_are_independent_of_training() -> None:
    method = _gan()
    twin = views.frozen(method)
    with torch.no_grad():
        for p in method.discriminator_net.parameters():
            p.add_(1.0)
    assert all(not p.requires_grad for p in twin.discriminator_net.parameters())
    x = torch.zeros(3, 2)
    assert not torch.allclose(twin.discriminate(x), method.discriminate(x).detach())


def test_setting_notes_explain_the_extremes() -> None:
    assert views.setting_notes(GANConfig()) == []
    text = " ".join(views.setting_notes(GANConfig(lr=0.0)))
    assert "nothing moves" in text
    assert any("random initialisation" in n for n in views.setting_notes(GANConfig(lr_d=0.0)))
    assert any("±0.0001" in n for n in views.setting_notes(GANConfig(loss="wgan", clip=1e-4)))
    assert any("Lipschitz" in n for n in views.setting_notes(GANConfig(loss="wgan", clip=1.0)))
    assert any("20 D steps" in n for n in views.setting_notes(GANConfig(n_critic=20)))
    assert any("One critic step" in n for n in views.setting_notes(GANConfig(loss="wgan", n_critic=1)))
    assert not any("One critic step" in n for n in views.setting_notes(GANConfig(loss="wgan_gp", n_critic=1)))


@pytest.mark.parametrize("name", list(views.PRESETS))
def test_presets_are_valid_configs_and_keep_the_device(name: str) -> None:
    config = views.apply_preset(GANConfig(device="cpu", seed=5), name)
    fields = {f.name for f in dataclasses.fields(GANConfig)}
    assert set(views.PRESETS[name].settings) <= fields
    assert config.device == "cpu" and config.seed == 0  # everything else from the defaults
    assert clamp(config) == config


def _preset_session(name: str) -> TrainingSession:
    config = views.apply_preset(GANConfig(device="cpu"), name)
    return TrainingSession("gan", config, quality_every=10**9, quality_period_s=math.inf)


def test_the_vanishing_gradients_preset_starves_the_generator() -> None:
    """D wins at once: D(G(z)) ~ 0 and the arrows are shorter than 1e-5 after 100 steps."""
    session = _preset_session("vanishing")
    assert session.step(100) == 100
    view = views.surface_view(session.method, make_generator(9), 200, fine=8)
    assert view.fake_mean < 1e-4 and view.real_mean > 0.99 and view.grad_median < 1e-5


def test_the_tight_clipping_preset_leaves_a_flat_critic_and_a_still_generator() -> None:
    session = _preset_session("clip_tight")
    start = views.surface_view(session.method, make_generator(9), 200, fine=8).fake
    assert session.step(60) == 60
    view = views.surface_view(session.method, make_generator(9), 200, fine=8)
    assert np.abs(view.values).max() < 0.01 and view.grad_median < 1e-8
    assert np.linalg.norm(view.fake - start, axis=1).mean() < 0.05


def test_the_loose_clipping_preset_lets_the_critic_run_away_until_training_stops() -> None:
    session = _preset_session("clip_loose")
    session.step(20)
    assert np.abs(views.surface_view(session.method, make_generator(9), 200, fine=8).values).max() > 100
    for _ in range(30):  # the session stops it as diverged well within 200 steps (measured: 41 to 93)
        if session.status == "diverged":
            break
        session.step(10)
    assert session.status == "diverged"
