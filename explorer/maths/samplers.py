"""ODE integrators over plain callables `field(x: [n, d], t: float) -> [n, d]`, and Euler-Maruyama for SDEs.

Each returns the trajectory `[steps + 1, n, d]` on a uniform grid from t0 to t1:
    Euler     x' = x + h f(x, t)
    midpoint  x' = x + h f(x + h/2 f(x, t), t + h/2)
    Heun      x~ = x + h f(x, t);  x' = x + h/2 (f(x, t) + f(x~, t + h))
    Euler-Maruyama (dx = f(x, t) dt + g(t) dW)  x' = x + h f(x, t) + sqrt(h) g(t) z,  z ~ N(0, I)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Field = Callable[[Tensor, float], Tensor]


def euler_step(field: Field, x: Tensor, t: float, h: float) -> Tensor:
    return x + h * field(x, t)


def midpoint_step(field: Field, x: Tensor, t: float, h: float) -> Tensor:
    return x + h * field(x + 0.5 * h * field(x, t), t + 0.5 * h)


def heun_step(field: Field, x: Tensor, t: float, h: float) -> Tensor:
    slope = field(x, t)
    guess = x + h * slope
    return x + 0.5 * h * (slope + field(guess, t + h))


INTEGRATORS: dict[str, Callable[[Field, Tensor, float, float], Tensor]] = {
    "euler": euler_step,
    "midpoint": midpoint_step,
    "heun": heun_step,
}
EVALS_PER_STEP = {"euler": 1, "midpoint": 2, "heun": 2}


@torch.no_grad()
def integrate(
    field: Field, x0: Tensor, steps: int, method: str = "midpoint", t0: float = 0.0, t1: float = 1.0
) -> Tensor:
    """Solve dx/dt = field(x, t) from x(t0) = x0; returns the trajectory `[steps + 1, n, d]`."""
    step = INTEGRATORS[method]
    steps = max(1, int(steps))
    h = (t1 - t0) / steps
    path = [x0]
    x = x0
    for i in range(steps):
        x = step(field, x, t0 + i * h, h)
        path.append(x)
    return torch.stack(path)


@torch.no_grad()
def integrate_sde(
    drift: Field,
    noise: Callable[[float], float],
    x0: Tensor,
    steps: int,
    generator: torch.Generator | None = None,
    t0: float = 0.0,
    t1: float = 1.0,
) -> Tensor:
    """Euler-Maruyama for dx = drift(x, t) dt + noise(t) dW from x(t0) = x0; the trajectory `[steps + 1, n, d]`.

    The last step adds no noise, so the samples at t1 are the drift's mean prediction from t1 - h. (Diffusion's
    reverse SDE, `diffusion_samplers.reverse_sde`, keeps its own loop: it takes its schedule's per-step values
    in one vectorised call and adds noise on its last step too, ending at T_MIN.)
    """
    steps = max(1, int(steps))
    h = (t1 - t0) / steps
    path = [x0]
    x = x0
    for i in range(steps):
        t = t0 + i * h
        x = x + h * drift(x, t)
        if i < steps - 1:
            z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = x + (abs(h) ** 0.5 * noise(t)) * z
        path.append(x)
    return torch.stack(path)
