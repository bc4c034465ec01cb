"""The density a flow-matching model or a diffusion model's probability-flow ODE defines (`explorer.maths.cnf`), for
the pages' "Density (continuous normalizing flow)" tab:

- the model's p_theta(x) beside the target's p(x), on one colour scale;
- the NLL of fresh data against the target's entropy H(p): E_p[-log p_theta] - H(p) = KL(p || p_theta) >= 0;
- the model's p_t at the page's time t beside the exact p_t;
- the continuity equation at t for the exact field u_t: dp_t/dt beside -div(p_t u_t), two images that agree
  (dp_t/dt by a central difference of the closed-form p_t in t, the divergence by autograd).

Flow matching reads t as the path's time (data at t = 1), diffusion as diffusion time (data at t ~ 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from explorer.maths.cnf import autograd_divergence
from explorer.maths.diffusion_samplers import T_MIN
from explorer.maths.entropy import Entropy, target_entropy
from explorer.maths.exact import MixturePath
from explorer.maths.grid import make_grid
from explorer.methods.diffusion import Diffusion
from explorer.methods.flow_matching import FlowMatching

GRID = 36  # points per axis of the density images (drawn smoothed): 1,296 ODE solves, about 0.5 s on one core
NLL_POINTS = 1000  # fresh data points for the NLL readout (its standard error is printed beside it)
TIME_STEP = 1e-3  # the central difference of p_t in t


@dataclass(frozen=True)
class DensityView:
    """Images `[k, k]` indexed [y, x] over `axis`; None where no closed form exists."""

    axis: np.ndarray
    learned: np.ndarray  # p_theta(x), the model's density where its samples live
    target: np.ndarray | None  # p(x)
    t: float
    learned_t: np.ndarray  # the model's p_t
    exact_t: np.ndarray | None  # the exact p_t
    dp_dt: np.ndarray | None  # dp_t/dt of the exact path
    minus_div_flux: np.ndarray | None  # -div(p_t u_t) of the exact field: equal to dp_dt
    nll: float  # E_p[-log p_theta] on NLL_POINTS fresh data points
    nll_stderr: float
    entropy: Entropy | None

    @property
    def kl(self) -> float | None:
        """NLL - H(p) = KL(p || p_theta), where the entropy is known."""
        return self.nll - self.entropy.value if self.entropy is not None else None


def _continuity(
    truth: MixturePath, field: Callable[[Tensor, float], Tensor], points: Tensor, t: float, lo: float, hi: float
) -> tuple[Tensor, Tensor]:
    """(dp_t/dt, -div(p_t u_t)) `[n]` at `points` for the exact path and its field: div(p u) = p div u + u . grad p."""
    a, b = max(lo, t - TIME_STEP), min(hi, t + TIME_STEP)
    dp_dt = (truth.log_prob(points, b).exp() - truth.log_prob(points, a).exp()) / (b - a)
    u, div_u = autograd_divergence(field)(points, t)
    p, grad_log_p = truth.log_prob(points, t).exp(), truth.score(points, t)
    return dp_dt, -(p * div_u + p * (u * grad_log_p).sum(1))


def _view(
    log_prob: Callable[..., Tensor],
    t_data: float,
    t: float,
    truth: MixturePath | None,
    field: Callable[[Tensor, float], Tensor] | None,
    density,
    generator: torch.Generator,
    t_range: tuple[float, float],
) -> DensityView:
    grid = make_grid(6.0, GRID, torch.device("cpu"))
    points = grid.points.to(torch.float32)

    def image(log_p: Tensor) -> np.ndarray:
        return grid.as_image(log_p.detach().cpu().exp())

    learned = image(log_prob(points))
    data = density.sample(NLL_POINTS, generator).cpu()
    data_log_p = log_prob(data).cpu().double()
    exact_t = dp_dt = flux = None
    if truth is not None:
        exact_t = image(truth.log_prob(points, t))
        if field is not None:
            dp, minus_div = _continuity(truth, field, points, t, *t_range)
            dp_dt, flux = grid.as_image(dp), grid.as_image(minus_div)
    return DensityView(
        axis=grid.axis,
        learned=learned,
        target=image(density.log_prob(points)) if density.has_log_prob else None,
        t=t,
        learned_t=image(log_prob(points, t)) if abs(t - t_data) > 1e-9 else learned,
        exact_t=exact_t,
        dp_dt=dp_dt,
        minus_div_flux=flux,
        nll=float(-data_log_p.mean()),
        nll_stderr=float(data_log_p.std() / np.sqrt(len(data_log_p))),
        entropy=target_entropy(density),
    )


def flow_matching_density(method: FlowMatching, t: float, generator: torch.Generator) -> DensityView | None:
    """The flow-matching model's density and p_t (None when its source has no closed-form density)."""
    if not method.has_log_prob:
        return None
    truth = method.exact()
    field = truth.velocity if truth is not None else None
    return _view(method.log_prob, 1.0, t, truth, field, method.density, generator, (0.0, 1.0))


def diffusion_density(method: Diffusion, t: float, generator: torch.Generator) -> DensityView:
    """The probability-flow ODE's density at T_MIN (where its sampler stops) and at diffusion time t."""
    truth, schedule = method.exact(), method.schedule

    def drift(x: Tensor, s: float) -> Tensor:  # the exact probability-flow drift -beta/2 (x + grad log p_s)
        return -0.5 * float(schedule.beta(s)) * (x + truth.score(x, s))

    t = max(float(t), T_MIN)
    field = drift if truth is not None else None
    return _view(method.log_prob, T_MIN, t, truth, field, method.density, generator, (T_MIN, 1.0))
