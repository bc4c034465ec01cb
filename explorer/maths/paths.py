"""Gaussian probability paths x_t = alpha_t x1 + sigma_t x0 (flow-matching time: t = 0 noise, t = 1 data).

A path gives alpha_t, sigma_t and their time derivatives for `t` a float or a Tensor of any
shape; the conditional target velocity is d/dt x_t = alpha'_t x1 + sigma'_t x0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor


def _as_tensor(t: float | Tensor) -> Tensor:
    return t if isinstance(t, Tensor) else torch.tensor(float(t))


class GaussianPath:
    """Base class: subclasses define alpha, sigma and their derivatives."""

    name = "path"
    title = "Gaussian path"

    def alpha(self, t: float | Tensor) -> Tensor:
        raise NotImplementedError

    def sigma(self, t: float | Tensor) -> Tensor:
        raise NotImplementedError

    def d_alpha(self, t: float | Tensor) -> Tensor:
        raise NotImplementedError

    def d_sigma(self, t: float | Tensor) -> Tensor:
        raise NotImplementedError

    def interpolate(self, x0: Tensor, x1: Tensor, t: Tensor) -> Tensor:
        """x_t = alpha_t x1 + sigma_t x0, with `t: [n, 1]` broadcast over `x0, x1: [n, 2]`."""
        return self.alpha(t) * x1 + self.sigma(t) * x0

    def target_velocity(self, x0: Tensor, x1: Tensor, t: Tensor) -> Tensor:
        """Conditional velocity d/dt x_t = alpha'_t x1 + sigma'_t x0, `[n, 2]`."""
        return self.d_alpha(t) * x1 + self.d_sigma(t) * x0

    def source_mean(self, x: Tensor, velocity: Tensor, t: float) -> Tensor:
        """E[x0 | x_t = x] `[n, d]` from the marginal velocity v(x, t) = E[alpha'_t x1 + sigma'_t x0 | x_t = x].

        Eliminating E[x1 | x] with x = alpha_t E[x1 | x] + sigma_t E[x0 | x] gives

            E[x0 | x] = (alpha_t v - alpha'_t x) / (alpha_t sigma'_t - alpha'_t sigma_t),

        and for x0 ~ N(0, I) independent of x1 (Tweedie) the score is grad log p_t(x) = -E[x0 | x] / sigma_t.
        """
        a, s, da, ds = (float(f(t)) for f in (self.alpha, self.sigma, self.d_alpha, self.d_sigma))
        return (a * velocity - da * x) / (a * ds - da * s)


class LinearPath(GaussianPath):
    """CondOT / rectified-flow path: alpha_t = t, sigma_t = 1 - t, target x1 - x0."""

    name, title = "linear", "Linear (CondOT): x_t = t x1 + (1 - t) x0"

    def alpha(self, t: float | Tensor) -> Tensor:
        return _as_tensor(t)

    def sigma(self, t: float | Tensor) -> Tensor:
        return 1 - _as_tensor(t)

    def d_alpha(self, t: float | Tensor) -> Tensor:
        return torch.ones_like(_as_tensor(t))

    def d_sigma(self, t: float | Tensor) -> Tensor:
        return -torch.ones_like(_as_tensor(t))


class CosinePath(GaussianPath):
    """Variance-preserving trigonometric path: alpha_t = sin(pi t / 2), sigma_t = cos(pi t / 2)."""

    name, title = "cosine", "Cosine (VP): x_t = sin(pi t/2) x1 + cos(pi t/2) x0"

    def alpha(self, t: float | Tensor) -> Tensor:
        return torch.sin(0.5 * math.pi * _as_tensor(t))

    def sigma(self, t: float | Tensor) -> Tensor:
        return torch.cos(0.5 * math.pi * _as_tensor(t))

    def d_alpha(self, t: float | Tensor) -> Tensor:
        return 0.5 * math.pi * torch.cos(0.5 * math.pi * _as_tensor(t))

    def d_sigma(self, t: float | Tensor) -> Tensor:
        return -0.5 * math.pi * torch.sin(0.5 * math.pi * _as_tensor(t))


PATHS: dict[str, Callable[[], GaussianPath]] = {"linear": LinearPath, "cosine": CosinePath}
