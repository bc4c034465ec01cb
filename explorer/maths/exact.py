"""Closed-form ground truth for Gaussian-mixture endpoints under a Gaussian path.

Source x0 ~ sum_j u_j N(mu_j, c_j^2 I) (N(0, I) is the one-component case), target
x1 ~ sum_k w_k N(m_k, s_k^2 I), coupled independently, and x_t = alpha_t x1 + sigma_t x0. Then

    p_t = sum_jk u_j w_k N(alpha m_k + sigma mu_j, (alpha^2 s_k^2 + sigma^2 c_j^2) I),

and every conditional expectation is a responsibility-weighted sum of Gaussian posterior means
(writing v_jk = alpha^2 s_k^2 + sigma^2 c_j^2 and e_jk = x - alpha m_k - sigma mu_j):

    E[x1 | x_t = x, jk] = m_k + alpha s_k^2 e_jk / v_jk,   E[x0 | x_t = x, jk] = mu_j + sigma c_j^2 e_jk / v_jk.

The marginal velocity u_t(x) = alpha'_t E[x1 | x] + sigma'_t E[x0 | x] is computed in that form, so
it stays finite at t = 0 and t = 1; for a N(0, I) source it equals docs/architecture.md's
(alpha'/alpha) x + (alpha' sigma^2 / alpha - sigma' sigma) grad log p_t(x), and Tweedie's
E[x0 | x] = -sigma grad log p_t(x). Times `t` are Python floats (one time for the whole batch).
"""

from __future__ import annotations

import torch
from torch import Tensor

from explorer.data.densities import GaussianMixture, gaussian
from explorer.maths.paths import GaussianPath


class MixturePath:
    """The exact marginal path between two Gaussian mixtures (source defaults to N(0, I))."""

    def __init__(self, target: GaussianMixture, path: GaussianPath, source: GaussianMixture | None = None) -> None:
        self.target, self.path = target, path
        self.source = source if source is not None else gaussian()

    def _pairs(self, x: Tensor, t: float) -> tuple[Tensor, ...]:
        """Per pair (j, k): log weight + log N, residual e_jk, variance, alpha, sigma."""
        a, s = float(self.path.alpha(t)), float(self.path.sigma(t))
        dev, dt = x.device, x.dtype
        mu, c, u = (p.to(dev, dt) for p in (self.source.means, self.source.stds, self.source.weights))
        m, sk, w = (p.to(dev, dt) for p in (self.target.means, self.target.stds, self.target.weights))
        centre = (s * mu[:, None, :] + a * m[None, :, :]).reshape(-1, 2)  # [J*K, 2]
        var = (s**2 * c[:, None] ** 2 + a**2 * sk[None, :] ** 2).reshape(-1)  # [J*K]
        logw = (u[:, None].log() + w[None, :].log()).reshape(-1)
        resid = x[:, None, :] - centre[None]  # [n, J*K, 2]
        logn = logw - resid.pow(2).sum(-1) / (2 * var) - torch.log(2 * torch.pi * var)
        return logn, resid, var, a, s

    def marginal(self, t: float) -> GaussianMixture:
        """p_t as a Gaussian mixture over the (source j, target k) pairs."""
        a, s = float(self.path.alpha(t)), float(self.path.sigma(t))
        mu, c, u = self.source.means, self.source.stds, self.source.weights
        m, sk, w = self.target.means, self.target.stds, self.target.weights
        means = (s * mu[:, None, :] + a * m[None, :, :]).reshape(-1, 2)
        stds = (s**2 * c[:, None] ** 2 + a**2 * sk[None, :] ** 2).sqrt().reshape(-1)
        return GaussianMixture(means, stds, (u[:, None] * w[None, :]).reshape(-1), name="p_t")

    def log_prob(self, x: Tensor, t: float) -> Tensor:
        """log p_t(x), `[n]`."""
        return torch.logsumexp(self._pairs(x, t)[0], dim=1)

    def score(self, x: Tensor, t: float) -> Tensor:
        """grad log p_t(x) = -sum_jk r_jk e_jk / v_jk, `[n, 2]` (needs v_jk > 0)."""
        logn, resid, var, _, _ = self._pairs(x, t)
        r = torch.softmax(logn, dim=1)
        return -((r / var)[:, :, None] * resid).sum(1)

    def posterior_means(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """(E[x0 | x_t = x], E[x1 | x_t = x]), each `[n, 2]`."""
        logn, resid, var, a, s = self._pairs(x, t)
        r = torch.softmax(logn, dim=1)[:, :, None]
        J, K = self.source.means.shape[0], self.target.means.shape[0]
        mu = self.source.means.to(x)[:, None, :].expand(J, K, 2).reshape(-1, 2)
        c2 = self.source.stds.to(x)[:, None].pow(2).expand(J, K).reshape(-1)
        m = self.target.means.to(x)[None, :, :].expand(J, K, 2).reshape(-1, 2)
        s2 = self.target.stds.to(x)[None, :].pow(2).expand(J, K).reshape(-1)
        x0 = mu[None] + (s * c2 / var)[None, :, None] * resid
        x1 = m[None] + (a * s2 / var)[None, :, None] * resid
        return (r * x0).sum(1), (r * x1).sum(1)

    def velocity(self, x: Tensor, t: float) -> Tensor:
        """Marginal velocity u_t(x) = alpha'_t E[x1 | x] + sigma'_t E[x0 | x], `[n, 2]`."""
        x0_mean, x1_mean = self.posterior_means(x, t)
        return float(self.path.d_alpha(t)) * x1_mean + float(self.path.d_sigma(t)) * x0_mean

    def conditioned_on(self, component: int) -> MixturePath:
        """The same path with the target restricted to one component (class-conditional truth)."""
        k = int(component)
        target = GaussianMixture(
            self.target.means[k : k + 1], self.target.stds[k : k + 1], torch.ones(1), name=f"{self.target.name}[{k}]"
        )
        return MixturePath(target, self.path, self.source)
