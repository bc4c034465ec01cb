"""explorer.maths.paths: endpoints and the conditional target velocity d/dt x_t."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.device import make_generator
from explorer.maths.paths import PATHS, CosinePath, LinearPath


def _pair(n: int = 32):
    g = make_generator(0)
    return torch.randn(n, 2, generator=g).double(), (4 * torch.randn(n, 2, generator=g)).double()


@pytest.mark.parametrize("name", sorted(PATHS))
def test_interpolate_endpoints(name):
    path = PATHS[name]()
    x0, x1 = _pair()
    zeros, ones = torch.zeros(len(x0), 1, dtype=torch.float64), torch.ones(len(x0), 1, dtype=torch.float64)
    torch.testing.assert_close(path.interpolate(x0, x1, zeros), x0)
    torch.testing.assert_close(path.interpolate(x0, x1, ones), x1)


@pytest.mark.parametrize("name", sorted(PATHS))
def test_target_velocity_is_the_time_derivative_of_interpolate(name):
    path = PATHS[name]()
    x0, x1 = _pair()
    t = torch.rand(len(x0), 1, generator=make_generator(1)).double() * 0.98 + 0.01
    h = 1e-6
    finite_difference = (path.interpolate(x0, x1, t + h) - path.interpolate(x0, x1, t - h)) / (2 * h)
    torch.testing.assert_close(path.target_velocity(x0, x1, t), finite_difference, rtol=1e-6, atol=1e-6)


def test_linear_path_coefficients():
    path = LinearPath()
    assert float(path.alpha(0.25)) == pytest.approx(0.25)
    assert float(path.sigma(0.25)) == pytest.approx(0.75)
    x0, x1 = _pair()
    t = torch.full((len(x0), 1), 0.3, dtype=torch.float64)
    torch.testing.assert_close(path.target_velocity(x0, x1, t), x1 - x0)


def test_cosine_path_is_variance_preserving():
    path = CosinePath()
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    torch.testing.assert_close(path.alpha(t) ** 2 + path.sigma(t) ** 2, torch.ones_like(t))
    assert float(path.alpha(0.5)) == pytest.approx(math.sqrt(0.5))


@pytest.mark.parametrize("name", sorted(PATHS))
def test_scalar_and_tensor_times_agree(name):
    path = PATHS[name]()
    for method in ("alpha", "sigma", "d_alpha", "d_sigma"):
        fn = getattr(path, method)
        assert float(fn(0.3)) == pytest.approx(float(fn(torch.tensor(0.3, dtype=torch.float64))))
