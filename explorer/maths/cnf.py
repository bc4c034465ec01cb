"""The density a velocity field defines: a continuous normalizing flow (docs/architecture.md, "Ground truth").

A field v_t moves a density by the continuity equation dp_t/dt = -div(p_t v_t); along one trajectory
dx/dt = v(x, t) it reads

    d/dt log p_t(x_t) = -div v(x_t, t),

so from a point x at time t_from, integrating the trajectory to t_to (forwards or backwards) with the divergence
beside it gives

    log p_{t_from}(x) = log p_{t_to}(x_{t_to}) + int_{t_from}^{t_to} div v(x_s, s) ds.

Flow matching (data at t = 1, the source at t = 0) and diffusion's probability-flow ODE (data at t ~ 0, noise at
t = 1) are both this with their own field and end. In 2D the divergence is the trace of the 2x2 Jacobian, exactly
(no Hutchinson estimator): by forward-mode tangents through the network (`explorer.kernels.flat_mlp`), or by
autograd for closed-form fields (`autograd_divergence`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

FieldWithDivergence = Callable[[Tensor, float], tuple[Tensor, Tensor]]  # (x [n, 2], t) -> (v [n, 2], div v [n])
# RK4 steps of the pages' and the bench's likelihoods: a trained default model's mean log-likelihood moves by under
# 3e-3 nats from 16 steps to 128 (tests/test_cnf.py holds the exact fields to 1e-3 at 64); 2,000 points take ~0.75 s.
CNF_STEPS = 24


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, I) `[n]` for z `[n, d]`: where diffusion's probability-flow ODE starts."""
    return -0.5 * (z * z).sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)


def autograd_divergence(field: Callable[[Tensor, float], Tensor]) -> FieldWithDivergence:
    """`field` (x [n, 2], t) -> v [n, 2] with its divergence sum_i dv_i/dx_i by two backward passes (any field
    torch can differentiate, e.g. a closed-form marginal velocity)."""

    def both(x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            v = field(x, t)
            div = sum(
                torch.autograd.grad(v[:, i].sum(), x, retain_graph=i + 1 < x.shape[1])[0][:, i]
                for i in range(x.shape[1])
            )
        return v.detach(), div.detach()

    return both


@torch.no_grad()
def log_prob_along_flow(
    field: FieldWithDivergence,
    x: Tensor,
    t_from: float,
    t_to: float,
    base_log_prob: Callable[[Tensor], Tensor],
    steps: int = CNF_STEPS,
) -> Tensor:
    """log p_{t_from}(x) `[n]` for x `[n, 2]`: the trajectory and int div v integrated together from t_from to t_to
    by classical RK4, plus log p_{t_to} (`base_log_prob`) at the trajectory's end. `steps` is for the whole unit
    interval: a shorter one takes its share of them (at least 4)."""
    steps = max(4, round(int(steps) * abs(t_to - t_from))) if abs(t_to - t_from) < 1 else max(1, int(steps))
    h = (t_to - t_from) / steps
    y, integral = x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for i in range(steps):
        t = t_from + i * h
        v1, d1 = field(y, t)
        v2, d2 = field(y + 0.5 * h * v1, t + 0.5 * h)
        v3, d3 = field(y + 0.5 * h * v2, t + 0.5 * h)
        v4, d4 = field(y + h * v3, t + h)
        y = y + h / 6 * (v1 + 2 * v2 + 2 * v3 + v4)
        integral = integral + h / 6 * (d1 + 2 * d2 + 2 * d3 + d4)
    return base_log_prob(y) + integral
