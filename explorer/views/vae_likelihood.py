"""A trained VAE's log-likelihood four ways (`explorer.kernels.vae_likelihood`), for the VAE page's likelihood tab:
for one data point (or a batch, averaged), R repeated estimates by naive Monte Carlo over the prior and by importance
sampling with q(z|x) at the learner's K, against the quadrature reference (and, with a linear decoder, the closed
form); the IWAE bound against K from the ELBO (K = 1) up; the model's density p_theta(x) by quadrature beside the
target on one colour scale; and the NLL of fresh data by quadrature and by importance sampling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from explorer.kernels.vae_likelihood import (
    importance_sampling,
    linear_gaussian_log_likelihood,
    log_likelihood_quadrature,
    naive_monte_carlo,
)
from explorer.maths.entropy import Entropy, target_entropy
from explorer.maths.grid import make_grid
from explorer.methods.vae import VAE

POINTS = 5  # data points the learner can pick (drawn once per model)
BATCH = 200  # the batch option's points
REPEATS = {1: 200, BATCH: 20}  # repeated estimates per chosen point / per batch (each a mean over the batch)
WORK = 400_000
# IWAE_K's mean over the repeats: importance weights are heavy-tailed, so one draw can lift a mean of 40 by 0.015
# nats above log p (seen at K = 30); all the repeats keep the curve's noise below its steps
IWAE_KS = (1, 3, 10, 30, 100, 300, 1000)
GRID = 36  # points per axis of the density image
IMAGE_LATENT_POINTS = {1: 2001, 2: 121}  # the image's latent grid: coarser than the NLL's (0.02 nats), 3x faster
NLL_POINTS = 500  # standard error ~0.03 nats
NLL_IS_K = 100


@dataclass(frozen=True)
class EstimatesView:
    """Estimates of log p_theta(x) at one point (or a batch's mean) `x` `[m, 2]`, K samples each."""

    x: np.ndarray  # [m, 2]
    k: int
    reference: float  # quadrature
    closed_form: float | None  # linear decoder only
    naive: np.ndarray  # [R] naive Monte Carlo estimates
    importance: np.ndarray  # [R] importance-sampling estimates (their mean is IWAE_K)
    elbo: float  # IWAE_1
    iwae_ks: tuple[int, ...]
    iwae: np.ndarray  # [len(iwae_ks)] IWAE_K for each K


@dataclass(frozen=True)
class VAEDensityView:
    axis: np.ndarray
    learned: np.ndarray  # p_theta(x) by quadrature `[k, k]`
    target: np.ndarray | None
    closed_form: np.ndarray | None  # the PPCA density of a linear decoder
    nll_quadrature: float
    nll_importance: float  # at K = NLL_IS_K
    nll_stderr: float
    entropy: Entropy | None


def _parts(method: VAE):
    return method.decode, method.decoder_log_var.detach(), method.latent_dim


def _closed_form(method: VAE, x: Tensor) -> Tensor | None:
    """log p(x) of a linear decoder (probabilistic PCA), else None."""
    if not method.config.linear_decoder:
        return None
    layer = method.decoder_net.layers[0]
    return linear_gaussian_log_likelihood(
        x, layer.weight.detach(), layer.bias.detach(), method.decoder_log_var.detach()
    )


def candidate_points(method: VAE, generator: torch.Generator) -> np.ndarray:
    """The POINTS data points `[POINTS, 2]` the learner picks from."""
    return method.density.sample(POINTS, generator).cpu().numpy()


@torch.no_grad()
def estimates_view(method: VAE, x: np.ndarray, k: int, generator: torch.Generator) -> EstimatesView:
    """The estimators at points x `[m, 2]` (m = 1, or a batch: each estimate is then the batch's mean)."""
    decode, log_var, d = _parts(method)
    xs = torch.as_tensor(x, dtype=torch.float32, device=method.device)
    mu, log_var_q = method.encode(xs)
    # a batch's estimates are means over its points, so a few repeats show their spread; the decoder passes
    # (points x K x repeats) stay within WORK per estimator, about 0.3 s on one core
    repeats = REPEATS[1] if len(xs) == 1 else max(2, min(REPEATS[BATCH], WORK // (k * len(xs))))
    curve_repeats = REPEATS[1] if len(xs) == 1 else 2

    def importance(kk: int, r: int) -> Tensor:
        return importance_sampling(xs, mu, log_var_q, decode, log_var, kk, r, generator).mean(1)

    closed = _closed_form(method, xs)
    return EstimatesView(
        x=np.asarray(x),
        k=k,
        reference=float(log_likelihood_quadrature(xs, decode, log_var, d).mean()),
        closed_form=float(closed.mean()) if closed is not None else None,
        naive=naive_monte_carlo(xs, decode, log_var, d, k, repeats, generator).mean(1).cpu().numpy(),
        importance=importance(k, repeats).cpu().numpy(),
        elbo=float(importance(1, repeats).mean()),
        iwae_ks=IWAE_KS,
        iwae=np.array([float(importance(kk, curve_repeats).mean()) for kk in IWAE_KS]),
    )


@torch.no_grad()
def density_view(method: VAE, generator: torch.Generator) -> VAEDensityView:
    decode, log_var, d = _parts(method)
    grid = make_grid(6.0, GRID, method.device)
    points = grid.points.to(torch.float32)
    learned = grid.as_image(log_likelihood_quadrature(points, decode, log_var, d, IMAGE_LATENT_POINTS[d]).exp())
    closed = _closed_form(method, points)
    data = method.density.sample(NLL_POINTS, generator).to(method.device)
    by_quadrature = log_likelihood_quadrature(data, decode, log_var, d).double()
    mu, log_var_q = method.encode(data)
    by_importance = importance_sampling(data, mu, log_var_q, decode, log_var, NLL_IS_K, 1, generator)[0].double()
    density = method.density
    return VAEDensityView(
        axis=grid.axis,
        learned=learned,
        target=grid.as_image(density.log_prob(points.cpu()).exp()) if density.has_log_prob else None,
        closed_form=grid.as_image(closed.exp()) if closed is not None else None,
        nll_quadrature=float(-by_quadrature.mean()),
        nll_importance=float(-by_importance.mean()),
        nll_stderr=float(by_quadrature.std() / np.sqrt(len(by_quadrature))),
        entropy=target_entropy(density),
    )
