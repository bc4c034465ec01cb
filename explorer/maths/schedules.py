"""Variance-preserving noise schedules in diffusion time (t = 0 data, t = 1 noise).

The forward kernel is q(x_t | x_0) = N(alpha_t x_0, sigma_t^2 I) with alpha_t = sqrt(abar_t) and
sigma_t = sqrt(1 - abar_t), and the VP SDE dx = -beta(t)/2 x dt + sqrt(beta(t)) dW has
beta(t) = -d/dt log abar_t. A schedule is also a `GaussianPath` (alpha, sigma and their time
derivatives), so `explorer.maths.exact.MixturePath` gives the exact p_t and score under it: its t is
simply read as diffusion time.

- linear: beta(t) = beta_min + t (beta_max - beta_min), beta in [0.1, 20] (Song et al. 2021);
  abar_t = exp(-(beta_min t + (beta_max - beta_min) t^2 / 2)).
- cosine: abar_t = f(t) / f(0), f(t) = cos^2(pi/2 (t + s) / (1 + s)), s = 0.008 (Nichol and
  Dhariwal 2021), with abar clipped at ABAR_MIN so that beta stays finite at t = 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from explorer.maths.paths import GaussianPath, _as_tensor

ABAR_MIN = 1e-4  # abar_1 of the cosine schedule after clipping (sigma_1 = 0.99995)


class VPSchedule(GaussianPath):
    """abar(t) and beta(t) define everything; alpha, sigma and derivatives follow."""

    name, title = "vp", "variance preserving"

    def abar(self, t: float | Tensor) -> Tensor:
        raise NotImplementedError

    def beta(self, t: float | Tensor) -> Tensor:
        """beta(t) = -d/dt log abar(t)."""
        raise NotImplementedError

    def alpha(self, t: float | Tensor) -> Tensor:
        return self.abar(t).sqrt()

    def sigma(self, t: float | Tensor) -> Tensor:
        return (1 - self.abar(t)).clamp_min(0).sqrt()

    def d_alpha(self, t: float | Tensor) -> Tensor:
        return -0.5 * self.beta(t) * self.alpha(t)

    def d_sigma(self, t: float | Tensor) -> Tensor:
        abar = self.abar(t)
        return 0.5 * self.beta(t) * abar / (1 - abar).clamp_min(1e-12).sqrt()


class LinearVP(VPSchedule):
    name, title = "linear", "linear beta: beta(t) from 0.1 to 20"
    BETA_MIN, BETA_MAX = 0.1, 20.0

    def abar(self, t: float | Tensor) -> Tensor:
        t = _as_tensor(t)
        return torch.exp(-(self.BETA_MIN * t + 0.5 * (self.BETA_MAX - self.BETA_MIN) * t * t))

    def beta(self, t: float | Tensor) -> Tensor:
        return self.BETA_MIN + _as_tensor(t) * (self.BETA_MAX - self.BETA_MIN)


class CosineVP(VPSchedule):
    name, title = "cosine", "cosine: abar(t) = cos^2(pi/2 (t + s)/(1 + s)), normalised"
    S = 0.008

    def _f(self, t: Tensor) -> Tensor:
        return torch.cos(0.5 * math.pi * (t + self.S) / (1 + self.S)) ** 2

    def abar(self, t: float | Tensor) -> Tensor:
        t = _as_tensor(t)
        return (self._f(t) / self._f(torch.zeros_like(t))).clamp(min=ABAR_MIN, max=1.0)

    def beta(self, t: float | Tensor) -> Tensor:
        t = _as_tensor(t)
        angle = 0.5 * math.pi * (t + self.S) / (1 + self.S)
        raw = math.pi / (1 + self.S) * torch.tan(angle.clamp(max=0.5 * math.pi * (1 - 1e-6)))
        # where abar is clipped it is constant: beta = 0 there would freeze the SDE, so keep the
        # analytic value but cap it like the linear schedule's beta_max
        return raw.clamp(max=LinearVP.BETA_MAX)


SCHEDULES: dict[str, Callable[[], VPSchedule]] = {"linear": LinearVP, "cosine": CosineVP}


# --- Tweedie: the three parametrisations of one denoiser -------------------------------------
def eps_to_score(eps: Tensor, sigma: float) -> Tensor:
    """grad log p_t(x) = -eps_hat / sigma_t."""
    return -eps / sigma


def score_to_eps(score: Tensor, sigma: float) -> Tensor:
    return -sigma * score


def eps_to_x0(x: Tensor, eps: Tensor, alpha: float, sigma: float) -> Tensor:
    """E[x_0 | x_t] = (x_t - sigma_t eps_hat) / alpha_t."""
    return (x - sigma * eps) / alpha


def x0_to_eps(x: Tensor, x0: Tensor, alpha: float, sigma: float) -> Tensor:
    return (x - alpha * x0) / sigma
