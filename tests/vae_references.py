"""Reference functions of the VAE's maths used only by the tests: the one-sample ELBO's two terms and the exact
posterior of probabilistic PCA (a linear decoder), against which the trained VAE's quantities are checked."""

from __future__ import annotations

import torch
from torch import Tensor

from explorer.kernels.vae_math import gaussian_kl, gaussian_nll, reparametrise


def elbo_terms(
    x: Tensor, mu: Tensor, log_var: Tensor, eps: Tensor, decode, decoder_log_var: Tensor
) -> tuple[Tensor, Tensor]:
    """One-sample estimates of the two ELBO terms per point: (reconstruction -log p(x | z), KL), each `[n]`.

    z = mu + sigma * eps (reparametrised), `decode(z) -> [n, D]` the decoder mean m(z); then
    -ELBO(x) ~= -log N(x; m(z), diag e^decoder_log_var) + KL(q(z | x) || N(0, I)).
    """
    z = reparametrise(mu, log_var, eps)
    return gaussian_nll(x, decode(z), decoder_log_var), gaussian_kl(mu, log_var).sum(-1)


def linear_gaussian_posterior(x: Tensor, weight: Tensor, bias: Tensor, noise_var: float) -> tuple[Tensor, Tensor]:
    """Exact posterior p(z | x) = N(M^-1 W^T (x - b), s^2 M^-1), M = W^T W + s^2 I, of probabilistic PCA:
    (mean `[n, d]`, covariance `[d, d]`, the same for every x)."""
    d = weight.shape[1]
    m = weight.T @ weight + noise_var * torch.eye(d, dtype=x.dtype, device=x.device)
    m_inv = torch.linalg.inv(m)
    return (x - bias) @ weight @ m_inv.T, noise_var * m_inv
