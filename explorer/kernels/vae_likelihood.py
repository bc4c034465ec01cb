"""The log-likelihood of a VAE, log p_theta(x) = log int p_theta(x | z) p(z) dz, four ways (the lecture notes' "can
you calculate log p_theta(x)?"), for a decoder p(x | z) = N(x; m(z), diag e^log_var) and prior p(z) = N(0, I):

- quadrature over a latent grid: log sum_i p(x | z_i) p(z_i) dz, the reference (exact up to the grid in d = 1, 2);
- naive Monte Carlo over the prior: log (1/K) sum_k p(x | z_k), z_k ~ p(z), unbiased in p but of high variance
  (most prior draws land where p(x | z) is negligible);
- importance sampling with the encoder q(z | x) as the proposal: log (1/K) sum_k w_k, w_k = p(x | z_k) p(z_k) /
  q(z_k | x), z_k ~ q; its expectation over the draws is the IWAE bound (Burda et al. 2016),
  ELBO = IWAE_1 <= IWAE_K <= IWAE_{K+1} <= log p(x);
- with a linear decoder m(z) = W z + b, the closed form of probabilistic PCA: x ~ N(b, W W^T + diag e^log_var).

Shapes: n data points `[n, 2]`, d latent dimensions, K samples per estimate, R repeated estimates.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from explorer.kernels.vae_math import LOG_2PI, gaussian_log_prob, gaussian_nll

Decode = Callable[[Tensor], Tensor]  # z [m, d] -> m(z) [m, 2]
QUADRATURE_LIM = 6.0  # the latent grid covers [-6, 6]^d: the prior's mass outside is below 1e-8
# per axis: spacing 0.003 (d = 1), 0.06 (d = 2); a trained two-moons VAE (decoder sigma ~0.2) reads an NLL within
# 5e-4 nats of 601 x 601 points (151: 1e-3, 101: 0.02) at a fifth of 301's cost
QUADRATURE_POINTS = {1: 4001, 2: 201}
CHUNK = 64  # data points per block of the quadrature (a block holds CHUNK x grid log-densities)


def log_mean_exp(values: Tensor, dim: int) -> Tensor:
    """log (1/K) sum_k exp(values_k) along `dim`, stably."""
    return torch.logsumexp(values, dim) - math.log(values.shape[dim])


def latent_grid(d: int, lim: float = QUADRATURE_LIM, points: int | None = None) -> tuple[Tensor, float]:
    """(grid `[m, d]` over [-lim, lim]^d, log of one cell's volume)."""
    n = points or QUADRATURE_POINTS[d]
    axis = torch.linspace(-lim, lim, n, dtype=torch.float64)
    grid = axis[:, None] if d == 1 else torch.cartesian_prod(axis, axis)
    return grid, d * math.log(float(axis[1] - axis[0]))


def log_likelihood_quadrature(x: Tensor, decode: Decode, log_var: Tensor, d: int, points: int | None = None) -> Tensor:
    """log p(x) `[n]` by the rectangle rule over the latent grid: logsumexp_i [log p(x | z_i) + log p(z_i)] + log dz."""
    grid, log_cell = latent_grid(d, points=points)
    grid = grid.to(x.device, x.dtype)
    means = decode(grid)  # [m, 2]
    log_prior = gaussian_log_prob(grid)  # [m]
    out = []
    for block in x.split(CHUNK):
        out.append(torch.logsumexp(_log_likelihoods(block, means, log_var) + log_prior, dim=1) + log_cell)
    return torch.cat(out)


def _log_likelihoods(x: Tensor, means: Tensor, log_var: Tensor) -> Tensor:
    """log N(x_i; m_j, diag e^log_var) `[b, m]` for x `[b, 2]`, means `[m, 2]` and one variance `[2]` for all: the
    squared distances of x / s to m / s (`torch.cdist`, a matrix product), -1/2 (d^2 + sum_j log 2 pi s_j^2)."""
    scale = (-0.5 * log_var).exp()
    return -0.5 * (torch.cdist(x * scale, means * scale).pow(2) + (log_var + LOG_2PI).sum())


def naive_monte_carlo(x: Tensor, decode: Decode, log_var: Tensor, d: int, k: int, r: int, generator) -> Tensor:
    """R estimates `[R, n]` of log p(x), each log (1/K) sum_k p(x | z_k) over K prior draws z_k ~ N(0, I)."""
    z = torch.randn((r, k, d), generator=generator, device=generator.device).to(x.device, x.dtype)
    means = decode(z.reshape(-1, d)).reshape(r, k, 1, 2)
    return log_mean_exp(-gaussian_nll(x[None, None], means, log_var), dim=1)


def importance_weights(
    x: Tensor, mu: Tensor, log_var_q: Tensor, decode: Decode, log_var: Tensor, k: int, r: int, generator
) -> Tensor:
    """log w `[R, K, n]`: w = p(x | z) p(z) / q(z | x) for z ~ q(z | x) = N(mu, diag e^log_var_q) (`[n, d]` each)."""
    n, d = mu.shape
    eps = torch.randn((r, k, n, d), generator=generator, device=generator.device).to(x.device, x.dtype)
    z = mu + (0.5 * log_var_q).exp() * eps
    means = decode(z.reshape(-1, d)).reshape(r, k, n, 2)
    log_q = -0.5 * (eps * eps + log_var_q + LOG_2PI).sum(-1)  # log N(z; mu, sigma^2), with (z - mu) / sigma = eps
    return -gaussian_nll(x, means, log_var) + gaussian_log_prob(z) - log_q


def importance_sampling(*args, **kwargs) -> Tensor:
    """R estimates `[R, n]` of log p(x): log (1/K) sum_k w_k (`importance_weights`); their mean is IWAE_K."""
    return log_mean_exp(importance_weights(*args, **kwargs), dim=1)


def linear_gaussian_log_likelihood(x: Tensor, weight: Tensor, bias: Tensor, log_var: Tensor) -> Tensor:
    """Exact log p(x) `[n]` of a linear decoder (probabilistic PCA): x ~ N(b, W W^T + diag e^log_var), W `[2, d]`."""
    cov = weight @ weight.T + torch.diag(log_var.exp())
    return torch.distributions.MultivariateNormal(bias, covariance_matrix=cov).log_prob(x)
