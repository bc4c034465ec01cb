"""explorer.maths.exact.MixturePath against the "Ground truth" identities (docs/architecture.md)."""

from __future__ import annotations

import pytest
import torch
from numerics import assert_close_to_scale

from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.maths.exact import MixturePath
from explorer.maths.metrics import log_density_gap, mode_tv
from explorer.maths.paths import PATHS, CosinePath, LinearPath
from explorer.maths.samplers import integrate, integrate_sde

TIMES = [0.05, 0.3, 0.5, 0.7, 0.95]


def _points(n: int = 64, seed: int = 0) -> torch.Tensor:
    return (3 * torch.randn(n, 2, generator=make_generator(seed))).double()


@pytest.fixture(scope="module")
def eight():
    return get_density("eight_gaussians")


@pytest.fixture(scope="module")
def reference(eight):
    """A large true sample for the data side of the log-density gap."""
    return eight.sample(50_000, make_generator(123))


@pytest.mark.parametrize("path_name", sorted(PATHS))
@pytest.mark.parametrize("source", [None, "two_gaussians"])
@pytest.mark.parametrize("t", TIMES)
def test_score_equals_autograd_of_log_prob(eight, path_name, source, t):
    truth = MixturePath(eight, PATHS[path_name](), get_density(source) if source else None)
    x = _points().requires_grad_(True)
    (grad,) = torch.autograd.grad(truth.log_prob(x, t).sum(), x)
    torch.testing.assert_close(truth.score(x.detach(), t), grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("path_name", sorted(PATHS))
@pytest.mark.parametrize("t", [0.0, 0.4, 1.0])
def test_marginal_mixture_matches_log_prob(eight, path_name, t):
    truth = MixturePath(eight, PATHS[path_name](), get_density("two_gaussians"))
    x = _points()
    # the app's float32 mixture against the float64 closed form: rounding grows with |log p| (up to ~80 here);
    # measured at most 2 float32 steps of the largest |log p| over 50,000 points
    assert_close_to_scale(truth.marginal(t).log_prob(x.float()), truth.log_prob(x, t), ulps=8)


@pytest.mark.parametrize("path", [LinearPath(), CosinePath()], ids=["linear", "cosine"])
@pytest.mark.parametrize("t", TIMES)
def test_velocity_matches_the_design_formula(eight, path, t):
    """u = (a'/a) x + (a' s^2 / a - s' s) grad log p_t for a N(0, I) source."""
    truth = MixturePath(eight, path)
    x = _points()
    a, s = float(path.alpha(t)), float(path.sigma(t))
    da, ds = float(path.d_alpha(t)), float(path.d_sigma(t))
    expected = (da / a) * x + (da * s**2 / a - ds * s) * truth.score(x, t)
    torch.testing.assert_close(truth.velocity(x, t), expected, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("path", [LinearPath(), CosinePath()], ids=["linear", "cosine"])
@pytest.mark.parametrize("t", TIMES)
def test_tweedie_posterior_means(eight, path, t):
    """E[x0 | x] = -sigma grad log p_t(x) and E[x1 | x] = (x + sigma^2 grad log p_t(x)) / alpha."""
    truth = MixturePath(eight, path)
    x = _points()
    a, s = float(path.alpha(t)), float(path.sigma(t))
    score = truth.score(x, t)
    x0_mean, x1_mean = truth.posterior_means(x, t)
    torch.testing.assert_close(x0_mean, -s * score, rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(x1_mean, (x + s**2 * score) / a, rtol=1e-8, atol=1e-8)
    # consistency: alpha E[x1|x] + sigma E[x0|x] = x
    torch.testing.assert_close(a * x1_mean + s * x0_mean, x, rtol=1e-8, atol=1e-8)


def test_velocity_is_the_conditional_expectation_of_the_target_velocity(eight):
    """Monte Carlo: E[x1 - x0 | x_t in a small ball around x] ~ u_t(x) for the linear path."""
    truth, path = MixturePath(eight, LinearPath()), LinearPath()
    g = make_generator(5)
    n, t = 400_000, 0.6
    x1 = eight.sample(n, g).double()
    x0 = torch.randn(n, 2, generator=g).double()
    xt = path.interpolate(x0, x1, torch.tensor(t))
    centre = torch.tensor([[1.6, 1.2]], dtype=torch.float64)  # between two modes, curved flow
    near = (xt - centre).norm(dim=1) < 0.1
    assert int(near.sum()) > 300
    estimate = (x1 - x0)[near].mean(0)
    torch.testing.assert_close(estimate, truth.velocity(centre, t)[0], atol=0.15, rtol=0)  # measured error ~0.05


@pytest.mark.parametrize("path_name", sorted(PATHS))
def test_boundary_values(eight, path_name):
    truth = MixturePath(eight, PATHS[path_name]())
    x = _points()
    torch.testing.assert_close(truth.log_prob(x, 0.0), get_density("gaussian").log_prob(x), atol=1e-9, rtol=0)
    torch.testing.assert_close(truth.log_prob(x, 1.0), eight.log_prob(x), atol=1e-9, rtol=0)
    torch.testing.assert_close(truth.score(x, 1.0), eight.score(x), atol=1e-7, rtol=1e-7)
    for t in (0.0, 1.0):  # written via posterior means, so finite at both ends
        assert torch.isfinite(truth.velocity(x, t)).all()


def test_boundary_values_with_a_data_source(eight):
    source = get_density("two_gaussians")
    truth = MixturePath(eight, LinearPath(), source)
    x = _points()
    torch.testing.assert_close(truth.log_prob(x, 0.0), source.log_prob(x), atol=1e-9, rtol=0)
    torch.testing.assert_close(truth.log_prob(x, 1.0), eight.log_prob(x), atol=1e-9, rtol=0)


@pytest.mark.parametrize("path_name", sorted(PATHS))
def test_exact_velocity_carries_noise_onto_eight_gaussians(eight, reference, path_name, device):
    truth = MixturePath(eight, PATHS[path_name]())
    x0 = torch.randn(4000, 2, generator=make_generator(0, device), device=device)
    traj = integrate(truth.velocity, x0, 100, "midpoint")
    assert traj.shape == (101, 4000, 2)
    x1 = traj[-1].cpu()
    # measured: linear gap 0.003, TV 0.020; cosine gap 0.009, TV 0.012 (perfect sampler: |gap| < 0.04)
    assert abs(log_density_gap(eight.log_prob(x1), eight.log_prob(reference))) < 0.06
    assert mode_tv(x1, eight) < 0.04
    # and the source really was noise: the same metrics reject it
    assert log_density_gap(eight.log_prob(x0.cpu()), eight.log_prob(reference)) > 5


@pytest.mark.parametrize("path_name", sorted(PATHS))
def test_source_mean_from_the_velocity_is_the_posterior_mean_and_gives_the_score(eight, path_name):
    # E[x0 | x] = (alpha v - alpha' x) / (alpha sigma' - alpha' sigma), and -E[x0 | x] / sigma_t = grad log p_t
    truth = MixturePath(eight, PATHS[path_name]())
    for t in (0.1, 0.5, 0.9):
        x = truth.marginal(t).sample(500, make_generator(3)).double()
        x0_mean = truth.path.source_mean(x, truth.velocity(x, t), t)
        torch.testing.assert_close(x0_mean, truth.posterior_means(x, t)[0], atol=1e-8, rtol=1e-8)
        torch.testing.assert_close(-x0_mean / float(truth.path.sigma(t)), truth.score(x, t), atol=1e-7, rtol=1e-7)


@pytest.mark.parametrize("path_name", sorted(PATHS))
def test_the_sde_with_the_exact_score_keeps_the_ode_marginals(eight, reference, path_name):
    # dx = [v - eps E[x0 | x]] dt + sqrt(2 eps sigma_t) dW carries N(0, I) onto the data for any eps
    truth = MixturePath(eight, PATHS[path_name]())
    path = truth.path

    def drift(eps):
        return lambda x, t: truth.velocity(x, t) - eps * path.source_mean(x, truth.velocity(x, t), t)

    g = make_generator(0)
    x0 = torch.randn(4000, 2, generator=g)
    x1 = integrate_sde(drift(1.0), lambda t: (2 * max(float(path.sigma(t)), 0.0)) ** 0.5, x0, 100, g)[-1]
    # measured (linear, 20,000 samples): gap 0.018, TV 0.004 (the ODE: 0.011, 0.008); perfect: |gap| < 0.04
    assert abs(log_density_gap(eight.log_prob(x1), eight.log_prob(reference))) < 0.06
    assert mode_tv(x1, eight) < 0.04
    # without the score term the noise spreads the samples: the same check fails
    spread = integrate_sde(truth.velocity, lambda t: (2 * max(float(path.sigma(t)), 0.0)) ** 0.5, x0, 100, g)[-1]
    assert log_density_gap(eight.log_prob(spread), eight.log_prob(reference)) > 0.3
    # eps = 0 is the ODE with Euler steps
    torch.testing.assert_close(
        integrate_sde(drift(0.0), lambda t: 0.0, x0, 50)[-1], integrate(truth.velocity, x0, 50, "euler")[-1]
    )


def test_exact_velocity_transports_data_to_data(eight, reference):
    source = get_density("two_gaussians")
    truth = MixturePath(eight, LinearPath(), source)
    x0 = source.sample(4000, make_generator(1))
    x1 = integrate(truth.velocity, x0, 100, "midpoint")[-1]
    # measured: gap 0.007, TV 0.006
    assert abs(log_density_gap(eight.log_prob(x1), eight.log_prob(reference))) < 0.06
    assert mode_tv(x1, eight) < 0.04


@pytest.mark.parametrize("k", [0, 3, 6])
def test_conditioned_on_lands_on_one_component(eight, k):
    truth = MixturePath(eight, LinearPath()).conditioned_on(k)
    assert truth.target.means.shape == (1, 2)
    torch.testing.assert_close(truth.target.means[0], eight.means[k])
    x0 = torch.randn(2000, 2, generator=make_generator(k))
    x1 = integrate(truth.velocity, x0, 60, "midpoint")[-1]
    assert float((eight.nearest_component(x1) == k).float().mean()) > 0.99
    assert float((x1.mean(0) - eight.means[k]).abs().max()) < 0.05
    assert float((x1 - eight.means[k]).std()) == pytest.approx(0.3, abs=0.02)
