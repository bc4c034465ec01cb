"""explorer.maths.samplers: convergence orders on dx/dt = -x, time handling, trajectory shapes."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.device import make_generator
from explorer.maths.samplers import EVALS_PER_STEP, INTEGRATORS, integrate, integrate_sde


def _decay(x: torch.Tensor, t: float) -> torch.Tensor:
    return -x


def _final_error(method: str, steps: int) -> float:
    x0 = torch.ones(1, 1, dtype=torch.float64)
    return abs(float(integrate(_decay, x0, steps, method)[-1, 0, 0]) - math.exp(-1.0))


@pytest.mark.parametrize(("method", "order"), [("euler", 1), ("midpoint", 2), ("heun", 2)])
def test_convergence_order_on_exponential_decay(method, order):
    coarse, fine = _final_error(method, 20), _final_error(method, 40)
    assert coarse / fine == pytest.approx(2**order, rel=0.1)


def test_second_order_methods_beat_euler():
    assert _final_error("midpoint", 20) < _final_error("euler", 20) / 10
    assert _final_error("heun", 20) < _final_error("euler", 20) / 10


@pytest.mark.parametrize("method", sorted(INTEGRATORS))
def test_time_argument_is_passed_correctly(method):
    """dx/dt = t from 0 to 1 gives x(1) = 1/2: exact for midpoint and Heun, h/2 short for Euler."""
    x0 = torch.zeros(3, 2, dtype=torch.float64)
    steps = 10
    end = float(integrate(lambda x, t: torch.full_like(x, t), x0, steps, method)[-1, 0, 0])
    expected = 0.5 - 0.5 / steps if method == "euler" else 0.5
    assert end == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("method", sorted(INTEGRATORS))
def test_trajectory_shape_and_start(method):
    x0 = torch.randn(7, 3, dtype=torch.float64)
    traj = integrate(_decay, x0, 12, method)
    assert traj.shape == (13, 7, 3)
    torch.testing.assert_close(traj[0], x0)


def test_backward_integration_from_one_to_zero():
    x1 = torch.full((2, 2), math.exp(-1.0), dtype=torch.float64)
    traj = integrate(_decay, x1, 50, "heun", t0=1.0, t1=0.0)
    # running dx/dt = -x backwards in time undoes the decay
    torch.testing.assert_close(traj[-1], torch.ones(2, 2, dtype=torch.float64), atol=1e-4, rtol=0)


def test_evals_per_step_counts_field_calls():
    for method in INTEGRATORS:
        calls = 0

        def field(x, t):
            nonlocal calls
            calls += 1
            return -x

        integrate(field, torch.ones(1, 1), 5, method)
        assert calls == 5 * EVALS_PER_STEP[method]


def test_nonpositive_step_counts_take_one_step():
    assert integrate(_decay, torch.ones(1, 1), 0).shape == (2, 1, 1)


def test_euler_maruyama_matches_the_ornstein_uhlenbeck_moments():
    # dx = -x dt + sqrt(2) dW from x0 = 3: mean 3 e^-t, variance 1 - e^-2t at t = 1
    g = make_generator(0)
    x = integrate_sde(lambda x, t: -x, lambda t: math.sqrt(2), torch.full((20_000, 1), 3.0), 400, g)
    assert x.shape == (401, 20_000, 1)
    assert float(x[-1].mean()) == pytest.approx(3 * math.exp(-1), abs=0.03)
    assert float(x[-1].var()) == pytest.approx(1 - math.exp(-2), abs=0.03)
    # without noise it is Euler's method
    torch.testing.assert_close(
        integrate_sde(lambda x, t: -x, lambda t: 0.0, torch.ones(4, 1), 10),
        integrate(lambda x, t: -x, torch.ones(4, 1), 10, "euler"),
    )
