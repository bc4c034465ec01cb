"""A Gaussian mixture fitted by expectation-maximisation: the simplest generative model, and the one the
literature on retraining with one's own samples starts from.

With responsibilities r_ik = w_k N(x_i; m_k, S_k) / sum_j w_j N(x_i; m_j, S_j) (E step), the M step sets

    w_k = (1/n) sum_i r_ik,   m_k = sum_i r_ik x_i / sum_i r_ik,
    S_k = sum_i r_ik (x_i - m_k)(x_i - m_k)^T / sum_i r_ik,

the maximum-likelihood estimates (divided by the weight, not by the weight minus one). With one component this is
the sample mean and the biased covariance, whose expectation is (1 - 1/n) S: refitted on n of its own samples per
generation, a Gaussian's covariance shrinks by that factor per generation on average.

2D only: the Gaussians' densities use the 2 x 2 inverse and determinant in closed form (fast for many small fits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

JITTER = 1e-6  # on every covariance's diagonal (scikit-learn's reg_covar): a component on one point stays a density


def _component_logs(x: Tensor, weights: Tensor, means: Tensor, covs: Tensor) -> Tensor:
    """log w_k + log N(x_i; m_k, S_k) `[n, K]` for x `[n, 2]`, 2 x 2 covariances `[K, 2, 2]`."""
    a, b, c = covs[:, 0, 0], covs[:, 0, 1], covs[:, 1, 1]
    det = a * c - b * b
    dx = x[:, None, 0] - means[None, :, 0]
    dy = x[:, None, 1] - means[None, :, 1]
    maha = (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det
    return weights.log() - 0.5 * maha - math.log(2 * math.pi) - 0.5 * det.log()


@dataclass(frozen=True)
class GaussianMixtureFit:
    """Weights `[K]`, means `[K, 2]` and full covariances `[K, 2, 2]`."""

    weights: Tensor
    means: Tensor
    covariances: Tensor

    def log_prob(self, x: Tensor) -> Tensor:
        """log p(x) `[n]` for points `[n, 2]`."""
        return torch.logsumexp(_component_logs(x.to(self.means.dtype), self.weights, self.means, self.covariances), 1)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """n points `[n, 2]`: a component by its weight, then its Gaussian."""
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        chol = torch.linalg.cholesky(self.covariances)
        z = torch.randn((n, 2), generator=generator, dtype=self.means.dtype)
        return self.means[k] + torch.einsum("nij,nj->ni", chol[k], z)

    def covariance(self) -> Tensor:
        """The mixture's covariance `[2, 2]`: sum_k w_k (S_k + m_k m_k^T) - m m^T."""
        mean = (self.weights[:, None] * self.means).sum(0)
        outer = self.means[:, :, None] * self.means[:, None]
        second = (self.weights[:, None, None] * (self.covariances + outer)).sum(0)
        return second - torch.outer(mean, mean)


def _seed_means(x: Tensor, k: int, generator: torch.Generator) -> Tensor:
    """k starting means by k-means++: each next one a data point drawn with probability proportional to its squared
    distance to the nearest mean so far (spread over the modes, so that EM rarely starts two in one)."""
    first = int(torch.randint(0, x.shape[0], (1,), generator=generator))
    means = [x[first]]
    nearest = (x - x[first]).pow(2).sum(1)
    for _ in range(k - 1):
        if float(nearest.sum()) <= 0:
            index = int(torch.randint(0, x.shape[0], (1,), generator=generator))
        else:
            index = int(torch.multinomial(nearest / nearest.sum(), 1, generator=generator))
        means.append(x[index])
        nearest = torch.minimum(nearest, (x - x[index]).pow(2).sum(1))
    return torch.stack(means)


def fit_gmm(
    x: Tensor, components: int, generator: torch.Generator, restarts: int = 3, iterations: int = 100
) -> GaussianMixtureFit:
    """The best (by likelihood) of `restarts` EM runs on points x `[n, 2]`. EM from k-means++ seeds ends in a local
    optimum now and then (two modes under one component, another component starved: about one fit in eight of
    1,000 points of eight_gaussians); three restarts make that rare. One component needs no restart."""
    x = x.detach().to(torch.float64).cpu()
    fits = [_em(x, components, generator, iterations) for _ in range(max(1, restarts) if components > 1 else 1)]
    return max(fits, key=lambda fit: float(fit.log_prob(x).mean()))


def _em(x: Tensor, components: int, generator: torch.Generator, iterations: int, tolerance: float = 1e-4):
    """EM from k-means++ means, the data's covariance and equal weights; stops when the mean log-likelihood
    improves by less than `tolerance` (x float64)."""
    n = x.shape[0]
    k = max(1, min(components, n))
    eye = torch.eye(2, dtype=x.dtype)
    centred = x - x.mean(0)
    spread = centred.T @ centred / n + JITTER * eye
    weights, means, covs = (
        torch.full((k,), 1.0 / k, dtype=x.dtype),
        _seed_means(x, k, generator),
        spread.repeat(k, 1, 1),
    )
    squares = torch.stack([x[:, 0] ** 2, x[:, 0] * x[:, 1], x[:, 1] ** 2], dim=1)
    previous = -math.inf
    for _ in range(iterations):
        logs = _component_logs(x, weights, means, covs)
        total = torch.logsumexp(logs, dim=1, keepdim=True)
        resp = (logs - total).exp()  # E step [n, K]
        mass = resp.sum(0) + 1e-12
        means = resp.T @ x / mass[:, None]
        moments = resp.T @ squares / mass[:, None]  # E_k[x0^2], E_k[x0 x1], E_k[x1^2]: one matmul, not [n, K, 2, 2]
        xy = moments[:, 1] - means[:, 0] * means[:, 1]
        covs = (
            torch.stack([moments[:, 0] - means[:, 0] ** 2, xy, xy, moments[:, 2] - means[:, 1] ** 2], dim=1).view(
                -1, 2, 2
            )
            + JITTER * eye
        )
        weights = mass / n
        current = float(total.mean())
        if current - previous < tolerance:
            break
        previous = current
    return GaussianMixtureFit(weights, means, covs)
