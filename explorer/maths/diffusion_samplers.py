"""Reverse-time samplers for a VP diffusion, in diffusion time (t = 1 noise -> t = 0 data).

All take `eps_fn(x [n, 2], t: float) -> eps_hat [n, 2]` (a noise predictor; the score is
-eps_hat / sigma_t) and return the trajectory `[steps + 1, n, 2]` from x_1 = `x_T`. With
abar_t, abar_s for a step t -> s < t, a_ts = abar_t / abar_s and b_ts = 1 - a_ts:

- DDPM ancestral:  x_s = (x_t - b_ts / sqrt(1 - abar_t) eps_hat) / sqrt(a_ts) + sqrt(v) z,
                   v = (1 - abar_s) / (1 - abar_t) b_ts  (Ho et al. 2020, eq. 11, strided)
- DDIM:            x_s = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - c^2) eps_hat + c z,
                   c = eta sqrt((1 - abar_s) / (1 - abar_t)) sqrt(1 - a_ts)  (eta = 0: deterministic)
- reverse SDE, Euler-Maruyama on dx = [-beta/2 x - beta s(x, t)] dt + sqrt(beta) dW, backwards:
                   x <- x + h (beta/2 x + beta s) + sqrt(beta h) z
- probability-flow ODE dx/dt = -beta(t)/2 (x + s(x, t)), integrated with Heun.

DDPM and DDIM step down to t = 0 (abar = 1: the last step returns x0_hat); the SDE and ODE stop
at T_MIN, where the score is still finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from explorer.maths.samplers import integrate
from explorer.maths.schedules import VPSchedule

EpsFn = Callable[[Tensor, float], Tensor]
T_MIN = 1e-3

SAMPLERS = ("ddpm", "ddim", "sde", "ode")
SAMPLER_TITLES = {
    "ddpm": "DDPM ancestral",
    "ddim": "DDIM",
    "sde": "reverse SDE (Euler-Maruyama)",
    "ode": "probability-flow ODE (Heun)",
}
EVALS_PER_STEP = {"ddpm": 1, "ddim": 1, "sde": 1, "ode": 2}


def _noise(x: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def _grid(schedule: VPSchedule, steps: int) -> tuple[list[float], list[float]]:
    """The times 1 = t_0 > ... > t_steps = 0 and abar at each, in one vectorised call (not one per step)."""
    times = torch.linspace(1.0, 0.0, steps + 1)
    return times.tolist(), schedule.abar(times).tolist()


@torch.no_grad()
def ddpm(eps_fn: EpsFn, schedule: VPSchedule, x_T: Tensor, steps: int, generator: torch.Generator | None) -> Tensor:
    times, abars = _grid(schedule, steps)
    x, path = x_T, [x_T]
    for t, ab_t, ab_s in zip(times[:-1], abars[:-1], abars[1:], strict=True):
        a_ts = ab_t / ab_s
        b_ts = 1.0 - a_ts
        mean = (x - b_ts / math.sqrt(1.0 - ab_t) * eps_fn(x, t)) / math.sqrt(a_ts)
        var = (1.0 - ab_s) / (1.0 - ab_t) * b_ts
        x = mean + math.sqrt(max(var, 0.0)) * _noise(x, generator) if var > 0 else mean
        path.append(x)
    return torch.stack(path)


@torch.no_grad()
def ddim(
    eps_fn: EpsFn, schedule: VPSchedule, x_T: Tensor, steps: int, generator: torch.Generator | None, eta: float = 0.0
) -> Tensor:
    times, abars = _grid(schedule, steps)
    x, path = x_T, [x_T]
    for t, ab_t, ab_s in zip(times[:-1], abars[:-1], abars[1:], strict=True):
        eps = eps_fn(x, t)
        x0 = (x - math.sqrt(1.0 - ab_t) * eps) / math.sqrt(ab_t)
        c = eta * math.sqrt((1.0 - ab_s) / (1.0 - ab_t)) * math.sqrt(max(1.0 - ab_t / ab_s, 0.0))
        x = math.sqrt(ab_s) * x0 + math.sqrt(max(1.0 - ab_s - c * c, 0.0)) * eps
        if c > 0:
            x = x + c * _noise(x, generator)
        path.append(x)
    return torch.stack(path)


@torch.no_grad()
def reverse_sde(
    eps_fn: EpsFn, schedule: VPSchedule, x_T: Tensor, steps: int, generator: torch.Generator | None
) -> Tensor:
    h = (1.0 - T_MIN) / steps
    times = [1.0 - i * h for i in range(steps)]
    grid = torch.tensor(times)
    betas, sigmas = schedule.beta(grid).tolist(), schedule.sigma(grid).tolist()
    x, path = x_T, [x_T]
    for t, beta, sigma in zip(times, betas, sigmas, strict=True):
        score = -eps_fn(x, t) / sigma
        x = x + h * (0.5 * beta * x + beta * score) + math.sqrt(beta * h) * _noise(x, generator)
        path.append(x)
    return torch.stack(path)


@torch.no_grad()
def probability_flow(eps_fn: EpsFn, schedule: VPSchedule, x_T: Tensor, steps: int) -> Tensor:
    def drift(x: Tensor, t: float) -> Tensor:
        return -0.5 * float(schedule.beta(t)) * (x - eps_fn(x, t) / float(schedule.sigma(t)))

    return integrate(drift, x_T, steps, "heun", t0=1.0, t1=T_MIN)


def run_sampler(
    name: str,
    eps_fn: EpsFn,
    schedule: VPSchedule,
    x_T: Tensor,
    steps: int,
    generator: torch.Generator | None,
    eta: float = 0.0,
) -> Tensor:
    """Dispatch by name; trajectories `[steps + 1, n, 2]`."""
    steps = max(1, int(steps))
    if name == "ddpm":
        return ddpm(eps_fn, schedule, x_T, steps, generator)
    if name == "ddim":
        return ddim(eps_fn, schedule, x_T, steps, generator, eta)
    if name == "sde":
        return reverse_sde(eps_fn, schedule, x_T, steps, generator)
    if name == "ode":
        return probability_flow(eps_fn, schedule, x_T, steps)
    raise KeyError(f"unknown sampler '{name}'; choose one of {', '.join(SAMPLERS)}")
