"""explorer.data.densities against the definitions in docs/architecture.md ("Toy densities and quality")."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.data.densities import DENSITIES, Checkerboard, GaussianMixture, PointCloud, get_density
from explorer.device import make_generator

N = 8000


def _sample(name: str, n: int = N, seed: int = 0):
    return get_density(name).sample_labelled(n, make_generator(seed))


@pytest.mark.parametrize("name", sorted(DENSITIES))
def test_every_density_samples_float32_points_with_labels(name, device):
    density = get_density(name)
    x, y = density.sample_labelled(500, make_generator(0, device))
    assert x.shape == (500, 2)
    assert x.dtype == torch.float32
    assert x.device.type == device.type
    assert y.shape == (500,)
    assert y.dtype == torch.int64
    assert torch.isfinite(x).all()
    assert int(y.min()) >= 0 and int(y.max()) < density.n_classes
    assert len(density.class_names) == density.n_classes
    assert density.sample(7, make_generator(0, device)).shape == (7, 2)


@pytest.mark.parametrize("name", sorted(DENSITIES))
def test_every_density_is_reproducible_from_the_generator(name):
    density = get_density(name)
    x1, y1 = density.sample_labelled(300, make_generator(42))
    x2, y2 = density.sample_labelled(300, make_generator(42))
    x3, _ = density.sample_labelled(300, make_generator(43))
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def test_get_density_unknown_name_raises_a_readable_error():
    with pytest.raises(KeyError, match="unknown density"):
        get_density("no_such_density")


def test_get_density_prefers_custom_densities():
    cloud = PointCloud(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), name="mine", title="Mine")
    assert get_density("mine", {"mine": cloud}) is cloud
    x, y = cloud.sample_labelled(100, make_generator(0))
    rows = {tuple(r) for r in x.tolist()}
    assert rows <= {(1.0, 2.0), (3.0, 4.0)} and len(rows) == 2
    assert (y == 0).all()


def test_eight_gaussians_matches_its_definition():
    density = get_density("eight_gaussians")
    x, y = _sample("eight_gaussians")
    angles = torch.arange(8) * math.pi / 4
    means = 4.0 * torch.stack([angles.cos(), angles.sin()], dim=1)
    torch.testing.assert_close(density.means, means)
    nearest = torch.cdist(x, means).argmin(1)
    assert float((nearest == y).float().mean()) > 0.99
    counts = torch.bincount(y, minlength=8).float() / N
    assert float((counts - 1 / 8).abs().max()) < 0.02
    for k in range(8):
        offsets = x[y == k] - means[k]
        assert float(offsets.mean(0).abs().max()) < 0.05
        assert float(offsets.std()) == pytest.approx(0.3, abs=0.015)


def test_two_gaussians_matches_its_definition():
    x, y = _sample("two_gaussians")
    means = torch.tensor([[-3.0, 0.0], [3.0, 0.0]])
    assert float((y == 1).float().mean()) == pytest.approx(0.5, abs=0.02)
    for k in range(2):
        offsets = x[y == k] - means[k]
        assert float(offsets.mean(0).abs().max()) < 0.05
        assert float(offsets.std()) == pytest.approx(0.5, abs=0.02)


def test_gaussian_is_standard_normal():
    x, _ = _sample("gaussian")
    assert float(x.mean(0).abs().max()) < 0.05
    cov = torch.cov(x.T)
    torch.testing.assert_close(cov, torch.eye(2), atol=0.05, rtol=0)


def test_rings_radii_and_mass_ratio():
    x, y = _sample("rings")
    radius = x.norm(dim=1)
    outer = radius > 3.0
    # mass proportional to circumference: inner : outer = 2 : 4 = 1 : 2
    assert float(outer.float().mean()) == pytest.approx(2 / 3, abs=0.02)
    assert torch.equal(outer, y == 1)
    assert float(radius[~outer].mean()) == pytest.approx(2.0, abs=0.02)
    assert float(radius[outer].mean()) == pytest.approx(4.0, abs=0.02)
    assert float(radius[~outer].std()) == pytest.approx(0.15, abs=0.015)
    assert float(radius[outer].std()) == pytest.approx(0.15, abs=0.015)
    # uniform angle: the centre of mass of each ring sits at the origin
    assert float(x[outer].mean(0).abs().max()) < 0.15
    assert float(x[~outer].mean(0).abs().max()) < 0.1


def test_checkerboard_samples_lie_in_black_cells_with_density_one_over_32():
    board = get_density("checkerboard")
    x, y = _sample("checkerboard")
    assert float(x.min()) >= -4.0 and float(x.max()) <= 4.0
    parity = (torch.floor(x[:, 0] / 2) + torch.floor(x[:, 1] / 2)).remainder(2)
    assert (parity == 0).all()
    assert torch.equal(board.cell_index(x), y)
    assert torch.allclose(board.log_prob(x), torch.full((N,), -math.log(32.0)))
    counts = torch.bincount(y, minlength=8).float() / N
    assert float((counts - 1 / 8).abs().max()) < 0.02


def test_checkerboard_log_prob_is_minus_inf_outside_the_black_cells():
    board = get_density("checkerboard")
    white = torch.tensor([[1.0, -1.0], [-1.0, 1.0], [3.0, 1.0], [-3.0, -1.0], [0.5, 2.5]])
    outside = torch.tensor([[5.0, 5.0], [-4.5, -3.5], [0.0, 4.5], [100.0, 0.0]])
    black = torch.tensor([[0.5, 0.5], [-0.5, -0.5], [3.5, 3.5], [-3.5, -3.5], [2.5, -1.5]])
    assert torch.isneginf(board.log_prob(white)).all()
    assert torch.isneginf(board.log_prob(outside)).all()
    assert (board.cell_index(torch.cat([white, outside])) == -1).all()
    assert torch.allclose(board.log_prob(black), torch.full((5,), -math.log(32.0)))


def test_two_moons_matches_its_definition():
    x, y = _sample("two_moons")
    assert float((y == 0).float().mean()) == pytest.approx(0.5, abs=0.02)
    u = x / 2 + torch.tensor([0.5, 0.25])  # undo the shift and scale
    upper, lower = u[y == 0], u[y == 1] - torch.tensor([1.0, 0.5])
    for moon, mean_y in ((upper, 2 / math.pi), (lower, -2 / math.pi)):
        radial = moon.norm(dim=1) - 1  # unit half circles plus N(0, 0.1^2 I) noise
        assert float(radial.mean()) == pytest.approx(0.0, abs=0.02)
        assert float(radial.std()) == pytest.approx(0.1, abs=0.01)
        assert float(moon[:, 0].mean()) == pytest.approx(0.0, abs=0.03)
        assert float(moon[:, 1].mean()) == pytest.approx(mean_y, abs=0.03)
    # coordinate ranges of the shifted, scaled moons: x in [-3, 3], y in [-1.5, 1.5] before noise
    noise = 5 * 0.2
    assert float(x[:, 0].min()) > -3 - noise and float(x[:, 0].max()) < 3 + noise
    assert float(x[:, 1].min()) > -1.5 - noise and float(x[:, 1].max()) < 1.5 + noise
    assert float(x[y == 0, 0].quantile(0.01)) < -2.4 and float(x[y == 1, 0].quantile(0.99)) > 2.4


def test_spirals_match_their_definition():
    x, y = _sample("spirals", 4000)
    assert float((y == 0).float().mean()) == pytest.approx(0.5, abs=0.03)
    radius = x.norm(dim=1)
    assert float(radius.quantile(0.01)) == pytest.approx(0.5, abs=0.15)
    assert float(radius.quantile(0.99)) == pytest.approx(4.5, abs=0.15)
    assert float(radius.max()) < 4.5 + 6 * 0.15
    phi = torch.linspace(0, 3 * math.pi, 4000)
    r = 0.5 + 4 * phi / (3 * math.pi)
    arms = [torch.stack([r * torch.cos(phi + math.pi * k), r * torch.sin(phi + math.pi * k)], 1) for k in (0, 1)]
    dist = torch.stack([torch.cdist(x, arm).min(1).values for arm in arms], 1)  # [n, 2]
    own, other = dist.gather(1, y[:, None]).squeeze(1), dist.gather(1, 1 - y[:, None]).squeeze(1)
    assert 0.07 < float(own.median()) < 0.14  # perpendicular part of N(0, 0.15^2 I): median ~0.1
    assert float(other.median()) > 0.8
    assert float((own < other).float().mean()) > 0.99


@pytest.mark.parametrize("name", ["gaussian", "eight_gaussians", "two_gaussians"])
def test_mixture_score_equals_autograd_of_log_prob(name):
    density = get_density(name)
    assert isinstance(density, GaussianMixture)
    x = (3 * torch.randn(64, 2, generator=make_generator(1))).double().requires_grad_(True)
    (grad,) = torch.autograd.grad(density.log_prob(x).sum(), x)
    torch.testing.assert_close(density.score(x.detach()), grad, rtol=1e-9, atol=1e-9)


def test_mixture_log_prob_matches_a_direct_formula():
    density = get_density("two_gaussians")
    x = torch.randn(50, 2, generator=make_generator(2)).double() * 3
    direct = sum(
        0.5 * torch.exp(-((x - m).pow(2).sum(1)) / (2 * 0.25)) / (2 * math.pi * 0.25)
        for m in torch.tensor([[-3.0, 0.0], [3.0, 0.0]], dtype=torch.float64)
    )
    torch.testing.assert_close(density.log_prob(x), direct.log())


@pytest.mark.parametrize("name", ["gaussian", "eight_gaussians", "two_gaussians", "checkerboard"])
def test_log_prob_integrates_to_one(name):
    density = get_density(name)
    assert density.has_log_prob
    n, lim = 701, 7.0
    axis = torch.linspace(-lim, lim, n, dtype=torch.float64)
    # cell midpoints, so the checkerboard's cell edges fall between grid points
    axis = (axis[:-1] + axis[1:]) / 2
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    h = 2 * lim / (n - 1)
    mass = float(density.log_prob(points).exp().sum() * h * h)
    assert mass == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("name", ["two_moons", "rings", "spirals"])
def test_densities_without_closed_form_say_so(name):
    density = get_density(name)
    assert not density.has_log_prob and not density.has_score
    with pytest.raises(NotImplementedError):
        density.log_prob(torch.zeros(1, 2))


def test_checkerboard_has_density_but_no_score():
    board = get_density("checkerboard")
    assert isinstance(board, Checkerboard)
    assert board.has_log_prob and not board.has_score
    with pytest.raises(NotImplementedError):
        board.score(torch.zeros(1, 2))
