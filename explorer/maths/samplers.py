"""ODE integrators over plain callables `field(x: [n, d], t: float) -> [n, d]`.

Each returns the trajectory `[steps + 1, n, d]` on a uniform grid from t0 to t1:
    Euler     x' = x + h f(x, t)
    midpoint  x' = x + h f(x + h/2 f(x, t), t + h/2)
    Heun      x~ = x + h f(x, t);  x' = x + h/2 (f(x, t) + f(x~, t + h))
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
