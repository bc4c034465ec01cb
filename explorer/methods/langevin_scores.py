"""Where Langevin chains get their score: exact (Gaussian mixtures) or learned (a diffusion model).

A score source gives, for a noise level sigma >= 0, the score of the noised target
p_sigma = p * N(0, sigma^2 I) and, where known in closed form, its log-density:
`source.at(sigma) -> (score: x [n, 2] -> [n, 2], log_prob: x [n, 2] -> [n] or None)`.
Plain Langevin uses `source.at(source.min_sigma)`, annealed Langevin a ladder of levels.

Exact: for p = sum_k w_k N(m_k, s_k^2 I), p_sigma = sum_k w_k N(m_k, (s_k^2 + sigma^2) I).

Learned: a diffusion model (t = 0 data, t = 1 noise, x_t = alpha_t x_0 + sigma_t z) gives
s_theta(x, t) ~ grad log p_t(x). Dividing by alpha_t, x_t / alpha_t = x_0 + (sigma_t / alpha_t) z,
so p_t(x) = alpha_t^-2 p_sigma(x / alpha_t) with sigma = sigma_t / alpha_t, and

    grad log p_sigma(x) = alpha_t s_theta(alpha_t x, t),   t such that sigma_t / alpha_t = sigma,

found by bisection (sigma_t / alpha_t increases with t). The diffusion times are the noise levels.

Plain Langevin uses t_min = T_MIN = 0.03 (and annealing stops there): sigma_t / alpha_t is 0.11
(linear VP) or 0.058 (cosine). Smaller t would add less noise to p, but the learned score gets
worse fast there: a noise-predicting network's score -eps_theta / sigma_t multiplies its error by
1 / sigma_t. Measured on the Diffusion page's default model (eps target, 12k steps, two seeds),
regressing the learned score on the exact grad log p_t over p_t samples gives a slope of 3.1 at
t = 0.01 on eight_gaussians (1.6-2.2 on two_gaussians), 1.9 at t = 0.02, 1.4 at t = 0.03 (1.05-1.2)
and 1.0 at t = 0.05; Langevin's final log-density gap (2000 chains, default settings) was -0.64 at
t = 0.01 (over-concentrated chains), -0.15 at t = 0.03 and +0.38 at t = 0.05 (the noise of p_t
itself dominates). t = 0.03 is where the two errors balance.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import torch
from torch import Tensor

from explorer.data.densities import Density, GaussianMixture
from explorer.maths.langevin import LogProbFn, ScoreFn

T_MIN = 0.03


class ExactScore:
    """The closed-form score of a Gaussian mixture and of its noised versions."""

    title = "exact score"
    min_sigma, max_sigma = 0.0, math.inf

    def __init__(self, mixture: GaussianMixture) -> None:
        self.density = mixture
        self.lock = contextlib.nullcontext()

    def noised(self, sigma: float) -> GaussianMixture:
        """p_sigma = sum_k w_k N(m_k, (s_k^2 + sigma^2) I) (sigma = 0: the target itself)."""
        if sigma <= 0:
            return self.density
        stds = (self.density.stds.pow(2) + sigma * sigma).sqrt()
        return GaussianMixture(self.density.means, stds, self.density.weights, name=f"{self.density.name}_sigma")

    def at(self, sigma: float) -> tuple[ScoreFn, LogProbFn | None]:
        mix = self.noised(sigma)
        return mix.score, mix.log_prob

    def stable_step(self, sigma: float = 0.0) -> float:
        """2 min_k (s_k^2 + sigma^2): above it the drift x + eps s(x) overshoots the narrowest mode
        (for a Gaussian of variance v, x' - m = (1 - eps / v)(x - m) diverges once eps > 2 v)."""
        return float(2 * (self.density.stds.pow(2) + sigma * sigma).min())


class LearnedScore:
    """Adapter: a diffusion method (duck-typed: `.score(x [n, 2], t: float) -> [n, 2]` and
    `.schedule` with `alpha(t)`, `sigma(t)`) seen as the score of p_sigma, sigma = sigma_t / alpha_t."""

    title = "learned score"

    def __init__(
        self, method: Any, density: Density, *, t_min: float = T_MIN, lock: Any = None, schedule: Any = None
    ) -> None:
        self.method, self.density, self.t_min = method, density, float(t_min)
        self.schedule = schedule if schedule is not None else method.schedule
        self.lock = lock if lock is not None else contextlib.nullcontext()
        self.min_sigma, self.max_sigma = self.ratio(self.t_min), self.ratio(1.0)

    @classmethod
    def from_session(cls, session: Any) -> LearnedScore:
        """From a trained `TrainingSession` of family "diffusion" (its lock is held while chains run)."""
        return cls(session.method, session.density, lock=getattr(session, "lock", None))

    def ratio(self, t: float) -> float:
        """sigma_t / alpha_t: the noise level of p_t once rescaled by 1 / alpha_t."""
        return float(self.schedule.sigma(float(t))) / max(float(self.schedule.alpha(float(t))), 1e-30)

    def time_for(self, sigma: float) -> float:
        """The diffusion time t in [t_min, 1] with sigma_t / alpha_t = sigma (clipped to that range)."""
        if sigma <= self.min_sigma:
            return self.t_min
        if sigma >= self.max_sigma:
            return 1.0
        lo, hi = self.t_min, 1.0
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if self.ratio(mid) < sigma else (lo, mid)
        return 0.5 * (lo + hi)

    def at(self, sigma: float) -> tuple[ScoreFn, LogProbFn | None]:
        """grad log p_sigma(x) = alpha_t s_theta(alpha_t x, t); log p only at the smallest level,
        and only where the target's is exact (MALA then targets p itself with learned proposals)."""
        t = self.time_for(sigma)
        alpha = float(self.schedule.alpha(t))
        method = self.method

        @torch.no_grad()
        def score(x: Tensor) -> Tensor:
            device = getattr(method, "device", x.device)
            return alpha * method.score((alpha * x).to(device), t).to(x.device, x.dtype)

        exact_logp = self.density.has_log_prob and sigma <= self.min_sigma
        return score, (self.density.log_prob if exact_logp else None)
