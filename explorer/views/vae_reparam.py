"""The reparametrisation trick for one data point: z = mu(x) + sigma(x) * eps, with eps drawn on click.

The draws come from one fixed sequence, so a new draw appends and earlier ones stay, and switching the
data point keeps the noise and moves only mu and sigma.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from explorer.methods.vae import VAE

REPARAM_POINTS = 50  # data points offered in the reparametrisation panel
MAX_DRAWS = 40  # eps draws kept in the reparametrisation panel


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


@dataclass(frozen=True)
class ReparamView:
    """z = mu + sigma * eps for one data point x, with the latest and earlier draws of eps."""

    x: np.ndarray  # [2]
    mu: np.ndarray  # [d]
    sigma: np.ndarray  # [d]
    eps: np.ndarray  # [r, d] every draw so far, the current one last
    z: np.ndarray  # [r, d]
    x_hat: np.ndarray  # [r, 2] m(z) per draw
    x_mean: np.ndarray  # [2] m(mu)


def reparam_point(method: VAE, index: int, seed: int = 11) -> torch.Tensor:
    """Data point number `index` `[2]` of a fixed set of REPARAM_POINTS (the same for a given density)."""
    points = method.density.sample(REPARAM_POINTS, torch.Generator().manual_seed(seed))
    return points[min(max(int(index), 0), REPARAM_POINTS - 1)]


def eps_draws(draws: int, latent_dim: int, seed: int = 0) -> torch.Tensor:
    """The last min(draws, MAX_DRAWS) of a fixed sequence of eps ~ N(0, I), `[r, d]`: draw i is the same
    whichever x it is used for, so switching the data point keeps the noise and moves only mu and sigma."""
    draws = max(1, int(draws))
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((draws, latent_dim), generator=generator)[-MAX_DRAWS:]


@torch.no_grad()
def reparam_view(method: VAE, x: torch.Tensor, eps: torch.Tensor) -> ReparamView:
    """One data point x `[2]` and draws eps `[r, d]` (an AE or VQ-VAE has sigma = 0: z = its code)."""
    dev = method.device
    mean, log_var = method.encode(x.reshape(1, 2).to(dev))
    if log_var is None:
        log_var = torch.full_like(mean, -math.inf)
        if method.kind == "vqvae":
            mean = method.quantise(mean)[1]
    eps = eps.to(dev)
    z = mean + (0.5 * log_var).exp() * eps
    return ReparamView(
        x=_np(x.reshape(2)),
        mu=_np(mean[0]),
        sigma=_np((0.5 * log_var).exp()[0]),
        eps=_np(eps),
        z=_np(z),
        x_hat=_np(method.decode(z)),
        x_mean=_np(method.decode(mean)[0]),
    )
